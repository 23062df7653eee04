//! A database of its own for each test.

use diesel::{Connection, RunQueryDsl};
use swiper::db::{self, Pool};
use swiper::security::random;

/// Runs `f` on a connection of `pool`, off the async executor.
pub async fn run_on<T, F>(pool: &Pool, f: F) -> Result<T, swiper::error::AppError>
where
    F: FnOnce(&mut db::DbConnection) -> Result<T, swiper::error::AppError> + Send + 'static,
    T: Send + 'static,
{
    db::Db::new(pool.clone()).primary(f).await
}

/// A database of its own for one test: a fresh SQLite file, or a fresh
/// PostgreSQL database when `TEST_DATABASE_URL` is set (dropped afterwards).
pub struct TestDb {
    pub url: String,
    admin: Option<(String, String)>,
    pub dir: std::path::PathBuf,
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
        let pool = db::pool(&self.url, 2, swiper::db::Statements::Prepared).expect("pool");
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
