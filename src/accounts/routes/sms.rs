//! `/login/sms` (a number, then the code on the same page) and
//! `/settings/phone` (add a number, proven by a code).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::login::{landing, open_identity, second_step};
use crate::accounts::captcha;
use crate::accounts::events::{self, AuthEvent};
use crate::accounts::login::{self, LoginOutcome};
use crate::accounts::phone::Phone;
use crate::accounts::reentry::{self, Caller, Guards};
use crate::accounts::signup::{self, PersonForm};
use crate::accounts::sms::{self, Purpose};
use crate::accounts::state::AccountsState;
use crate::auth::{Principal, User};
use crate::error::{AppError, FieldCode};
use crate::limits::{Decision, Limit};
use crate::security::SecretString;
use crate::web::forms::user_agent;
use crate::web::{client_ip, redirect, render, FormErrors, Page};

/// Without a way to send texts (production without `SMS_URL`) the phone
/// pages do not exist.
fn phone_features_on(state: &AccountsState) -> Result<(), AppError> {
    if state.settings.sms_available() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    phone: String,
    code: Option<String>,
    captcha_id: Option<String>,
    captcha: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/login_sms.html")]
struct SmsLoginPage {
    page: Page,
    /// The number, once a code was sent to it.
    phone: String,
    sent: bool,
    errors: FormErrors,
    /// The captcha challenge to answer with the code, when one is needed.
    captcha: Option<String>,
}

pub async fn form(state: web::Data<AccountsState>, page: Page) -> Result<HttpResponse, AppError> {
    phone_features_on(&state)?;
    crate::web::ok(&SmsLoginPage {
        page,
        phone: String::new(),
        sent: false,
        errors: FormErrors::default(),
        captcha: None,
    })
}

/// The page again, with one refused field.
fn again(
    page: Page,
    phone: String,
    sent: bool,
    status: StatusCode,
    (field, code): (&'static str, FieldCode),
    captcha: Option<String>,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &SmsLoginPage {
            page,
            phone,
            sent,
            errors: FormErrors::one(field, code),
            captcha,
        },
    )
}

/// Without `code`: sends one (the page says the same for any number). With
/// it: logs in (past the failure thresholds, with a captcha answered too).
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    session: Session,
    page: Page,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    phone_features_on(&state)?;
    let form = form.into_inner();
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => p,
        Err(code) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return again(page, String::new(), false, status, ("phone", code), None);
        }
    };
    let ip_bucket = client_ip::bucket(&req);
    let number = phone.as_str().to_string();
    let Some(code) = form.code.filter(|c| !c.trim().is_empty()) else {
        // The same page whether or not the number is known.
        sms::request_login_code(&state, &phone, &ip_bucket, page.t.lang()).await?;
        // Past the failure thresholds the code goes with a captcha (its
        // answer is made when the image is asked for).
        let captcha = sms::needs_captcha(&state, &phone, &ip_bucket)
            .await?
            .then(captcha::fresh_id);
        return render(
            StatusCode::OK,
            &SmsLoginPage {
                page,
                phone: number,
                sent: true,
                errors: FormErrors::default(),
                captcha,
            },
        );
    };
    let attempt = sms::CodeAttempt {
        phone: &phone,
        code: &code,
        lang: page.t.lang(),
        ip_bucket: &ip_bucket,
        captcha: form
            .captcha_id
            .map(|id| (id, form.captcha.unwrap_or_default())),
    };
    let unauthorized = StatusCode::UNAUTHORIZED;
    let user = match sms::login_member(&state, attempt).await? {
        sms::CodeLogin::LoggedIn(user) => *user,
        sms::CodeLogin::Refused { captcha: needed } => {
            let captcha = match needed {
                true => Some(captcha::issue(&state.counters, &ip_bucket).await),
                false => None,
            };
            let field = ("code", FieldCode::InvalidCode);
            return again(page, number, true, unauthorized, field, captcha);
        }
        sms::CodeLogin::CaptchaNeeded(why) => {
            let captcha = Some(captcha::issue(&state.counters, &ip_bucket).await);
            return again(page, number, true, unauthorized, ("form", why), captcha);
        }
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
        _ => {
            let field = ("code", FieldCode::InvalidCode);
            again(page, number, true, unauthorized, field, None)
        }
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
    phone_features_on(&state)?;
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PhoneForm {
    phone: String,
    code: Option<String>,
    password: SecretString,
}

/// Codes one member may have sent by the add-a-number form in a day.
const PER_ACCOUNT_DAY: Limit = Limit {
    name: "sms-account-day",
    max: 5,
    window: std::time::Duration::from_secs(24 * 3600),
};

/// With the password, sends a code to the number typed (a number is a way
/// to log in: adding one is a sensitive action); with the code, records it.
pub async fn phone_submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Principal,
    page: Page,
    form: web::Form<PhoneForm>,
) -> Result<HttpResponse, AppError> {
    phone_features_on(&state)?;
    let form = form.into_inner();
    let id = me.id;
    let (user, current) = state
        .db
        .primary(move |c| {
            let user = User::find(c, id)?.ok_or(AppError::LoginRequired)?;
            Ok((user, User::phone_of(c, id)?))
        })
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
        let caller = Caller::of(&req);
        if !reentry::check(&Guards::of(&state), &caller, &user, &form.password).await? {
            return shown(
                page,
                phone.as_str().to_string(),
                false,
                FormErrors::one("password", FieldCode::WrongPassword),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        if let Decision::Limited { retry_after_secs } = state
            .counters
            .charge(PER_ACCOUNT_DAY, &id.to_string())
            .await
        {
            return Err(AppError::TooSoon { retry_after_secs });
        }
        let lang = page.t.lang();
        sms::send_code(&state, &phone, purpose, &caller.ip_bucket, lang, true).await?;
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
    let (ip, agent) = (client_ip::of(&req), user_agent(&req));
    events::record(&state, id, AuthEvent::PhoneAdded, &ip, &agent).await;
    state.hub.members_changed(vec![me.id]).await;
    Ok(redirect("/settings/phone?notice=phone_saved"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RemoveForm {
    password: SecretString,
}

/// `POST /settings/phone/remove`: with the password, the number no longer
/// logs in.
pub async fn phone_remove(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Principal,
    page: Page,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, AppError> {
    let id = me.id;
    let (user, current) = state
        .db
        .primary(move |c| {
            let user = User::find(c, id)?.ok_or(AppError::LoginRequired)?;
            Ok((user, User::phone_of(c, id)?))
        })
        .await?;
    let caller = Caller::of(&req);
    if !reentry::check(&Guards::of(&state), &caller, &user, &form.password).await? {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PhonePage {
                page,
                current,
                phone: String::new(),
                sent: false,
                errors: FormErrors::one("password", FieldCode::WrongPassword),
            },
        );
    }
    state
        .db
        .write(move |c| Ok(User::clear_phone(c, id)?))
        .await?;
    events::record(
        &state,
        id,
        AuthEvent::PhoneRemoved,
        &caller.ip,
        &caller.user_agent,
    )
    .await;
    Ok(redirect("/settings/phone?notice=phone_removed"))
}

#[derive(Template)]
#[template(path = "accounts/welcome.html")]
struct WelcomePage {
    page: Page,
    form: PersonForm,
    errors: FormErrors,
    max_birthday: String,
}

/// `GET /welcome`: a phone number's new account gives nickname, sex and
/// birthday (18+) before it swipes or is seen.
pub async fn welcome_form(
    state: web::Data<AccountsState>,
    me: Principal,
    page: Page,
) -> Result<HttpResponse, AppError> {
    if !me.profile_pending {
        return Ok(redirect("/discover"));
    }
    crate::web::ok(&WelcomePage {
        page,
        form: PersonForm::default(),
        errors: FormErrors::default(),
        max_birthday: signup::max_birthday(state.clock.today()),
    })
}

/// `POST /welcome`: 422 with a code per refused field, or on to the
/// profile (photos and a place).
pub async fn welcome_submit(
    state: web::Data<AccountsState>,
    me: Principal,
    page: Page,
    form: web::Form<PersonForm>,
) -> Result<HttpResponse, AppError> {
    if !me.profile_pending {
        return Ok(redirect("/discover"));
    }
    let form = form.into_inner();
    match form.validate(state.clock.today()) {
        Ok(person) => {
            signup::complete_phone(&state, &me, person).await?;
            Ok(redirect("/profile?notice=welcome_done"))
        }
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &WelcomePage {
                page,
                form,
                errors,
                max_birthday: signup::max_birthday(state.clock.today()),
            },
        ),
    }
}
