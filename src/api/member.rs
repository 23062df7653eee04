//! What a member does through the API, over the services the pages use:
//! the feed, swipes and rewind, who liked me, matches and their messages,
//! unmatch, block, report, and my sessions. Lists carry `next_cursor` (and
//! a `Link` header when there is a next page).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::bearer::ApiUser;
use super::schema::{
    Card, CardPage, ChatMessage, MatchItem, MatchPage, MessagePage, Problem, ReportReasonName,
    Reported, Rewound, SessionItem, SessionPage, SwipeKindName, Swiped,
};
use crate::accounts::state::AccountsState;
use crate::auth::UserId;
use crate::db::types::{MatchId, MessageId};
use crate::discovery::service::{self as discovery, SwipeOutcome};
use crate::discovery::state::DiscoveryState;
use crate::discovery::swipes::SwipeKind;
use crate::error::AppError;
use crate::matches::reports::ReportReason;
use crate::matches::state::ChatState;
use crate::matches::{chat, service as matches};

pub fn configure(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/feed", web::get().to(feed))
        .route("/swipes", web::post().to(swipe))
        .route("/swipes/rewind", web::post().to(rewind))
        .route("/likes", web::get().to(likes))
        .route("/matches", web::get().to(match_list))
        .route("/matches/{id}", web::delete().to(unmatch))
        .route("/matches/{id}/messages", web::get().to(history))
        .route("/matches/{id}/messages", web::post().to(send))
        .route("/users/{id}/block", web::post().to(block))
        .route("/users/{id}/report", web::post().to(report))
        .route("/sessions", web::get().to(sessions))
        .route("/sessions/{id}", web::delete().to(end_session))
        .route("/me/export", web::get().to(export))
}

/// A list answer (`items`, `next_cursor`) with a `Link` to the next page.
fn list(req: &HttpRequest, page: impl serde::Serialize, next: Option<&str>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = next {
        let link = format!("<{}?cursor={cursor}>; rel=\"next\"", req.path());
        res.insert_header((header::LINK, link));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(page)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct Cursor {
    /// From `next_cursor` of the page before.
    cursor: Option<String>,
}

/// The feed's cursor: an opaque page token (`p2`, …).
fn page_of(cursor: Option<&str>) -> Result<usize, AppError> {
    match cursor {
        None | Some("") => Ok(1),
        Some(c) => c
            .strip_prefix('p')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=10_000).contains(n))
            .ok_or(AppError::InvalidInput),
    }
}

/// People for me, a page at a time.
#[utoipa::path(get, path = "/api/v1/feed", tag = "discovery", params(Cursor),
    security(("bearer" = [])),
    responses((status = 200, body = CardPage, description = "A page of my feed")))]
pub(super) async fn feed(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
    q: web::Query<Cursor>,
) -> Result<HttpResponse, AppError> {
    let page = page_of(q.cursor.as_deref())?;
    let found = discovery::feed_page(&state, &me, page).await?;
    let items = found
        .cards
        .iter()
        .map(|(p, superliked)| Card::of(&state.settings, p, *superliked))
        .collect();
    let next_cursor = found.has_next.then(|| format!("p{}", page + 1));
    let link = next_cursor.clone();
    Ok(list(&req, CardPage { items, next_cursor }, link.as_deref()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SwipeBody {
    /// The member swiped.
    target: i64,
    #[schema(value_type = SwipeKindName)]
    kind: String,
}

/// Swipes a member of my feed (or who liked me).
#[utoipa::path(post, path = "/api/v1/swipes", tag = "discovery", request_body = SwipeBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Swiped, description = "Swiped; `matched` when it made a match"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`email_not_verified` or `profile_incomplete`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "Not someone I can swipe"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`already_swiped` or `superlike_limit_reached`"),
    ))]
