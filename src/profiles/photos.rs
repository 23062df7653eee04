//! The `photos` table: a member's photos, at most [`MAX_PHOTOS`], one of
//! them main. Files live in media storage under the row's random key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::UserId;
use crate::db::schema::photos;
use crate::db::DbConnection;

pub const MAX_PHOTOS: i64 = 6;

crate::id_type!(
    /// A photo's id.
    PhotoId
);

crate::text_enum!(
    /// `processing`: only the upload exists; `ready`: every size is stored;
    /// `failed`: the upload could not be processed.
    PhotoStatus {
        Processing => "processing",
        Ready => "ready",
        Failed => "failed",
    }
);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = photos)]
pub struct Photo {
    pub id: PhotoId,
    pub user_id: UserId,
    pub storage_key: String,
    pub status: PhotoStatus,
    pub is_main: bool,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new photo's storage key: 24 random bytes as lower-case hex, never
/// derived from the member or the file.
pub fn new_storage_key() -> String {
    crate::security::random::bytes(24)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The storage key of the upload waiting to be processed (private).
pub fn upload_key(storage_key: &str) -> String {
    format!("incoming/{storage_key}")
}

/// The storage key of one processed size (public).
pub fn size_key(storage_key: &str, size: u32) -> String {
    format!("{}{storage_key}-{size}.jpg", crate::storage::PUBLIC_PREFIX)
}

/// Every storage key a photo may have.
pub fn all_keys(storage_key: &str) -> Vec<String> {
    let mut keys: Vec<String> = super::imaging::SIZES
        .iter()
        .map(|s| size_key(storage_key, *s))
        .collect();
    keys.push(upload_key(storage_key));
    keys
}

impl Photo {
    /// A member's photos: the main one first, then in the member's order.
    pub fn of_user(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<Photo>> {
        photos::table
            .filter(photos::user_id.eq(user))
            .order((
                photos::is_main.desc(),
                photos::position.asc(),
                photos::id.asc(),
            ))
            .select(Photo::as_select())
            .load(conn)
    }

    /// The photos of several members, each member's main one first.
    pub fn of_users(conn: &mut DbConnection, users: &[UserId]) -> QueryResult<Vec<Photo>> {
        photos::table
            .filter(photos::user_id.eq_any(users))
            .order((
                photos::user_id,
                photos::is_main.desc(),
                photos::position.asc(),
                photos::id.asc(),
            ))
            .select(Photo::as_select())
            .load(conn)
    }

    pub fn count_of_user(conn: &mut DbConnection, user: UserId) -> QueryResult<i64> {
        photos::table
            .filter(photos::user_id.eq(user))
            .count()
            .get_result(conn)
    }

    pub fn find(conn: &mut DbConnection, id: PhotoId) -> QueryResult<Option<Photo>> {
        photos::table
            .find(id)
            .select(Photo::as_select())
            .first(conn)
            .optional()
    }

    /// A photo of this member, or `None` (someone else's photos are not found).
    pub fn find_owned(
        conn: &mut DbConnection,
        user: UserId,
        id: PhotoId,
    ) -> QueryResult<Option<Photo>> {
        photos::table
            .find(id)
            .filter(photos::user_id.eq(user))
            .select(Photo::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(
        conn: &mut DbConnection,
        user: UserId,
        storage_key: &str,
        is_main: bool,
        now: NaiveDateTime,
    ) -> QueryResult<PhotoId> {
        // Last in the member's order.
        let last: Option<i32> = photos::table
            .filter(photos::user_id.eq(user))
            .select(diesel::dsl::max(photos::position))
            .first(conn)?;
        diesel::insert_into(photos::table)
            .values((
                photos::user_id.eq(user),
                photos::storage_key.eq(storage_key),
                photos::status.eq(PhotoStatus::Processing),
                photos::is_main.eq(is_main),
                photos::position.eq(last.map_or(0, |p| p + 1)),
                photos::created_at.eq(now),
                photos::updated_at.eq(now),
            ))
            .returning(photos::id)
            .get_result(conn)
    }

    pub fn mark_ready(
        conn: &mut DbConnection,
        id: PhotoId,
        width: i32,
        height: i32,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(photos::table.find(id))
            .set((
                photos::status.eq(PhotoStatus::Ready),
                photos::width.eq(Some(width)),
                photos::height.eq(Some(height)),
                photos::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|n| n == 1)
    }

    pub fn mark_failed(
        conn: &mut DbConnection,
        id: PhotoId,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(photos::table.find(id))
            .set((
                photos::status.eq(PhotoStatus::Failed),
                photos::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Makes `id` the member's only main photo.
    pub fn set_main(conn: &mut DbConnection, user: UserId, id: PhotoId) -> QueryResult<()> {
        diesel::update(photos::table.filter(photos::user_id.eq(user)))
            .set(photos::is_main.eq(photos::id.eq(id)))
            .execute(conn)
            .map(|_| ())
    }

    /// Puts the member's photos in `order` (ids, first to last): the first
    /// becomes the main one.
    pub fn reorder(conn: &mut DbConnection, user: UserId, order: &[PhotoId]) -> QueryResult<()> {
        for (position, id) in order.iter().enumerate() {
            diesel::update(photos::table.find(*id).filter(photos::user_id.eq(user)))
                .set((
                    photos::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                    photos::is_main.eq(position == 0),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Ready photos no moderator has looked at yet, oldest first.
    pub fn unreviewed(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Photo>> {
        photos::table
            .filter(photos::reviewed_at.is_null())
            .filter(photos::status.eq(PhotoStatus::Ready))
            .order(photos::id)
            .limit(limit)
            .select(Photo::as_select())
            .load(conn)
    }

    /// Marks a photo approved; `false` if it was reviewed already.
    pub fn approve(conn: &mut DbConnection, id: PhotoId, now: NaiveDateTime) -> QueryResult<bool> {
        let changed = diesel::update(photos::table.find(id).filter(photos::reviewed_at.is_null()))
            .set(photos::reviewed_at.eq(Some(now)))
            .execute(conn)?;
        Ok(changed == 1)
    }

    pub fn delete(conn: &mut DbConnection, id: PhotoId) -> QueryResult<()> {
        diesel::delete(photos::table.find(id))
            .execute(conn)
            .map(|_| ())
    }
}
