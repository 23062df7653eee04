//! The mails accounts send, as jobs. The token is created when the mail is
//! sent, so the queue never holds a usable link.

use serde::{Deserialize, Serialize};

use super::tokens::{self, Purpose};
use crate::auth::{User, UserId};
use crate::db::DbConnection;
use crate::i18n::Tr;
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::mail::OutgoingMail;
use crate::security::SecretString;

pub const VERIFY_EMAIL: &str = "mail.verify_email";
pub const PASSWORD_RESET: &str = "mail.password_reset";
/// A mail with no token in it: a warning to the owner of an account.
pub const NOTICE: &str = "mail.notice";

/// The warnings [`NOTICE`] sends; each names its catalog section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Repeated failed logins engaged the escalating wait.
    Locked,
    /// Someone signed up with this (registered) address.
    SignupTaken,
}

impl Notice {
    fn catalog_key(self) -> &'static str {
        match self {
            Self::Locked => "mail.locked",
            Self::SignupTaken => "mail.signup_taken",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct NoticeToUser {
    user_id: UserId,
    lang: String,
    notice: Notice,
}

/// Queues a warning mail to `user`, inside the caller's transaction.
pub fn queue_notice(
    conn: &mut DbConnection,
    notice: Notice,
    user: UserId,
    lang: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let payload = NoticeToUser {
        user_id: user,
        lang: lang.to_string(),
        notice,
    };
    enqueue(conn, NewJob::new(NOTICE, &payload, now)?).map(|_| ())
}

async fn send_notice(ctx: JobContext, payload: String) -> Result<(), JobError> {
    let NoticeToUser {
        user_id,
        lang,
        notice,
    } = serde_json::from_str(&payload)?;
    let user = ctx
        .db
        .primary(move |c| Ok(User::find(c, user_id)?))
        .await
        .map_err(|e| JobError(e.to_string()))?;
    let Some(user) = user else {
        return Ok(());
    };
    let t = Tr::new(&lang);
    let key = notice.catalog_key();
    let link = ctx.settings.absolute_url("/password-reset");
    let mail = OutgoingMail {
        to: user.email.clone(),
        subject: t.t(&format!("{key}.subject")).to_string(),
        body: t.tf(
            &format!("{key}.body"),
            &[("name", &user.nickname), ("link", &link)],
        ),
        // Account mails (security notices) cannot be turned off.
        unsubscribe: None,
    };
    ctx.mailer.send(&ctx.settings.mail.from, mail).await?;
    Ok(())
}

/// Payload of the account mail jobs.
#[derive(Debug, Serialize, Deserialize)]
pub struct MailToUser {
    pub user_id: UserId,
    pub lang: String,
    /// Makes the mailed link (see [`tokens::for_job`]); jobs queued before
    /// it existed get a random link.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// Queues a mail of `kind` to `user`, inside the caller's transaction.
pub fn queue(
    conn: &mut DbConnection,
    kind: &str,
    user: UserId,
    lang: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let payload = MailToUser {
        user_id: user,
        lang: lang.to_string(),
        nonce: Some(crate::security::random::token(16)),
    };
    enqueue(conn, NewJob::new(kind, &payload, now)?).map(|_| ())
}

pub fn register(r: &mut Registry) {
    r.register(VERIFY_EMAIL, |ctx, payload| {
        send(ctx, payload, Purpose::VerifyEmail)
    });
    r.register(PASSWORD_RESET, |ctx, payload| {
        send(ctx, payload, Purpose::ResetPassword)
    });
    r.register(NOTICE, send_notice);
}

async fn send(ctx: JobContext, payload: String, purpose: Purpose) -> Result<(), JobError> {
    let MailToUser {
        user_id,
        lang,
        nonce,
    } = serde_json::from_str(&payload)?;
    // One link per job: a retry (after a crash mid-send, say) mails the same.
    let job_token = nonce.map(|n| tokens::for_job(ctx.settings.secret_key.expose(), &n));
    let accounts = &ctx.settings.accounts;
    let (ttl, path, key) = match purpose {
        Purpose::VerifyEmail => (accounts.verify_token_ttl, "/verify-email", "mail.verify"),
        Purpose::ResetPassword => (
            accounts.reset_token_ttl,
            "/password-reset/confirm",
            "mail.reset",
        ),
    };
    let now = ctx.clock.now();
    let prepared = ctx
        .db
        .write(move |c| {
            let Some(user) = User::find(c, user_id)? else {
                return Ok(None);
            };
            if purpose == Purpose::VerifyEmail && user.is_verified() {
                return Ok(None);
            }
            let token = match job_token {
                Some(token) => {
                    tokens::issue_exact(c, user_id, purpose, &token, ttl, now)?;
                    SecretString::new(token)
                }
                None => tokens::issue(c, user_id, purpose, ttl, now)?,
            };
            Ok(Some((user, token)))
        })
        .await
        .map_err(|e| JobError(e.to_string()))?;
    let Some((user, token)) = prepared else {
        return Ok(());
    };
    let link = ctx
        .settings
        .absolute_url(&format!("{path}?token={}", token.expose()));
    let t = Tr::new(&lang);
    let lifetime = t.tn("time.hours", (ttl.as_secs() / 3600).max(1), &[]);
    let mail = OutgoingMail {
        to: user.email.clone(),
        subject: t.t(&format!("{key}.subject")).to_string(),
        body: t.tf(
            &format!("{key}.body"),
            &[
                ("name", &user.nickname),
                ("link", &link),
                ("lifetime", &lifetime),
            ],
        ),
        unsubscribe: None,
    };
    // Tokens never reach the log, not even in development: the mail itself
    // (an .eml file without SMTP_URL, its path logged) carries the link.
    ctx.mailer.send(&ctx.settings.mail.from, mail).await?;
    Ok(())
}
