//! Job kinds and their handlers. Features declare the kinds they own and a
//! `register` function; the composition root (`startup`) puts them together,
//! so this module knows no feature.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{NaiveDateTime, TimeZone, Utc};
use cron::Schedule;
use futures_util::future::BoxFuture;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::types::UserId;
use crate::db::Db;
use crate::mail::Mailer;
use crate::storage::MediaStore;

/// What a handler may use.
#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub mailer: Mailer,
    pub media: MediaStore,
    pub clock: Clock,
    pub members_changed: MembersChanged,
}

/// Tells the web processes that members changed, so what they keep of
/// them (cached principals: the navigation avatar a photo job sets) goes.
/// The chat hub's `members_changed` where there is one; nothing otherwise.
#[derive(Clone)]
pub struct MembersChanged(Arc<dyn Fn(Vec<UserId>) + Send + Sync>);

impl MembersChanged {
    pub fn new(tell: impl Fn(Vec<UserId>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(tell))
    }

    /// Tells nobody (tests of a handler alone).
    pub fn nobody() -> Self {
        Self::new(|_| {})
    }

    pub fn tell(&self, members: Vec<UserId>) {
        (self.0)(members);
    }
}

/// A failed attempt; the message is stored on the job (never secrets).
#[derive(Debug)]
pub struct JobError(pub String);

impl<E: std::fmt::Display> From<E> for JobError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

pub type Handler =
    Arc<dyn Fn(JobContext, String) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
    /// (kind, cron schedule with seconds) of the periodic jobs.
    periodic: Vec<(String, Schedule)>,
    /// Periodic kinds that also run when workers start (once a day however
    /// many start): work that must not wait for its first fire time.
    at_start: Vec<String>,
}

impl Registry {
    /// Registers `handler` for jobs of `kind`; it receives the JSON payload.
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(JobContext, String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |ctx, payload| {
                let handler = handler.clone();
                Box::pin(async move { handler(ctx, payload).await })
            }),
        );
    }

    /// Runs jobs of `kind` on a cron schedule (with seconds, e.g.
    /// `0 */10 * * * *`). An expression that does not parse is a programming
    /// error, reported by the unit test of every registered schedule.
    pub fn every(&mut self, kind: &str, cron: &str) -> Result<(), cron::error::Error> {
        self.periodic
            .push((kind.to_string(), Schedule::from_str(cron)?));
        Ok(())
    }

    /// Also runs `kind` when a worker starts, at most once a UTC day across
    /// all workers (the daily statistics of a new site, or of days a stopped
    /// site missed).
    pub fn also_at_start(&mut self, kind: &str) {
        self.at_start.push(kind.to_string());
    }

    /// The kinds that run when a worker starts.
    pub fn at_start(&self) -> &[String] {
        &self.at_start
    }

    pub fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    /// The (kind, fire time) pairs of the periodic jobs in `(from, to]`.
    pub fn due_between(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<(String, NaiveDateTime)> {
        let mut out = Vec::new();
        for (kind, schedule) in &self.periodic {
            for at in schedule.after(&Utc.from_utc_datetime(&from)).take(100) {
                let at = at.naive_utc();
                if at > to {
                    break;
                }
                out.push((kind.clone(), at));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_times_in_a_window_are_listed_once() {
        let mut r = Registry::default();
        assert!(r.every("test.tick", "0 */10 * * * *").is_ok());
        assert!(r.every("test.bad", "not cron").is_err());
        let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 5, 0))
            .unwrap_or_default();
        let to = from + chrono::TimeDelta::minutes(30);
        let due = r.due_between(from, to);
        assert_eq!(due.len(), 3, "{due:?}");
        assert!(r.due_between(to, to).is_empty());
    }
}
