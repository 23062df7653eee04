//! `/settings/2fa`: enrolment (QR code and the secret as text), confirmation
//! with a code (then the recovery codes, shown once), and turning it off.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::events::{self, AuthEvent};
use crate::accounts::state::AccountsState;
use crate::accounts::two_factor::{self, ConfirmOutcome, Enrolment};
use crate::auth::Principal;
use crate::error::{AppError, FieldCode};
use crate::security::SecretString;
use crate::web::forms::user_agent;
use crate::web::{client_ip, redirect, render, FormErrors, Page};

#[derive(Template)]
#[template(path = "accounts/two_factor.html")]
struct TwoFactorPage {
    page: Page,
    enabled: bool,
    enrolment: Option<Enrolment>,
    /// Shown once, right after confirmation.
    recovery_codes: Vec<String>,
    errors: FormErrors,
}

async fn show(
    state: &AccountsState,
    page: Page,
    me: &Principal,
    status: StatusCode,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let enrolment = if me.second_factor {
        None
    } else {
        Some(two_factor::start_enrolment(state, me).await?)
    };
    render(
        status,
        &TwoFactorPage {
            page,
            enabled: me.second_factor,
            enrolment,
            recovery_codes: Vec::new(),
            errors,
        },
    )
}

pub async fn form(
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    show(&state, page, &me, StatusCode::OK, FormErrors::default()).await
}

/// The QR code of the pending secret, as an SVG image.
pub async fn qr(state: web::Data<AccountsState>, me: Principal) -> Result<HttpResponse, AppError> {
    if me.second_factor {
        return Err(AppError::NotFound);
    }
    let enrolment = two_factor::start_enrolment(&state, &me).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "no-store"))
        .body(enrolment.qr_svg))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    code: SecretString,
}

pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    match two_factor::confirm(&state, &me, form.code.expose()).await? {
        ConfirmOutcome::Enabled(codes) => {
            let (ip, ua) = (client_ip::of(&req), user_agent(&req));
            events::record(&state, me.id, AuthEvent::SecondFactorEnabled, &ip, &ua).await;
            render(
                StatusCode::OK,
                &TwoFactorPage {
                    page,
                    enabled: true,
                    enrolment: None,
                    recovery_codes: codes,
                    errors: FormErrors::default(),
                },
            )
        }
        ConfirmOutcome::WrongCode => {
            let errors = FormErrors::one("code", FieldCode::InvalidCode);
            show(&state, page, &me, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DisableForm {
    password: SecretString,
    code: SecretString,
}

pub async fn disable(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
    form: web::Form<DisableForm>,
) -> Result<HttpResponse, AppError> {
    match two_factor::disable(
        &state,
        &me,
        &form.password,
        form.code.expose(),
        &crate::accounts::reentry::Caller::of(&req),
    )
    .await?
    {
        Ok(()) => {
            let (ip, ua) = (client_ip::of(&req), user_agent(&req));
            events::record(&state, me.id, AuthEvent::SecondFactorDisabled, &ip, &ua).await;
            Ok(redirect("/settings?notice=two_factor_disabled"))
        }
        Err(errors) => show(&state, page, &me, StatusCode::UNPROCESSABLE_ENTITY, errors).await,
    }
}
