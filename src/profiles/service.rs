//! Profile flows: save the profile, upload a photo (check the header → store the
//! upload → row + processing job in one transaction → wake), choose the main
//! photo, delete one. Nothing half-done remains when a step fails: an upload
//! whose row could not be written is deleted, and files of deleted photos are
//! removed by a job queued in the deleting transaction.

use chrono::NaiveDateTime;

use super::completeness::refresh_completeness;
use super::imaging::{self, ImageError};
use super::input::ProfileInput;
use super::jobs as photo_jobs;
use super::photos::{self, Photo, PhotoId, MAX_PHOTOS};
use super::store::Profile;
use crate::auth::input::Person;
use crate::auth::{Principal, User, UserId};
use crate::db::transaction;
use crate::db::DbConnection;
use crate::error::{AppError, FieldCode, FieldErrors};
use crate::profiles::state::ProfilesState;

/// My account, profile and photos (the main one first), as my profile
/// page and the API show them.
pub async fn mine(
    state: &ProfilesState,
    me: &Principal,
) -> Result<(User, Profile, Vec<Photo>), AppError> {
    let id = me.id;
    state
        .db
        .primary(move |c| {
            let user = User::find(c, id)?.ok_or(AppError::LoginRequired)?;
            let profile = Profile::find(c, id)?.ok_or(AppError::NotFound)?;
            Ok((user, profile, Photo::of_user(c, id)?))
        })
        .await
}

/// Gives a phone number's pending account its nickname, sex and birthday
/// (and its profile the same sex and birthday); from then on it is a
/// verified member like any other. `false` when it was not pending.
pub fn complete_person(
    conn: &mut DbConnection,
    id: UserId,
    person: &Person,
    now: NaiveDateTime,
) -> diesel::QueryResult<bool> {
    let (sex, birthday) = (person.sex, person.birthday.date());
    transaction(conn, |c| {
        if !User::complete_profile(c, id, person.nickname.as_str(), sex, birthday, now)? {
            return Ok(false);
        }
        Profile::set_person(c, id, sex, birthday, now)?;
        Profile::refresh_in_feed(c, id)?;
        Ok(true)
    })
}

/// Saves my profile and preferences; with `first`, also completes a
/// phone number's new account (nickname, sex and birthday), in the same
/// transaction.
pub async fn save_profile(
    state: &ProfilesState,
    me: &Principal,
    input: ProfileInput,
    first: Option<Person>,
) -> Result<(), AppError> {
    let (id, now) = (me.id, state.clock.now());
    state
        .db
        .write(move |c| {
            if let Some(person) = &first {
                complete_person(c, id, person, now)?;
            }
            User::set_nickname_and_time_zone(
                c,
                id,
                input.nickname.as_str(),
                input.time_zone.name(),
                now,
            )?;
            Profile::update(c, id, &input.changes, now)?;
            refresh_completeness(c, id)?;
            Ok(())
        })
        .await?;
    announce(state, id, true).await;
    Ok(())
}

/// Tells every instance, when `changed`, that my card changed: the feed
/// pages that show me (and mine) are rebuilt.
async fn announce(state: &ProfilesState, me: UserId, changed: bool) -> bool {
    if changed {
        state.hub.members_changed(vec![me]).await;
    }
    changed
}

/// Why an upload was refused; nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRefused {
    NoFile,
    TooBig,
    LimitReached,
    Image(ImageError),
}

impl UploadRefused {
    pub fn code(self) -> FieldCode {
        match self {
            Self::NoFile => FieldCode::Required,
            Self::TooBig => FieldCode::PhotoTooBig,
            Self::LimitReached => FieldCode::PhotoLimitReached,
            Self::Image(ImageError::TooLarge) => FieldCode::ImageTooLarge,
            Self::Image(ImageError::UnsupportedType) => FieldCode::UnsupportedImage,
            Self::Image(ImageError::Corrupt | ImageError::Encode) => FieldCode::ImageCorrupt,
        }
    }

    pub fn errors(self) -> FieldErrors {
        FieldErrors::one("photo", self.code())
    }
}

async fn photo_count(state: &ProfilesState, user: UserId) -> Result<i64, AppError> {
    state
        .db
        .primary(move |c| Ok(Photo::count_of_user(c, user)?))
        .await
}

