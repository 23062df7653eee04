//! The one place that knows SQLite from PostgreSQL: connecting, migrating,
//! write transactions and row locking. Everything else is written once with
//! Diesel's query builder and runs on both.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;
use crate::error::AppError;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

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

    /// Whether reads can go to a streaming replica (PostgreSQL's).
    pub fn has_replicas(self) -> bool {
        self == Self::Postgres
    }

    /// Group-writing transactions worth running at once (the swipe writer):
    /// on PostgreSQL one decides while another commits; SQLite's writers
    /// take turns anyway.
    pub fn group_writers(self) -> usize {
        match self {
            Self::Postgres => 2,
            Self::Sqlite => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        }
    }
}

/// The file path of a `sqlite://PATH` URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens a connection to `url` on `backend`. SQLite gets WAL, foreign keys
/// and a busy timeout; the busy timeout is set first, so a second process
/// opening the same new file waits instead of failing with "database is locked".
pub fn connect(
    backend: Backend,
    url: &str,
    statements: super::connection::Statements,
) -> Result<DbConnection, r2d2::Error> {
    match backend {
        Backend::Postgres => {
            let mut conn =
                diesel::PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
            if statements == super::connection::Statements::Unnamed {
                conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
            }
            Ok(DbConnection::Postgresql(conn))
        }
        Backend::Sqlite => {
            let path = sqlite_path(url);
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    let _ = std::fs::create_dir_all(parent);
                }
            }
            let mut conn =
                diesel::SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
            conn.batch_execute("PRAGMA busy_timeout = 10000;")
                .map_err(r2d2::Error::QueryError)?;
            conn.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(r2d2::Error::QueryError)?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Refreshes the planner's statistics, and on PostgreSQL the visibility
/// map too (`VACUUM ANALYZE`). Run after a bulk load: right after `swiper
/// seed` the feed's re-check otherwise plans from an empty table's
/// estimates, and the feed's index-only scans visit every table page,
/// until autovacuum gets there.
pub fn analyze(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => c.batch_execute("VACUUM ANALYZE"),
        DbConnection::Sqlite(c) => c.batch_execute("ANALYZE"),
    }
}

/// Whether the connection runs `CROSS JOIN LATERAL` (PostgreSQL does;
/// SQLite does not): one statement for many index ranges, planned once.
pub fn has_lateral(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Postgresql(_))
}

/// One value of a [`Lateral`] row, written into the SQL text: an integer
/// the caller computed, or a word from a fixed list of the program's own
/// (`Sex::as_str`); nothing a member sends goes there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Int(i32),
    Word(&'static str),
}

impl Cell {
    /// The value as SQL, or `None` for a word that is not plain lower-case
    /// letters (nothing that could close its quote).
    fn sql(self) -> Option<String> {
        match self {
            Cell::Int(n) => Some(n.to_string()),
            Cell::Word(w) if !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()) => {
                Some(format!("'{w}'"))
            }
            Cell::Word(_) => None,
        }
    }
}

/// `SELECT found.* FROM (VALUES (…), …) AS cell(<columns>) CROSS JOIN
/// LATERAL (<inner>) AS found`: `inner` runs once per row of values, reading
/// them as `cell.<column>` (a `diesel::dsl::sql` literal), with its own
/// `ORDER BY` and `LIMIT`, in one statement planned once. PostgreSQL only
/// (ask [`has_lateral`] first).
pub struct Lateral<Q> {
    columns: &'static str,
    rows: String,
    inner: Q,
}

impl<Q> Lateral<Q> {
    /// `None` without rows (an empty `VALUES` is not SQL), with an empty
    /// row, or with a word [`Cell::sql`] refuses.
    pub fn over(columns: &'static str, rows: &[Vec<Cell>], inner: Q) -> Option<Self> {
        let rows: Option<Vec<String>> = rows
            .iter()
            .map(|r| {
                let values: Option<Vec<String>> = r.iter().map(|c| c.sql()).collect();
                values
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("({})", v.join(", ")))
            })
            .collect();
        let rows = rows.filter(|r| !r.is_empty())?.join(", ");
        Some(Self {
            columns,
            rows,
            inner,
        })
    }

    /// The `VALUES` rows as written into the SQL.
    pub fn rows(&self) -> &str {
        &self.rows
    }
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Lateral<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("SELECT found.* FROM (VALUES ");
        out.push_sql(&self.rows);
        out.push_sql(") AS cell(");
        out.push_sql(self.columns);
        out.push_sql(") CROSS JOIN LATERAL (");
        self.inner.walk_ast(out.reborrow())?;
        out.push_sql(") AS found");
        Ok(())
    }
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Lateral<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for Lateral<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, C> RunQueryDsl<C> for Lateral<Q> {}

/// Runs the embedded migrations of the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, AppError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| AppError::internal("migrations", std::io::Error::other(e.to_string())))
}

/// The backend of an open connection.
pub fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Postgresql(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    }
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock up front so two writers wait for each other (busy timeout)
/// instead of failing when a read turns into a write. Nested calls use a
/// savepoint on both backends.
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

/// A query with row locks where the backend has them (`FOR UPDATE`, or
/// `FOR UPDATE SKIP LOCKED` so concurrent workers skip rows another one
/// holds): on PostgreSQL `locking` runs; on SQLite `plain` runs inside the
/// immediate transaction that already holds the database's write lock. Call
/// it inside [`transaction`].
pub fn with_row_locks<T>(
    conn: &mut DbConnection,
    locking: impl FnOnce(&mut diesel::PgConnection) -> QueryResult<T>,
    plain: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConnection::Postgresql(pg) => locking(pg),
        DbConnection::Sqlite(_) => plain(conn),
    }
}

/// Runs a statement that only compiles on the concrete connections (a
/// multi-row `INSERT`): the same statement is given for each backend.
pub fn per_backend<T>(
    conn: &mut DbConnection,
    postgres: impl FnOnce(&mut diesel::PgConnection) -> QueryResult<T>,
    sqlite: impl FnOnce(&mut diesel::SqliteConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConnection::Postgresql(pg) => postgres(pg),
        DbConnection::Sqlite(sq) => sqlite(sq),
    }
}

/// Runs an insert in a savepoint and turns a unique-constraint violation
/// into `None`: the row was already there (a repeat, or a concurrent request
/// that won the race). The caller's transaction stays usable on PostgreSQL.
pub fn insert_unique<T>(
    conn: &mut DbConnection,
    insert: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<Option<T>> {
    match transaction(conn, insert) {
        Ok(value) => Ok(Some(value)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a Diesel error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