pub(super) async fn swipe(
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
    body: web::Json<SwipeBody>,
) -> Result<HttpResponse, AppError> {
    let kind = SwipeKind::parse(body.kind.trim()).ok_or(AppError::InvalidInput)?;
    let outcome = discovery::swipe(&state, &me, UserId(body.target), kind).await?;
    let (matched, match_id) = match outcome {
        SwipeOutcome::Swiped => (false, None),
        SwipeOutcome::Matched(id) => (true, Some(id)),
    };
    Ok(HttpResponse::Created().json(Swiped {
        matched,
        match_id: match_id.map(|m| m.0),
    }))
}

/// Undoes my last swipe.
#[utoipa::path(post, path = "/api/v1/swipes/rewind", tag = "discovery",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Rewound, description = "Undone"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`rewind_limit_reached` or `nothing_to_rewind`"),
    ))]
pub(super) async fn rewind(
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
) -> Result<HttpResponse, AppError> {
    let target = discovery::rewind(&state, &me).await?;
    Ok(HttpResponse::Ok().json(Rewound { target: target.0 }))
}

/// Who liked me (one page: the site shows them all).
#[utoipa::path(get, path = "/api/v1/likes", tag = "discovery",
    security(("bearer" = [])),
    responses((status = 200, body = CardPage, description = "Who liked me")))]
pub(super) async fn likes(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
) -> Result<HttpResponse, AppError> {
    let found = discovery::likes(&state, &me).await?;
    let items = found
        .iter()
        .map(|(p, superliked)| Card::of(&state.settings, p, *superliked))
        .collect();
    let page = CardPage {
        items,
        next_cursor: None,
    };
    Ok(list(&req, page, None))
}

/// My matches, the newest conversation first.
#[utoipa::path(get, path = "/api/v1/matches", tag = "matches",
    security(("bearer" = [])),
    responses((status = 200, body = MatchPage, description = "My matches")))]
pub(super) async fn match_list(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<ChatState>,
) -> Result<HttpResponse, AppError> {
    let (views, _) = matches::list(&state, &me).await?;
    let items = views
        .iter()
        .map(|v| MatchItem {
            id: v.id.0,
            user: Card::of(&state.settings, &v.card, false),
            unread: v.unread,
            last_message: v.last.as_ref().map(ChatMessage::of),
        })
        .collect();
    let page = MatchPage {
        items,
        next_cursor: None,
    };
    Ok(list(&req, page, None))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct Before {
    /// Messages older than this message id.
    before: Option<i64>,
    /// The `next_cursor` of a page (the same as `before`).
    cursor: Option<String>,
}

/// A page of a match's messages, oldest first; `next_cursor` is the
/// `before` of the page older than this one.
#[utoipa::path(get, path = "/api/v1/matches/{id}/messages", tag = "matches",
    params(("id" = i64, Path, description = "The match"), Before),
    security(("bearer" = [])),
    responses(
        (status = 200, body = MessagePage, description = "Messages"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "Not a match of mine"),
    ))]
pub(super) async fn history(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<ChatState>,
    path: web::Path<i64>,
    q: web::Query<Before>,
) -> Result<HttpResponse, AppError> {
    let before = match (q.before, q.cursor.as_deref()) {
        (Some(b), _) => Some(b),
        (None, Some(c)) if !c.is_empty() => Some(c.parse().map_err(|_| AppError::InvalidInput)?),
        _ => None,
    };
    let found = matches::show(
        &state,
        &me,
        MatchId(path.into_inner()),
        before.map(MessageId),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let next_cursor = found.older.map(|m| m.0.to_string());
    let link = next_cursor.clone();
    let items = found.messages.iter().map(ChatMessage::of).collect();
    Ok(list(
        &req,
        MessagePage { items, next_cursor },
        link.as_deref(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SendBody {
    body: String,
    /// A UUID the app makes: sending it again gives the message stored the first time.
    client_id: String,
}

/// Sends a message (the same `client_id` again gives the message stored
/// the first time).
#[utoipa::path(post, path = "/api/v1/matches/{id}/messages", tag = "matches",
    params(("id" = i64, Path, description = "The match")), request_body = SendBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = ChatMessage, description = "Sent"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "Not a match of mine"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`match_closed`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`message_empty` or `message_too_long`"),
    ))]
pub(super) async fn send(
    ApiUser(me): ApiUser,
    state: web::Data<ChatState>,
    path: web::Path<i64>,
    body: web::Json<SendBody>,
) -> Result<HttpResponse, AppError> {
    let sent = chat::send(
        &state,
        me.id,
        MatchId(path.into_inner()),
        &body.body,
        &body.client_id,
    )
    .await?;
    let m = match &sent {
        chat::Sent::New(m) | chat::Sent::Again(m) => m,
    };
    Ok(HttpResponse::Created().json(ChatMessage::of(m)))
}

/// Unmatch: the conversation ends for both.
#[utoipa::path(delete, path = "/api/v1/matches/{id}", tag = "matches",
    params(("id" = i64, Path, description = "The match")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unmatched"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "Not a match of mine"),
    ))]
