//! Email verification: the mailed link, and resending it with a cool-down.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::signup::MailToUser;
use super::tokens::{self, Purpose};
use super::user::{MailStamp, User, UserId};
use crate::db::schema::users;
use crate::db::{self, DbConnection};
use crate::jobs::{enqueue, NewJob};

pub(crate) fn mark_sent(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user.0))
        .set(users::verification_sent_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

/// Verifies the email of the token's owner; `false` for a used, expired or unknown token.
pub fn verify_email(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> QueryResult<bool> {
    db::transaction(conn, |c| {
        let Some(user) = tokens::consume(c, token, Purpose::VerifyEmail, now)? else {
            return Ok(false);
        };
        diesel::update(
            users::table
                .find(user.0)
                .filter(users::email_verified_at.is_null()),
        )
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(c)?;
        Ok(true)
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResendOutcome {
    Queued,
    AlreadyVerified,
    TooSoon { retry_after_secs: u64 },
}

/// Queues a new verification mail unless one was sent less than `cooldown` ago.
/// The check and the stamp are one conditional UPDATE, so double clicks send one mail.
pub fn resend(
    conn: &mut DbConnection,
    user: UserId,
    lang: &str,
    now: NaiveDateTime,
    cooldown: Duration,
) -> QueryResult<ResendOutcome> {
    db::transaction(conn, |c| {
        let (verified, sent): (Option<NaiveDateTime>, Option<NaiveDateTime>) = users::table
            .find(user.0)
            .select((users::email_verified_at, users::verification_sent_at))
            .first(c)?;
        if verified.is_some() {
            return Ok(ResendOutcome::AlreadyVerified);
        }
        let queued = User::stamp_mail_if_cooled(c, user, MailStamp::Verification, now, cooldown)?;
        if !queued {
            let wait = sent
                .map(|s| (s + cooldown - now).num_seconds().max(1))
                .unwrap_or(1);
            return Ok(ResendOutcome::TooSoon {
                retry_after_secs: wait.unsigned_abs(),
            });
        }
        enqueue(
            c,
            NewJob::new(
                super::mails::VERIFY_EMAIL,
                &MailToUser {
                    user_id: user,
                    lang: lang.to_string(),
                },
            )?,
        )?;
        Ok(ResendOutcome::Queued)
    })
}
