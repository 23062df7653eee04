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
use crate::security::random::jittered;

/// Members whose feed is kept at most; when full, expired entries go, then all.
pub const MAX_ENTRIES: usize = 50_000;

/// Until when it is used (its TTL, jittered), the `updated_at` of the
/// profile it was built from, and the feed.
type Entries = HashMap<UserId, (Instant, NaiveDateTime, Arc<Vec<Candidate>>)>;

/// `FEED_CACHE_SECONDS`: how long a built feed is reused (zero: never);
/// each entry lives between half of it and all of it, so feeds built
/// together (a deploy, a busy evening) are not rebuilt together.
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
            .filter(|(until, _, _)| *until > Instant::now())
            .map(|(_, built_from, feed)| (*built_from, feed.clone()))
    }

    /// Keeps `user`'s freshly built feed, built from their profile as of
    /// `built_from` (its `updated_at`).
    pub fn put(&self, user: UserId, built_from: NaiveDateTime, feed: Arc<Vec<Candidate>>) {
        if self.ttl.is_zero() {
            return;
        }
        self.puts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Instant::now();
        let mut map = self.map();
        crate::bounded::make_room(&mut map, MAX_ENTRIES, |(until, _, _)| *until > now);
        map.insert(user, (now + jittered(self.ttl), built_from, feed));
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

    /// Feeds kept now.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long `user`'s entry has left (the jitter test reads it).
    #[cfg(test)]
    fn left(&self, user: UserId) -> Option<Duration> {
        self.map()
            .get(&user)
            .map(|(until, _, _)| until.saturating_duration_since(Instant::now()))
    }
}

/// How long an id nobody has is remembered (each between half and all).
pub const ABSENT_LIFETIME: Duration = Duration::from_secs(10);
/// Unknown ids remembered at most; when full, expired ones go, then all.
pub const MAX_ABSENT: usize = 100_000;

/// Member ids that belong to nobody, remembered for a few seconds (negative
/// entries): asking `/users/{id}` for ids that do not exist, one after
/// another, costs one database read per id, not one per request. Only
/// "no such member" is kept, never "not for you" (which depends on the
/// viewer); ids are never reused, and a new member's id is known to no one
/// before their profile is complete and in a feed, which takes longer than
/// an entry lives.
#[derive(Clone, Default)]
pub struct Absent {
    inner: Arc<Mutex<HashMap<UserId, Instant>>>,
    /// Ids remembered since start (the tests count database reads with it).
    remembered: Arc<std::sync::atomic::AtomicU64>,
}

impl Absent {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Instant>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `id` was found to belong to nobody a moment ago.
    pub fn contains(&self, id: UserId) -> bool {
        self.map()
            .get(&id)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Remembers that `id` belongs to nobody.
    pub fn remember(&self, id: UserId) {
        self.remembered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Instant::now();
        let mut map = self.map();
        crate::bounded::make_room(&mut map, MAX_ABSENT, |until| *until > now);
        map.insert(id, now + jittered(ABSENT_LIFETIME));
    }

    /// How many ids were remembered since start.
    pub fn remembered(&self) -> u64 {
        self.remembered.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[test]
    fn feeds_built_together_expire_apart() {
        let ttl = Duration::from_secs(300);
        let cache = FeedCache::new(ttl);
        for i in 0..100 {
            cache.put(UserId(i), NaiveDateTime::default(), Arc::new(Vec::new()));
        }
        let left: Vec<Duration> = (0..100).filter_map(|i| cache.left(UserId(i))).collect();
        assert_eq!(left.len(), 100);
        assert!(left
            .iter()
            .all(|d| *d <= ttl && *d >= ttl / 2 - Duration::from_secs(1)));
        let seconds: std::collections::HashSet<u64> = left.iter().map(Duration::as_secs).collect();
        assert!(seconds.len() > 20, "spread, not one deadline: {seconds:?}");
    }

    #[test]
    fn an_unknown_id_is_remembered_and_the_set_is_bounded() {
        let absent = Absent::default();
        assert!(!absent.contains(UserId(7)));
        absent.remember(UserId(7));
        assert!(absent.contains(UserId(7)));
        assert!(!absent.contains(UserId(8)), "only the id found absent");
        for i in 0..(MAX_ABSENT as i64 + 10) {
            absent.remember(UserId(1_000_000 + i));
        }
        assert!(absent.len() <= MAX_ABSENT, "{}", absent.len());
        assert!(!absent.is_empty());
    }

    #[test]
    fn the_feed_cache_is_bounded() {
        let cache = FeedCache::new(Duration::from_secs(300));
        for i in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(UserId(i), NaiveDateTime::default(), Arc::new(Vec::new()));
        }
        assert!(cache.len() <= MAX_ENTRIES, "{}", cache.len());
        assert!(!cache.is_empty());
    }
}
