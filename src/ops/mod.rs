//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the
//! database and Redis answer) and `/metrics` (Prometheus).

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::config::Settings;
use crate::db::Db;
use crate::realtime::Hub;

/// What the operations endpoints look at.
#[derive(Clone)]
pub struct OpsState {
    pub settings: std::sync::Arc<Settings>,
    pub db: Db,
    /// `None` without Redis.
    pub redis: Option<crate::redis_link::RedisLink>,
    /// Open chat sockets, for the metrics.
    pub hub: Hub,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// `GET /metrics`, in the Prometheus text format: for a client on loopback
/// (the client IP as resolved through `TRUSTED_PROXIES`, so a request
/// relayed by nginx for someone else is not), or with `Authorization:
/// Bearer <METRICS_TOKEN>`. Anyone else gets 404, as for a path that does
/// not exist.
async fn metrics(req: HttpRequest, state: web::Data<OpsState>) -> HttpResponse {
    let local = crate::web::client_ip::ip(&req).is_some_and(|ip| ip.is_loopback());
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token_ok = match (&state.settings.metrics_token, bearer) {
        (Some(token), Some(given)) => {
            crate::security::random::constant_time_eq(token.expose().as_bytes(), given.as_bytes())
        }
        _ => false,
    };
    if !local && !token_ok {
        return HttpResponse::NotFound().finish();
    }
    let m = crate::metrics::get();
    m.chat_sockets
        .set(i64::try_from(state.hub.open_sockets()).unwrap_or(i64::MAX));
    let counts = state.db.read(|c| Ok(crate::jobs::queue::counts(c)?)).await;
    if let Ok(counts) = counts {
        m.jobs.reset();
        for (kind, status, n) in counts {
            m.jobs
                .with_label_values(&[kind.as_str(), status.as_str()])
                .set(n);
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(crate::metrics::encode())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Each dependency gets this long to answer; `/readyz` itself answers
/// within about a second whatever is down.
const CHECK_BOUND: Duration = Duration::from_secs(1);

async fn readyz(state: web::Data<OpsState>) -> HttpResponse {
    let db = state.db.clone();
    let database = async move {
        db.primary(|c| Ok(c.batch_execute("SELECT 1")?))
            .await
            .is_ok()
    };
    let redis = state.redis.clone().map(|r| async move { r.ping().await });
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
