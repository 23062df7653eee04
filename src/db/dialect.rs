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

#[derive(diesel::QueryableByName)]
struct IndexDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// Drops `table`'s indexes whose names are `LIKE` `pattern` and returns
/// their definitions, for [`restore_indexes`] after a bulk load in the same
/// transaction (PostgreSQL, whose DDL is transactional: a load that fails
/// or is killed brings them back with its rollback). SQLite: nothing.
pub fn set_aside_indexes(
    conn: &mut DbConnection,
    table: &str,
    pattern: &str,
) -> QueryResult<Vec<String>> {
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return Ok(Vec::new());
    }
    let found: Vec<IndexDefinition> = diesel::sql_query(
        "SELECT indexname::text AS name, indexdef AS definition FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename = $1 AND indexname LIKE $2",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .bind::<diesel::sql_types::Text, _>(pattern)
    .load(conn)?;
    for index in &found {
        conn.batch_execute(&format!(
            "DROP INDEX \"{}\"",
            index.name.replace('"', "\"\"")
        ))?;
    }
    Ok(found.into_iter().map(|i| i.definition).collect())
}

/// Builds again the indexes [`set_aside_indexes`] dropped, from the
/// definitions it returned (the catalog's own text), with room to sort.
pub fn restore_indexes(conn: &mut DbConnection, definitions: &[String]) -> QueryResult<()> {
    if definitions.is_empty() {
        return Ok(());
    }
    conn.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")?;
    for definition in definitions {
        conn.batch_execute(definition)?;
    }
    Ok(())
}

/// Whether the connection runs `CROSS JOIN LATERAL` (PostgreSQL does;
/// SQLite does not): one statement for many index ranges, planned once.
pub fn has_lateral(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Postgresql(_))
}

/// Runs `f` with PostgreSQL keeping one generic plan for its prepared
/// statements (`SET LOCAL plan_cache_mode = force_generic_plan`, in a
/// transaction of its own, so the setting ends with it even on an error
/// and a pooler in transaction mode keeps it on one server connection).
/// For a statement whose cost the planner cannot tell apart by its
/// parameters (a [`Lateral`] list) but whose custom plans it keeps
/// choosing: planning it again costs more than running it. JIT is off in
/// the same transaction (`SET LOCAL jit = off`): a generic plan's
/// estimate can pass `jit_above_cost` (the feed's per-row probes,
/// [`crate::discovery::feed`]), and PostgreSQL compiles the plan again at
/// every execution, ~30 ms for a statement that runs in 2. SQLite: `f`.
pub fn with_generic_plan<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConnection::Postgresql(_) => conn.transaction(|c| {
            c.batch_execute("SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL jit = off")?;
            f(c)
        }),
        DbConnection::Sqlite(_) => f(conn),
    }
}

/// Whether `w` is plain lower-case ASCII letters: the only words written
/// into SQL or array syntax ([`Values::Words`], [`Word`]), so none can
/// close a quote or split a list.
fn plain_word(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())
}

/// One column of a [`Lateral`] list: integers the caller computed, or
/// words from a fixed list of the program's own (`Sex::as_str`).
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Ints(Vec<i32>),
    Words(Vec<&'static str>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Ints(v) => v.len(),
            Values::Words(v) => v.len(),
        }
    }

    /// The column as a PostgreSQL array literal (`{51,-1}`, `{female,male}`)
    /// and the array type it is cast to, or `None` for a word that is not
    /// plain lower-case letters (nothing that array syntax would read
    /// otherwise).
    fn array(&self) -> Option<(String, &'static str)> {
        let list = |items: Vec<String>| format!("{{{}}}", items.join(","));
        match self {
            Values::Ints(v) => Some((list(v.iter().map(i32::to_string).collect()), "integer[]")),
            Values::Words(v) => v
                .iter()
                .all(|w| plain_word(w))
                .then(|| (list(v.iter().map(|w| w.to_string()).collect()), "text[]")),
        }
    }
}

