//! The `reports` table: the moderation queue. One open report per reporter
//! and target (a partial unique index).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::reports;
use crate::db::{insert_unique, DbConnection};

crate::id_type!(ReportId);

crate::text_enum!(
    /// Why a member is reported: a fixed list, so the queue can be sorted.
    ReportReason {
        Spam => "spam",
        FakeProfile => "fake_profile",
        Harassment => "harassment",
        Inappropriate => "inappropriate",
        Underage => "underage",
        Other => "other",
    }
);

crate::text_enum!(ReportStatus {
    Open => "open",
    Resolved => "resolved",
});

/// Files a report; `None` when this reporter already has one open on the target.
pub fn file(
    c: &mut DbConnection,
    reporter: UserId,
    target: UserId,
    reason: ReportReason,
    details: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<ReportId>> {
    insert_unique(c, |c| {
        diesel::insert_into(reports::table)
            .values((
                reports::reporter_id.eq(reporter),
                reports::target_id.eq(target),
                reports::reason.eq(reason),
                reports::details.eq(details),
                reports::status.eq(ReportStatus::Open),
                reports::created_at.eq(now),
            ))
            .returning(reports::id)
            .get_result::<ReportId>(c)
    })
}

/// A report as the moderation queue shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: ReportId,
    pub reporter_id: UserId,
    pub target_id: UserId,
    pub reason: ReportReason,
    pub details: String,
    pub status: ReportStatus,
    pub created_at: NaiveDateTime,
    pub resolution: Option<String>,
    pub note: Option<String>,
}

/// Reports with `status`: open ones oldest first, resolved ones newest first.
pub fn queue(
    c: &mut DbConnection,
    status: ReportStatus,
    limit: i64,
) -> QueryResult<Vec<ReportRow>> {
    let q = reports::table
        .filter(reports::status.eq(status))
        .select(ReportRow::as_select())
        .limit(limit);
    match status {
        // reports_by_status (status, created_at) serves both.
        ReportStatus::Open => q
            .order((reports::created_at.asc(), reports::id.asc()))
            .load(c),
        ReportStatus::Resolved => q
            .order((reports::created_at.desc(), reports::id.desc()))
            .load(c),
    }
}

pub fn find(c: &mut DbConnection, id: ReportId) -> QueryResult<Option<ReportRow>> {
    reports::table
        .find(id)
        .select(ReportRow::as_select())
        .first(c)
        .optional()
}

/// Closes an open report; `false` if it was already closed (by someone else).
pub fn resolve(
    c: &mut DbConnection,
    id: ReportId,
    resolution: &str,
    by: UserId,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        reports::table
            .find(id)
            .filter(reports::status.eq(ReportStatus::Open)),
    )
    .set((
        reports::status.eq(ReportStatus::Resolved),
        reports::resolved_at.eq(Some(now)),
        reports::resolution.eq(Some(resolution)),
        reports::resolved_by.eq(Some(by)),
        reports::note.eq(Some(note)),
    ))
    .execute(c)?;
    Ok(changed == 1)
}

/// The newest reports about `user` (`about`) or filed by them.
pub fn involving(
    c: &mut DbConnection,
    user: UserId,
    about: bool,
    limit: i64,
) -> QueryResult<Vec<ReportRow>> {
    let q = reports::table
        .select(ReportRow::as_select())
        .order((reports::created_at.desc(), reports::id.desc()))
        .limit(limit);
    if about {
        q.filter(reports::target_id.eq(user)).load(c)
    } else {
        q.filter(reports::reporter_id.eq(user)).load(c)
    }
}
