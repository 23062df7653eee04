//! Identity: who is making a request. The accounts and sessions tables, the
//! logged-in [`Principal`], and the middleware that loads it. The web spine
//! and every feature use it; it uses only plumbing. Roles, 2FA state and the
//! membership plan will be carried by the principal too.

pub mod directory;
pub mod events;
pub mod identities;
pub mod input;
pub mod middleware;
pub mod plans;
pub mod policy;
pub mod rbac;
pub mod sessions;
pub mod two_factor;
pub mod users;

use chrono::NaiveDateTime;

pub use sessions::{SessionId, UserSession};
pub use users::{Sex, User, UserId};

/// The logged-in member of a request (see [`middleware`]); a handler that
/// takes it answers `login_required` to everyone else.
#[derive(Clone, Debug)]
pub struct Principal {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub verified: bool,
    pub is_superadmin: bool,
    /// Two-factor authentication is on for this account.
    pub second_factor: bool,
    /// When the password was last set (staff rotation).
    pub password_changed_at: NaiveDateTime,
    pub language: Option<String>,
    /// Public storage key of the main photo's thumbnail, for the navigation.
    pub avatar_key: Option<String>,
    /// Chat messages waiting to be read (the navigation badge).
    pub unread_messages: i64,
    pub session_id: SessionId,
    /// The session's last activity before this request (staff pages time
    /// out sooner than member pages).
    pub last_seen_at: NaiveDateTime,
    pub remember: bool,
    pub session_expires_at: NaiveDateTime,
}

impl Principal {
    pub fn from_parts(user: &User, session: &UserSession) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            verified: user.is_verified(),
            is_superadmin: user.is_superadmin,
            second_factor: user.has_second_factor(),
            password_changed_at: user.password_changed_at,
            language: user.language.clone(),
            avatar_key: user.avatar_key.clone(),
            unread_messages: user.unread_messages,
            session_id: session.id.clone(),
            last_seen_at: session.last_seen_at,
            remember: session.remember,
            session_expires_at: session.expires_at,
        }
    }
}