/// `SELECT found.* FROM unnest(CAST($1 AS text[]), CAST($2 AS integer[]), …)
/// AS cell(<names>) CROSS JOIN LATERAL (<inner>) AS found`: `inner` runs once
/// per row of the list, reading it as `cell.<name>` ([`Listed`]), with its
/// own `ORDER BY` and `LIMIT`. The list travels as bound arrays, so the
/// statement's text depends only on its shape and it is prepared once per
/// connection (run it under [`with_generic_plan`] to plan it once too).
/// PostgreSQL only (ask [`has_lateral`] first).
pub struct Lateral<Q> {
    names: String,
    arrays: Vec<(String, &'static str)>,
    inner: Q,
}

impl<Q> Lateral<Q> {
    /// `None` without columns, with an empty list or columns of different
    /// lengths, or with a word [`Values`] refuses.
    pub fn over(columns: Vec<(&'static str, Values)>, inner: Q) -> Option<Self> {
        let rows = columns.first()?.1.len();
        if rows == 0 || columns.iter().any(|(_, c)| c.len() != rows) {
            return None;
        }
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let arrays: Option<Vec<_>> = columns.iter().map(|(_, c)| c.array()).collect();
        Some(Self {
            names: names.join(", "),
            arrays: arrays?,
            inner,
        })
    }

    /// The bound arrays, as sent.
    pub fn arrays(&self) -> Vec<&str> {
        self.arrays.iter().map(|(a, _)| a.as_str()).collect()
    }
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Lateral<Q>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT found.* FROM unnest(");
        for (i, (array, ty)) in self.arrays.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_sql("CAST(");
            out.push_bind_param::<diesel::sql_types::Text, String>(array)?;
            out.push_sql(" AS ");
            out.push_sql(ty);
            out.push_sql(")");
        }
        out.push_sql(") AS cell(");
        out.push_sql(&self.names);
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

/// `cell.<name>`: a column of the [`Lateral`] list, as the inner query
/// reads it. Unlike a `diesel::dsl::sql` literal, it leaves the statement
/// cacheable (its text is one of the program's own names).
#[derive(Debug, Clone, Copy)]
pub struct Listed<ST> {
    name: &'static str,
    ty: std::marker::PhantomData<ST>,
}

impl<ST> Listed<ST> {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            ty: std::marker::PhantomData,
        }
    }
}

impl<ST: diesel::expression::TypedExpressionType> diesel::expression::Expression for Listed<ST> {
    type SqlType = ST;
}

impl<ST, DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for Listed<ST> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("cell.");
        out.push_sql(self.name);
        Ok(())
    }
}

impl<ST> diesel::query_builder::QueryId for Listed<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> diesel::expression::AppearsOnTable<QS> for Listed<ST> where
    Self: diesel::expression::Expression
{
}

impl<ST, QS> diesel::expression::SelectableExpression<QS> for Listed<ST> where
    Self: diesel::expression::Expression
{
}

impl<ST, GB> diesel::expression::ValidGrouping<GB> for Listed<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// A word of the program's own (`Sex::as_str`) written into the SQL text,
/// not bound: a partial index on it (`WHERE sex = 'female'`) then serves
/// every plan of the statement, the generic one included. Only plain
/// lower-case words are written; any other is an error, never SQL.
#[derive(Debug, Clone, Copy)]
pub struct Word(pub &'static str);

impl diesel::expression::Expression for Word {
    type SqlType = diesel::sql_types::Text;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for Word {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        if !plain_word(self.0) {
            return Err(diesel::result::Error::QueryBuilderError(
                "only plain lower-case words are written into SQL".into(),
            ));
        }
        out.push_sql("'");
        out.push_sql(self.0);
        out.push_sql("'");
        Ok(())
    }
}

impl diesel::query_builder::QueryId for Word {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for Word {}

impl<QS> diesel::expression::SelectableExpression<QS> for Word {}

impl<GB> diesel::expression::ValidGrouping<GB> for Word {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Several [`Lateral`] lists of the same inner query, `UNION ALL`: one
/// statement, one round trip.
pub struct AllOf<Q>(Vec<Lateral<Q>>);

impl<Q> AllOf<Q> {
    /// `None` without any list.
    pub fn of(parts: Vec<Lateral<Q>>) -> Option<Self> {
        (!parts.is_empty()).then_some(Self(parts))
    }
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for AllOf<Q>
where
    DB: diesel::backend::Backend,
    Lateral<Q>: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        for (i, part) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { " UNION ALL (" });
            part.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        Ok(())
    }
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for AllOf<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for AllOf<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, C> RunQueryDsl<C> for AllOf<Q> {}

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
