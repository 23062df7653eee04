//! Match flows: my matches as the other members' cards, one match, unmatch.

use super::messages::{self, Message};
use super::store::{self, Match, MatchId};
use crate::auth::{Principal, UserId};
use crate::db::types::MessageId;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::matches::state::ChatState;
use crate::profiles::public::{self, Position, PublicProfile};
use crate::profiles::store::Profile;

/// A match as I see it: the other member's public card, and where our
/// conversation stands.
pub struct MatchView {
    pub id: MatchId,
    pub card: PublicProfile,
    /// Their messages I have not read.
    pub unread: i64,
    /// Our newest message, if we wrote any.
    pub last: Option<Message>,
    /// The newest message's time, else when we matched: the list's order.
    pub active_at: chrono::NaiveDateTime,
    /// The other member deleted their account: "deleted member", no
    /// profile, and the conversation reads but takes no new message.
    pub departed: bool,
}

impl MatchView {
    /// The other member's name as shown.
    pub fn name<'a>(&'a self, t: &crate::i18n::Tr) -> &'a str {
        if self.departed {
            t.t("matches.deleted_member")
        } else {
            &self.card.nickname
        }
    }
}

/// The stand-in card of a member who deleted their account.
fn departed_card(id: UserId) -> PublicProfile {
    PublicProfile {
        id,
        nickname: String::new(),
        age: None,
        city: String::new(),
        bio: String::new(),
        distance_km: None,
        photos: Vec::new(),
    }
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
    let departed = crate::auth::User::departed_among(c, &others)?;
    let mut profiles = Profile::find_many(c, &others)?;
    profiles.retain(|p| !departed.contains(&p.user_id));
    profiles.sort_by_key(|p| others.iter().position(|o| *o == p.user_id));
    let mine = Profile::find(c, me)?.as_ref().and_then(Position::of);
    let ids: Vec<MatchId> = matches.iter().map(|m| m.id).collect();
    let mut lasts = messages::last_of_each(c, &ids)?;
    let mut cards = public::cards(c, &profiles, mine, today, media)?;
    cards.extend(departed.iter().map(|id| departed_card(*id)));
    let mut views: Vec<MatchView> = cards
        .into_iter()
        .filter_map(|card| {
            let m = matches.iter().find(|m| m.other(me) == card.id)?;
            let last = lasts
                .iter()
                .position(|l| l.match_id == m.id)
                .map(|i| lasts.swap_remove(i));
            Some(MatchView {
                id: m.id,
                departed: departed.contains(&card.id),
                card,
                unread: m.unread_for(me),
                active_at: last.as_ref().map_or(m.created_at, |l| l.sent_at),
                last,
            })
        })
        .collect();
    // Like a messenger: the conversation with the newest message first.
    views.sort_by_key(|v| std::cmp::Reverse(v.active_at));
    Ok(views)
}

/// My matches, newest first, and the newest message id their unread
/// counts include (read after them: a message arriving in between is
/// neither counted nor replayed, never counted twice).
pub async fn list(
    state: &ChatState,
    me: &Principal,
) -> Result<(Vec<MatchView>, MessageId), AppError> {
    let (id, today, media) = (me.id, state.clock.today(), state.settings.media.clone());
    state
        .db
        .primary(move |c| {
            let mine = store::mine(c, id, 200)?;
            let views = views(c, id, &mine, today, &media)?;
            Ok((views, messages::newest_id(c)?))
        })
        .await
}

/// Messages per page of a conversation.
pub const HISTORY_PAGE: i64 = 50;

/// One of my matches with a page of its messages.
pub struct Conversation {
    pub view: MatchView,
    /// All my matches, for the list beside the conversation.
    pub all: Vec<MatchView>,
    /// Oldest first.
    pub messages: Vec<Message>,
    /// The cursor of the page before this one, if there is one.
    pub older: Option<MessageId>,
    /// The last of my messages the other member has read.
    pub their_read_up_to: MessageId,
    /// The newest message id when the page was read (before its messages:
    /// one arriving in between is shown once, from the page or the socket).
    pub since: MessageId,
}

/// One of my matches and the messages before `before` (the newest when
/// `None`); someone else's match is not found. Showing the newest page
/// marks it read.
pub async fn show(
    state: &ChatState,
    me: &Principal,
    match_id: MatchId,
    before: Option<MessageId>,
) -> Result<Option<Conversation>, AppError> {
    let (id, today, media) = (me.id, state.clock.today(), state.settings.media.clone());
    let found = state
        .db
        .primary(move |c| {
            let since = messages::newest_id(c)?;
            let Some(m) = store::find_listed(c, id, match_id)? else {
                return Ok(None);
            };
            let Some(view) = views(c, id, std::slice::from_ref(&m), today, &media)?.pop() else {
                return Ok(None);
            };
            let mine = store::mine(c, id, 200)?;
            let all = views(c, id, &mine, today, &media)?;
            let mut messages = messages::history(c, match_id, before, HISTORY_PAGE + 1)?;
            let older = if messages.len() > HISTORY_PAGE as usize {
                messages.remove(0);
                messages.first().map(|m| m.id)
            } else {
                None
            };
            Ok(Some(Conversation {
                view,
                all,
                messages,
                older,
                their_read_up_to: m.read_up_to(m.other(id)),
                since,
            }))
        })
        .await?;
    let mut found = found;
    if let Some(conv) = &mut found {
        let newest = conv.messages.last().map(|m| m.id);
        if let (None, Some(newest)) = (before, newest) {
            if conv.view.unread > 0 {
                // Past the read-marker limit the page still shows.
                match super::chat::read(state, me.id, match_id, newest).await {
                    Err(e) if e.code() != crate::error::ErrorCode::RateLimited => return Err(e),
                    _ => {}
                }
            }
            // Shown now: read, in the list beside it too.
            for v in conv.all.iter_mut().filter(|v| v.id == match_id) {
                v.unread = 0;
            }
        }
    }
    Ok(found)
}

/// Ends one of my matches; `false` when it is not mine.
pub async fn unmatch(
    state: &ChatState,
    me: &Principal,
    match_id: MatchId,
) -> Result<bool, AppError> {
    let id = me.id;
    let ended = state
        .db
        // A departed member's conversation can be removed too.
        .write(move |c| match store::find_listed(c, id, match_id)? {
            Some(m) => Ok(store::delete_between(c, m.user_a, m.user_b)?),
            None => Ok(None),
        })
        .await?;
    match ended {
        Some(m) => {
            super::chat::closed(&state.hub, &m).await;
            Ok(true)
        }
        None => Ok(false),
    }
}
