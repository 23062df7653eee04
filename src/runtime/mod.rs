//! Runtime settings: limits staff change without a restart (the daily rewind
//! and superlike limits; the admin console adds more). Each is declared once
//! in [`TUNABLES`] with its default and bounds, stored in `runtime_settings`
//! when changed, and read through a short per-process cache: a change made
//! on one instance is in force on every instance within [`CACHE_TTL`].

mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::Db;
use crate::error::AppError;

/// How long a value read from the database is trusted.
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// A setting: its key (also the admin form's field name), default and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunable {
    pub key: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

const fn tunable(key: &'static str, default: i64, min: i64, max: i64) -> Tunable {
    Tunable {
        key,
        default,
        min,
        max,
    }
}

pub const REWIND_DAILY_LIMIT: Tunable = tunable("rewind_daily_limit", 3, 0, 1000);
pub const SUPERLIKE_DAILY_LIMIT: Tunable = tunable("superlike_daily_limit", 1, 0, 1000);
/// Failed logins for one email within 15 minutes before the form asks for a captcha.
pub const CAPTCHA_AFTER_FAILURES: Tunable = tunable("captcha_after_failures", 3, 1, 100);
/// Failed logins from one IP (or IPv6 /64) within 15 minutes before every
/// login from it needs a captcha.
pub const CAPTCHA_AFTER_IP_FAILURES: Tunable = tunable("captcha_after_ip_failures", 10, 1, 1000);
/// Failed logins for one email within a day after which each further
/// attempt waits longer (30 s, doubling, at most 15 minutes).
pub const LOCK_AFTER_FAILURES: Tunable = tunable("lock_after_failures", 10, 3, 1000);
/// Password policy: shortest and longest accepted password, in characters.
pub const PASSWORD_MIN_LENGTH: Tunable = tunable("password_min_length", 10, 10, 128);
pub const PASSWORD_MAX_LENGTH: Tunable = tunable("password_max_length", 128, 64, 1024);
/// Staff who have not logged in for this many days lose their roles (0: never).
pub const STAFF_IDLE_DAYS: Tunable = tunable("staff_idle_days", 90, 0, 3650);
/// Staff must choose a new password after this many days (0: never).
pub const STAFF_PASSWORD_MAX_AGE_DAYS: Tunable = tunable("staff_password_max_age_days", 0, 0, 3650);

/// Rate limits: at most this many requests per window (see `limits::rules`); 0 turns one off.
const fn rate(key: &'static str, default: i64) -> Tunable {
    tunable(key, default, 0, 1_000_000)
}
pub const RATE_LOGIN_PER_IP: Tunable = rate("rate_login_per_ip", 30);
pub const RATE_LOGIN_PER_EMAIL: Tunable = rate("rate_login_per_email", 20);
pub const RATE_SIGNUP_PER_IP: Tunable = rate("rate_signup_per_ip", 20);
pub const RATE_SIGNUP_PER_EMAIL: Tunable = rate("rate_signup_per_email", 3);
pub const RATE_RESET_PER_IP: Tunable = rate("rate_reset_per_ip", 20);
pub const RATE_RESET_PER_EMAIL: Tunable = rate("rate_reset_per_email", 5);
pub const RATE_RESEND_PER_IP: Tunable = rate("rate_resend_per_ip", 20);
pub const RATE_RESEND_PER_ACCOUNT: Tunable = rate("rate_resend_per_account", 5);
pub const RATE_SECOND_FACTOR_PER_ACCOUNT: Tunable = rate("rate_second_factor_per_account", 10);
pub const RATE_CAPTCHA_PER_IP: Tunable = rate("rate_captcha_per_ip", 60);
pub const RATE_POSTS_PER_IP: Tunable = rate("rate_posts_per_ip", 300);
pub const RATE_MESSAGES_PER_MEMBER: Tunable = rate("rate_messages_per_member", 60);
/// Read markers one member sends a minute (each is a write and a publish).
pub const RATE_READS_PER_MEMBER: Tunable = rate("rate_reads_per_member", 120);

