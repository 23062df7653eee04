use actix_identity::Identity;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::login::{self, LoginOutcome, LoginRequest, SecondStepOutcome};
use crate::accounts::state::AccountsState;
use crate::accounts::two_factor::PendingLogin;
use crate::accounts::{captcha, defence};
use crate::auth::{sessions, Principal};
use crate::auth::{User, UserSession};
use crate::error::{AppError, FieldCode};
use crate::limits::rules;
use crate::security::SecretString;
use crate::web::forms::{safe_next, user_agent};
use crate::web::{client_ip, page, redirect, render, FormErrors, Page};

/// The login form; the password never prints.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: SecretString,
    remember: Option<String>,
    next: Option<String>,
    captcha_id: Option<String>,
    captcha: Option<String>,
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
    /// The captcha challenge to answer, when one is needed.
    captcha: Option<String>,
    /// Third-party login buttons: (name, label).
    providers: Vec<(String, String)>,
    /// Whether logging in by text message is offered.
    sms: bool,
}

pub async fn form(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page_ctx: Page,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if page_ctx.user.is_some() {
        return Ok(redirect("/discover"));
    }
    let next = safe_next(query.next.as_deref()).unwrap_or_default();
    // An IP past its failure threshold sees the captcha straight away; the
    // answer is made when the image is asked for, never by the page view.
    let ip_bucket = client_ip::bucket(&req);
    let captcha = defence::stance(&state.counters, &state.runtime, "", &ip_bucket)
        .await?
        .captcha
        .then(captcha::fresh_id);
    crate::web::ok(&LoginPage {
        providers: providers(&state),
        sms: state.settings.sms_available(),
        page: page_ctx,
        email: String::new(),
        next,
        errors: FormErrors::default(),
        captcha,
    })
}

/// The form again after a refusal: the same page whatever the reason, with
/// a fresh captcha when the next attempt needs one.
async fn refused(
    state: &AccountsState,
    page_ctx: Page,
    form: &LoginForm,
    code: FieldCode,
    with_captcha: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let captcha = match with_captcha {
        Some(ip_bucket) => Some(captcha::issue(&state.counters, ip_bucket).await),
        None => None,
    };
    render(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            providers: providers(state),
            sms: state.settings.sms_available(),
            page: page_ctx,
            email: String::new(),
            next: safe_next(form.next.as_deref()).unwrap_or_default(),
            errors: FormErrors::one("form", code),
            captcha,
        },
    )
}

/// `GET /captcha/{id}.png`: the picture of a live challenge.
pub async fn captcha_image(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(id) = path.strip_suffix(".png") else {
        return Err(AppError::NotFound);
    };
    state
        .counters
        .enforce(
            &state.runtime,
            rules::CAPTCHA_PER_IP,
            &client_ip::bucket(&req),
        )
        .await?;
    match captcha::png(&state.counters, id, &client_ip::bucket(&req)).await? {
        Some(png) => Ok(HttpResponse::Ok()
            .content_type("image/png")
            .insert_header(("cache-control", "no-store"))
            .body(png)),
        None => Err(AppError::NotFound),
    }
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    session: Session,
    page_ctx: Page,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ip_bucket = client_ip::bucket(&req);
    let request = LoginRequest {
        email: form.email.clone(),
        password: form.password.clone(),
        remember: form.remember.is_some(),
        ip: client_ip::of(&req),
        ip_bucket: ip_bucket.clone(),
        user_agent: user_agent(&req),
        replaces: page_ctx.user.as_ref().map(|u| u.session_id.clone()),
        captcha: form
            .captcha_id
            .clone()
            .map(|id| (id, form.captcha.clone().unwrap_or_default())),
    };
    let (user, record) = match login::log_in(&state, request).await? {
        LoginOutcome::LoggedIn(done) => *done,
        LoginOutcome::Refused { captcha } => {
            return refused(
                &state,
                page_ctx,
                &form,
                FieldCode::InvalidCredentials,
                captcha.then_some(ip_bucket.as_str()),
            )
            .await
        }
        LoginOutcome::CaptchaNeeded(code) => {
            return refused(&state, page_ctx, &form, code, Some(&ip_bucket)).await
        }
        LoginOutcome::SecondFactor(pending) => return second_step(&session, &pending),
    };
    let next = match safe_next(form.next.as_deref()) {
        Some(next) => next,
        None => landing(&state, &user).await?,
    };
    open_identity(&req, &user, &record, &next)
}

/// The session starts now (a fresh id), holding only the pending login; the
/// identity comes with the second step.
pub(super) fn second_step(
    session: &Session,
    pending: &PendingLogin,
) -> Result<HttpResponse, AppError> {
    session.renew();
    session
        .insert(PENDING_KEY, pending)
        .map_err(|e| AppError::internal("session", e))?;
    Ok(redirect("/login/2fa"))
}

