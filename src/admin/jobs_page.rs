//! The jobs page: counts per kind and state, the latest dead jobs with their
//! last error, and retrying a dead job (audited).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::audit::{self, Entry};
use super::guard::Staff;
use crate::db::transaction;
use crate::error::AppError;
use crate::jobs::queue::{self, Job, JobId, JobStatus};
use crate::state::AppState;
use crate::web::{client_ip, redirect, Page};

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    page: Page,
    staff: Staff,
    counts: Vec<(String, JobStatus, i64)>,
    dead: Vec<Job>,
}

pub async fn list(
    state: web::Data<AppState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let (counts, dead) = state
        .db
        .read(|c| Ok((queue::counts(c)?, queue::recent(c, JobStatus::Dead, 50)?)))
        .await?;
    crate::web::ok(&JobsPage {
        page,
        staff,
        counts,
        dead,
    })
}

pub async fn retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(JobId)
        .ok_or(AppError::NotFound)?;
    let (actor, ip, now) = (staff.me.id, client_ip::of(&req), state.clock.now());
    let retried = state
        .write_and_wake(move |c| {
            Ok(transaction(c, |c| -> diesel::QueryResult<Option<bool>> {
                let Some(job) = queue::find(c, id)? else {
                    return Ok(None);
                };
                if !queue::retry_dead(c, id, now)? {
                    // Only a dead job can be retried.
                    return Ok(Some(false));
                }
                audit::record(
                    c,
                    &Entry {
                        actor: Some(actor),
                        action: "job.retry",
                        target_type: "job",
                        target_id: id.0.to_string(),
                        before: Some(serde_json::json!({ "status": "dead", "kind": job.kind })),
                        after: Some(serde_json::json!({ "status": "queued" })),
                        ip: &ip,
                    },
                    now,
                )?;
                Ok(Some(true))
            })?)
        })
        .await?;
    match retried {
        Some(true) => Ok(redirect("/admin/jobs")),
        Some(false) => Err(AppError::InvalidInput),
        None => Err(AppError::NotFound),
    }
}
