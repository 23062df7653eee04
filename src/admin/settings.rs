//! Runtime settings (every [`TUNABLES`] entry, validated, in force on every
//! instance within seconds) and the audit log page. Changing settings is
//! sensitive: the staff member re-enters their password.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::audit::{self, Actor, AuditRow, Filter};
use super::changes;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::auth::users::Names;
use crate::error::{AppError, FieldCode, FieldErrors};
use crate::runtime::{RuntimeSettings, SettingError, TUNABLES};
use crate::web::{redirect, render, Page};

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    page: Page,
    staff: Staff,
    rows: Vec<Row>,
    errors: FieldErrors,
}

/// A setting as the form shows it: its key (the field's name; its title and
/// description are `setting.<key>` and `setting.<key>_hint`), the value in
/// force, its bounds and its default.
struct Row {
    key: &'static str,
    value: String,
    min: i64,
    max: i64,
    default: i64,
}

impl Row {
    fn title(&self) -> String {
        format!("setting.{}", self.key)
    }

    fn hint(&self) -> String {
        format!("setting.{}_hint", self.key)
    }

    /// "Default 3; from 0 to 1000."
    fn bounds(&self, t: &crate::i18n::Tr) -> String {
        t.tf(
            "admin.setting_bounds",
            &[
                ("default", &self.default.to_string()),
                ("min", &self.min.to_string()),
                ("max", &self.max.to_string()),
            ],
        )
    }
}

async fn current(state: &AdminState) -> Result<Vec<Row>, AppError> {
    let mut rows = Vec::new();
    for t in TUNABLES {
        let value = state.runtime.get(*t).await?;
        rows.push(Row {
            key: t.key,
            value: value.to_string(),
            min: t.min,
            max: t.max,
            default: t.default,
        });
    }
    Ok(rows)
}

pub async fn form(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    crate::web::ok(&SettingsPage {
        page,
        staff,
        rows: current(&state).await?,
        errors: FieldErrors::default(),
    })
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let password = form.get("password").map(String::as_str).unwrap_or("");
    if !super::guard::reauthenticated(&state, &staff, &req, password).await? {
        errors.push("password", FieldCode::WrongPassword);
    }
    let mut changed = Vec::new();
    for t in TUNABLES {
        let Some(raw) = form.get(t.key).map(|v| v.trim()) else {
            continue;
        };
        match raw.parse::<i64>() {
            Err(_) => errors.push(t.key, FieldCode::NotANumber),
            Ok(v) => match RuntimeSettings::validate(t.key, v) {
                Ok(t) => {
                    let before = state.runtime.get(t).await?;
                    if before != v {
                        changed.push((t, before, v));
                    }
                }
                Err(SettingError::OutOfRange | SettingError::Unknown) => {
                    errors.push(t.key, FieldCode::OutOfRange)
                }
            },
        }
    }
    if !errors.is_empty() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage {
                page,
                staff,
                rows: current(&state).await?,
                errors,
            },
        );
    }
    if !changed.is_empty() {
        let actor = Actor::staff(&staff, &req, state.clock.now());
        changes::update_settings(&state, actor, changed).await?;
    }
    Ok(redirect("/admin/settings?notice=settings_saved"))
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Page,
    staff: Staff,
    filter: Filter,
    rows: Vec<AuditRow>,
    /// The staff members who acted, by name.
    names: Names,
    next: Option<i64>,
}

pub async fn audit(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let f = filter.clone();
    let (rows, names) = state
        .db
        .read(move |c| {
            let rows = audit::list(c, &f, 101)?;
            let actors: Vec<_> = rows.iter().filter_map(|r| r.actor_id).collect();
            let names = Names::of(c, &actors)?;
            Ok((rows, names))
        })
        .await?;
    let more = rows.len() > 100;
    let rows: Vec<AuditRow> = rows.into_iter().take(100).collect();
    let next = more.then(|| rows.last().map(|r| r.id)).flatten();
    crate::web::ok(&AuditPage {
        page,
        staff,
        filter,
        rows,
        names,
        next,
    })
}
