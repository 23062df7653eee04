//! Password reset by mailed link, and password change from settings.

use serde::{Deserialize, Serialize};

use super::input::Email;
use super::mails;
use super::reentry::{self, Caller, Guards};
use super::tokens::{self, Purpose};
use crate::accounts::state::AccountsState;
use crate::auth::policy;
use crate::auth::users::MailStamp;
use crate::auth::{sessions, Principal, User, UserId};
use crate::error::{AppError, FieldCode, FieldErrors};
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::security::password::hash_off_executor;
use crate::security::SecretString;

/// The job that answers a reset request: it looks the address up, so the
/// request does the same work whoever owns it (nothing to time).
pub const RESET_REQUEST: &str = "account.reset_request";

#[derive(Serialize, Deserialize)]
struct ResetRequest {
    email: String,
    lang: String,
}

/// Queues the request's job, whatever the address: one insert, the same
/// for a registered address as for any other, so neither the answer nor
/// its timing tells which addresses are registered. The job mails a link if
/// the address belongs to an active account and no reset mail went to it
/// within the cool-down.
pub async fn request_reset(
    state: &AccountsState,
    email: &Email,
    lang: &str,
) -> Result<(), AppError> {
    let request = ResetRequest {
        email: email.as_str().to_string(),
        lang: lang.to_string(),
    };
    let now = state.clock.now();
    state
        .jobs
        .write_and_wake(move |c| {
            enqueue(c, NewJob::new(RESET_REQUEST, &request, now)?)?;
            Ok(())
        })
        .await
}

/// Registers the reset request's job.
pub fn register(r: &mut Registry) {
    r.register(RESET_REQUEST, |ctx: JobContext, payload| async move {
        let ResetRequest { email, lang } = serde_json::from_str(&payload)?;
        let (now, cooldown) = (ctx.clock.now(), ctx.settings.accounts.mail_cooldown);
        ctx.db
            .write(move |c| {
                let found = User::find_by_email(c, &email)?.filter(|u| u.may_log_in(now));
                let Some(user) = found else {
                    return Ok(());
                };
                if User::stamp_mail_if_cooled(c, user.id, MailStamp::Reset, now, cooldown)? {
                    mails::queue(c, mails::PASSWORD_RESET, user.id, &lang, now)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| JobError(e.to_string()))
    });
}

/// The account a reset link belongs to, while it is usable.
pub async fn reset_target(
    state: &AccountsState,
    token: &SecretString,
) -> Result<Option<User>, AppError> {
    if !tokens::looks_valid(token.expose()) {
        return Ok(None);
    }
    let (token, now) = (token.clone(), state.clock.now());
    state
        .db
        .primary(move |c| {
            let Some(id) = tokens::peek(c, token.expose(), Purpose::ResetPassword, now)? else {
                return Ok(None);
            };
            Ok(User::find(c, id)?)
        })
        .await
}

pub enum ResetOutcome {
    Done(UserId),
    InvalidToken,
    Rejected(FieldErrors),
}

/// Sets a new password from a reset link: the link is used up, and every
/// session of the account ends (a thief logged in with the old password is out).
pub async fn reset_with_token(
    state: &AccountsState,
    token: &SecretString,
    new_password: &SecretString,
) -> Result<ResetOutcome, AppError> {
    let Some(user) = reset_target(state, token).await? else {
        return Ok(ResetOutcome::InvalidToken);
    };
    if let Err(code) = policy::check(
        new_password.expose(),
        &user.email,
        &user.nickname,
        &policy::current(&state.runtime, state.settings.passwords.min_length).await?,
    ) {
        return Ok(ResetOutcome::Rejected(FieldErrors::one("password", code)));
    }
    let hash = hash_off_executor(new_password, state.settings.passwords.iterations).await?;
    let (token, now) = (token.clone(), state.clock.now());
    let outcome = state
        .db
        .write(move |c| {
            let Some(id) = tokens::consume(c, token.expose(), Purpose::ResetPassword, now)? else {
                return Ok(ResetOutcome::InvalidToken);
            };
            User::set_password_hash(c, id, &hash, now)?;
            tokens::revoke_all(c, id, Purpose::ResetPassword, now)?;
            sessions::revoke_all(c, id)?;
            Ok(ResetOutcome::Done(id))
        })
        .await?;
    if let ResetOutcome::Done(id) = outcome {
        // The owner proved who they are: failed logins no longer count.
        super::defence::lift(&state.counters, &user.email).await;
        state.hub.sessions_ended(id).await;
    }
    Ok(outcome)
}

/// The change-password form; neither password prints.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangePasswordForm {
    pub current_password: SecretString,
    pub new_password: SecretString,
}

/// Changes the password of the logged-in member after checking the current
/// one; their other sessions end, this one stays.
pub async fn change(
    state: &AccountsState,
    me: &Principal,
    form: &ChangePasswordForm,
    caller: &Caller,
) -> Result<Result<(), FieldErrors>, AppError> {
    let id = me.id;
    let Some(user) = state.db.primary(move |c| Ok(User::find(c, id)?)).await? else {
        return Err(AppError::LoginRequired);
    };
    let iterations = state.settings.passwords.iterations;
    if !reentry::check(&Guards::of(state), caller, &user, &form.current_password).await? {
        return Ok(Err(FieldErrors::one(
            "current_password",
            FieldCode::WrongPassword,
        )));
    }
    if let Err(code) = policy::check(
        form.new_password.expose(),
        &user.email,
        &user.nickname,
        &policy::current(&state.runtime, state.settings.passwords.min_length).await?,
    ) {
        return Ok(Err(FieldErrors::one("new_password", code)));
    }
    let hash = hash_off_executor(&form.new_password, iterations).await?;
    let (keep, now) = (me.session_id.clone(), state.clock.now());
    state
        .db
        .write(move |c| {
            User::set_password_hash(c, id, &hash, now)?;
            tokens::revoke_all(c, id, Purpose::ResetPassword, now)?;
            sessions::revoke_others(c, id, &keep)?;
            Ok(())
        })
        .await?;
    state.hub.sessions_ended(id).await;
    Ok(Ok(()))
}
