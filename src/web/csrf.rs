//! The one CSRF check, stateless: a signed double-submit token. Every
//! browser gets a random value in the `swiper_csrf` cookie (`__Host-` prefixed
//! on HTTPS); the token its forms carry is an HMAC-SHA256 (key derived from
//! `SECRET_KEY`) of that value and of the login session it belongs to, so a
//! token is worthless in another browser and changes at login and logout.
//! Nothing is stored on the server: anonymous visitors leave no state.
//!
//! The token comes back as the `csrf_token` form field or the `X-CSRF-Token`
//! header and is compared in constant time, after an `Origin`/`Referer`
//! check against `BASE_URL`. It runs as middleware on every state-changing
//! request, login included, and refuses bodies that are not forms (the JSON
//! API will authenticate with bearer tokens, not cookies, and lives outside
//! this layer).

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::StreamExt;

use super::forms::{has_nul, FORM_LIMIT};
use crate::auth::Principal;
use crate::error::AppError;
use crate::security::random;
use crate::state::Spine;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
/// The per-browser cookie's name (the `__Host-` prefix on HTTPS pins it to
/// this host and path `/`, so a sibling subdomain cannot plant one).
pub fn cookie_name(state: &Spine) -> &'static str {
    if state.settings.is_https() {
        "__Host-swiper_csrf"
    } else {
        "swiper_csrf"
    }
}

/// A browser value this request brought, or one issued while answering it.
#[derive(Clone)]
struct Issued(String);

fn well_formed(value: &str) -> bool {
    value.len() == 43 && URL_SAFE_NO_PAD.decode(value).is_ok_and(|b| b.len() == 32)
}

fn browser_value(req: &HttpRequest, state: &Spine) -> Option<String> {
    if let Some(issued) = req.extensions().get::<Issued>() {
        return Some(issued.0.clone());
    }
    req.cookie(cookie_name(state))
        .map(|c| c.value().to_string())
        .filter(|v| well_formed(v))
}

/// What the token is bound to besides the browser: the login session.
fn binding(req: &HttpRequest) -> String {
    req.extensions()
        .get::<Principal>()
        .map(|p| p.session_id.expose().to_string())
        .unwrap_or_default()
}

fn sign(state: &Spine, browser: &str, binding: &str) -> String {
    let mut msg = Vec::with_capacity(browser.len() + binding.len() + 1);
    msg.extend_from_slice(browser.as_bytes());
    msg.push(b'|');
    msg.extend_from_slice(binding.as_bytes());
    URL_SAFE_NO_PAD.encode(ring::hmac::sign(&state.keys.csrf, &msg).as_ref())
}

/// The token for this request's forms; a browser without the cookie gets one
/// with the response.
pub fn token(req: &HttpRequest) -> String {
    let Some(state) = req.app_data::<web::Data<Spine>>() else {
        return String::new();
    };
    let browser = match browser_value(req, state) {
        Some(v) => v,
        None => {
            let v = random::token(32);
            req.extensions_mut().insert(Issued(v.clone()));
            v
        }
    };
    sign(state, &browser, &binding(req))
}

fn expected(req: &HttpRequest) -> Option<String> {
    let state = req.app_data::<web::Data<Spine>>()?;
    let browser = req
        .cookie(cookie_name(state))
        .map(|c| c.value().to_string())
        .filter(|v| well_formed(v))?;
    Some(sign(state, &browser, &binding(req)))
}

pub fn add_issued_cookie(res: &mut ServiceResponse<impl MessageBody>) {
    let issued = res.request().extensions().get::<Issued>().cloned();
    let Some(Issued(value)) = issued else {
        return;
    };
    let Some(state) = res.request().app_data::<web::Data<Spine>>().cloned() else {
        return;
    };
    let cookie = Cookie::build(cookie_name(&state), value)
        .path("/")
        .http_only(true)
        .secure(state.settings.is_https())
        .same_site(SameSite::Lax)
        .finish();
    let _ = res.response_mut().add_cookie(&cookie);
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn origin_allowed(req: &ServiceRequest, expected: &[String]) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header(header::ORIGIN) {
        return expected.iter().any(|e| e == origin);
    }
    if let Some(referer) = header(header::REFERER) {
        return url::Url::parse(referer)
            .map(|u| expected.contains(&u.origin().ascii_serialization()))
            .unwrap_or(false);
    }
    // Browsers send Origin on every cross-site POST; a request with neither
    // header is not a browser forgery, and the token still has to match.
    true
}

fn content_type(req: &ServiceRequest) -> &str {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_urlencoded(req: &ServiceRequest) -> bool {
    content_type(req).starts_with("application/x-www-form-urlencoded")
}

/// Browser forms post urlencoded or multipart bodies; a token sent in the
/// header may come with no body at all. Anything else is not a form.
fn is_form_or_empty(req: &ServiceRequest) -> bool {
    let ct = content_type(req);
    if ct.is_empty() {
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok());
        return matches!(length, None | Some("0"));
    }
    ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("multipart/form-data")
}

async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > FORM_LIMIT) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::InvalidInput)?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn field(bytes: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(bytes)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A refusal is a response (not an `Err`), so the outer layers still add
    // the security headers and render it.
    match check(&mut req).await {
        Ok(()) => {
            let mut res = next.call(req).await?;
            add_issued_cookie(&mut res);
            Ok(res.map_into_left_body())
        }
        Err(e) => {
            let mut res = req.error_response(e);
            add_issued_cookie(&mut res);
            Ok(res.map_into_right_body())
        }
    }
}

async fn check(req: &mut ServiceRequest) -> Result<(), AppError> {
    let uri = req.uri();
    if has_nul(uri.path().as_bytes()) || has_nul(uri.query().unwrap_or("").as_bytes()) {
        return Err(AppError::InvalidInput);
    }
    if is_safe(req.method()) {
        return Ok(());
    }
    let expected_origins = req
        .app_data::<web::Data<Spine>>()
        .map(|s| s.settings.allowed_origins())
        .unwrap_or_default();
    if !origin_allowed(req, &expected_origins) {
        tracing::warn!("cross-origin state-changing request refused");
        return Err(AppError::CsrfFailed);
    }
    if !is_form_or_empty(req) {
        return Err(AppError::UnsupportedMediaType);
    }
    let mut provided = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if is_urlencoded(req) {
        let body = read_body(req).await?;
        if has_nul(&body) {
            return Err(AppError::InvalidInput);
        }
        if provided.is_none() {
            provided = field(&body, FIELD);
        }
        req.set_payload(Payload::from(body));
    } else if provided.is_none() {
        // Multipart uploads carry the token in the action URL's query.
        provided = field(req.query_string().as_bytes(), FIELD);
    }
    match (expected(req.request()), provided) {
        (Some(e), Some(p)) if random::constant_time_eq(e.as_bytes(), p.as_bytes()) => Ok(()),
        _ => Err(AppError::CsrfFailed),
    }
}
