use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::input::Email;
use crate::accounts::password::{self, ResetOutcome};
use crate::accounts::tokens;
use crate::error::AppError;
use crate::startup::AppState;
use crate::web::{redirect, render, FormErrors, Page};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    email: String,
}

#[derive(Template)]
#[template(path = "accounts/password_reset.html")]
struct RequestPage {
    page: Page,
    email: String,
    errors: FormErrors,
}

pub async fn request_form(page: Page) -> Result<HttpResponse, AppError> {
    crate::web::ok(&RequestPage {
        page,
        email: String::new(),
        errors: FormErrors::default(),
    })
}

/// Answers the same whether or not the address has an account.
pub async fn request_submit(
    state: web::Data<AppState>,
    page: Page,
    form: web::Form<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(code) => {
            let mut errors = FormErrors::default();
            errors.push("email", code);
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RequestPage {
                    page,
                    email: form.into_inner().email,
                    errors,
                },
            );
        }
    };
    password::request_reset(&state, &email, page.t.lang()).await?;
    state.wake_worker();
    Ok(redirect("/login?notice=password_reset_sent"))
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    password: String,
}

#[derive(Template)]
#[template(path = "accounts/password_reset_confirm.html")]
struct ConfirmPage {
    page: Page,
    token: String,
    errors: FormErrors,
}

pub async fn confirm_form(
    state: web::Data<AppState>,
    page: Page,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    if !tokens::looks_valid(&token) || password::reset_target(&state, &token).await?.is_none() {
        return Err(AppError::InvalidToken);
    }
    crate::web::ok(&ConfirmPage {
        page,
        token,
        errors: FormErrors::default(),
    })
}

pub async fn confirm_submit(
    state: web::Data<AppState>,
    page: Page,
    query: web::Query<TokenQuery>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    if !tokens::looks_valid(&token) {
        return Err(AppError::InvalidToken);
    }
    match password::reset_with_token(&state, &token, &form.password).await? {
        ResetOutcome::Done(_) => Ok(redirect("/login?notice=password_reset_done")),
        ResetOutcome::InvalidToken => Err(AppError::InvalidToken),
        ResetOutcome::Rejected(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ConfirmPage {
                page,
                token,
                errors,
            },
        ),
    }
}
