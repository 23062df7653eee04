//! Loads the logged-in member for every request that carries an identity and
//! puts a [`Principal`] into the request's extensions. A session that was
//! revoked or timed out is logged out here.

use std::future::{ready, Ready};

use actix_identity::IdentityExt;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::cache::PrincipalCache;
use super::sessions::{self, SessionId};
use super::Principal;
use crate::error::AppError;
use crate::state::Spine;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Err(e) = load(&req).await {
        // As a response, so outer layers add headers and render it.
        return Ok(req.error_response(e).map_into_right_body());
    }
    // What a state-changing request did to its member is not served from
    // the cache afterwards.
    let changed = if reads(&req) {
        None
    } else {
        let member = req.extensions().get::<Principal>().map(|p| p.id);
        member.zip(req.app_data::<web::Data<PrincipalCache>>().cloned())
    };
    let res = next.call(req).await;
    if let Some((member, cache)) = changed {
        cache.forget_user(member);
    }
    res.map(ServiceResponse::map_into_left_body)
}

fn reads(req: &ServiceRequest) -> bool {
    uses_cache(req.method(), req.path())
}

/// Whether a request may take its principal from the cache: reads, and
/// swipes, which change nothing a principal holds and which the cache's
/// events and lifetime keep as honest as pages (a ban or a sign-out
/// elsewhere refuses them within a second). Anything else reads the
/// principal afresh and drops the member's entries when it ends.
pub fn uses_cache(method: &Method, path: &str) -> bool {
    const SWIPES: &[&str] = &["/swipes", "/api/v1/swipes"];
    matches!(*method, Method::GET | Method::HEAD)
        || (*method == Method::POST && SWIPES.contains(&path))
}

async fn load(req: &ServiceRequest) -> Result<(), AppError> {
    let Ok(identity) = req.get_identity() else {
        return Ok(());
    };
    let (Ok(session_id), Some(state)) =
        (identity.id(), req.app_data::<web::Data<Spine>>().cloned())
    else {
        return Ok(());
    };
    let session_id = SessionId::from_secret(session_id);
    let cache = req
        .app_data::<web::Data<PrincipalCache>>()
        .filter(|_| reads(req));
    match principal_of(&state, cache, session_id).await? {
        Some(user) => {
            req.extensions_mut().insert(user);
        }
        None => identity.logout(),
    }
    Ok(())
}

/// The member behind a live session: from `cache` when it holds a fresh
/// entry (and keeping what it reads there), else from the database. A
/// browser's cookie and an app's bearer token both end here.
pub async fn principal_of(
    state: &Spine,
    cache: Option<&web::Data<PrincipalCache>>,
    session_id: SessionId,
) -> Result<Option<Principal>, AppError> {
    let idle = state.settings.sessions.idle_timeout;
    let now = state.clock.now();
    if let Some(found) = cache.and_then(|c| c.get(&session_id, now, idle)) {
        return Ok(Some(found));
    }
    let fill = cache.map(|c| c.begin());
    let found = state
        .db
        .primary(move |c| Ok(sessions::authenticate(c, &session_id, now, idle)?))
        .await?;
    if let (Some(cache), Some(fill), Some(user)) = (cache, fill, &found) {
        cache.put(fill, user.clone());
    }
    Ok(found)
}

/// The logged-in member; a handler that takes it answers `login_required`
/// (a redirect to the login page for browsers) to everyone else.
impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or(AppError::LoginRequired),
        )
    }
}
