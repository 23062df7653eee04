//! Photo review: photos no moderator has seen yet, oldest first; approve,
//! or reject with a reason — a rejected photo disappears for members at
//! once and its files are deleted by a job. Each decision is audited.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::audit::Actor;
use super::changes;
use super::guard::Staff;
use crate::admin::state::AdminState;
use crate::auth::users::Names;
use crate::error::AppError;
use crate::profiles::imaging::SIZES;
use crate::profiles::photos::{size_key, Photo, PhotoId};
use crate::web::{redirect, Page};

#[derive(Template)]
#[template(path = "admin/photos.html")]
struct QueuePage {
    page: Page,
    staff: Staff,
    /// (photo, thumbnail URL, the member's name)
    photos: Vec<(Photo, String, String)>,
}

pub async fn queue(
    state: web::Data<AdminState>,
    page: Page,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let (photos, names) = state
        .db
        .primary(|c| {
            let photos = Photo::unreviewed(c, 60)?;
            let members: Vec<_> = photos.iter().map(|p| p.user_id).collect();
            let names = Names::of(c, &members)?;
            Ok((photos, names))
        })
        .await?;
    let photos = photos
        .into_iter()
        .map(|p| {
            let url = crate::storage::public_url(
                &state.settings.media,
                &size_key(&p.storage_key, SIZES[0]),
            );
            let name = names.name(&p.user_id);
            (p, url, name)
        })
        .collect();
    crate::web::ok(&QueuePage {
        page,
        staff,
        photos,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RejectForm {
    reason: String,
}

pub async fn approve(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<PhotoId>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::staff(&staff, &req, state.clock.now());
    changes::review_photo(&state, actor, path.into_inner(), None).await?;
    Ok(redirect("/admin/photos?notice=admin_photo_approved"))
}

pub async fn reject(
    req: HttpRequest,
    state: web::Data<AdminState>,
    staff: Staff,
    path: web::Path<PhotoId>,
    form: web::Form<RejectForm>,
) -> Result<HttpResponse, AppError> {
    let reason: String = form.into_inner().reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(AppError::InvalidInput);
    }
    let actor = Actor::staff(&staff, &req, state.clock.now());
    changes::review_photo(&state, actor, path.into_inner(), Some(reason)).await?;
    Ok(redirect("/admin/photos?notice=admin_photo_rejected"))
}
