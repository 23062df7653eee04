//! Daily statistics: a job counts each finished UTC day once (sign-ups,
//! active members, swipes, matches, messages) into `daily_stats`, and the
//! dashboard draws the last 30 days as SVG charts rendered on the server
//! (no chart service, no script).

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::{daily_stats, matches, profiles, swipes, users};
use crate::db::{transaction, DbConnection};
use crate::jobs::{JobContext, JobError, Registry};

pub const DAILY_STATS: &str = "admin.daily_stats";

pub fn register(r: &mut Registry) {
    if let Err(e) = r.every(DAILY_STATS, "0 5 0 * * *") {
        tracing::error!(error = %e, "invalid statistics schedule");
    }
    r.also_at_start(DAILY_STATS);
    r.register(DAILY_STATS, |ctx: JobContext, _payload| async move {
        let (today, now) = (ctx.clock.today(), ctx.clock.now());
        ctx.db
            .write(move |c| {
                // Yesterday, counted again now that it is over; and any of
                // the charts' days never counted (a new site, a stopped one).
                let first = today - TimeDelta::days(CHART_DAYS - 1);
                let counted: Vec<NaiveDate> = since(c, first)?.iter().map(|d| d.day).collect();
                let yesterday = today - TimeDelta::days(1);
                for i in 0..CHART_DAYS - 1 {
                    let day = first + TimeDelta::days(i);
                    if day == yesterday || !counted.contains(&day) {
                        compute(c, day, now)?;
                    }
                }
                Ok(())
            })
            .await
            .map_err(|e| JobError(e.to_string()))
    });
}

/// Days the dashboard draws (today, counted live, and the 29 before it).
pub const CHART_DAYS: i64 = 30;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = daily_stats)]
pub struct DayStats {
    pub day: NaiveDate,
    pub signups: i64,
    pub active: i64,
    pub swipes: i64,
    pub matches: i64,
    pub messages: i64,
}

fn bounds(day: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (start, start + TimeDelta::days(1))
}

/// Counts `day` (UTC) and stores it, replacing an earlier count of it (an
/// upsert: two runs at once, the start-time one and the nightly one, say,
/// both end with one row).
pub fn compute(c: &mut DbConnection, day: NaiveDate, now: NaiveDateTime) -> QueryResult<()> {
    transaction(c, |c| {
        let d = count(c, day)?;
        let values = (
            daily_stats::signups.eq(d.signups),
            daily_stats::active.eq(d.active),
            daily_stats::swipes.eq(d.swipes),
            daily_stats::matches.eq(d.matches),
            daily_stats::messages.eq(d.messages),
            daily_stats::computed_at.eq(now),
        );
        let upsert = || {
            diesel::insert_into(daily_stats::table)
                .values((daily_stats::day.eq(day), values))
                .on_conflict(daily_stats::day)
                .do_update()
                .set(values)
        };
        crate::db::dialect::per_backend(c, |pg| upsert().execute(pg), |sq| upsert().execute(sq))
            .map(|_| ())
    })
}

/// What happened on `day` (UTC), counted now: a finished day for the job,
/// today so far for the dashboard.
pub fn count(c: &mut DbConnection, day: NaiveDate) -> QueryResult<DayStats> {
    let (from, to) = bounds(day);
    let signups: i64 = users::table
        .filter(users::created_at.ge(from).and(users::created_at.lt(to)))
        .count()
        .get_result(c)?;
    // Members whose last activity fell on that day (counted the next
    // morning, so the latest activity is that day's for most).
    let active: i64 = profiles::table
        .filter(
            profiles::last_active_at
                .ge(from)
                .and(profiles::last_active_at.lt(to)),
        )
        .count()
        .get_result(c)?;
    let swipes: i64 = swipes::table
        .filter(swipes::created_at.ge(from).and(swipes::created_at.lt(to)))
        .count()
        .get_result(c)?;
    let matches: i64 = matches::table
        .filter(matches::created_at.ge(from).and(matches::created_at.lt(to)))
        .count()
        .get_result(c)?;
    let messages = crate::matches::messages::count_between(c, from, to)?;
    Ok(DayStats {
        day,
        signups,
        active,
        swipes,
        matches,
        messages,
    })
}

/// The days from `from` on, oldest first.
pub fn since(c: &mut DbConnection, from: NaiveDate) -> QueryResult<Vec<DayStats>> {
    daily_stats::table
        .filter(daily_stats::day.ge(from))
        .order(daily_stats::day)
        .select(DayStats::as_select())
        .load(c)
}

/// One chart: its name, the latest value, the largest, and the polyline
/// points (600 × 120, one point a day over `days` days).
pub struct Chart {
    pub series: &'static str,
    pub last: i64,
    pub max: i64,
    pub points: String,
}

/// Charts of the last `days` days ending `today` (missing days count 0).
pub fn charts(rows: &[DayStats], today: NaiveDate, days: i64) -> Vec<Chart> {
    let first = today - TimeDelta::days(days - 1);
    type Pick = fn(&DayStats) -> i64;
    let series: [(&'static str, Pick); 5] = [
        ("signups", |d| d.signups),
        ("active", |d| d.active),
        ("swipes", |d| d.swipes),
        ("matches", |d| d.matches),
        ("messages", |d| d.messages),
    ];
    series
        .iter()
        .map(|(name, pick)| {
            let values: Vec<i64> = (0..days)
                .map(|i| {
                    let day = first + TimeDelta::days(i);
                    rows.iter().find(|r| r.day == day).map_or(0, pick)
                })
                .collect();
            let max = values.iter().copied().max().unwrap_or(0);
            let step = 600.0 / (days.max(2) - 1) as f64;
            let points = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let y = if max == 0 {
                        120.0
                    } else {
                        120.0 - (*v as f64 / max as f64) * 110.0
                    };
                    format!("{:.1},{:.1}", i as f64 * step, y)
                })
                .collect::<Vec<_>>()
                .join(" ");
            Chart {
                series: name,
                last: values.last().copied().unwrap_or(0),
                max,
                points,
            }
        })
        .collect()
}
