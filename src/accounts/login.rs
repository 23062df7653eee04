//! Logging in: checking credentials the same way whether or not the email is
//! registered, upgrading old hashes, and opening a session that replaces the
//! browser's previous one.

use chrono::NaiveDateTime;

use super::events::{self, AuthEvent};
use super::input::Email;
use super::two_factor::{self, PendingLogin};
use super::{captcha, defence, mails};
use crate::accounts::state::AccountsState;
use crate::auth::sessions::{self, Lifetimes, SessionId, UserSession};
use crate::auth::User;
use crate::db::types::SecretText;
use crate::db::{transaction, DbConnection};
use crate::error::{AppError, FieldCode};
use crate::limits::rules;
use crate::profiles::store::Profile;
use crate::security::password::{hash_off_executor, verify_timed_off_executor, Verification};
use crate::security::SecretString;

/// The account for these credentials, or `None` — for an unknown email, a
/// wrong password or a disabled account alike, after the same amount of work.
pub async fn check_credentials(
    state: &AccountsState,
    email: &str,
    password: &SecretString,
) -> Result<Option<User>, AppError> {
    let iterations = state.settings.passwords.iterations;
    let user = match Email::parse(email) {
        Ok(email) => {
            let email = email.as_str().to_string();
            state
                .db
                .primary(move |c| Ok(User::find_by_email(c, &email)?))
                .await?
        }
        Err(_) => None,
    };
    let stored = user.as_ref().map_or_else(
        || state.dummy_hash.to_string(),
        |u| u.password_hash.expose().to_string(),
    );
    let (verification, took) = verify_timed_off_executor(password, stored, iterations).await?;
    state.login_pacer.observe(took);
    let now = state.clock.now();
    let Some(user) = user.filter(|u| u.may_log_in(now)) else {
        return Ok(None);
    };
    match verification {
        Verification::Invalid => Ok(None),
        Verification::Valid => Ok(Some(user)),
        Verification::ValidNeedsRehash => {
            let upgraded = hash_off_executor(password, iterations).await?;
            let (id, old) = (user.id, user.password_hash.expose().to_string());
            let new = upgraded.clone();
            // Only over the hash just checked: a reset that landed meanwhile wins.
            let replaced = state
                .db
                .primary(move |c| Ok(User::upgrade_hash(c, id, &old, &new)?))
                .await?;
            if replaced {
                tracing::info!(user_id = %id, iterations, "password hash upgraded");
                return Ok(Some(User {
                    password_hash: SecretText::from_secret(upgraded),
                    ..user
                }));
            }
            // Another login upgraded the same hash first (two devices, a
            // double submit): still this password. A reset changes
            // `password_changed_at`, and then the old password is refused.
            let changed_at = user.password_changed_at;
            let current = state.db.primary(move |c| Ok(User::find(c, id)?)).await?;
            Ok(current.filter(|u| u.password_changed_at == changed_at && u.may_log_in(now)))
        }
    }
}

/// Where a login comes from.
pub struct LoginContext<'a> {
    pub remember: bool,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The session this browser had before, ended by the new one.
    pub replaces: Option<&'a SessionId>,
    pub lifetimes: Lifetimes,
}

/// Opens a session for a member who just proved who they are — unless the
/// password changed (a reset) or the account was disabled while the hash was
/// being checked, in which case `None`: the reset already ended every session
/// and this one must not start. A session this browser had before ends.
pub fn open_session(
    conn: &mut DbConnection,
    user: &User,
    login: &LoginContext<'_>,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<UserSession>> {
    transaction(conn, |c| {
        if !User::record_login_if_unchanged(c, user.id, user.password_hash.expose(), now)? {
            return Ok(None);
        }
        // A deletion in its grace period is undone by logging in.
        if User::restore(c, user.id, now)? {
            Profile::refresh_in_feed(c, user.id)?;
        }
        Profile::touch(c, user.id, now)?;
        if let Some(old) = login.replaces {
            sessions::revoke(c, old)?;
        }
        sessions::create(
            c,
            user.id,
            login.remember,
            login.ip,
            login.user_agent,
            now,
            login.lifetimes,
        )
        .map(Some)
    })
}

/// Who is logging in and from where.
pub struct LoginRequest {
    pub email: String,
    pub password: SecretString,
    pub remember: bool,
    pub ip: String,
    /// The client's rate-limit subject (its IP, or IPv6 /64).
    pub ip_bucket: String,
    pub user_agent: String,
    /// The session this browser is logged in with, if any.
    pub replaces: Option<SessionId>,
    /// The captcha challenge id and the answer typed, when the form had one.
    pub captcha: Option<(String, String)>,
}

