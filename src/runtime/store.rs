//! The `runtime_settings` table.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::runtime_settings;
use crate::db::{insert_unique, DbConnection};

pub fn all(c: &mut DbConnection) -> QueryResult<HashMap<String, String>> {
    Ok(runtime_settings::table
        .select((runtime_settings::key, runtime_settings::value))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect())
}

/// Sets `key` to `value`: an update, or an insert for a key never set (a
/// concurrent first insert loses to the unique key and updates instead).
pub fn put(c: &mut DbConnection, key: &str, value: &str, now: NaiveDateTime) -> QueryResult<()> {
    let update = |c: &mut DbConnection| {
        diesel::update(runtime_settings::table.find(key))
            .set((
                runtime_settings::value.eq(value),
                runtime_settings::updated_at.eq(now),
            ))
            .execute(c)
    };
    if update(c)? == 1 {
        return Ok(());
    }
    let inserted = insert_unique(c, |c| {
        diesel::insert_into(runtime_settings::table)
            .values((
                runtime_settings::key.eq(key),
                runtime_settings::value.eq(value),
                runtime_settings::updated_at.eq(now),
            ))
            .execute(c)
    });
    if inserted?.is_none() {
        update(c)?;
    }
    Ok(())
}
