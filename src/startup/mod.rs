//! The composition root: builds the state, the job registry (every feature's
//! job kinds), the middleware stack and the routes, then runs the HTTP server
//! and the in-process worker. Nothing else imports this module.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_identity::config::LogoutBehavior;
use actix_identity::IdentityMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use tokio::sync::watch;
use tracing_actix_web::TracingLogger;

use crate::accounts::state::AccountsState;
use crate::admin::state::AdminState;
use crate::auth::cache::PrincipalCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::discovery::cache::{Absent, FeedCache};
use crate::discovery::pages::PageCache;
use crate::discovery::state::DiscoveryState;
use crate::discovery::writer::SwipeWriter;
use crate::error::AppError;
use crate::jobs::{JobContext, JobWriter, Worker, WorkerWake};
use crate::limits::Counters;
use crate::mail::Mailer;
use crate::matches::state::ChatState;
use crate::ops::OpsState;
use crate::profiles::state::ProfilesState;
use crate::realtime::Hub;
use crate::redis_link::RedisLink;
use crate::runtime::RuntimeSettings;
use crate::security::{keys, password};
use crate::state::Spine;
use crate::storage::MediaStore;
use crate::telemetry::SwiperRootSpan;
use crate::web as spine;
use crate::web::session_store::AppSessionStore;
use crate::{accounts, auth, discovery, home, matches, ops, profiles};

mod jobs;
pub use jobs::job_registry;

/// Runs pending migrations, then brings the permissions and seeded roles in
/// line with the code (`auth::rbac::sync`).
pub fn migrate_and_sync(c: &mut db::DbConnection) -> Result<usize, AppError> {
    let applied = db::migrate(c)?;
    let now = chrono::Utc::now().naive_utc();
    auth::rbac::sync(c, now)?;
    auth::plans::sync(c, now)?;
    if applied > 0 {
        // A migration may have filled or indexed a table.
        db::analyze(c)?;
    }
    Ok(applied)
}

/// Connects to the database (and runs migrations outside production).
pub async fn connect_database(settings: &Settings) -> Result<Db, AppError> {
    let pool = {
        let url = settings.database.url.clone();
        let size = settings.database.pool_size;
        let statements = settings.database.statements;
        web::block(move || db::pool(url.expose(), size, statements))
            .await
            .map_err(|e| AppError::internal("database pool", e))??
    };
    let db = match &settings.database.replica_url {
        Some(url) => Db::with_replica(
            pool,
            db::replica_pool(
                url.expose(),
                settings.database.pool_size,
                settings.database.statements,
            )?,
        ),
        None => Db::new(pool),
    };
    if !settings.is_production() {
        let applied = db.primary(migrate_and_sync).await?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
    }
    Ok(db)
}

/// The cookie key, derived from `SECRET_KEY` so other uses of the secret get other keys.
fn cookie_key(settings: &Settings) -> Key {
    let bytes: [u8; 64] = keys::derive(settings.secret_key.expose(), b"session cookie");
    Key::from(&bytes)
}

/// Requests by route pattern (never the raw path) and status, with latency
/// histograms, on the process's one registry (`/metrics`). Built once per
/// process: its collectors can be registered only once.
static HTTP_METRICS: std::sync::LazyLock<Result<actix_web_prom::PrometheusMetrics, String>> =
    std::sync::LazyLock::new(|| {
        actix_web_prom::PrometheusMetricsBuilder::new("swiper")
            .registry(crate::metrics::get().registry.clone())
            .mask_unmatched_patterns("UNKNOWN")
            .build()
            .map_err(|e| e.to_string())
    });

/// The application's handles, built once, and the states cut from them:
/// the web spine's and each feature's, each registered as its own
/// `web::Data` so a handler names the one it uses.
pub struct AppState {
    /// Principals by session, for warm pages (auth::cache).
    pub principals: web::Data<PrincipalCache>,
    pub spine: web::Data<Spine>,
    pub accounts: web::Data<AccountsState>,
    pub profiles: web::Data<ProfilesState>,
    pub discovery: web::Data<DiscoveryState>,
    pub chat: web::Data<ChatState>,
    pub admin: web::Data<AdminState>,
    pub ops: web::Data<OpsState>,
    /// The API's token keys and issuer.
    pub api: web::Data<crate::api::ApiKeys>,
    pub settings: Arc<Settings>,
    pub db: Db,
    pub clock: Clock,
    pub runtime: RuntimeSettings,
    pub counters: Counters,
    pub hub: Hub,
    pub mailer: Mailer,
    pub media: MediaStore,
    pub worker_wake: WorkerWake,
}

