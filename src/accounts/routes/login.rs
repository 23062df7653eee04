use actix_identity::Identity;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::login::{check_credentials, open_session, LoginContext};
use crate::accounts::sessions::{self, Lifetimes};
use crate::accounts::CurrentUser;
use crate::db;
use crate::error::AppError;
use crate::security::client_ip;
use crate::startup::AppState;
use crate::web::forms::{safe_next, user_agent};
use crate::web::{csrf, page, redirect, render, FormErrors, Page};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    page: Page,
    email: String,
    next: String,
    errors: FormErrors,
}

pub async fn form(page_ctx: Page, query: web::Query<LoginQuery>) -> Result<HttpResponse, AppError> {
    if page_ctx.user.is_some() {
        return Ok(redirect("/discover"));
    }
    let next = safe_next(query.next.as_deref()).unwrap_or_default();
    crate::web::ok(&LoginPage {
        page: page_ctx,
        email: String::new(),
        next,
        errors: FormErrors::default(),
    })
}

fn invalid(page_ctx: Page, form: &LoginForm) -> Result<HttpResponse, AppError> {
    let mut errors = FormErrors::default();
    errors.push("form", "invalid_credentials");
    render(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            page: page_ctx,
            email: String::new(),
            next: safe_next(form.next.as_deref()).unwrap_or_default(),
            errors,
        },
    )
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    page_ctx: Page,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let Some(user) = check_credentials(&state, &form.email, &form.password).await? else {
        return invalid(page_ctx, &form);
    };
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    let replaces = page_ctx.user.as_ref().map(|u| u.session_id.clone());
    let remember = form.remember.is_some();
    let lifetimes = Lifetimes::from_settings(&state.settings);
    let for_session = user.clone();
    let record = db::run(&state.pool, move |c| {
        let login = LoginContext {
            remember,
            ip: &ip,
            user_agent: &ua,
            replaces: replaces.as_deref(),
            lifetimes,
        };
        Ok(open_session(c, &for_session, &login, db::now())?)
    })
    .await?;
    let Some(record) = record else {
        return invalid(page_ctx, &form);
    };
    // A previous member's identity in this browser is replaced; login renews
    // the session id (no fixation) and the CSRF token.
    Identity::login(&req.extensions(), record.id.clone())
        .map_err(|e| AppError::internal("identity login", e))?;
    csrf::rotate(&session);
    if let Some(lang) = &user.language {
        page::save_lang(&req, lang);
    }
    req.extensions_mut()
        .insert(CurrentUser::from_parts(&user, &record));
    tracing::info!(user_id = %user.user_id(), "logged in");
    let next = safe_next(form.next.as_deref()).unwrap_or_else(|| "/discover".to_string());
    Ok(redirect(&next))
}

pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    me: Option<CurrentUser>,
) -> Result<HttpResponse, AppError> {
    if let Some(me) = me {
        let sid = me.session_id.clone();
        db::run(&state.pool, move |c| Ok(sessions::revoke(c, &sid)?)).await?;
    }
    // The whole server-side state goes, and with it the cookie.
    session.purge();
    Ok(redirect("/login?notice=logged_out"))
}
