//! The durable job queue, stored in the application database.
//!
//! A job is enqueued in the same transaction as the change that causes it, so
//! a crash never loses a mail. Workers claim jobs with a lease: a job whose
//! worker died is claimed again once its lease has passed. Failures are retried
//! with exponential back-off; after the last attempt the job is `dead` with its
//! last error. On PostgreSQL any number of workers claim with
//! `FOR UPDATE SKIP LOCKED`; on SQLite claims run in an immediate transaction.

pub mod queue;
pub mod registry;
pub mod schedule;
pub mod wake;
pub mod worker;

pub use queue::{enqueue, Job, JobId, JobStatus, NewJob};
pub use registry::{JobContext, JobError, MembersChanged, Registry};
pub use wake::{JobWriter, WorkerWake};
pub use worker::Worker;
