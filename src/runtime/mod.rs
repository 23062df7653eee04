//! Runtime settings: limits staff change without a restart (the daily rewind
//! and superlike limits; the admin console adds more). Each is declared once
//! in [`TUNABLES`] with its default and bounds, stored in `runtime_settings`
//! when changed, and read through a short per-process cache: a change made
//! on one instance is in force on every instance within [`CACHE_TTL`].

mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::Db;
use crate::error::AppError;

/// How long a value read from the database is trusted.
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// A setting: its key (also the admin form's field name), default and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunable {
    pub key: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

pub const REWIND_DAILY_LIMIT: Tunable = Tunable {
    key: "rewind_daily_limit",
    default: 3,
    min: 0,
    max: 1000,
};
pub const SUPERLIKE_DAILY_LIMIT: Tunable = Tunable {
    key: "superlike_daily_limit",
    default: 1,
    min: 0,
    max: 1000,
};

/// Every runtime setting; adding one is adding a line here.
pub const TUNABLES: &[Tunable] = &[REWIND_DAILY_LIMIT, SUPERLIKE_DAILY_LIMIT];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting")]
    Unknown,
    #[error("out of range")]
    OutOfRange,
}

type Cache = Option<(Instant, HashMap<String, String>)>;

#[derive(Clone)]
pub struct RuntimeSettings {
    db: Db,
    cache: Arc<Mutex<Cache>>,
}

impl RuntimeSettings {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Arc::new(Mutex::new(None)),
        }
    }

    fn cached(&self) -> Option<HashMap<String, String>> {
        let guard = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        match &*guard {
            Some((at, values)) if at.elapsed() < CACHE_TTL => Some(values.clone()),
            _ => None,
        }
    }

    /// The current value: stored, else the default; a stored value out of
    /// bounds (edited by hand) is clamped.
    pub async fn get(&self, t: Tunable) -> Result<i64, AppError> {
        let values = match self.cached() {
            Some(v) => v,
            None => {
                let v = self.db.read(|c| Ok(store::all(c)?)).await?;
                *self.cache.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), v.clone()));
                v
            }
        };
        Ok(values
            .get(t.key)
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(t.default, |v| v.clamp(t.min, t.max)))
    }

    /// Changes a setting for every instance (in force everywhere within [`CACHE_TTL`]).
    pub async fn set(
        &self,
        key: &str,
        value: i64,
        now: NaiveDateTime,
    ) -> Result<Result<(), SettingError>, AppError> {
        let Some(t) = TUNABLES.iter().find(|t| t.key == key).copied() else {
            return Ok(Err(SettingError::Unknown));
        };
        if !(t.min..=t.max).contains(&value) {
            return Ok(Err(SettingError::OutOfRange));
        }
        self.db
            .write(move |c| Ok(store::put(c, t.key, &value.to_string(), now)?))
            .await?;
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(Ok(()))
    }
}
