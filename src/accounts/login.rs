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
            let id = user.user_id();
            db::run(&state.pool, move |c| {
                Ok(User::set_password_hash(c, id, &upgraded, db::now(), false)?)
            })
            .await?;
            tracing::info!(user_id = %id, iterations, "password hash upgraded");
            Ok(Some(user))
        }
    }
}

/// Opens a session for a member who just proved who they are.
pub fn open_session(
    conn: &mut DbConnection,
    user: &User,
    remember: bool,
    ip: &str,
    user_agent: &str,
    now: NaiveDateTime,
    lifetimes: Lifetimes,
) -> QueryResult<UserSession> {
    db::transaction(conn, |c| {
        diesel::update(users::table.find(user.id))
            .set(users::last_login_at.eq(now))
            .execute(c)?;
        sessions::create(c, user.user_id(), remember, ip, user_agent, now, lifetimes)
    })
}
