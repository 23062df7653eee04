//! `/discover`, `/swipes`, `/swipes/rewind`, `/likes`, `/users/{id}` and the
//! safety actions on a member (`/users/{id}/block`, `/users/{id}/report`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::Deserialize;

use super::limits::Allowance;
use super::pages::EmptyReason;
use super::service::{self, SwipeOutcome};
use super::swipes::SwipeKind;
use crate::auth::{Principal, UserId};
use crate::discovery::state::DiscoveryState;
use crate::error::{AppError, ErrorCode};
use crate::matches::reports::ReportReason;
use crate::matches::store::MatchId;
use crate::profiles::public::PublicProfile;
use crate::web::{redirect, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/discover", web::get().to(discover))
        .route("/swipes", web::post().to(swipe))
        .route("/swipes/rewind", web::post().to(rewind))
        .route("/likes", web::get().to(likes))
        .route("/users/{id}", web::get().to(user))
        .route("/users/{id}/block", web::post().to(block))
        .route("/users/{id}/report", web::post().to(report));
}

#[derive(Template)]
#[template(path = "discovery/discover.html")]
struct DiscoverPage {
    page: Page,
    me: Principal,
    cards: std::sync::Arc<Vec<(PublicProfile, bool)>>,
    page_no: usize,
    has_next: bool,
    empty: Option<EmptyReason>,
    allowance: Allowance,
    /// Why the swipe or undo just asked for was refused (a page without
    /// JavaScript sees the deck again, with the reason).
    error: Option<ErrorCode>,
    /// "It's a match": the match just made and who with.
    matched: Option<(MatchId, PublicProfile)>,
}

impl DiscoverPage {
    fn empty_key(&self) -> &'static str {
        match self.empty {
            Some(EmptyReason::ProfileIncomplete) => "discover.empty_profile_incomplete",
            Some(EmptyReason::NotVerified) => "discover.empty_not_verified",
            Some(EmptyReason::NoPlace) => "discover.empty_no_place",
            _ => "discover.empty_nobody",
        }
    }

    fn error_message(&self) -> &str {
        self.error
            .map_or("", |code| self.page.t.t(code.message_key()))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
    /// After a match without JavaScript: whom it is with.
    #[serde(rename = "match")]
    matched: Option<MatchId>,
}

async fn discover(
    state: web::Data<DiscoveryState>,
    page: Page,
    me: Principal,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let matched = match query.matched {
        Some(id) => service::matched_with(&state, &me, id)
            .await?
            .map(|card| (id, card)),
        None => None,
    };
    let no = query.page.unwrap_or(1);
    deck(&state, page, me, no, None, matched).await
}

/// The discover page: page `no` of my feed, and what just happened.
async fn deck(
    state: &DiscoveryState,
    page: Page,
    me: Principal,
    no: usize,
    error: Option<AppError>,
    matched: Option<(MatchId, PublicProfile)>,
) -> Result<HttpResponse, AppError> {
    let feed = service::feed_page(state, &me, no.min(1000)).await?;
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status_code());
    crate::web::render(
        status,
        &DiscoverPage {
            page,
            me,
            cards: feed.cards,
            page_no: feed.page,
            has_next: feed.has_next,
            empty: feed.empty,
            allowance: feed.allowance,
            error: error.map(|e| e.code()),
            matched,
        },
    )
}

