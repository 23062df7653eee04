//! My account and profile through the API: `GET /api/v1/me` (the profile
//! form's fields as JSON, and my photos), `PUT /api/v1/me/profile` (the
//! same validation as the form; 422 with a code per field) and
//! `POST /api/v1/me/photos` (multipart `photo`, as the form uploads it).

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::bearer::ApiUser;
use crate::accounts::signup::PersonForm;
use crate::auth::input::is_no_email;
use crate::error::{AppError, ErrorCode, FieldCode, FieldErrors};
use crate::profiles::input::{self, ProfileForm};
use crate::profiles::photos::PhotoStatus;
use crate::profiles::public::PhotoUrls;
use crate::profiles::routes::{form_of, read_photo, refusal_status};
use crate::profiles::service;
use crate::profiles::state::ProfilesState;

pub fn configure(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/me", web::get().to(me))
        .route("/me/profile", web::put().to(save))
        .route("/me/photos", web::post().to(upload))
}

/// A problem document with the code of each refused field.
pub fn field_problem(status: StatusCode, errors: &FieldErrors) -> HttpResponse {
    let mut body =
        crate::web::errors::problem(status, ErrorCode::InvalidInput, "Some fields were refused.");
    let fields: serde_json::Map<String, Value> = errors
        .0
        .iter()
        .map(|e| (e.field.to_string(), Value::from(e.code.as_str())))
        .collect();
    body["errors"] = Value::Object(fields);
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(body.to_string())
}

fn number(raw: &str) -> Value {
    raw.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

/// `GET /api/v1/me`.
async fn me(
    ApiUser(me): ApiUser,
    state: web::Data<ProfilesState>,
) -> Result<HttpResponse, AppError> {
    let (user, profile, photos) = service::mine(&state, &me).await?;
    let form = form_of(&user, &profile, state.settings.time_zone);
    let media = &state.settings.media;
    let photos: Vec<Value> = photos
        .iter()
        .map(|p| {
            let url = PhotoUrls::of(media, &p.storage_key).large;
            json!({
                "id": p.id,
                "main": p.is_main,
                "status": p.status.as_str(),
                "url": (p.status == PhotoStatus::Ready).then(|| state.settings.absolute_url(&url)),
            })
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "id": user.id,
            // An account made by a phone number has no address.
            "email": (!is_no_email(&user.email)).then_some(&user.email),
            "email_verified": user.email_verified_at.is_some() && !is_no_email(&user.email),
            "language": user.language,
            "profile_complete": !user.profile_pending,
            // Given once: by the sign-up form, or while the profile is incomplete.
            "sex": (!user.profile_pending).then(|| user.sex.as_str()),
            "birthday": (!user.profile_pending).then(|| user.birthday.to_string()),
            "profile": {
                "nickname": form.nickname,
                "bio": form.bio,
                "city": form.city,
                "latitude": number(&form.latitude),
                "longitude": number(&form.longitude),
                "time_zone": form.time_zone,
                "want_sex": form.want_sex,
                "min_age": profile.min_age,
                "max_age": profile.max_age,
                "max_distance_km": profile.max_distance_km,
                "discoverable": profile.discoverable,
                "hide_age": profile.hide_age,
                "hide_distance": profile.hide_distance,
            },
            "photos": photos,
        })))
}

/// The profile as JSON; a field left out keeps its value.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ProfileBody {
    nickname: Option<String>,
    bio: Option<String>,
    city: Option<String>,
    latitude: Option<Option<f64>>,
    longitude: Option<Option<f64>>,
    time_zone: Option<String>,
    want_sex: Option<String>,
    min_age: Option<i64>,
    max_age: Option<i64>,
    max_distance_km: Option<i64>,
    discoverable: Option<bool>,
    hide_age: Option<bool>,
    hide_distance: Option<bool>,
    /// Only while the profile is incomplete (a phone number's new account).
    sex: Option<String>,
    birthday: Option<String>,
}

/// `PUT /api/v1/me/profile`: validated as the form is; 422 with each
/// refused field's code, and nothing saved.
async fn save(
    ApiUser(me): ApiUser,
    state: web::Data<ProfilesState>,
    body: web::Json<ProfileBody>,
) -> Result<HttpResponse, AppError> {
    let (user, profile, _) = service::mine(&state, &me).await?;
    let b = body.into_inner();
    let mut form: ProfileForm = form_of(&user, &profile, state.settings.time_zone);
    let coordinate = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    if let Some(v) = b.nickname {
        form.nickname = v;
    }
    if let Some(v) = b.bio {
        form.bio = v;
    }
    if let Some(v) = b.city {
        form.city = v;
    }
    if let Some(v) = b.latitude {
        form.latitude = coordinate(v);
    }
    if let Some(v) = b.longitude {
        form.longitude = coordinate(v);
    }
    if let Some(v) = b.time_zone {
        form.time_zone = v;
    }
    if let Some(v) = b.want_sex {
        form.want_sex = v;
    }
    if let Some(v) = b.min_age {
        form.min_age = v.to_string();
    }
    if let Some(v) = b.max_age {
        form.max_age = v.to_string();
    }
    if let Some(v) = b.max_distance_km {
        form.max_distance_km = v.to_string();
    }
    if let Some(v) = b.discoverable {
        form.discoverable = v.then(|| "on".to_string());
    }
    if let Some(v) = b.hide_age {
        form.hide_age = v.then(|| "on".to_string());
    }
    if let Some(v) = b.hide_distance {
        form.hide_distance = v.then(|| "on".to_string());
    }
    // A phone number's new account gives nickname, sex and birthday with
    // its first profile; afterwards sex and birthday are not changed here.
    let mut errors = FieldErrors::default();
    let first = if user.profile_pending {
        let person = PersonForm {
            nickname: form.nickname.clone(),
            sex: b.sex.unwrap_or_default(),
            birthday: b.birthday.unwrap_or_default(),
        };
        person
            .validate(state.clock.today())
            .map_err(|e| errors.0.extend(e.0))
            .ok()
    } else {
        for (field, given) in [("sex", &b.sex), ("birthday", &b.birthday)] {
            if given.is_some() {
                errors.push(field, FieldCode::ReadOnly);
            }
        }
        None
    };
    match input::validate(&form) {
        Ok(valid) if errors.is_empty() => {
            service::save_profile(&state, &me, valid, first).await?;
            Ok(HttpResponse::NoContent().finish())
        }
        Ok(_) => Ok(field_problem(StatusCode::UNPROCESSABLE_ENTITY, &errors)),
        Err(more) => {
            errors.0.extend(more.0);
            Ok(field_problem(StatusCode::UNPROCESSABLE_ENTITY, &errors))
        }
    }
}

/// `POST /api/v1/me/photos`: 201 with the photo's id (processed by a job:
/// `GET /api/v1/me` shows its status).
async fn upload(
    req: HttpRequest,
    ApiUser(me): ApiUser,
    state: web::Data<ProfilesState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let multipart = Multipart::new(req.headers(), payload);
    let outcome = match read_photo(multipart, state.settings.media.photo_max_bytes).await? {
        Ok(bytes) => service::upload_photo(&state, &me, bytes).await?,
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(id) => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, "/api/v1/me"))
            .json(json!({ "id": id, "status": "processing" }))),
        Err(refused) => Ok(field_problem(refusal_status(refused), &refused.errors())),
    }
}
