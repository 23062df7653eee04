//! Accounts: sign-up, email verification, log in and out, password reset and
//! change, sessions. Routes are in `routes/`, rules in the other files.

pub mod admin;
pub mod current_user;
pub mod input;
pub mod login;
pub mod mails;
pub mod password;
pub mod routes;
pub mod sessions;
pub mod signup;
pub mod tokens;
pub mod user;
pub mod verify;

use chrono::NaiveDateTime;

pub use user::{User, UserId};

/// The logged-in member of a request (see [`current_user`]).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub verified: bool,
    pub is_superadmin: bool,
    pub language: Option<String>,
    pub session_id: String,
    pub remember: bool,
    pub session_expires_at: NaiveDateTime,
}

impl CurrentUser {
    pub fn from_parts(user: &User, session: &sessions::UserSession) -> Self {
        Self {
            id: user.user_id(),
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            verified: user.is_verified(),
            is_superadmin: user.is_superadmin,
            language: user.language.clone(),
            session_id: session.id.clone(),
            remember: session.remember,
            session_expires_at: session.expires_at,
        }
    }
}