/// The login form with one error for the whole form (a provider login that
/// could not go through).
pub(super) fn form_with_error(
    state: &AccountsState,
    page_ctx: Page,
    status: StatusCode,
    code: FieldCode,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &LoginPage {
            providers: providers(state),
            sms: state.settings.sms_available(),
            page: page_ctx,
            email: String::new(),
            next: String::new(),
            errors: FormErrors::one("form", code),
            captcha: None,
        },
    )
}

/// The configured providers' buttons: (name, label).
fn providers(state: &AccountsState) -> Vec<(String, String)> {
    state
        .settings
        .oauth
        .iter()
        .map(|p| (p.name.clone(), p.label.clone()))
        .collect()
}

/// Where a fresh login lands when no page was asked for: the admin console
/// for staff, the deck for members.
/// Where a phone number's new account gives nickname, sex and birthday.
pub const WELCOME: &str = "/welcome";

pub(super) async fn landing(state: &AccountsState, user: &User) -> Result<String, AppError> {
    if user.profile_pending {
        return Ok(WELCOME.to_string());
    }
    let id = user.id;
    let staff = state
        .db
        .primary(move |c| Ok(crate::auth::rbac::is_staff(c, id)?))
        .await?;
    Ok(if staff { "/admin" } else { "/discover" }.to_string())
}

/// Logs this browser in as the member of `record`: a previous member's
/// identity is replaced and the session key renewed (no fixation); the CSRF
/// token changes too, being bound to the new session row's id.
pub(super) fn open_identity(
    req: &HttpRequest,
    user: &User,
    record: &UserSession,
    next: &str,
) -> Result<HttpResponse, AppError> {
    Identity::login(&req.extensions(), record.id.expose().to_string())
        .map_err(|e| AppError::internal("identity login", e))?;
    if let Some(lang) = &user.language {
        page::save_lang(req, lang);
    }
    // For the rest of this request only (a redirect): the next one loads
    // the principal, staff role included.
    req.extensions_mut()
        .insert(record.principal(&user.into(), false));
    tracing::info!(user_id = %user.id, "logged in");
    Ok(redirect(next))
}

const PENDING_KEY: &str = "pending_2fa";

#[derive(Template)]
#[template(path = "accounts/login_2fa.html")]
struct SecondStepPage {
    page: Page,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SecondStepForm {
    code: SecretString,
}

fn pending(session: &Session) -> Option<PendingLogin> {
    session.get::<PendingLogin>(PENDING_KEY).ok().flatten()
}

/// `GET /login/2fa`: the code form, for a login whose password was right.
pub async fn second_step_form(page_ctx: Page, session: Session) -> Result<HttpResponse, AppError> {
    if pending(&session).is_none() {
        return Ok(redirect("/login"));
    }
    crate::web::ok(&SecondStepPage {
        page: page_ctx,
        errors: FormErrors::default(),
    })
}

/// `POST /login/2fa`: a TOTP or recovery code completes the login.
pub async fn second_step_submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    session: Session,
    page_ctx: Page,
    form: web::Form<SecondStepForm>,
) -> Result<HttpResponse, AppError> {
    let Some(pending) = pending(&session) else {
        return Ok(redirect("/login"));
    };
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    let replaces = page_ctx.user.as_ref().map(|u| u.session_id.clone());
    let outcome =
        login::complete_second_factor(&state, &pending, form.code.expose(), (&ip, &ua), replaces)
            .await?;
    match outcome {
        SecondStepOutcome::LoggedIn(done) => {
            let (user, record) = *done;
            session.remove(PENDING_KEY);
            let next = landing(&state, &user).await?;
            open_identity(&req, &user, &record, &next)
        }
        SecondStepOutcome::WrongCode => render(
            StatusCode::UNAUTHORIZED,
            &SecondStepPage {
                page: page_ctx,
                errors: FormErrors::one("code", FieldCode::InvalidCode),
            },
        ),
        SecondStepOutcome::Expired => {
            session.remove(PENDING_KEY);
            Ok(redirect("/login"))
        }
    }
}

pub async fn logout(
    state: web::Data<AccountsState>,
    session: Session,
    me: Option<Principal>,
) -> Result<HttpResponse, AppError> {
    if let Some(me) = me {
        let sid = me.session_id.clone();
        state
            .db
            .primary(move |c| Ok(sessions::revoke(c, &sid)?))
            .await?;
        state.hub.sessions_ended(me.id).await;
    }
    // The whole server-side state goes, and with it the cookie.
    session.purge();
    Ok(redirect("/login?notice=logged_out"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_form_never_prints_its_password() {
        let form: Result<LoginForm, _> = serde_json::from_value(serde_json::json!({
            "email": "ada@example.com",
            "password": "correct horse battery staple",
        }));
        let printed = format!("{form:?}");
        assert!(printed.contains("ada@example.com"), "{printed}");
        assert!(!printed.contains("correct horse"), "{printed}");
    }
}