/// A new photo: the bytes are checked (type from the content, the header's
/// size and colour depth against the decoding budget), stored as a private
/// upload, and the row and its processing job are written in one
/// transaction. The first photo becomes the main one. Pixels damaged behind
/// a sound header are found by the job, which marks the photo failed.
pub async fn upload_photo(
    state: &ProfilesState,
    me: &Principal,
    bytes: Vec<u8>,
) -> Result<Result<PhotoId, UploadRefused>, AppError> {
    if bytes.is_empty() {
        return Ok(Err(UploadRefused::NoFile));
    }
    if photo_count(state, me.id).await? >= MAX_PHOTOS {
        return Ok(Err(UploadRefused::LimitReached));
    }
    // The header only: the job decodes, once, in a decode slot. A scan of
    // up to the size limit (a JPEG's end marker) stays off the executor.
    let checked = actix_web::web::block({
        let bytes = bytes.clone();
        move || imaging::inspect(&bytes).map(|_| ())
    })
    .await
    .map_err(|e| AppError::internal("image decoding", e))?;
    if let Err(e) = checked {
        return Ok(Err(UploadRefused::Image(e)));
    }
    let key = photos::new_storage_key();
    let upload = photos::upload_key(&key);
    state
        .media
        .put(&upload, bytes, "application/octet-stream")
        .await
        .map_err(|e| AppError::internal("media storage", e))?;
    let (user, now) = (me.id, state.clock.now());
    let row_key = key.clone();
    let written = state
        .jobs
        .write_and_wake(move |c| insert_photo(c, user, &row_key, now))
        .await;
    match written {
        Ok(Ok(id)) => Ok(Ok(id)),
        other => {
            // The row is not there: neither may the upload be.
            if let Err(e) = state.media.delete(&upload).await {
                tracing::error!(error = %e, "could not delete an orphan upload");
            }
            other
        }
    }
}

fn insert_photo(
    c: &mut DbConnection,
    user: UserId,
    key: &str,
    now: NaiveDateTime,
) -> Result<Result<PhotoId, UploadRefused>, AppError> {
    Profile::lock(c, user)?;
    let count = Photo::count_of_user(c, user)?;
    if count >= MAX_PHOTOS {
        return Ok(Err(UploadRefused::LimitReached));
    }
    let id = Photo::insert(c, user, key, count == 0, now)?;
    photo_jobs::queue_processing(c, id, now)?;
    Ok(Ok(id))
}

/// Makes one of my photos the main one; `false` when it is not mine.
pub async fn set_main(
    state: &ProfilesState,
    me: &Principal,
    id: PhotoId,
) -> Result<bool, AppError> {
    let user = me.id;
    let done = state
        .db
        .write(move |c| {
            if Photo::find_owned(c, user, id)?.is_none() {
                return Ok(false);
            }
            Photo::set_main(c, user, id)?;
            refresh_completeness(c, user)?;
            Ok(true)
        })
        .await?;
    Ok(announce(state, user, done).await)
}

/// Where to move a photo in my order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Earlier,
    Later,
}

impl Move {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "earlier" => Some(Self::Earlier),
            "later" => Some(Self::Later),
            _ => None,
        }
    }
}

/// Moves one of my photos one place earlier or later (moved first, it
/// becomes the main photo); `false` when it is not mine. At either end it
/// stays where it is.
pub async fn move_photo(
    state: &ProfilesState,
    me: &Principal,
    id: PhotoId,
    to: Move,
) -> Result<bool, AppError> {
    let user = me.id;
    let done = state
        .db
        .write(move |c| {
            // Serialised with uploads and other moves of this member's photos.
            Profile::lock(c, user)?;
            let mut order: Vec<PhotoId> = Photo::of_user(c, user)?.iter().map(|p| p.id).collect();
            let Some(at) = order.iter().position(|p| *p == id) else {
                return Ok(false);
            };
            let other = match to {
                Move::Earlier => at.checked_sub(1),
                Move::Later => Some(at + 1).filter(|n| *n < order.len()),
            };
            if let Some(other) = other {
                order.swap(at, other);
                Photo::reorder(c, user, &order)?;
                refresh_completeness(c, user)?;
            }
            Ok(true)
        })
        .await?;
    Ok(announce(state, user, done).await)
}

/// Removes a photo (its owner deleting it, or a moderator rejecting it):
/// the next photo becomes the main one, and its files are deleted by a job.
pub fn remove_photo(
    c: &mut DbConnection,
    photo: &Photo,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    let user = photo.user_id;
    Photo::delete(c, photo.id)?;
    if photo.is_main {
        if let Some(next) = Photo::of_user(c, user)?.first() {
            Photo::set_main(c, user, next.id)?;
        }
    }
    refresh_completeness(c, user)?;
    photo_jobs::queue_file_deletion(c, &photo.storage_key, now)
}

/// Deletes one of my photos (the next one becomes main if it was); its files
/// go by a job queued in the same transaction. `false` when it is not mine.
pub async fn delete_photo(
    state: &ProfilesState,
    me: &Principal,
    id: PhotoId,
) -> Result<bool, AppError> {
    let (user, now) = (me.id, state.clock.now());
    let done = state
        .jobs
        .write_and_wake(move |c| {
            let Some(photo) = Photo::find_owned(c, user, id)? else {
                return Ok(false);
            };
            remove_photo(c, &photo, now)?;
            Ok(true)
        })
        .await?;
    Ok(announce(state, user, done).await)
}
