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
use crate::mail::Mailer;
use crate::runtime::RuntimeSettings;
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
    pub worker_wake: WorkerWake,
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
