//! Refresh tokens: opaque random strings, stored hashed, each used once.
//! A family is one app login, and it is a session (`user_sessions`): the
//! token names the session it renews. Refreshing uses the token up and
//! issues the next one; presenting a used token again (a copy in a thief's
//! hands, or the app's own stale copy) ends the whole family.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::sessions::{self, SessionId};
use crate::db::schema::api_refresh_tokens as tokens;
use crate::db::DbConnection;
use crate::security::random;

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum Refreshed {
    /// Used up; here is the next one, for this session.
    Rotated { session: SessionId, token: String },
    /// Already used: the family (the session) is ended. Its member's other
    /// instances must hear it.
    Reused {
        session_owner: Option<crate::auth::UserId>,
    },
    /// Not a token of ours, or its session has ended.
    Unknown,
}

/// A new refresh token for `session`.
pub fn issue(c: &mut DbConnection, session: &SessionId, now: NaiveDateTime) -> QueryResult<String> {
    let token = random::token(32);
    diesel::insert_into(tokens::table)
        .values((
            tokens::token_hash.eq(random::token_hash(&token)),
            tokens::session_id.eq(session),
            tokens::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(token)
}

/// Uses `presented` up and issues the next token of its family. Of two
/// requests presenting the same token at once, one rotates and the other
/// counts as reuse (the family ends): a client refreshes once at a time.
pub fn rotate(c: &mut DbConnection, presented: &str, now: NaiveDateTime) -> QueryResult<Refreshed> {
    let hash = random::token_hash(presented);
    let found: Option<(SessionId, Option<NaiveDateTime>)> = tokens::table
        .find(&hash)
        .select((tokens::session_id, tokens::used_at))
        .first(c)
        .optional()?;
    let Some((session, used_at)) = found else {
        return Ok(Refreshed::Unknown);
    };
    let won = used_at.is_none()
        && diesel::update(tokens::table.find(&hash).filter(tokens::used_at.is_null()))
            .set(tokens::used_at.eq(Some(now)))
            .execute(c)?
            == 1;
    if !won {
        let owner = sessions::owner_of(c, &session)?;
        sessions::revoke(c, &session)?;
        return Ok(Refreshed::Reused {
            session_owner: owner,
        });
    }
    let token = issue(c, &session, now)?;
    Ok(Refreshed::Rotated { session, token })
}
