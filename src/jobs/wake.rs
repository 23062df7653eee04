//! Waking the in-process worker when a job was just queued, and the one
//! way features write a change with its jobs: persist → enqueue → wake
//! after commit.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::db::{Db, DbConnection};
use crate::error::AppError;

/// Tells the in-process worker that a job was just queued, so it need not
/// wait for its next poll.
#[derive(Clone, Default)]
pub struct WorkerWake(Arc<Notify>);

impl WorkerWake {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// What a feature writes through when a change queues jobs.
#[derive(Clone)]
pub struct JobWriter {
    db: Db,
    wake: WorkerWake,
}

impl JobWriter {
    pub fn new(db: Db, wake: WorkerWake) -> Self {
        Self { db, wake }
    }

    /// A write transaction that queues jobs: the change and its jobs commit
    /// together, then the in-process worker is woken (it polls anyway, so a
    /// separate worker process picks them up too). Every flow that enqueues
    /// goes through here, once.
    pub async fn write_and_wake<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let value = self.db.write(f).await?;
        self.wake.wake();
        Ok(value)
    }
}
