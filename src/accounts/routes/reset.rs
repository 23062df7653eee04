use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::events::{self, AuthEvent};
use crate::accounts::input::Email;
use crate::accounts::password::{self, ResetOutcome};
use crate::accounts::state::AccountsState;
use crate::error::AppError;
use crate::limits::rules;
use crate::security::SecretString;
use crate::web::client_ip;
use crate::web::forms::user_agent;
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
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    form: web::Form<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let counters = &state.counters;
    counters
        .enforce(
            &state.runtime,
            rules::RESET_PER_IP,
            &client_ip::bucket(&req),
        )
        .await?;
    counters
        .enforce(
            &state.runtime,
            rules::RESET_PER_EMAIL,
            &rules::email_subject(&form.email),
        )
        .await?;
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(code) => {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RequestPage {
                    page,
                    email: form.into_inner().email,
                    errors: FormErrors::one("email", code),
                },
            );
        }
    };
    password::request_reset(&state, &email, page.t.lang()).await?;
    Ok(redirect("/login?notice=password_reset_sent"))
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: SecretString,
}

/// The new-password form; the password never prints.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    password: SecretString,
}

#[derive(Template)]
#[template(path = "accounts/password_reset_confirm.html")]
struct ConfirmPage {
    page: Page,
    token: String,
    errors: FormErrors,
}

pub async fn confirm_form(
    state: web::Data<AccountsState>,
    page: Page,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    if password::reset_target(&state, &token).await?.is_none() {
        return Err(AppError::InvalidToken);
    }
    crate::web::ok(&ConfirmPage {
        page,
        // The form posts back to the link it came from.
        token: token.expose().to_string(),
        errors: FormErrors::default(),
    })
}

pub async fn confirm_submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    query: web::Query<TokenQuery>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    match password::reset_with_token(&state, &token, &form.password).await? {
        ResetOutcome::Done(id) => {
            let (ip, ua) = (client_ip::of(&req), user_agent(&req));
            events::record(&state, id, AuthEvent::PasswordReset, &ip, &ua).await;
            Ok(redirect("/login?notice=password_reset_done"))
        }
        ResetOutcome::InvalidToken => Err(AppError::InvalidToken),
        ResetOutcome::Rejected(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ConfirmPage {
                page,
                token: token.expose().to_string(),
                errors,
            },
        ),
    }
}
