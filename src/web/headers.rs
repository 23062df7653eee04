//! Security headers on every response, `Cache-Control: no-store` on every
//! dynamic one (static files set their own), and the request id.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use tracing_actix_web::RequestId;

use crate::state::Spine;

const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req
        .app_data::<web::Data<Spine>>()
        .is_some_and(|s| s.settings.is_https());
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    match next.call(req).await {
        Ok(mut res) => {
            apply(res.headers_mut(), https, request_id);
            Ok(res)
        }
        // An error raised by a middleware (e.g. the session store failed to
        // save a changed session)
        // carries its response inside; it gets the same headers.
        Err(err) => {
            let mut res = err.error_response();
            apply(res.headers_mut(), https, request_id);
            Err(InternalError::from_response(err.to_string(), res).into())
        }
    }
}

fn apply(h: &mut header::HeaderMap, https: bool, request_id: Option<String>) {
    let set = |h: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if https {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        h.insert(HeaderName::from_static("x-request-id"), id);
    }
}
