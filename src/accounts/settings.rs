//! The member's own settings: language, and the list of their sessions with
//! "log out" for one or all others.

use crate::accounts::state::AccountsState;
use crate::auth::events::{self, AuthEventRow};
use crate::auth::sessions::{self, UserSession};
use crate::auth::{Principal, User, UserId};
use crate::error::AppError;
use crate::i18n;
use crate::mail::Optional;

/// The mails `member` gets, as (kind, on) for each kind a member controls.
pub async fn mails(
    state: &AccountsState,
    member: UserId,
) -> Result<Vec<(Optional, bool)>, AppError> {
    let user = state
        .db
        .primary(move |c| Ok(User::find(c, member)?))
        .await?;
    Ok(Optional::ALL
        .into_iter()
        .map(|k| (k, user.as_ref().is_some_and(|u| u.wants(k))))
        .collect())
}

/// Turns mails of `kind` on or off for `member`.
pub async fn set_mail(
    state: &AccountsState,
    member: UserId,
    kind: Optional,
    on: bool,
) -> Result<(), AppError> {
    state
        .db
        .primary(move |c| Ok(User::set_mail(c, member, kind, on).map(|_| ())?))
        .await
}

/// The member and mail an unsubscribe link names, if its signature holds
/// (`invalid_token` otherwise: a forged or altered link changes nothing).
pub fn unsubscribe_target(
    state: &AccountsState,
    member: i64,
    mail: &str,
    tag: &str,
) -> Result<(Optional, UserId), AppError> {
    let kind = Optional::parse(mail).ok_or(AppError::InvalidToken)?;
    if !crate::mail::unsubscribe_tag_matches(&state.keys, member, kind, tag) {
        return Err(AppError::InvalidToken);
    }
    Ok((kind, UserId(member)))
}

/// Saves a language choice; `false` for a language without a catalog.
pub async fn set_language(
    state: &AccountsState,
    me: &Principal,
    code: &str,
) -> Result<bool, AppError> {
    if !i18n::is_supported(code) {
        return Ok(false);
    }
    let (id, code) = (me.id, code.to_string());
    state
        .db
        .primary(move |c| Ok(User::set_language(c, id, &code)?))
        .await?;
    Ok(true)
}

/// My live sessions, newest activity first.
pub async fn list_sessions(
    state: &AccountsState,
    me: &Principal,
) -> Result<Vec<UserSession>, AppError> {
    let (id, idle, now) = (
        me.id,
        state.settings.sessions.idle_timeout,
        state.clock.now(),
    );
    state
        .db
        .primary(move |c| Ok(sessions::list(c, id, now, idle)?))
        .await
}

/// My recent security activity, newest first.
pub async fn recent_activity(
    state: &AccountsState,
    me: &Principal,
) -> Result<Vec<AuthEventRow>, AppError> {
    let id = me.id;
    state
        .db
        .primary(move |c| Ok(events::recent(c, id, 20)?))
        .await
}

/// "Log out everywhere else": every other session of mine ends, on every instance.
pub async fn revoke_others(state: &AccountsState, me: &Principal) -> Result<(), AppError> {
    let (id, keep) = (me.id, me.session_id.clone());
    state
        .db
        .primary(move |c| Ok(sessions::revoke_others(c, id, &keep)?))
        .await?;
    state.hub.sessions_ended(id).await;
    Ok(())
}

/// Ends one of my sessions, named by its handle; another member's handle changes nothing.
pub async fn revoke_one(
    state: &AccountsState,
    me: &Principal,
    handle: String,
) -> Result<(), AppError> {
    let (id, idle, now) = (
        me.id,
        state.settings.sessions.idle_timeout,
        state.clock.now(),
    );
    let ended = state
        .db
        .write(move |c| Ok(sessions::revoke_by_handle(c, id, &handle, now, idle)?))
        .await?;
    if ended > 0 {
        state.hub.sessions_ended(id).await;
    }
    Ok(())
}
