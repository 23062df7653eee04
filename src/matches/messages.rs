//! The `messages` table and the read markers on `matches`: storing a
//! message (once per client id), history pages, what a reconnecting socket
//! missed, and marking read. Unread counts (per side of a match, and each
//! member's total on `users`) change in the transaction of the message or
//! the read, always locking the match row before the member's row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::store::{self, Match, MatchId};
use crate::db::schema::{matches, messages, users};
use crate::db::types::{MessageId, UserId};
use crate::db::{insert_unique, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: MessageId,
    pub match_id: MatchId,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: String,
    pub sent_at: NaiveDateTime,
}

/// How storing a message ended.
#[derive(Debug)]
pub enum Stored {
    /// Stored now, for `to`.
    New { message: Message, to: UserId },
    /// The sender sent this client id before: the message stored then.
    Again(Message),
    /// The match is not the sender's, or has ended.
    Closed,
}

fn by_client_id(
    c: &mut DbConnection,
    sender: UserId,
    client_id: &str,
) -> QueryResult<Option<Message>> {
    messages::table
        .filter(messages::sender_id.eq(sender))
        .filter(messages::client_id.eq(client_id))
        .select(Message::as_select())
        .first(c)
        .optional()
}

/// Stores `body` from `sender` in `match_id`, inside the caller's
/// transaction; the other member's unread counts go up. On `Closed` the
/// caller rolls its transaction back (a match ended meanwhile).
pub fn store(
    c: &mut DbConnection,
    sender: UserId,
    match_id: MatchId,
    body: &str,
    client_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Stored> {
    if let Some(m) = by_client_id(c, sender, client_id)? {
        return Ok(Stored::Again(m));
    }
    let Some(m) = store::find_mine(c, sender, match_id)? else {
        return Ok(Stored::Closed);
    };
    let inserted = insert_unique(c, |c| {
        diesel::insert_into(messages::table)
            .values((
                messages::match_id.eq(match_id),
                messages::sender_id.eq(sender),
                messages::body.eq(body),
                messages::client_id.eq(client_id),
                messages::sent_at.eq(now),
            ))
            .returning(messages::id)
            .get_result::<MessageId>(c)
    })?;
    let Some(message) = inserted.map(|id| Message {
        id,
        match_id,
        sender_id: sender,
        body: body.to_string(),
        client_id: client_id.to_string(),
        sent_at: now,
    }) else {
        // A concurrent request stored this client id first.
        return Ok(match by_client_id(c, sender, client_id)? {
            Some(m) => Stored::Again(m),
            None => Stored::Closed,
        });
    };
    // The match row (locked by this update) must still exist.
    let target = matches::table.find(match_id);
    let counted = if m.user_a == sender {
        diesel::update(target)
            .set(matches::b_unread.eq(matches::b_unread + 1))
            .execute(c)?
    } else {
        diesel::update(target)
            .set(matches::a_unread.eq(matches::a_unread + 1))
            .execute(c)?
    };
    if counted == 0 {
        return Ok(Stored::Closed);
    }
    diesel::update(users::table.find(m.other(sender)))
        .set(users::unread_messages.eq(users::unread_messages + 1))
        .execute(c)?;
    Ok(Stored::New {
        message,
        to: m.other(sender),
    })
}

/// A page of a match's history, oldest first: the `limit` messages before
/// `before` (the newest when `None`).
pub fn history(
    c: &mut DbConnection,
    match_id: MatchId,
    before: Option<MessageId>,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    let mut q = messages::table
        .filter(messages::match_id.eq(match_id))
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(messages::id.lt(before));
    }
    let mut page: Vec<Message> = q
        .order(messages::id.desc())
        .limit(limit)
        .select(Message::as_select())
        .load(c)?;
    page.reverse();
    Ok(page)
}

/// The newest message of each of these matches (those with one).
pub fn last_of_each(c: &mut DbConnection, matches: &[MatchId]) -> QueryResult<Vec<Message>> {
    let other = diesel::alias!(messages as newest);
    let newest = other
        .filter(other.field(messages::match_id).eq_any(matches.to_vec()))
        .group_by(other.field(messages::match_id))
        .select(diesel::dsl::max(other.field(messages::id)));
    messages::table
        .filter(messages::id.nullable().eq_any(newest))
        .select(Message::as_select())
        .load(c)
}

/// The newest message id on the site (0 before the first): a page's
/// unread counts are as of this id, so its socket asks only for what came
/// after it (`/ws/chat?after=`) and counts nothing twice.
pub fn newest_id(c: &mut DbConnection) -> QueryResult<MessageId> {
    messages::table
        .select(diesel::dsl::max(messages::id))
        .first::<Option<MessageId>>(c)
        .map(|id| id.unwrap_or(MessageId(0)))
}

/// Messages in `member`'s current matches after the id `after`, in order.
pub fn since(
    c: &mut DbConnection,
    member: UserId,
    after: MessageId,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    let mine = matches::table
        .filter(matches::user_a.eq(member).or(matches::user_b.eq(member)))
        .select(matches::id);
    messages::table
        .filter(messages::match_id.eq_any(mine))
        .filter(messages::id.gt(after))
        .order(messages::id.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(c)
}

/// Marks `match_id`'s messages to `member` read up to the id `up_to` (at
/// most the newest message); `None` when the match is not theirs. Returns
/// the marker after the change and the other member.
pub fn mark_read(
    c: &mut DbConnection,
    member: UserId,
    match_id: MatchId,
    up_to: MessageId,
) -> QueryResult<Option<(MessageId, UserId)>> {
    // Lock the match row first, so a message being stored waits or is seen.
    let locked = diesel::update(
        matches::table
            .find(match_id)
            .filter(matches::user_a.eq(member).or(matches::user_b.eq(member))),
    )
    .set(matches::a_read_up_to.eq(matches::a_read_up_to))
    .execute(c)?;
    if locked == 0 {
        return Ok(None);
    }
    // A conversation with a member who deleted their account still reads.
    let Some(m): Option<Match> = store::find_listed(c, member, match_id)? else {
        return Ok(None);
    };
    let newest: Option<MessageId> = messages::table
        .filter(messages::match_id.eq(match_id))
        .select(diesel::dsl::max(messages::id))
        .first(c)?;
    let up_to = up_to.min(newest.unwrap_or(MessageId(0)));
    let before = m.read_up_to(member);
    if up_to <= before {
        return Ok(Some((before, m.other(member))));
    }
    let left: i64 = messages::table
        .filter(messages::match_id.eq(match_id))
        .filter(messages::sender_id.ne(member))
        .filter(messages::id.gt(up_to))
        .count()
        .get_result(c)?;
    let read_now = m.unread_for(member) - left;
    if m.user_a == member {
        diesel::update(matches::table.find(match_id))
            .set((matches::a_read_up_to.eq(up_to), matches::a_unread.eq(left)))
            .execute(c)?;
    } else {
        diesel::update(matches::table.find(match_id))
            .set((matches::b_read_up_to.eq(up_to), matches::b_unread.eq(left)))
            .execute(c)?;
    }
    if read_now != 0 {
        diesel::update(users::table.find(member))
            .set(users::unread_messages.eq(users::unread_messages - read_now))
            .execute(c)?;
    }
    Ok(Some((up_to, m.other(member))))
}

/// Messages sent in `[from, to)` (the daily statistics).
pub fn count_between(
    c: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    messages::table
        .filter(messages::sent_at.ge(from).and(messages::sent_at.lt(to)))
        .count()
        .get_result(c)
}
