use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::events::{self, AuthEvent};
use crate::accounts::password::{self, ChangePasswordForm};
use crate::accounts::reentry::Caller;
use crate::accounts::settings;
use crate::accounts::state::AccountsState;
use crate::auth::events::AuthEventRow;
use crate::auth::{Principal, SessionId, UserSession};
use crate::error::AppError;
use crate::i18n;
use crate::mail::Optional;
use crate::web::client_ip;
use crate::web::forms::{safe_next, user_agent};
use crate::web::{page, redirect, render, FormErrors, Page};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MailsForm {
    /// Checkboxes: absent is off.
    match_mail: Option<String>,
    message_mail: Option<String>,
}

/// `POST /settings/mails`: which mails I get.
pub async fn save_mails(
    state: web::Data<AccountsState>,
    me: Principal,
    form: web::Form<MailsForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    for (kind, on) in [
        (Optional::Match, form.match_mail.is_some()),
        (Optional::Message, form.message_mail.is_some()),
    ] {
        settings::set_mail(&state, me.id, kind, on).await?;
    }
    Ok(redirect("/settings?notice=mails_saved"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnsubscribeLink {
    u: i64,
    m: String,
    t: String,
}

#[derive(Template)]
#[template(path = "accounts/unsubscribe.html")]
struct UnsubscribePage {
    page: Page,
    /// The link's query, for the confirming form.
    query: String,
    done: bool,
}

impl UnsubscribeLink {
    fn target(&self, state: &AccountsState) -> Result<(Optional, crate::auth::UserId), AppError> {
        settings::unsubscribe_target(state, self.u, &self.m, &self.t)
    }
}

/// `GET /unsubscribe?u=&m=&t=`: the mail's link, opened in a browser: a
/// button confirms (a link scanner's GET changes nothing).
pub async fn unsubscribe_form(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    link: web::Query<UnsubscribeLink>,
) -> Result<HttpResponse, AppError> {
    link.target(&state)?;
    crate::web::ok(&UnsubscribePage {
        page,
        query: req.query_string().to_string(),
        done: false,
    })
}

/// `POST /unsubscribe?u=&m=&t=`: turns the mail off, from the page's button
/// or a mail client's one-click POST (RFC 8058); no login and no CSRF token
/// (the signed link is the proof, and the change only stops mail).
pub async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    link: web::Query<UnsubscribeLink>,
) -> Result<HttpResponse, AppError> {
    let (kind, id) = link.target(&state)?;
    settings::set_mail(&state, id, kind, false).await?;
    crate::web::ok(&UnsubscribePage {
        page,
        query: req.query_string().to_string(),
        done: true,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchForm {
    lang: String,
    next: Option<String>,
}

/// `POST /language`: the footer's switcher. A visitor's choice is a cookie
/// (no session is made for it); a member's is saved on the account too, so
/// mails and texts follow it. Back to the page it was made on.
pub async fn switch_language(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Option<Principal>,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    let SwitchForm { lang, next } = form.into_inner();
    if !crate::i18n::is_supported(&lang) {
        return Err(AppError::InvalidInput);
    }
    if let Some(me) = &me {
        settings::set_language(&state, me, &lang).await?;
        page::save_lang(&req, &lang);
    }
    let cookie = actix_web::cookie::Cookie::build(page::LANG_COOKIE, lang)
        .path("/")
        .max_age(actix_web::cookie::time::Duration::days(365))
        .same_site(actix_web::cookie::SameSite::Lax)
        .http_only(true)
        .secure(state.settings.is_https())
        .finish();
    let mut res = redirect(&safe_next(next.as_deref()).unwrap_or_else(|| "/".to_string()));
    res.add_cookie(&cookie)
        .map_err(|e| AppError::internal("cookie", e))?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "accounts/settings.html")]
struct SettingsPage {
    page: Page,
    me: Principal,
    errors: FormErrors,
    languages: Vec<(String, String)>,
    /// Every configured provider: (name, label, linked).
    providers: Vec<(String, String, bool)>,
    /// The mails I control, each on or off.
    mails: Vec<(Optional, bool)>,
}

/// The configured providers, each with whether I linked it.
async fn providers(
    state: &AccountsState,
    me: &Principal,
) -> Result<Vec<(String, String, bool)>, AppError> {
    let linked = crate::accounts::oauth::linked(state, me).await?;
    Ok(state
        .settings
        .oauth
        .iter()
        .map(|p| (p.name.clone(), p.label.clone(), linked.contains(&p.name)))
        .collect())
}

fn languages() -> Vec<(String, String)> {
    i18n::languages()
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect()
}

pub async fn show(
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    crate::web::ok(&SettingsPage {
        providers: providers(&state, &me).await?,
        mails: settings::mails(&state, me.id).await?,
        page,
        me,
        errors: FormErrors::default(),
        languages: languages(),
    })
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
    form: web::Form<ChangePasswordForm>,
) -> Result<HttpResponse, AppError> {
    match password::change(&state, &me, &form, &Caller::of(&req)).await? {
        Ok(()) => {
            let (ip, ua) = (client_ip::of(&req), user_agent(&req));
            events::record(&state, me.id, AuthEvent::PasswordChanged, &ip, &ua).await;
            Ok(redirect("/settings?notice=password_changed"))
        }
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage {
                providers: providers(&state, &me).await?,
                mails: settings::mails(&state, me.id).await?,
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
    state: web::Data<AccountsState>,
    me: Principal,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let code = form.into_inner().language;
    if !settings::set_language(&state, &me, &code).await? {
        return Err(AppError::InvalidInput);
    }
    page::save_lang(&req, &code);
    Ok(redirect("/settings?notice=language_saved"))
}

#[derive(Template)]
#[template(path = "accounts/sessions.html")]
struct SessionsPage {
    page: Page,
    current: SessionId,
    sessions: Vec<UserSession>,
    activity: Vec<AuthEventRow>,
    /// Times in my zone, as my language writes them.
    times: crate::web::time::LocalTime,
}

pub async fn sessions(
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let sessions = settings::list_sessions(&state, &me).await?;
    let activity = settings::recent_activity(&state, &me).await?;
    let times = crate::web::time::LocalTime::new(
        state.clock.now(),
        me.time_zone.as_deref(),
        state.settings.time_zone,
    );
    crate::web::ok(&SessionsPage {
        page,
        current: me.session_id,
        sessions,
        activity,
        times,
    })
}

/// "Log out everywhere else": every other session of mine ends, on every instance.
pub async fn revoke_others(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    settings::revoke_others(&state, &me).await?;
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    events::record(&state, me.id, AuthEvent::SessionRevoked, &ip, &ua).await;
    Ok(redirect("/settings/sessions?notice=sessions_revoked"))
}

pub async fn revoke_one(
    req: HttpRequest,
    state: web::Data<AccountsState>,
    me: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    settings::revoke_one(&state, &me, path.into_inner()).await?;
    let (ip, ua) = (client_ip::of(&req), user_agent(&req));
    events::record(&state, me.id, AuthEvent::SessionRevoked, &ip, &ua).await;
    Ok(redirect("/settings/sessions?notice=sessions_revoked"))
}
