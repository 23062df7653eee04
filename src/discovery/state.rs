//! What the feed, swipes, rewinds and a member's page use.

use std::sync::Arc;

use super::cache::{Absent, FeedCache};
use super::pages::PageCache;
use super::writer::SwipeWriter;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::jobs::JobWriter;
use crate::realtime::Hub;
use crate::runtime::RuntimeSettings;

#[derive(Clone)]
pub struct DiscoveryState {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// Writes that queue the "It's a match" mails.
    pub jobs: JobWriter,
    pub clock: Clock,
    /// The superlike and rewind limits staff change at run time.
    pub runtime: RuntimeSettings,
    /// Tells both members' sockets when a rewind or a block ends a match.
    pub hub: Hub,
    /// Each member's feed, kept a few minutes in this process.
    pub feeds: FeedCache,
    /// Each member's feed pages as last shown, kept a second or two and
    /// dropped by events (off with the feed cache).
    pub pages: PageCache,
    /// Writes swipes in groups, one transaction each.
    pub writer: SwipeWriter,
    /// Ids that belong to nobody, remembered a few seconds (`/users/{id}`).
    pub absent: Absent,
}
