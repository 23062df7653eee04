//! Each member's feed pages as last shown, kept a second or two in this
//! process, so a warm `/discover` (and `GET /api/v1/feed`) costs no
//! database work at all.
//!
//! Correctness comes from events, not re-reads. Every hub event (a swipe,
//! rewind or block, a profile, photo or privacy change, a ban, a
//! verification, a role or plan change, ended sessions, a chat message)
//! names members; [`PageCache::changed`] stamps each with the event's
//! number. A kept page remembers the number current when its build began,
//! and is used only while neither its viewer nor anyone on it has a later
//! stamp: one hash look-up per card, nothing to scan. An event published on
//! another instance stamps here when it arrives (milliseconds); when events
//! are lost (Redis pub/sub cut), a page lives at most [`PAGE_LIFETIME`].
//! A build that an event overtakes is kept already stale, so it is rebuilt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::limits::Allowance;
use crate::auth::UserId;
use crate::profiles::public::PublicProfile;
use crate::security::random::jittered;

/// Why my feed has nobody to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyReason {
    /// A phone number's new account that has not given nickname, sex and birthday.
    ProfileIncomplete,
    NotVerified,
    NoPlace,
    NobodyFits,
}

/// A page of my feed as shown (what is kept).
#[derive(Clone)]
pub struct FeedPage {
    pub cards: Arc<Vec<(PublicProfile, bool)>>,
    pub page: usize,
    pub has_next: bool,
    pub empty: Option<EmptyReason>,
    pub allowance: Allowance,
}

/// How long a page is used at most, each entry between half of it and all.
pub const PAGE_LIFETIME: Duration = Duration::from_secs(2);
/// Pages kept at most; when full, expired pages go, then all.
pub const MAX_PAGES: usize = 20_000;
/// Members with an event stamp at most; when full, the stamps are forgotten
/// and every page kept so far is stale.
pub const MAX_STAMPS: usize = 100_000;

struct Kept {
    until: Instant,
    /// The event number when its build began.
    as_of: u64,
    page: FeedPage,
}

#[derive(Default)]
struct Inner {
    pages: HashMap<(UserId, usize), Kept>,
    /// Each member's latest event number.
    stamps: HashMap<UserId, u64>,
    /// Events so far.
    events: u64,
    /// Pages built before this event number are stale (the stamps were
    /// forgotten to bound them).
    floor: u64,
}

impl Inner {
    fn fresh(&self, viewer: UserId, kept: &Kept, now: Instant) -> bool {
        let unchanged = |id: &UserId| self.stamps.get(id).is_none_or(|n| *n <= kept.as_of);
        kept.until > now
            && kept.as_of >= self.floor
            && unchanged(&viewer)
            && kept.page.cards.iter().all(|(card, _)| unchanged(&card.id))
    }
}

/// The pages of this process (off when the feed cache is off). Cheap to clone.
#[derive(Clone)]
pub struct PageCache {
    inner: Arc<Mutex<Inner>>,
    lifetime: Duration,
    /// Pages kept since start (the single-flight test counts builds with it).
    puts: Arc<AtomicU64>,
}

/// A build under way: the event number when it began.
#[derive(Debug, Clone, Copy)]
pub struct Fill(u64);

