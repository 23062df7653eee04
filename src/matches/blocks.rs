//! The `blocks` table: a block hides both members from each other everywhere.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::blocks;
use crate::db::{insert_unique, DbConnection};

/// `blocker` blocks `blocked`; blocking twice changes nothing.
pub fn block(
    c: &mut DbConnection,
    blocker: UserId,
    blocked: UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    insert_unique(c, |c| {
        diesel::insert_into(blocks::table)
            .values((
                blocks::blocker_id.eq(blocker),
                blocks::blocked_id.eq(blocked),
                blocks::created_at.eq(now),
            ))
            .execute(c)
    })
    .map(|_| ())
}

/// Of `others`, the ones `me` blocked or who blocked `me`.
pub fn among(c: &mut DbConnection, me: UserId, others: &[UserId]) -> QueryResult<Vec<UserId>> {
    let mut out: Vec<UserId> = blocks::table
        .filter(blocks::blocker_id.eq(me))
        .filter(blocks::blocked_id.eq_any(others))
        .select(blocks::blocked_id)
        .load(c)?;
    out.extend(
        blocks::table
            .filter(blocks::blocked_id.eq(me))
            .filter(blocks::blocker_id.eq_any(others))
            .select(blocks::blocker_id)
            .load::<UserId>(c)?,
    );
    Ok(out)
}

/// Which of these pairs have a block either way round, as (lower id,
/// higher id): one statement for a whole group of swipes.
pub fn on_pairs(
    c: &mut DbConnection,
    pairs: &[(UserId, UserId)],
) -> QueryResult<std::collections::HashSet<(UserId, UserId)>> {
    if pairs.is_empty() {
        return Ok(Default::default());
    }
    let mut q = blocks::table
        .select((blocks::blocker_id, blocks::blocked_id))
        .into_boxed();
    for &(a, b) in pairs {
        q = q
            .or_filter(blocks::blocker_id.eq(a).and(blocks::blocked_id.eq(b)))
            .or_filter(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a)));
    }
    Ok(q.load::<(UserId, UserId)>(c)?
        .into_iter()
        .map(|(a, b)| super::store::ordered(a, b))
        .collect())
}

/// Whether either member blocked the other.
pub fn either(c: &mut DbConnection, a: UserId, b: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        blocks::table.filter(
            blocks::blocker_id
                .eq(a)
                .and(blocks::blocked_id.eq(b))
                .or(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a))),
        ),
    ))
    .get_result(c)
}
