//! `/profile` (my profile, preferences and photos) and `/media/` (photo files
//! in development; nginx serves them in production).

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;

use super::input::{self, ProfileForm};
use super::photos::{PhotoId, PhotoStatus, MAX_PHOTOS};
use super::public::{PhotoUrls, PublicProfile};
use super::service::{self, UploadRefused};
use super::store::Profile;
use crate::auth::{Principal, User};
use crate::error::AppError;
use crate::profiles::state::ProfilesState;
use crate::storage::{check_key, PUBLIC_PREFIX};
use crate::web::{redirect, render, FormErrors, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/profile")
            .route(web::get().to(show))
            .route(web::post().to(save)),
    )
    .route("/profile/cities", web::get().to(cities))
    .route("/profile/photos", web::post().to(upload))
    .route("/profile/photos/{id}/main", web::post().to(set_main))
    .route("/profile/photos/{id}/move", web::post().to(move_photo))
    .route("/profile/photos/{id}/delete", web::post().to(delete));
}

/// `/media/` served by the app itself (development, or behind a proxy
/// without a media location). Only processed photos are ever served.
pub fn configure_media(cfg: &mut web::ServiceConfig) {
    cfg.route("/media/{key}*", web::get().to(media));
}

/// One photo in my photo manager.
struct MyPhoto {
    id: PhotoId,
    ready: bool,
    failed: bool,
    is_main: bool,
    urls: PhotoUrls,
}

#[derive(Template)]
#[template(path = "profiles/edit.html")]
struct ProfilePage {
    page: Page,
    form: ProfileForm,
    errors: FormErrors,
    photos: Vec<MyPhoto>,
    can_add_photo: bool,
    card: PublicProfile,
    /// The time zones to pick from, by region.
    zones: &'static [super::zones::Group],
    /// The member chose a time zone (else the browser's is proposed).
    zone_chosen: bool,
    max_photos: i64,
}

impl ProfilePage {
    /// The form's zone when the list does not hold it (an old name): offered too.
    fn unlisted_zone(&self) -> Option<&str> {
        (!super::zones::listed(&self.form.time_zone)).then_some(self.form.time_zone.as_str())
    }
}

/// The form as stored, for the first view of the page (and the API's `me`).
pub fn form_of(user: &User, profile: &Profile, site_tz: chrono_tz::Tz) -> ProfileForm {
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    ProfileForm {
        nickname: user.nickname.clone(),
        bio: profile.bio.clone(),
        city: profile.city.clone(),
        latitude: num(profile.latitude),
        longitude: num(profile.longitude),
        time_zone: user
            .time_zone
            .clone()
            .unwrap_or_else(|| site_tz.name().to_string()),
        want_sex: profile.want_sex.as_str().to_string(),
        min_age: profile.min_age.to_string(),
        max_age: profile.max_age.to_string(),
        max_distance_km: profile.max_distance_km.to_string(),
        discoverable: profile.discoverable.then(|| "on".to_string()),
        hide_age: profile.hide_age.then(|| "on".to_string()),
        hide_distance: profile.hide_distance.then(|| "on".to_string()),
    }
}

/// Renders my profile page with `form` (as stored, or as just posted).
async fn page(
    state: &ProfilesState,
    page: Page,
    me: &Principal,
    form: Option<ProfileForm>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (user, profile, photos) = service::mine(state, me).await?;
    let media = &state.settings.media;
    let card = PublicProfile::new(
        &user.nickname,
        &profile,
        &photos,
        None,
        state.clock.today(),
        media,
    );
    let form = form.unwrap_or_else(|| form_of(&user, &profile, state.settings.time_zone));
    let count = i64::try_from(photos.len()).unwrap_or(i64::MAX);
    let photos = photos
        .into_iter()
        .map(|p| MyPhoto {
            id: p.id,
            ready: p.status == PhotoStatus::Ready,
            failed: p.status == PhotoStatus::Failed,
            is_main: p.is_main,
            urls: PhotoUrls::of(media, &p.storage_key),
        })
        .collect();
    render(
        status,
        &ProfilePage {
            page,
            form,
            errors,
            photos,
            can_add_photo: count < MAX_PHOTOS,
            card,
            zones: super::zones::groups(),
            zone_chosen: user.time_zone.is_some(),
            max_photos: MAX_PHOTOS,
        },
    )
}

