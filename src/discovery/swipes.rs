//! The `swipes` table (one per pair, by a unique index) and `rewinds` (the
//! undone swipes, counted against the daily quota).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::{rewinds, swipes};
use crate::db::DbConnection;

crate::id_type!(SwipeId);

crate::text_enum!(
    /// What a swipe says.
    SwipeKind {
        Like => "like",
        Superlike => "superlike",
        Dislike => "dislike",
    }
);

impl SwipeKind {
    pub fn is_positive(self) -> bool {
        matches!(self, Self::Like | Self::Superlike)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = swipes)]
pub struct Swipe {
    pub id: SwipeId,
    pub swiper_id: UserId,
    pub target_id: UserId,
    pub kind: SwipeKind,
    pub created_at: NaiveDateTime,
}

/// A swipe row: the swipe writer's groups, and seeding.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = swipes)]
pub struct NewSwipe {
    pub swiper_id: UserId,
    pub target_id: UserId,
    pub kind: SwipeKind,
    pub created_at: NaiveDateTime,
}

/// Adds many swipes at once (seeding: pairs are unique by construction).
pub fn insert_many(c: &mut DbConnection, rows: &[NewSwipe]) -> QueryResult<usize> {
    crate::db::dialect::per_backend(
        c,
        |pg| diesel::insert_into(swipes::table).values(rows).execute(pg),
        |sq| diesel::insert_into(swipes::table).values(rows).execute(sq),
    )
}

/// Records these swipes (a group of them, whose pairs the caller checked
/// under the members' locks): how many rows were added. A pair that has a
/// swipe already is skipped without failing the transaction (the unique
/// index decides), so a count short of `rows.len()` means a race the
/// caller must not answer as written.
pub fn insert_group(c: &mut DbConnection, rows: &[NewSwipe]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    crate::db::dialect::per_backend(
        c,
        |pg| {
            diesel::insert_into(swipes::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(pg)
        },
        |sq| {
            // Diesel writes a many-row insert with `ON CONFLICT` for
            // PostgreSQL only: on SQLite, one statement a row.
            let mut added = 0;
            for row in rows {
                added += diesel::insert_into(swipes::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(sq)?;
            }
            Ok(added)
        },
    )
}

/// The swipes on these pairs, either way round, by (swiper, target): one
/// statement for a whole group.
pub fn on_pairs(
    c: &mut DbConnection,
    pairs: &[(UserId, UserId)],
) -> QueryResult<HashMap<(UserId, UserId), SwipeKind>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = swipes::table
        .select((swipes::swiper_id, swipes::target_id, swipes::kind))
        .into_boxed();
    for &(a, b) in pairs {
        q = q
            .or_filter(swipes::swiper_id.eq(a).and(swipes::target_id.eq(b)))
            .or_filter(swipes::swiper_id.eq(b).and(swipes::target_id.eq(a)));
    }
    Ok(q.load::<(UserId, UserId, SwipeKind)>(c)?
        .into_iter()
        .map(|(swiper, target, kind)| ((swiper, target), kind))
        .collect())
}

pub fn between(c: &mut DbConnection, swiper: UserId, target: UserId) -> QueryResult<Option<Swipe>> {
    swipes::table
        .filter(swipes::swiper_id.eq(swiper))
        .filter(swipes::target_id.eq(target))
        .select(Swipe::as_select())
        .first(c)
        .optional()
}

/// My most recent swipe.
pub fn last_of(c: &mut DbConnection, swiper: UserId) -> QueryResult<Option<Swipe>> {
    swipes::table
        .filter(swipes::swiper_id.eq(swiper))
        .order(swipes::id.desc())
        .select(Swipe::as_select())
        .first(c)
        .optional()
}

/// Whether I ever swiped anyone (and have not undone it).
pub fn any_of(c: &mut DbConnection, swiper: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        swipes::table.filter(swipes::swiper_id.eq(swiper)),
    ))
    .get_result(c)
}

pub fn delete(c: &mut DbConnection, id: SwipeId) -> QueryResult<()> {
    diesel::delete(swipes::table.find(id))
        .execute(c)
        .map(|_| ())
}

/// How many swipes of `kind` I made since `since`.
pub fn count_since(
    c: &mut DbConnection,
    swiper: UserId,
    kind: SwipeKind,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    swipes::table
        .filter(swipes::swiper_id.eq(swiper))
        .filter(swipes::kind.eq(kind))
        .filter(swipes::created_at.ge(since))
        .count()
        .get_result(c)
}

/// Superlikes I gave since `since`, the ones I undid since included: an
/// undone superlike is not given back (else superlike, undo, superlike
/// again would beat the daily limit).
pub fn superlikes_given_since(
    c: &mut DbConnection,
    swiper: UserId,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let standing = count_since(c, swiper, SwipeKind::Superlike, since)?;
    let undone: i64 = rewinds::table
        .filter(rewinds::user_id.eq(swiper))
        .filter(rewinds::kind.eq(SwipeKind::Superlike))
        .filter(rewinds::created_at.ge(since))
        .count()
        .get_result(c)?;
    Ok(standing + undone)
}

/// Of `targets`, the ones I already swiped.
pub fn swiped_among(
    c: &mut DbConnection,
    swiper: UserId,
    targets: &[UserId],
) -> QueryResult<Vec<UserId>> {
    swipes::table
        .filter(swipes::swiper_id.eq(swiper))
        .filter(swipes::target_id.eq_any(targets))
        .select(swipes::target_id)
        .load(c)
}

/// People who liked or superliked me, newest first (superlikes are sorted
/// first by the caller), with the kind.
pub fn likers_of(
    c: &mut DbConnection,
    target: UserId,
    limit: i64,
) -> QueryResult<Vec<(UserId, SwipeKind)>> {
    let mine = diesel::alias!(swipes as mine);
    swipes::table
        .filter(swipes::target_id.eq(target))
        .filter(swipes::kind.eq_any([SwipeKind::Like, SwipeKind::Superlike]))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            mine.select(mine.field(swipes::id))
                .filter(mine.field(swipes::swiper_id).eq(target))
                .filter(mine.field(swipes::target_id).eq(swipes::swiper_id)),
        )))
        .order(swipes::id.desc())
        .limit(limit)
        .select((swipes::swiper_id, swipes::kind))
        .load(c)
}

/// Records an undone swipe.
pub fn record_rewind(c: &mut DbConnection, swipe: &Swipe, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(rewinds::table)
        .values((
            rewinds::user_id.eq(swipe.swiper_id),
            rewinds::target_id.eq(swipe.target_id),
            rewinds::kind.eq(swipe.kind),
            rewinds::created_at.eq(now),
        ))
        .execute(c)
        .map(|_| ())
}

pub fn rewinds_since(c: &mut DbConnection, user: UserId, since: NaiveDateTime) -> QueryResult<i64> {
    rewinds::table
        .filter(rewinds::user_id.eq(user))
        .filter(rewinds::created_at.ge(since))
        .count()
        .get_result(c)
}
