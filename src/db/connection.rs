//! The connection type: one enum over both backends, so a pool, a
//! transaction and every query take one type.

/// A connection to either backend. Queries written with Diesel's query builder
/// run on both; backend-specific statements live in [`dialect`].
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}
