//! A password a logged-in member types again: to change it, to turn
//! two-factor off, and for a staff member's sensitive actions. It is
//! guarded like a login: each wrong one counts on the account's failure
//! counters (so the login form asks for a captcha, and past
//! `lock_after_failures` in a day every attempt waits) and is recorded as a
//! `reauth_failure` security event; while the account's wait is on, the
//! password is not even checked (429 with `Retry-After`).

use actix_web::HttpRequest;

use super::defence;
use crate::auth::events::{self, AuthEvent};
use crate::auth::User;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::AppError;
use crate::limits::Counters;
use crate::runtime::RuntimeSettings;
use crate::security::password::{verify_off_executor, Verification};
use crate::security::SecretString;
use crate::web::client_ip;
use crate::web::forms::user_agent;

/// Where a re-entered password comes from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub ip: String,
    /// The IP's bucket for the counters (an IPv6 /64).
    pub ip_bucket: String,
    pub user_agent: String,
}

impl Caller {
    pub fn of(req: &HttpRequest) -> Self {
        Self {
            ip: client_ip::of(req),
            ip_bucket: client_ip::bucket(req),
            user_agent: user_agent(req),
        }
    }
}

/// The handles the check uses.
pub struct Guards<'a> {
    pub db: &'a Db,
    pub counters: &'a Counters,
    pub runtime: &'a RuntimeSettings,
    pub clock: &'a Clock,
    pub iterations: u32,
}

impl<'a> Guards<'a> {
    /// The account flows' own handles.
    pub fn of(state: &'a super::state::AccountsState) -> Self {
        Self {
            db: &state.db,
            counters: &state.counters,
            runtime: &state.runtime,
            clock: &state.clock,
            iterations: state.settings.passwords.iterations,
        }
    }
}

/// Whether `password` is `user`'s current password, uncounted (the check
/// itself; [`check`] is what flows use).
pub async fn is_current(
    user: &User,
    password: &SecretString,
    iterations: u32,
) -> Result<bool, AppError> {
    Ok(verify_off_executor(
        password,
        user.password_hash.expose().to_string(),
        iterations,
    )
    .await?
        != Verification::Invalid)
}

/// Whether `password` is `user`'s, counted as a login attempt would be.
pub async fn check(
    guards: &Guards<'_>,
    caller: &Caller,
    user: &User,
    password: &SecretString,
) -> Result<bool, AppError> {
    if defence::locked(guards.counters, &user.email).await {
        return Err(AppError::TooSoon {
            retry_after_secs: defence::RETRY_AFTER_SECS,
        });
    }
    if is_current(user, password, guards.iterations).await? {
        return Ok(true);
    }
    let bucket = &caller.ip_bucket;
    defence::record_failure(guards.counters, guards.runtime, &user.email, bucket).await?;
    let (id, now, caller) = (user.id, guards.clock.now(), caller.clone());
    tracing::info!(user_id = %id, "re-entered password refused");
    guards
        .db
        .write(move |c| {
            let kind = AuthEvent::ReauthFailure;
            Ok(events::insert(
                c,
                id,
                kind,
                &caller.ip,
                &caller.user_agent,
                now,
            )?)
        })
        .await?;
    Ok(false)
}
