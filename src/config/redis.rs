//! Redis: one server (`REDIS_URL`) or the Sentinels of a primary.

use super::source::Collector;
use crate::security::SecretString;

#[derive(Clone, Debug)]
pub struct RedisSettings {
    /// One server; under Sentinel, only its user, password and database
    /// are used, for the primary the Sentinels name.
    pub url: Option<SecretString>,
    /// `host:port` of each Sentinel (`REDIS_SENTINELS`), empty without.
    pub sentinels: Vec<String>,
    /// The name the Sentinels monitor the primary under; set with `sentinels`.
    pub sentinel_master: Option<String>,
    /// Prefix of every Redis key this instance writes (tests use one per test).
    pub prefix: String,
}

impl RedisSettings {
    /// Whether Redis is used: one server or Sentinels.
    pub fn configured(&self) -> bool {
        self.url.is_some() || self.sentinel_master.is_some()
    }
}

/// `REDIS_SENTINELS` (comma-separated `host:port`) and
/// `REDIS_SENTINEL_MASTER`: both or neither.
pub(super) fn sentinel_settings(c: &mut Collector<'_>) -> (Vec<String>, Option<String>) {
    let sentinels: Vec<String> = c
        .string("REDIS_SENTINELS", "")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let master = c
        .src
        .get("REDIS_SENTINEL_MASTER")
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let well_formed = |s: &String| {
        s.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        })
    };
    if let Some(bad) = sentinels.iter().find(|s| !well_formed(s)) {
        c.errors.push(format!(
            "REDIS_SENTINELS: expected HOST:PORT[,HOST:PORT…], got {bad:?}"
        ));
    }
    match (sentinels.is_empty(), &master) {
        (false, None) => c
            .errors
            .push("REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS".to_string()),
        (true, Some(_)) => c
            .errors
            .push("REDIS_SENTINELS: required with REDIS_SENTINEL_MASTER".to_string()),
        _ => {}
    }
    (sentinels, master)
}
