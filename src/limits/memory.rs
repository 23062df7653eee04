//! The in-process twin of the Redis windows and values: the store without
//! Redis, and the fallback while Redis is unreachable. Bounded, so a flood
//! of distinct keys cannot grow it without end.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most keys kept; past that, expired ones go first, then the oldest half.
const MAX_KEYS: usize = 200_000;

#[derive(Default)]
struct Inner {
    windows: HashMap<String, (VecDeque<i64>, i64)>,
    values: HashMap<String, (String, i64)>,
}

#[derive(Clone, Default)]
pub struct Memory {
    inner: Arc<Mutex<Inner>>,
}

fn trim(hits: &mut VecDeque<i64>, now: i64, window: i64) {
    while hits.front().is_some_and(|t| *t <= now - window) {
        hits.pop_front();
    }
}

impl Memory {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere; the maps are intact.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn make_room(inner: &mut Inner, now: i64) {
        if inner.windows.len() >= MAX_KEYS {
            inner.windows.retain(|_, (_, until)| *until > now);
            if inner.windows.len() >= MAX_KEYS {
                let mut untils: Vec<i64> = inner.windows.values().map(|(_, u)| *u).collect();
                let middle = untils.len() / 2;
                let cut = *untils.select_nth_unstable(middle).1;
                inner.windows.retain(|_, (_, until)| *until > cut);
            }
        }
        if inner.values.len() >= MAX_KEYS {
            inner.values.retain(|_, (_, until)| *until > now);
        }
    }

    pub fn hit(&self, key: &str, now: i64, window: i64, cap: u64) -> (u64, i64) {
        let mut inner = self.lock();
        Self::make_room(&mut inner, now);
        let entry = inner
            .windows
            .entry(key.to_string())
            .or_insert_with(|| (VecDeque::new(), now));
        trim(&mut entry.0, now, window);
        if (entry.0.len() as u64) < cap {
            entry.0.push_back(now);
        }
        entry.1 = now + window;
        (
            entry.0.len() as u64,
            entry.0.front().copied().unwrap_or(now),
        )
    }

    pub fn count(&self, key: &str, now: i64, window: i64) -> (u64, i64) {
        let mut inner = self.lock();
        match inner.windows.get_mut(key) {
            Some((hits, _)) => {
                trim(hits, now, window);
                (hits.len() as u64, hits.front().copied().unwrap_or(now))
            }
            None => (0, now),
        }
    }

    pub fn remove(&self, key: &str) {
        let mut inner = self.lock();
        inner.windows.remove(key);
        inner.values.remove(key);
    }

    pub fn put(&self, key: &str, value: &str, until: i64) {
        let mut inner = self.lock();
        Self::make_room(&mut inner, until);
        inner
            .values
            .insert(key.to_string(), (value.to_string(), until));
    }

    pub fn get(&self, key: &str, now: i64) -> Option<String> {
        let inner = self.lock();
        inner
            .values
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(v, _)| v.clone())
    }

    pub fn take(&self, key: &str, now: i64) -> Option<String> {
        let mut inner = self.lock();
        inner
            .values
            .remove(key)
            .filter(|(_, until)| *until > now)
            .map(|(v, _)| v)
    }
}
