//! `/api/v1`: JSON for phone apps, over the same services the pages use.
//! Bearer tokens (no cookies are read or set here, so no CSRF token is
//! needed); every error is `application/problem+json` (RFC 9457) with the
//! machine `code` the pages use (web::errors renders it).
//!
//! What exists so far: the signing keys and `/.well-known/jwks.json`,
//! password login, refresh (rotation, reuse detection), logout and `me`.

pub mod access;
pub mod bearer;
pub mod jws;
mod member;
mod profile;
pub mod refresh;
mod routes;

pub use access::{AccessClaims, ApiKeys, ACCESS_TTL_SECS};
pub use routes::configure;