pub(super) async fn unmatch(
    ApiUser(me): ApiUser,
    state: web::Data<ChatState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !matches::unmatch(&state, &me, MatchId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub(super) struct SafetyBody {
    #[schema(value_type = ReportReasonName)]
    reason: String,
    details: String,
}

/// Blocks a member: neither sees the other again.
#[utoipa::path(post, path = "/api/v1/users/{id}/block", tag = "safety",
    params(("id" = i64, Path, description = "The member")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Blocked"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such member"),
    ))]
pub(super) async fn block(
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !discovery::block(&state, &me, UserId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Reports a member to the moderators.
#[utoipa::path(post, path = "/api/v1/users/{id}/report", tag = "safety",
    params(("id" = i64, Path, description = "The member")), request_body = SafetyBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Reported, description = "Reported"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such member"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`already_reported`"),
    ))]
pub(super) async fn report(
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
    path: web::Path<i64>,
    body: web::Json<SafetyBody>,
) -> Result<HttpResponse, AppError> {
    let reason = ReportReason::parse(body.reason.trim()).ok_or(AppError::InvalidInput)?;
    if !discovery::report(
        &state,
        &me,
        UserId(path.into_inner()),
        reason,
        &body.details,
    )
    .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::Created().json(Reported { reported: true }))
}

/// My sessions, web and app (`current` marks this one).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, body = SessionPage, description = "My sessions")))]
pub(super) async fn sessions(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<AccountsState>,
) -> Result<HttpResponse, AppError> {
    let found = crate::accounts::settings::list_sessions(&state, &me).await?;
    let items = found
        .iter()
        .map(|s| SessionItem {
            id: s.handle(),
            device: s.user_agent.clone(),
            created_at: s.created_at.and_utc().to_rfc3339(),
            last_seen_at: s.last_seen_at.and_utc().to_rfc3339(),
            current: s.id == me.session_id,
        })
        .collect();
    let page = SessionPage {
        items,
        next_cursor: None,
    };
    Ok(list(&req, page, None))
}

/// Ends one of my sessions (204 whether or not the id was one of mine:
/// nothing of anyone else's changes).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "The session's `id` from the list")),
    security(("bearer" = [])),
    responses((status = 204, description = "Ended")))]
pub(super) async fn end_session(
    ApiUser(me): ApiUser,
    state: web::Data<AccountsState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let handle: String = path.into_inner().chars().take(64).collect();
    crate::accounts::settings::revoke_one(&state, &me, handle).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// My data: what the site's export puts in its ZIP, one member per JSON
/// file (`account`, `profile`, `preferences`, `photos`, `swipes`,
/// `matches`, `messages`, `reports`, `blocks`, `sessions`,
/// `security_events`); the ZIP with the photo files is asked for on
/// `/settings/data`.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/json", body = Object, description = "My data, as the export's JSON files")))]
pub(super) async fn export(
    ApiUser(me): ApiUser,
    state: web::Data<AccountsState>,
) -> Result<HttpResponse, AppError> {
    let data = crate::accounts::export::as_json(&state, me.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(data))
}
