#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use actix_web::web;
use diesel::{Connection, RunQueryDsl};
use swiper::config::{Settings, Source};
use swiper::db::{self, Pool};
use swiper::security::random;
use swiper::startup::Application;
use swiper::state::AppState;

/// Runs `f` on a connection of `pool`, off the async executor.
pub async fn run_on<T, F>(pool: &Pool, f: F) -> Result<T, swiper::error::AppError>
where
    F: FnOnce(&mut db::DbConnection) -> Result<T, swiper::error::AppError> + Send + 'static,
    T: Send + 'static,
{
    db::Db::new(pool.clone()).primary(f).await
}

/// Iterations used by tests, so that hashing stays fast on two cores.
/// Production refuses fewer than 600,000 (see config).
pub const TEST_ITERATIONS: &str = "1000";
pub const GOOD_PASSWORD: &str = "violet tram 42 sings";

/// A database of its own for one test: a fresh SQLite file, or a fresh
/// PostgreSQL database when `TEST_DATABASE_URL` is set (dropped afterwards).
pub struct TestDb {
    pub url: String,
    admin: Option<(String, String)>,
    dir: std::path::PathBuf,
}

impl TestDb {
    pub fn new() -> Self {
        let name = format!(
            "swiper_test_{}",
            random::token(9).to_lowercase().replace('-', "_")
        );
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("temp dir");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                Self {
                    url: url.to_string(),
                    admin: Some((admin_url, name)),
                    dir,
                }
            }
            None => Self {
                url: format!("sqlite://{}", dir.join("swiper.sqlite3").display()),
                admin: None,
                dir,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.admin.is_some()
    }

    pub fn pool(&self) -> Pool {
        let pool = db::pool(&self.url, 8).expect("pool");
        let mut conn = pool.get().expect("connection");
        db::migrate(&mut conn).expect("migrations");
        pool
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.admin {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real SMTP server (the `mailin` protocol library over TCP) that hands
/// every received message to the test.
pub struct MailSink {
    pub port: u16,
    rx: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
}

#[derive(Clone)]
struct Collector {
    tx: tokio::sync::mpsc::UnboundedSender<String>,
    buf: Vec<u8>,
}

impl mailin::Handler for Collector {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> mailin::Response {
        self.buf.clear();
        mailin::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> mailin::Response {
        let _ = self
            .tx
            .send(String::from_utf8_lossy(&self.buf).into_owned());
        mailin::response::OK
    }
}

impl MailSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp sink");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = Collector {
                    tx: tx.clone(),
                    buf: Vec::new(),
                };
                std::thread::spawn(move || {
                    let peer = stream
                        .peer_addr()
                        .map(|a| a.ip())
                        .unwrap_or([127, 0, 0, 1].into());
                    let mut session = mailin::SessionBuilder::new("sink.test").build(peer, handler);
                    let mut writer = stream.try_clone().expect("clone stream");
                    let _ = session.greeting().write_to(&mut writer);
                    let mut reader = BufReader::new(stream);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match reader.read_until(b'\n', &mut line) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                        let response = session.process(&line);
                        match response.action {
                            mailin::Action::Close => {
                                let _ = response.write_to(&mut writer);
                                break;
                            }
                            mailin::Action::NoReply => {}
                            _ => {
                                let _ = response.write_to(&mut writer);
                            }
                        }
                        let _ = writer.flush();
                    }
                });
            }
        });
        Self {
            port,
            rx: tokio::sync::Mutex::new(rx),
        }
    }

    /// The next message, decoded enough to read links (quoted-printable soft breaks).
    pub async fn next_mail(&self) -> String {
        let mut rx = self.rx.lock().await;
        let raw = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("a mail should arrive at the SMTP server within a minute")
            .expect("the SMTP sink is running");
        raw.replace("=\r\n", "").replace("=3D", "=")
    }
}

/// The first link in a mail that starts with `prefix` (e.g. the app's base URL + path).
pub fn link_in(mail: &str, path: &str) -> String {
    let at = mail
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in mail:\n{mail}"));
    let start = mail[..at].rfind("http").unwrap_or(at);
    let rest = &mail[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].to_string()
}

/// A browser: its own cookie jar, redirects not followed so tests see them.
#[derive(Clone)]
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::with_headers(base, reqwest::header::HeaderMap::new())
    }

    /// A browser that sends these headers with every request.
    pub fn with_headers(base: &str, headers: reqwest::header::HeaderMap) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar,
            base: base.to_string(),
        }
    }

    /// The same browser (same cookies) talking to another server.
    pub fn on(&self, base: &str) -> Self {
        Self {
            client: self.client.clone(),
            jar: self.jar.clone(),
            base: base.to_string(),
        }
    }

    /// The current value of a cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = url::Url::parse(&self.base).ok()?;
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|kv| {
            kv.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn html(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    /// The CSRF token of this browser's session, read from a form page.
    pub async fn csrf(&self) -> String {
        csrf_in(&self.html("/password-reset").await)
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form with this session's CSRF token, as the page's form would.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.login_with(email, password, &[]).await
    }

    /// Logs in with more form fields (`remember`, `next`).
    pub async fn login_with(
        &self,
        email: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = vec![("email", email), ("password", password)];
        fields.extend_from_slice(extra);
        self.post("/login", &fields).await
    }

    pub async fn change_password(&self, current: &str, new: &str) -> reqwest::Response {
        self.post(
            "/settings/password",
            &[("current_password", current), ("new_password", new)],
        )
        .await
    }

    pub async fn is_logged_in(&self) -> bool {
        self.get("/settings").await.status() == 200
    }
}

/// Whether a bare session cookie value, sent by a client with no other
/// state (a thief replaying it), is logged in.
pub async fn cookie_is_logged_in(base: &str, cookie: &str) -> bool {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = client
        .get(format!("{base}/settings"))
        .header("cookie", format!("swiper_session={cookie}"))
        .send()
        .await
        .expect("GET");
    res.status() == 200
}

/// Logs out from `origin` (an `Origin` header) with a valid token.
pub async fn logout_from(browser: &Browser, origin: &str) -> reqwest::Response {
    let token = browser.csrf().await;
    browser
        .client
        .post(browser.url("/logout"))
        .header("origin", origin)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("POST")
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in:\n{html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Asserts a response is the error page with this status and stable code.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) {
    assert_eq!(res.status(), status);
    let body = res.text().await.expect("body");
    assert!(
        body.contains(&format!("data-error-code=\"{code}\"")),
        "expected {code} in:\n{body}"
    );
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

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

/// Another instance on the same database and Redis prefix (a second server behind nginx).
pub async fn spawn_on(db: std::sync::Arc<TestDb>, prefix: &str, extra: &[(&str, &str)]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        swiper::telemetry::init(swiper::config::LogFormat::Text);
    }
    let mail = MailSink::start();
    let settings = test_settings(&db, mail.port, prefix, extra);
    let app = Application::build(settings).await.expect("app builds");
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
