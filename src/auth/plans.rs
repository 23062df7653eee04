//! Membership plans: each with daily limits (superlikes, rewinds; `None`
//! means the runtime setting, which is the free plan's value) and features
//! (seeing who liked me). A member without a plan is on `free`. The seeded
//! plans (`free`, `vip1`…`vip3`) are created by the sync at migrate when
//! missing; staff edit them in the admin console and assign them to members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{plans, users};
use crate::db::types::{PlanId, UserId};
use crate::db::{insert_unique, DbConnection};

pub const FREE: &str = "free";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct Plan {
    pub id: PlanId,
    pub name: String,
    pub superlike_daily_limit: Option<i64>,
    pub rewind_daily_limit: Option<i64>,
    pub see_likes: bool,
}

/// (name, superlikes, rewinds, see likes) of the seeded plans.
const SEEDED: &[(&str, Option<i64>, Option<i64>, bool)] = &[
    (FREE, None, None, true),
    ("vip1", Some(3), Some(5), true),
    ("vip2", Some(5), Some(10), true),
    ("vip3", Some(10), Some(20), true),
];

/// Creates the seeded plans that are missing (edited ones stay as staff left them).
pub fn sync(c: &mut DbConnection, now: NaiveDateTime) -> QueryResult<()> {
    for (name, superlikes, rewinds, see_likes) in SEEDED {
        insert_unique(c, |c| {
            diesel::insert_into(plans::table)
                .values((
                    plans::name.eq(name),
                    plans::superlike_daily_limit.eq(superlikes),
                    plans::rewind_daily_limit.eq(rewinds),
                    plans::see_likes.eq(see_likes),
                    plans::created_at.eq(now),
                ))
                .execute(c)
        })?;
    }
    Ok(())
}

pub fn all(c: &mut DbConnection) -> QueryResult<Vec<Plan>> {
    plans::table
        .order(plans::id)
        .select(Plan::as_select())
        .load(c)
}

pub fn by_name(c: &mut DbConnection, name: &str) -> QueryResult<Option<Plan>> {
    plans::table
        .filter(plans::name.eq(name))
        .select(Plan::as_select())
        .first(c)
        .optional()
}

/// A member's plan (the free plan when they have none, or it is gone), in
/// one query: their assigned plan sorts before `free`.
pub fn of_member(c: &mut DbConnection, user: UserId) -> QueryResult<Option<Plan>> {
    let assigned = users::table
        .filter(users::id.eq(user))
        .select(users::plan_id);
    plans::table
        .filter(
            plans::id
                .nullable()
                .eq_any(assigned)
                .or(plans::name.eq(FREE)),
        )
        .order(plans::name.eq(FREE).asc())
        .select(Plan::as_select())
        .first(c)
        .optional()
}

/// Puts a member on a plan.
pub fn assign(c: &mut DbConnection, user: UserId, plan: PlanId) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set(users::plan_id.eq(Some(plan)))
        .execute(c)
        .map(|_| ())
}

/// Changes a plan's limits and features.
pub fn update(
    c: &mut DbConnection,
    id: PlanId,
    superlikes: Option<i64>,
    rewinds: Option<i64>,
    see_likes: bool,
) -> QueryResult<()> {
    diesel::update(plans::table.find(id))
        .set((
            plans::superlike_daily_limit.eq(superlikes),
            plans::rewind_daily_limit.eq(rewinds),
            plans::see_likes.eq(see_likes),
        ))
        .execute(c)
        .map(|_| ())
}
