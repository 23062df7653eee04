//! What the admin console uses.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::jobs::JobWriter;
use crate::limits::Counters;
use crate::realtime::Hub;
use crate::runtime::RuntimeSettings;

#[derive(Clone)]
pub struct AdminState {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// Writes that queue mails (resend verification) and retries.
    pub jobs: JobWriter,
    pub clock: Clock,
    /// The runtime settings page reads and writes them.
    pub runtime: RuntimeSettings,
    /// Tells a member's sockets on every instance that their sessions ended.
    pub hub: Hub,
    /// The failure counters a re-entered password is counted on.
    pub counters: Counters,
}
