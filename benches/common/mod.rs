//! What the database benchmarks share: one connection to the seeded
//! database named by `BENCH_DATABASE_URL`.

use swiper::db;

/// A connection to `BENCH_DATABASE_URL` (else `default`), and its URL; `None`
/// (said on stderr) when the database cannot be reached.
pub fn connect(default: &str) -> Option<(db::PooledConn, String)> {
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| default.to_string());
    let Ok(pool) = db::pool(&url, 1, db::Statements::Prepared) else {
        eprintln!("cannot connect to {url}");
        return None;
    };
    let Ok(conn) = pool.get() else {
        eprintln!("no connection to {url}");
        return None;
    };
    Some((conn, url))
}
