//! `/matches`, `/matches/{id}` (the conversation), `/matches/{id}/messages`
//! (sending without JavaScript), `/matches/{id}/unmatch`, `/ws/chat`.

use actix_web::{web, HttpResponse};
use askama::Template;

use serde::Deserialize;

use super::chat;
use super::messages::Message;
use super::service::{self, MatchView};
use super::store::MatchId;
use crate::auth::Principal;
use crate::db::types::MessageId;
use crate::error::AppError;
use crate::matches::state::ChatState;
use crate::web::time::LocalTime;
use crate::web::{redirect, Page};

/// Times on these pages: the member's zone, relative to now.
fn times(state: &ChatState, me: &Principal) -> LocalTime {
    LocalTime::new(
        state.clock.now(),
        me.time_zone.as_deref(),
        state.settings.time_zone,
    )
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/matches", web::get().to(list))
        .route("/matches/{id}", web::get().to(show))
        .route("/matches/{id}/messages", web::post().to(send))
        .route("/matches/{id}/unmatch", web::post().to(unmatch))
        .route("/ws/chat", web::get().to(super::ws::connect));
}

#[derive(Template)]
#[template(path = "matches/list.html")]
struct ListPage {
    page: Page,
    matches: Vec<MatchView>,
    /// The newest message id the counts include (for chat.js).
    since: MessageId,
    times: LocalTime,
    me: i64,
    /// The open conversation (none on the list page).
    open: Option<MatchId>,
}

async fn list(
    state: web::Data<ChatState>,
    page: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    let (matches, since) = service::list(&state, &me).await?;
    crate::web::ok(&ListPage {
        page,
        matches,
        since,
        times: times(&state, &me),
        me: me.id.0,
        open: None,
    })
}

#[derive(Template)]
#[template(path = "matches/show.html")]
struct ShowPage {
    page: Page,
    m: MatchView,
    /// All my conversations, beside this one.
    matches: Vec<MatchView>,
    open: Option<MatchId>,
    times: LocalTime,
    messages: Vec<Message>,
    older: Option<MessageId>,
    /// My newest message the other member has read (the "Seen" marker).
    seen: Option<MessageId>,
    since: MessageId,
    /// A fresh client id for the form, so a resubmitted form stores once.
    client_id: String,
    me: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    before: Option<MessageId>,
}

async fn show(
    state: web::Data<ChatState>,
    mut page: Page,
    me: Principal,
    path: web::Path<MatchId>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let conv = service::show(&state, &me, path.into_inner(), query.before)
        .await?
        .ok_or(AppError::NotFound)?;
    if query.before.is_none() {
        // Read now: the navigation's count (read before) goes down with it.
        if let Some(user) = page.user.as_mut() {
            user.unread_messages = (user.unread_messages - conv.view.unread).max(0);
        }
    }
    let seen = conv
        .messages
        .iter()
        .filter(|msg| msg.sender_id == me.id && msg.id <= conv.their_read_up_to)
        .map(|msg| msg.id)
        .max();
    crate::web::ok(&ShowPage {
        page,
        open: Some(conv.view.id),
        m: conv.view,
        matches: conv.all,
        times: times(&state, &me),
        messages: conv.messages,
        older: conv.older,
        seen,
        since: conv.since,
        client_id: crate::security::random::token(16),
        me: me.id.0,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageForm {
    body: String,
    client_id: String,
}

/// `POST /matches/{id}/messages`: the same send as the socket's.
async fn send(
    state: web::Data<ChatState>,
    me: Principal,
    path: web::Path<MatchId>,
    form: web::Form<MessageForm>,
) -> Result<HttpResponse, AppError> {
    let match_id = path.into_inner();
    let form = form.into_inner();
    let client_id = if form.client_id.is_empty() {
        crate::security::random::token(16)
    } else {
        form.client_id
    };
    chat::send(&state, me.id, match_id, &form.body, &client_id).await?;
    Ok(redirect(&format!("/matches/{}#composer", match_id.0)))
}

async fn unmatch(
    state: web::Data<ChatState>,
    me: Principal,
    path: web::Path<MatchId>,
) -> Result<HttpResponse, AppError> {
    if !service::unmatch(&state, &me, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/matches?notice=unmatched"))
}
