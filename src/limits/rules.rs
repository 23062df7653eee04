//! The rate limits: which requests are counted, per what, over which window.
//! The maximum of each is a runtime setting (staff change it without a
//! restart); the windows are fixed here.

use std::time::Duration;

use super::{Counters, Decision, Limit};
use crate::error::AppError;
use crate::runtime::{self, RuntimeSettings, Tunable};

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub max: Tunable,
    pub window: Duration,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

const fn rule(name: &'static str, max: Tunable, window: Duration) -> Rule {
    Rule { name, max, window }
}

const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);

pub const LOGIN_PER_IP: Rule = rule("login-ip", runtime::RATE_LOGIN_PER_IP, FIVE_MINUTES);
pub const LOGIN_PER_EMAIL: Rule = rule("login-email", runtime::RATE_LOGIN_PER_EMAIL, FIVE_MINUTES);
pub const SIGNUP_PER_IP: Rule = rule("signup-ip", runtime::RATE_SIGNUP_PER_IP, HOUR);
pub const SIGNUP_PER_EMAIL: Rule = rule("signup-email", runtime::RATE_SIGNUP_PER_EMAIL, HOUR);
pub const RESET_PER_IP: Rule = rule("reset-ip", runtime::RATE_RESET_PER_IP, HOUR);
pub const RESET_PER_EMAIL: Rule = rule("reset-email", runtime::RATE_RESET_PER_EMAIL, HOUR);
pub const RESEND_PER_IP: Rule = rule("resend-ip", runtime::RATE_RESEND_PER_IP, HOUR);
pub const RESEND_PER_ACCOUNT: Rule = rule("resend-account", runtime::RATE_RESEND_PER_ACCOUNT, HOUR);
pub const SECOND_FACTOR_PER_ACCOUNT: Rule = rule(
    "2fa-account",
    runtime::RATE_SECOND_FACTOR_PER_ACCOUNT,
    Duration::from_secs(15 * 60),
);
pub const CAPTCHA_PER_IP: Rule = rule(
    "captcha-ip",
    runtime::RATE_CAPTCHA_PER_IP,
    Duration::from_secs(10 * 60),
);
/// Every state-changing request from one IP.
pub const POSTS_PER_IP: Rule = rule("posts-ip", runtime::RATE_POSTS_PER_IP, MINUTE);

/// Chat messages one member sends (WebSocket and form alike).
pub const MESSAGES_PER_MEMBER: Rule =
    rule("messages-member", runtime::RATE_MESSAGES_PER_MEMBER, MINUTE);

/// Chat read markers one member sends (each is a database write and a
/// publish to both members' sockets).
pub const READS_PER_MEMBER: Rule = rule("reads-member", runtime::RATE_READS_PER_MEMBER, MINUTE);

/// A counter key for an email that does not put the address itself in Redis.
pub fn email_subject(email: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        email.trim().to_lowercase().as_bytes(),
    );
    digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Counters {
    /// Charges `rule` for `subject`: `TooSoon` (429 with `Retry-After`)
    /// once its maximum is reached within its window.
    pub async fn enforce(
        &self,
        runtime: &RuntimeSettings,
        rule: Rule,
        subject: &str,
    ) -> Result<(), AppError> {
        let max = u64::try_from(runtime.get(rule.max).await?).unwrap_or(0);
        let limit = Limit {
            name: rule.name,
            max,
            window: rule.window,
        };
        match self.charge(limit, subject).await {
            Decision::Allowed => Ok(()),
            Decision::Limited { retry_after_secs } => {
                tracing::info!(rule = rule.name, "rate limit reached");
                crate::metrics::get()
                    .rate_limited
                    .with_label_values(&[rule.name])
                    .inc();
                Err(AppError::TooSoon { retry_after_secs })
            }
        }
    }
}
