//! The roles and permissions editor: which permissions each role grants,
//! and new roles. Changing a role is sensitive (the password is re-entered)
//! and audited; `superadmin` always holds every permission.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::audit::Actor;
use super::changes;
use super::guard::{require_password, Staff};
use crate::admin::state::AdminState;
use crate::auth::rbac::{self, Permission, RoleView};
use crate::error::AppError;
use crate::web::{redirect, Page};

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    page: Page,
    staff: Staff,
    roles: Vec<RoleView>,
    codes: Vec<&'static str>,
}

pub async fn list(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let roles = state.db.primary(|c| Ok(rbac::roles_overview(c)?)).await?;
    crate::web::ok(&RolesPage {
        page,
        staff,
        roles,
        codes: Permission::ALL.iter().map(|p| p.as_str()).collect(),
    })
}

/// `POST /admin/roles`: a new role, without permissions (`name`,
/// `description`, `password`).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    require_password(&state, &staff, &req, super::form_field(&form, "password")).await?;
    let name = super::form_field(&form, "name").trim().to_string();
    if !rbac::valid_role_name(&name) {
        return Err(AppError::InvalidInput);
    }
    let description: String = super::form_field(&form, "description")
        .trim()
        .chars()
        .take(200)
        .collect();
    let actor = Actor::staff(&staff, &req, state.clock.now());
    changes::create_role(&state, actor, name, description).await?;
    Ok(redirect("/admin/roles?notice=admin_role_created"))
}

/// `POST /admin/roles/{name}`: the role's permissions become exactly the
/// `permission` fields sent (repeatable); `password` confirms.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    require_password(&state, &staff, &req, super::form_field(&form, "password")).await?;
    let mut perms = Vec::new();
    for (_, code) in form.iter().filter(|(k, _)| k == "permission") {
        perms.push(Permission::parse(code).ok_or(AppError::InvalidInput)?);
    }
    perms.sort();
    perms.dedup();
    let actor = Actor::staff(&staff, &req, state.clock.now());
    changes::set_role_permissions(&state, actor, path.into_inner(), perms).await?;
    Ok(redirect("/admin/roles?notice=admin_role_saved"))
}
