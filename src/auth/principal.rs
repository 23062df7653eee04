//! The logged-in member of a request, as the middleware loads it.

use chrono::NaiveDateTime;

use crate::db::types::{SessionId, UserId};

/// The logged-in member of a request (see `auth::middleware`; built by
/// `UserSession::principal`); a handler that
/// takes it answers `login_required` to everyone else.
#[derive(Clone, Debug)]
pub struct Principal {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub verified: bool,
    pub is_superadmin: bool,
    /// Holds a staff role (the header links to the admin console). The
    /// console's guard still reads the permissions afresh on every request.
    pub staff: bool,
    /// Two-factor authentication is on for this account.
    pub second_factor: bool,
    /// When the password was last set (staff rotation).
    pub password_changed_at: NaiveDateTime,
    pub language: Option<String>,
    /// The member's time zone (IANA name), when they chose one: where
    /// their day's allowances start again.
    pub time_zone: Option<String>,
    /// Public storage key of the main photo's thumbnail, for the navigation.
    pub avatar_key: Option<String>,
    /// Chat messages waiting to be read (the navigation badge).
    pub unread_messages: i64,
    /// A phone number's new account that has not yet given nickname, sex
    /// and birthday: it cannot swipe and is in nobody's feed.
    pub profile_pending: bool,
    pub session_id: SessionId,
    /// The session's last activity before this request (staff pages time
    /// out sooner than member pages).
    pub last_seen_at: NaiveDateTime,
    pub remember: bool,
    pub session_expires_at: NaiveDateTime,
}

impl Principal {
    /// `false` for an account made by a phone number (it holds a stand-in).
    pub fn has_email(&self) -> bool {
        !super::input::is_no_email(&self.email)
    }
}
