//! The one CSRF check: a per-session synchronizer token (32 random bytes) sent
//! back as the `csrf_token` form field or the `X-CSRF-Token` header, compared
//! in constant time, plus an `Origin`/`Referer` check against `BASE_URL`.
//! It runs as middleware on every state-changing request, login included,
//! and refuses bodies that are not forms (the JSON API will authenticate
//! with bearer tokens, not cookies, and lives outside this layer).

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpMessage;
use futures_util::StreamExt;

use crate::error::AppError;
use crate::security::random;
use crate::state::AppState;

const SESSION_KEY: &str = "csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
/// Largest urlencoded form body accepted anywhere.
pub const FORM_LIMIT: usize = 64 * 1024;

const ISSUED_KEY: &str = "csrf_at";
/// A page shown to a visitor re-stamps the session this often, which makes
/// the session store extend its lifetime: an active visitor's form never
/// outlives the (short) anonymous session.
const RESTAMP_AFTER_SECS: i64 = 600;

/// This session's token, created on first use.
pub fn token(session: &Session) -> String {
    let now = chrono::Utc::now().timestamp();
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY) {
        let issued = session.get::<i64>(ISSUED_KEY).ok().flatten().unwrap_or(0);
        if now - issued > RESTAMP_AFTER_SECS {
            let _ = session.insert(ISSUED_KEY, now);
        }
        return t;
    }
    rotate(session)
}

/// A fresh token, at login and logout so a token seen before cannot be replayed.
pub fn rotate(session: &Session) -> String {
    let t = random::token(32);
    // Inserting a String or an integer cannot fail to serialize.
    let _ = session.insert(SESSION_KEY, &t);
    let _ = session.insert(ISSUED_KEY, chrono::Utc::now().timestamp());
    t
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
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

async fn check(req: &mut ServiceRequest) -> Result<(), AppError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    let expected_origins = req
        .app_data::<web::Data<AppState>>()
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
    if provided.is_none() {
        if is_urlencoded(req) {
            let body = read_body(req).await?;
            provided = field(&body, FIELD);
            req.set_payload(Payload::from(body));
        } else {
            // Multipart uploads carry the token in the action URL's query.
            provided = field(req.query_string().as_bytes(), FIELD);
        }
    }
    let expected = req.get_session().get::<String>(SESSION_KEY).ok().flatten();
    match (expected, provided) {
        (Some(e), Some(p)) if random::constant_time_eq(e.as_bytes(), p.as_bytes()) => Ok(()),
        _ => Err(AppError::CsrfFailed),
    }
}
