//! `Authorization: Bearer <access token>`: the member an API request is
//! for. The token's signature and expiry are checked first, then its
//! session (`sid`) exactly as a browser's cookie session is (through the
//! principal cache, which the hub's events keep honest), so logout, a ban
//! or staff revocation refuse the token within the same bounds, not only
//! when it expires.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::access::{AccessClaims, ApiKeys};
use crate::auth::cache::PrincipalCache;
use crate::auth::middleware::{principal_of, uses_cache};
use crate::auth::sessions::SessionId;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::Spine;

/// The member a bearer token stands for.
pub struct ApiUser(pub Principal);

/// Whether the headers carry a bearer token (not Basic or another scheme).
pub fn has_bearer(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
        })
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The claims of a valid, unexpired access token from these keys.
pub fn claims(keys: &ApiKeys, spine: &Spine, token: &str) -> Option<AccessClaims> {
    let claims: AccessClaims = keys.keys.verify(token).ok()?;
    let now = spine.clock.now().and_utc().timestamp();
    (claims.exp > now && claims.iss == keys.issuer).then_some(claims)
}

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req).map(str::to_string);
        let keys = req.app_data::<web::Data<ApiKeys>>().cloned();
        let spine = req.app_data::<web::Data<Spine>>().cloned();
        let cache = req.app_data::<web::Data<PrincipalCache>>().cloned();
        let reads = uses_cache(req.method(), req.path());
        Box::pin(async move {
            let (Some(token), Some(keys), Some(spine)) = (token, keys, spine) else {
                return Err(AppError::LoginRequired);
            };
            let claims = claims(&keys, &spine, &token).ok_or(AppError::LoginRequired)?;
            let session = SessionId::from_secret(claims.sid);
            let cache = cache.as_ref().filter(|_| reads);
            let principal = principal_of(&spine, cache, session)
                .await?
                .filter(|p| p.id.0 == claims.sub)
                .ok_or(AppError::LoginRequired)?;
            Ok(ApiUser(principal))
        })
    }
}
