//! The `jobs` table: enqueue, claim, complete, fail, and its maintenance.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::clock::delta;
use crate::db::schema::jobs;
use crate::db::{dialect, DbConnection};

crate::id_type!(JobId);

crate::text_enum!(JobStatus {
    Queued => "queued",
    Running => "running",
    Done => "done",
    Dead => "dead",
});

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub unique_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob {
    kind: String,
    payload: String,
    status: JobStatus,
    attempts: i32,
    max_attempts: i32,
    run_at: NaiveDateTime,
    unique_key: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

impl NewJob {
    /// A job of `kind` due at `now`.
    pub fn new(
        kind: &str,
        payload: &impl Serialize,
        now: NaiveDateTime,
    ) -> Result<Self, diesel::result::Error> {
        let payload = serde_json::to_string(payload)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Ok(Self {
            kind: kind.to_string(),
            payload,
            status: JobStatus::Queued,
            attempts: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: now,
            unique_key: None,
            created_at: now,
            updated_at: now,
        })
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn run_at(mut self, at: NaiveDateTime) -> Self {
        self.run_at = at;
        self
    }

    /// At most one job with this key ever exists (periodic runs use it).
    pub fn unique_key(mut self, key: String) -> Self {
        self.unique_key = Some(key);
        self
    }
}

/// Adds a job. Call it inside the transaction that makes the change the job
/// is about. A job whose unique key already exists is not added again
/// (returns `None`).
pub fn enqueue(
    conn: &mut DbConnection,
    job: NewJob,
) -> Result<Option<JobId>, diesel::result::Error> {
    let unique = job.unique_key.is_some();
    let insert = |c: &mut DbConnection| {
        diesel::insert_into(jobs::table)
            .values(&job)
            .returning(jobs::id)
            .get_result::<JobId>(c)
    };
    if !unique {
        return insert(conn).map(Some);
    }
    dialect::insert_unique(conn, insert)
}

/// Claims the next due job for `worker`, leasing it until `now + lease`.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> Result<Option<Job>, diesel::result::Error> {
    let due = jobs::status
        .eq(JobStatus::Queued)
        .and(jobs::run_at.le(now))
        .or(jobs::status
            .eq(JobStatus::Running)
            .and(jobs::locked_until.lt(now))
            .and(jobs::attempts.lt(jobs::max_attempts)));
    dialect::transaction(conn, |c| {
        let next = jobs::table
            .select(jobs::id)
            .filter(due)
            .order((jobs::run_at.asc(), jobs::id.asc()))
            .limit(1);
        // Concurrent workers skip rows another one has locked.
        let id = dialect::with_row_locks(
            c,
            |pg| next.for_update().skip_locked().get_result::<JobId>(pg),
            |c| next.get_result::<JobId>(c),
        )
        .optional()?;
        let Some(id) = id else {
            return Ok(None);
        };
        diesel::update(jobs::table.find(id))
            .set((
                jobs::status.eq(JobStatus::Running),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::locked_by.eq(worker),
                jobs::locked_until.eq(now + delta(lease)),
                jobs::updated_at.eq(now),
            ))
            .get_result::<Job>(c)
            .map(Some)
    })
}

/// Marks a job done, if `worker` still holds its lease. Returns whether it did.
pub fn complete(
    conn: &mut DbConnection,
    job_id: JobId,
    worker: &str,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        jobs::table
            .find(job_id)
            .filter(jobs::locked_by.eq(worker))
            .filter(jobs::status.eq(JobStatus::Running)),
    )
    .set((
        jobs::status.eq(JobStatus::Done),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::finished_at.eq(Some(now)),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The delay before retry number `attempt` (1-based): base × 2^(attempt-1), capped at a day.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    base.saturating_mul(1u32 << exp)
        .min(Duration::from_secs(86_400))
}

/// Records a failed attempt: back to `queued` with back-off, or `dead` after
/// the last attempt. Ignored if `worker` no longer holds the lease.
pub fn fail(
    conn: &mut DbConnection,
    job: &Job,
    worker: &str,
    error: &str,
    now: NaiveDateTime,
    backoff_base: Duration,
) -> Result<JobStatus, diesel::result::Error> {
    let error: String = error.chars().take(2000).collect();
    let dead = job.attempts >= job.max_attempts;
    let status = if dead {
        JobStatus::Dead
    } else {
        JobStatus::Queued
    };
    let run_at = now + delta(backoff(backoff_base, job.attempts));
    diesel::update(
        jobs::table
            .find(job.id)
            .filter(jobs::locked_by.eq(worker))
            .filter(jobs::status.eq(JobStatus::Running)),
    )
    .set((
        jobs::status.eq(status),
        jobs::last_error.eq(Some(error)),
        jobs::run_at.eq(run_at),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::finished_at.eq(dead.then_some(now)),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(status)
}

pub fn find(conn: &mut DbConnection, job_id: JobId) -> Result<Option<Job>, diesel::result::Error> {
    jobs::table
        .find(job_id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Marks dead the running jobs whose lease passed after their last attempt
/// (their worker died every time); they are never claimed again.
pub fn bury_abandoned(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    diesel::update(
        jobs::table
            .filter(jobs::status.eq(JobStatus::Running))
            .filter(jobs::locked_until.lt(now))
            .filter(jobs::attempts.ge(jobs::max_attempts)),
    )
    .set((
        jobs::status.eq(JobStatus::Dead),
        jobs::last_error.eq(Some(
            "the worker vanished during the last attempt (lease expired)",
        )),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::finished_at.eq(Some(now)),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Deletes finished jobs older than `before`.
pub fn purge_done(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    diesel::delete(
        jobs::table
            .filter(jobs::status.eq(JobStatus::Done))
            .filter(jobs::finished_at.lt(before)),
    )
    .execute(conn)
}

/// Jobs per (kind, status), for the admin console.
pub fn counts(
    conn: &mut DbConnection,
) -> Result<Vec<(String, JobStatus, i64)>, diesel::result::Error> {
    jobs::table
        .group_by((jobs::kind, jobs::status))
        .select((jobs::kind, jobs::status, diesel::dsl::count_star()))
        .order((jobs::kind, jobs::status))
        .load(conn)
}

/// The most recent jobs with `status`, newest first.
pub fn recent(
    conn: &mut DbConnection,
    status: JobStatus,
    limit: i64,
) -> Result<Vec<Job>, diesel::result::Error> {
    jobs::table
        .filter(jobs::status.eq(status))
        .order(jobs::id.desc())
        .limit(limit)
        .select(Job::as_select())
        .load(conn)
}

/// Puts a dead job back in the queue, to run now with a fresh set of
/// attempts; `false` unless it was dead.
pub fn retry_dead(
    conn: &mut DbConnection,
    job_id: JobId,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    let changed = diesel::update(
        jobs::table
            .find(job_id)
            .filter(jobs::status.eq(JobStatus::Dead)),
    )
    .set((
        jobs::status.eq(JobStatus::Queued),
        jobs::attempts.eq(0),
        jobs::run_at.eq(now),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::finished_at.eq(None::<NaiveDateTime>),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 1), Duration::from_secs(10));
        assert_eq!(backoff(base, 2), Duration::from_secs(20));
        assert_eq!(backoff(base, 4), Duration::from_secs(80));
        assert_eq!(backoff(base, 40), Duration::from_secs(86_400));
    }
}
