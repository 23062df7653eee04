//! Sign-up: validate, hash, create the account and queue its verification
//! mail in one transaction, then wake the worker.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::input::{parse_sex, Birthday, Email, Nickname, Person, Sex};
use super::mails;
use crate::accounts::state::AccountsState;
use crate::auth::policy::{self, PasswordPolicy};
use crate::auth::users::UserInsertForm;
use crate::auth::{User, UserId};
use crate::db::{is_unique_violation, transaction, DbConnection};
use crate::error::{AppError, FieldErrors};
use crate::limits::rules;
use crate::profiles::store::Profile;
use crate::security::password::hash_off_executor;
use crate::security::SecretString;

/// The sign-up form as posted; every field defaults to empty so a missing
/// field is reported next to the field, not as a bad request. The password
/// never prints.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub email: String,
    pub password: SecretString,
    pub nickname: String,
    pub sex: String,
    pub birthday: String,
}

pub struct NewAccount {
    pub email: Email,
    pub nickname: Nickname,
    pub sex: Sex,
    pub birthday: Birthday,
    pub password: SecretString,
}

/// The latest birthday of an 18-year-old today, for the form's date picker.
pub fn max_birthday(today: NaiveDate) -> String {
    today
        .checked_sub_months(chrono::Months::new(12 * 18))
        .unwrap_or(today)
        .format("%Y-%m-%d")
        .to_string()
}

/// The person fields every new member gives (sign-up, or after a provider);
/// each problem is pushed to `errors`.
pub fn person_fields(
    nickname: &str,
    sex: &str,
    birthday: &str,
    today: NaiveDate,
    errors: &mut FieldErrors,
) -> (Option<Nickname>, Option<Sex>, Option<Birthday>) {
    let nickname = Nickname::parse(nickname)
        .map_err(|c| errors.push("nickname", c))
        .ok();
    let sex = parse_sex(sex).map_err(|c| errors.push("sex", c)).ok();
    let birthday = Birthday::parse(birthday, today)
        .map_err(|c| errors.push("birthday", c))
        .ok();
    (nickname, sex, birthday)
}

