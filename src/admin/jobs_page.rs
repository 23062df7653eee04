//! The jobs page: counts per kind and state, the latest dead jobs with their
//! last error, and retrying a dead job (audited).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::audit::Actor;
use super::changes;
use super::guard::Staff;
use crate::admin::state::AdminState;
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
    path: web::Path<JobId>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::staff(&staff, &req, state.clock.now());
    changes::retry_job(&state, actor, path.into_inner()).await?;
    Ok(redirect("/admin/jobs?notice=admin_job_retried"))
}
