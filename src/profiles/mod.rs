//! Profiles and photos: my profile and preferences (`/profile`), my photos
//! (upload, main, delete), their processing into fixed sizes, and what other
//! members may see of a member ([`public::PublicProfile`]). Tables:
//! `profiles` (store.rs) and `photos` (photos.rs).

pub mod cities;
pub mod completeness;
pub mod imaging;
pub mod input;
pub mod jobs;
pub mod photos;
pub mod public;
pub mod routes;
pub mod service;
pub mod state;
pub mod store;
pub mod zones;

use crate::jobs::Registry;

/// The job kinds this feature owns.
pub fn register_jobs(r: &mut Registry) {
    jobs::register(r);
}
