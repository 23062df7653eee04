//! What the request pipeline shares: the web spine's middleware (CSRF, rate
//! limits, remember-me, time-outs, headers), identity loading and the `Page`
//! extractor. Features have states of their own (`accounts::state`,
//! `discovery::state`, …) holding only the handles they use; the
//! composition root (`startup`) cuts all of them from one set of handles,
//! and each reaches handlers the same way: as one `web::Data`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::limits::Counters;
use crate::runtime::RuntimeSettings;
use crate::security::keys::Keys;

#[derive(Clone)]
pub struct Spine {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub clock: Clock,
    /// Keys derived from `SECRET_KEY` (the CSRF key here).
    pub keys: Arc<Keys>,
    /// Limits staff change at run time (the POST rate limit).
    pub runtime: RuntimeSettings,
    /// Sliding-window counters, shared through Redis.
    pub counters: Counters,
}
