use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::state::AccountsState;
use crate::accounts::tokens;
use crate::accounts::verify::{self, ResendOutcome};
use crate::auth::Principal;
use crate::error::AppError;
use crate::security::SecretString;
use crate::web::{redirect, Page};

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: SecretString,
}

#[derive(Template)]
#[template(path = "accounts/verified.html")]
struct VerifiedPage {
    page: Page,
}

pub async fn verify(
    state: web::Data<AccountsState>,
    page: Page,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    if !tokens::looks_valid(token.expose()) || !verify::verify_email(&state, token).await? {
        return Err(AppError::InvalidToken);
    }
    crate::web::ok(&VerifiedPage { page })
}

pub async fn resend(
    req: actix_web::HttpRequest,
    state: web::Data<AccountsState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let counters = &state.counters;
    let ip = crate::web::client_ip::bucket(&req);
    counters
        .enforce(&state.runtime, crate::limits::rules::RESEND_PER_IP, &ip)
        .await?;
    counters
        .enforce(
            &state.runtime,
            crate::limits::rules::RESEND_PER_ACCOUNT,
            &me.id.to_string(),
        )
        .await?;
    match verify::resend(&state, &me, page.t.lang()).await? {
        ResendOutcome::Queued => Ok(redirect("/settings?notice=verification_sent")),
        ResendOutcome::AlreadyVerified => Ok(redirect("/settings")),
        ResendOutcome::TooSoon { retry_after_secs } => Err(AppError::TooSoon { retry_after_secs }),
    }
}
