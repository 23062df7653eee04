//! What an access token says, and the keys that sign it.

use serde::{Deserialize, Serialize};

use super::jws;

/// How long an access token lives.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The site (`BASE_URL`).
    pub iss: String,
    /// The member's id.
    pub sub: i64,
    /// The session (refresh family) the token belongs to: checked on every
    /// request, so ending the session ends the token.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// The keys and the issuer every token names.
pub struct ApiKeys {
    pub keys: jws::Keys,
    pub issuer: String,
}
