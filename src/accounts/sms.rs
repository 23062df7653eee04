//! One-time codes by text message: six digits, valid five minutes, kept
//! in Redis (in process without it) as an HMAC under a key derived from
//! `SECRET_KEY`, used once, five tries at most. At most one code a minute
//! per number (and ten a day), the per-IP login limit and a site-wide daily
//! bound on texts; the answer never says whether the number has an account
//! (a number without one gets its code too: its first login makes the
//! account, which gives nickname, sex and birthday before it can swipe; a
//! banned member's number costs the same work, a code stored and a job
//! queued that sends nothing). The message goes out through a job
//! (`sms.send`) whose payload (number and text) is sealed under
//! `SECRET_KEY`, so the queue holds neither a usable code nor a number.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::banned;
use super::phone::Phone;
use super::signup;
use super::state::AccountsState;
use super::{captcha, defence};
use crate::auth::User;
use crate::error::{AppError, FieldCode};
use crate::i18n::Tr;
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::limits::{rules, Decision, Limit};
use crate::security::random;

pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_TRIES: u64 = 5;
pub const SEND: &str = "sms.send";

const PER_NUMBER_MINUTE: Limit = Limit {
    name: "sms-number",
    max: 1,
    window: Duration::from_secs(60),
};
const PER_NUMBER_DAY: Limit = Limit {
    name: "sms-number-day",
    max: 10,
    window: Duration::from_secs(24 * 3600),
};
/// Texts the whole site sends in a day at most: a bound on what abuse of
/// the sign-in and add-a-number forms can cost.
const SITE_DAY: Limit = Limit {
    name: "sms-site-day",
    max: 5_000,
    window: Duration::from_secs(24 * 3600),
};

/// What a code is for: logging in, or proving a number a member adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Login,
    AddPhone(crate::auth::UserId),
    /// Deleting the account of a phone (it has no password).
    Delete(crate::auth::UserId),
}

impl Purpose {
    fn key(self, phone: &Phone) -> String {
        match self {
            Self::Login => format!("login:{}", phone.subject()),
            Self::AddPhone(id) => format!("add:{id}:{}", phone.subject()),
            Self::Delete(id) => format!("delete:{id}:{}", phone.subject()),
        }
    }
}

