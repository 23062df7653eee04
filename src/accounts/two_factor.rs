//! Two-factor authentication (TOTP, RFC 6238) for members who want it and
//! for every staff account: enrolment with a QR code, confirmation with a
//! code, ten single-use recovery codes shown once, the second login step,
//! and turning it off (password and a code). Secrets are stored sealed.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::accounts::state::AccountsState;
use crate::auth::{two_factor as store, Principal, User, UserId};
use crate::db::types::SecretText;
use crate::error::{AppError, FieldCode, FieldErrors};
use crate::runtime::RuntimeSettings;
use crate::security::otp;
use crate::security::SecretString;

/// What the enrolment page shows.
pub struct Enrolment {
    /// The secret in base32, for typing into an app by hand.
    pub secret: String,
    pub qr_svg: String,
}

async fn load(state: &AccountsState, id: UserId) -> Result<User, AppError> {
    state
        .db
        .primary(move |c| Ok(User::find(c, id)?))
        .await?
        .ok_or(AppError::LoginRequired)
}

fn unix_now(state: &AccountsState) -> i64 {
    state.clock.now().and_utc().timestamp()
}

/// The pending secret (made now if there is none), as text and QR code.
pub async fn start_enrolment(state: &AccountsState, me: &Principal) -> Result<Enrolment, AppError> {
    let user = load(state, me.id).await?;
    let existing = user
        .totp_secret
        .as_ref()
        .map(SecretText::expose)
        .and_then(|s| state.keys.totp.open(s));
    let secret = match existing {
        Some(secret) => secret,
        None => {
            let secret = otp::generate_secret();
            let sealed = state.keys.totp.seal(&secret);
            let id = me.id;
            state
                .db
                .primary(move |c| Ok(store::set_pending(c, id, &sealed)?))
                .await?;
            secret
        }
    };
    let uri = otp::otpauth_uri(&secret, "Swiper", &user.email);
    Ok(Enrolment {
        secret: otp::base32_encode(&secret),
        qr_svg: otp::qr_svg(&uri).unwrap_or_default(),
    })
}

pub enum ConfirmOutcome {
    /// On: the recovery codes, to show once.
    Enabled(Vec<String>),
    WrongCode,
}

/// Turns 2FA on when `code` matches the pending secret.
pub async fn confirm(
    state: &AccountsState,
    me: &Principal,
    code: &str,
) -> Result<ConfirmOutcome, AppError> {
    let user = load(state, me.id).await?;
    if user.has_second_factor() {
        return Ok(ConfirmOutcome::WrongCode);
    }
    let Some(secret) = user
        .totp_secret
        .as_ref()
        .map(SecretText::expose)
        .and_then(|s| state.keys.totp.open(s))
    else {
        return Ok(ConfirmOutcome::WrongCode);
    };
    let Some(step) = otp::verify(&secret, code, unix_now(state), None) else {
        return Ok(ConfirmOutcome::WrongCode);
    };
    let codes = otp::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| otp::hash_recovery_code(&otp::normalize_recovery_code(c)))
        .collect();
    let (id, now) = (me.id, state.clock.now());
    let enabled = state
        .db
        .write(move |c| Ok(store::enable(c, id, step, &hashes, now)?))
        .await?;
    Ok(if enabled {
        ConfirmOutcome::Enabled(codes)
    } else {
        ConfirmOutcome::WrongCode
    })
}

/// Checks a second-factor code for `user`: a TOTP code (each accepted once,
/// ±1 step) or an unused recovery code (used up).
pub async fn check_code(state: &AccountsState, user: &User, code: &str) -> Result<bool, AppError> {
    let id = user.id;
    if let Some(secret) = user
        .totp_secret
        .as_ref()
        .map(SecretText::expose)
        .and_then(|s| state.keys.totp.open(s))
    {
        if let Some(step) = otp::verify(&secret, code, unix_now(state), user.totp_last_step) {
            return state
                .db
                .primary(move |c| Ok(store::use_step(c, id, step)?))
                .await;
        }
    }
    let normalized = otp::normalize_recovery_code(code);
    if normalized.len() != 10 {
        return Ok(false);
    }
    let hash = otp::hash_recovery_code(&normalized);
    let now = state.clock.now();
    state
        .db
        .primary(move |c| Ok(store::use_recovery_code(c, id, &hash, now)?))
        .await
}

/// Turns 2FA off, after the password and a current code.
pub async fn disable(
    state: &AccountsState,
    me: &Principal,
    password: &SecretString,
    code: &str,
    caller: &super::reentry::Caller,
) -> Result<Result<(), FieldErrors>, AppError> {
    let user = load(state, me.id).await?;
    let guards = super::reentry::Guards::of(state);
    if !super::reentry::check(&guards, caller, &user, password).await? {
        return Ok(Err(FieldErrors::one("password", FieldCode::WrongPassword)));
    }
    if !user.has_second_factor() || !check_code(state, &user, code).await? {
        return Ok(Err(FieldErrors::one("code", FieldCode::InvalidCode)));
    }
    let id = me.id;
    state.db.write(move |c| Ok(store::disable(c, id)?)).await?;
    Ok(Ok(()))
}

/// A login waiting for its second step, kept in the (new) session: the
/// password was right, the session is not open yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub user: UserId,
    pub remember: bool,
    /// The password the first step checked (a reset meanwhile voids it).
    pub password_changed_at: chrono::NaiveDateTime,
    /// Unix time after which the first step must be done again.
    pub until: i64,
}

/// How long the second step may take.
pub const PENDING_SECS: i64 = 300;

/// Whether a staff member must enrol before the admin console is shown:
/// staff without a second factor. The admin console's guard calls this for
/// anyone holding a role.
pub fn staff_must_enrol(me: &Principal) -> bool {
    !me.second_factor
}

/// Whether a staff member's password is older than the rotation period (the
/// guard asks only for staff)
/// (`staff_password_max_age_days`; 0, the default, never).
pub async fn staff_password_expired(
    runtime: &RuntimeSettings,
    now: NaiveDateTime,
    me: &Principal,
) -> Result<bool, AppError> {
    let days = runtime
        .get(crate::runtime::STAFF_PASSWORD_MAX_AGE_DAYS)
        .await?;
    Ok(days > 0 && now - me.password_changed_at > chrono::TimeDelta::days(days))
}
