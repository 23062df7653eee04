//! Operations endpoints: `/healthz` (the process answers) and `/readyz`
//! (the database and Redis answer).

use std::time::Duration;

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Each dependency gets this long to answer; `/readyz` itself answers
/// within about a second whatever is down.
const CHECK_BOUND: Duration = Duration::from_secs(1);

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let database = async move {
        db.primary(|c| Ok(c.batch_execute("SELECT 1")?))
            .await
            .is_ok()
    };
    let redis = state.redis.clone().map(|mut r| async move {
        redis::cmd("PING")
            .query_async::<String>(&mut r)
            .await
            .is_ok()
    });
    let (database, redis) = tokio::join!(
        async {
            tokio::time::timeout(CHECK_BOUND, database)
                .await
                .unwrap_or(false)
        },
        async {
            match redis {
                None => None,
                Some(ping) => Some(
                    tokio::time::timeout(CHECK_BOUND, ping)
                        .await
                        .unwrap_or(false),
                ),
            }
        }
    );
    let ready = database && redis.unwrap_or(true);
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "redis": redis.map_or("not configured", |ok| if ok { "ok" } else { "down" }),
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
