//! The database: one binary that speaks SQLite or PostgreSQL, chosen at run
//! time by the scheme of `DATABASE_URL`.

pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either backend. Queries written with Diesel's query builder
/// run on both; code that needs a backend-specific statement matches on it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The backend a URL names, or `None` when the scheme is unknown. A bare
    /// path is not accepted: a mistyped PostgreSQL URL must not silently
    /// become a SQLite file.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else {
            None
        }
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// An r2d2 manager that picks the backend by URL scheme and prepares SQLite
/// connections (WAL, foreign keys, busy timeout).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Result<Self, ConnectionError> {
        let backend = Backend::from_url(url).ok_or_else(|| {
            ConnectionError::InvalidConnectionUrl(
                "expected sqlite://PATH or postgres://…".to_string(),
            )
        })?;
        Ok(Self {
            url: url.to_string(),
            backend,
        })
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let path = sqlite_path(&self.url);
                if let Some(parent) = std::path::Path::new(path).parent() {
                    if !parent.as_os_str().is_empty() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                }
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction (a panic mid-way) is dropped,
    /// never handed out again holding SQLite's write lock.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// A pool for `url`. SQLite gets a modest pool: it has one writer at a time.
pub fn pool(url: &str, max_size: u32) -> Result<Pool, AppError> {
    let manager = ConnectionManager::new(url).map_err(|e| AppError::internal("database url", e))?;
    let size = match manager.backend {
        Backend::Sqlite => max_size.clamp(1, 8),
        Backend::Postgres => max_size.max(1),
    };
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| AppError::internal("database pool", e))
}

/// Runs the embedded migrations of the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, AppError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| AppError::internal("migrations", std::io::Error::other(e.to_string())))
}

/// Runs `f` on a pooled connection on the blocking thread pool, so database
/// work never stalls the async executor.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::internal("database pool", e))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| AppError::internal("blocking task", e))?
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock up front so two writers wait for each other (busy timeout)
/// instead of failing when a read turns into a write.
pub fn transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Postgresql(_) => conn.transaction(f),
        DbConnection::Sqlite(sqlite) => {
            let nested = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
                .transaction_depth()
                .map_err(E::from)?
                .is_some();
            if nested {
                // Inside a transaction already: a savepoint, as on PostgreSQL.
                return conn.transaction(f);
            }
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    if let Err(e) =
                        <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
                    {
                        let _ =
                            <DbConnection as Connection>::TransactionManager::rollback_transaction(
                                conn,
                            );
                        return Err(e.into());
                    }
                    Ok(value)
                }
                Err(e) => {
                    let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(
                        conn,
                    );
                    Err(e)
                }
            }
        }
    }
}

/// Whether a Diesel error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// The current time as stored: naive UTC, microsecond precision on both backends.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_by_scheme_only() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("sqlite://var/x.db"),
            Some(Backend::Sqlite)
        );
        assert_eq!(Backend::from_url("postgress://typo"), None);
        assert_eq!(Backend::from_url("var/x.db"), None);
    }

    #[test]
    fn sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout() {
        #[derive(diesel::QueryableByName)]
        struct Value {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let path = std::env::temp_dir().join(format!(
            "swiper-pragma-{}.db",
            crate::security::random::token(6)
        ));
        let pool = pool(&format!("sqlite://{}", path.display()), 1).ok();
        let mut conn = pool.as_ref().and_then(|p| p.get().ok());
        let mut pragma = |name: &str, column: &str| {
            conn.as_deref_mut().and_then(|c| {
                diesel::sql_query(format!(
                    "SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}"
                ))
                .get_result::<Value>(c)
                .ok()
                .map(|v| v.value)
            })
        };
        assert_eq!(
            pragma("journal_mode", "journal_mode").as_deref(),
            Some("wal")
        );
        assert_eq!(pragma("foreign_keys", "foreign_keys").as_deref(), Some("1"));
        assert_eq!(pragma("busy_timeout", "timeout").as_deref(), Some("10000"));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn migrations_run_on_a_fresh_sqlite_file_and_twice_is_a_no_op() {
        let path = std::env::temp_dir().join(format!(
            "swiper-mig-{}.db",
            crate::security::random::token(6)
        ));
        let url = format!("sqlite://{}", path.display());
        let pool = pool(&url, 1).ok();
        let mut conn = pool.as_ref().and_then(|p| p.get().ok());
        let conn = conn.as_deref_mut();
        let first = conn.map(|c| (migrate(c).ok(), migrate(c).ok()));
        assert!(matches!(first, Some((Some(n), Some(0))) if n > 0));
        let _ = std::fs::remove_file(path);
    }
}
