//! The `profiles` table: what the feed filters and sorts on, one row per
//! member, created with the account.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::{Sex, UserId};
use crate::db::schema::profiles;
use crate::db::DbConnection;

crate::text_enum!(
    /// Whom a member wants to see.
    WantSex {
        Male => "male",
        Female => "female",
        Any => "any",
    }
);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles)]
pub struct Profile {
    pub user_id: UserId,
    pub sex: Sex,
    pub birthday: NaiveDate,
    pub bio: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub want_sex: WantSex,
    pub min_age: i32,
    pub max_age: i32,
    pub max_distance_km: i32,
    pub discoverable: bool,
    pub completeness: i32,
    pub last_active_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The fields a member edits on `/profile`.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = profiles, treat_none_as_null = true)]
pub struct ProfileChanges {
    pub bio: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub want_sex: WantSex,
    pub min_age: i32,
    pub max_age: i32,
    pub max_distance_km: i32,
    pub discoverable: bool,
}

impl Profile {
    /// The profile of a new member, with default preferences.
    pub fn create(
        conn: &mut DbConnection,
        user: UserId,
        sex: Sex,
        birthday: NaiveDate,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(profiles::table)
            .values((
                profiles::user_id.eq(user),
                profiles::sex.eq(sex),
                profiles::birthday.eq(birthday),
                profiles::last_active_at.eq(now),
                profiles::created_at.eq(now),
                profiles::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConnection, user: UserId) -> QueryResult<Option<Profile>> {
        profiles::table
            .find(user)
            .select(Profile::as_select())
            .first(conn)
            .optional()
    }

    /// Locks the member's profile row until the transaction ends (PostgreSQL;
    /// SQLite's immediate transaction already serialises writers), so two
    /// concurrent uploads cannot both take the last photo slot.
    pub fn lock(conn: &mut DbConnection, user: UserId) -> QueryResult<()> {
        let row = profiles::table.find(user).select(profiles::user_id);
        crate::db::dialect::with_row_locks(
            conn,
            |pg| row.for_update().first::<UserId>(pg),
            |c| row.first::<UserId>(c),
        )
        .map(|_| ())
    }

    pub fn update(
        conn: &mut DbConnection,
        user: UserId,
        changes: &ProfileChanges,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(profiles::table.find(user))
            .set((changes, profiles::updated_at.eq(now)))
            .execute(conn)
            .map(|_| ())
    }

    pub fn set_completeness(conn: &mut DbConnection, user: UserId, value: i32) -> QueryResult<()> {
        diesel::update(profiles::table.find(user))
            .set(profiles::completeness.eq(value))
            .execute(conn)
            .map(|_| ())
    }
}
