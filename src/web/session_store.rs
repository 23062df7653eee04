//! Where session state lives: Redis when `REDIS_URL` is set (shared by every
//! instance, so a member logged in on one is logged in on all), otherwise an
//! in-process map for the single-process development site.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_session::storage::{
    LoadError, RedisSessionStore, SaveError, SessionKey, SessionStore, UpdateError,
};
use actix_web::cookie::time::Duration;

use crate::security::random;

type State = HashMap<String, String>;

/// The key actix-identity stores the logged-in identity under.
const IDENTITY_KEY: &str = "actix_identity.user_id";

#[derive(Clone)]
enum Backend {
    Redis(RedisSessionStore),
    Memory(MemoryStore),
}

/// The session store the app uses. Sessions of visitors who are not logged in
/// (they only hold a CSRF token) live `anonymous_ttl` at most, so a stream of
/// cookieless requests cannot fill memory or Redis for a month.
#[derive(Clone)]
pub struct AppSessionStore {
    backend: Backend,
    anonymous_ttl: Duration,
}

impl AppSessionStore {
    pub async fn connect(
        redis_url: Option<&str>,
        prefix: &str,
        anonymous_ttl: std::time::Duration,
    ) -> anyhow::Result<Self> {
        let backend = match redis_url {
            Some(url) => {
                let prefix = format!("{prefix}:session:");
                let store = RedisSessionStore::builder(url)
                    .cache_keygen(move |key| format!("{prefix}{key}"))
                    .build()
                    .await?;
                Backend::Redis(store)
            }
            None => Backend::Memory(MemoryStore::default()),
        };
        let secs = i64::try_from(anonymous_ttl.as_secs()).unwrap_or(i64::MAX);
        Ok(Self {
            backend,
            anonymous_ttl: Duration::seconds(secs),
        })
    }

    fn ttl_for(&self, state: &State, ttl: &Duration) -> Duration {
        if state.contains_key(IDENTITY_KEY) {
            *ttl
        } else {
            (*ttl).min(self.anonymous_ttl)
        }
    }
}

/// How long a request waits for Redis before answering with an error (the
/// client library would otherwise keep reconnecting for minutes).
const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

async fn bounded<T, E>(
    fut: impl std::future::Future<Output = Result<T, E>>,
    on_timeout: impl FnOnce(anyhow::Error) -> E,
) -> Result<T, E> {
    match tokio::time::timeout(REDIS_TIMEOUT, fut).await {
        Ok(result) => result,
        Err(_) => Err(on_timeout(anyhow::anyhow!("session store timed out"))),
    }
}

impl SessionStore for AppSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        match &self.backend {
            Backend::Redis(s) => bounded(s.load(key), LoadError::Other).await,
            Backend::Memory(s) => Ok(s.load(key)),
        }
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let ttl = self.ttl_for(&state, ttl);
        match &self.backend {
            Backend::Redis(s) => bounded(s.save(state, &ttl), SaveError::Other).await,
            Backend::Memory(s) => s.save(state, &ttl).map_err(SaveError::Other),
        }
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let ttl = self.ttl_for(&state, ttl);
        match &self.backend {
            Backend::Redis(s) => bounded(s.update(key, state, &ttl), UpdateError::Other).await,
            Backend::Memory(s) => s.update(key, state, &ttl).map_err(UpdateError::Other),
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Redis(s) => bounded(s.update_ttl(key, ttl), |e| e).await,
            Backend::Memory(s) => {
                s.update_ttl(key, ttl);
                Ok(())
            }
        }
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Redis(s) => bounded(s.delete(key), |e| e).await,
            Backend::Memory(s) => {
                s.delete(key);
                Ok(())
            }
        }
    }
}

/// Most sessions one process keeps in memory (the development store).
const MAX_ENTRIES: usize = 100_000;

/// Drops expired sessions, then, if still full, the half closest to expiry.
fn evict(map: &mut HashMap<String, (State, Instant)>) {
    let now = Instant::now();
    map.retain(|_, (_, until)| *until > now);
    if map.len() >= MAX_ENTRIES {
        let mut deadlines: Vec<Instant> = map.values().map(|(_, until)| *until).collect();
        let middle = deadlines.len() / 2;
        let (_, cut, _) = deadlines.select_nth_unstable(middle);
        let cut = *cut;
        map.retain(|_, (_, until)| *until > cut);
    }
}

/// Session state in this process's memory, expired lazily.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<HashMap<String, (State, Instant)>>>,
}

fn deadline(ttl: &Duration) -> Instant {
    let secs = ttl.whole_seconds().max(0).unsigned_abs();
    Instant::now() + std::time::Duration::from_secs(secs)
}

impl MemoryStore {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (State, Instant)>> {
        // A poisoned lock only means another request panicked mid-update; the
        // map itself is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn load(&self, key: &SessionKey) -> Option<State> {
        let mut map = self.map();
        match map.get(key.as_ref()) {
            Some((state, until)) if *until > Instant::now() => Some(state.clone()),
            Some(_) => {
                map.remove(key.as_ref());
                None
            }
            None => None,
        }
    }

    fn save(&self, state: State, ttl: &Duration) -> anyhow::Result<SessionKey> {
        let key = random::token(48);
        let mut map = self.map();
        if map.len() >= MAX_ENTRIES {
            evict(&mut map);
        }
        map.insert(key.clone(), (state, deadline(ttl)));
        SessionKey::try_from(key).map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn update(&self, key: SessionKey, state: State, ttl: &Duration) -> anyhow::Result<SessionKey> {
        let mut map = self.map();
        match map.get_mut(key.as_ref()) {
            Some(entry) => {
                *entry = (state, deadline(ttl));
                Ok(key)
            }
            None => {
                drop(map);
                self.save(state, ttl)
            }
        }
    }

    fn update_ttl(&self, key: &SessionKey, ttl: &Duration) {
        if let Some(entry) = self.map().get_mut(key.as_ref()) {
            entry.1 = deadline(ttl);
        }
    }

    fn delete(&self, key: &SessionKey) {
        self.map().remove(key.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memory_store_evicts_instead_of_growing() {
        let store = MemoryStore::default();
        let ttl = Duration::seconds(60);
        for _ in 0..(MAX_ENTRIES + 10) {
            let _ = store.save(State::new(), &ttl);
        }
        assert!(store.map().len() <= MAX_ENTRIES);
    }
}
