//! The moderation queue: open reports, oldest first, and closing one with
//! `dismiss` or `ban` (the reported member is banned in the same
//! transaction), audited once.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::audit::Actor;
use super::guard::Staff;
use super::users::ban_account;
use crate::admin::state::AdminState;
use crate::auth::UserId;
use crate::db::transaction;
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
    let reports = state
        .db
        .primary(move |c| Ok(reports::queue(c, status, 100)?))
        .await?;
    crate::web::ok(&QueuePage {
        page,
        staff,
        open: status == ReportStatus::Open,
        reports,
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
    path: web::Path<String>,
    form: web::Form<ResolveForm>,
) -> Result<HttpResponse, AppError> {
    let id = ReportId(super::path_id(&path)?);
    let form = form.into_inner();
    let ban = match form.action.as_str() {
        "dismiss" => false,
        "ban" => true,
        _ => return Err(AppError::InvalidInput),
    };
    let note: String = form.note.trim().chars().take(1000).collect();
    let actor = Actor::staff(&staff, &req, &state);
    let (now, staff_id) = (actor.now, staff.me.id);
    let done = state
        .db
        .write(move |c| {
            Ok(transaction(
                c,
                |c| -> diesel::QueryResult<Option<Option<UserId>>> {
                    let Some(report) = reports::find(c, id)? else {
                        return Ok(None);
                    };
                    let resolution = if ban { "ban" } else { "dismiss" };
                    if !reports::resolve(c, id, resolution, staff_id, &note, now)? {
                        // Closed meanwhile by someone else: nothing to do.
                        return Ok(Some(None));
                    }
                    if ban {
                        ban_account(c, report.target_id, now)?;
                    }
                    actor.record(
                        c,
                        "report.resolve",
                        ("report", id.0.to_string()),
                        Some(serde_json::json!({ "status": "open" })),
                        Some(serde_json::json!({
                            "status": "resolved",
                            "resolution": resolution,
                            "note": note,
                            "reported": report.target_id.0,
                        })),
                    )?;
                    Ok(Some(ban.then_some(report.target_id)))
                },
            )?)
        })
        .await?;
    match done {
        None => Err(AppError::NotFound),
        Some(banned) => {
            if let Some(member) = banned {
                state.hub.sessions_ended(member).await;
            }
            Ok(redirect("/admin/reports"))
        }
    }
}
