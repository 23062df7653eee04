//! Membership plans in the admin console: their limits and features
//! (edited with the password re-entered), and the plan of a member. Each
//! change is audited.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::accounts::{self, AccountAction};
use super::audit::Actor;
use super::changes::{self, PlanLimits};
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::auth::plans::{self, Plan};
use crate::auth::UserId;
use crate::error::AppError;
use crate::web::{redirect, Page};

#[derive(Template)]
#[template(path = "admin/plans.html")]
struct PlansPage {
    page: Page,
    staff: Staff,
    plans: Vec<Plan>,
}

pub async fn list(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let plans = state.db.primary(|c| Ok(plans::all(c)?)).await?;
    crate::web::ok(&PlansPage { page, staff, plans })
}

/// A limit field: empty means "the runtime setting"; else 0–1000.
fn limit(form: &BTreeMap<String, String>, key: &str) -> Result<Option<i64>, AppError> {
    match form.get(key).map(|v| v.trim()).unwrap_or("") {
        "" => Ok(None),
        raw => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=1000).contains(n))
            .map(Some)
            .ok_or(AppError::InvalidInput),
    }
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let password = form.get("password").map(String::as_str).unwrap_or("");
    super::guard::require_password(&state, &staff, &req, password).await?;
    let superlikes = limit(&form, "superlike_daily_limit")?;
    let rewinds = limit(&form, "rewind_daily_limit")?;
    let see_likes = form.contains_key("see_likes");
    let actor = Actor::staff(&staff, &req, state.clock.now());
    let limits = PlanLimits {
        superlikes,
        rewinds,
        see_likes,
    };
    changes::update_plan(&state, actor, path.into_inner(), limits).await?;
    Ok(redirect("/admin/plans?notice=admin_plan_saved"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AssignForm {
    plan: String,
    /// The staff member's own password: assigning a plan is sensitive.
    password: String,
}

/// `POST /admin/users/{id}/plan`.
pub async fn assign(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<UserId>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.into_inner();
    super::guard::require_password(&state, &staff, &req, &form.password).await?;
    let action = AccountAction::SetPlan(form.plan);
    let notice = action.notice();
    let actor = Actor::staff(&staff, &req, state.clock.now());
    accounts::act(&state, actor, id, action).await?;
    Ok(redirect(&format!("/admin/users/{id}?notice={notice}")))
}
