//! What a member does through the API, over the services the pages use:
//! the feed, swipes and rewind, who liked me, matches and their messages,
//! unmatch, block, report, and my sessions. Lists carry `next_cursor` (and
//! a `Link` header when there is a next page).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::bearer::ApiUser;
use crate::accounts::state::AccountsState;
use crate::auth::UserId;
use crate::config::Settings;
use crate::db::types::{MatchId, MessageId};
use crate::discovery::service::{self as discovery, SwipeOutcome};
use crate::discovery::state::DiscoveryState;
use crate::discovery::swipes::SwipeKind;
use crate::error::AppError;
use crate::matches::messages::Message;
use crate::matches::reports::ReportReason;
use crate::matches::state::ChatState;
use crate::matches::{chat, service as matches};
use crate::profiles::public::PublicProfile;

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
}

/// A card as the API shows it: photo URLs absolute.
fn card(settings: &Settings, p: &PublicProfile, superliked_me: bool) -> Value {
    let url = |u: &str| {
        if u.starts_with("http://") || u.starts_with("https://") {
            u.to_string()
        } else {
            settings.absolute_url(u)
        }
    };
    json!({
        "id": p.id,
        "nickname": p.nickname,
        "age": p.age,
        "city": p.city,
        "distance_km": p.distance_km,
        "bio": p.bio,
        "photos": p.photos.iter().map(|ph| url(&ph.large)).collect::<Vec<_>>(),
        "superliked_me": superliked_me,
    })
}

/// A list answer: `items`, `next_cursor`, and a `Link` to the next page.
fn list(req: &HttpRequest, items: Vec<Value>, next: Option<String>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &next {
        let link = format!("<{}?cursor={cursor}>; rel=\"next\"", req.path());
        res.insert_header((header::LINK, link));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items, "next_cursor": next }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cursor {
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

/// `GET /api/v1/feed?cursor=`: people for me, a page at a time.
async fn feed(
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
        .map(|(p, superliked)| card(&state.settings, p, *superliked))
        .collect();
    let next = found.has_next.then(|| format!("p{}", page + 1));
    Ok(list(&req, items, next))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwipeBody {
    target: i64,
    kind: String,
}

/// `POST /api/v1/swipes`: 201 `{"matched","match_id"}`.
async fn swipe(
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
    Ok(HttpResponse::Created().json(json!({ "matched": matched, "match_id": match_id })))
}

/// `POST /api/v1/swipes/rewind`: my last swipe undone.
async fn rewind(
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
) -> Result<HttpResponse, AppError> {
    let target = discovery::rewind(&state, &me).await?;
    Ok(HttpResponse::Ok().json(json!({ "target": target })))
}

/// `GET /api/v1/likes`: who liked me (one page: the site shows them all).
async fn likes(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
) -> Result<HttpResponse, AppError> {
    let found = discovery::likes(&state, &me).await?;
    let items = found
        .iter()
        .map(|(p, superliked)| card(&state.settings, p, *superliked))
        .collect();
    Ok(list(&req, items, None))
}

fn message(m: &Message) -> Value {
    json!({
        "id": m.id,
        "match_id": m.match_id,
        "from": m.sender_id,
        "body": m.body,
        "client_id": m.client_id,
        "sent_at": m.sent_at.and_utc().to_rfc3339(),
    })
}

/// `GET /api/v1/matches`: my matches, the newest conversation first.
async fn match_list(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<ChatState>,
) -> Result<HttpResponse, AppError> {
    let (views, _) = matches::list(&state, &me).await?;
    let items = views
        .iter()
        .map(|v| {
            json!({
                "id": v.id,
                "user": card(&state.settings, &v.card, false),
                "unread": v.unread,
                "last_message": v.last.as_ref().map(message),
            })
        })
        .collect();
    Ok(list(&req, items, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Before {
    before: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/v1/matches/{id}/messages?before=`: a page of messages, oldest
/// first; `next_cursor` is the `before` of the page older than this one.
async fn history(
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
    let items = found.messages.iter().map(message).collect();
    Ok(list(&req, items, found.older.map(|m| m.0.to_string())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    body: String,
    client_id: String,
}

/// `POST /api/v1/matches/{id}/messages`: 201 with the message (the same
/// `client_id` again gives the message stored the first time).
async fn send(
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
    Ok(HttpResponse::Created().json(message(m)))
}

/// `DELETE /api/v1/matches/{id}`: unmatch.
async fn unmatch(
    ApiUser(me): ApiUser,
    state: web::Data<ChatState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !matches::unmatch(&state, &me, MatchId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct SafetyBody {
    reason: String,
    details: String,
}

/// `POST /api/v1/users/{id}/block`.
async fn block(
    ApiUser(me): ApiUser,
    state: web::Data<DiscoveryState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !discovery::block(&state, &me, UserId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/users/{id}/report` `{"reason","details"}`.
async fn report(
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
    Ok(HttpResponse::Created().json(json!({ "reported": true })))
}

/// `GET /api/v1/sessions`: my sessions, web and app (`current` marks this one).
async fn sessions(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<AccountsState>,
) -> Result<HttpResponse, AppError> {
    let found = crate::accounts::settings::list_sessions(&state, &me).await?;
    let items = found
        .iter()
        .map(|s| {
            json!({
                "id": s.handle(),
                "device": s.user_agent,
                "created_at": s.created_at.and_utc().to_rfc3339(),
                "last_seen_at": s.last_seen_at.and_utc().to_rfc3339(),
                "current": s.id == me.session_id,
            })
        })
        .collect();
    Ok(list(&req, items, None))
}

/// `DELETE /api/v1/sessions/{id}`: ends one of my sessions (204 whether or
/// not the id was one of mine: nothing of anyone else's changes).
async fn end_session(
    ApiUser(me): ApiUser,
    state: web::Data<AccountsState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let handle: String = path.into_inner().chars().take(64).collect();
    crate::accounts::settings::revoke_one(&state, &me, handle).await?;
    Ok(HttpResponse::NoContent().finish())
}
