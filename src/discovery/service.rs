//! Discovery flows: my feed (a page of it), swiping, rewinding, who liked
//! me, a member's profile where the rules allow, blocking and reporting.

use std::sync::Arc;

use chrono::NaiveDate;

use super::feed::{self, Candidate, Viewer};
use super::limits::{local_day_start, Allowance, Defaults, PlanLimits};
use super::pages::{EmptyReason, FeedPage};
use super::swipes::{self, SwipeKind};
use super::writer;
use crate::auth::input::free_text;
use crate::auth::{Principal, User, UserId};
use crate::db::DbConnection;
use crate::discovery::state::DiscoveryState;
use crate::error::{AppError, ErrorCode};
use crate::matches::store::MatchId;
use crate::matches::{blocks, chat, reports, store as matches};
use crate::profiles::public::{self, PublicProfile};
use crate::profiles::store::Profile;

pub const PAGE_SIZE: usize = 10;
/// Longest report a member may write.
pub const MAX_REPORT_DETAILS: usize = 2000;

/// Public cards for these members' profiles, seen by `viewer`.
fn cards_of(
    c: &mut DbConnection,
    profiles: &[Profile],
    viewer: Option<&Viewer>,
    today: NaiveDate,
    media: &crate::config::MediaSettings,
) -> diesel::QueryResult<Vec<PublicProfile>> {
    public::cards(c, profiles, viewer.and_then(|v| v.position), today, media)
}

/// Public cards for these members, in this order (members not found are skipped).
fn cards(
    c: &mut DbConnection,
    ids: &[UserId],
    viewer: Option<&Viewer>,
    today: NaiveDate,
    media: &crate::config::MediaSettings,
) -> diesel::QueryResult<Vec<PublicProfile>> {
    let mut found = Profile::find_many(c, ids)?;
    found.sort_by_key(|p| ids.iter().position(|id| *id == p.user_id));
    cards_of(c, &found, viewer, today, media)
}

/// Page `page` (from 1) of my feed: as kept a moment ago when nothing it
/// shows changed since (pages.rs), else built now.
pub async fn feed_page(
    state: &DiscoveryState,
    me: &Principal,
    page: usize,
) -> Result<FeedPage, AppError> {
    let page = page.max(1);
    if let Some(kept) = state.pages.get(me.id, page) {
        return Ok(kept);
    }
    // On a miss, one request per member builds; the others wait and find
    // its page (or its feed, for another page).
    let _flight = state.feeds.single_flight(me.id).await;
    if let Some(kept) = state.pages.get(me.id, page) {
        return Ok(kept);
    }
    let fill = state.pages.begin();
    let built = build_page(state, me, page).await?;
    state.pages.put(fill, me.id, page, built.clone());
    Ok(built)
}

