//! Logging in: checking credentials the same way whether or not the email is
//! registered, upgrading old hashes, and opening a session.

use actix_web::web;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::input::Email;
use super::sessions::{self, Lifetimes, UserSession};
use super::user::User;
use crate::db::schema::users;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::security::password::{self, Verification};
use crate::startup::AppState;

/// Runs the slow hash on the blocking pool, never on the async executor.
pub async fn hash_password(password: String, iterations: u32) -> Result<String, AppError> {
    web::block(move || password::hash(&password, iterations))
        .await
        .map_err(|e| AppError::internal("password hashing", e))
}

pub async fn verify_password(
    password: String,
    encoded: String,
    iterations: u32,
) -> Result<Verification, AppError> {
    web::block(move || password::verify(&password, &encoded, iterations))
        .await
        .map_err(|e| AppError::internal("password hashing", e))
}

/// The account for these credentials, or `None` — for an unknown email, a
/// wrong password or a disabled account alike, after the same amount of work.
pub async fn check_credentials(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<Option<User>, AppError> {
    let iterations = state.settings.password_iterations;
    let user = match Email::parse(email) {
        Ok(email) => {
            let email = email.as_str().to_string();
            db::run(&state.pool, move |c| Ok(User::find_by_email(c, &email)?)).await?
        }
        Err(_) => None,
    };
    let stored = user
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |u| u.password_hash.clone());
    let verification = verify_password(password.to_string(), stored, iterations).await?;
    let Some(user) = user.filter(|u| u.is_active) else {
        return Ok(None);
    };
    match verification {
        Verification::Invalid => Ok(None),
        Verification::Valid => Ok(Some(user)),
        Verification::ValidNeedsRehash => {
            let upgraded = hash_password(password.to_string(), iterations).await?;
            let (id, old) = (user.user_id(), user.password_hash.clone());
            let new = upgraded.clone();
            // Only over the hash just checked: a reset that landed meanwhile wins.
            let replaced = db::run(&state.pool, move |c| {
                Ok(User::upgrade_hash(c, id, &old, &new)?)
            })
            .await?;
            if replaced {
                tracing::info!(user_id = %id, iterations, "password hash upgraded");
                return Ok(Some(User {
                    password_hash: upgraded,
                    ..user
                }));
            }
            // Another login upgraded the same hash first (two devices, a
            // double submit): still this password. A reset changes
            // `password_changed_at`, and then the old password is refused.
            let changed_at = user.password_changed_at;
            let current = db::run(&state.pool, move |c| Ok(User::find(c, id)?)).await?;
            Ok(current.filter(|u| u.password_changed_at == changed_at && u.is_active))
        }
    }
}

/// Where a login comes from.
pub struct LoginContext<'a> {
    pub remember: bool,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The session this browser had before, ended by the new one.
    pub replaces: Option<&'a str>,
    pub lifetimes: Lifetimes,
}

/// Opens a session for a member who just proved who they are — unless the
/// password changed (a reset) or the account was disabled while the hash was
/// being checked, in which case `None`: the reset already ended every session
/// and this one must not start.
pub fn open_session(
    conn: &mut DbConnection,
    user: &User,
    login: &LoginContext<'_>,
    now: NaiveDateTime,
) -> QueryResult<Option<UserSession>> {
    db::transaction(conn, |c| {
        // One conditional UPDATE: on PostgreSQL it waits for a concurrent
        // reset's row lock and then re-checks the hash, so the check and the
        // new session cannot straddle the reset's "end every session".
        let still_valid = diesel::update(
            users::table
                .find(user.id)
                .filter(users::password_hash.eq(&user.password_hash))
                .filter(users::is_active.eq(true)),
        )
        .set(users::last_login_at.eq(now))
        .execute(c)?;
        if still_valid == 0 {
            return Ok(None);
        }
        if let Some(old) = login.replaces {
            sessions::revoke(c, old)?;
        }
        sessions::create(
            c,
            user.user_id(),
            login.remember,
            login.ip,
            login.user_agent,
            now,
            login.lifetimes,
        )
        .map(Some)
    })
}
