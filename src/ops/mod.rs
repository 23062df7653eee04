//! Operations endpoints: `/healthz` (the process answers) and `/readyz`
//! (the database and Redis answer).

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

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = state
        .db
        .primary(|c| Ok(c.batch_execute("SELECT 1")?))
        .await
        .is_ok();
    let redis = match &state.redis {
        None => None,
        Some(r) => {
            let mut r = r.clone();
            Some(
                redis::cmd("PING")
                    .query_async::<String>(&mut r)
                    .await
                    .is_ok(),
            )
        }
    };
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
