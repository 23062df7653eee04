//! Loads the logged-in member for every request that carries an identity and
//! puts a [`CurrentUser`] into the request's extensions. A session that was
//! revoked or timed out is logged out here.

use actix_identity::IdentityExt;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};

use super::sessions;
use super::CurrentUser;
use crate::db;
use crate::error::AppError;
use crate::startup::AppState;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Err(e) = load(&req).await {
        // As a response, so outer layers add headers and render it.
        return Ok(req.error_response(e).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

async fn load(req: &ServiceRequest) -> Result<(), AppError> {
    let Ok(identity) = req.get_identity() else {
        return Ok(());
    };
    let (Ok(session_id), Some(state)) = (
        identity.id(),
        req.app_data::<web::Data<AppState>>().cloned(),
    ) else {
        return Ok(());
    };
    let idle = state.settings.session_idle_timeout;
    let found = db::run(&state.pool, move |c| {
        Ok(sessions::authenticate(c, &session_id, db::now(), idle)?)
    })
    .await?;
    match found {
        Some(user) => {
            req.extensions_mut().insert(user);
        }
        None => identity.logout(),
    }
    Ok(())
}

/// The logged-in member; a handler that takes it answers `login_required`
/// (a redirect to the login page for browsers) to everyone else.
impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<CurrentUser>()
                .cloned()
                .ok_or(AppError::LoginRequired),
        )
    }
}
