//! Photo review: photos no moderator has seen yet, oldest first; approve,
//! or reject with a reason — a rejected photo disappears for members at
//! once and its files are deleted by a job. Each decision is audited.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::audit::Actor;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::db::transaction;
use crate::error::AppError;
use crate::profiles::photos::{size_key, Photo, PhotoId};
use crate::profiles::service::remove_photo;
use crate::web::{redirect, Page};

#[derive(Template)]
#[template(path = "admin/photos.html")]
struct QueuePage {
    page: Page,
    staff: Staff,
    /// (photo, thumbnail URL)
    photos: Vec<(Photo, String)>,
}

pub async fn queue(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let photos = state.db.primary(|c| Ok(Photo::unreviewed(c, 60)?)).await?;
    let photos = photos
        .into_iter()
        .map(|p| {
            let url =
                crate::storage::public_url(&state.settings.media, &size_key(&p.storage_key, 320));
            (p, url)
        })
        .collect();
    crate::web::ok(&QueuePage {
        page,
        staff,
        photos,
    })
}

fn photo_id(path: &str) -> Result<PhotoId, AppError> {
    super::path_id(path).map(PhotoId)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RejectForm {
    reason: String,
}

async fn decide(
    state: &AdminState,
    req: &HttpRequest,
    staff: &Staff,
    id: PhotoId,
    reject: Option<String>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::staff(staff, req, state);
    let now = actor.now;
    let done = state
        .jobs
        .write_and_wake(move |c| {
            Ok(transaction(c, |c| -> diesel::QueryResult<Option<bool>> {
                let Some(photo) = Photo::find(c, id)? else {
                    return Ok(None);
                };
                let action = match &reject {
                    Some(_) => {
                        remove_photo(c, &photo, now)?;
                        "photo.reject"
                    }
                    None => {
                        if !Photo::approve(c, id, now)? {
                            // Reviewed already: nothing to do.
                            return Ok(Some(false));
                        }
                        "photo.approve"
                    }
                };
                actor.record(
                    c,
                    action,
                    ("photo", id.0.to_string()),
                    Some(serde_json::json!({ "owner": photo.user_id.0 })),
                    Some(match &reject {
                        Some(reason) => {
                            serde_json::json!({ "deleted": true, "reason": reason })
                        }
                        None => serde_json::json!({ "approved": true }),
                    }),
                )?;
                Ok(Some(true))
            })?)
        })
        .await?;
    match done {
        Some(true) => Ok(redirect("/admin/photos")),
        Some(false) => Err(AppError::InvalidInput),
        None => Err(AppError::NotFound),
    }
}

pub async fn approve(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    decide(&state, &req, &staff, photo_id(&path)?, None).await
}

pub async fn reject(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<RejectForm>,
) -> Result<HttpResponse, AppError> {
    let id = photo_id(&path)?;
    let reason: String = form.into_inner().reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(AppError::InvalidInput);
    }
    decide(&state, &req, &staff, id, Some(reason)).await
}
