//! The dashboard: live counters, and 30 days of charts: the daily
//! statistics job's days, and today counted live.

use actix_web::web;
use actix_web::HttpResponse;
use askama::Template;
use diesel::prelude::*;

use super::guard::Staff;
use super::stats;
use crate::admin::state::AdminState;
use crate::db::schema::{matches, swipes, users};
use crate::error::AppError;
use crate::web::Page;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    page: Page,
    staff: Staff,
    members: i64,
    verified: i64,
    banned: i64,
    swipes: i64,
    matches: i64,
    charts: Vec<stats::Chart>,
}

pub async fn show(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let today = state.clock.today();
    let rows = state
        .db
        .read(move |c| {
            let first = today - chrono::TimeDelta::days(stats::CHART_DAYS - 1);
            let mut rows: Vec<_> = stats::since(c, first)?
                .into_iter()
                .filter(|d| d.day < today)
                .collect();
            rows.push(stats::count(c, today)?);
            Ok(rows)
        })
        .await?;
    let charts = stats::charts(&rows, today, stats::CHART_DAYS);
    let (members, verified, banned, swipes, matches) = state
        .db
        .read(|c| {
            Ok((
                users::table.count().get_result::<i64>(c)?,
                users::table
                    .filter(users::email_verified_at.is_not_null())
                    .count()
                    .get_result::<i64>(c)?,
                users::table
                    .filter(users::is_active.eq(false))
                    .count()
                    .get_result::<i64>(c)?,
                swipes::table.count().get_result::<i64>(c)?,
                matches::table.count().get_result::<i64>(c)?,
            ))
        })
        .await?;
    crate::web::ok(&DashboardPage {
        page,
        staff,
        members,
        verified,
        banned,
        swipes,
        matches,
        charts,
    })
}
