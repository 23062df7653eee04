//! The jobs page: counts per kind and state, the latest dead jobs with their
//! last error, and retrying a dead job (audited).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::audit::Actor;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::db::transaction;
use crate::error::AppError;
use crate::jobs::queue::{self, Job, JobId, JobStatus};
use crate::web::{redirect, Page};

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    page: Page,
    staff: Staff,
    counts: Vec<(String, JobStatus, i64)>,
    dead: Vec<Job>,
}

pub async fn list(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let (counts, dead) = state
        .db
        .primary(|c| Ok((queue::counts(c)?, queue::recent(c, JobStatus::Dead, 50)?)))
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
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = JobId(super::path_id(&path)?);
    let actor = Actor::staff(&staff, &req, &state);
    let now = actor.now;
    let retried = state
        .jobs
        .write_and_wake(move |c| {
            Ok(transaction(c, |c| -> diesel::QueryResult<Option<bool>> {
                let Some(job) = queue::find(c, id)? else {
                    return Ok(None);
                };
                if !queue::retry_dead(c, id, now)? {
                    // Only a dead job can be retried.
                    return Ok(Some(false));
                }
                actor.record(
                    c,
                    "job.retry",
                    ("job", id.0.to_string()),
                    Some(serde_json::json!({ "status": "dead", "kind": job.kind })),
                    Some(serde_json::json!({ "status": "queued" })),
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
