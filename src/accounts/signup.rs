//! Sign-up: validate, create the account and queue its verification mail in
//! one transaction.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::input::{check_password, Birthday, Email, Nickname, Sex};
use super::user::{User, UserId, UserInsertForm};
use crate::db::{self, DbConnection};
use crate::jobs::{enqueue, NewJob};
use crate::web::FormErrors;

/// The sign-up form as posted; every field defaults to empty so a missing
/// field is reported next to the field, not as a bad request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub email: String,
    pub password: String,
    pub nickname: String,
    pub sex: String,
    pub birthday: String,
}

pub struct NewAccount {
    pub email: Email,
    pub nickname: Nickname,
    pub sex: Sex,
    pub birthday: Birthday,
    pub password: String,
}

pub fn validate(
    form: &SignupForm,
    today: NaiveDate,
    min_password_len: usize,
) -> Result<NewAccount, FormErrors> {
    let mut errors = FormErrors::default();
    let email = Email::parse(&form.email)
        .map_err(|c| errors.push("email", c))
        .ok();
    let nickname = Nickname::parse(&form.nickname)
        .map_err(|c| errors.push("nickname", c))
        .ok();
    let sex = Sex::parse(&form.sex)
        .map_err(|c| errors.push("sex", c))
        .ok();
    let birthday = Birthday::parse(&form.birthday, today)
        .map_err(|c| errors.push("birthday", c))
        .ok();
    if let Err(c) = check_password(
        &form.password,
        min_password_len,
        email.as_ref().map_or(form.email.as_str(), |e| e.as_str()),
        nickname
            .as_ref()
            .map_or(form.nickname.as_str(), |n| n.as_str()),
    ) {
        errors.push("password", c);
    }
    match (email, nickname, sex, birthday) {
        (Some(email), Some(nickname), Some(sex), Some(birthday)) if errors.is_empty() => {
            Ok(NewAccount {
                email,
                nickname,
                sex,
                birthday,
                password: form.password.clone(),
            })
        }
        _ => Err(errors),
    }
}

#[derive(Debug)]
pub enum SignupError {
    EmailTaken,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for SignupError {
    fn from(e: diesel::result::Error) -> Self {
        if db::is_unique_violation(&e) {
            Self::EmailTaken
        } else {
            Self::Database(e)
        }
    }
}

/// Payload of the verification mail job.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct MailToUser {
    pub user_id: UserId,
    pub lang: String,
}

/// Creates the account (unverified) and queues the verification mail. Two
/// sign-ups racing for one email leave exactly one row: the other gets
/// `EmailTaken` from the unique index.
pub fn create_account(
    conn: &mut DbConnection,
    account: &NewAccount,
    password_hash: &str,
    lang: &str,
    now: NaiveDateTime,
) -> Result<UserId, SignupError> {
    db::transaction(conn, |c| {
        if User::find_by_email(c, account.email.as_str())?.is_some() {
            return Err(SignupError::EmailTaken);
        }
        let id = User::insert(
            c,
            &UserInsertForm {
                email: account.email.as_str(),
                password_hash,
                nickname: account.nickname.as_str(),
                sex: account.sex.as_str(),
                birthday: account.birthday.date(),
                email_verified_at: None,
                is_superadmin: false,
                language: Some(lang),
                password_changed_at: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        let user_id = UserId(id);
        super::verify::mark_sent(c, user_id, now)?;
        enqueue(
            c,
            NewJob::new(
                super::mails::VERIFY_EMAIL,
                &MailToUser {
                    user_id,
                    lang: lang.to_string(),
                },
            )?,
        )?;
        Ok(user_id)
    })
}
