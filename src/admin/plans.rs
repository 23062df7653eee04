//! Membership plans in the admin console: their limits and features
//! (edited with the password re-entered), and the plan of a member. Each
//! change is audited.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::audit::Actor;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::auth::plans::{self, Plan};
use crate::auth::{User, UserId};
use crate::db::transaction;
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
    super::guard::require_password(&state, &staff, password).await?;
    let superlikes = limit(&form, "superlike_daily_limit")?;
    let rewinds = limit(&form, "rewind_daily_limit")?;
    let see_likes = form.contains_key("see_likes");
    let name = path.into_inner();
    let actor = Actor::staff(&staff, &req, &state);
    let done = state
        .db
        .write(move |c| {
            Ok(transaction(c, |c| -> diesel::QueryResult<bool> {
                let Some(before) = plans::by_name(c, &name)? else {
                    return Ok(false);
                };
                plans::update(c, before.id, superlikes, rewinds, see_likes)?;
                actor.record(
                    c,
                    "plan.update",
                    ("plan", name.clone()),
                    Some(serde_json::json!({
                        "superlike_daily_limit": before.superlike_daily_limit,
                        "rewind_daily_limit": before.rewind_daily_limit,
                        "see_likes": before.see_likes,
                    })),
                    Some(serde_json::json!({
                        "superlike_daily_limit": superlikes,
                        "rewind_daily_limit": rewinds,
                        "see_likes": see_likes,
                    })),
                )?;
                Ok(true)
            })?)
        })
        .await?;
    if done {
        Ok(redirect("/admin/plans"))
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AssignForm {
    plan: String,
}

/// `POST /admin/users/{id}/plan`.
pub async fn assign(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let id = UserId(super::path_id(&path)?);
    let name = form.into_inner().plan;
    let actor = Actor::staff(&staff, &req, &state);
    let done = state
        .db
        .write(move |c| {
            Ok(transaction(c, |c| -> diesel::QueryResult<Option<bool>> {
                let Some(plan) = plans::by_name(c, &name)? else {
                    return Ok(Some(false));
                };
                if User::find(c, id)?.is_none() {
                    return Ok(None);
                }
                let before = plans::of_member(c, id)?.map(|p| p.name);
                plans::assign(c, id, plan.id)?;
                actor.record(
                    c,
                    "user.plan",
                    ("user", id.0.to_string()),
                    Some(serde_json::json!({ "plan": before })),
                    Some(serde_json::json!({ "plan": plan.name })),
                )?;
                Ok(Some(true))
            })?)
        })
        .await?;
    match done {
        Some(true) => Ok(redirect(&format!("/admin/users/{}", id.0))),
        Some(false) => Err(AppError::InvalidInput),
        None => Err(AppError::NotFound),
    }
}
