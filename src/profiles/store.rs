//! The `profiles` table: what the feed filters and sorts on, one row per
//! member, created with the account.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::{Sex, UserId};
use crate::db::schema::{profiles, users};
use crate::db::DbConnection;

crate::text_enum!(
    /// Whom a member wants to see: any combination of the sexes, stored as
    /// one text value. `any` is everyone (the value members chose before
    /// non-binary existed keeps that meaning: "Everyone").
    WantSex {
        Male => "male",
        Female => "female",
        NonBinary => "nonbinary",
        FemaleMale => "female,male",
        FemaleNonBinary => "female,nonbinary",
        MaleNonBinary => "male,nonbinary",
        Any => "any",
    }
);

impl WantSex {
    /// The sexes this choice shows.
    pub fn sexes(self) -> &'static [Sex] {
        match self {
            Self::Male => &[Sex::Male],
            Self::Female => &[Sex::Female],
            Self::NonBinary => &[Sex::NonBinary],
            Self::FemaleMale => &[Sex::Female, Sex::Male],
            Self::FemaleNonBinary => &[Sex::Female, Sex::NonBinary],
            Self::MaleNonBinary => &[Sex::Male, Sex::NonBinary],
            Self::Any => &[Sex::Female, Sex::Male, Sex::NonBinary],
        }
    }

    /// Every choice that shows members of `sex` (the other half of the
    /// feed's two-way fit).
    pub fn showing(sex: Sex) -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|w| w.sexes().contains(&sex))
            .collect()
    }
}

/// A profile row (also inserted whole when seeding).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
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
    /// Discoverable, verified and active: who the feed may show.
    pub in_feed: bool,
    /// `floor(latitude)` and `floor(longitude)`: the feed's index cells.
    pub lat_band: Option<i32>,
    pub lng_band: Option<i32>,
    /// The city, trimmed and lower-cased, for "same city" matching.
    pub city_key: String,
    /// Others do not see my age (the age filters still apply).
    pub hide_age: bool,
    /// Others do not see how far I am.
    pub hide_distance: bool,
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
    pub hide_age: bool,
    pub hide_distance: bool,
}

/// The feed's latitude band: whole degrees, rounded down.
pub fn lat_band(latitude: f64) -> i32 {
    latitude.floor().clamp(-90.0, 90.0) as i32
}

/// The feed's longitude band: whole degrees, rounded down.
pub fn lng_band(longitude: f64) -> i32 {
    longitude.floor().clamp(-180.0, 180.0) as i32
}

/// A city as compared for "same city": trimmed and lower-case.
pub fn city_key(city: &str) -> String {
    city.trim().to_lowercase()
}

impl Profile {
    pub fn insert_many(conn: &mut DbConnection, rows: &[Profile]) -> QueryResult<usize> {
        crate::db::dialect::per_backend(
            conn,
            |pg| {
                diesel::insert_into(profiles::table)
                    .values(rows)
                    .execute(pg)
            },
            |sq| {
                diesel::insert_into(profiles::table)
                    .values(rows)
                    .execute(sq)
            },
        )
    }

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

    /// Sex and birthday, given once by an account made by a phone number.
    pub fn set_person(
        conn: &mut DbConnection,
        user: UserId,
        sex: Sex,
        birthday: NaiveDate,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(profiles::table.find(user))
            .set((
                profiles::sex.eq(sex),
                profiles::birthday.eq(birthday),
                profiles::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn find_many(conn: &mut DbConnection, users: &[UserId]) -> QueryResult<Vec<Profile>> {
        profiles::table
            .filter(profiles::user_id.eq_any(users))
            .select(Profile::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConnection, user: UserId) -> QueryResult<Option<Profile>> {
        profiles::table
            .find(user)
            .select(Profile::as_select())
            .first(conn)
            .optional()
    }

    /// These members' profiles (those that exist), locked until the
    /// transaction ends, in id order: two transactions that lock overlapping
    /// sets this way wait for each other instead of deadlocking.
    pub fn find_all_locked(conn: &mut DbConnection, users: &[UserId]) -> QueryResult<Vec<Profile>> {
        let rows = profiles::table
            .filter(profiles::user_id.eq_any(users))
            .order(profiles::user_id);
        let plain = rows.clone();
        crate::db::dialect::with_row_locks(
            conn,
            |pg| rows.select(Profile::as_select()).for_update().load(pg),
            |c| plain.select(Profile::as_select()).load(c),
        )
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

    /// Saves what the member edited, with the columns derived from it.
    pub fn update(
        conn: &mut DbConnection,
        user: UserId,
        changes: &ProfileChanges,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(profiles::table.find(user))
            .set((
                changes,
                profiles::lat_band.eq(changes.latitude.map(lat_band)),
                profiles::lng_band.eq(changes.longitude.map(lng_band)),
                profiles::city_key.eq(city_key(&changes.city)),
                profiles::updated_at.eq(now),
            ))
            .execute(conn)?;
        Self::refresh_in_feed(conn, user)
    }

    /// Recomputes `in_feed` (discoverable, verified and active) after any of
    /// the three changed.
    pub fn refresh_in_feed(conn: &mut DbConnection, user: UserId) -> QueryResult<()> {
        let eligible = users::table
            .find(user)
            .select(users::email_verified_at.is_not_null().and(users::is_active))
            .first::<bool>(conn)
            .optional()?
            .unwrap_or(false);
        let discoverable = profiles::table
            .find(user)
            .select(profiles::discoverable)
            .first::<bool>(conn)
            .optional()?
            .unwrap_or(false);
        diesel::update(profiles::table.find(user))
            .set(profiles::in_feed.eq(discoverable && eligible))
            .execute(conn)
            .map(|_| ())
    }

    /// [`Profile::touch`] for several members at once (a group of swipes).
    pub fn touch_all(
        conn: &mut DbConnection,
        users: &[UserId],
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let stale = now - chrono::TimeDelta::minutes(15);
        diesel::update(
            profiles::table
                .filter(profiles::user_id.eq_any(users))
                .filter(profiles::last_active_at.lt(stale)),
        )
        .set(profiles::last_active_at.eq(now))
        .execute(conn)
        .map(|_| ())
    }

    /// The member was active now (a login, a swipe): the feed's recency. At
    /// most one write a quarter of an hour (the column is in the feed's indexes).
    pub fn touch(conn: &mut DbConnection, user: UserId, now: NaiveDateTime) -> QueryResult<()> {
        let stale = now - chrono::TimeDelta::minutes(15);
        diesel::update(
            profiles::table
                .find(user)
                .filter(profiles::last_active_at.lt(stale)),
        )
        .set(profiles::last_active_at.eq(now))
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
