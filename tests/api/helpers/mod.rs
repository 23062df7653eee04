#![allow(dead_code)]
//! What the black-box tests share, one file per concern.

mod app;
mod binary;
mod browser;
mod db;
mod mail;
mod provider;
mod redis_proxy;
mod wait;
mod ws;

pub use app::*;
pub use binary::*;
pub use browser::*;
pub use db::*;
pub use mail::*;
pub use provider::*;
pub use redis_proxy::*;
pub use wait::*;
pub use ws::*;

/// Iterations used by tests, so that hashing stays fast on two cores.
/// Production refuses fewer than 600,000 (see config).
pub const TEST_ITERATIONS: &str = "1000";
pub const GOOD_PASSWORD: &str = "violet tram 42 sings";

fn configured(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty())
}

/// For tests marked `#[ignore]` that need PostgreSQL: run without it, they
/// fail loudly instead of passing without having tested anything.
#[track_caller]
pub fn require_postgres() {
    assert!(
        configured("TEST_DATABASE_URL"),
        "this test needs PostgreSQL: set TEST_DATABASE_URL"
    );
}

/// Like [`require_postgres`], for tests that also need Redis.
#[track_caller]
pub fn require_postgres_and_redis() {
    require_postgres();
    assert!(
        configured("TEST_REDIS_URL"),
        "this test needs Redis: set TEST_REDIS_URL"
    );
}
