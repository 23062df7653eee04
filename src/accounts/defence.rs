//! Brute-force defence for logins, after django-axes and Keycloak: failures
//! are counted per email and per client IP (an IPv6 /64) in sliding windows
//! shared by every instance. After `captcha_after_failures` for an email or
//! `captcha_after_ip_failures` from an IP within 15 minutes the form needs a
//! captcha; beyond `lock_after_failures` for an email within a day each
//! further attempt must wait longer (30 s, doubling, at most 15 minutes) —
//! never a permanent lock. A success clears the email's counters; a
//! completed password reset lifts the wait. Emails are counted whether or
//! not they are registered, so the answers never tell which are.

use std::time::Duration;

use crate::limits::rules::email_subject;
use crate::limits::Counters;
use crate::runtime::{self, RuntimeSettings};

const CAPTCHA_WINDOW: Duration = Duration::from_secs(15 * 60);
const LOCK_WINDOW: Duration = Duration::from_secs(24 * 3600);
const FIRST_WAIT_SECS: u64 = 30;
const MAX_WAIT_SECS: u64 = 15 * 60;
/// More failures than any setting can ask for are not counted.
const CAP: u64 = 10_000;

fn email_key(kind: &str, email: &str) -> String {
    format!("login-{kind}:{}", email_subject(email))
}

fn ip_key(ip_bucket: &str) -> String {
    format!("login-fail-ip:{ip_bucket}")
}

/// The wait after the `n`-th failure, when `n` is beyond the threshold.
pub fn wait_after(failures: u64, threshold: u64) -> Option<Duration> {
    let beyond = failures.checked_sub(threshold).filter(|b| *b > 0)?;
    let doublings = u32::try_from(beyond - 1).unwrap_or(u32::MAX).min(16);
    let secs = FIRST_WAIT_SECS
        .saturating_mul(1u64 << doublings)
        .min(MAX_WAIT_SECS);
    Some(Duration::from_secs(secs))
}

/// What a login attempt faces before its credentials are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stance {
    pub captcha: bool,
    pub locked: bool,
}

fn threshold(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Whether these counts call for a captcha (the thresholds in force).
async fn needs_captcha(
    runtime: &RuntimeSettings,
    email_failures: u64,
    ip_failures: u64,
) -> Result<bool, crate::error::AppError> {
    let per_email = threshold(runtime.get(runtime::CAPTCHA_AFTER_FAILURES).await?);
    let per_ip = threshold(runtime.get(runtime::CAPTCHA_AFTER_IP_FAILURES).await?);
    Ok(email_failures >= per_email || ip_failures >= per_ip)
}

pub async fn stance(
    c: &Counters,
    runtime: &RuntimeSettings,
    email: &str,
    ip_bucket: &str,
) -> Result<Stance, crate::error::AppError> {
    let email_failures = c
        .count(&email_key("fail", email), CAPTCHA_WINDOW)
        .await
        .count;
    let ip_failures = c.count(&ip_key(ip_bucket), CAPTCHA_WINDOW).await.count;
    let locked = locked(c, email).await;
    Ok(Stance {
        captcha: needs_captcha(runtime, email_failures, ip_failures).await?,
        locked,
    })
}

/// Whether the email's wait is on (too many failures in a day).
pub async fn locked(c: &Counters, email: &str) -> bool {
    c.get(&email_key("lock", email)).await.is_some()
}

/// The wait a locked email is told to observe (its first step; the lock
/// itself may end sooner or later).
pub const RETRY_AFTER_SECS: u64 = FIRST_WAIT_SECS;

/// What a failure changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    pub captcha: bool,
    /// The wait engaged for the first time (the owner is mailed).
    pub lock_engaged: bool,
}

/// Counts a failed attempt and engages the wait when due.
pub async fn record_failure(
    c: &Counters,
    runtime: &RuntimeSettings,
    email: &str,
    ip_bucket: &str,
) -> Result<AfterFailure, crate::error::AppError> {
    let email_failures = c
        .hit(&email_key("fail", email), CAPTCHA_WINDOW, CAP)
        .await
        .count;
    let ip_failures = c.hit(&ip_key(ip_bucket), CAPTCHA_WINDOW, CAP).await.count;
    let day = c
        .hit(&email_key("day", email), LOCK_WINDOW, CAP)
        .await
        .count;
    let lock_after = threshold(runtime.get(runtime::LOCK_AFTER_FAILURES).await?);
    let mut lock_engaged = false;
    if let Some(wait) = wait_after(day, lock_after) {
        c.put(&email_key("lock", email), "1", wait).await;
        lock_engaged = day == lock_after + 1;
    }
    Ok(AfterFailure {
        captcha: needs_captcha(runtime, email_failures, ip_failures).await?,
        lock_engaged,
    })
}

/// A successful login: the email's counters start again (the IP's do not).
pub async fn record_success(c: &Counters, email: &str) {
    lift(c, email).await;
}

/// Forgets an email's failures and its wait (a completed password reset).
pub async fn lift(c: &Counters, email: &str) {
    for kind in ["fail", "day", "lock"] {
        c.clear(&email_key(kind, email)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_escalates_and_is_capped() {
        assert_eq!(wait_after(10, 10), None);
        assert_eq!(wait_after(11, 10), Some(Duration::from_secs(30)));
        assert_eq!(wait_after(12, 10), Some(Duration::from_secs(60)));
        assert_eq!(wait_after(13, 10), Some(Duration::from_secs(120)));
        assert_eq!(wait_after(20, 10), Some(Duration::from_secs(900)));
        assert_eq!(wait_after(10_000, 10), Some(Duration::from_secs(900)));
    }
}
