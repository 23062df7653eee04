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
