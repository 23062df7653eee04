//! Principals by session, kept in process for about a second, so a warm
//! page (a `GET` or `HEAD`) or a swipe learns who is asking without a
//! database round trip or a thread hand-off. Any other request that changes
//! state reads its principal from the database, and drops the member's
//! entries when it ends (`middleware::uses_cache`).
//!
//! What keeps an entry honest:
//! - **Events.** A ban, a sign-out elsewhere, a password or role change
//!   announce "sessions ended" through the chat hub (in process, and on
//!   every instance through Redis); each instance drops that member's
//!   entries ([`PrincipalCache::forget_user`]), the one that made the change
//!   at once, before it answers.
//! - **A short, jittered lifetime** (0.5–1 s, so entries filled together do
//!   not expire together): a lost event, or a change no event announces (a
//!   nickname changed on another instance, a message that raises the unread
//!   count), shows within a second.
//! - **No stale fill.** A fill that began before the member was forgotten is
//!   not kept: every forget advances an epoch, and a fill carries the epoch
//!   it began at.
//! - **The session's own clock.** An entry is not used once the session has
//!   reached its expiry or idle time-out by the application clock; the
//!   database read then ends the session as before.
//! - **A bound**: at most [`MAX_ENTRIES`] sessions; when full, expired
//!   entries go, then all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::principal::Principal;
use super::users::UserId;
use crate::clock::delta;
use crate::db::types::SessionId;
use crate::security::random::jittered;

/// Longest an entry is used (each gets between half of it and all of it).
pub const LIFETIME: Duration = Duration::from_secs(1);
/// Sessions kept at most.
pub const MAX_ENTRIES: usize = 100_000;
/// Members whose last forget is remembered; beyond it, every fill then
/// running is dropped.
const MAX_FORGOTTEN: usize = 100_000;

struct Entry {
    principal: Principal,
    until: Instant,
}

#[derive(Default)]
struct State {
    by_session: HashMap<SessionId, Entry>,
    by_user: HashMap<UserId, Vec<SessionId>>,
    /// Advanced by every forget.
    epoch: u64,
    /// The epoch of each member's last forget.
    forgotten: HashMap<UserId, u64>,
    /// Fills begun before this epoch are dropped (`forgotten` was cleared).
    floor: u64,
}

/// Cheap to clone; one per process.
#[derive(Clone, Default)]
pub struct PrincipalCache {
    state: Arc<Mutex<State>>,
}

/// Taken before the database read a fill comes from.
#[derive(Debug, Clone, Copy)]
pub struct Fill {
    epoch: u64,
}

