//! The `account_tokens` table: one-time tokens mailed to members. Only their
//! SHA-256 is stored; consuming one is a single conditional UPDATE, so a
//! token works once even when two requests race.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::auth::UserId;
use crate::clock::delta;
use crate::db::schema::account_tokens;
use crate::db::DbConnection;
use crate::security::{random, SecretString};

crate::text_enum!(
    /// What a mailed token is for.
    Purpose {
        VerifyEmail => "verify_email",
        ResetPassword => "reset_password",
    }
);

/// Creates a token for `user` and returns it in clear (to put in a mail).
pub fn issue(
    conn: &mut DbConnection,
    user: UserId,
    purpose: Purpose,
    ttl: Duration,
    now: NaiveDateTime,
) -> QueryResult<SecretString> {
    let token = random::token(32);
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user),
            account_tokens::purpose.eq(purpose),
            account_tokens::token_hash.eq(random::token_hash(&token)),
            account_tokens::created_at.eq(now),
            account_tokens::expires_at.eq(now + delta(ttl)),
        ))
        .execute(conn)?;
    Ok(SecretString::new(token))
}

/// Records `token` (made by the caller) for `user`, once: a retry of the
/// job that made it records nothing new and mails the same link.
pub fn issue_exact(
    conn: &mut DbConnection,
    user: UserId,
    purpose: Purpose,
    token: &str,
    ttl: Duration,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::insert_unique(conn, |c| {
        diesel::insert_into(account_tokens::table)
            .values((
                account_tokens::user_id.eq(user),
                account_tokens::purpose.eq(purpose),
                account_tokens::token_hash.eq(random::token_hash(token)),
                account_tokens::created_at.eq(now),
                account_tokens::expires_at.eq(now + delta(ttl)),
            ))
            .execute(c)
    })
    .map(|_| ())
}

/// The token of a mail job: an HMAC of the job's nonce under a key derived
/// from `SECRET_KEY`, so a retry mails the same link and the jobs table
/// holds nothing that works as a link on its own.
pub fn for_job(secret: &[u8], nonce: &str) -> String {
    use base64::Engine;
    let key_bytes: [u8; 32] = crate::security::keys::derive(secret, b"mail link");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let tag = ring::hmac::sign(&key, nonce.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// Whether a string could be one of our tokens at all (checked before any query).
pub fn looks_valid(token: &str) -> bool {
    !token.is_empty() && token.len() <= 128
}

/// The user a still-usable token belongs to, without using it up.
pub fn peek(
    conn: &mut DbConnection,
    token: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> QueryResult<Option<UserId>> {
    account_tokens::table
        .filter(account_tokens::token_hash.eq(random::token_hash(token)))
        .filter(account_tokens::purpose.eq(purpose))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(now))
        .select(account_tokens::user_id)
        .first::<UserId>(conn)
        .optional()
}

/// Uses a token up; returns its user if it was unused and unexpired.
pub fn consume(
    conn: &mut DbConnection,
    token: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> QueryResult<Option<UserId>> {
    let Some(user) = peek(conn, token, purpose, now)? else {
        return Ok(None);
    };
    let n = diesel::update(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(random::token_hash(token)))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok((n == 1).then_some(user))
}

/// Invalidates every unused token of one purpose for a user (e.g. after a reset).
pub fn revoke_all(
    conn: &mut DbConnection,
    user: UserId,
    purpose: Purpose,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(now))
    .execute(conn)
}

/// Deletes expired and used tokens (periodic maintenance).
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        account_tokens::table.filter(
            account_tokens::expires_at
                .lt(now)
                .or(account_tokens::used_at.lt(now - TimeDelta::days(1))),
        ),
    )
    .execute(conn)
}