pub fn validate(
    form: &SignupForm,
    today: NaiveDate,
    password_policy: &PasswordPolicy,
) -> Result<NewAccount, FieldErrors> {
    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email)
        .map_err(|c| errors.push("email", c))
        .ok();
    let (nickname, sex, birthday) = person_fields(
        &form.nickname,
        &form.sex,
        &form.birthday,
        today,
        &mut errors,
    );
    if let Err(c) = policy::check(
        form.password.expose(),
        email.as_ref().map_or(form.email.as_str(), |e| e.as_str()),
        nickname
            .as_ref()
            .map_or(form.nickname.as_str(), |n| n.as_str()),
        password_policy,
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

/// How a sign-up ended.
#[derive(Debug)]
pub enum SignupOutcome {
    Created(UserId),
    Invalid(FieldErrors),
    EmailTaken,
}

/// The whole sign-up flow.
pub async fn sign_up(
    state: &AccountsState,
    form: &SignupForm,
    lang: &str,
) -> Result<SignupOutcome, AppError> {
    let password_policy =
        policy::current(&state.runtime, state.settings.passwords.min_length).await?;
    let account = match validate(form, state.clock.today(), &password_policy) {
        Ok(a) => a,
        Err(errors) => return Ok(SignupOutcome::Invalid(errors)),
    };
    // Only a sign-up that would send a mail counts against the address.
    state
        .counters
        .enforce(
            &state.runtime,
            rules::SIGNUP_PER_EMAIL,
            &rules::email_subject(account.email.as_str()),
        )
        .await?;
    let hash = hash_off_executor(&account.password, state.settings.passwords.iterations).await?;
    let (lang, now) = (lang.to_string(), state.clock.now());
    let email = account.email.as_str().to_string();
    let for_create = lang.clone();
    let keys = state.keys.clone();
    let created = state
        .jobs
        .write_and_wake(move |c| Ok(create_account(c, &keys, &account, &hash, &for_create, now)))
        .await?;
    match created {
        // Answered as a taken address is (the page says to check the mail),
        // and nothing is made or sent.
        Err(CreateError::Banned) => Ok(SignupOutcome::EmailTaken),
        Ok(id) => Ok(SignupOutcome::Created(id)),
        Err(CreateError::Taken) => {
            tell_owner(state, &email, &lang, now).await?;
            Ok(SignupOutcome::EmailTaken)
        }
        Err(CreateError::Database(e)) => Err(e.into()),
    }
}

/// Sign-ups from one address (an IPv6 /64): `SIGNUP_PER_IP` a window.
pub async fn limit_address(state: &AccountsState, ip_bucket: &str) -> Result<(), AppError> {
    state
        .counters
        .enforce(&state.runtime, rules::SIGNUP_PER_IP, ip_bucket)
        .await
}

/// Someone signed up with a registered address: the answer is the same as
/// for a new one, and the owner hears about it by mail instead (in their
/// language, else `lang`).
pub async fn tell_owner(
    state: &AccountsState,
    email: &str,
    lang: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    let (email, lang) = (email.to_string(), lang.to_string());
    state
        .jobs
        .write_and_wake(move |c| {
            if let Some(owner) = User::find_by_email(c, &email)? {
                let lang = owner.language.clone().unwrap_or(lang);
                mails::queue_notice(c, mails::Notice::SignupTaken, owner.id, &lang, now)?;
            }
            Ok(())
        })
        .await
}

#[derive(Debug)]
pub enum CreateError {
    Taken,
    /// A banned account that was deleted had this address.
    Banned,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for CreateError {
    fn from(e: diesel::result::Error) -> Self {
        if is_unique_violation(&e) {
            Self::Taken
        } else {
            Self::Database(e)
        }
    }
}

/// Creates the account (unverified) and queues the verification mail. Two
/// sign-ups racing for one email leave exactly one row: the other gets
/// `Taken` from the unique index (its savepoint rolls back, the caller's
/// transaction stays usable). An address a banned account had before it
/// was deleted gets `Banned`.
pub fn create_account(
    conn: &mut DbConnection,
    keys: &crate::security::keys::Keys,
    account: &NewAccount,
    password_hash: &str,
    lang: &str,
    now: NaiveDateTime,
) -> Result<UserId, CreateError> {
    transaction(conn, |conn| {
        if User::find_by_email(conn, account.email.as_str())?.is_some() {
            return Err(CreateError::Taken);
        }
        if super::banned::is_banned_contact(conn, keys, account.email.as_str(), now)? {
            return Err(CreateError::Banned);
        }
        let id = User::insert(
            conn,
            &UserInsertForm {
                email: account.email.as_str(),
                password_hash,
                nickname: account.nickname.as_str(),
                sex: account.sex,
                birthday: account.birthday.date(),
                email_verified_at: None,
                is_superadmin: false,
                language: Some(lang),
                password_changed_at: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        Profile::create(conn, id, account.sex, account.birthday.date(), now)?;
        User::stamp_verification_sent(conn, id, now)?;
        mails::queue(conn, mails::VERIFY_EMAIL, id, lang, now)?;
        Ok(id)
    })
}

/// A password nobody knows and its hash, for an account made without one
/// (a provider's, a phone number's): checking against it costs what any
/// check costs.
pub async fn unusable_password(state: &AccountsState) -> Result<(SecretString, String), AppError> {
    let secret = SecretString::new(crate::security::random::token(32));
    let hash = hash_off_executor(&secret, state.settings.passwords.iterations).await?;
    Ok((secret, hash))
}

/// The birthday a phone number's new account holds until its member gives
/// theirs (the account is in no feed and shown to nobody meanwhile).
const PENDING_BIRTHDAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Creates the account of a phone number seen for the first time: no
/// email (a stand-in that receives nothing), no usable password, and
/// pending until nickname, sex and birthday are given. Two first logins
/// racing for one number leave one account: the other finds it.
pub fn create_phone_account(
    conn: &mut DbConnection,
    phone: &str,
    password_hash: &str,
    lang: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<User> {
    let email = Email::stand_in_for(phone);
    crate::db::insert_unique(conn, |c| {
        let id = User::insert(
            c,
            &UserInsertForm {
                email: email.as_str(),
                password_hash,
                nickname: "",
                sex: Sex::Female,
                birthday: PENDING_BIRTHDAY,
                email_verified_at: None,
                is_superadmin: false,
                language: Some(lang),
                password_changed_at: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        User::make_phone_account(c, id, phone)?;
        Profile::create(c, id, Sex::Female, PENDING_BIRTHDAY, now)
    })?;
    User::find_by_phone(conn, phone)?.ok_or(diesel::result::Error::NotFound)
}

/// The person fields as a form posts them (`/welcome`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersonForm {
    pub nickname: String,
    pub sex: String,
    pub birthday: String,
}

impl PersonForm {
    pub fn validate(&self, today: NaiveDate) -> Result<Person, FieldErrors> {
        let mut errors = FieldErrors::default();
        match person_fields(
            &self.nickname,
            &self.sex,
            &self.birthday,
            today,
            &mut errors,
        ) {
            (Some(nickname), Some(sex), Some(birthday)) => Ok(Person {
                nickname,
                sex,
                birthday,
            }),
            _ => Err(errors),
        }
    }
}

/// Completes my phone account (`/welcome`); `false` when it was complete
/// already. My cached principal is dropped on every instance.
pub async fn complete_phone(
    state: &AccountsState,
    me: &crate::auth::Principal,
    person: Person,
) -> Result<bool, AppError> {
    let (id, now) = (me.id, state.clock.now());
    let done = state
        .db
        .write(move |c| {
            Ok(crate::profiles::service::complete_person(
                c, id, &person, now,
            )?)
        })
        .await?;
    if done {
        state.hub.members_changed(vec![id]).await;
    }
    Ok(done)
}