/// Page `page` of my feed from the database. The page's people are
/// re-checked against the rules (a cached feed never shows someone swiped,
/// blocked or hidden since).
async fn build_page(
    state: &DiscoveryState,
    me: &Principal,
    page: usize,
) -> Result<FeedPage, AppError> {
    let (id, now, today) = (me.id, state.clock.now(), state.clock.today());
    let (verified, pending) = (me.verified, me.profile_pending);
    let cached = state.feeds.get(id);
    let media = state.settings.media.clone();
    let defaults = Defaults::of(&state.runtime).await?;
    let tz = crate::clock::zone_or(me.time_zone.as_deref(), state.settings.time_zone);
    let (total, built, page_cards, viewer_has_place, allowance) = state
        .db
        .read(move |c| {
            let limits = defaults.limits_of(c, id)?;
            let allowance = Allowance::of(c, id, &limits, now, tz)?;
            let Some(profile) = Profile::find(c, id)? else {
                return Ok((0, None, Vec::new(), false, allowance));
            };
            let viewer = Viewer::of(&profile, today);
            let has_place = viewer.position.is_some() || !viewer.city_key.is_empty();
            // A feed built from another version of my profile (my place, my
            // preferences) is rebuilt.
            let (feed, built) = match cached {
                Some((built_from, f)) if built_from == profile.updated_at => (f, None),
                _ => (
                    Arc::new(feed::build(c, &viewer, today, now)?),
                    Some(profile.updated_at),
                ),
            };
            let start = (page - 1) * PAGE_SIZE;
            let slice: Vec<Candidate> = feed.iter().skip(start).take(PAGE_SIZE).cloned().collect();
            let ids: Vec<UserId> = slice.iter().map(|c| c.id).collect();
            // Re-checked now: nobody swiped, blocked or hidden since the feed was built.
            let mut still: Vec<Profile> = feed::passing(c, &viewer, &ids, today)?;
            still.sort_by_key(|p| ids.iter().position(|id| *id == p.user_id));
            let superliked: Vec<bool> = still
                .iter()
                .map(|p| slice.iter().any(|c| c.id == p.user_id && c.superliked_me))
                .collect();
            let profiles = cards_of(c, &still, Some(&viewer), today, &media)?;
            let with_flags = profiles.into_iter().zip(superliked).collect::<Vec<_>>();
            Ok((
                feed.len(),
                built.map(|from| (from, feed)),
                with_flags,
                has_place,
                allowance,
            ))
        })
        .await?;
    if let Some((built_from, feed)) = built {
        state.feeds.put(id, built_from, feed);
    }
    let empty = if pending {
        Some(EmptyReason::ProfileIncomplete)
    } else if !verified {
        Some(EmptyReason::NotVerified)
    } else if page_cards.is_empty() && !viewer_has_place {
        Some(EmptyReason::NoPlace)
    } else if page_cards.is_empty() {
        Some(EmptyReason::NobodyFits)
    } else {
        None
    };
    Ok(FeedPage {
        cards: Arc::new(page_cards),
        page,
        has_next: total > page * PAGE_SIZE,
        empty,
        allowance,
    })
}

/// My plan's limits.
pub async fn plan_of(state: &DiscoveryState, me: &Principal) -> Result<PlanLimits, AppError> {
    let (defaults, id) = (Defaults::of(&state.runtime).await?, me.id);
    state.db.read(move |c| Ok(defaults.limits_of(c, id)?)).await
}

pub use super::writer::SwipeOutcome;

/// Swipes `target`: written with the instance's next group of swipes (see
/// `writer`), answered once committed.
pub async fn swipe(
    state: &DiscoveryState,
    me: &Principal,
    target: UserId,
    kind: SwipeKind,
) -> Result<SwipeOutcome, AppError> {
    if me.profile_pending {
        return Err(AppError::Refused(ErrorCode::ProfileIncomplete));
    }
    if !me.verified {
        return Err(AppError::Refused(ErrorCode::EmailNotVerified));
    }
    if target == me.id {
        return Err(AppError::NotFound);
    }
    let now = state.clock.now();
    // The member's time zone (their day's superlikes), as the principal has it.
    let tz = crate::clock::zone_or(me.time_zone.as_deref(), state.settings.time_zone);
    let outcome = state
        .writer
        .write(writer::Swipe {
            swiper: me.id,
            target,
            kind,
            now,
            today: state.clock.today(),
            day_start: local_day_start(now, tz),
            defaults: Defaults::of(&state.runtime).await?,
        })
        .await?;
    state.feeds.remove(me.id, target);
    Ok(outcome)
}

/// The member a match of mine is with, for the "It's a match" screen;
/// `None` for a match that is not mine, or over.
pub async fn matched_with(
    state: &DiscoveryState,
    me: &Principal,
    id: MatchId,
) -> Result<Option<PublicProfile>, AppError> {
    let (me, today) = (me.id, state.clock.today());
    let media = state.settings.media.clone();
    state
        .db
        .read(move |c| {
            let Some(m) = matches::find_mine(c, me, id)? else {
                return Ok(None);
            };
            let viewer = Profile::find(c, me)?.map(|p| Viewer::of(&p, today));
            Ok(cards(c, &[m.other(me)], viewer.as_ref(), today, &media)?.pop())
        })
        .await
}

