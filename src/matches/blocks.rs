//! The `blocks` table: a block hides both members from each other everywhere.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::blocks;
use crate::db::{is_unique_violation, transaction, DbConnection};

/// `blocker` blocks `blocked`; blocking twice changes nothing.
pub fn block(
    c: &mut DbConnection,
    blocker: UserId,
    blocked: UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let inserted = transaction(c, |c| {
        diesel::insert_into(blocks::table)
            .values((
                blocks::blocker_id.eq(blocker),
                blocks::blocked_id.eq(blocked),
                blocks::created_at.eq(now),
            ))
            .execute(c)
    });
    match inserted {
        Err(e) if !is_unique_violation(&e) => Err(e),
        _ => Ok(()),
    }
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
