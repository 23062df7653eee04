//! Members, for staff: search, detail, and the actions on an account (ban,
//! unban, mark verified, revoke sessions), each audited in its transaction.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::audit::Actor;
use super::guard::Staff;
use crate::auth::events::{self as auth_events, AuthEventRow};
use crate::auth::{plans, rbac};
use crate::auth::{sessions, User, UserId};
use crate::db::transaction;
use crate::error::AppError;
use crate::profiles::store::Profile;
use crate::state::AppState;
use crate::web::{redirect, Page};

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    page: Page,
    staff: Staff,
    q: String,
    users: Vec<User>,
    next: Option<i64>,
}

pub async fn list(
    state: web::Data<AppState>,
    page: Page,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q: String = query.q.chars().take(254).collect();
    let (search, after) = (q.clone(), query.after.map(UserId));
    let users = state
        .db
        .read(move |c| Ok(User::search(c, &search, after, PAGE_SIZE + 1)?))
        .await?;
    let more = users.len() > PAGE_SIZE as usize;
    let users: Vec<User> = users.into_iter().take(PAGE_SIZE as usize).collect();
    // Keyset pages for the whole list; a search shows its first matches.
    let next = (more && q.trim().is_empty())
        .then(|| users.last().map(|u| u.id.0))
        .flatten();
    crate::web::ok(&ListPage {
        page,
        staff,
        q,
        users,
        next,
    })
}

fn user_id(path: &str) -> Result<UserId, AppError> {
    super::path_id(path).map(UserId)
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct DetailPage {
    page: Page,
    staff: Staff,
    user: User,
    roles: Vec<String>,
    all_roles: Vec<String>,
    events: Vec<AuthEventRow>,
    plan: String,
    plan_names: Vec<String>,
}

pub async fn detail(
    state: web::Data<AppState>,
    page: Page,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path)?;
    let found = state
        .db
        .read(move |c| {
            let Some(user) = User::find(c, id)? else {
                return Ok(None);
            };
            Ok(Some((
                user,
                rbac::roles_of(c, id)?,
                rbac::role_names(c)?,
                auth_events::recent(c, id, 20)?,
                plans::of_member(c, id)?.map(|p| p.name).unwrap_or_default(),
                plans::all(c)?
                    .into_iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>(),
            )))
        })
        .await?;
    let Some((user, roles, all_roles, events, plan, plan_names)) = found else {
        return Err(AppError::NotFound);
    };
    crate::web::ok(&DetailPage {
        page,
        staff,
        user,
        roles,
        all_roles,
        events,
        plan,
        plan_names,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BanForm {
    reason: String,
}

/// Applies an account action and its audit entry in one transaction.
async fn act<F>(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: UserId,
    action: &'static str,
    reason: Option<String>,
    change: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(
            &mut crate::db::DbConnection,
            &User,
            chrono::NaiveDateTime,
        ) -> diesel::QueryResult<()>
        + Send
        + 'static,
{
    let actor = Actor::staff(staff, req, state);
    let now = actor.now;
    let done = state
        .db
        .write(move |c| {
            Ok(transaction(c, |c| -> diesel::QueryResult<bool> {
                let Some(before) = User::find(c, id)? else {
                    return Ok(false);
                };
                change(c, &before, now)?;
                let after = User::find(c, id)?;
                let snapshot = |u: &User| {
                    serde_json::json!({
                        "is_active": u.is_active,
                        "verified": u.is_verified(),
                    })
                };
                let mut after_json = after.as_ref().map(snapshot);
                if let (Some(serde_json::Value::Object(map)), Some(reason)) =
                    (&mut after_json, &reason)
                {
                    map.insert("reason".into(), serde_json::Value::String(reason.clone()));
                }
                actor.record(
                    c,
                    action,
                    ("user", id.0.to_string()),
                    Some(snapshot(&before)),
                    after_json,
                )?;
                Ok(true)
            })?)
        })
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(redirect(&format!("/admin/users/{}", id.0)))
}

/// Disables an account: every session ends (on every instance: the session
/// rows go) and the member leaves discovery at once.
pub(super) fn ban_account(
    c: &mut crate::db::DbConnection,
    id: UserId,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    User::set_active(c, id, false, now)?;
    sessions::revoke_all(c, id)?;
    Profile::refresh_in_feed(c, id)
}

/// Ban: the account is disabled, every session ends (on every instance: the
/// session rows go) and the member leaves discovery at once.
pub async fn ban(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<BanForm>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path)?;
    let reason = form
        .into_inner()
        .reason
        .trim()
        .chars()
        .take(500)
        .collect::<String>();
    if reason.is_empty() {
        return Err(AppError::InvalidInput);
    }
    act(
        &state,
        &req,
        &staff,
        id,
        "user.ban",
        Some(reason),
        move |c, _, now| ban_account(c, id, now),
    )
    .await
}

pub async fn unban(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path)?;
    act(
        &state,
        &req,
        &staff,
        id,
        "user.unban",
        None,
        move |c, _, now| {
            User::set_active(c, id, true, now)?;
            Profile::refresh_in_feed(c, id)
        },
    )
    .await
}

pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path)?;
    act(
        &state,
        &req,
        &staff,
        id,
        "user.verify",
        None,
        move |c, _, now| {
            User::mark_verified(c, id, now)?;
            Profile::refresh_in_feed(c, id)
        },
    )
    .await
}

pub async fn revoke_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path)?;
    act(
        &state,
        &req,
        &staff,
        id,
        "user.revoke_sessions",
        None,
        move |c, _, _| sessions::revoke_all(c, id).map(|_| ()),
    )
    .await
}

/// `POST /admin/users/{id}/roles`: the member's roles become exactly the
/// `role` fields sent (repeatable); a sensitive action, so the staff member's
/// password comes too.
pub async fn set_roles(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path)?;
    let fields = form.into_inner();
    let password = fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if !super::settings::reauthenticated(&state, &staff, password).await? {
        return Err(AppError::Refused(
            crate::error::ErrorCode::ReauthenticationRequired,
        ));
    }
    let mut names: Vec<String> = fields
        .into_iter()
        .filter(|(k, _)| k == "role")
        .map(|(_, v)| v)
        .collect();
    names.sort();
    names.dedup();
    let actor = Actor::staff(&staff, &req, &state);
    let now = actor.now;
    let outcome = state
        .db
        .write(move |c| {
            Ok(transaction(
                c,
                |c| -> diesel::QueryResult<Option<rbac::SetRoles>> {
                    if User::find(c, id)?.is_none() {
                        return Ok(None);
                    }
                    let before = rbac::roles_of(c, id)?;
                    let outcome = rbac::set_roles(c, id, &names, now)?;
                    if outcome == rbac::SetRoles::Done {
                        actor.record(
                            c,
                            "user.roles",
                            ("user", id.0.to_string()),
                            Some(serde_json::json!({ "roles": before })),
                            Some(serde_json::json!({ "roles": names })),
                        )?;
                    }
                    Ok(Some(outcome))
                },
            )?)
        })
        .await?;
    match outcome {
        None => Err(AppError::NotFound),
        Some(rbac::SetRoles::Done) => Ok(redirect(&format!("/admin/users/{}", id.0))),
        Some(rbac::SetRoles::UnknownRole) => Err(AppError::InvalidInput),
        Some(rbac::SetRoles::LastSuperadmin) => {
            Err(AppError::Refused(crate::error::ErrorCode::LastSuperadmin))
        }
    }
}
