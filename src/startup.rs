//! Building the application: state, middleware stack, routes, the HTTP
//! server on its listener and the in-process worker.

use std::net::TcpListener;
use std::sync::Arc;

use actix_identity::config::LogoutBehavior;
use actix_identity::IdentityMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use tokio::sync::{watch, Notify};
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::jobs::{JobContext, Registry, Worker};
use crate::mail::Mailer;
use crate::security::password;
use crate::telemetry::SwiperRootSpan;
use crate::web::session_store::AppSessionStore;
use crate::web::{self as spine, SESSION_COOKIE};
use crate::{accounts, home, ops};

/// Shared by every request handler (as `web::Data<AppState>`).
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: Pool,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub mailer: Mailer,
    /// Verified against when an email is unknown, so timing reveals nothing.
    pub dummy_hash: String,
    worker_wake: Arc<Notify>,
}

impl AppState {
    /// Tells the in-process worker a job was just queued (it polls anyway).
    pub fn wake_worker(&self) {
        self.worker_wake.notify_one();
    }

    pub fn job_context(&self) -> JobContext {
        JobContext {
            pool: self.pool.clone(),
            settings: self.settings.clone(),
            mailer: self.mailer.clone(),
        }
    }
}

/// Connects to the database (and runs migrations outside production).
pub async fn connect_database(settings: &Settings) -> Result<Pool, AppError> {
    let pool = {
        let (url, size) = (settings.database_url.clone(), settings.db_pool_size);
        web::block(move || db::pool(&url, size))
            .await
            .map_err(|e| AppError::internal("database pool", e))??
    };
    if !settings.is_production() {
        let applied = db::run(&pool, db::migrate).await?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
    }
    Ok(pool)
}

pub async fn connect_redis(
    settings: &Settings,
) -> anyhow::Result<Option<redis::aio::ConnectionManager>> {
    match &settings.redis_url {
        None => Ok(None),
        Some(url) => Ok(Some(
            redis::Client::open(url.as_str())?
                .get_connection_manager()
                .await?,
        )),
    }
}

/// The cookie key, derived from `SECRET_KEY` so other uses of the secret get other keys.
fn cookie_key(settings: &Settings) -> Key {
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"swiper");
    let prk = salt.extract(settings.secret_key.expose());
    let mut out = [0u8; 64];
    let info: &[&[u8]] = &[b"session cookie"];
    if let Ok(okm) = prk.expand(info, Len64) {
        let _ = okm.fill(&mut out);
    }
    Key::from(&out)
}

struct Len64;
impl ring::hkdf::KeyType for Len64 {
    fn len(&self) -> usize {
        64
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    worker: Option<(tokio::task::JoinHandle<()>, watch::Sender<bool>)>,
}

impl Application {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        // BASE_URL left at its default follows the port actually bound (port 0 in tests).
        if settings.base_url.port() == Some(0) {
            let _ = settings.base_url.set_port(Some(port));
        }
        let settings = Arc::new(settings);
        let pool = connect_database(&settings).await?;
        let redis = connect_redis(&settings).await?;
        let store = AppSessionStore::connect(
            settings.redis_url.as_deref(),
            &settings.redis_prefix,
            settings.session_idle_timeout,
        )
        .await?;
        let mailer = Mailer::from_settings(&settings)?;
        let iterations = settings.password_iterations;
        let dummy_hash = web::block(move || password::dummy_hash(iterations)).await?;
        let state = web::Data::new(AppState {
            settings: settings.clone(),
            pool,
            redis,
            mailer,
            dummy_hash,
            worker_wake: Arc::new(Notify::new()),
        });
        let key = cookie_key(&settings);
        let server = {
            let state = state.clone();
            HttpServer::new(move || {
                let s = &state.settings;
                let lifetime = s.remember_me_duration.max(s.session_absolute_timeout);
                let ttl =
                    time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
                let session = SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_name(SESSION_COOKIE.to_string())
                    .cookie_secure(s.is_https())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .session_lifecycle(BrowserSession::default().state_ttl(ttl))
                    .build();
                // Outer bound only: idle and absolute limits per session are
                // enforced on the session rows (accounts::sessions).
                // A revoked or expired session drops only the identity: the
                // CSRF token stays, so the login form shown next still works.
                let identity = IdentityMiddleware::builder()
                    .login_deadline(Some(lifetime))
                    .logout_behavior(LogoutBehavior::DeleteIdentityKeys)
                    .build();
                App::new()
                    .app_data(state.clone())
                    .configure(spine::forms::configure)
                    .route("/static/{path:.*}", web::get().to(spine::assets::serve))
                    .configure(ops::configure)
                    .service(
                        web::scope("")
                            .wrap(from_fn(spine::csrf::middleware))
                            .wrap(from_fn(accounts::current_user::middleware))
                            .wrap(identity)
                            .wrap(session)
                            .wrap(from_fn(spine::remember::middleware))
                            .configure(accounts::routes::configure)
                            .configure(home::configure)
                            .default_service(web::to(not_found)),
                    )
                    .wrap(from_fn(spine::errors::middleware))
                    .wrap(from_fn(spine::headers::middleware))
                    .wrap(TracingLogger::<SwiperRootSpan>::new())
            })
            .shutdown_timeout(30)
            .listen(listener)?
            .run()
        };
        let worker = settings.run_worker.then(|| {
            let (tx, rx) = watch::channel(false);
            let w = Worker::new(
                state.job_context(),
                Arc::new(Registry::standard()),
                state.worker_wake.clone(),
            );
            (tokio::spawn(w.run(rx)), tx)
        });
        Ok(Self {
            port,
            server,
            state,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until the server stops (SIGINT/SIGTERM: in-flight requests
    /// finish), then lets the worker finish its current job.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some((handle, tx)) = self.worker {
            let _ = tx.send(true);
            let _ = handle.await;
        }
        result
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