/// How a login attempt ended.
pub enum LoginOutcome {
    LoggedIn(Box<(User, UserSession)>),
    /// Wrong password, unknown email, waiting after many failures or a
    /// disabled account: all alike, after the same time. `captcha` says
    /// whether the next attempt needs one.
    Refused {
        captcha: bool,
    },
    /// The form needs a captcha answered first (missing, or wrong: the
    /// challenge is used up either way).
    CaptchaNeeded(FieldCode),
    /// The password was right and the account has two-factor on: the
    /// session opens after the second step.
    SecondFactor(PendingLogin),
}

/// The whole login: rate limits, captcha, the failure counters, the
/// credentials, then a session that replaces this browser's previous one.
/// Each attempt is counted by outcome for the metrics.
pub async fn log_in(
    state: &AccountsState,
    request: LoginRequest,
) -> Result<LoginOutcome, AppError> {
    let result = attempt(state, request).await;
    let outcome = match &result {
        Ok(LoginOutcome::LoggedIn(_)) => "success",
        Ok(LoginOutcome::SecondFactor(_)) => "second_factor",
        Ok(LoginOutcome::Refused { .. }) => "refused",
        Ok(LoginOutcome::CaptchaNeeded(_)) => "captcha_needed",
        Err(AppError::TooSoon { .. }) => "rate_limited",
        Err(_) => "error",
    };
    crate::metrics::get()
        .logins
        .with_label_values(&[outcome])
        .inc();
    result
}

async fn attempt(state: &AccountsState, request: LoginRequest) -> Result<LoginOutcome, AppError> {
    let started = std::time::Instant::now();
    let counters = &state.counters;
    counters
        .enforce(&state.runtime, rules::LOGIN_PER_IP, &request.ip_bucket)
        .await?;
    counters
        .enforce(
            &state.runtime,
            rules::LOGIN_PER_EMAIL,
            &rules::email_subject(&request.email),
        )
        .await?;
    if !state.sessions.available().await {
        return Err(AppError::Unavailable);
    }
    let stance = defence::stance(
        &state.counters,
        &state.runtime,
        &request.email,
        &request.ip_bucket,
    )
    .await?;
    if stance.captcha {
        if let Err(code) = captcha::check(&state.counters, request.captcha.as_ref()).await {
            events::record_for_email(
                state,
                &request.email,
                AuthEvent::CaptchaShown,
                &request.ip,
                &request.user_agent,
            )
            .await;
            return Ok(LoginOutcome::CaptchaNeeded(code));
        }
    }
    let checked = check_credentials(state, &request.email, &request.password).await?;
    let Some(user) = checked.filter(|_| !stance.locked) else {
        let after = defence::record_failure(
            &state.counters,
            &state.runtime,
            &request.email,
            &request.ip_bucket,
        )
        .await?;
        events::record_for_email(
            state,
            &request.email,
            AuthEvent::LoginFailure,
            &request.ip,
            &request.user_agent,
        )
        .await;
        if after.lock_engaged {
            lock_engaged(state, &request).await?;
        }
        tokio::time::sleep(state.login_pacer.remaining(started)).await;
        return Ok(LoginOutcome::Refused {
            captcha: after.captcha,
        });
    };
    defence::record_success(&state.counters, &request.email).await;
    let client = (request.ip.as_str(), request.user_agent.as_str());
    proven(
        state,
        user,
        request.remember,
        client,
        request.replaces.clone(),
    )
    .await
}

/// A member proved who they are (a password, or a provider): a second step
/// when two-factor is on, else a session replacing this browser's previous
/// one. `Refused` if the account changed meanwhile (a reset).
pub async fn proven(
    state: &AccountsState,
    user: User,
    remember: bool,
    client: (&str, &str),
    replaces: Option<SessionId>,
) -> Result<LoginOutcome, AppError> {
    if user.has_second_factor() {
        return Ok(LoginOutcome::SecondFactor(PendingLogin {
            user: user.id,
            remember,
            password_changed_at: user.password_changed_at,
            until: state.clock.now().and_utc().timestamp() + two_factor::PENDING_SECS,
        }));
    }
    match open_for(state, &user, remember, client, replaces).await? {
        Some(r) => Ok(LoginOutcome::LoggedIn(Box::new((user, r)))),
        // The password changed while it was being checked.
        None => Ok(LoginOutcome::Refused { captcha: false }),
    }
}