impl PrincipalCache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The principal of `session` if an entry is fresh and the session, by
    /// `now` (the application clock), has neither expired nor idled out.
    pub fn get(
        &self,
        session: &SessionId,
        now: NaiveDateTime,
        idle: Duration,
    ) -> Option<Principal> {
        let state = self.state();
        let entry = state.by_session.get(session)?;
        let p = &entry.principal;
        let idle_expired = !p.remember && p.last_seen_at + delta(idle) < now;
        (entry.until > Instant::now() && p.session_expires_at > now && !idle_expired)
            .then(|| p.clone())
    }

    /// Marks the start of a database read whose principal may be kept.
    pub fn begin(&self) -> Fill {
        Fill {
            epoch: self.state().epoch,
        }
    }

    /// Keeps `principal`, unless its member was forgotten since `fill` began.
    pub fn put(&self, fill: Fill, principal: Principal) {
        let mut state = self.state();
        let forgotten_since = state
            .forgotten
            .get(&principal.id)
            .is_some_and(|at| *at > fill.epoch);
        if forgotten_since || fill.epoch < state.floor {
            return;
        }
        let now = Instant::now();
        if crate::bounded::make_room(&mut state.by_session, MAX_ENTRIES, |e| e.until > now) {
            let State {
                by_session,
                by_user,
                ..
            } = &mut *state;
            by_user.retain(|_, sessions| {
                sessions.retain(|s| by_session.contains_key(s));
                !sessions.is_empty()
            });
        }
        let until = Instant::now() + jittered(LIFETIME);
        let (user, session) = (principal.id, principal.session_id.clone());
        let sessions = state.by_user.entry(user).or_default();
        if !sessions.contains(&session) {
            sessions.push(session.clone());
        }
        state.by_session.insert(session, Entry { principal, until });
    }

    /// Drops every entry of `user`, and any fill of theirs already running.
    pub fn forget_user(&self, user: UserId) {
        let mut state = self.state();
        state.epoch += 1;
        let epoch = state.epoch;
        if state.forgotten.len() >= MAX_FORGOTTEN {
            state.forgotten.clear();
            state.floor = epoch;
        }
        state.forgotten.insert(user, epoch);
        if let Some(sessions) = state.by_user.remove(&user) {
            for s in sessions {
                state.by_session.remove(&s);
            }
        }
    }

    /// Drops everything (tests that edit session rows behind the app's back).
    pub fn clear(&self) {
        let mut state = self.state();
        state.epoch += 1;
        state.floor = state.epoch;
        state.forgotten.clear();
        state.by_session.clear();
        state.by_user.clear();
    }

    /// Sessions kept now (for the tests and the bound).
    pub fn len(&self) -> usize {
        self.state().by_session.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(user: i64, session: &str) -> Principal {
        let at = NaiveDateTime::default();
        Principal {
            id: UserId(user),
            email: format!("{user}@example.com"),
            nickname: "N".into(),
            verified: true,
            is_superadmin: false,
            staff: false,
            second_factor: false,
            password_changed_at: at,
            language: None,
            time_zone: None,
            avatar_key: None,
            unread_messages: 0,
            profile_pending: false,
            session_id: SessionId::from_secret(session.into()),
            last_seen_at: at,
            remember: true,
            session_expires_at: at + chrono::TimeDelta::days(1),
        }
    }

    fn now() -> NaiveDateTime {
        NaiveDateTime::default() + chrono::TimeDelta::minutes(1)
    }

    const IDLE: Duration = Duration::from_secs(3600);

    #[test]
    fn a_fresh_entry_is_used_and_a_forgotten_member_is_not() {
        let cache = PrincipalCache::default();
        let s = SessionId::from_secret("s1".into());
        assert!(cache.get(&s, now(), IDLE).is_none());
        cache.put(cache.begin(), principal(1, "s1"));
        cache.put(cache.begin(), principal(2, "s2"));
        assert_eq!(cache.get(&s, now(), IDLE).map(|p| p.id), Some(UserId(1)));
        cache.forget_user(UserId(1));
        assert!(cache.get(&s, now(), IDLE).is_none());
        let other = SessionId::from_secret("s2".into());
        assert!(cache.get(&other, now(), IDLE).is_some(), "others stay");
    }

    #[test]
    fn a_fill_that_began_before_a_forget_is_not_kept() {
        let cache = PrincipalCache::default();
        let fill = cache.begin();
        cache.forget_user(UserId(1));
        cache.put(fill, principal(1, "s1"));
        assert!(cache.is_empty(), "the read may predate the change");
        cache.put(cache.begin(), principal(1, "s1"));
        assert_eq!(cache.len(), 1, "a fill begun after it is kept");
        let other = cache.begin();
        cache.forget_user(UserId(9));
        cache.put(other, principal(2, "s2"));
        assert_eq!(cache.len(), 2, "another member's forget does not matter");
    }

    #[test]
    fn an_expired_or_idle_session_is_not_served_from_the_cache() {
        let cache = PrincipalCache::default();
        let s = SessionId::from_secret("s1".into());
        cache.put(cache.begin(), principal(1, "s1"));
        let later = NaiveDateTime::default() + chrono::TimeDelta::days(2);
        assert!(cache.get(&s, later, IDLE).is_none(), "past its expiry");
        let mut forgetful = principal(2, "s2");
        forgetful.remember = false;
        cache.put(cache.begin(), forgetful);
        let s2 = SessionId::from_secret("s2".into());
        let two_hours = NaiveDateTime::default() + chrono::TimeDelta::hours(2);
        assert!(cache.get(&s2, two_hours, IDLE).is_none(), "idle too long");
        assert!(cache.get(&s2, now(), IDLE).is_some());
    }

    #[test]
    fn lifetimes_are_spread_between_half_and_all() {
        let spread: Vec<Duration> = (0..200).map(|_| jittered(LIFETIME)).collect();
        assert!(spread.iter().all(|d| *d >= LIFETIME / 2 && *d <= LIFETIME));
        let distinct: std::collections::HashSet<_> = spread.iter().collect();
        assert!(
            distinct.len() > 20,
            "jittered, not one value: {}",
            distinct.len()
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = PrincipalCache::default();
        for i in 0..(MAX_ENTRIES + 10) {
            cache.put(cache.begin(), principal(i as i64, &format!("s{i}")));
        }
        assert!(cache.len() <= MAX_ENTRIES, "{}", cache.len());
        assert!(!cache.is_empty());
    }
}
