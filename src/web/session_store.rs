//! Where session state lives: Redis when `REDIS_URL` is set (shared by every
//! instance, so a member logged in on one is logged in on all), otherwise
//! the database (`web_sessions`, the key stored hashed) behind an
//! in-process copy, so the single-process site (the embedded default) keeps
//! its sessions across a restart and "remember me" means it. A session starts
//! at login (or at the first step of a 2FA login): visitors carry nothing but
//! the CSRF cookie.
//!
//! A warm page makes no Redis round trip: a state read from Redis is kept
//! in process for 0.5–1 s (jittered) and used by `GET` and `HEAD` requests
//! and swipes only (the [`reads`] middleware says which a request is, by
//! `auth::middleware::uses_cache`). Any other request that changes state
//! reads Redis, and this instance's own writes drop what it kept. What another instance writes shows here within a second;
//! who is logged in never rests on it: the identity it holds is checked
//! against the session row (and the principal cache, which events keep
//! honest) on every request.
//!
//! The Redis side uses the application's one [`RedisLink`], whose commands
//! time out after a second, which reconnects within a second of Redis coming
//! back and follows a Sentinel failover. While Redis is unreachable a session cannot be read:
//! the request is served as a visitor's (pages work, members appear logged
//! out, a password login answers 503) instead of failing every page. A
//! write that fails is still a 500.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::body::MessageBody;
use actix_web::cookie::time::Duration;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::redis_link::RedisLink;
use crate::security::random::{self, jittered};

type State = HashMap<String, String>;

/// The key actix-identity stores the logged-in identity under.
const IDENTITY_KEY: &str = "actix_identity.user_id";

#[derive(Clone)]
enum Backend {
    Redis(RedisSessions),
    Database(DbSessions),
}

/// Session state in the `web_sessions` table, with this process's copy in
/// front of it (the only process writing it: without Redis, one instance
/// serves the site): a warm page reads memory only.
#[derive(Clone)]
struct DbSessions {
    db: crate::db::Db,
    copy: MemoryStore,
    /// Saves so far: every `PURGE_EVERY`th also deletes expired rows.
    saves: Arc<AtomicU64>,
}

const PURGE_EVERY: u64 = 100;

fn expires_at(ttl: &Duration) -> chrono::NaiveDateTime {
    let secs = ttl.whole_seconds().max(1);
    chrono::Utc::now().naive_utc() + chrono::Duration::seconds(secs)
}