fn code_hash(state: &AccountsState, key: &str, code: &str) -> String {
    let tag = ring::hmac::sign(&state.keys.sms_code, format!("{key}:{code}").as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Six random digits.
fn new_code() -> String {
    let bytes = random::bytes(4);
    let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) % 1_000_000;
    format!("{n:06}")
}

/// A text to send: sealed in the job's payload (`None`: nothing to send,
/// the job of a number without an account).
#[derive(Serialize, Deserialize)]
struct Text {
    to: Option<String>,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct Outgoing {
    sealed: String,
}

/// Counts a request for a code to `phone`: refused with 429 and
/// `Retry-After` within a minute of the last one (or past ten a day, or
/// past the per-IP login limit). Charged whether or not a code is sent, so
/// the answers never tell a number with an account from one without.
async fn charge(state: &AccountsState, phone: &Phone, ip_bucket: &str) -> Result<(), AppError> {
    let counters = &state.counters;
    counters
        .enforce(&state.runtime, rules::LOGIN_PER_IP, ip_bucket)
        .await?;
    for (limit, subject) in [
        (PER_NUMBER_MINUTE, phone.subject()),
        (PER_NUMBER_DAY, phone.subject()),
        (SITE_DAY, "all".to_string()),
    ] {
        if let Decision::Limited { retry_after_secs } = counters.charge(limit, &subject).await {
            return Err(AppError::TooSoon { retry_after_secs });
        }
    }
    Ok(())
}

/// Charges the limits, then sends a fresh code to `phone` (the previous
/// one stops working). With `deliver` false (a number without an account)
/// the same work is done and nothing is sent.
pub async fn send_code(
    state: &AccountsState,
    phone: &Phone,
    purpose: Purpose,
    ip_bucket: &str,
    lang: &str,
    deliver: bool,
) -> Result<(), AppError> {
    if !state.settings.sms_available() {
        return Err(AppError::NotFound);
    }
    charge(state, phone, ip_bucket).await?;
    let counters = &state.counters;
    let key = purpose.key(phone);
    let code = new_code();
    counters
        .put(
            &format!("sms-code:{key}"),
            &code_hash(state, &key, &code),
            CODE_TTL,
        )
        .await;
    counters.clear(&format!("sms-tries:{key}")).await;
    let text = Text {
        to: deliver.then(|| phone.as_str().to_string()),
        text: Tr::new(lang).tf("sms.code", &[("code", &code), ("minutes", "5")]),
    };
    let sealed = serde_json::to_vec(&text).map_err(|e| AppError::internal("sms", e))?;
    let payload = Outgoing {
        sealed: state.keys.sms.seal(&sealed),
    };
    let now = state.clock.now();
    state
        .jobs
        .write_and_wake(move |c| Ok(enqueue(c, NewJob::new(SEND, &payload, now)?).map(|_| ())?))
        .await?;
    if deliver {
        tracing::info!(phone = %phone.masked(), "sign-in code queued");
    }
    Ok(())
}

/// Whether `code` is the live code for `phone`: used up when right, dead
/// after [`MAX_TRIES`] wrong tries.
pub async fn check_code(
    state: &AccountsState,
    phone: &Phone,
    purpose: Purpose,
    code: &str,
) -> bool {
    let counters = &state.counters;
    let key = purpose.key(phone);
    let (code_key, tries_key) = (format!("sms-code:{key}"), format!("sms-tries:{key}"));
    let tries = counters.hit(&tries_key, CODE_TTL, MAX_TRIES + 1).await;
    if tries.count > MAX_TRIES {
        counters.take(&code_key).await;
        return false;
    }
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(stored) = counters.get(&code_key).await else {
        return false;
    };
    if !random::constant_time_eq(stored.as_bytes(), code_hash(state, &key, code).as_bytes()) {
        return false;
    }
    // Single use, on every instance: only one taker finds it.
    let used = counters.take(&code_key).await.is_some();
    counters.clear(&tries_key).await;
    used
}

/// A login code asked for `phone`: sent to a number no account has (its
/// first login makes one) or an active member's (in their language, else
/// `lang`); a banned member's number gets the same work and no text, so
/// the answer tells nothing.
pub async fn request_login_code(
    state: &AccountsState,
    phone: &Phone,
    ip_bucket: &str,
    lang: &str,
) -> Result<(), AppError> {
    let holder = holder_of(state, phone).await?;
    let lang = holder
        .as_ref()
        .and_then(|u| u.language.clone())
        .unwrap_or_else(|| lang.to_string());
    let now = state.clock.now();
    let deliver = holder.as_ref().is_none_or(|u| u.may_log_in(now));
    send_code(state, phone, Purpose::Login, ip_bucket, &lang, deliver).await
}

/// How a code login ended.
pub enum CodeLogin {
    LoggedIn(Box<User>),
    /// A wrong, used or expired code, or a banned member's number (all
    /// alike); `captcha`: the next try needs one.
    Refused {
        captcha: bool,
    },
    /// A captcha must be answered first (missing, or wrong).
    CaptchaNeeded(FieldCode),
}

/// A code login, with the password login's defence: failures counted per
/// number and per address, a captcha past the same thresholds, the same
/// waits. A code is tried only once the captcha (when due) is answered.
pub struct CodeAttempt<'a> {
    pub phone: &'a Phone,
    pub code: &'a str,
    /// The language of a new account.
    pub lang: &'a str,
    pub ip_bucket: &'a str,
    pub captcha: Option<(String, String)>,
}

/// The member the attempt's code logs in, if it is the live login code of
/// its number (used up by this check): the active account with the number,
/// or a new one made for a number seen for the first time (in `lang`,
/// pending until nickname, sex and birthday are given).
pub async fn login_member(
    state: &AccountsState,
    attempt: CodeAttempt<'_>,
) -> Result<CodeLogin, AppError> {
    let CodeAttempt {
        phone, ip_bucket, ..
    } = attempt;
    // The defence counts the number as it counts an email.
    let subject = phone.defence_subject();
    let stance = defence::stance(&state.counters, &state.runtime, &subject, ip_bucket).await?;
    if stance.captcha {
        if let Err(code) = captcha::check(&state.counters, attempt.captcha.as_ref()).await {
            return Ok(CodeLogin::CaptchaNeeded(code));
        }
    }
    let user = if !stance.locked && check_code(state, phone, Purpose::Login, attempt.code).await {
        member_for(state, phone, attempt.lang).await?
    } else {
        None
    };
    let Some(user) = user else {
        let after =
            defence::record_failure(&state.counters, &state.runtime, &subject, ip_bucket).await?;
        return Ok(CodeLogin::Refused {
            captcha: after.captcha,
        });
    };
    defence::record_success(&state.counters, &subject).await;
    Ok(CodeLogin::LoggedIn(Box::new(user)))
}

/// Whether the next code try for `phone` from `ip_bucket` needs a captcha.
pub async fn needs_captcha(
    state: &AccountsState,
    phone: &Phone,
    ip_bucket: &str,
) -> Result<bool, AppError> {
    let subject = phone.defence_subject();
    Ok(
        defence::stance(&state.counters, &state.runtime, &subject, ip_bucket)
            .await?
            .captcha,
    )
}

/// The active account with `phone`, or a new one when none has it (`None`
/// for a banned member's number).
async fn member_for(
    state: &AccountsState,
    phone: &Phone,
    lang: &str,
) -> Result<Option<User>, AppError> {
    let now = state.clock.now();
    if let Some(user) = holder_of(state, phone).await? {
        return Ok(user.may_log_in(now).then_some(user));
    }
    let number = phone.as_str().to_string();
    let keys = state.keys.clone();
    let banned = state
        .db
        .primary(move |c| Ok(banned::is_banned_contact(c, &keys, &number, now)?))
        .await?;
    if banned {
        // A banned account that was deleted had this number.
        return Ok(None);
    }
    let (_, hash) = signup::unusable_password(state).await?;
    let (number, lang) = (phone.as_str().to_string(), lang.to_string());
    let user = state
        .db
        .write(move |c| Ok(signup::create_phone_account(c, &number, &hash, &lang, now)?))
        .await?;
    tracing::info!(user = %user.id, phone = %phone.masked(), "account made by a first phone login");
    Ok(user.is_active.then_some(user))
}

/// The account that has `phone`, banned or not.
async fn holder_of(state: &AccountsState, phone: &Phone) -> Result<Option<User>, AppError> {
    let number = phone.as_str().to_string();
    state
        .db
        .primary(move |c| Ok(User::find_by_phone(c, &number)?))
        .await
}

async fn send(ctx: JobContext, payload: String) -> Result<(), JobError> {
    let Outgoing { sealed } = serde_json::from_str(&payload)?;
    let keys = crate::security::keys::Keys::from_secret(ctx.settings.secret_key.expose());
    // Sealed under another key (SECRET_KEY changed): nothing to send.
    let Some(Text { to: Some(to), text }) = keys
        .sms
        .open(&sealed)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    else {
        return Ok(());
    };
    crate::sms::SmsSender::from_settings(&ctx.settings)
        .send(&to, &text)
        .await
        .map_err(|e| JobError(e.to_string()))
}

pub fn register(r: &mut Registry) {
    r.register(SEND, send);
}
