//! What the profile and photo flows use.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::jobs::JobWriter;
use crate::realtime::Hub;
use crate::storage::MediaStore;

#[derive(Clone)]
pub struct ProfilesState {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// Writes that queue photo processing and file deletion.
    pub jobs: JobWriter,
    pub clock: Clock,
    /// Where uploads and processed photos are stored.
    pub media: MediaStore,
    /// Tells every instance that a member's profile or photos changed.
    pub hub: Hub,
}
