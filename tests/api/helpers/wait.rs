//! Waiting for something another thread or process does: bounded by time,
//! never by a number of iterations, and never a fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long any wait in the tests may take before it fails.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Polls `check` until it answers true; fails the test with `what` once
/// [`WAIT_LIMIT`] has passed.
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT_LIMIT;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// [`wait_until`] for code that cannot await (a database closure, a thread).
pub fn wait_until_blocking(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `browser` is no longer logged in, and asserts it took less
/// than 1.5 s from `since` (taken just before the change that ends the
/// session). On another instance the change is heard through Redis
/// pub/sub, at once normally but not before the next request for sure;
/// the member's cached principal ends at the latest 1 s after that
/// instance read it, so an event that is late or lost still leaves the
/// session refused within a second (the rest is the test's own requests).
pub async fn logged_out_within_a_second(browser: &super::Browser, since: Instant, what: &str) {
    wait_until(what, || async { !browser.is_logged_in().await }).await;
    assert!(
        since.elapsed() < Duration::from_millis(1500),
        "{what}: after {:?}",
        since.elapsed()
    );
}