async fn show(
    state: web::Data<ProfilesState>,
    page_ctx: Page,
    me: Principal,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        page_ctx,
        &me,
        None,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn save(
    state: web::Data<ProfilesState>,
    page_ctx: Page,
    me: Principal,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    match input::validate(&form) {
        Ok(valid) => {
            service::save_profile(&state, &me, valid, None).await?;
            Ok(redirect("/profile?notice=profile_saved"))
        }
        Err(errors) => {
            page(
                &state,
                page_ctx,
                &me,
                Some(form),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The bytes of the multipart field `photo`, at most `limit` of them.
pub async fn read_photo(
    mut multipart: Multipart,
    limit: usize,
) -> Result<Result<Vec<u8>, UploadRefused>, AppError> {
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| AppError::InvalidInput)?;
        if field.name() != Some("photo") {
            // Drain other fields (at most the form limit) and go on.
            let mut seen = 0usize;
            while let Some(chunk) = field.next().await {
                seen += chunk.map_err(|_| AppError::InvalidInput)?.len();
                if seen > crate::web::forms::FORM_LIMIT {
                    return Err(AppError::PayloadTooLarge);
                }
            }
            continue;
        }
        let mut bytes = Vec::new();
        let mut too_big = false;
        let mut seen = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::InvalidInput)?;
            seen += chunk.len();
            if seen > limit {
                // Read on (discarding) so the browser gets the answer rather
                // than a reset connection; past a hard bound, just refuse.
                too_big = true;
                bytes = Vec::new();
                if seen > limit.saturating_mul(4) {
                    return Err(AppError::PayloadTooLarge);
                }
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(if too_big {
            Err(UploadRefused::TooBig)
        } else {
            Ok(bytes)
        });
    }
    Ok(Err(UploadRefused::NoFile))
}

pub fn refusal_status(r: UploadRefused) -> StatusCode {
    match r {
        UploadRefused::NoFile => StatusCode::BAD_REQUEST,
        UploadRefused::TooBig => StatusCode::PAYLOAD_TOO_LARGE,
        UploadRefused::LimitReached => StatusCode::CONFLICT,
        UploadRefused::Image(super::imaging::ImageError::UnsupportedType) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        UploadRefused::Image(_) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn upload(
    req: HttpRequest,
    state: web::Data<ProfilesState>,
    page_ctx: Page,
    me: Principal,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let multipart = Multipart::new(req.headers(), payload);
    let outcome = match read_photo(multipart, state.settings.media.photo_max_bytes).await? {
        Ok(bytes) => service::upload_photo(&state, &me, bytes).await?,
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(_) => Ok(redirect("/profile?notice=photo_uploaded")),
        Err(refused) => {
            page(
                &state,
                page_ctx,
                &me,
                None,
                refused.errors(),
                refusal_status(refused),
            )
            .await
        }
    }
}

async fn set_main(
    state: web::Data<ProfilesState>,
    me: Principal,
    path: web::Path<PhotoId>,
) -> Result<HttpResponse, AppError> {
    if !service::set_main(&state, &me, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/profile?notice=photo_main_set"))
}

#[derive(serde::Deserialize)]
struct CityQuery {
    #[serde(default)]
    q: String,
}

#[derive(serde::Serialize)]
struct CitySuggestion {
    label: String,
    latitude: f64,
    longitude: f64,
}

/// Up to this many suggestions an answer.
const CITY_SUGGESTIONS: usize = 8;

/// `GET /profile/cities?q=par`: the profile form's city suggestions, as
/// JSON, Chinese names first for a Chinese page or a query in Chinese.
async fn cities(_me: Principal, page: Page, query: web::Query<CityQuery>) -> HttpResponse {
    let chinese = page.t.lang().starts_with("zh") || !query.q.is_ascii();
    let found: Vec<CitySuggestion> = super::cities::suggest(&query.q, CITY_SUGGESTIONS)
        .into_iter()
        .map(|c| CitySuggestion {
            label: c.label(chinese),
            latitude: c.latitude,
            longitude: c.longitude,
        })
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .json(found)
}

#[derive(serde::Deserialize)]
struct MoveForm {
    #[serde(default)]
    to: String,
}

/// `to` is `earlier` or `later`; anything else is refused and moves nothing.
async fn move_photo(
    state: web::Data<ProfilesState>,
    me: Principal,
    path: web::Path<PhotoId>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    let to = service::Move::parse(form.to.trim()).ok_or(AppError::InvalidInput)?;
    if !service::move_photo(&state, &me, path.into_inner(), to).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/profile?notice=photo_moved#my-photos"))
}

async fn delete(
    state: web::Data<ProfilesState>,
    me: Principal,
    path: web::Path<PhotoId>,
) -> Result<HttpResponse, AppError> {
    if !service::delete_photo(&state, &me, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/profile?notice=photo_deleted"))
}

async fn media(
    state: web::Data<ProfilesState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = path.into_inner();
    if !key.starts_with(PUBLIC_PREFIX) || !key.ends_with(".jpg") || check_key(&key).is_err() {
        return Err(AppError::NotFound);
    }
    let bytes = state
        .media
        .get(&key)
        .await
        .map_err(|e| AppError::internal("media storage", e))?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        // Keys are random and never reused: the file never changes.
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes))
}
