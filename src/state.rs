//! What every request handler shares (as `web::Data<AppState>`): settings,
//! the database, Redis, the mailer, the clock and the worker's wake-up call.
//! It sits below the web spine and the features, so both can use it, and is
//! built by the composition root (`startup`).

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::jobs::{JobContext, WorkerWake};
use crate::limits::Counters;
use crate::mail::Mailer;
use crate::runtime::RuntimeSettings;
use crate::security::keys::Keys;
use crate::storage::MediaStore;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub mailer: Mailer,
    pub media: MediaStore,
    /// Limits staff change at run time.
    pub runtime: RuntimeSettings,
    pub clock: Clock,
    /// Verified against when an email is unknown, so timing reveals nothing.
    pub dummy_hash: String,
    /// Paces refused logins to the slowest recent password check.
    pub login_pacer: crate::security::password::Pacer,
    pub worker_wake: WorkerWake,
    /// Keys derived from `SECRET_KEY`.
    pub keys: Keys,
    /// Sliding-window counters and short-lived values (rate limits, failed
    /// logins, captcha answers), shared through Redis.
    pub counters: Counters,
    /// HTTP client for OAuth providers: rustls, redirects off (no SSRF
    /// through a provider's redirect), 10-second time-out.
    pub http: reqwest::Client,
    /// Live events to this instance's chat sockets (and, through Redis,
    /// to every instance's).
    pub hub: crate::realtime::Hub,
}

impl AppState {
    /// A write transaction that queues jobs: the change and its jobs commit
    /// together, then the in-process worker is woken (it polls anyway, so a
    /// separate worker process picks them up too). Every flow that enqueues
    /// goes through here: persist → enqueue → wake after commit, once.
    pub async fn write_and_wake<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let value = self.db.write(f).await?;
        self.worker_wake.wake();
        Ok(value)
    }

    /// Whether sessions can be stored now: Redis answers within its bound
    /// (always true without Redis). Logging in asks first, so a member gets
    /// a clear 503 instead of a session that cannot be saved.
    pub async fn sessions_available(&self) -> bool {
        let Some(mut conn) = self.redis.clone() else {
            return true;
        };
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(
            tokio::time::timeout(crate::limits::REDIS_BOUND, ping).await,
            Ok(Ok(_))
        )
    }

    pub fn job_context(&self) -> JobContext {
        JobContext {
            db: self.db.clone(),
            settings: self.settings.clone(),
            mailer: self.mailer.clone(),
            media: self.media.clone(),
            clock: self.clock.clone(),
        }
    }
}
