//! Closing an account, the mechanism a ban and a deletion share: the
//! account is marked (banned, or deleted by its member), every session
//! ends (on every instance: the session rows go), it leaves discovery at
//! once, and its matches close for the other side; after the commit the
//! member's sockets sign out everywhere and the other sides hear it.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::auth::{sessions, User, UserId};
use crate::db::DbConnection;
use crate::matches::store::Match;
use crate::profiles::store::Profile;
use crate::realtime::Hub;

/// Closes the account inside the caller's transaction, `mark` saying why
/// (`User::ban`, `User::mark_deleted`); returns its matches, for
/// [`announce`].
pub fn close(
    c: &mut DbConnection,
    id: UserId,
    mark: fn(&mut DbConnection, UserId, NaiveDateTime) -> QueryResult<()>,
    now: NaiveDateTime,
) -> QueryResult<Vec<Match>> {
    let closing = crate::matches::store::all_of(c, id)?;
    mark(c, id, now)?;
    sessions::revoke_all(c, id)?;
    Profile::refresh_in_feed(c, id)?;
    Ok(closing)
}

/// After a change that ends a member's sessions commits: their sockets
/// sign out on every instance, and the other side of each closed match
/// hears the conversation closed.
pub async fn announce(hub: &Hub, member: UserId, closing: &[Match]) {
    hub.sessions_ended(member).await;
    for m in closing {
        crate::matches::chat::closed(hub, m).await;
    }
}

/// Bans an account (see [`close`]).
pub fn ban(c: &mut DbConnection, id: UserId, now: NaiveDateTime) -> QueryResult<Vec<Match>> {
    close(c, id, User::ban, now)
}
