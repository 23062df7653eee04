//! `GET /ws/chat`: a member's live chat socket (actix-ws). The session
//! cookie authenticates it and the `Origin` must be the site's own (no
//! cross-site WebSocket hijacking). Frames are JSON text (DESIGN.md §8), at
//! most 8 KB; a bad frame gets an `error` frame and the socket stays open.
//! The server pings every 15 s and closes a socket silent for 45 s. With
//! `?after=ID` the socket first receives every message of the member's
//! matches after that id, in order, then live ones, each once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError, Session};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::chat::{self, Sent};
use super::messages;
use super::store::MatchId;
use crate::auth::sessions::{self, SessionId};
use crate::auth::{Principal, UserId};
use crate::db::types::MessageId;
use crate::error::{AppError, ErrorCode};
use crate::i18n::Tr;
use crate::matches::state::ChatState;
use crate::realtime::Registration;

/// The largest frame a client may send.
pub const MAX_FRAME: usize = 8 * 1024;
const PING_EVERY: Duration = Duration::from_secs(15);
const IDLE_CLOSE: Duration = Duration::from_secs(45);
/// Every this many pings (a minute) a socket checks its session by itself.
const RECHECK_EVERY_PINGS: u32 = 4;
/// Backlog rows read at a time.
const BACKLOG_PAGE: i64 = 500;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConnectQuery {
    pub after: Option<MessageId>,
}

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Send {
        match_id: MatchId,
        body: String,
        client_id: String,
    },
    Read {
        match_id: MatchId,
        up_to: MessageId,
    },
}

pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<ChatState>,
    me: Principal,
    query: web::Query<ConnectQuery>,
) -> Result<HttpResponse, AppError> {
    let origin = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    if !origin.is_some_and(|o| state.settings.allowed_origins().iter().any(|a| a == o)) {
        return Err(AppError::Forbidden);
    }
    open(&req, body, state, me, query.into_inner().after)
}

/// Opens the socket for `me`, authenticated by the caller: a browser's
/// session cookie from its own origin ([`connect`]), or an app's bearer
/// token (the API, where no Origin is needed: the token is not ambient).
pub fn open(
    req: &HttpRequest,
    body: web::Payload,
    state: web::Data<ChatState>,
    me: Principal,
    after: Option<MessageId>,
) -> Result<HttpResponse, AppError> {
    // A bound on one member's sockets here, so nobody can hold the
    // instance's memory with thousands of them.
    if state.hub.sockets_of(me.id) >= state.settings.chat_sockets_per_member {
        return Err(AppError::TooSoon {
            retry_after_secs: 60,
        });
    }
    let (response, session, stream) =
        actix_ws::handle(req, body).map_err(|_| AppError::InvalidInput)?;
    let stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    // Registered before the backlog is read, so nothing falls in between.
    let registration = state.hub.register(me.id);
    let t = crate::web::page::tr_for(req);
    actix_web::rt::spawn(run(
        state.into_inner(),
        me.id,
        me.session_id,
        t,
        session,
        stream,
        registration,
        after,
    ));
    Ok(response)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    state: Arc<ChatState>,
    me: UserId,
    session_id: SessionId,
    t: Tr,
    mut session: Session,
    mut stream: actix_ws::AggregatedMessageStream,
    mut reg: Registration,
    after: Option<MessageId>,
) {
    // The session was checked before the socket joined the hub; a ban or a
    // sign-out in between was announced before it could hear, so look again.
    if let Some(reason) = signed_out(&state, &session_id, &mut session).await {
        let _ = session.close(Some(reason)).await;
        return;
    }
    let mut sent_from_backlog = HashSet::new();
    if let Some(after) = after {
        match Box::pin(backlog(&state, me, after, &mut session)).await {
            Ok(ids) => sent_from_backlog = ids,
            Err(()) => return,
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut pings: u32 = 0;
    let mut last_heard = Instant::now();
    let reason = loop {
        tokio::select! {
            frame = stream.next() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        // Boxed: the send path's future is large, and an
                        // idle socket should not carry its space.
                        let handled = Box::pin(handle_text(&state, me, &t, &text, &mut session));
                        if handled.await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        if session.text(chat::error_frame(ErrorCode::InvalidFrame, &t)).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Close(_))) | None => break None,
                    // Text that is not UTF-8: 1007, as RFC 6455 says.
                    Some(Err(ProtocolError::Io(e))) if e.kind() == std::io::ErrorKind::InvalidData => {
                        break Some(CloseReason {
                            code: CloseCode::Invalid,
                            description: Some("text frame is not UTF-8".into()),
                        })
                    }
                    // Too large, or not WebSocket at all: the stream cannot go on.
                    Some(Err(_)) => break Some(CloseReason {
                        code: CloseCode::Size,
                        description: Some("frame too large or malformed".into()),
                    }),
                }
            }
            event = reg.events.recv() => {
                let Some(event) = event else { break None };
                if event.session_check {
                    match Box::pin(signed_out(&state, &session_id, &mut session)).await {
                        Some(reason) => break Some(reason),
                        None => continue,
                    }
                }
                if event.message_id.is_some_and(|id| sent_from_backlog.remove(&id)) {
                    continue;
                }
                if session.text(event.frame.clone()).await.is_err() {
                    return;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_CLOSE {
                    break Some(CloseReason { code: CloseCode::Policy, description: Some("idle".into()) });
                }
                if session.ping(b"").await.is_err() {
                    return;
                }
                // Now and then, without being told: the session may have
                // reached its expiry, or an announcement been lost while
                // Redis reconnected.
                pings = pings.wrapping_add(1);
                if pings % RECHECK_EVERY_PINGS == 0 {
                    if let Some(reason) = Box::pin(signed_out(&state, &session_id, &mut session)).await {
                        break Some(reason);
                    }
                }
            }
            _ = reg.shutdown.changed() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("restarting".into()) });
            }
        }
    };
    let _ = session.close(reason).await;
}