/// Every runtime setting; adding one is adding a line here.
pub const TUNABLES: &[Tunable] = &[
    REWIND_DAILY_LIMIT,
    SUPERLIKE_DAILY_LIMIT,
    CAPTCHA_AFTER_FAILURES,
    CAPTCHA_AFTER_IP_FAILURES,
    LOCK_AFTER_FAILURES,
    PASSWORD_MIN_LENGTH,
    PASSWORD_MAX_LENGTH,
    STAFF_PASSWORD_MAX_AGE_DAYS,
    STAFF_IDLE_DAYS,
    RATE_LOGIN_PER_IP,
    RATE_LOGIN_PER_EMAIL,
    RATE_SIGNUP_PER_IP,
    RATE_SIGNUP_PER_EMAIL,
    RATE_RESET_PER_IP,
    RATE_RESET_PER_EMAIL,
    RATE_RESEND_PER_IP,
    RATE_RESEND_PER_ACCOUNT,
    RATE_SECOND_FACTOR_PER_ACCOUNT,
    RATE_CAPTCHA_PER_IP,
    RATE_POSTS_PER_IP,
    RATE_MESSAGES_PER_MEMBER,
    RATE_READS_PER_MEMBER,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting")]
    Unknown,
    #[error("out of range")]
    OutOfRange,
}

type Cache = Option<(Instant, HashMap<String, String>)>;

#[derive(Clone)]
pub struct RuntimeSettings {
    db: Db,
    cache: Arc<Mutex<Cache>>,
}

impl RuntimeSettings {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Arc::new(Mutex::new(None)),
        }
    }

    fn cached(&self) -> Option<HashMap<String, String>> {
        let guard = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        match &*guard {
            Some((at, values)) if at.elapsed() < CACHE_TTL => Some(values.clone()),
            _ => None,
        }
    }

    /// The current value: stored, else the default; a stored value out of
    /// bounds (edited by hand) is clamped.
    pub async fn get(&self, t: Tunable) -> Result<i64, AppError> {
        let values = match self.cached() {
            Some(v) => v,
            None => {
                let v = self.db.primary(|c| Ok(store::all(c)?)).await?;
                *self.cache.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), v.clone()));
                v
            }
        };
        Ok(values
            .get(t.key)
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(t.default, |v| v.clamp(t.min, t.max)))
    }

    /// The setting `key` with `value` checked against its bounds.
    pub fn validate(key: &str, value: i64) -> Result<Tunable, SettingError> {
        let t = TUNABLES
            .iter()
            .find(|t| t.key == key)
            .copied()
            .ok_or(SettingError::Unknown)?;
        if (t.min..=t.max).contains(&value) {
            Ok(t)
        } else {
            Err(SettingError::OutOfRange)
        }
    }

    /// Writes a validated value inside the caller's transaction (the admin
    /// console audits the change in the same one); [`Self::invalidate`] after.
    pub fn put(
        c: &mut crate::db::DbConnection,
        t: Tunable,
        value: i64,
        now: NaiveDateTime,
    ) -> diesel::QueryResult<()> {
        store::put(c, t.key, &value.to_string(), now)
    }

    /// Forgets this process's cached values (other instances follow within [`CACHE_TTL`]).
    pub fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Changes a setting for every instance (in force everywhere within [`CACHE_TTL`]).
    pub async fn set(
        &self,
        key: &str,
        value: i64,
        now: NaiveDateTime,
    ) -> Result<Result<(), SettingError>, AppError> {
        let Some(t) = TUNABLES.iter().find(|t| t.key == key).copied() else {
            return Ok(Err(SettingError::Unknown));
        };
        if !(t.min..=t.max).contains(&value) {
            return Ok(Err(SettingError::OutOfRange));
        }
        self.db
            .write(move |c| Ok(store::put(c, t.key, &value.to_string(), now)?))
            .await?;
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(Ok(()))
    }
}
