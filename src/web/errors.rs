//! Turns every error response into a readable page (or JSON when the client
//! asks for it) in the request's language, with the stable code in
//! `data-error-code`. Runs outermost so errors from any layer are covered.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::{code_for_status, message_key, ErrorInfo};
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
}

fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = accept.find("application/json");
    let html = accept.find("text/html");
    match (json, html) {
        (Some(j), Some(h)) => j < h,
        (Some(_), None) => true,
        _ => req.path().starts_with("/api/"),
    }
}

fn render(req: &HttpRequest, res: HttpResponse<BoxBody>, info: ErrorInfo) -> HttpResponse<BoxBody> {
    let status = res.status();
    let tr = crate::web::page::tr_for(req);
    let message = tr.t(info.message_key);
    if info.code == "login_required" && !wants_json(req) {
        let next: String = url::form_urlencoded::byte_serialize(req.uri().path().as_bytes()).collect();
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/login?next={next}")))
            .finish();
    }
    let mut builder = HttpResponse::build(status);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    if wants_json(req) {
        return builder.json(serde_json::json!({
            "error": { "code": info.code, "message": message }
        }));
    }
    let page = ErrorPage {
        t: tr,
        status: status.as_u16(),
        code: info.code,
        message,
        css: assets::url("app.css"),
    };
    match page.render() {
        Ok(html) => builder
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => builder.body(format!("{} ({})", message, info.code)),
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let http_req = req.request().clone();
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(err) => {
            let res = err.as_response_error().error_response();
            return Ok(finish(http_req, res, err.as_response_error().status_code()));
        }
    };
    let status = res.status();
    let has_info = res.response().extensions().get::<ErrorInfo>().is_some();
    if !(has_info || status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_body(|_, b| EitherBody::left(b.boxed())));
    }
    // Responses from our own handlers with a body of their own (a form
    // re-rendered with its errors) are kept as they are.
    let (req, res) = res.into_parts();
    if !has_info && !matches!(res.body().size(), actix_web::body::BodySize::None | actix_web::body::BodySize::Sized(0)) {
        return Ok(ServiceResponse::new(req, res.map_body(|_, b| EitherBody::left(b.boxed()))));
    }
    let status = res.status();
    Ok(finish(req, res.map_into_boxed_body(), status))
}

fn finish(req: HttpRequest, res: HttpResponse<BoxBody>, status: StatusCode) -> ServiceResponse<EitherBody<BoxBody>> {
    let info = res.extensions().get::<ErrorInfo>().copied().unwrap_or_else(|| {
        let code = code_for_status(status);
        ErrorInfo {
            code,
            message_key: message_key(code),
        }
    });
    let rendered = render(&req, res, info);
    ServiceResponse::new(req, rendered.map_body(|_, b| EitherBody::right(b)))
}
