//! Counting events in sliding windows, shared by every instance through
//! Redis, with an in-process twin used without Redis and while Redis is
//! unreachable (limits stay in force per instance: never a silent
//! fail-open). One mechanism serves the rate limits (per IP, per email or
//! account), the failed-login counters and their captcha and lock, and keeps
//! the short-lived secrets those need (captcha answers, lock deadlines).
//!
//! A window is a sorted set of hit times (Redis `ZSET`, or a deque here):
//! hits older than the window fall out, so a limit of 10 per 15 minutes
//! means exactly that at every moment, not "10 per clock quarter".

mod memory;
pub mod rules;

use std::time::Duration;

use crate::clock::Clock;
use crate::security::random;

use crate::redis_link::{RedisLink, REDIS_BOUND};

/// Hits counted in a window, and when the oldest one leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: u64,
    /// Seconds until the count drops by one (at least 1).
    pub retry_after_secs: u64,
}

/// A limit: at most `max` hits per `window` for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Part of the storage key: which kind of event is counted.
    pub name: &'static str,
    pub max: u64,
    pub window: Duration,
}

/// The outcome of charging a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after_secs: u64 },
}

/// Adds a hit unless the window already holds `cap`; returns the count and
/// the oldest hit's time. One script, so concurrent hits on several
/// instances never over-admit.
const HIT_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < cap then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  n = n + 1
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {n, tonumber(oldest[2]) or now}
";

const COUNT_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {n, tonumber(oldest[2]) or now}
";

