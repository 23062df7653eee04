//! `/login/sms` (a number, then the code on the same page) and
//! `/settings/phone` (add a number, proven by a code).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::login::{landing, open_identity, second_step};
use crate::accounts::login::{self, LoginOutcome};
use crate::accounts::phone::Phone;
use crate::accounts::sms::{self, Purpose};
use crate::accounts::state::AccountsState;
use crate::auth::{Principal, User};
use crate::error::{AppError, FieldCode};
use crate::web::forms::user_agent;
use crate::web::{client_ip, redirect, render, FormErrors, Page};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    phone: String,
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/login_sms.html")]
struct SmsLoginPage {
    page: Page,
    /// The number, once a code was sent to it.
    phone: String,
    sent: bool,
    errors: FormErrors,
}

pub async fn form(page: Page) -> Result<HttpResponse, AppError> {
    crate::web::ok(&SmsLoginPage {
        page,
        phone: String::new(),
        sent: false,
        errors: FormErrors::default(),
    })
}

fn again(
    page: Page,
    phone: String,
    sent: bool,
    status: StatusCode,
    field: &'static str,
    code: FieldCode,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &SmsLoginPage {
            page,
            phone,
            sent,
            errors: FormErrors::one(field, code),
        },
    )
}

/// Without `code`: sends one (to a number with an account; the page says
/// the same either way). With it: logs in.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    session: Session,
    page: Page,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => p,
        Err(code) => {
            return again(
                page,
                String::new(),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
                "phone",
                code,
            )
        }
    };
    let Some(code) = form.code.filter(|c| !c.trim().is_empty()) else {
        let number = phone.as_str().to_string();
        let known = state
            .db
            .primary(move |c| Ok(User::find_by_phone(c, &number)?))
            .await?
            .is_some_and(|u| u.is_active);
        if known {
            let lang = page.t.lang();
            sms::send_code(
                &state,
                &phone,
                Purpose::Login,
                &client_ip::bucket(&req),
                lang,
            )
            .await?;
        } else {
            // The same limits as a real send, and the same page.
            sms::charge(&state, &phone, &client_ip::bucket(&req)).await?;
        }
        return render(
            StatusCode::OK,
            &SmsLoginPage {
                page,
                phone: phone.as_str().to_string(),
                sent: true,
                errors: FormErrors::default(),
            },
        );
    };
    let number = phone.as_str().to_string();
    let user = if sms::check_code(&state, &phone, Purpose::Login, &code).await {
        state
            .db
            .primary(move |c| Ok(User::find_by_phone(c, &number)?))
            .await?
            .filter(|u| u.is_active)
    } else {
        None
    };
    let Some(user) = user else {
        return again(
            page,
            phone.as_str().to_string(),
            true,
            StatusCode::UNAUTHORIZED,
            "code",
            FieldCode::InvalidCode,
        );
    };
    let (ip, agent) = (client_ip::of(&req), user_agent(&req));
    let replaces = page.user.as_ref().map(|u| u.session_id.clone());
    match login::proven(&state, user, false, (&ip, &agent), replaces).await? {
        LoginOutcome::LoggedIn(done) => {
            let (user, record) = *done;
            let next = landing(&state, &user).await?;
            open_identity(&req, &user, &record, &next)
        }
        LoginOutcome::SecondFactor(pending) => second_step(&session, &pending),
        _ => again(
            page,
            phone.as_str().to_string(),
            true,
            StatusCode::UNAUTHORIZED,
            "code",
            FieldCode::InvalidCode,
        ),
    }
}

#[derive(Template)]
#[template(path = "accounts/phone.html")]
struct PhonePage {
    page: Page,
    /// The verified number on the account.
    current: Option<String>,
    /// The number a code was just sent to.
    phone: String,
    sent: bool,
    errors: FormErrors,
}

pub async fn phone_form(
    state: web::Data<AccountsState>,
    me: Principal,
    page: Page,
) -> Result<HttpResponse, AppError> {
    let id = me.id;
    let current = state
        .db
        .primary(move |c| Ok(User::phone_of(c, id)?))
        .await?;
    crate::web::ok(&PhonePage {
        page,
        current,
        phone: String::new(),
        sent: false,
        errors: FormErrors::default(),
    })
}

/// Sends a code to the number typed; with the code, records the number.
pub async fn phone_submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Principal,
    page: Page,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let id = me.id;
    let current = state
        .db
        .primary(move |c| Ok(User::phone_of(c, id)?))
        .await?;
    let shown = |page: Page, phone: String, sent: bool, errors: FormErrors, status: StatusCode| {
        render(
            status,
            &PhonePage {
                page,
                current: current.clone(),
                phone,
                sent,
                errors,
            },
        )
    };
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => p,
        Err(code) => {
            return shown(
                page,
                String::new(),
                false,
                FormErrors::one("phone", code),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    let purpose = Purpose::AddPhone(me.id);
    let Some(code) = form.code.filter(|c| !c.trim().is_empty()) else {
        let lang = page.t.lang();
        sms::send_code(&state, &phone, purpose, &client_ip::bucket(&req), lang).await?;
        return shown(
            page,
            phone.as_str().to_string(),
            true,
            FormErrors::default(),
            StatusCode::OK,
        );
    };
    if !sms::check_code(&state, &phone, purpose, &code).await {
        return shown(
            page,
            phone.as_str().to_string(),
            true,
            FormErrors::one("code", FieldCode::InvalidCode),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let number = phone.as_str().to_string();
    let saved = state
        .db
        .write(move |c| Ok(User::set_phone(c, id, &number)?))
        .await?;
    if !saved {
        return shown(
            page,
            String::new(),
            false,
            FormErrors::one("phone", FieldCode::PhoneTaken),
            StatusCode::CONFLICT,
        );
    }
    state.hub.members_changed(vec![me.id]).await;
    Ok(redirect("/settings/phone?notice=phone_saved"))
}
