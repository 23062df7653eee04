//! Password reset by mailed link, and password change from settings.

use serde::Deserialize;

use super::input::{check_password, Email};
use super::login::{hash_password, verify_password};
use super::signup::MailToUser;
use super::tokens::{self, Purpose};
use super::user::{MailStamp, User, UserId};
use super::{sessions, CurrentUser};
use crate::db;
use crate::error::AppError;
use crate::jobs::{enqueue, NewJob};
use crate::security::password::Verification;
use crate::startup::AppState;
use crate::web::FormErrors;

/// Queues a reset mail if the address belongs to an active account and no
/// reset mail went to it within the cool-down. The caller answers the same
/// way in every case.
pub async fn request_reset(state: &AppState, email: &Email, lang: &str) -> Result<(), AppError> {
    let email = email.as_str().to_string();
    let lang = lang.to_string();
    let cooldown = state.settings.mail_cooldown;
    db::run(&state.pool, move |c| {
        db::transaction(c, |c| {
            let Some(user) = User::find_by_email(c, &email)?.filter(|u| u.is_active) else {
                return Ok(());
            };
            let id = user.user_id();
            if User::stamp_mail_if_cooled(c, id, MailStamp::Reset, db::now(), cooldown)? {
                enqueue(
                    c,
                    NewJob::new(
                        super::mails::PASSWORD_RESET,
                        &MailToUser { user_id: id, lang },
                    )?,
                )?;
            }
            Ok(())
        })
    })
    .await
}

/// The account a reset link belongs to, while it is usable.
pub async fn reset_target(state: &AppState, token: &str) -> Result<Option<User>, AppError> {
    let token = token.to_string();
    db::run(&state.pool, move |c| {
        let Some(id) = tokens::peek(c, &token, Purpose::ResetPassword, db::now())? else {
            return Ok(None);
        };
        Ok(User::find(c, id)?)
    })
    .await
}

pub enum ResetOutcome {
    Done(UserId),
    InvalidToken,
    Rejected(FormErrors),
}

/// Sets a new password from a reset link: the link is used up, and every
/// session of the account ends (a thief logged in with the old password is out).
pub async fn reset_with_token(
    state: &AppState,
    token: &str,
    new_password: &str,
) -> Result<ResetOutcome, AppError> {
    let Some(user) = reset_target(state, token).await? else {
        return Ok(ResetOutcome::InvalidToken);
    };
    if let Err(code) = check_password(
        new_password,
        state.settings.password_min_length,
        &user.email,
        &user.nickname,
    ) {
        let mut errors = FormErrors::default();
        errors.push("password", code);
        return Ok(ResetOutcome::Rejected(errors));
    }
    let hash = hash_password(new_password.to_string(), state.settings.password_iterations).await?;
    let token = token.to_string();
    db::run(&state.pool, move |c| {
        db::transaction(c, |c| {
            let now = db::now();
            let Some(id) = tokens::consume(c, &token, Purpose::ResetPassword, now)? else {
                return Ok(ResetOutcome::InvalidToken);
            };
            User::set_password_hash(c, id, &hash, now, true)?;
            tokens::revoke_all(c, id, Purpose::ResetPassword, now)?;
            sessions::revoke_all(c, id)?;
            Ok(ResetOutcome::Done(id))
        })
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangePasswordForm {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password of the logged-in member after checking the current
/// one; their other sessions end, this one stays.
pub async fn change(
    state: &AppState,
    me: &CurrentUser,
    form: &ChangePasswordForm,
) -> Result<Result<(), FormErrors>, AppError> {
    let id = me.id;
    let Some(user) = db::run(&state.pool, move |c| Ok(User::find(c, id)?)).await? else {
        return Err(AppError::LoginRequired);
    };
    let iterations = state.settings.password_iterations;
    let mut errors = FormErrors::default();
    if verify_password(
        form.current_password.clone(),
        user.password_hash.clone(),
        iterations,
    )
    .await?
        == Verification::Invalid
    {
        errors.push("current_password", "wrong_password");
        return Ok(Err(errors));
    }
    if let Err(code) = check_password(
        &form.new_password,
        state.settings.password_min_length,
        &user.email,
        &user.nickname,
    ) {
        errors.push("new_password", code);
        return Ok(Err(errors));
    }
    let hash = hash_password(form.new_password.clone(), iterations).await?;
    let keep = me.session_id.clone();
    db::run(&state.pool, move |c| {
        db::transaction(c, |c| {
            let now = db::now();
            User::set_password_hash(c, id, &hash, now, true)?;
            tokens::revoke_all(c, id, Purpose::ResetPassword, now)?;
            sessions::revoke_others(c, id, &keep)?;
            Ok(())
        })
    })
    .await?;
    Ok(Ok(()))
}
