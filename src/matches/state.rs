//! What matches and chat use.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::limits::Counters;
use crate::realtime::Hub;
use crate::runtime::RuntimeSettings;

#[derive(Clone)]
pub struct ChatState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub clock: Clock,
    /// The message rate limit staff change at run time.
    pub runtime: RuntimeSettings,
    /// The message rate limit's counters.
    pub counters: Counters,
    /// This instance's sockets, and the fan-out to the others.
    pub hub: Hub,
}
