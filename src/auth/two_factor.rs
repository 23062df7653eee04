//! Two-factor state in the database: the sealed TOTP secret on `users`, the
//! last accepted time step (so a code works once, even when two requests
//! race: the step only moves forward in one conditional update), and the
//! hashed single-use recovery codes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::UserId;
use crate::db::schema::{recovery_codes, users};
use crate::db::{transaction, DbConnection};

/// Stores a pending (not yet confirmed) secret.
pub fn set_pending(c: &mut DbConnection, user: UserId, sealed: &str) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(user)
            .filter(users::totp_enabled_at.is_null()),
    )
    .set((
        users::totp_secret.eq(Some(sealed)),
        users::totp_last_step.eq(None::<i64>),
    ))
    .execute(c)
    .map(|_| ())
}

/// Turns 2FA on with the confirmed step and the recovery codes' hashes;
/// `false` if it was already on (a double submit).
pub fn enable(
    c: &mut DbConnection,
    user: UserId,
    step: i64,
    code_hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<bool> {
    transaction(c, |c| {
        let changed = diesel::update(
            users::table
                .find(user)
                .filter(users::totp_enabled_at.is_null())
                .filter(users::totp_secret.is_not_null()),
        )
        .set((
            users::totp_enabled_at.eq(Some(now)),
            users::totp_last_step.eq(Some(step)),
        ))
        .execute(c)?;
        if changed == 0 {
            return Ok(false);
        }
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user)))
            .execute(c)?;
        for hash in code_hashes {
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::user_id.eq(user),
                    recovery_codes::code_hash.eq(hash),
                    recovery_codes::created_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok(true)
    })
}

/// Turns 2FA off: the secret and the recovery codes go.
pub fn disable(c: &mut DbConnection, user: UserId) -> QueryResult<()> {
    transaction(c, |c| {
        diesel::update(users::table.find(user))
            .set((
                users::totp_secret.eq(None::<String>),
                users::totp_enabled_at.eq(None::<NaiveDateTime>),
                users::totp_last_step.eq(None::<i64>),
            ))
            .execute(c)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user)))
            .execute(c)?;
        Ok(())
    })
}

/// Records `step` as used if it is later than the last one used; `false`
/// when that step (or a later one) was already accepted.
pub fn use_step(c: &mut DbConnection, user: UserId, step: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        users::table.find(user).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(Some(step)))
    .execute(c)?;
    Ok(changed == 1)
}

/// Uses up a recovery code; `false` if it is unknown or already used.
pub fn use_recovery_code(
    c: &mut DbConnection,
    user: UserId,
    code_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user))
            .filter(recovery_codes::code_hash.eq(code_hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(c)?;
    Ok(changed == 1)
}

/// Recovery codes not used yet.
pub fn unused_codes(c: &mut DbConnection, user: UserId) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(c)
}
