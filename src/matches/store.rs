//! The `matches` table: one row per mutual like, `user_a < user_b`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::{matches, users};
use crate::db::{insert_unique, DbConnection};

pub use crate::db::types::MatchId;
use crate::db::types::MessageId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = matches)]
pub struct Match {
    pub id: MatchId,
    pub user_a: UserId,
    pub user_b: UserId,
    pub created_at: NaiveDateTime,
    pub a_read_up_to: MessageId,
    pub b_read_up_to: MessageId,
    pub a_unread: i64,
    pub b_unread: i64,
}

impl Match {
    /// The other member of the match, seen from `me`.
    pub fn other(&self, me: UserId) -> UserId {
        if self.user_a == me {
            self.user_b
        } else {
            self.user_a
        }
    }

    /// Messages to `me` not read yet.
    pub fn unread_for(&self, me: UserId) -> i64 {
        if self.user_a == me {
            self.a_unread
        } else {
            self.b_unread
        }
    }

    /// The last message id `me` has read.
    pub fn read_up_to(&self, me: UserId) -> MessageId {
        if self.user_a == me {
            self.a_read_up_to
        } else {
            self.b_read_up_to
        }
    }
}

/// A pair as matches and blocks key it: (lower id, higher id).
pub fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Adds many matches at once (seeding: pairs unique by construction).
pub fn insert_many(
    c: &mut DbConnection,
    pairs: &[(UserId, UserId)],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<_> = pairs
        .iter()
        .map(|&(a, b)| {
            let (a, b) = ordered(a, b);
            (
                matches::user_a.eq(a),
                matches::user_b.eq(b),
                matches::created_at.eq(now),
            )
        })
        .collect();
    crate::db::dialect::per_backend(
        c,
        |pg| {
            diesel::insert_into(matches::table)
                .values(&rows)
                .execute(pg)
        },
        |sq| {
            diesel::insert_into(matches::table)
                .values(&rows)
                .execute(sq)
        },
    )
}

/// Records the match of `a` and `b`, once: `None` when it already existed.
pub fn create(
    c: &mut DbConnection,
    a: UserId,
    b: UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<MatchId>> {
    let (a, b) = ordered(a, b);
    insert_unique(c, |c| {
        diesel::insert_into(matches::table)
            .values((
                matches::user_a.eq(a),
                matches::user_b.eq(b),
                matches::created_at.eq(now),
            ))
            .returning(matches::id)
            .get_result::<MatchId>(c)
    })
}

pub fn between(c: &mut DbConnection, a: UserId, b: UserId) -> QueryResult<Option<Match>> {
    let (a, b) = ordered(a, b);
    matches::table
        .filter(matches::user_a.eq(a))
        .filter(matches::user_b.eq(b))
        .select(Match::as_select())
        .first(c)
        .optional()
}

/// A match `me` is part of; someone else's match is not found.
pub fn find_mine(c: &mut DbConnection, me: UserId, id: MatchId) -> QueryResult<Option<Match>> {
    let active = || {
        users::table
            .filter(users::is_active.eq(true))
            .select(users::id)
    };
    matches::table
        .find(id)
        .filter(matches::user_a.eq(me).or(matches::user_b.eq(me)))
        // A banned member's conversations are closed for the other side.
        .filter(matches::user_a.eq_any(active()))
        .filter(matches::user_b.eq_any(active()))
        .select(Match::as_select())
        .first(c)
        .optional()
}

/// Members a match lists: active ones, and those who deleted their account
/// (shown as "deleted member"); a banned member's matches are hidden.
type Listed = diesel::dsl::Select<
    diesel::dsl::Filter<
        users::table,
        diesel::dsl::Or<
            diesel::dsl::Eq<users::is_active, bool>,
            diesel::dsl::And<
                diesel::dsl::IsNotNull<users::deleted_at>,
                diesel::dsl::IsNull<users::banned_at>,
            >,
        >,
    >,
    users::id,
>;

fn listed() -> Listed {
    users::table
        .filter(
            users::is_active.eq(true).or(users::deleted_at
                .is_not_null()
                .and(users::banned_at.is_null())),
        )
        .select(users::id)
}

/// A match `me` can see (its conversation reads even when the other member
/// deleted their account); someone else's match is not found.
pub fn find_listed(c: &mut DbConnection, me: UserId, id: MatchId) -> QueryResult<Option<Match>> {
    matches::table
        .find(id)
        .filter(matches::user_a.eq(me).or(matches::user_b.eq(me)))
        .filter(matches::user_a.eq_any(listed()))
        .filter(matches::user_b.eq_any(listed()))
        .select(Match::as_select())
        .first(c)
        .optional()
}

/// My matches, newest first: with active members and members who deleted
/// their account (a banned member's are hidden).
pub fn mine(c: &mut DbConnection, me: UserId, limit: i64) -> QueryResult<Vec<Match>> {
    matches::table
        .filter(matches::user_a.eq(me).or(matches::user_b.eq(me)))
        .filter(matches::user_a.eq_any(listed()))
        .filter(matches::user_b.eq_any(listed()))
        .order(matches::id.desc())
        .limit(limit)
        .select(Match::as_select())
        .load(c)
}

/// Every match of `member`, whoever is in it (a ban closes them all).
pub fn all_of(c: &mut DbConnection, member: UserId) -> QueryResult<Vec<Match>> {
    matches::table
        .filter(matches::user_a.eq(member).or(matches::user_b.eq(member)))
        .select(Match::as_select())
        .load(c)
}

/// Ends the match of `a` and `b`, if any, and returns it. Its unread
/// messages leave the members' badges in the same transaction.
pub fn delete_between(c: &mut DbConnection, a: UserId, b: UserId) -> QueryResult<Option<Match>> {
    let (a, b) = ordered(a, b);
    // The row as deleted (after any message that was writing to it).
    let Some(m) = diesel::delete(
        matches::table
            .filter(matches::user_a.eq(a))
            .filter(matches::user_b.eq(b)),
    )
    .returning((
        matches::id,
        matches::user_a,
        matches::user_b,
        matches::created_at,
        matches::a_read_up_to,
        matches::b_read_up_to,
        matches::a_unread,
        matches::b_unread,
    ))
    .get_result::<Match>(c)
    .optional()?
    else {
        return Ok(None);
    };
    for (user, unread) in [(m.user_a, m.a_unread), (m.user_b, m.b_unread)] {
        if unread > 0 {
            diesel::update(users::table.find(user))
                .set(users::unread_messages.eq(users::unread_messages - unread))
                .execute(c)?;
        }
    }
    Ok(Some(m))
}