/// Checks that the socket's session is still alive. If it is gone (a ban, a
/// sign-out elsewhere, its expiry), tells the page, so it goes to the login
/// page, and gives the reason to close with (1008, which chat.js does not
/// reconnect after). If the database cannot say, the socket closes as when
/// the instance is in trouble (1011): chat.js reconnects, and the new
/// socket's request is authenticated afresh.
async fn signed_out(
    state: &ChatState,
    session_id: &SessionId,
    session: &mut Session,
) -> Option<CloseReason> {
    let (sid, now) = (session_id.clone(), state.clock.now());
    match state
        .db
        .primary(move |c| Ok(sessions::is_alive(c, &sid, now)?))
        .await
    {
        Ok(true) => None,
        Ok(false) => {
            let _ = session
                .text(json!({ "type": "signed_out" }).to_string())
                .await;
            Some(CloseReason {
                code: CloseCode::Policy,
                description: Some("signed out".into()),
            })
        }
        Err(_) => Some(CloseReason {
            code: CloseCode::Error,
            description: Some("try again".into()),
        }),
    }
}

/// Sends every message after `after`; returns their ids (live copies of
/// them are skipped).
async fn backlog(
    state: &ChatState,
    me: UserId,
    mut after: MessageId,
    session: &mut Session,
) -> Result<HashSet<MessageId>, ()> {
    let mut ids = HashSet::new();
    loop {
        let page = state
            .db
            .primary(move |c| Ok(messages::since(c, me, after, BACKLOG_PAGE)?))
            .await
            .map_err(|_| ())?;
        for m in &page {
            session.text(chat::message_frame(m)).await.map_err(|_| ())?;
            ids.insert(m.id);
            after = after.max(m.id);
        }
        if (page.len() as i64) < BACKLOG_PAGE {
            return Ok(ids);
        }
    }
}

/// One text frame; `Err` when the socket is gone.
async fn handle_text(
    state: &ChatState,
    me: UserId,
    t: &Tr,
    text: &str,
    session: &mut Session,
) -> Result<(), ()> {
    let outcome = match serde_json::from_str::<ClientFrame>(text) {
        Err(_) => Err(AppError::Refused(ErrorCode::InvalidFrame)),
        Ok(ClientFrame::Send {
            match_id,
            body,
            client_id,
        }) => match chat::send(state, me, match_id, &body, &client_id).await {
            // A new message reaches this socket through the hub.
            Ok(Sent::New(_)) => Ok(None),
            // A resend: only this socket hears of it again.
            Ok(Sent::Again(m)) => Ok(Some(chat::message_frame(&m))),
            Err(e) => Err(e),
        },
        Ok(ClientFrame::Read { match_id, up_to }) => {
            chat::read(state, me, match_id, up_to).await.map(|()| None)
        }
    };
    let reply = match outcome {
        Ok(reply) => reply,
        Err(e) => Some(chat::error_frame(e.code(), t)),
    };
    match reply {
        Some(frame) => session.text(frame).await.map_err(|_| ()),
        None => Ok(()),
    }
}
