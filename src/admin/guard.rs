//! The one guard of the admin console. Every `/admin` route is declared in
//! [`super::table::ROUTES`] with the permission it needs; this middleware
//! runs before any of them: a visitor or a member (no role) gets 404 for
//! every `/admin` path, staff without two-factor are sent to enrolment (and
//! with an expired password to a change), staff without the route's
//! permission get 403. Handlers receive the checked [`Staff`].

use std::collections::BTreeSet;
use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::table::route_for;
use crate::accounts::{reentry, two_factor};
use crate::admin::state::AdminState;
use crate::auth::rbac::{self, Permission};
use crate::auth::{Principal, User};
use crate::error::{AppError, ErrorCode};
use crate::security::SecretString;
use crate::web::redirect;

/// Staff sessions end after this long without a request.
pub const STAFF_IDLE: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// A staff member whose access to the current route was checked.
#[derive(Clone, Debug)]
pub struct Staff {
    pub me: Principal,
    pub permissions: BTreeSet<Permission>,
}

impl Staff {
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// [`Self::can`] by code, for templates.
    pub fn can_str(&self, code: &str) -> bool {
        Permission::parse(code).is_some_and(|p| self.can(p))
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match check(&req).await {
        Ok(None) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Ok(Some(redirect_to)) => Ok(req
            .into_response(redirect(redirect_to))
            .map_into_right_body()),
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

/// `Ok(None)` to go on, `Ok(Some(path))` to send the browser elsewhere first.
async fn check(req: &ServiceRequest) -> Result<Option<&'static str>, AppError> {
    let me = req.extensions().get::<Principal>().cloned();
    let (Some(me), Some(state)) = (me, req.app_data::<web::Data<AdminState>>().cloned()) else {
        return Err(AppError::NotFound);
    };
    let id = me.id;
    let permissions = state
        .db
        .primary(move |c| Ok(rbac::permissions_of(c, id)?))
        .await?;
    if permissions.is_empty() {
        return Err(AppError::NotFound);
    }
    if state.clock.now() - me.last_seen_at > STAFF_IDLE {
        // A stricter session for staff: idle too long, log in again.
        let sid = me.session_id.clone();
        state
            .db
            .primary(move |c| Ok(crate::auth::sessions::revoke(c, &sid)?))
            .await?;
        state.hub.sessions_ended(id).await;
        return Ok(Some("/login?notice=staff_idle&next=/admin"));
    }
    if two_factor::staff_must_enrol(&me) {
        return Ok(Some("/settings/2fa?notice=staff_two_factor"));
    }
    if two_factor::staff_password_expired(&state.runtime, state.clock.now(), &me).await? {
        return Ok(Some("/settings?notice=staff_password_expired"));
    }
    let Some(route) = route_for(req.method().as_str(), req.path()) else {
        return Err(AppError::NotFound);
    };
    if !permissions.contains(&route.permission) {
        return Err(AppError::Forbidden);
    }
    req.extensions_mut().insert(Staff { me, permissions });
    Ok(None)
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Staff>()
                .cloned()
                .ok_or(AppError::NotFound),
        )
    }
}

/// Checks the staff member's own password (sensitive actions).
/// Counted like a login (`accounts::reentry`): wrong ones are failures on
/// the account, and past the day's limit every attempt waits.
pub async fn reauthenticated(
    state: &AdminState,
    staff: &Staff,
    req: &HttpRequest,
    password: &str,
) -> Result<bool, AppError> {
    let id = staff.me.id;
    let Some(user) = state.db.primary(move |c| Ok(User::find(c, id)?)).await? else {
        return Ok(false);
    };
    let secret = SecretString::new(password.to_string());
    let guards = reentry::Guards {
        db: &state.db,
        counters: &state.counters,
        runtime: &state.runtime,
        clock: &state.clock,
        iterations: state.settings.passwords.iterations,
    };
    reentry::check(&guards, &reentry::Caller::of(req), &user, &secret).await
}

/// [`reauthenticated`], refusing with `reauthentication_required`.
pub async fn require_password(
    state: &AdminState,
    staff: &Staff,
    req: &HttpRequest,
    password: &str,
) -> Result<(), AppError> {
    if reauthenticated(state, staff, req, password).await? {
        Ok(())
    } else {
        Err(AppError::Refused(ErrorCode::ReauthenticationRequired))
    }
}
