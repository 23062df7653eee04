//! The contacts (email, phone number) of banned accounts that were deleted
//! and purged, kept as keyed hashes (HMAC under a key derived from
//! `SECRET_KEY`) for [`BAN_MEMORY`]: a sign-up, a provider's new account or
//! a phone's first login with one of them is refused, so deleting is no
//! way around a ban.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::banned_contacts;
use crate::db::DbConnection;

/// How long a purged banned account's email and phone hashes refuse a new
/// sign-up.
pub const BAN_MEMORY: TimeDelta = TimeDelta::days(3 * 365);

/// The keyed hash a banned contact (an email, a phone number) is kept as.
pub fn contact_hash(keys: &crate::security::keys::Keys, contact: &str) -> String {
    let tag = ring::hmac::sign(&keys.contact, contact.trim().to_lowercase().as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a sign-up with `contact` is refused: a banned account that was
/// deleted had it.
pub fn is_banned_contact(
    c: &mut DbConnection,
    keys: &crate::security::keys::Keys,
    contact: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let hash = contact_hash(keys, contact);
    diesel::select(diesel::dsl::exists(
        banned_contacts::table
            .filter(banned_contacts::contact_hash.eq(hash))
            .filter(banned_contacts::expires_at.gt(now)),
    ))
    .get_result(c)
}

/// Keeps `contact` of a banned account being purged.
pub fn remember(
    c: &mut DbConnection,
    keys: &crate::security::keys::Keys,
    contact: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let hash = contact_hash(keys, contact);
    crate::db::insert_unique(c, |c| {
        diesel::insert_into(banned_contacts::table)
            .values((
                banned_contacts::contact_hash.eq(&hash),
                banned_contacts::created_at.eq(now),
                banned_contacts::expires_at.eq(now + BAN_MEMORY),
            ))
            .execute(c)
    })
    .map(|_| ())
}

/// Drops the banned contacts whose time is over.
pub fn forget_old_bans(c: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(banned_contacts::table.filter(banned_contacts::expires_at.le(now))).execute(c)
}