/// A refusal the discover page explains itself (no JavaScript): a swipe or
/// an undo that the day's allowance, an earlier swipe or an unverified
/// address stops. Anything else is an error page.
fn said_on_the_deck(result: &Result<impl Sized, AppError>) -> bool {
    matches!(
        result,
        Err(AppError::Refused(
            ErrorCode::AlreadySwiped
                | ErrorCode::SuperlikeLimitReached
                | ErrorCode::RewindLimitReached
                | ErrorCode::NothingToRewind
                | ErrorCode::EmailNotVerified
                | ErrorCode::ProfileIncomplete
        ))
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwipeForm {
    target: String,
    kind: String,
}

fn wants_json(req: &HttpRequest) -> bool {
    crate::web::errors::wants_json(req.headers(), req.path())
}

fn parse_target(raw: &str) -> Result<UserId, AppError> {
    raw.trim()
        .parse::<i64>()
        .map(UserId)
        .map_err(|_| AppError::InvalidInput)
}

async fn swipe(
    req: HttpRequest,
    state: web::Data<DiscoveryState>,
    page: Page,
    me: Principal,
    form: web::Form<SwipeForm>,
) -> Result<HttpResponse, AppError> {
    let target = parse_target(&form.target)?;
    let kind = SwipeKind::parse(form.kind.trim()).ok_or(AppError::InvalidInput)?;
    let json = wants_json(&req);
    let outcome = service::swipe(&state, &me, target, kind).await;
    if !json && said_on_the_deck(&outcome) {
        return deck(&state, page, me, 1, outcome.err(), None).await;
    }
    let outcome = outcome?;
    if json {
        let body = match outcome {
            SwipeOutcome::Swiped => serde_json::json!({ "result": "swiped" }),
            SwipeOutcome::Matched(id) => serde_json::json!({ "result": "match", "match_id": id }),
        };
        return Ok(HttpResponse::Ok().json(body));
    }
    Ok(match outcome {
        SwipeOutcome::Swiped => redirect("/discover"),
        SwipeOutcome::Matched(id) => redirect(&format!("/discover?notice=its_a_match&match={id}")),
    })
}

async fn rewind(
    req: HttpRequest,
    state: web::Data<DiscoveryState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let json = wants_json(&req);
    let target = service::rewind(&state, &me).await;
    if !json && said_on_the_deck(&target) {
        return deck(&state, page, me, 1, target.err(), None).await;
    }
    let target = target?;
    if json {
        return Ok(
            HttpResponse::Ok().json(serde_json::json!({ "result": "rewound", "target": target }))
        );
    }
    Ok(redirect("/discover?notice=rewound"))
}

#[derive(Template)]
#[template(path = "discovery/likes.html")]
struct LikesPage {
    page: Page,
    likes: Vec<(PublicProfile, bool)>,
    /// My plan does not show who liked me: only how many did.
    hidden: Option<u64>,
}

async fn likes(
    state: web::Data<DiscoveryState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let likes = service::likes(&state, &me).await?;
    if !service::plan_of(&state, &me).await?.see_likes {
        return crate::web::ok(&LikesPage {
            page,
            hidden: Some(u64::try_from(likes.len()).unwrap_or(u64::MAX)),
            likes: Vec::new(),
        });
    }
    crate::web::ok(&LikesPage {
        page,
        likes,
        hidden: None,
    })
}

#[derive(Template)]
#[template(path = "discovery/user.html")]
struct UserPage {
    page: Page,
    card: PublicProfile,
    /// Like and Nope are offered: I have not swiped them.
    can_swipe: bool,
    /// The block and report menu starts open (`?safety`, the chat menu's link).
    safety: bool,
    reasons: &'static [ReportReason],
}

#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    safety: Option<String>,
}

async fn user(
    state: web::Data<DiscoveryState>,
    page: Page,
    me: Principal,
    path: web::Path<UserId>,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, AppError> {
    let (card, can_swipe) = service::view_user(&state, &me, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    crate::web::ok(&UserPage {
        page,
        card,
        can_swipe,
        safety: query.safety.is_some(),
        reasons: ReportReason::ALL,
    })
}

async fn block(
    state: web::Data<DiscoveryState>,
    me: Principal,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    if !service::block(&state, &me, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/discover?notice=blocked"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    reason: String,
    details: String,
}

async fn report(
    state: web::Data<DiscoveryState>,
    me: Principal,
    path: web::Path<UserId>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, AppError> {
    let reason = ReportReason::parse(form.reason.trim()).ok_or(AppError::InvalidInput)?;
    if !service::report(&state, &me, path.into_inner(), reason, &form.details).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/discover?notice=reported"))
}
