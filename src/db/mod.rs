//! The database: one binary that speaks SQLite or PostgreSQL, chosen at run
//! time by the scheme of `DATABASE_URL`. [`Db`] is the handle features use:
//! `read` for queries that may go to a replica, `write` for a transaction on
//! the primary. What differs between the backends lives in [`dialect`].

mod connection;
pub mod dialect;
pub mod schema;
pub mod types;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::ConnectionError;

pub use connection::{DbConnection, Statements};
pub use dialect::{
    analyze, has_lateral, insert_unique, is_unique_violation, migrate, restore_indexes,
    set_aside_indexes, transaction, with_generic_plan, AllOf, Backend, Lateral, Listed, Values,
    Word,
};

use crate::error::AppError;

/// An r2d2 manager that picks the backend by URL scheme (never by trying:
/// SQLite would accept any string as a file name).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    statements: Statements,
}

impl ConnectionManager {
    pub fn new(url: &str, statements: Statements) -> Result<Self, ConnectionError> {
        let backend = Backend::from_url(url).ok_or_else(|| {
            ConnectionError::InvalidConnectionUrl(
                "expected sqlite://PATH or postgres://…".to_string(),
            )
        })?;
        Ok(Self {
            url: url.to_string(),
            backend,
            statements,
        })
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        dialect::connect(self.backend, &self.url, self.statements)
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

/// A pool for `url`. SQLite gets a modest pool (it has one writer at a time)
/// whose file is switched to WAL once, before the pool opens connections side
/// by side, so a first start on a new file never races for that lock.
pub fn pool(url: &str, max_size: u32, statements: Statements) -> Result<Pool, AppError> {
    let manager = ConnectionManager::new(url, statements)
        .map_err(|e| AppError::internal("database url", e))?;
    let size = match manager.backend {
        Backend::Sqlite => {
            drop(
                manager
                    .connect()
                    .map_err(|e| AppError::internal("database", e))?,
            );
            max_size.clamp(1, 8)
        }
        Backend::Postgres => max_size.max(1),
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| AppError::internal("database pool", e))
}

/// A pool for a read replica: connections are made on demand (the replica
/// may be down at start) and a checkout gives up after a second, so reads
/// fall back to the primary quickly when it is unreachable.
pub fn replica_pool(url: &str, max_size: u32, statements: Statements) -> Result<Pool, AppError> {
    let manager = ConnectionManager::new(url, statements)
        .map_err(|e| AppError::internal("replica url", e))?;
    Ok(r2d2::Pool::builder()
        .max_size(max_size.max(1))
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(1))
        .build_unchecked(manager))
}

/// How long a request waits for a connection when connecting fails: the
/// database is not there, and the answer is 503 with `Retry-After`.
const UNREACHABLE_AFTER: Duration = Duration::from_secs(1);

/// A pooled connection: within [`UNREACHABLE_AFTER`] when connecting fails
/// (503), within the pool's own time-out when every connection is busy.
fn checkout(pool: &Pool) -> Result<PooledConn, AppError> {
    match pool.get_timeout(UNREACHABLE_AFTER) {
        Ok(conn) => Ok(conn),
        // r2d2 appends the last connection error to its time-out ("…: error"):
        // the database refused or failed every attempt meanwhile.
        Err(e) if e.to_string().contains(": ") => {
            tracing::warn!(error = %e, "database unreachable");
            Err(AppError::Unavailable)
        }
        // Only busy: wait for a connection to come back.
        Err(_) => pool
            .get()
            .map_err(|e| AppError::internal("database pool", e)),
    }
}

/// How long a request waits for its turn at a busy pool before 503.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// A pool and as many permits as it has connections. Database work waits
/// for a permit as an async task (a few bytes, no thread) and only then
/// takes a blocking thread and a connection, so threads never pile up on
/// the pool's lock: one bounded hand-off per use.
#[derive(Clone)]
struct Gated {
    pool: Pool,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Gated {
    fn new(pool: Pool) -> Self {
        let size = usize::try_from(pool.max_size()).unwrap_or(1).max(1);
        Self {
            pool,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(size)),
        }
    }

    /// Runs `f` on a pooled connection on the blocking thread pool once a
    /// permit is free, so database work never stalls the async executor.
    /// With a `fallback` (a replica read), a pool that gives no connection
    /// hands the work to the primary.
    async fn run<T, F>(&self, f: F, fallback: Option<Fallback>) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(BUSY_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Unavailable)?
            .map_err(|e| AppError::internal("database permits", e))?;
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            // Held until the work ends, even if the request is dropped.
            let _permit = permit;
            let mut conn = match fallback {
                None => checkout(&pool)?,
                Some(fallback) => match pool.get() {
                    Ok(conn) => conn,
                    Err(e) => fallback.take(e)?,
                },
            };
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal("blocking task", e))?
    }
}