impl PageCache {
    pub fn new(lifetime: Duration) -> Self {
        Self {
            inner: Arc::default(),
            lifetime,
            puts: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Page `no` of `viewer`'s feed, if one is kept and nothing it shows changed.
    pub fn get(&self, viewer: UserId, no: usize) -> Option<FeedPage> {
        if self.lifetime.is_zero() {
            return None;
        }
        let inner = self.lock();
        let kept = inner.pages.get(&(viewer, no))?;
        inner
            .fresh(viewer, kept, Instant::now())
            .then(|| kept.page.clone())
    }

    /// Called before a build reads anything.
    pub fn begin(&self) -> Fill {
        Fill(self.lock().events)
    }

    /// Keeps page `no` of `viewer`'s feed, built from what was read after `fill`.
    pub fn put(&self, fill: Fill, viewer: UserId, no: usize, page: FeedPage) {
        if self.lifetime.is_zero() {
            return;
        }
        self.puts.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut inner = self.lock();
        crate::bounded::make_room(&mut inner.pages, MAX_PAGES, |kept| kept.until > now);
        let kept = Kept {
            until: now + jittered(self.lifetime),
            as_of: fill.0,
            page,
        };
        inner.pages.insert((viewer, no), kept);
    }

    /// Something about `member` changed (an event named them): pages they
    /// view or appear on are stale from now.
    pub fn changed(&self, member: UserId) {
        let mut inner = self.lock();
        inner.events += 1;
        let n = inner.events;
        if inner.stamps.len() >= MAX_STAMPS {
            inner.stamps.clear();
            inner.floor = n;
        }
        inner.stamps.insert(member, n);
    }

    /// How many pages were kept since start.
    pub fn puts(&self) -> u64 {
        self.puts.load(Ordering::Relaxed)
    }

    /// Pages kept now.
    pub fn len(&self) -> usize {
        self.lock().pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long page `no` of `viewer` has left (the jitter test reads it).
    #[cfg(test)]
    fn left(&self, viewer: UserId, no: usize) -> Option<Duration> {
        self.lock()
            .pages
            .get(&(viewer, no))
            .map(|kept| kept.until.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(cards: &[i64]) -> FeedPage {
        let card = |id: i64| PublicProfile {
            id: UserId(id),
            nickname: format!("m{id}"),
            age: None,
            city: String::new(),
            bio: String::new(),
            distance_km: None,
            photos: Vec::new(),
        };
        FeedPage {
            cards: Arc::new(cards.iter().map(|id| (card(*id), false)).collect()),
            page: 1,
            has_next: false,
            empty: None,
            allowance: Allowance::default(),
        }
    }

    #[test]
    fn a_page_is_kept_until_its_viewer_or_someone_on_it_changes() {
        let cache = PageCache::new(PAGE_LIFETIME);
        let (me, shown, other) = (UserId(1), UserId(2), UserId(3));
        cache.put(cache.begin(), me, 1, page(&[2, 4]));
        assert!(cache.get(me, 1).is_some());
        assert!(cache.get(me, 2).is_none(), "only the page kept");
        cache.changed(other);
        assert!(cache.get(me, 1).is_some(), "someone not on it");
        cache.changed(shown);
        assert!(cache.get(me, 1).is_none(), "someone on it changed");
        cache.put(cache.begin(), me, 1, page(&[4]));
        assert!(cache.get(me, 1).is_some());
        cache.changed(me);
        assert!(cache.get(me, 1).is_none(), "the viewer changed");
    }

    #[test]
    fn a_build_overtaken_by_an_event_is_not_used() {
        let cache = PageCache::new(PAGE_LIFETIME);
        let fill = cache.begin();
        cache.changed(UserId(2));
        cache.put(fill, UserId(1), 1, page(&[2]));
        assert!(cache.get(UserId(1), 1).is_none());
        let fill = cache.begin();
        cache.put(fill, UserId(1), 1, page(&[2]));
        assert!(cache.get(UserId(1), 1).is_some(), "built after the event");
    }

    #[test]
    fn off_keeps_nothing() {
        let cache = PageCache::new(Duration::ZERO);
        cache.put(cache.begin(), UserId(1), 1, page(&[]));
        assert!(cache.get(UserId(1), 1).is_none());
    }

    #[test]
    fn pages_kept_together_expire_apart() {
        let cache = PageCache::new(PAGE_LIFETIME);
        for i in 0..100 {
            cache.put(cache.begin(), UserId(i), 1, page(&[]));
        }
        let left: Vec<Duration> = (0..100).filter_map(|i| cache.left(UserId(i), 1)).collect();
        assert_eq!(left.len(), 100);
        assert!(left
            .iter()
            .all(|d| *d <= PAGE_LIFETIME && *d >= PAGE_LIFETIME / 2 - Duration::from_millis(50)));
        let tenths: std::collections::HashSet<u128> =
            left.iter().map(|d| d.as_millis() / 100).collect();
        assert!(tenths.len() > 5, "spread, not one deadline: {tenths:?}");
    }

    #[test]
    fn pages_and_stamps_are_bounded() {
        let cache = PageCache::new(PAGE_LIFETIME);
        for i in 0..(MAX_PAGES as i64 + 10) {
            cache.put(cache.begin(), UserId(i), 1, page(&[]));
        }
        assert!(cache.len() <= MAX_PAGES, "{}", cache.len());
        assert!(!cache.is_empty());
        cache.put(cache.begin(), UserId(-1), 1, page(&[5]));
        for i in 0..(MAX_STAMPS as i64 + 10) {
            cache.changed(UserId(1_000_000 + i));
        }
        assert!(cache.lock().stamps.len() <= MAX_STAMPS);
        assert!(
            cache.get(UserId(-1), 1).is_none(),
            "forgetting the stamps makes the pages kept before stale"
        );
    }
}
