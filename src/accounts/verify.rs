//! Email verification: the mailed link, and resending it with a cool-down.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::mails;
use super::tokens::{self, Purpose};
use crate::accounts::state::AccountsState;
use crate::auth::users::MailStamp;
use crate::auth::{Principal, User};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::profiles::store::Profile;
use crate::security::SecretString;

/// Verifies the email of the token's owner; `false` for a used, expired or
/// unknown token.
pub async fn verify_email(state: &AccountsState, token: SecretString) -> Result<bool, AppError> {
    let now = state.clock.now();
    let verified = state
        .db
        .write(move |c| {
            let Some(user) = tokens::consume(c, token.expose(), Purpose::VerifyEmail, now)? else {
                return Ok(None);
            };
            User::mark_verified(c, user, now)?;
            Profile::refresh_in_feed(c, user)?;
            Ok(Some(user))
        })
        .await?;
    if let Some(user) = verified {
        state.hub.members_changed(vec![user]).await;
    }
    Ok(verified.is_some())
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResendOutcome {
    Queued,
    AlreadyVerified,
    TooSoon { retry_after_secs: u64 },
}

/// Queues a new verification mail unless one was sent less than the
/// cool-down ago. The check and the stamp are one conditional UPDATE, so
/// double clicks send one mail.
pub async fn resend(
    state: &AccountsState,
    me: &Principal,
    lang: &str,
) -> Result<ResendOutcome, AppError> {
    let (user, lang, now) = (me.id, lang.to_string(), state.clock.now());
    let cooldown = state.settings.accounts.mail_cooldown;
    state
        .jobs
        .write_and_wake(move |c| {
            let Some(found) = User::find(c, user)? else {
                return Err(AppError::LoginRequired);
            };
            Ok(queue_resend(c, &found, &lang, now, cooldown)?)
        })
        .await
}

/// The resend itself, inside the caller's connection (staff resend it in
/// the transaction of their audit entry).
pub fn queue_resend(
    c: &mut DbConnection,
    user: &User,
    lang: &str,
    now: NaiveDateTime,
    cooldown: Duration,
) -> QueryResult<ResendOutcome> {
    if user.is_verified() {
        return Ok(ResendOutcome::AlreadyVerified);
    }
    if !User::stamp_mail_if_cooled(c, user.id, MailStamp::Verification, now, cooldown)? {
        let wait = user
            .verification_sent_at
            .map(|s| {
                (s + crate::clock::delta(cooldown) - now)
                    .num_seconds()
                    .max(1)
            })
            .unwrap_or(1);
        return Ok(ResendOutcome::TooSoon {
            retry_after_secs: wait.unsigned_abs(),
        });
    }
    mails::queue(c, mails::VERIFY_EMAIL, user.id, lang, now)?;
    Ok(ResendOutcome::Queued)
}
