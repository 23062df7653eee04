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

#[derive(Clone)]
pub enum AppSessionStore {
    Redis(RedisSessionStore),
    Memory(MemoryStore),
}

impl AppSessionStore {
    pub async fn connect(redis_url: Option<&str>, prefix: &str) -> anyhow::Result<Self> {
        match redis_url {
            Some(url) => {
                let prefix = format!("{prefix}:session:");
                let store = RedisSessionStore::builder(url)
                    .cache_keygen(move |key| format!("{prefix}{key}"))
                    .build()
                    .await?;
                Ok(Self::Redis(store))
            }
            None => Ok(Self::Memory(MemoryStore::default())),
        }
    }
}

impl SessionStore for AppSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        match self {
            Self::Redis(s) => s.load(key).await,
            Self::Memory(s) => Ok(s.load(key)),
        }
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        match self {
            Self::Redis(s) => s.save(state, ttl).await,
            Self::Memory(s) => s.save(state, ttl).map_err(SaveError::Other),
        }
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self {
            Self::Redis(s) => s.update(key, state, ttl).await,
            Self::Memory(s) => s.update(key, state, ttl).map_err(UpdateError::Other),
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        match self {
            Self::Redis(s) => s.update_ttl(key, ttl).await,
            Self::Memory(s) => {
                s.update_ttl(key, ttl);
                Ok(())
            }
        }
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        match self {
            Self::Redis(s) => s.delete(key).await,
            Self::Memory(s) => {
                s.delete(key);
                Ok(())
            }
        }
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
        let now = Instant::now();
        if map.len() > 10_000 {
            map.retain(|_, (_, until)| *until > now);
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