/// Opens the session (recorded as a login); `None` when the account changed
/// meanwhile.
async fn open_for(
    state: &AccountsState,
    user: &User,
    remember: bool,
    client: (&str, &str),
    replaces: Option<SessionId>,
) -> Result<Option<UserSession>, AppError> {
    let (ip, user_agent) = client;
    let lifetimes = Lifetimes::from_settings(&state.settings.sessions);
    let now = state.clock.now();
    let for_session = user.clone();
    let (ip_owned, ua_owned) = (ip.to_string(), user_agent.to_string());
    let (record, replaced_owner) = state
        .db
        .primary(move |c| {
            // Whose session this browser had: perhaps another member's (a
            // shared computer), whose chat sockets must hear that it ended.
            let replaced_owner = match &replaces {
                Some(old) => sessions::owner_of(c, old)?,
                None => None,
            };
            let login = LoginContext {
                remember,
                ip: &ip_owned,
                user_agent: &ua_owned,
                replaces: replaces.as_ref(),
                lifetimes,
            };
            Ok((open_session(c, &for_session, &login, now)?, replaced_owner))
        })
        .await?;
    if record.is_some() {
        events::record(state, user.id, AuthEvent::LoginSuccess, ip, user_agent).await;
        if let Some(owner) = replaced_owner {
            state.hub.sessions_ended(owner).await;
        }
    }
    Ok(record)
}

/// How the second login step ended.
pub enum SecondStepOutcome {
    LoggedIn(Box<(User, UserSession)>),
    WrongCode,
    /// Too late, or the password changed meanwhile: start again.
    Expired,
}

/// The second login step: a TOTP or recovery code for a pending login.
pub async fn complete_second_factor(
    state: &AccountsState,
    pending: &PendingLogin,
    code: &str,
    client: (&str, &str),
    replaces: Option<SessionId>,
) -> Result<SecondStepOutcome, AppError> {
    let (ip, user_agent) = client;
    state
        .counters
        .enforce(
            &state.runtime,
            rules::SECOND_FACTOR_PER_ACCOUNT,
            &pending.user.to_string(),
        )
        .await?;
    let now = state.clock.now();
    let id = pending.user;
    let user = state.db.primary(move |c| Ok(User::find(c, id)?)).await?;
    let Some(user) = user.filter(|u| {
        u.may_log_in(now)
            && u.has_second_factor()
            && u.password_changed_at == pending.password_changed_at
            && now.and_utc().timestamp() <= pending.until
    }) else {
        return Ok(SecondStepOutcome::Expired);
    };
    if !two_factor::check_code(state, &user, code).await? {
        events::record(
            state,
            user.id,
            AuthEvent::SecondFactorFailure,
            ip,
            user_agent,
        )
        .await;
        return Ok(SecondStepOutcome::WrongCode);
    }
    events::record(
        state,
        user.id,
        AuthEvent::SecondFactorSuccess,
        ip,
        user_agent,
    )
    .await;
    match open_for(state, &user, pending.remember, client, replaces).await? {
        Some(r) => Ok(SecondStepOutcome::LoggedIn(Box::new((user, r)))),
        None => Ok(SecondStepOutcome::Expired),
    }
}

/// The wait engaged for the first time: recorded, and the owner (if the
/// email has an account) is mailed.
async fn lock_engaged(state: &AccountsState, request: &LoginRequest) -> Result<(), AppError> {
    let Ok(email) = Email::parse(&request.email) else {
        return Ok(());
    };
    let email = email.as_str().to_string();
    let now = state.clock.now();
    let user = state
        .jobs
        .write_and_wake(move |c| {
            let Some(user) = User::find_by_email(c, &email)? else {
                return Ok(None);
            };
            let lang = user.language.clone().unwrap_or_else(|| "en".to_string());
            mails::queue_notice(c, mails::Notice::Locked, user.id, &lang, now)?;
            Ok(Some(user.id))
        })
        .await?;
    if let Some(id) = user {
        events::record(
            state,
            id,
            AuthEvent::Locked,
            &request.ip,
            &request.user_agent,
        )
        .await;
        tracing::warn!(user_id = %id, "failed logins: escalating wait engaged");
    }
    Ok(())
}