impl DbSessions {
    async fn load(&self, key: &SessionKey) -> anyhow::Result<Option<State>> {
        if let Some(state) = self.copy.load(key) {
            return Ok(Some(state));
        }
        use crate::db::schema::web_sessions as ws;
        use diesel::prelude::*;
        let hash = random::token_hash(key.as_ref());
        let now = chrono::Utc::now().naive_utc();
        let row: Option<(String, chrono::NaiveDateTime)> = self
            .db
            .primary(move |c| {
                Ok(ws::table
                    .find(hash)
                    .filter(ws::expires_at.gt(now))
                    .select((ws::state, ws::expires_at))
                    .first(c)
                    .optional()?)
            })
            .await?;
        // A value that does not parse is treated as no session.
        let Some((state, until)) =
            row.and_then(|(raw, until)| Some((serde_json::from_str::<State>(&raw).ok()?, until)))
        else {
            return Ok(None);
        };
        let left = (until - now).to_std().unwrap_or_default();
        self.copy.keep(key.as_ref(), state.clone(), left);
        Ok(Some(state))
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        use crate::db::schema::web_sessions as ws;
        use diesel::prelude::*;
        self.copy.update_ttl(key, ttl);
        let hash = random::token_hash(key.as_ref());
        let until = expires_at(ttl);
        let now = chrono::Utc::now().naive_utc();
        self.db
            .primary(move |c| {
                // An expired session is not brought back.
                diesel::update(ws::table.find(hash).filter(ws::expires_at.gt(now)))
                    .set(ws::expires_at.eq(until))
                    .execute(c)?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        use crate::db::schema::web_sessions as ws;
        use diesel::prelude::*;
        self.copy.delete(key);
        let hash = random::token_hash(key.as_ref());
        self.db
            .primary(move |c| {
                diesel::delete(ws::table.find(hash)).execute(c)?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}

impl Backing for DbSessions {
    /// Writes the state; `only_new` inserts (a fresh key), otherwise it
    /// updates a live row and answers `false` when there is none.
    async fn store(
        &self,
        key: &str,
        state: &State,
        ttl: &Duration,
        only_new: bool,
    ) -> anyhow::Result<bool> {
        use crate::db::schema::web_sessions as ws;
        use diesel::prelude::*;
        let body = serde_json::to_string(state)?;
        let hash = random::token_hash(key);
        let until = expires_at(ttl);
        let purge = only_new && self.saves.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == 0;
        let now = chrono::Utc::now().naive_utc();
        let done = self
            .db
            .primary(move |c| {
                if purge {
                    diesel::delete(ws::table.filter(ws::expires_at.le(now))).execute(c)?;
                }
                let n = if only_new {
                    crate::db::insert_unique(c, |c| {
                        diesel::insert_into(ws::table)
                            .values((
                                ws::key_hash.eq(&hash),
                                ws::state.eq(&body),
                                ws::expires_at.eq(until),
                            ))
                            .execute(c)
                    })?
                    .unwrap_or(0)
                } else {
                    diesel::update(ws::table.find(&hash).filter(ws::expires_at.gt(now)))
                        .set((ws::state.eq(&body), ws::expires_at.eq(until)))
                        .execute(c)?
                };
                Ok(n == 1)
            })
            .await?;
        if done {
            self.copy.put(key.to_string(), state.clone(), deadline(ttl));
        }
        Ok(done)
    }

    fn kept(&self) -> &MemoryStore {
        &self.copy
    }
}

/// Session state as JSON under `<prefix>:session:<key>`, expiring with it.
#[derive(Clone)]
struct RedisSessions {
    conn: RedisLink,
    prefix: String,
    /// States read lately, for the reads of `GET`/`HEAD` requests.
    recent: MemoryStore,
    /// States read from Redis so far (the tests count round trips with it).
    loads: Arc<AtomicU64>,
}

/// What the two backends share: writing a state (a fresh key, or over a
/// live one) and this process's copy of it. Saving and updating are the
/// same on both.
trait Backing {
    /// Writes the state; `only_new` refuses an existing key, otherwise a
    /// key that is not live is not written. `false` when nothing was.
    async fn store(
        &self,
        key: &str,
        state: &State,
        ttl: &Duration,
        only_new: bool,
    ) -> anyhow::Result<bool>;

    /// What this process keeps of the states.
    fn kept(&self) -> &MemoryStore;

    /// A new state under a fresh random key.
    async fn save(&self, state: State, ttl: &Duration) -> anyhow::Result<SessionKey> {
        loop {
            let key = random::token(48);
            if self.store(&key, &state, ttl, true).await? {
                return SessionKey::try_from(key).map_err(|e| anyhow::anyhow!("{e}"));
            }
        }
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> anyhow::Result<SessionKey> {
        self.kept().delete(&key);
        if self.store(key.as_ref(), &state, ttl, false).await? {
            Ok(key)
        } else {
            // Expired between load and update: a new key, never a reused one.
            self.save(state, ttl).await
        }
    }
}

/// Longest a state read from Redis is reused (each between half and all).
pub const RECENT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(1);

tokio::task_local! {
    /// Whether the request being served may use recent state (`GET`,
    /// `HEAD`, a swipe).
    static READS: bool;
}

/// Marks the requests whose session state may come from what this process
/// read in the last second (`GET`, `HEAD` and swipes: the ones whose
/// principal may come from the principal cache); wraps the session
/// middleware.
pub async fn reads(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let reads = crate::auth::middleware::uses_cache(req.method(), req.path());
    READS.scope(reads, next.call(req)).await
}

fn request_reads() -> bool {
    READS.try_with(|r| *r).unwrap_or(false)
}

impl RedisSessions {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn load(&self, key: &SessionKey) -> anyhow::Result<Option<State>> {
        if request_reads() {
            if let Some(state) = self.recent.load(key) {
                return Ok(Some(state));
            }
        }
        self.loads.fetch_add(1, Ordering::Relaxed);
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.key(key.as_ref()))
            .query_async(&mut self.conn.clone())
            .await?;
        // A value that does not parse is treated as no session.
        let found: Option<State> = raw.and_then(|r| serde_json::from_str(&r).ok());
        if let Some(state) = &found {
            self.recent
                .keep(key.as_ref(), state.clone(), jittered(RECENT_LIFETIME));
        }
        Ok(found)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        self.recent.delete(key);
        redis::cmd("EXPIRE")
            .arg(self.key(key.as_ref()))
            .arg(ttl.whole_seconds().max(1))
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        self.recent.delete(key);
        redis::cmd("DEL")
            .arg(self.key(key.as_ref()))
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}

impl Backing for RedisSessions {
    /// Writes the state; `only_new` refuses to overwrite (a fresh key).
    async fn store(
        &self,
        key: &str,
        state: &State,
        ttl: &Duration,
        only_new: bool,
    ) -> anyhow::Result<bool> {
        let body = serde_json::to_string(state)?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(body)
            .arg(if only_new { "NX" } else { "XX" })
            .arg("EX")
            .arg(ttl.whole_seconds().max(1));
        let done: Option<String> = cmd.query_async(&mut self.conn.clone()).await?;
        Ok(done.is_some())
    }

    fn kept(&self) -> &MemoryStore {
        &self.recent
    }
}

/// The session store the app uses. State without an identity (a login
/// waiting for its second step, or the language left after a revoked
/// session's identity was dropped) lives `anonymous_ttl` (the idle time-out)
/// at most. Visitors have no session.
#[derive(Clone)]
pub struct AppSessionStore {
    backend: Backend,
    anonymous_ttl: Duration,
}

impl AppSessionStore {
    /// Redis when there is a link, else the database.
    pub fn new(
        redis: Option<RedisLink>,
        db: crate::db::Db,
        prefix: &str,
        anonymous_ttl: std::time::Duration,
    ) -> Self {
        let backend = match redis {
            Some(conn) => Backend::Redis(RedisSessions {
                conn,
                prefix: format!("{prefix}:session:"),
                recent: MemoryStore::default(),
                loads: Arc::default(),
            }),
            None => Backend::Database(DbSessions {
                db,
                copy: MemoryStore::default(),
                saves: Arc::default(),
            }),
        };
        let secs = i64::try_from(anonymous_ttl.as_secs()).unwrap_or(i64::MAX);
        Self {
            backend,
            anonymous_ttl: Duration::seconds(secs),
        }
    }

    /// Whether sessions can be stored now: Redis answers within its bound
    /// (always true for the database). Logging in asks first, so a member gets a
    /// clear 503 instead of a session that cannot be saved.
    pub async fn available(&self) -> bool {
        let Backend::Redis(sessions) = &self.backend else {
            return true;
        };
        sessions.conn.ping().await
    }

    /// States read from Redis since start (zero without Redis).
    pub fn redis_loads(&self) -> u64 {
        match &self.backend {
            Backend::Redis(s) => s.loads.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    fn ttl_for(&self, state: &State, ttl: &Duration) -> Duration {
        if state.contains_key(IDENTITY_KEY) {
            *ttl
        } else {
            (*ttl).min(self.anonymous_ttl)
        }
    }
}

/// How long a request waits for Redis before answering without it: the
/// link's own time-out (`redis_link::REDIS_BOUND`, 1 s) plus room
/// for a reconnect; this is the outer bound.
const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

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
            Backend::Redis(s) => match bounded(s.load(key), |e| e).await {
                Ok(found) => Ok(found),
                Err(e) => {
                    tracing::warn!(error = %e, "session store unreachable: serving as a visitor");
                    Ok(None)
                }
            },
            Backend::Database(s) => s.load(key).await.map_err(LoadError::Other),
        }
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let ttl = self.ttl_for(&state, ttl);
        match &self.backend {
            Backend::Redis(s) => bounded(s.save(state, &ttl), |e| e)
                .await
                .map_err(SaveError::Other),
            Backend::Database(s) => s.save(state, &ttl).await.map_err(SaveError::Other),
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
            Backend::Redis(s) => bounded(s.update(key, state, &ttl), |e| e)
                .await
                .map_err(UpdateError::Other),
            Backend::Database(s) => s.update(key, state, &ttl).await.map_err(UpdateError::Other),
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Redis(s) => bounded(s.update_ttl(key, ttl), |e| e).await,
            Backend::Database(s) => s.update_ttl(key, ttl).await,
        }
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Redis(s) => bounded(s.delete(key), |e| e).await,
            Backend::Database(s) => s.delete(key).await,
        }
    }
}

/// Most sessions one process keeps in memory (its copy of the database's,
/// or the states read lately from Redis).
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

    /// Keeps `state` under `key` for `lifetime`.
    fn keep(&self, key: &str, state: State, lifetime: std::time::Duration) {
        self.put(key.to_string(), state, Instant::now() + lifetime);
    }

    fn put(&self, key: String, state: State, until: Instant) {
        let mut map = self.map();
        if map.len() >= MAX_ENTRIES {
            evict(&mut map);
        }
        map.insert(key, (state, until));
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
        for _ in 0..(MAX_ENTRIES + 10) {
            store.keep(&random::token(48), State::new(), RECENT_LIFETIME * 60);
        }
        assert!(store.map().len() <= MAX_ENTRIES);
    }
}
