use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::password::{self, ChangePasswordForm};
use crate::accounts::sessions::{self, UserSession};
use crate::accounts::{CurrentUser, User};
use crate::db;
use crate::error::AppError;
use crate::i18n;
use crate::startup::AppState;
use crate::web::{page, redirect, render, FormErrors, Page};

#[derive(Template)]
#[template(path = "accounts/settings.html")]
struct SettingsPage {
    page: Page,
    me: CurrentUser,
    errors: FormErrors,
    languages: Vec<(String, String)>,
}

fn languages() -> Vec<(String, String)> {
    i18n::languages()
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect()
}

pub async fn show(page: Page, me: CurrentUser) -> Result<HttpResponse, AppError> {
    crate::web::ok(&SettingsPage {
        page,
        me,
        errors: FormErrors::default(),
        languages: languages(),
    })
}

pub async fn change_password(
    state: web::Data<AppState>,
    page: Page,
    me: CurrentUser,
    form: web::Form<ChangePasswordForm>,
) -> Result<HttpResponse, AppError> {
    match password::change(&state, &me, &form).await? {
        Ok(()) => Ok(redirect("/settings?notice=password_changed")),
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage {
                page,
                me,
                errors,
                languages: languages(),
            },
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LanguageForm {
    language: String,
}

pub async fn change_language(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: CurrentUser,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let code = form.into_inner().language;
    if !i18n::is_supported(&code) {
        return Err(AppError::InvalidInput);
    }
    let (id, saved) = (me.id, code.clone());
    db::run(&state.pool, move |c| Ok(User::set_language(c, id, &saved)?)).await?;
    page::save_lang(&req, &code);
    Ok(redirect("/settings?notice=language_saved"))
}

#[derive(Template)]
#[template(path = "accounts/sessions.html")]
struct SessionsPage {
    page: Page,
    current: String,
    sessions: Vec<UserSession>,
}

pub async fn sessions(
    state: web::Data<AppState>,
    page: Page,
    me: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (id, idle) = (me.id, state.settings.session_idle_timeout);
    let list = db::run(&state.pool, move |c| {
        Ok(sessions::list(c, id, db::now(), idle)?)
    })
    .await?;
    crate::web::ok(&SessionsPage {
        page,
        current: me.session_id,
        sessions: list,
    })
}

/// "Log out everywhere else": every other session of mine ends, on every instance.
pub async fn revoke_others(
    state: web::Data<AppState>,
    me: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (id, keep) = (me.id, me.session_id.clone());
    db::run(&state.pool, move |c| {
        Ok(sessions::revoke_others(c, id, &keep)?)
    })
    .await?;
    Ok(redirect("/settings/sessions?notice=sessions_revoked"))
}

pub async fn revoke_one(
    state: web::Data<AppState>,
    me: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let target = path.into_inner();
    let (id, idle) = (me.id, state.settings.session_idle_timeout);
    db::run(&state.pool, move |c| {
        Ok(sessions::revoke_by_handle(c, id, &target, db::now(), idle)?)
    })
    .await?;
    Ok(redirect("/settings/sessions?notice=sessions_revoked"))
}
