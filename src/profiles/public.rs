//! What other members may see of a member. [`PublicProfile`] has no field
//! for an email, a birthday or a position, so no page built from it can show
//! them: age instead of the birthday, a distance rounded to whole kilometres
//! (never below 1) instead of coordinates.

use chrono::NaiveDate;

use super::photos::{size_key, Photo, PhotoStatus};
use super::store::Profile;
use crate::auth::input::age_on;
use crate::auth::UserId;
use crate::config::MediaSettings;
use crate::storage::public_url;

/// One photo's URLs, smallest to largest.
#[derive(Debug, Clone)]
pub struct PhotoUrls {
    pub thumb: String,
    pub medium: String,
    pub large: String,
}

impl PhotoUrls {
    pub fn of(media: &MediaSettings, storage_key: &str) -> Self {
        let [s, m, l] = super::imaging::SIZES;
        Self {
            thumb: public_url(media, &size_key(storage_key, s)),
            medium: public_url(media, &size_key(storage_key, m)),
            large: public_url(media, &size_key(storage_key, l)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PublicProfile {
    pub id: UserId,
    pub nickname: String,
    /// `None` when the member hides it.
    pub age: Option<i32>,
    pub city: String,
    pub bio: String,
    /// Whole kilometres, only when both members gave a position.
    pub distance_km: Option<u32>,
    /// Processed photos, the main one first.
    pub photos: Vec<PhotoUrls>,
}

/// A position, as only the server ever sees it.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

impl Position {
    pub fn of(profile: &Profile) -> Option<Self> {
        Self::at(profile.latitude, profile.longitude)
    }

    /// A position when both coordinates are known.
    pub fn at(latitude: Option<f64>, longitude: Option<f64>) -> Option<Self> {
        Some(Self {
            latitude: latitude?,
            longitude: longitude?,
        })
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(self, other: Self) -> f64 {
        const EARTH_RADIUS_KM: f64 = 6371.0;
        let (la1, la2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dla = la2 - la1;
        let dlo = (other.longitude - self.longitude).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

/// Rounded for display: whole kilometres, at least 1, so a position can't be
/// triangulated to the metre.
pub fn rounded_km(km: f64) -> u32 {
    let km = km.round().max(1.0);
    if km.is_finite() && km < f64::from(u32::MAX) {
        km as u32
    } else {
        u32::MAX
    }
}

impl PublicProfile {
    pub fn new(
        nickname: &str,
        profile: &Profile,
        photos: &[Photo],
        viewer: Option<Position>,
        today: NaiveDate,
        media: &MediaSettings,
    ) -> Self {
        let distance_km = match (viewer, Position::of(profile)) {
            (Some(a), Some(b)) if !profile.hide_distance => Some(rounded_km(a.distance_km(b))),
            _ => None,
        };
        Self {
            id: profile.user_id,
            nickname: nickname.to_string(),
            age: (!profile.hide_age).then(|| age_on(profile.birthday, today)),
            city: profile.city.clone(),
            bio: profile.bio.clone(),
            distance_km,
            photos: photos
                .iter()
                .filter(|p| p.status == PhotoStatus::Ready)
                .map(|p| PhotoUrls::of(media, &p.storage_key))
                .collect(),
        }
    }
}

/// The public cards of these profiles, in their order: two queries (names,
/// photos) whatever the number. Members whose account is gone are skipped.
pub fn cards(
    c: &mut crate::db::DbConnection,
    profiles: &[Profile],
    viewer: Option<Position>,
    today: NaiveDate,
    media: &MediaSettings,
) -> diesel::QueryResult<Vec<PublicProfile>> {
    let ids: Vec<UserId> = profiles.iter().map(|p| p.user_id).collect();
    let names = crate::auth::User::nicknames(c, &ids)?;
    let mut photos: std::collections::HashMap<UserId, Vec<Photo>> =
        std::collections::HashMap::new();
    for photo in Photo::of_users(c, &ids)? {
        photos.entry(photo.user_id).or_default().push(photo);
    }
    Ok(profiles
        .iter()
        .filter_map(|p| {
            let name = names.get(&p.user_id)?;
            let mine = photos.get(&p.user_id).map(Vec::as_slice).unwrap_or(&[]);
            Some(PublicProfile::new(name, p, mine, viewer, today, media))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_to_lyon_is_about_391_km() {
        let paris = Position {
            latitude: 48.8566,
            longitude: 2.3522,
        };
        let lyon = Position {
            latitude: 45.764,
            longitude: 4.8357,
        };
        assert_eq!(rounded_km(paris.distance_km(lyon)), 391);
        assert_eq!(
            rounded_km(paris.distance_km(paris)),
            1,
            "never 0: no exact co-location"
        );
    }
}
