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
}

impl FeedCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
        }
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
