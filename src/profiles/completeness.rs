//! How complete a profile is (the feed's score uses it) and the navigation
//! avatar, both stored on save and recomputed whenever photos change (by the
//! profile flows and by the photo jobs).

use super::imaging;
use super::photos::{self, Photo, PhotoStatus};
use super::store::Profile;
use crate::auth::{User, UserId};
use crate::db::DbConnection;

/// How complete a profile is, 0–100, for the feed's score: a main photo
/// (30), a bio (20), a city (15), a position (15), three photos or more (20).
pub fn completeness(profile: &Profile, photos: &[Photo]) -> i32 {
    let ready = photos
        .iter()
        .filter(|p| p.status == PhotoStatus::Ready)
        .count();
    let main = photos
        .iter()
        .any(|p| p.is_main && p.status == PhotoStatus::Ready);
    let mut score = 0;
    score += if main { 30 } else { 0 };
    score += if profile.bio.is_empty() { 0 } else { 20 };
    score += if profile.city.is_empty() { 0 } else { 15 };
    score += if profile.latitude.is_some() { 15 } else { 0 };
    score += if ready >= 3 { 20 } else { 0 };
    score
}

/// Recomputes the stored completeness and the navigation avatar.
pub fn refresh_completeness(c: &mut DbConnection, user: UserId) -> diesel::QueryResult<()> {
    let Some(profile) = Profile::find(c, user)? else {
        return Ok(());
    };
    let photos = Photo::of_user(c, user)?;
    Profile::set_completeness(c, user, completeness(&profile, &photos))?;
    let avatar = photos
        .iter()
        .find(|p| p.is_main && p.status == PhotoStatus::Ready)
        .map(|p| photos::size_key(&p.storage_key, imaging::SIZES[0]));
    User::set_avatar(c, user, avatar.as_deref())
}
