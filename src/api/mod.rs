//! `/api/v1`: JSON for phone apps, over the same services the pages use.
//! Bearer tokens (no cookies are read or set here, so no CSRF token is
//! needed); every error is `application/problem+json` (RFC 9457) with the
//! machine `code` the pages use (web::errors renders it).
//!
//! This file mounts the routes; `routes.rs` (auth), `profile.rs` (me) and
//! `member.rs` (the rest) hold the handlers, `schema.rs` their answers and
//! `openapi.rs` the document generated from both.

pub mod access;
pub mod bearer;
pub mod jws;
mod member;
pub mod openapi;
mod profile;
pub mod refresh;
mod routes;
pub mod schema;

pub use access::{AccessClaims, ApiKeys, ACCESS_TTL_SECS};

use actix_web::web;

/// Mounts `/api/v1` and the bearer `/ws/chat`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Before the site's own /ws/chat: a request with a bearer token is an
    // app's, and never reads a cookie.
    cfg.service(
        web::resource("/ws/chat")
            .guard(actix_web::guard::fn_guard(|ctx| {
                bearer::has_bearer(ctx.head().headers())
            }))
            .route(web::get().to(routes::chat_socket)),
    );
    cfg.service(
        profile::configure(member::configure(web::scope("/api/v1")))
            // Every POST counts against the per-IP limit, as on the site.
            .wrap(actix_web::middleware::from_fn(crate::web::rate::middleware))
            .route("/.well-known/jwks.json", web::get().to(routes::jwks))
            .route("/openapi.json", web::get().to(openapi::serve))
            .route("/auth/login", web::post().to(routes::log_in))
            .route("/auth/sms", web::post().to(routes::sms_send))
            .route("/auth/sms/verify", web::post().to(routes::sms_verify))
            .route("/auth/refresh", web::post().to(routes::refresh))
            .route("/auth/logout", web::post().to(routes::log_out))
            .default_service(web::to(routes::not_found)),
    );
}
