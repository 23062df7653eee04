//! Turns every error response into a readable page (or JSON when the client
//! asks for it) in the request's language, with the stable code in
//! `data-error-code`. Runs outside the body time-out and every session, identity, rate and CSRF
//! layer, so their errors are covered; headers, HEAD, tracing and metrics sit
//! outside it.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::ErrorCode;
use crate::i18n::Tr;
use crate::web::assets;

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    t: Tr,
    status: u16,
    code: &'a str,
    message: &'a str,
    css: String,
    icon: String,
}

/// Who is asking, as far as rendering an error goes.
struct Viewer {
    tr: Tr,
    json: bool,
    /// An app's request: problem+json.
    api: bool,
    path: String,
}

impl Viewer {
    fn of(req: &HttpRequest) -> Self {
        let api = is_api(req.headers(), req.path());
        Self {
            // An app's words follow its Accept-Language only: no cookie
            // is read under /api/.
            tr: match api {
                true => crate::web::page::tr_for_api(req),
                false => crate::web::page::tr_for(req),
            },
            json: wants_json(req.headers(), req.path()),
            api,
            path: req.path().to_string(),
        }
    }
}

/// Whether the request is an app's: under `/api/`, or with a bearer token
/// (the app's chat socket). Its errors are problem+json, never a redirect.
fn is_api(headers: &header::HeaderMap, path: &str) -> bool {
    path.starts_with("/api/")
        || headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// JSON when the client prefers it to HTML, and always for an app.
pub fn wants_json(headers: &header::HeaderMap, path: &str) -> bool {
    if is_api(headers, path) {
        return true;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match (accept.find("application/json"), accept.find("text/html")) {
        (Some(j), Some(h)) => j < h,
        (Some(_), None) => true,
        _ => path.starts_with("/api/"),
    }
}

fn render(
    viewer: &Viewer,
    status: StatusCode,
    headers: Option<&header::HeaderMap>,
    code: ErrorCode,
) -> HttpResponse {
    if code == ErrorCode::LoginRequired && !viewer.json {
        let next: String = url::form_urlencoded::byte_serialize(viewer.path.as_bytes()).collect();
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/login?next={next}")))
            .finish();
    }
    let message = viewer.tr.t(code.message_key());
    let mut builder = HttpResponse::build(status);
    for (name, value) in headers.into_iter().flatten() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    if viewer.api {
        return builder
            .content_type("application/problem+json")
            .body(problem(status, code, message).to_string());
    }
    if viewer.json {
        return builder.json(serde_json::json!({
            "error": { "code": code.as_str(), "message": message }
        }));
    }
    let page = ErrorPage {
        t: viewer.tr,
        status: status.as_u16(),
        code: code.as_str(),
        message,
        css: assets::url("app.css"),
        icon: assets::url("favicon.svg"),
    };
    match page.render() {
        Ok(html) => builder.content_type("text/html; charset=utf-8").body(html),
        Err(_) => builder.body(format!("{message} ({code})")),
    }
}

/// An RFC 9457 problem document: the API's error body, with the machine
/// `code` the pages use and the message in the request's language.
pub fn problem(status: StatusCode, code: ErrorCode, detail: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "code": code.as_str(),
        "detail": detail,
    })
}

fn code_for(res: &HttpResponse<impl MessageBody>, status: StatusCode) -> ErrorCode {
    res.extensions()
        .get::<ErrorCode>()
        .copied()
        .unwrap_or_else(|| ErrorCode::for_status(status.as_u16()))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    // Never keep a clone of the request across `next.call`: the router needs
    // it unshared. What an error raised by a middleware needs is taken now.
    let early = Viewer::of(req.request());
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(err) => {
            let inner = err.as_response_error().error_response();
            let status = inner.status();
            let rendered = render(
                &early,
                status,
                Some(inner.headers()),
                code_for(&inner, status),
            );
            return Err(InternalError::from_response(err.to_string(), rendered).into());
        }
    };
    let status = res.status();
    let has_info = res.response().extensions().get::<ErrorCode>().is_some();
    let bare = matches!(
        res.response().body().size(),
        actix_web::body::BodySize::None | actix_web::body::BodySize::Sized(0)
    );
    // Success, or a page of our own with a body (a form re-rendered with its
    // errors): kept as it is.
    if !(status.is_client_error() || status.is_server_error()) || (!has_info && !bare) {
        return Ok(res.map_body(|_, b| EitherBody::left(b.boxed())));
    }
    let (req, res) = res.into_parts();
    let viewer = Viewer::of(&req);
    let rendered = render(&viewer, status, Some(res.headers()), code_for(&res, status));
    Ok(ServiceResponse::new(
        req,
        rendered.map_body(|_, b| EitherBody::right(b)),
    ))
}
