//! A member's daily allowances: what their plan allows (the runtime
//! settings where it leaves a limit open), their local day, and where the
//! day's superlikes and undos stand.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use diesel::QueryResult;

use super::swipes;
use crate::auth::plans;
use crate::auth::UserId;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::runtime::{RuntimeSettings, REWIND_DAILY_LIMIT, SUPERLIKE_DAILY_LIMIT};

/// The UTC time at which `day` begins in `tz` (the first of two midnights
/// at a change of clocks); `None` where no midnight exists there.
fn midnight(day: NaiveDate, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    let local = day.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.naive_utc())
}

/// The UTC time at which the member's current local day began.
pub fn local_day_start(now: NaiveDateTime, tz: chrono_tz::Tz) -> NaiveDateTime {
    midnight(tz.from_utc_datetime(&now).date_naive(), tz).unwrap_or(now)
}

/// The UTC time at which the member's next local day begins.
fn next_local_day_start(now: NaiveDateTime, tz: chrono_tz::Tz) -> NaiveDateTime {
    let today = tz.from_utc_datetime(&now).date_naive();
    today
        .succ_opt()
        .and_then(|d| midnight(d, tz))
        .unwrap_or(now)
}

/// What my membership plan allows today.
pub struct PlanLimits {
    pub superlikes: i64,
    pub rewinds: i64,
    pub see_likes: bool,
}

/// The free plan's limits: the runtime settings staff change without a restart.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    superlikes: i64,
    rewinds: i64,
}

impl Defaults {
    pub async fn of(runtime: &RuntimeSettings) -> Result<Self, AppError> {
        Ok(Self {
            superlikes: runtime.get(SUPERLIKE_DAILY_LIMIT).await?,
            rewinds: runtime.get(REWIND_DAILY_LIMIT).await?,
        })
    }

    /// My plan's limits; a limit the plan leaves open is the default.
    pub fn limits_of(self, c: &mut DbConnection, me: UserId) -> QueryResult<PlanLimits> {
        let plan = plans::of_member(c, me)?;
        Ok(PlanLimits {
            superlikes: plan
                .as_ref()
                .and_then(|p| p.superlike_daily_limit)
                .unwrap_or(self.superlikes),
            rewinds: plan
                .as_ref()
                .and_then(|p| p.rewind_daily_limit)
                .unwrap_or(self.rewinds),
            see_likes: plan.is_none_or(|p| p.see_likes),
        })
    }
}

/// Where my day's superlikes and undos stand: what the discover page says,
/// and which of its buttons can do something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowance {
    pub superlikes_left: i64,
    pub rewinds_left: i64,
    /// I have a swipe to undo.
    pub has_swiped: bool,
    /// Minutes until my local midnight, when both start again.
    pub resets_in_minutes: i64,
}

impl Allowance {
    pub fn of(
        c: &mut DbConnection,
        me: UserId,
        limits: &PlanLimits,
        now: NaiveDateTime,
        tz: chrono_tz::Tz,
    ) -> QueryResult<Self> {
        let since = local_day_start(now, tz);
        let superlikes = swipes::superlikes_given_since(c, me, since)?;
        let rewinds = swipes::rewinds_since(c, me, since)?;
        Ok(Self {
            superlikes_left: (limits.superlikes - superlikes).max(0),
            rewinds_left: (limits.rewinds - rewinds).max(0),
            has_swiped: swipes::any_of(c, me)?,
            resets_in_minutes: (next_local_day_start(now, tz) - now).num_minutes().max(0),
        })
    }

    pub fn can_undo(&self) -> bool {
        self.has_swiped && self.rewinds_left > 0
    }

    /// "5 h 12 min", "40 min" (as `t`'s language says it): how long until
    /// the allowances start again.
    pub fn resets_in(&self, t: &crate::i18n::Tr) -> String {
        let (h, m) = (self.resets_in_minutes / 60, self.resets_in_minutes % 60);
        if h > 0 {
            t.tf(
                "time.hours_minutes",
                &[("hours", &h.to_string()), ("minutes", &format!("{m:02}"))],
            )
        } else {
            t.t1("time.minutes", "minutes", &m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_day_starts_at_local_midnight() {
        let now = NaiveDate::from_ymd_opt(2026, 1, 10)
            .and_then(|d| d.and_hms_opt(3, 0, 0))
            .unwrap_or_default();
        // 03:00 UTC is 11:00 in Shanghai: the day began at 16:00 UTC the day before.
        let start = local_day_start(now, chrono_tz::Asia::Shanghai);
        assert_eq!(start.to_string(), "2026-01-09 16:00:00");
        // and 22:00 in New York the day before: that day began at 05:00 UTC on the 9th.
        let start = local_day_start(now, chrono_tz::America::New_York);
        assert_eq!(start.to_string(), "2026-01-09 05:00:00");
    }
}
