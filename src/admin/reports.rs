//! The moderation queue: open reports, oldest first, and closing one with
//! `dismiss` or `ban` (the reported member is banned in the same
//! transaction), audited once.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::audit::Actor;
use super::changes;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::auth::users::Names;
use crate::error::AppError;
use crate::matches::reports::{self, ReportId, ReportRow, ReportStatus};
use crate::web::{redirect, Page};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    status: String,
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
struct QueuePage {
    page: Page,
    staff: Staff,
    open: bool,
    reports: Vec<ReportRow>,
    /// Reporters and targets, by name.
    names: Names,
}

pub async fn queue(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let status = if query.status == "resolved" {
        ReportStatus::Resolved
    } else {
        ReportStatus::Open
    };
    let (reports, names) = state
        .db
        .primary(move |c| {
            let reports = reports::queue(c, status, 100)?;
            let people: Vec<_> = reports
                .iter()
                .flat_map(|r| [r.reporter_id, r.target_id])
                .collect();
            let names = Names::of(c, &people)?;
            Ok((reports, names))
        })
        .await?;
    crate::web::ok(&QueuePage {
        page,
        staff,
        open: status == ReportStatus::Open,
        reports,
        names,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolveForm {
    action: String,
    note: String,
}

pub async fn resolve(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<ReportId>,
    form: web::Form<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ban = match form.action.as_str() {
        "dismiss" => false,
        "ban" => true,
        _ => return Err(AppError::InvalidInput),
    };
    let note: String = form.note.trim().chars().take(1000).collect();
    let actor = Actor::staff(&staff, &req, state.clock.now());
    changes::resolve_report(&state, actor, path.into_inner(), ban, note).await?;
    Ok(redirect(if ban {
        "/admin/reports?notice=admin_report_banned"
    } else {
        "/admin/reports?notice=admin_report_dismissed"
    }))
}
