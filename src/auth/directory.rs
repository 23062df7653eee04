//! The member directory for staff: search by id or by the start of an
//! email or nickname, filters (status, verified, role, plan), sorts and
//! keyset pages. Every query walks an index range — the id, email and
//! nickname indexes, the partial indexes of banned and unverified members,
//! `users_plan` — or starts from `user_roles`; none reads the whole table,
//! however many members there are.

use diesel::dsl::not;
use diesel::prelude::*;

use super::User;
use crate::db::schema::{user_roles, users};
use crate::db::types::{PlanId, RoleId};
use crate::db::DbConnection;

type Backend = <DbConnection as Connection>::Backend;

/// Which members a listing shows; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `Some(false)`: banned members only.
    pub active: Option<bool>,
    pub verified: Option<bool>,
    /// Holders of this role (its id).
    pub role: Option<RoleId>,
    pub plan: Option<PlanFilter>,
}

/// Members of one plan. A member without a plan row is on the free plan.
#[derive(Debug, Clone, Copy)]
pub enum PlanFilter {
    Free { id: PlanId },
    Other { id: PlanId },
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// By id, oldest account first.
    #[default]
    Oldest,
    Newest,
    /// By email, alphabetically.
    Email,
}

impl Sort {
    pub const ALL: &'static [Sort] = &[Sort::Oldest, Sort::Newest, Sort::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Oldest => "oldest",
            Sort::Newest => "newest",
            Sort::Email => "email",
        }
    }

    /// The catalog key of the sort's label.
    pub fn message_key(self) -> &'static str {
        match self {
            Sort::Oldest => "admin.sort_oldest",
            Sort::Newest => "admin.sort_newest",
            Sort::Email => "admin.sort_email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }

    /// The keyset cursor after `user` in this order.
    pub fn cursor(self, user: &User) -> String {
        match self {
            Sort::Oldest | Sort::Newest => user.id.0.to_string(),
            Sort::Email => user.email.clone(),
        }
    }
}

/// The query of the filter, without order or limit.
fn filtered(f: &Filter) -> users::BoxedQuery<'static, Backend> {
    let mut q = users::table.into_boxed();
    // Literal conditions (no bound parameters), so the planner can prove
    // the partial indexes' predicates.
    match f.active {
        Some(true) => q = q.filter(users::is_active),
        Some(false) => q = q.filter(not(users::is_active)),
        None => {}
    }
    match f.verified {
        Some(true) => q = q.filter(users::email_verified_at.is_not_null()),
        Some(false) => q = q.filter(users::email_verified_at.is_null()),
        None => {}
    }
    if let Some(role) = f.role {
        q = q.filter(
            users::id.eq_any(
                user_roles::table
                    .filter(user_roles::role_id.eq(role))
                    .select(user_roles::user_id),
            ),
        );
    }
    match f.plan {
        Some(PlanFilter::Free { id }) => {
            q = q.filter(users::plan_id.is_null().or(users::plan_id.eq(id)))
        }
        Some(PlanFilter::Other { id }) => q = q.filter(users::plan_id.eq(id)),
        None => {}
    }
    q
}

/// The smallest string after every string that starts with `prefix` (its
/// last character moved up by one), for an index range scan.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// A LIKE pattern matching what starts with `s` (its wildcards escaped).
fn like_prefix(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

/// Members for a staff listing, at most `limit`.
///
/// * `q` an id: that member (if the filter lets them through);
/// * `q` text: the first `limit` members whose email (lower-cased) or
///   nickname starts with it, each found through its index as a range
///   scan, shown in `sort` order (one page);
/// * no `q`: every member the filter lets through in `sort` order, after
///   the keyset cursor `after` (see [`Sort::cursor`]); an unreadable cursor
///   starts from the beginning.
pub fn list(
    conn: &mut DbConnection,
    q: &str,
    filter: &Filter,
    sort: Sort,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let q = q.trim();
    if let Ok(id) = q.parse::<i64>() {
        return filtered(filter)
            .filter(users::id.eq(id))
            .select(User::as_select())
            .load(conn);
    }
    if q.is_empty() {
        let mut query = filtered(filter);
        query = match (sort, after) {
            (Sort::Oldest, Some(a)) => match a.parse::<i64>() {
                Ok(id) => query.filter(users::id.gt(id)),
                Err(_) => query,
            },
            (Sort::Newest, Some(a)) => match a.parse::<i64>() {
                Ok(id) => query.filter(users::id.lt(id)),
                Err(_) => query,
            },
            (Sort::Email, Some(a)) => query.filter(users::email.gt(a.to_string())),
            (_, None) => query,
        };
        query = match sort {
            Sort::Oldest => query.order(users::id.asc()),
            Sort::Newest => query.order(users::id.desc()),
            Sort::Email => query.order(users::email.asc()),
        };
        return query.limit(limit).select(User::as_select()).load(conn);
    }
    let lower = q.to_lowercase();
    let mut found: Vec<User> = Vec::new();
    if let Some(end) = prefix_end(&lower) {
        found.extend(
            filtered(filter)
                .filter(users::email.ge(lower.clone()).and(users::email.lt(end)))
                .filter(users::email.like(like_prefix(&lower)).escape('\\'))
                .order(users::email)
                .limit(limit)
                .select(User::as_select())
                .load(conn)?,
        );
    }
    if let Some(end) = prefix_end(q) {
        found.extend(
            filtered(filter)
                .filter(
                    users::nickname
                        .ge(q.to_string())
                        .and(users::nickname.lt(end)),
                )
                .filter(users::nickname.like(like_prefix(q)).escape('\\'))
                .order(users::nickname)
                .limit(limit)
                .select(User::as_select())
                .load(conn)?,
        );
    }
    found.sort_by_key(|u| u.id);
    found.dedup_by_key(|u| u.id);
    match sort {
        Sort::Oldest => {}
        Sort::Newest => found.reverse(),
        Sort::Email => found.sort_by(|a, b| a.email.cmp(&b.email)),
    }
    found.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(found)
}
