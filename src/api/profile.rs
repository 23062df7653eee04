//! My account and profile through the API: `GET /api/v1/me` (the profile
//! form's fields as JSON, and my photos), `PUT /api/v1/me/profile` (the
//! same validation as the form; 422 with a code per field) and
//! `POST /api/v1/me/photos` (multipart `photo`, as the form uploads it).

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::bearer::ApiUser;
use super::schema::{Me, MyPhoto, MyProfile, PhotoUpload, Problem, Uploaded};
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
pub fn field_problem(req: &HttpRequest, status: StatusCode, errors: &FieldErrors) -> HttpResponse {
    let tr = crate::web::page::tr_for_api(req);
    let detail = tr.t("error.fields_refused");
    let mut body = crate::web::errors::problem(status, ErrorCode::InvalidInput, detail);
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

fn number(raw: &str) -> Option<f64> {
    raw.parse::<f64>().ok()
}

/// My account, profile and photos.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, body = Me, description = "Me")))]
pub(super) async fn me(
    ApiUser(me): ApiUser,
    state: web::Data<ProfilesState>,
) -> Result<HttpResponse, AppError> {
    let (user, profile, photos) = service::mine(&state, &me).await?;
    let form = form_of(&user, &profile, state.settings.time_zone);
    let media = &state.settings.media;
    let photos = photos
        .iter()
        .map(|p| {
            let url = PhotoUrls::of(media, &p.storage_key).large;
            MyPhoto {
                id: p.id.0,
                main: p.is_main,
                status: p.status.as_str().to_string(),
                url: (p.status == PhotoStatus::Ready).then(|| state.settings.absolute_url(&url)),
            }
        })
        .collect();
    let has_email = !is_no_email(&user.email);
    let complete = !user.profile_pending;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Me {
            id: user.id.0,
            // An account made by a phone number has no address.
            email: has_email.then(|| user.email.clone()),
            email_verified: user.email_verified_at.is_some() && has_email,
            language: user.language.clone(),
            profile_complete: complete,
            // Given once: by the sign-up form, or while the profile is incomplete.
            sex: complete.then(|| user.sex.as_str().to_string()),
            birthday: complete.then(|| user.birthday.to_string()),
            profile: MyProfile {
                nickname: form.nickname,
                bio: form.bio,
                city: form.city,
                latitude: number(&form.latitude),
                longitude: number(&form.longitude),
                time_zone: form.time_zone,
                want_sex: form.want_sex,
                min_age: profile.min_age,
                max_age: profile.max_age,
                max_distance_km: profile.max_distance_km,
                discoverable: profile.discoverable,
                hide_age: profile.hide_age,
                hide_distance: profile.hide_distance,
            },
            photos,
        }))
}

/// The profile as JSON; a field left out keeps its value.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ProfileBody {
    nickname: Option<String>,
    bio: Option<String>,
    city: Option<String>,
    /// Null clears the position (a picked city then gives its own).
    #[schema(value_type = Option<f64>)]
    latitude: Option<Option<f64>>,
    #[schema(value_type = Option<f64>)]
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

/// Saves my profile: validated as the form is; 422 with each refused
/// field's code, and nothing saved.
#[utoipa::path(put, path = "/api/v1/me/profile", tag = "account", request_body = ProfileBody,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Saved"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A code per refused field in `errors`"),
    ))]
pub(super) async fn save(
    req: HttpRequest,
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
        Ok(_) => Ok(field_problem(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            &errors,
        )),
        Err(more) => {
            errors.0.extend(more.0);
            Ok(field_problem(
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errors,
            ))
        }
    }
}

/// Uploads a photo: 201 with its id (processed by a job: `GET /api/v1/me`
/// shows its status).
#[utoipa::path(post, path = "/api/v1/me/photos", tag = "account",
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, body = Uploaded, description = "Taken for processing"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`photo_limit_reached` in `errors.photo`"),
        (status = 413, body = Problem, content_type = "application/problem+json", description = "`photo_too_big` in `errors.photo`"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "`unsupported_image` in `errors.photo`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "No photo, or a damaged or too large image"),
    ))]
pub(super) async fn upload(
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
            .json(Uploaded {
                id: id.0,
                status: PhotoStatus::Processing.as_str().to_string(),
            })),
        Err(refused) => Ok(field_problem(
            &req,
            refusal_status(refused),
            &refused.errors(),
        )),
    }
}
