//! Helpers shared by every form handler: extractor configuration (bad bodies
//! become clear 4xx errors, never 500s), redirects and field errors.

use actix_web::error::UrlencodedError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::AppError;

/// Largest urlencoded form body accepted anywhere.
pub const FORM_LIMIT: usize = 64 * 1024;

/// Form, query and path extractors answer bad input with our error type.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|err, _req| {
                match err {
                    UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => {
                        AppError::PayloadTooLarge
                    }
                    UrlencodedError::ContentType => AppError::UnsupportedMediaType,
                    _ => AppError::InvalidInput,
                }
                .into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|_, _| AppError::InvalidInput.into()))
    .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
    .app_data(
        web::JsonConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|err, _| {
                use actix_web::error::JsonPayloadError as J;
                match err {
                    J::OverflowKnownLength { .. } | J::Overflow { .. } => AppError::PayloadTooLarge,
                    J::ContentType => AppError::UnsupportedMediaType,
                    _ => AppError::InvalidInput,
                }
                .into()
            }),
    );
}

/// Whether URL-encoded text carries a NUL (`%00`, or the raw byte). No
/// field of ours may hold one, and PostgreSQL refuses it in text, so such a
/// request is bad input (400) before any handler sees it.
pub fn has_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0)
        || encoded
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// 303 See Other to a path of this site.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// Only same-site relative paths are followed after login: printable ASCII
/// (browsers drop tabs and newlines, turning `/\t/evil` into `//evil`), no
/// backslash, not protocol-relative.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.len() < 512
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    })
    .map(str::to_string)
}

/// The User-Agent of a request, bounded in size for storage.
pub fn user_agent(req: &HttpRequest) -> String {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect()
}
