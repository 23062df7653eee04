//! The worker loop: claim a due job, run its handler, record the outcome.
//! It runs inside `swiper serve` (unless `RUN_WORKER=false`) and as
//! `swiper worker`; any number may run against one database.

use std::sync::Arc;

use tokio::sync::watch;

use super::queue::{self, Job, JobStatus};
use super::registry::{JobContext, Registry};
use super::schedule::Scheduler;
use super::wake::WorkerWake;
use crate::error::AppError;
use crate::security::random;

#[derive(Clone)]
pub struct Worker {
    pub id: String,
    ctx: JobContext,
    registry: Arc<Registry>,
    wake: WorkerWake,
}

impl Worker {
    pub fn new(ctx: JobContext, registry: Arc<Registry>, wake: WorkerWake) -> Self {
        let host = hostname_hint();
        Self {
            id: format!("{host}:{}:{}", std::process::id(), random::token(6)),
            ctx,
            registry,
            wake,
        }
    }

    /// Claims and runs one due job. Returns the job as it was claimed, or
    /// `None` when nothing was due.
    pub async fn run_once(&self) -> Result<Option<(Job, JobStatus)>, AppError> {
        let id = self.id.clone();
        let lease = self.ctx.settings.jobs.lease;
        let now = self.ctx.clock.now();
        let Some(job) = self
            .ctx
            .db
            .primary(move |c| Ok(queue::claim(c, &id, now, lease)?))
            .await?
        else {
            return Ok(None);
        };
        let outcome = match self.registry.get(&job.kind) {
            None => Err(format!("no handler for job kind {:?}", job.kind)),
            Some(handler) => {
                let fut = handler(self.ctx.clone(), job.payload.clone());
                // Give up well before the lease ends, so no other worker re-claims
                // a job this one is still running.
                match tokio::time::timeout(lease.mul_f32(0.75), fut).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e.0),
                    Err(_) => Err("timed out".to_string()),
                }
            }
        };
        let (id, backoff, claimed) = (
            self.id.clone(),
            self.ctx.settings.jobs.backoff_base,
            job.clone(),
        );
        let now = self.ctx.clock.now();
        let status = self
            .ctx
            .db
            .primary(move |c| {
                Ok(match outcome {
                    Ok(()) => {
                        if queue::complete(c, claimed.id, &id, now)? {
                            JobStatus::Done
                        } else {
                            JobStatus::Running
                        }
                    }
                    Err(e) => queue::fail(c, &claimed, &id, &e, now, backoff)?,
                })
            })
            .await?;
        if !matches!(status, JobStatus::Done | JobStatus::Running) {
            crate::metrics::get()
                .job_failures
                .with_label_values(&[job.kind.as_str()])
                .inc();
        }
        match status {
            JobStatus::Done => {
                tracing::info!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, "job done")
            }
            JobStatus::Dead => {
                tracing::error!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, "job dead after its last attempt")
            }
            _ => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, "job attempt failed")
            }
        }
        Ok(Some((job, status)))
    }

    /// Runs until `shutdown` turns true; a job already started is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "worker started");
        let mut scheduler = Scheduler::new(self.ctx.clock.now());
        let poll = self.ctx.settings.jobs.poll_interval;
        loop {
            if *shutdown.borrow() {
                break;
            }
            if let Err(e) = scheduler
                .enqueue_due(&self.ctx.db, &self.registry, &self.ctx.clock)
                .await
            {
                tracing::warn!(error = %e, "could not enqueue periodic jobs");
            }
            match self.run_once().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "worker could not claim a job"),
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = self.wake.woken() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

fn hostname_hint() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_string())
}
