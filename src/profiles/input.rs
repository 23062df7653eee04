//! The profile form, parsed and validated once: one [`FieldCode`] per field.

use serde::Deserialize;

use super::store::{ProfileChanges, WantSex};
use crate::auth::input::{free_text, Nickname};
use crate::error::{FieldCode, FieldErrors};

pub const MAX_BIO_CHARS: usize = 500;
pub const MAX_CITY_CHARS: usize = 80;
pub const MIN_AGE: i32 = 18;
pub const MAX_AGE: i32 = 99;
pub const MAX_DISTANCE_KM: i32 = 500;

/// `/profile` as posted. Every field defaults to empty, so a missing field is
/// reported next to the field; `discoverable` is a checkbox (absent = off).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub nickname: String,
    pub bio: String,
    pub city: String,
    pub latitude: String,
    pub longitude: String,
    pub time_zone: String,
    pub want_sex: String,
    pub min_age: String,
    pub max_age: String,
    pub max_distance_km: String,
    pub discoverable: Option<String>,
    pub hide_age: Option<String>,
    pub hide_distance: Option<String>,
}

/// A validated profile form.
#[derive(Debug, Clone)]
pub struct ProfileInput {
    pub nickname: Nickname,
    pub time_zone: chrono_tz::Tz,
    pub changes: ProfileChanges,
}

fn number<T: std::str::FromStr + PartialOrd>(raw: &str, min: T, max: T) -> Result<T, FieldCode> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldCode::Required);
    }
    match raw.parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        Ok(_) => Err(FieldCode::OutOfRange),
        Err(_) => Err(FieldCode::NotANumber),
    }
}

/// An optional coordinate: empty is `None`.
fn coordinate(raw: &str, limit: f64) -> Result<Option<f64>, FieldCode> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    match raw.trim().parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(FieldCode::NotANumber),
        // Rounded to 0.01° (about a kilometre) before it is stored: a
        // member's exact position is never kept.
        Ok(v) if (-limit..=limit).contains(&v) => Ok(Some((v * 100.0).round() / 100.0)),
        Ok(_) => Err(FieldCode::OutOfRange),
        Err(_) => Err(FieldCode::NotANumber),
    }
}

/// The value, or `None` with its error recorded against `field`.
fn keep<T>(errors: &mut FieldErrors, field: &'static str, r: Result<T, FieldCode>) -> Option<T> {
    r.map_err(|c| errors.push(field, c)).ok()
}

