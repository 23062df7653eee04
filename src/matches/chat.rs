//! Chat between matched members: sending (from a socket or the form, one
//! path), reading, and the frames of DESIGN.md §8 published through the
//! [`crate::realtime::Hub`] after the change commits. A message is stored
//! first, then delivered; a client id sent twice stores one message.

use chrono::NaiveDateTime;
use serde_json::json;

use super::messages::{self, Message, Stored};
use super::store::{Match, MatchId};
use crate::auth::UserId;
use crate::db::types::MessageId;
use crate::error::{AppError, ErrorCode};
use crate::limits::rules;
use crate::matches::state::ChatState;
use crate::realtime::{Event, Hub};

/// The longest message, in characters after trimming.
pub const MAX_BODY: usize = 2000;

/// A message body as stored: trimmed, 1–2,000 characters, line breaks
/// and tabs but no other control characters (a NUL would not even store on
/// PostgreSQL). Emoji joiners and other format characters are kept.
pub fn clean_body(raw: &str) -> Result<String, ErrorCode> {
    let body = raw.trim();
    if body.is_empty() {
        return Err(ErrorCode::MessageEmpty);
    }
    if body.chars().count() > MAX_BODY {
        return Err(ErrorCode::MessageTooLong);
    }
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ErrorCode::InvalidInput);
    }
    Ok(body.replace("\r\n", "\n"))
}

/// A client id: 1–64 of `A-Za-z0-9-_` (a UUID fits).
pub fn valid_client_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The `message` frame.
pub fn message_frame(m: &Message) -> String {
    json!({
        "type": "message",
        "match_id": m.match_id.0,
        "id": m.id,
        "from": m.sender_id.0,
        "body": m.body,
        "sent_at": rfc3339(m.sent_at),
        "client_id": m.client_id,
    })
    .to_string()
}

/// The `error` frame.
pub fn error_frame(code: ErrorCode, t: &crate::i18n::Tr) -> String {
    json!({
        "type": "error",
        "code": code.as_str(),
        "message": t.t(code.message_key()),
    })
    .to_string()
}

/// What a send gave.
#[derive(Debug)]
pub enum Sent {
    /// Stored and delivered to both members.
    New(Message),
    /// Stored before under this client id; nothing new was delivered.
    Again(Message),
}

impl Sent {
    pub fn message(&self) -> &Message {
        match self {
            Sent::New(m) | Sent::Again(m) => m,
        }
    }
}

/// Sends `body` from `me` to the match: rate limited per member, stored,
/// then published to both members' sockets on every instance.
pub async fn send(
    state: &ChatState,
    me: UserId,
    match_id: MatchId,
    raw_body: &str,
    client_id: &str,
) -> Result<Sent, AppError> {
    let body = clean_body(raw_body).map_err(AppError::Refused)?;
    if !valid_client_id(client_id) {
        return Err(AppError::Refused(ErrorCode::InvalidFrame));
    }
    state
        .counters
        .enforce(
            &state.runtime,
            rules::MESSAGES_PER_MEMBER,
            &me.0.to_string(),
        )
        .await?;
    let (client_id, now) = (client_id.to_string(), state.clock.now());
    let stored = state
        .db
        .write(move |c| {
            match messages::store(c, me, match_id, &body, &client_id, now)? {
                // An error rolls the transaction back.
                Stored::Closed => Err(AppError::Refused(ErrorCode::MatchClosed)),
                Stored::New { message, to } => {
                    super::mails::queue_message(c, to, match_id, now)?;
                    Ok(Stored::New { message, to })
                }
                again => Ok(again),
            }
        })
        .await?;
    match stored {
        Stored::New { message: m, to } => {
            state
                .hub
                .publish(Event::frame(vec![me, to], Some(m.id), message_frame(&m)))
                .await;
            Ok(Sent::New(m))
        }
        Stored::Again(m) => Ok(Sent::Again(m)),
        Stored::Closed => Err(AppError::Refused(ErrorCode::MatchClosed)),
    }
}

/// Marks messages read up to `up_to` and tells both members' sockets;
/// rate limited per member like sends.
pub async fn read(
    state: &ChatState,
    me: UserId,
    match_id: MatchId,
    up_to: MessageId,
) -> Result<(), AppError> {
    let me_key = me.to_string();
    state
        .counters
        .enforce(&state.runtime, rules::READS_PER_MEMBER, &me_key)
        .await?;
    let (marker, other) = state
        .db
        .write(move |c| Ok(messages::mark_read(c, me, match_id, up_to)?))
        .await?
        .ok_or(AppError::Refused(ErrorCode::MatchClosed))?;
    state
        .hub
        .publish(Event::frame(
            vec![me, other],
            None,
            json!({
                "type": "read",
                "match_id": match_id.0,
                "up_to": marker,
                "by": me.0,
            })
            .to_string(),
        ))
        .await;
    Ok(())
}

/// Tells both members' sockets that the match ended (unmatch, block, or
/// the rewind of the like that made it).
pub async fn closed(hub: &Hub, m: &Match) {
    hub.publish(Event::frame(
        vec![m.user_a, m.user_b],
        None,
        json!({ "type": "closed", "match_id": m.id.0 }).to_string(),
    ))
    .await;
}
