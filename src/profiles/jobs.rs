//! Photo jobs: `photo.process` turns an upload into the stored sizes;
//! `photo.delete_files` removes a deleted photo's files.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::completeness::refresh_completeness;
use super::imaging;
use super::photos::{self, Photo, PhotoId, PhotoStatus};
use crate::db::DbConnection;
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::storage::MediaStore;

pub const PROCESS: &str = "photo.process";
pub const DELETE_FILES: &str = "photo.delete_files";

#[derive(Serialize, Deserialize)]
struct ProcessPayload {
    photo_id: PhotoId,
}

#[derive(Serialize, Deserialize)]
struct DeletePayload {
    storage_key: String,
}

pub fn queue_processing(
    c: &mut DbConnection,
    id: PhotoId,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    enqueue(
        c,
        NewJob::new(PROCESS, &ProcessPayload { photo_id: id }, now)?,
    )
    .map(|_| ())
}

pub fn queue_file_deletion(
    c: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let payload = DeletePayload {
        storage_key: key.to_string(),
    };
    enqueue(c, NewJob::new(DELETE_FILES, &payload, now)?).map(|_| ())
}

pub fn register(r: &mut Registry) {
    r.register(PROCESS, process);
    r.register(
        DELETE_FILES,
        |ctx: JobContext, payload: String| async move {
            let DeletePayload { storage_key } = serde_json::from_str(&payload)?;
            delete_files(&ctx.media, &storage_key).await
        },
    );
}

async fn delete_files(media: &MediaStore, key: &str) -> Result<(), JobError> {
    for k in photos::all_keys(key) {
        media.delete(&k).await?;
    }
    Ok(())
}

async fn process(ctx: JobContext, payload: String) -> Result<(), JobError> {
    let ProcessPayload { photo_id } = serde_json::from_str(&payload)?;
    let Some(photo) = ctx
        .db
        .primary(move |c| Ok(Photo::find(c, photo_id)?))
        .await?
    else {
        // Deleted before it was processed: its deletion job removes the upload.
        return Ok(());
    };
    if photo.status == PhotoStatus::Ready {
        return Ok(());
    }
    let upload = photos::upload_key(&photo.storage_key);
    let Some(bytes) = ctx.media.get(&upload).await? else {
        let now = ctx.clock.now();
        ctx.db
            .write(move |c| Ok(Photo::mark_failed(c, photo_id, now)?))
            .await?;
        return Err(JobError("the upload is missing".into()));
    };
    // Decoding is where the memory goes: it waits for one of the process's
    // decode slots, and the slot is held until the sizes are made.
    let rendered = imaging::decode_slots()
        .run(move || {
            let img = imaging::decode(&bytes)?;
            let (w, h) = (img.width(), img.height());
            Ok::<_, imaging::ImageError>((imaging::renditions(img)?, w, h))
        })
        .await?;
    let (renditions, w, h) = match rendered {
        Ok(r) => r,
        Err(e) => {
            let now = ctx.clock.now();
            ctx.db
                .write(move |c| Ok(Photo::mark_failed(c, photo_id, now)?))
                .await?;
            return Err(JobError(format!("photo {photo_id}: {e}")));
        }
    };
    for r in renditions {
        let key = photos::size_key(&photo.storage_key, r.size);
        ctx.media.put(&key, r.jpeg, "image/jpeg").await?;
    }
    let (now, user) = (ctx.clock.now(), photo.user_id);
    let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    let still_there = ctx
        .db
        .write(move |c| {
            let ready = Photo::mark_ready(c, photo_id, to_i32(w), to_i32(h), now)?;
            if ready {
                refresh_completeness(c, user)?;
            }
            Ok(ready)
        })
        .await?;
    if still_there {
        // The navigation avatar may have changed.
        ctx.members_changed.tell(vec![user]);
        ctx.media.delete(&upload).await?;
    } else {
        // Deleted while it was processed: no file may outlive the row.
        delete_files(&ctx.media, &photo.storage_key).await?;
    }
    tracing::info!(photo_id = %photo_id, "photo processed");
    Ok(())
}
