//! The `oauth_identities` table: which provider accounts log in as which
//! member.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::UserId;
use crate::db::schema::oauth_identities;
use crate::db::{insert_unique, DbConnection};

/// The member a provider identity logs in as.
pub fn owner(c: &mut DbConnection, provider: &str, subject: &str) -> QueryResult<Option<UserId>> {
    oauth_identities::table
        .filter(oauth_identities::provider.eq(provider))
        .filter(oauth_identities::subject.eq(subject))
        .select(oauth_identities::user_id)
        .first(c)
        .optional()
}

/// Links an identity; `None` when it is already linked (to anyone).
pub fn link(
    c: &mut DbConnection,
    user: UserId,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<Option<()>> {
    insert_unique(c, |c| {
        diesel::insert_into(oauth_identities::table)
            .values((
                oauth_identities::user_id.eq(user),
                oauth_identities::provider.eq(provider),
                oauth_identities::subject.eq(subject),
                oauth_identities::email.eq(email),
                oauth_identities::created_at.eq(now),
            ))
            .execute(c)
            .map(|_| ())
    })
}

/// The providers a member has linked.
pub fn providers_of(c: &mut DbConnection, user: UserId) -> QueryResult<Vec<String>> {
    oauth_identities::table
        .filter(oauth_identities::user_id.eq(user))
        .order(oauth_identities::provider)
        .select(oauth_identities::provider)
        .load(c)
}

/// Removes a member's link to `provider`; the number of rows removed.
pub fn unlink(c: &mut DbConnection, user: UserId, provider: &str) -> QueryResult<usize> {
    diesel::delete(
        oauth_identities::table
            .filter(oauth_identities::user_id.eq(user))
            .filter(oauth_identities::provider.eq(provider)),
    )
    .execute(c)
}
