//! The `user_sessions` table: logged-in sessions, one row per browser. The
//! server-side session state (through actix-identity) holds only the row's
//! random id, so deleting rows logs those browsers out on every instance at
//! once: "log out everywhere", a password reset and a ban all come down to
//! [`revoke_all`].

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::users::{User, UserId};
use super::Principal;
use crate::clock::delta;
use crate::db::schema::{user_sessions, users};
use crate::db::DbConnection;
use crate::security::random;

/// A session's id is a bearer credential, so it never prints (`Debug` is
/// redacted, there is no `Display`). Pages name a session by its
/// [`UserSession::handle`].
pub use crate::db::types::SessionId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_sessions)]
pub struct UserSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub remember: bool,
    pub ip: String,
    pub user_agent: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// The columns of `users` a request's [`Principal`] needs, and no more:
/// every logged-in request reads them, so never the password hash or the
/// TOTP secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct PrincipalUser {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub is_superadmin: bool,
    pub is_active: bool,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub password_changed_at: NaiveDateTime,
    pub avatar_key: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub unread_messages: i64,
    pub profile_pending: bool,
}

impl From<&User> for PrincipalUser {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            email_verified_at: user.email_verified_at,
            is_superadmin: user.is_superadmin,
            is_active: user.is_active,
            language: user.language.clone(),
            time_zone: user.time_zone.clone(),
            password_changed_at: user.password_changed_at,
            avatar_key: user.avatar_key.clone(),
            totp_enabled_at: user.totp_enabled_at,
            unread_messages: user.unread_messages,
            profile_pending: user.profile_pending,
        }
    }
}

impl UserSession {
    /// The request's [`Principal`]: this session of `user`.
    pub fn principal(&self, user: &PrincipalUser, staff: bool) -> Principal {
        Principal {
            staff,
            id: user.id,
            email: user.email.clone(),
            nickname: user.nickname.clone(),
            verified: user.email_verified_at.is_some(),
            is_superadmin: user.is_superadmin,
            second_factor: user.totp_enabled_at.is_some(),
            password_changed_at: user.password_changed_at,
            language: user.language.clone(),
            time_zone: user.time_zone.clone(),
            avatar_key: user.avatar_key.clone(),
            unread_messages: user.unread_messages,
            profile_pending: user.profile_pending,
            session_id: self.id.clone(),
            last_seen_at: self.last_seen_at,
            remember: self.remember,
            session_expires_at: self.expires_at,
        }
    }

    /// A name for this session safe to put in a page (the id itself is never shown).
    pub fn handle(&self) -> String {
        random::token_hash(self.id.expose())
            .chars()
            .take(16)
            .collect()
    }
}

/// How long sessions live.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
    pub remember: Duration,
}

impl Lifetimes {
    pub fn from_settings(s: &crate::config::SessionSettings) -> Self {
        Self {
            idle: s.idle_timeout,
            absolute: s.absolute_timeout,
            remember: s.remember_me,
        }
    }
}

