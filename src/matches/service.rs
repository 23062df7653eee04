//! Match flows: my matches as the other members' cards, one match, unmatch.

use super::store::{self, Match, MatchId};
use crate::auth::{Principal, UserId};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::profiles::public::{self, Position, PublicProfile};
use crate::profiles::store::Profile;
use crate::state::AppState;

/// A match as I see it: the other member's public card.
pub struct MatchView {
    pub id: MatchId,
    pub card: PublicProfile,
}

/// These matches as `me` sees them, in their order, in a fixed number of
/// queries; matches whose other member is gone are skipped.
fn views(
    c: &mut DbConnection,
    me: UserId,
    matches: &[Match],
    today: chrono::NaiveDate,
    media: &crate::config::MediaSettings,
) -> diesel::QueryResult<Vec<MatchView>> {
    let others: Vec<UserId> = matches.iter().map(|m| m.other(me)).collect();
    let mut profiles = Profile::find_many(c, &others)?;
    profiles.sort_by_key(|p| others.iter().position(|o| *o == p.user_id));
    let mine = Profile::find(c, me)?.as_ref().and_then(Position::of);
    Ok(public::cards(c, &profiles, mine, today, media)?
        .into_iter()
        .filter_map(|card| {
            let m = matches.iter().find(|m| m.other(me) == card.id)?;
            Some(MatchView { id: m.id, card })
        })
        .collect())
}

/// My matches, newest first.
pub async fn list(state: &AppState, me: &Principal) -> Result<Vec<MatchView>, AppError> {
    let (id, today, media) = (me.id, state.clock.today(), state.settings.media.clone());
    state
        .db
        .read(move |c| {
            let mine = store::mine(c, id, 200)?;
            Ok(views(c, id, &mine, today, &media)?)
        })
        .await
}

/// One of my matches; someone else's is not found.
pub async fn show(
    state: &AppState,
    me: &Principal,
    match_id: MatchId,
) -> Result<Option<MatchView>, AppError> {
    let (id, today, media) = (me.id, state.clock.today(), state.settings.media.clone());
    state
        .db
        .read(move |c| match store::find_mine(c, id, match_id)? {
            Some(m) => Ok(views(c, id, &[m], today, &media)?.pop()),
            None => Ok(None),
        })
        .await
}

/// Ends one of my matches; `false` when it is not mine.
pub async fn unmatch(
    state: &AppState,
    me: &Principal,
    match_id: MatchId,
) -> Result<bool, AppError> {
    let id = me.id;
    state
        .db
        .write(move |c| match store::find_mine(c, id, match_id)? {
            Some(m) => Ok(store::delete_between(c, m.user_a, m.user_b)? > 0),
            None => Ok(false),
        })
        .await
}