/// Where a replica read goes when the replica gives no connection.
struct Fallback {
    primary: Pool,
    down_until: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Fallback {
    fn take(self, e: r2d2::PoolError) -> Result<PooledConn, AppError> {
        tracing::warn!(error = %e, "replica unavailable; reading from the primary");
        self.down_until.store(
            epoch_secs() + REPLICA_PAUSE_SECS,
            std::sync::atomic::Ordering::Relaxed,
        );
        checkout(&self.primary)
    }
}

/// The database handle: the primary, and a read replica when
/// `DATABASE_REPLICA_URL` is set.
#[derive(Clone)]
pub struct Db {
    primary: Gated,
    replica: Option<Replica>,
}

/// The replica's pool, and until when it is left alone after a failed
/// checkout (seconds since the epoch).
#[derive(Clone)]
struct Replica {
    pool: Gated,
    down_until: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// How long reads stay on the primary after the replica failed them.
const REPLICA_PAUSE_SECS: i64 = 10;

fn epoch_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Db {
    pub fn new(primary: Pool) -> Self {
        Self {
            primary: Gated::new(primary),
            replica: None,
        }
    }

    /// Reads may go to `replica` (see [`Db::read`]).
    pub fn with_replica(primary: Pool, replica: Pool) -> Self {
        Self {
            primary: Gated::new(primary),
            replica: Some(Replica {
                pool: Gated::new(replica),
                down_until: Default::default(),
            }),
        }
    }

    /// Reads that may be slightly behind (feeds, likes, staff lists and
    /// dashboards): the replica when one is configured and answering, else
    /// the primary. A read that must see the caller's own writes uses
    /// [`Db::primary`]. When the replica cannot give a connection within a
    /// second, the read runs on the primary and later reads stay there for
    /// ten seconds.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let Some(replica) = self
            .replica
            .clone()
            .filter(|r| r.down_until.load(std::sync::atomic::Ordering::Relaxed) <= epoch_secs())
        else {
            return self.primary.run(f, None).await;
        };
        let fallback = Fallback {
            primary: self.primary.pool.clone(),
            down_until: replica.down_until.clone(),
        };
        replica.pool.run(f, Some(fallback)).await
    }

    /// A write transaction on the primary: everything `f` does commits
    /// together or not at all (an `Err` rolls back).
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.primary.run(move |c| transaction(c, f), None).await
    }

    /// Work on the primary outside a transaction: reads that must see the
    /// caller's own writes, single statements, and flows that manage their
    /// own transactions.
    pub async fn primary<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.primary.run(f, None).await
    }

    /// The primary pool, for work that runs on its own thread (tests, CLI).
    pub fn pool(&self) -> &Pool {
        &self.primary.pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;

    #[tokio::test]
    async fn a_database_that_is_not_there_answers_service_unavailable() {
        // Nothing listens on the discard port: every connection is refused.
        let manager =
            ConnectionManager::new("postgres://postgres@127.0.0.1:9/none", Statements::Prepared)
                .unwrap();
        let pool = r2d2::Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(30))
            .build_unchecked(manager);
        let answer = Db::new(pool).primary(|_| Ok(())).await;
        let code = answer.err().map(|e| e.code());
        assert_eq!(code, Some(crate::error::ErrorCode::ServiceUnavailable));
        let res = actix_web::ResponseError::error_response(&AppError::Unavailable);
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    }

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
        let pool = pool(
            &format!("sqlite://{}", path.display()),
            1,
            Statements::Prepared,
        )
        .ok();
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
        let pool = pool(&url, 1, Statements::Prepared).ok();
        let mut conn = pool.as_ref().and_then(|p| p.get().ok());
        let conn = conn.as_deref_mut();
        let first = conn.map(|c| (migrate(c).ok(), migrate(c).ok()));
        assert!(matches!(first, Some((Some(n), Some(0))) if n > 0));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_lateral_list_needs_rows_of_one_length_and_binds_integers_and_plain_words() {
        use Values::{Ints, Words};
        let arrays = |columns: Vec<(&'static str, Values)>| {
            Lateral::over(columns, ()).map(|l| l.arrays().join(" "))
        };
        assert_eq!(arrays(vec![]), None);
        assert_eq!(arrays(vec![("lat", Ints(vec![]))]), None);
        assert_eq!(
            arrays(vec![("lat", Ints(vec![51, 52])), ("lng", Ints(vec![-1]))]),
            None
        );
        assert_eq!(
            arrays(vec![
                ("lat", Ints(vec![51, 52])),
                ("lng", Ints(vec![-1, 0]))
            ])
            .as_deref(),
            Some("{51,52} {-1,0}")
        );
        assert_eq!(
            arrays(vec![("sex", Words(vec!["female", "male"]))]).as_deref(),
            Some("{female,male}")
        );
        // Only plain lower-case words: nothing array syntax would read otherwise.
        assert_eq!(arrays(vec![("sex", Words(vec!["a,b"]))]), None);
        assert_eq!(arrays(vec![("sex", Words(vec![""]))]), None);
    }
}
