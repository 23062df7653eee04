//! The web spine shared by every feature: sessions, CSRF, headers, errors,
//! static assets and what every page needs.

pub mod assets;
pub mod body_timeout;
pub mod client_ip;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod head;
pub mod headers;
pub mod page;
pub mod rate;
pub mod remember;
pub mod session_store;
pub mod time;

pub use crate::error::{FieldError, FieldErrors as FormErrors};
pub use forms::redirect;
pub use page::Page;

/// The session cookie's name: with the `__Host-` prefix on HTTPS, so the
/// browser only accepts it from this host, `Secure` and with path `/`.
pub fn session_cookie_name(settings: &crate::config::Settings) -> &'static str {
    if settings.is_https() {
        "__Host-swiper_session"
    } else {
        "swiper_session"
    }
}

/// Renders an askama template into a response with the given status.
pub fn render<T: askama::Template>(
    status: actix_web::http::StatusCode,
    tpl: &T,
) -> Result<actix_web::HttpResponse, crate::error::AppError> {
    let html = tpl
        .render()
        .map_err(|e| crate::error::AppError::internal("template", e))?;
    Ok(actix_web::HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// Renders a page with 200 OK.
pub fn ok<T: askama::Template>(tpl: &T) -> Result<actix_web::HttpResponse, crate::error::AppError> {
    render(actix_web::http::StatusCode::OK, tpl)
}
