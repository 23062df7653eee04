//! Recording security activity from the account flows (see
//! [`crate::auth::events`]): best effort, logged, never failing the request.

use super::input::Email;
use crate::accounts::state::AccountsState;
pub use crate::auth::events::AuthEvent;
use crate::auth::{events, User, UserId};

/// Records `kind` for `user`; a database error is logged, not returned.
pub async fn record(
    state: &AccountsState,
    user: UserId,
    kind: AuthEvent,
    ip: &str,
    user_agent: &str,
) {
    let now = state.clock.now();
    let (ip, ua) = (ip.to_string(), user_agent.to_string());
    tracing::info!(user_id = %user, event = kind.as_str(), "security event");
    let done = state
        .db
        .write(move |c| Ok(events::insert(c, user, kind, &ip, &ua, now)?))
        .await;
    if let Err(e) = done {
        tracing::error!(error = %e, "security event not recorded");
    }
}

/// Records `kind` for the account with this email, if there is one.
pub async fn record_for_email(
    state: &AccountsState,
    email: &str,
    kind: AuthEvent,
    ip: &str,
    user_agent: &str,
) {
    let Ok(email) = Email::parse(email) else {
        return;
    };
    let email = email.as_str().to_string();
    let found = state
        .db
        .primary(move |c| Ok(User::find_by_email(c, &email)?))
        .await;
    if let Ok(Some(user)) = found {
        record(state, user.id, kind, ip, user_agent).await;
    }
}
