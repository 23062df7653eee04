use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::accounts::tokens;
use crate::accounts::verify::{self, ResendOutcome};
use crate::accounts::CurrentUser;
use crate::db;
use crate::error::AppError;
use crate::startup::AppState;
use crate::web::{redirect, Page};

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "accounts/verified.html")]
struct VerifiedPage {
    page: Page,
}

pub async fn verify(
    state: web::Data<AppState>,
    page: Page,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token;
    if !tokens::looks_valid(&token) {
        return Err(AppError::InvalidToken);
    }
    let ok = db::run(&state.pool, move |c| {
        Ok(verify::verify_email(c, &token, db::now())?)
    })
    .await?;
    if !ok {
        return Err(AppError::InvalidToken);
    }
    crate::web::ok(&VerifiedPage { page })
}

pub async fn resend(
    state: web::Data<AppState>,
    page: Page,
    me: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (id, lang, cooldown) = (
        me.id,
        page.t.lang().to_string(),
        state.settings.mail_cooldown,
    );
    let outcome = db::run(&state.pool, move |c| {
        Ok(verify::resend(c, id, &lang, db::now(), cooldown)?)
    })
    .await?;
    match outcome {
        ResendOutcome::Queued => {
            state.wake_worker();
            Ok(redirect("/settings?notice=verification_sent"))
        }
        ResendOutcome::AlreadyVerified => Ok(redirect("/settings")),
        ResendOutcome::TooSoon { retry_after_secs } => Err(AppError::TooSoon { retry_after_secs }),
    }
}