/// Undoes my most recent swipe (and the match it made), within the daily quota.
pub async fn rewind(state: &DiscoveryState, me: &Principal) -> Result<UserId, AppError> {
    let defaults = Defaults::of(&state.runtime).await?;
    let (id, now, site_tz) = (me.id, state.clock.now(), state.settings.time_zone);
    let target = state
        .db
        .write(move |c| {
            let Some(user) = User::find(c, id)? else {
                return Err(AppError::LoginRequired);
            };
            // One rewind at a time per member: the quota holds under concurrency.
            Profile::lock(c, id)?;
            let since = local_day_start(
                now,
                crate::clock::zone_or(user.time_zone.as_deref(), site_tz),
            );
            let limit = defaults.limits_of(c, id)?.rewinds;
            if swipes::rewinds_since(c, id, since)? >= limit {
                return Err(AppError::Refused(ErrorCode::RewindLimitReached));
            }
            let Some(last) = swipes::last_of(c, id)? else {
                return Err(AppError::Refused(ErrorCode::NothingToRewind));
            };
            swipes::delete(c, last.id)?;
            let ended = matches::delete_between(c, id, last.target_id)?;
            swipes::record_rewind(c, &last, now)?;
            Ok((last.target_id, ended))
        })
        .await?;
    let (target, ended) = target;
    if let Some(m) = ended {
        chat::closed(&state.hub, &m).await;
    }
    state.feeds.forget(me.id);
    state.hub.feeds_changed(vec![me.id]).await;
    Ok(target)
}

/// People who liked or superliked me whom I have not swiped: superlikes first.
pub async fn likes(
    state: &DiscoveryState,
    me: &Principal,
) -> Result<Vec<(PublicProfile, bool)>, AppError> {
    let (id, today) = (me.id, state.clock.today());
    let media = state.settings.media.clone();
    state
        .db
        .read(move |c| {
            let viewer = Profile::find(c, id)?.map(|p| Viewer::of(&p, today));
            let mut likers = swipes::likers_of(c, id, 200)?;
            likers.sort_by_key(|(_, kind)| *kind != SwipeKind::Superlike);
            let ids: Vec<UserId> = likers.iter().map(|(liker, _)| *liker).collect();
            let blocked = blocks::among(c, id, &ids)?;
            let mut shown: Vec<Profile> = Profile::find_many(c, &ids)?
                .into_iter()
                .filter(|p| p.in_feed && !blocked.contains(&p.user_id))
                .collect();
            shown.sort_by_key(|p| ids.iter().position(|id| *id == p.user_id));
            let superliked: Vec<bool> = shown
                .iter()
                .map(|p| likers.contains(&(p.user_id, SwipeKind::Superlike)))
                .collect();
            let cards = cards_of(c, &shown, viewer.as_ref(), today, &media)?;
            Ok(cards.into_iter().zip(superliked).collect())
        })
        .await
}