#[derive(Clone)]
pub struct Counters {
    redis: Option<RedisLink>,
    prefix: String,
    memory: memory::Memory,
    clock: Clock,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn window_of(count: u64, oldest_ms: i64, window: Duration, now_ms: i64) -> Window {
    let left_ms = (oldest_ms + millis(window) - now_ms).max(0);
    Window {
        count,
        retry_after_secs: u64::try_from((left_ms + 999) / 1000).unwrap_or(1).max(1),
    }
}

impl Counters {
    pub fn new(redis: Option<RedisLink>, prefix: &str, clock: Clock) -> Self {
        Self {
            redis,
            prefix: format!("{prefix}:limits:"),
            memory: memory::Memory::default(),
            clock,
        }
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().and_utc().timestamp_millis()
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs a Redis command within [`REDIS_BOUND`]; `None` when there is no
    /// Redis or it failed (logged), and the caller uses the in-process twin.
    async fn redis<T, F, Fut>(&self, what: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(RedisLink) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.redis.clone()?;
        match tokio::time::timeout(REDIS_BOUND, f(conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::warn!(what, error = %e, "Redis unavailable: counting in this process");
                None
            }
            Err(_) => {
                tracing::warn!(what, "Redis timed out: counting in this process");
                None
            }
        }
    }

    /// Adds one hit to `key` (unless `cap` are already counted) and returns
    /// the hits in the last `window`, this one included.
    pub async fn hit(&self, key: &str, window: Duration, cap: u64) -> Window {
        let now = self.now_ms();
        let full = self.key(key);
        let member = format!("{now}-{}", random::token(6));
        let from_redis = self
            .redis("hit", |mut c| async move {
                redis::Script::new(HIT_SCRIPT)
                    .key(&full)
                    .arg(now)
                    .arg(millis(window))
                    .arg(cap)
                    .arg(member)
                    .invoke_async::<(u64, i64)>(&mut c)
                    .await
            })
            .await;
        let (count, oldest) = match from_redis {
            Some(v) => v,
            None => self.memory.hit(&self.key(key), now, millis(window), cap),
        };
        window_of(count, oldest, window, now)
    }

    /// The hits in the last `window`, without adding one.
    pub async fn count(&self, key: &str, window: Duration) -> Window {
        let now = self.now_ms();
        let full = self.key(key);
        let from_redis = self
            .redis("count", |mut c| async move {
                redis::Script::new(COUNT_SCRIPT)
                    .key(&full)
                    .arg(now)
                    .arg(millis(window))
                    .invoke_async::<(u64, i64)>(&mut c)
                    .await
            })
            .await;
        let (count, oldest) = match from_redis {
            Some(v) => v,
            None => self.memory.count(&self.key(key), now, millis(window)),
        };
        window_of(count, oldest, window, now)
    }

    /// Forgets every hit of `key` (or the value kept under it).
    pub async fn clear(&self, key: &str) {
        let full = self.key(key);
        self.memory.remove(&full);
        let _ = self
            .redis("clear", |mut c| async move {
                redis::cmd("DEL").arg(&full).query_async::<()>(&mut c).await
            })
            .await;
    }

    /// Charges `limit` for `subject`: refused once `max` hits are in its window.
    pub async fn charge(&self, limit: Limit, subject: &str) -> Decision {
        if limit.max == 0 {
            return Decision::Allowed;
        }
        let w = self
            .hit(
                &format!("rl:{}:{subject}", limit.name),
                limit.window,
                limit.max + 1,
            )
            .await;
        if w.count > limit.max {
            Decision::Limited {
                retry_after_secs: w.retry_after_secs,
            }
        } else {
            Decision::Allowed
        }
    }

    /// Keeps a short-lived value (a captcha answer, a lock deadline).
    pub async fn put(&self, key: &str, value: &str, ttl: Duration) {
        let full = self.key(key);
        let until = self.now_ms() + millis(ttl);
        let stored = {
            let (full, value) = (full.clone(), value.to_string());
            self.redis("put", |mut c| async move {
                redis::cmd("SET")
                    .arg(&full)
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl).max(1))
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
        };
        if stored.is_none() {
            self.memory.put(&full, value, until);
        }
    }

    /// Reads a value without consuming it.
    pub async fn get(&self, key: &str) -> Option<String> {
        self.read(key, false).await
    }

    /// Reads and deletes a value: a second take finds nothing (single use),
    /// however many instances race for it.
    pub async fn take(&self, key: &str) -> Option<String> {
        self.read(key, true).await
    }

    async fn read(&self, key: &str, consume: bool) -> Option<String> {
        let full = self.key(key);
        let now = self.now_ms();
        let from_redis = {
            let full = full.clone();
            self.redis("read", |mut c| async move {
                redis::cmd(if consume { "GETDEL" } else { "GET" })
                    .arg(&full)
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await
        };
        match from_redis {
            Some(Some(v)) => Some(v),
            _ if consume => self.memory.take(&full, now),
            _ => self.memory.get(&full, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters() -> (Counters, Clock) {
        let clock = Clock::manual(chrono::DateTime::UNIX_EPOCH.naive_utc());
        (Counters::new(None, "t", clock.clone()), clock)
    }

    #[tokio::test]
    async fn a_window_slides() {
        let (c, clock) = counters();
        let w = Duration::from_secs(60);
        for expected in 1..=3 {
            assert_eq!(c.hit("k", w, 10).await.count, expected);
            clock.advance(chrono::TimeDelta::seconds(20));
        }
        // The first hit (t=0) has left the window at t=60.
        assert_eq!(c.count("k", w).await.count, 2);
        let limit = Limit {
            name: "x",
            max: 2,
            window: w,
        };
        assert_eq!(c.charge(limit, "s").await, Decision::Allowed);
        assert_eq!(c.charge(limit, "s").await, Decision::Allowed);
        assert_eq!(
            c.charge(limit, "s").await,
            Decision::Limited {
                retry_after_secs: 60
            }
        );
        c.clear("k").await;
        assert_eq!(c.count("k", w).await.count, 0);
    }

    #[tokio::test]
    async fn a_value_is_taken_once_and_expires() {
        let (c, clock) = counters();
        c.put("a", "answer", Duration::from_secs(300)).await;
        assert_eq!(c.get("a").await.as_deref(), Some("answer"));
        assert_eq!(c.take("a").await.as_deref(), Some("answer"));
        assert_eq!(c.take("a").await, None);
        c.put("b", "answer", Duration::from_secs(300)).await;
        clock.advance(chrono::TimeDelta::seconds(301));
        assert_eq!(c.take("b").await, None);
    }
}
