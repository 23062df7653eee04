//! Each member's feed, kept for a short while so paging and swiping do not
//! rebuild it. A swipe, a rewind or a block drops or edits the member's
//! entry, and an entry is used only while the member's profile is the one it
//! was built from (its `updated_at`, so a change made on any instance, and
//! read from a replica that lags, counts without comparing clocks); the page
//! re-checks the rules for the people it shows, so an entry can be stale in
//! order but never shows someone it must not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::feed::Candidate;
use crate::auth::UserId;

const MAX_ENTRIES: usize = 50_000;

/// When it was built (for the TTL), the `updated_at` of the profile it was
/// built from, and the feed.
type Entries = HashMap<UserId, (Instant, NaiveDateTime, Arc<Vec<Candidate>>)>;

/// `FEED_CACHE_SECONDS`: how long a built feed is reused (zero: never).
#[derive(Clone)]
pub struct FeedCache {
    inner: Arc<Mutex<Entries>>,
    ttl: Duration,
    /// One build at a time per member: the others wait for it (single flight).
    flights: Arc<Mutex<HashMap<UserId, std::sync::Weak<tokio::sync::Mutex<()>>>>>,
    /// Feeds kept so far (the single-flight test counts builds with it).
    puts: Arc<std::sync::atomic::AtomicU64>,
}

/// Held by the one request building a member's feed.
pub type Flight = tokio::sync::OwnedMutexGuard<()>;

impl FeedCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
            flights: Arc::default(),
            puts: Arc::default(),
        }
    }

    /// Waits until no other request is building `user`'s feed, and holds
    /// that turn until the guard drops: on a miss, the first request builds
    /// and keeps the feed, the others then find it (one build, not one per
    /// request: a hot member's pages never stampede the database). `None`
    /// with the cache off.
    pub async fn single_flight(&self, user: UserId) -> Option<Flight> {
        if self.ttl.is_zero() {
            return None;
        }
        let turn = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            if flights.len() > 1024 {
                flights.retain(|_, w| w.strong_count() > 0);
            }
            match flights.get(&user).and_then(std::sync::Weak::upgrade) {
                Some(turn) => turn,
                None => {
                    let turn = Arc::new(tokio::sync::Mutex::new(()));
                    flights.insert(user, Arc::downgrade(&turn));
                    turn
                }
            }
        };
        Some(turn.lock_owned().await)
    }

    /// How many feeds were kept since start.
    pub fn puts(&self) -> u64 {
        self.puts.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `user`'s feed and the profile version it was built from, if it is fresh.
    pub fn get(&self, user: UserId) -> Option<(NaiveDateTime, Arc<Vec<Candidate>>)> {
        let map = self.map();
        map.get(&user)
            .filter(|(at, _, _)| at.elapsed() < self.ttl)
            .map(|(_, built_from, feed)| (*built_from, feed.clone()))
    }

    /// Keeps `user`'s freshly built feed, built from their profile as of
    /// `built_from` (its `updated_at`).
    pub fn put(&self, user: UserId, built_from: NaiveDateTime, feed: Arc<Vec<Candidate>>) {
        if self.ttl.is_zero() {
            return;
        }
        self.puts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ttl = self.ttl;
        let mut map = self.map();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (at, _, _)| at.elapsed() < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(user, (Instant::now(), built_from, feed));
    }

    /// Drops `target` from `user`'s feed (after a swipe or a block).
    pub fn remove(&self, user: UserId, target: UserId) {
        if let Some((_, _, feed)) = self.map().get_mut(&user) {
            if feed.iter().any(|c| c.id == target) {
                *feed = Arc::new(feed.iter().filter(|c| c.id != target).cloned().collect());
            }
        }
    }

    /// Forgets `user`'s feed (their profile or a rewind changed it).
    pub fn forget(&self, user: UserId) {
        self.map().remove(&user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_lifetime_keeps_nothing_and_another_keeps_the_feed() {
        let built_from = NaiveDateTime::default();
        let off = FeedCache::new(Duration::ZERO);
        off.put(UserId(1), built_from, Arc::new(Vec::new()));
        assert!(off.get(UserId(1)).is_none());
        let on = FeedCache::new(Duration::from_secs(300));
        on.put(UserId(1), built_from, Arc::new(Vec::new()));
        assert!(on
            .get(UserId(1))
            .is_some_and(|(from, _)| from == built_from));
    }
}