/// Records a new session and returns its id.
pub fn create(
    conn: &mut DbConnection,
    user: UserId,
    remember: bool,
    ip: &str,
    user_agent: &str,
    now: NaiveDateTime,
    lifetimes: Lifetimes,
) -> QueryResult<UserSession> {
    let lifetime = if remember {
        lifetimes.remember
    } else {
        lifetimes.absolute
    };
    let row = UserSession {
        id: SessionId::from_secret(random::token(32)),
        user_id: user,
        remember,
        ip: ip.chars().take(64).collect(),
        user_agent: user_agent.to_string(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + delta(lifetime),
    };
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::id.eq(&row.id),
            user_sessions::user_id.eq(row.user_id),
            user_sessions::remember.eq(row.remember),
            user_sessions::ip.eq(&row.ip),
            user_sessions::user_agent.eq(&row.user_agent),
            user_sessions::created_at.eq(row.created_at),
            user_sessions::last_seen_at.eq(row.last_seen_at),
            user_sessions::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    Ok(row)
}

/// How stale `last_seen_at` may get before a request refreshes it, so that
/// browsing does not write on every request: a tenth of the idle time-out,
/// at most a minute. A member active more often than the time-out itself
/// therefore never times out.
pub fn touch_every(idle: Duration) -> TimeDelta {
    (delta(idle) / 10).min(TimeDelta::seconds(60))
}

/// The member behind a session id, if the session is still alive: not
/// expired, not idle too long (remembered sessions only expire), account active.
pub fn authenticate(
    conn: &mut DbConnection,
    session_id: &SessionId,
    now: NaiveDateTime,
    idle: Duration,
) -> QueryResult<Option<Principal>> {
    let found = user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::id.eq(session_id))
        .select((UserSession::as_select(), PrincipalUser::as_select()))
        .first::<(UserSession, PrincipalUser)>(conn)
        .optional()?;
    let Some((session, user)) = found else {
        return Ok(None);
    };
    let idle_expired = !session.remember && session.last_seen_at + delta(idle) < now;
    if session.expires_at <= now || idle_expired || !user.is_active {
        diesel::delete(user_sessions::table.find(&session.id)).execute(conn)?;
        return Ok(None);
    }
    if now - session.last_seen_at >= touch_every(idle) {
        diesel::update(user_sessions::table.find(&session.id))
            .set(user_sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    let staff = super::rbac::is_staff(conn, user.id)?;
    Ok(Some(session.principal(&user, staff)))
}

/// A member's live sessions (not expired, not idle too long).
pub fn list(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
    idle: Duration,
) -> QueryResult<Vec<UserSession>> {
    user_sessions::table
        .filter(user_sessions::user_id.eq(user))
        .filter(user_sessions::expires_at.gt(now))
        .filter(
            user_sessions::remember
                .eq(true)
                .or(user_sessions::last_seen_at.ge(now - delta(idle))),
        )
        .order(user_sessions::last_seen_at.desc())
        .select(UserSession::as_select())
        .load(conn)
}

/// Whether a session still exists, has not reached its absolute expiry and
/// its account is active (a live chat socket asks when it hears that sessions
/// of its member ended, and now and then). The idle timeout is left out: an
/// open chat socket is the member being there, though it makes no request.
pub fn is_alive(
    conn: &mut DbConnection,
    session_id: &SessionId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        user_sessions::table
            .inner_join(users::table)
            .filter(user_sessions::id.eq(session_id))
            .filter(user_sessions::expires_at.gt(now))
            .filter(users::is_active.eq(true)),
    ))
    .get_result(conn)
}

/// Whose session this is, if it exists.
pub fn owner_of(conn: &mut DbConnection, session_id: &SessionId) -> QueryResult<Option<UserId>> {
    user_sessions::table
        .find(session_id)
        .select(user_sessions::user_id)
        .first(conn)
        .optional()
}

pub fn revoke(conn: &mut DbConnection, session_id: &SessionId) -> QueryResult<usize> {
    diesel::delete(user_sessions::table.find(session_id)).execute(conn)
}

/// Ends one of a member's own sessions, named by its [`UserSession::handle`];
/// a handle that is not theirs changes nothing.
pub fn revoke_by_handle(
    conn: &mut DbConnection,
    user: UserId,
    handle: &str,
    now: NaiveDateTime,
    idle: Duration,
) -> QueryResult<usize> {
    match list(conn, user, now, idle)?
        .into_iter()
        .find(|s| s.handle() == handle)
    {
        Some(s) => revoke(conn, &s.id),
        None => Ok(0),
    }
}

/// Ends every session of a member, on every instance.
pub fn revoke_all(conn: &mut DbConnection, user: UserId) -> QueryResult<usize> {
    diesel::delete(user_sessions::table.filter(user_sessions::user_id.eq(user))).execute(conn)
}

/// Ends every session of a member but `keep`.
pub fn revoke_others(
    conn: &mut DbConnection,
    user: UserId,
    keep: &SessionId,
) -> QueryResult<usize> {
    diesel::delete(
        user_sessions::table
            .filter(user_sessions::user_id.eq(user))
            .filter(user_sessions::id.ne(keep)),
    )
    .execute(conn)
}

/// Deletes sessions past their lifetime or idle too long (periodic maintenance).
pub fn purge_expired(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    idle: Duration,
) -> QueryResult<usize> {
    diesel::delete(
        user_sessions::table.filter(
            user_sessions::expires_at.le(now).or(user_sessions::remember
                .eq(false)
                .and(user_sessions::last_seen_at.lt(now - delta(idle)))),
        ),
    )
    .execute(conn)
}
