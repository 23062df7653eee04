//! Third-party login: `/auth/oauth/{provider}` → the provider →
//! `/auth/oauth/{provider}/callback`; the profile form of a new member
//! (`/auth/oauth/complete`); linking and unlinking from settings.

use actix_session::Session;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::login::{form_with_error, open_identity, second_step};
use crate::accounts::login::LoginOutcome;
use crate::accounts::oauth::{self, Callback, CallbackQuery, Completed, ProfileForm};
use crate::accounts::signup;
use crate::accounts::state::AccountsState;
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode, FieldCode};
use crate::web::forms::user_agent;
use crate::web::{client_ip, redirect, render, FormErrors, Page};

fn cookie(state: &AccountsState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(state.settings.is_https())
        // Lax: the provider sends the browser back with a top-level GET.
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(oauth::FLOW_SECS))
        .finish()
}

fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path("/").finish();
    c.make_removal();
    c
}

fn to_provider(state: &AccountsState, url: String, sealed: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", url))
        .insert_header(("cache-control", "no-store"))
        .cookie(cookie(state, oauth::FLOW_COOKIE, sealed))
        .finish()
}

/// `GET /auth/oauth/{provider}`: off to the provider (only configured ones).
pub async fn start(
    state: web::Data<AccountsState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let p = oauth::provider(&state, &path).ok_or(AppError::NotFound)?;
    let (url, sealed) = oauth::begin(&state, p, None)?;
    Ok(to_provider(&state, url, sealed))
}

/// `POST /settings/oauth/{provider}/link`: the same, to link the provider.
pub async fn link(
    state: web::Data<AccountsState>,
    me: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let p = oauth::provider(&state, &path).ok_or(AppError::NotFound)?;
    let (url, sealed) = oauth::begin(&state, p, Some(me.id))?;
    Ok(to_provider(&state, url, sealed))
}

/// Where a login outcome leads the browser.
async fn after_login(
    req: &HttpRequest,
    session: &Session,
    state: &AccountsState,
    page: Page,
    outcome: LoginOutcome,
) -> Result<HttpResponse, AppError> {
    match outcome {
        LoginOutcome::LoggedIn(done) => {
            let (user, record) = *done;
            let next = super::login::landing(state, &user).await?;
            open_identity(req, &user, &record, &next)
        }
        LoginOutcome::SecondFactor(pending) => second_step(session, &pending),
        LoginOutcome::Refused { .. } | LoginOutcome::CaptchaNeeded(_) => form_with_error(
            state,
            page,
            StatusCode::UNAUTHORIZED,
            FieldCode::OauthFailed,
        ),
    }
}

/// `GET /auth/oauth/{provider}/callback`.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    session: Session,
    page: Page,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let p = oauth::provider(&state, &path).ok_or(AppError::NotFound)?;
    let flow = req
        .cookie(oauth::FLOW_COOKIE)
        .map(|c| c.value().to_string());
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    let me = page.user.clone();
    let outcome =
        oauth::callback(&state, p, flow.as_deref(), &query, me.as_ref(), (&ip, &ua)).await?;
    let mut res = match outcome {
        Callback::Login(outcome) => after_login(&req, &session, &state, page, outcome).await?,
        Callback::Linked => redirect("/settings?notice=oauth_linked"),
        Callback::InUse => redirect("/settings?notice=oauth_in_use"),
        Callback::NeedsProfile(sealed) => {
            let mut res = redirect("/auth/oauth/complete");
            res.add_cookie(&cookie(&state, oauth::SIGNUP_COOKIE, sealed))
                .map_err(|e| AppError::internal("cookie", e))?;
            res
        }
        Callback::EmailTaken => form_with_error(
            &state,
            page,
            StatusCode::CONFLICT,
            FieldCode::OauthEmailTaken,
        )?,
        Callback::Failed => form_with_error(
            &state,
            page,
            StatusCode::UNAUTHORIZED,
            FieldCode::OauthFailed,
        )?,
    };
    // The flow is over, whatever happened: its state cannot be replayed.
    res.add_cookie(&removal(oauth::FLOW_COOKIE))
        .map_err(|e| AppError::internal("cookie", e))?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "accounts/oauth_complete.html")]
struct CompletePage {
    page: Page,
    provider: String,
    /// The provider gave no email: the form asks for one.
    ask_email: bool,
    form: ProfileForm,
    errors: FormErrors,
    max_birthday: String,
}

fn pending_of(req: &HttpRequest, state: &AccountsState) -> Option<oauth::PendingProfile> {
    let cookie = req
        .cookie(oauth::SIGNUP_COOKIE)
        .map(|c| c.value().to_string());
    oauth::pending_profile(state, cookie.as_deref())
}

/// `GET /auth/oauth/complete`: the profile fields a provider does not give.
pub async fn complete_form(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
) -> Result<HttpResponse, AppError> {
    let Some(pending) = pending_of(&req, &state) else {
        return Ok(redirect("/login"));
    };
    let form = ProfileForm {
        nickname: pending.identity.name.clone().unwrap_or_default(),
        ..ProfileForm::default()
    };
    crate::web::ok(&CompletePage {
        page,
        provider: pending.provider.clone(),
        ask_email: pending.identity.email.is_none(),
        form,
        errors: FormErrors::default(),
        max_birthday: signup::max_birthday(state.clock.today()),
    })
}

/// `POST /auth/oauth/complete`: creates the member and logs them in.
pub async fn complete_submit(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    session: Session,
    page: Page,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let Some(pending) = pending_of(&req, &state) else {
        return Ok(redirect("/login"));
    };
    let form = form.into_inner();
    // A completion is a sign-up: limited per address as `/signup` is.
    signup::limit_address(&state, &client_ip::bucket(&req)).await?;
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    let lang = page.t.lang().to_string();
    let mut res = match oauth::complete_profile(&state, &pending, &form, &lang, (&ip, &ua)).await? {
        Completed::Login(outcome) => after_login(&req, &session, &state, page, outcome).await?,
        Completed::Invalid(errors) => {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &CompletePage {
                    page,
                    provider: pending.provider.clone(),
                    ask_email: pending.identity.email.is_none(),
                    form,
                    errors,
                    max_birthday: signup::max_birthday(state.clock.today()),
                },
            )
        }
        Completed::EmailTaken => form_with_error(
            &state,
            page,
            StatusCode::CONFLICT,
            FieldCode::OauthEmailTaken,
        )?,
        Completed::CheckEmail => redirect("/login?notice=check_email"),
        Completed::Spent => redirect("/login"),
    };
    res.add_cookie(&removal(oauth::SIGNUP_COOKIE))
        .map_err(|e| AppError::internal("cookie", e))?;
    Ok(res)
}

/// `POST /settings/oauth/{provider}/unlink`; never the last way to log in.
pub async fn unlink(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    if oauth::unlink(&state, &me, &path, (&ip, &ua)).await? {
        Ok(redirect("/settings?notice=oauth_unlinked"))
    } else {
        Err(AppError::Refused(ErrorCode::LastLoginMethod))
    }
}
