//! Periodic jobs on cron schedules. Every worker computes the same fire times
//! and enqueues each with a unique key (`periodic:<name>:<time>`), so a run
//! happens once however many workers there are.

use std::str::FromStr;

use chrono::{NaiveDateTime, TimeZone, Utc};
use cron::Schedule;

use super::queue::{enqueue, NewJob};
use super::registry::{JobContext, JobError, Registry};
use crate::db::{self, Pool};
use crate::error::AppError;

/// (job kind, cron expression with seconds).
pub const PERIODIC: &[(&str, &str)] = &[("maintenance.purge_expired", "0 */10 * * * *")];

pub struct Scheduler {
    last: NaiveDateTime,
}

impl Scheduler {
    pub fn new(start: NaiveDateTime) -> Self {
        Self { last: start }
    }

    /// Enqueues the runs that fell due since the previous call.
    pub async fn enqueue_due(&mut self, pool: &Pool) -> Result<(), AppError> {
        let now = db::now();
        let due = due_between(self.last, now);
        self.last = now;
        if due.is_empty() {
            return Ok(());
        }
        db::run(pool, move |c| {
            for (kind, at) in due {
                let key = format!("periodic:{kind}:{}", at.format("%Y-%m-%dT%H:%M:%S"));
                enqueue(
                    c,
                    NewJob::new(kind, &serde_json::json!({}))?
                        .unique_key(key)
                        .max_attempts(3),
                )?;
            }
            Ok(())
        })
        .await
    }
}

/// The (kind, fire time) pairs in `(from, to]`.
pub fn due_between(from: NaiveDateTime, to: NaiveDateTime) -> Vec<(&'static str, NaiveDateTime)> {
    let mut out = Vec::new();
    for (kind, expr) in PERIODIC {
        let Ok(schedule) = Schedule::from_str(expr) else {
            tracing::error!(kind, expr, "invalid cron expression");
            continue;
        };
        for at in schedule.after(&Utc.from_utc_datetime(&from)).take(100) {
            let at = at.naive_utc();
            if at > to {
                break;
            }
            out.push((*kind, at));
        }
    }
    out
}

pub fn register(r: &mut Registry) {
    r.register(
        "maintenance.purge_expired",
        |ctx: JobContext, _payload| async move {
            db::run(&ctx.pool, move |c| {
                let now = db::now();
                let tokens = crate::accounts::tokens::purge_expired(c, now)?;
                let sessions = crate::accounts::sessions::purge_expired(
                    c,
                    now,
                    ctx.settings.session_idle_timeout,
                )?;
                let jobs = super::queue::purge_done(c, now - chrono::TimeDelta::days(7))?;
                let buried = super::queue::bury_abandoned(c, now)?;
                tracing::info!(tokens, sessions, jobs, buried, "purged expired rows");
                Ok(())
            })
            .await
            .map_err(|e| JobError(e.to_string()))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_periodic_expression_parses() {
        for (_, expr) in PERIODIC {
            assert!(Schedule::from_str(expr).is_ok(), "{expr}");
        }
    }

    #[test]
    fn fire_times_in_a_window_are_listed_once() {
        let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 5, 0))
            .unwrap_or_default();
        let to = from + chrono::TimeDelta::minutes(30);
        let due = due_between(from, to);
        assert_eq!(due.len(), 3, "{due:?}");
        assert!(due_between(to, to).is_empty());
    }
}