impl AppState {
    /// What a job handler gets.
    pub fn job_context(&self) -> JobContext {
        JobContext {
            db: self.db.clone(),
            settings: self.settings.clone(),
            mailer: self.mailer.clone(),
            media: self.media.clone(),
            clock: self.clock.clone(),
            members_changed: {
                let hub = self.hub.clone();
                crate::jobs::MembersChanged::new(move |members| hub.members_changed_soon(members))
            },
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    worker: Option<(tokio::task::JoinHandle<()>, watch::Sender<bool>)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// Builds the application on a given clock (tests set the time with a manual one).
    pub async fn build_with_clock(mut settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.http.bind)?;
        let port = listener.local_addr()?.port();
        // BASE_URL left at its default follows the port actually bound (port 0 in tests).
        if settings.http.base_url.port() == Some(0) {
            let _ = settings.http.base_url.set_port(Some(port));
        }
        let settings = Arc::new(settings);
        let db = connect_database(&settings).await?;
        let media = MediaStore::from_settings(&settings.media)?;
        if settings.demo_data && !settings.is_production() {
            let iterations = settings.passwords.iterations;
            if let Some(password) =
                crate::seed::ensure_demo(&db, &media, &clock, iterations).await?
            {
                tracing::info!(
                    members = crate::seed::DEMO_MEMBERS,
                    "demo data created; log in as {} with password {}",
                    crate::seed::DEMO_EMAIL,
                    password.expose()
                );
            }
        }
        let redis = RedisLink::connect(&settings.redis).await?;
        let hub = crate::realtime::Hub::over(redis.clone(), &settings.redis.prefix).await?;
        let principals = web::Data::new(PrincipalCache::default());
        {
            let principals = principals.clone();
            hub.on_member_event_for(move |member| principals.forget_user(member));
        }
        let pages = PageCache::new(if settings.feed_cache.is_zero() {
            Duration::ZERO
        } else {
            crate::discovery::pages::PAGE_LIFETIME
        });
        {
            let pages = pages.clone();
            hub.on_event_for(move |member| pages.changed(member));
        }
        let store = AppSessionStore::new(
            redis.clone(),
            db.clone(),
            &settings.redis.prefix,
            settings.sessions.idle_timeout,
        );
        let mailer = Mailer::from_settings(&settings)?;
        let iterations = settings.passwords.iterations;
        let dummy_hash = web::block(move || password::dummy_hash(iterations)).await?;
        let worker_wake = WorkerWake::default();
        let runtime = RuntimeSettings::new(db.clone());
        let counters = Counters::new(redis.clone(), &settings.redis.prefix, clock.clone());
        let keys = Arc::new(keys::Keys::from_secret(settings.secret_key.expose()));
        let jobs = JobWriter::new(db.clone(), worker_wake.clone());
        let state = web::Data::new(AppState {
            principals,
            spine: web::Data::new(Spine {
                settings: settings.clone(),
                db: db.clone(),
                clock: clock.clone(),
                keys: keys.clone(),
                runtime: runtime.clone(),
                counters: counters.clone(),
            }),
            accounts: web::Data::new(AccountsState {
                settings: settings.clone(),
                db: db.clone(),
                jobs: jobs.clone(),
                clock: clock.clone(),
                runtime: runtime.clone(),
                counters: counters.clone(),
                keys,
                hub: hub.clone(),
                media: media.clone(),
                sessions: store.clone(),
                dummy_hash: dummy_hash.into(),
                login_pacer: Default::default(),
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(std::time::Duration::from_secs(10))
                    .user_agent("swiper")
                    .build()?,
            }),
            profiles: web::Data::new(ProfilesState {
                settings: settings.clone(),
                db: db.clone(),
                jobs: jobs.clone(),
                clock: clock.clone(),
                media: media.clone(),
                hub: hub.clone(),
            }),
            discovery: web::Data::new(DiscoveryState {
                settings: settings.clone(),
                db: db.clone(),
                jobs: jobs.clone(),
                clock: clock.clone(),
                runtime: runtime.clone(),
                hub: hub.clone(),
                feeds: FeedCache::new(settings.feed_cache),
                pages: pages.clone(),
                writer: SwipeWriter::new(
                    jobs.clone(),
                    hub.clone(),
                    db::Backend::from_url(settings.database.url.expose())
                        .map_or(1, db::Backend::group_writers),
                ),
                absent: Absent::default(),
            }),
            chat: web::Data::new(ChatState {
                settings: settings.clone(),
                db: db.clone(),
                clock: clock.clone(),
                runtime: runtime.clone(),
                counters: counters.clone(),
                hub: hub.clone(),
            }),
            admin: web::Data::new(AdminState {
                settings: settings.clone(),
                db: db.clone(),
                jobs,
                clock: clock.clone(),
                runtime: runtime.clone(),
                hub: hub.clone(),
                counters: counters.clone(),
            }),
            ops: web::Data::new(OpsState {
                settings: settings.clone(),
                db: db.clone(),
                redis,
                hub: hub.clone(),
            }),
            api: web::Data::new(crate::api::ApiKeys {
                keys: crate::api::jws::Keys::load(
                    settings.jwt_key_file.as_deref(),
                    &settings.paths.var_dir,
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?,
                issuer: settings
                    .http
                    .base_url
                    .as_str()
                    .trim_end_matches('/')
                    .to_string(),
            }),
            settings: settings.clone(),
            db,
            clock,
            runtime,
            counters,
            hub,
            mailer,
            media,
            worker_wake,
        });
        let prometheus = HTTP_METRICS
            .clone()
            .map_err(|e| anyhow::anyhow!("metrics middleware: {e}"))?;
        let key = cookie_key(&settings);
        let server = {
            let state = state.clone();
            HttpServer::new(move || {
                let s = &state.settings;
                let lifetime = s.sessions.remember_me.max(s.sessions.absolute_timeout);
                let ttl =
                    time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
                let session = SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_name(spine::session_cookie_name(s).to_string())
                    .cookie_secure(s.is_https())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .session_lifecycle(BrowserSession::default().state_ttl(ttl))
                    .build();
                // Outer bound only: idle and absolute limits per session are
                // enforced on the session rows (auth::sessions).
                // A revoked or expired session drops only the identity: the
                // CSRF token stays, so the login form shown next still works.
                let identity = IdentityMiddleware::builder()
                    .login_deadline(Some(lifetime))
                    .logout_behavior(LogoutBehavior::DeleteIdentityKeys)
                    .build();
                App::new()
                    .app_data(state.spine.clone())
                    .app_data(state.principals.clone())
                    .app_data(state.accounts.clone())
                    .app_data(state.profiles.clone())
                    .app_data(state.discovery.clone())
                    .app_data(state.chat.clone())
                    .app_data(state.admin.clone())
                    .app_data(state.ops.clone())
                    .app_data(state.api.clone())
                    .configure(spine::forms::configure)
                    .route("/static/{path}*", web::get().to(spine::assets::serve))
                    .configure(ops::configure)
                    .configure(profiles::routes::configure_media)
                    // Outside every session, identity and CSRF layer: no
                    // cookie is read or set under /api/.
                    .configure(crate::api::configure)
                    .configure(crate::accounts::routes::configure_unsubscribe)
                    .service(
                        web::scope("")
                            .wrap(from_fn(spine::csrf::middleware))
                            .wrap(from_fn(spine::rate::middleware))
                            .wrap(from_fn(auth::middleware::middleware))
                            .wrap(identity)
                            .wrap(session)
                            .wrap(from_fn(spine::session_store::reads))
                            .wrap(from_fn(spine::remember::middleware))
                            .configure(accounts::routes::configure)
                            .configure(home::configure)
                            .configure(discovery::routes::configure)
                            .configure(matches::routes::configure)
                            .configure(profiles::routes::configure)
                            .configure(crate::admin::routes::configure)
                            .configure(|cfg| crate::dev::configure(cfg, s.is_production()))
                            .default_service(web::to(not_found)),
                    )
                    .wrap(from_fn(spine::body_timeout::middleware))
                    .wrap(from_fn(spine::errors::middleware))
                    .wrap(from_fn(spine::headers::middleware))
                    .wrap(from_fn(spine::head::middleware))
                    .wrap(TracingLogger::<SwiperRootSpan>::new())
                    .wrap(prometheus.clone())
            })
            .shutdown_timeout(30)
            .client_request_timeout(settings.http.header_timeout)
            // Signals are ours: chat sockets close with "going away" first,
            // so a stopping instance is not held open by them.
            .disable_signals()
            .listen(listener)?
            .run()
        };
        tokio::spawn(stop_on_signal(server.handle(), state.hub.clone()));
        let worker = settings.jobs.run_worker.then(|| {
            let (tx, rx) = watch::channel(false);
            let w = Worker::new(
                state.job_context(),
                Arc::new(job_registry()),
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

/// On SIGTERM or SIGINT: chat sockets close with "going away" (clients
/// reconnect to another instance), then the server stops accepting and
/// finishes the requests in flight.
async fn stop_on_signal(server: actix_web::dev::ServerHandle, hub: crate::realtime::Hub) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("stopping: closing chat sockets, finishing requests");
    hub.shutdown();
    server.stop(true).await;
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_periodic_job_has_a_handler() {
        let r = super::job_registry();
        let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        let due = r.due_between(from, from + chrono::TimeDelta::days(1));
        assert!(!due.is_empty());
        assert!(due.iter().all(|(kind, _)| r.get(kind).is_some()));
    }
}