/// Whether I may see `target`'s profile: matched, they liked me (and I have
/// not swiped them), I liked or superliked them, or they are in my feed.
/// Blocked either way, or banned: never.
pub fn may_view(
    c: &mut DbConnection,
    me: UserId,
    target: UserId,
    today: NaiveDate,
) -> diesel::QueryResult<bool> {
    if me == target || blocks::either(c, me, target)? {
        return Ok(false);
    }
    // A banned member is hidden everywhere, from their matches too.
    if !User::find(c, target)?.is_some_and(|u| u.is_active) {
        return Ok(false);
    }
    if matches::between(c, me, target)?.is_some() {
        return Ok(true);
    }
    let active = Profile::find(c, target)?.is_some_and(|p| p.in_feed);
    if !active {
        return Ok(false);
    }
    let they_liked = swipes::between(c, target, me)?.is_some_and(|s| s.kind.is_positive());
    let mine = swipes::between(c, me, target)?;
    if they_liked && mine.is_none() {
        return Ok(true);
    }
    // Someone I liked or superliked stays visible to me (to look again, or
    // to report them), though they have left my feed.
    if mine.is_some_and(|s| s.kind.is_positive()) {
        return Ok(true);
    }
    match Profile::find(c, me)? {
        Some(p) => feed::contains(c, &Viewer::of(&p, today), target, today),
        None => Ok(false),
    }
}

/// A member's public profile where the rules allow (`None`, a 404,
/// otherwise), and whether I can still swipe them (I have not: they are in
/// my feed, or liked me).
pub async fn view_user(
    state: &DiscoveryState,
    me: &Principal,
    target: UserId,
) -> Result<Option<(PublicProfile, bool)>, AppError> {
    if state.absent.contains(target) {
        return Ok(None);
    }
    let (id, today) = (me.id, state.clock.today());
    let media = state.settings.media.clone();
    let (card, nobody) = state
        .db
        .read(move |c| {
            if !may_view(c, id, target, today)? {
                return Ok((None, User::find(c, target)?.is_none()));
            }
            let viewer = Profile::find(c, id)?.map(|p| Viewer::of(&p, today));
            let can_swipe = swipes::between(c, id, target)?.is_none();
            Ok((
                cards(c, &[target], viewer.as_ref(), today, &media)?
                    .pop()
                    .map(|card| (card, can_swipe)),
                false,
            ))
        })
        .await?;
    if nobody {
        state.absent.remember(target);
    }
    Ok(card)
}

/// Whether `target` is someone I have had to do with (I can see them, I
/// swiped them, or they swiped me): the members I may block or report.
fn known(
    c: &mut DbConnection,
    me: UserId,
    target: UserId,
    today: NaiveDate,
) -> diesel::QueryResult<bool> {
    Ok(me != target
        && (may_view(c, me, target, today)?
            || swipes::between(c, me, target)?.is_some()
            || swipes::between(c, target, me)?.is_some()))
}

/// Blocks `target`: hidden from each other everywhere, the match ends.
pub async fn block(
    state: &DiscoveryState,
    me: &Principal,
    target: UserId,
) -> Result<bool, AppError> {
    let (id, now, today) = (me.id, state.clock.now(), state.clock.today());
    let done = state
        .db
        .write(move |c| {
            if !known(c, id, target, today)? && !blocks::either(c, id, target)? {
                return Ok(None);
            }
            blocks::block(c, id, target, now)?;
            Ok(Some(matches::delete_between(c, id, target)?))
        })
        .await?;
    let done = match done {
        Some(ended) => {
            if let Some(m) = ended {
                chat::closed(&state.hub, &m).await;
            }
            true
        }
        None => false,
    };
    state.feeds.remove(me.id, target);
    state.feeds.forget(target);
    if done {
        state.hub.members_changed(vec![me.id, target]).await;
    }
    Ok(done)
}

pub async fn report(
    state: &DiscoveryState,
    me: &Principal,
    target: UserId,
    reason: reports::ReportReason,
    details: &str,
) -> Result<bool, AppError> {
    let details = free_text(details, MAX_REPORT_DETAILS).map_err(|_| AppError::InvalidInput)?;
    let (id, now, today) = (me.id, state.clock.now(), state.clock.today());
    state
        .db
        .write(move |c| {
            if !known(c, id, target, today)? {
                return Ok(false);
            }
            match reports::file(c, id, target, reason, &details, now)? {
                Some(_) => Ok(true),
                None => Err(AppError::Refused(ErrorCode::AlreadyReported)),
            }
        })
        .await
}
