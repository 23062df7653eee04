//! The application under test: spawned on a random port with its own
//! database, mail server and Redis prefix. The only file of the tests that
//! names `swiper::startup`, the composition root.

use std::collections::HashMap;

use actix_web::web;
use diesel::RunQueryDsl;
use swiper::clock::Clock;
use swiper::config::{Settings, Source};
use swiper::db;
use swiper::jobs::Registry;
use swiper::security::random;
use swiper::startup::AppState;
use swiper::startup::{self, Application};

use super::{link_in, run_on, Browser, MailSink, TestDb, GOOD_PASSWORD, TEST_ITERATIONS};

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub state: web::Data<AppState>,
    pub mail: MailSink,
    pub browser: Browser,
    pub db: std::sync::Arc<TestDb>,
}

/// The configuration a test app starts with; `extra` overrides it.
pub fn test_settings(
    db: &TestDb,
    smtp_port: u16,
    prefix: &str,
    extra: &[(&str, &str)],
) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0".to_string()),
        ("DATABASE_URL", db.url.clone()),
        ("SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
        ("SECRET_KEY", "test-secret-".repeat(8)),
        ("VAR_DIR", db.dir.display().to_string()),
        ("PASSWORD_ITERATIONS", TEST_ITERATIONS.to_string()),
        ("JOB_POLL_INTERVAL_MS", "50".to_string()),
        ("JOB_BACKOFF_BASE", "0".to_string()),
        ("REDIS_PREFIX", prefix.to_string()),
        // A few connections each: many apps run side by side on one server.
        ("DATABASE_POOL_SIZE", "3".to_string()),
        // Each test makes the members it needs.
        ("DEMO_DATA", "false".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        if !redis.is_empty() {
            vars.insert("REDIS_URL".into(), redis);
        }
    }
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Settings::load(&Source::from_map(vars)).expect("test settings are valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let db = std::sync::Arc::new(TestDb::new());
    let prefix = format!("swiper-test-{}", random::token(6));
    spawn_on(db, &prefix, extra).await
}

/// An app whose time is `clock` (a manual one lets the test move time forward).
pub async fn spawn_app_with_clock(clock: Clock) -> TestApp {
    spawn_app_with_clock_and(clock, &[]).await
}

/// A manual-clock app with configuration overrides.
pub async fn spawn_app_with_clock_and(clock: Clock, extra: &[(&str, &str)]) -> TestApp {
    let db = std::sync::Arc::new(TestDb::new());
    let prefix = format!("swiper-test-{}", random::token(6));
    start(db, &prefix, extra, clock).await
}

/// Two instances on one database and Redis prefix (two servers behind
/// nginx, sharing sessions, counters and the chat hub). Only A runs a
/// worker, so every mail reaches A's mail sink.
pub async fn spawn_two() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let prefix = a.state.settings.redis.prefix.clone();
    let b = spawn_on(a.db.clone(), &prefix, &[("RUN_WORKER", "false")]).await;
    (a, b)
}

/// Another instance on the same database and Redis prefix (a second server behind nginx).
pub async fn spawn_on(db: std::sync::Arc<TestDb>, prefix: &str, extra: &[(&str, &str)]) -> TestApp {
    start(db, prefix, extra, Clock::system()).await
}

async fn start(
    db: std::sync::Arc<TestDb>,
    prefix: &str,
    extra: &[(&str, &str)],
    clock: Clock,
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        swiper::telemetry::init(swiper::config::LogFormat::Text);
    }
    let mail = MailSink::start();
    let settings = test_settings(&db, mail.port, prefix, extra);
    let app = Application::build_with_clock(settings, clock)
        .await
        .expect("app builds");
    let port = app.port();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let base = format!("http://127.0.0.1:{port}");
    TestApp {
        browser: Browser::new(&base),
        base,
        port,
        state,
        mail,
        db,
    }
}

/// Every job kind the application runs, registered as the running app does.
pub fn job_registry() -> Registry {
    startup::job_registry()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Session state this app left in the shared Redis.
        let Some(url) = self.state.settings.redis.url.clone() else {
            return;
        };
        let pattern = format!("{}:*", self.state.settings.redis.prefix);
        if let Ok(mut conn) = redis::Client::open(url.expose()).and_then(|c| c.get_connection()) {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        }
    }
}

impl TestApp {
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub async fn db<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&mut db::DbConnection) -> Result<T, diesel::result::Error> + Send + 'static,
        T: Send + 'static,
    {
        run_on(self.state.db.pool(), move |c| Ok(f(c)?))
            .await
            .expect("db call")
    }

    /// The id of the account with `email`.
    pub async fn user_id(&self, email: &str) -> i64 {
        use diesel::{ExpressionMethods, QueryDsl};
        use swiper::db::schema::users;
        let email = email.to_string();
        self.db(move |c| {
            users::table
                .filter(users::email.eq(email))
                .select(users::id)
                .first::<i64>(c)
        })
        .await
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        self.db(move |c| {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result::<N>(c)
                .map(|r| r.n)
        })
        .await
    }

    /// Signs up through the form and returns the verification link from the mail.
    pub async fn sign_up(&self, browser: &Browser, email: &str, nickname: &str) -> String {
        let res = browser
            .post(
                "/signup",
                &[
                    ("email", email),
                    ("password", GOOD_PASSWORD),
                    ("nickname", nickname),
                    ("sex", "female"),
                    ("birthday", "1990-05-17"),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            303,
            "sign-up should redirect: {}",
            res.text().await.unwrap_or_default()
        );
        link_in(&self.mail.next_mail().await, "/verify-email?token=")
    }

    /// A verified member, created through the forms, logged in on `browser`.
    pub async fn member(&self, browser: &Browser, email: &str) {
        let link = self.sign_up(browser, email, "Member").await;
        assert_eq!(browser.get(&link).await.status(), 200);
        let res = browser.login(email, GOOD_PASSWORD).await;
        assert_eq!(res.status(), 303);
    }
}
