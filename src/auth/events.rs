//! Security activity of an account (table `auth_events`): logins and
//! failures, captcha shown, the escalating wait, two-factor results, linked
//! providers, password changes and revoked sessions, each with its time,
//! trusted client IP and user agent. Members see theirs on the sessions page;
//! staff see them in the admin console. Recording never fails the request it
//! belongs to (an error is logged), and nothing secret is ever recorded.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::UserId;
use crate::db::schema::auth_events;
use crate::db::DbConnection;

crate::text_enum!(
    /// What happened.
    AuthEvent {
        LoginSuccess => "login_success",
        LoginFailure => "login_failure",
        CaptchaShown => "captcha_shown",
        Locked => "locked",
        SecondFactorSuccess => "2fa_success",
        SecondFactorFailure => "2fa_failure",
        SecondFactorEnabled => "2fa_enabled",
        SecondFactorDisabled => "2fa_disabled",
        OAuthLinked => "oauth_linked",
        OAuthUnlinked => "oauth_unlinked",
        PasswordChanged => "password_changed",
        PasswordReset => "password_reset",
        ReauthFailure => "reauth_failure",
        SessionRevoked => "session_revoked",
        PhoneAdded => "phone_added",
        PhoneRemoved => "phone_removed",
    }
);

impl AuthEvent {
    /// The catalog key of its description.
    pub fn message_key(self) -> String {
        format!("event.{}", self.as_str())
    }
}

/// The longest user agent kept.
const MAX_USER_AGENT: usize = 300;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_events)]
pub struct AuthEventRow {
    pub kind: AuthEvent,
    pub ip: String,
    pub user_agent: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    c: &mut DbConnection,
    user: UserId,
    kind: AuthEvent,
    ip: &str,
    user_agent: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let ua: String = user_agent.chars().take(MAX_USER_AGENT).collect();
    diesel::insert_into(auth_events::table)
        .values((
            auth_events::user_id.eq(user),
            auth_events::kind.eq(kind),
            auth_events::ip.eq(ip),
            auth_events::user_agent.eq(ua),
            auth_events::created_at.eq(now),
        ))
        .execute(c)
        .map(|_| ())
}

/// A member's most recent events, newest first.
pub fn recent(c: &mut DbConnection, user: UserId, limit: i64) -> QueryResult<Vec<AuthEventRow>> {
    auth_events::table
        .filter(auth_events::user_id.eq(user))
        .order((auth_events::created_at.desc(), auth_events::id.desc()))
        .limit(limit)
        .select(AuthEventRow::as_select())
        .load(c)
}

/// Events of one kind for a member (tests and the admin console).
pub fn count(c: &mut DbConnection, user: UserId, kind: AuthEvent) -> QueryResult<i64> {
    auth_events::table
        .filter(auth_events::user_id.eq(user))
        .filter(auth_events::kind.eq(kind))
        .count()
        .get_result(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_description_in_every_catalog() {
        for lang in crate::i18n::languages() {
            for kind in AuthEvent::ALL {
                assert!(
                    lang.has(&kind.message_key()),
                    "{} lacks {}",
                    lang.code,
                    kind.as_str()
                );
            }
        }
    }
}
