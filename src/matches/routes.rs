//! `/matches`, `/matches/{id}`, `/matches/{id}/unmatch`.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::service::{self, MatchView};
use super::store::MatchId;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{redirect, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/matches", web::get().to(list))
        .route("/matches/{id}", web::get().to(show))
        .route("/matches/{id}/unmatch", web::post().to(unmatch));
}

#[derive(Template)]
#[template(path = "matches/list.html")]
struct ListPage {
    page: Page,
    matches: Vec<MatchView>,
}

async fn list(
    state: web::Data<AppState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let matches = service::list(&state, &me).await?;
    crate::web::ok(&ListPage { page, matches })
}

#[derive(Template)]
#[template(path = "matches/show.html")]
struct ShowPage {
    page: Page,
    m: MatchView,
}

async fn show(
    state: web::Data<AppState>,
    page: Page,
    me: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let m = service::show(&state, &me, MatchId(path.into_inner()))
        .await?
        .ok_or(AppError::NotFound)?;
    crate::web::ok(&ShowPage { page, m })
}

async fn unmatch(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !service::unmatch(&state, &me, MatchId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/matches?notice=unmatched"))
}