pub fn validate(form: &ProfileForm) -> Result<ProfileInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let nickname = keep(&mut errors, "nickname", Nickname::parse(&form.nickname));
    let bio = keep(&mut errors, "bio", free_text(&form.bio, MAX_BIO_CHARS));
    let city = keep(&mut errors, "city", free_text(&form.city, MAX_CITY_CHARS));
    let latitude = keep(&mut errors, "latitude", coordinate(&form.latitude, 90.0));
    let longitude = keep(&mut errors, "longitude", coordinate(&form.longitude, 180.0));
    let time_zone = keep(
        &mut errors,
        "time_zone",
        form.time_zone
            .trim()
            .parse::<chrono_tz::Tz>()
            .map_err(|_| FieldCode::InvalidTimeZone),
    );
    let want_sex = keep(
        &mut errors,
        "want_sex",
        WantSex::parse(form.want_sex.trim()).ok_or(FieldCode::InvalidChoice),
    );
    let min_age = keep(
        &mut errors,
        "min_age",
        number(&form.min_age, MIN_AGE, MAX_AGE),
    );
    let max_age = keep(
        &mut errors,
        "max_age",
        number(&form.max_age, MIN_AGE, MAX_AGE),
    );
    let max_distance_km = keep(
        &mut errors,
        "max_distance_km",
        number(&form.max_distance_km, 1, MAX_DISTANCE_KM),
    );
    if let (Some(Some(_)), Some(None)) | (Some(None), Some(Some(_))) = (latitude, longitude) {
        errors.push("longitude", FieldCode::PositionIncomplete);
    }
    if let (Some(min), Some(max)) = (min_age, max_age) {
        if min > max {
            errors.push("max_age", FieldCode::AgeRangeInverted);
        }
    }
    match (
        nickname,
        bio,
        city,
        latitude,
        longitude,
        time_zone,
        want_sex,
        min_age,
        max_age,
        max_distance_km,
    ) {
        (
            Some(nickname),
            Some(bio),
            Some(city),
            Some(latitude),
            Some(longitude),
            Some(time_zone),
            Some(want_sex),
            Some(min_age),
            Some(max_age),
            Some(max_distance_km),
        ) if errors.is_empty() => {
            // A city picked from the suggestions ("Lyon, France") without a
            // position gives the city's: distance works without degrees.
            let (latitude, longitude) = match (latitude, longitude) {
                (None, None) if city.contains(',') => super::cities::resolve(&city)
                    .map_or((None, None), |c| (Some(c.latitude), Some(c.longitude))),
                position => position,
            };
            Ok(ProfileInput {
                nickname,
                time_zone,
                changes: ProfileChanges {
                    bio,
                    city,
                    latitude,
                    longitude,
                    want_sex,
                    min_age,
                    max_age,
                    max_distance_km,
                    discoverable: form.discoverable.is_some(),
                    hide_age: form.hide_age.is_some(),
                    hide_distance: form.hide_distance.is_some(),
                },
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggested_city_without_a_position_gives_its_position() {
        let mut f = form();
        f.city = "Lyon, France".into();
        f.latitude.clear();
        f.longitude.clear();
        let c = validate(&f).expect("valid").changes;
        let (lat, lng) = (
            c.latitude.expect("latitude"),
            c.longitude.expect("longitude"),
        );
        assert!(
            (lat - 45.75).abs() < 0.1 && (lng - 4.85).abs() < 0.1,
            "{lat} {lng}"
        );
        // A bare name stays a name (members matched by city), and a position
        // typed in wins over the city's.
        f.city = "Lyon".into();
        assert_eq!(validate(&f).expect("valid").changes.latitude, None);
        f.city = "Lyon, France".into();
        f.latitude = "10".into();
        f.longitude = "20".into();
        assert_eq!(validate(&f).expect("valid").changes.latitude, Some(10.0));
    }

    fn form() -> ProfileForm {
        ProfileForm {
            nickname: "Ada".into(),
            bio: "Hello".into(),
            city: "Paris".into(),
            latitude: "48.85".into(),
            longitude: "2.35".into(),
            time_zone: "Europe/Paris".into(),
            want_sex: "any".into(),
            min_age: "25".into(),
            max_age: "40".into(),
            max_distance_km: "50".into(),
            discoverable: Some("on".into()),
            hide_age: None,
            hide_distance: None,
        }
    }

    fn code_of(f: ProfileForm, field: &str) -> Option<FieldCode> {
        validate(&f)
            .err()
            .and_then(|e| e.for_field(field).map(|e| e.code))
    }

    #[test]
    fn a_complete_form_is_accepted() {
        let ok = validate(&form()).expect("valid");
        assert_eq!(ok.changes.latitude, Some(48.85));
        assert!(ok.changes.discoverable);
    }

    #[test]
    fn each_rule_has_its_code() {
        let with = |edit: fn(&mut ProfileForm)| {
            let mut f = form();
            edit(&mut f);
            f
        };
        assert_eq!(
            code_of(with(|f| f.latitude = "91".into()), "latitude"),
            Some(FieldCode::OutOfRange)
        );
        assert_eq!(
            code_of(with(|f| f.longitude = "east".into()), "longitude"),
            Some(FieldCode::NotANumber)
        );
        assert_eq!(
            code_of(with(|f| f.longitude = String::new()), "longitude"),
            Some(FieldCode::PositionIncomplete)
        );
        assert_eq!(
            code_of(with(|f| f.latitude = "NaN".into()), "latitude"),
            Some(FieldCode::NotANumber)
        );
        assert_eq!(
            code_of(with(|f| f.min_age = "41".into()), "max_age"),
            Some(FieldCode::AgeRangeInverted)
        );
        assert_eq!(
            code_of(with(|f| f.min_age = "17".into()), "min_age"),
            Some(FieldCode::OutOfRange)
        );
        assert_eq!(
            code_of(
                with(|f| f.max_distance_km = "501".into()),
                "max_distance_km"
            ),
            Some(FieldCode::OutOfRange)
        );
        assert_eq!(
            code_of(with(|f| f.time_zone = "Mars/Olympus".into()), "time_zone"),
            Some(FieldCode::InvalidTimeZone)
        );
        assert_eq!(
            code_of(with(|f| f.want_sex = "robots".into()), "want_sex"),
            Some(FieldCode::InvalidChoice)
        );
        assert_eq!(
            code_of(with(|f| f.bio = "x".repeat(501)), "bio"),
            Some(FieldCode::TooLong)
        );
        assert_eq!(
            code_of(with(|f| f.nickname = "Eve\u{202E}nimda".into()), "nickname"),
            Some(FieldCode::InvalidNickname)
        );
        assert_eq!(
            code_of(with(|f| f.city = "Pa\u{200B}ris".into()), "city"),
            Some(FieldCode::InvalidText)
        );
    }

    #[test]
    fn no_position_is_fine_and_the_checkbox_turns_discovery_off() {
        let mut f = form();
        f.latitude = String::new();
        f.longitude = " ".into();
        f.discoverable = None;
        let ok = validate(&f).expect("valid");
        assert_eq!((ok.changes.latitude, ok.changes.longitude), (None, None));
        assert!(!ok.changes.discoverable);
    }
}
