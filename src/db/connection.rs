//! The connection type: one enum over both backends, so a pool, a
//! transaction and every query take one type.

/// A connection to either backend. Queries written with Diesel's query builder
/// run on both; backend-specific statements live in [`dialect`].
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// How PostgreSQL statements are sent (`DATABASE_PREPARED_STATEMENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statements {
    /// Each statement is prepared once per connection under a name and
    /// reused: the default, and the fastest on a direct connection.
    Prepared,
    /// Each statement travels with its parameters in one message and is
    /// never named, so a pooler in transaction mode (PgBouncer
    /// `pool_mode = transaction`), which may hand every transaction another
    /// server connection, never meets a name that server does not know.
    Unnamed,
}
