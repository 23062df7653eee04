//! The actions staff take on a member's account, from the member page and
//! (a ban) from the reports queue. One table says, for each action, its
//! audit name, what it changes, what the audit entry records before and
//! after, and whether the member's sessions end; [`act`] runs any of them
//! the same way: the rank check, then one transaction holding the change and
//! its audit entry, then the live sign-out where the action ends sessions.
//!
//! Staff stay below their station ([`refusal`]): nobody acts on their own
//! account here, only a superadmin acts on a superadmin or grants or removes
//! that role, nobody acts on an account whose roles hold a permission they
//! lack, and nobody grants a role holding a permission they lack. A refusal
//! is 403 and is audited (`<action>.refused`).

use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::audit::Actor;
use super::state::AdminState;
use crate::accounts::closing;
use crate::accounts::verify::{self, ResendOutcome};
use crate::auth::{plans, rbac, sessions, User, UserId};
use crate::db::DbConnection;
use crate::error::{AppError, ErrorCode};
use crate::i18n::DEFAULT_LANG;
use crate::matches::store::Match;
use crate::profiles::store::Profile;

/// An action on a member's account.
#[derive(Debug, Clone)]
pub enum AccountAction {
    /// The account is disabled, every session ends and the member leaves
    /// discovery at once.
    Ban {
        reason: String,
    },
    Unban,
    /// Marks the email verified.
    Verify,
    RevokeSessions,
    /// A new verification mail, under the member's own cool-down (so a
    /// double click sends one).
    ResendVerification,
    /// The member's roles become exactly these names.
    SetRoles(Vec<String>),
    /// The member is put on the plan of this name.
    SetPlan(String),
}

impl AccountAction {
    /// The notice shown once the action is done (`notice.<key>`).
    pub fn notice(&self) -> &'static str {
        match self {
            Self::Ban { .. } => "admin_banned",
            Self::Unban => "admin_unbanned",
            Self::Verify => "admin_verified",
            Self::RevokeSessions => "admin_sessions_revoked",
            Self::ResendVerification => "admin_verification_resent",
            Self::SetRoles(_) => "admin_roles_saved",
            Self::SetPlan(_) => "admin_plan_assigned",
        }
    }
}

/// What the audit entry of an action records about the account.
#[derive(Clone, Copy)]
enum Snapshot {
    /// Active and verified.
    Status,
    Roles,
    Plan,
    /// Nothing (the mail job is the record).
    Nothing,
}

/// One row of the table: the audit name, the snapshot, whether sessions end.
struct Spec {
    audit: &'static str,
    snapshot: Snapshot,
    ends_sessions: bool,
}

impl AccountAction {
    /// The action without a form whose path segment is `segment`
    /// (`/admin/users/{id}/<segment>`).
    pub fn without_form(segment: &str) -> Option<Self> {
        Some(match segment {
            "unban" => Self::Unban,
            "verify" => Self::Verify,
            "revoke-sessions" => Self::RevokeSessions,
            "resend-verification" => Self::ResendVerification,
            _ => return None,
        })
    }

    fn spec(&self) -> Spec {
        let (audit, snapshot, ends_sessions) = match self {
            Self::Ban { .. } => ("user.ban", Snapshot::Status, true),
            Self::Unban => ("user.unban", Snapshot::Status, false),
            Self::Verify => ("user.verify", Snapshot::Status, false),
            Self::RevokeSessions => ("user.revoke_sessions", Snapshot::Status, true),
            Self::ResendVerification => ("user.resend_verification", Snapshot::Nothing, false),
            // New roles take effect on a fresh session: every session ends.
            Self::SetRoles(_) => ("user.roles", Snapshot::Roles, true),
            Self::SetPlan(_) => ("user.plan", Snapshot::Plan, false),
        };
        Spec {
            audit,
            snapshot,
            ends_sessions,
        }
    }

    /// Makes the change inside the caller's transaction; an `Err` refuses
    /// it (and rolls everything back). Returns the matches it closed.
    fn apply(
        &self,
        c: &mut DbConnection,
        user: &User,
        now: NaiveDateTime,
        cooldown: std::time::Duration,
    ) -> Result<Vec<Match>, AppError> {
        let id = user.id;
        match self {
            Self::Ban { .. } => return Ok(closing::ban(c, id, now)?),
            Self::Unban => {
                User::lift_ban(c, id, now)?;
                Profile::refresh_in_feed(c, id)?;
            }
            Self::Verify => {
                User::mark_verified(c, id, now)?;
                Profile::refresh_in_feed(c, id)?;
            }
            Self::RevokeSessions => {
                sessions::revoke_all(c, id)?;
            }
            Self::ResendVerification => {
                let lang = user.language.as_deref().unwrap_or(DEFAULT_LANG);
                match verify::queue_resend(c, user, lang, now, cooldown)? {
                    ResendOutcome::Queued => {}
                    ResendOutcome::AlreadyVerified => {
                        return Err(AppError::Refused(ErrorCode::AlreadyVerified))
                    }
                    ResendOutcome::TooSoon { retry_after_secs } => {
                        return Err(AppError::TooSoon { retry_after_secs })
                    }
                }
            }
            Self::SetRoles(names) => match rbac::set_roles(c, id, names, now)? {
                rbac::SetRoles::Done => {
                    // A privilege change renews the session: the member logs
                    // in again, and a demoted staff member's admin pages end
                    // at once on every instance.
                    sessions::revoke_all(c, id)?;
                }
                rbac::SetRoles::UnknownRole => return Err(AppError::InvalidInput),
                rbac::SetRoles::LastSuperadmin => {
                    return Err(AppError::Refused(ErrorCode::LastSuperadmin))
                }
            },
            Self::SetPlan(name) => {
                let plan = plans::by_name(c, name)?.ok_or(AppError::InvalidInput)?;
                plans::assign(c, id, plan.id)?;
            }
        }
        Ok(Vec::new())
    }
}

fn snapshot(c: &mut DbConnection, kind: Snapshot, id: UserId) -> Result<Option<Value>, AppError> {
    Ok(match kind {
        Snapshot::Status => User::find(c, id)?.map(|u| {
            json!({
                "is_active": u.is_active,
                "verified": u.is_verified(),
            })
        }),
        Snapshot::Roles => Some(json!({ "roles": rbac::roles_of(c, id)? })),
        Snapshot::Plan => Some(json!({ "plan": plans::of_member(c, id)?.map(|p| p.name) })),
        Snapshot::Nothing => None,
    })
}

/// Why `actor` may not take `action` on `target`, if they may not.
fn refusal(
    c: &mut DbConnection,
    actor: Option<UserId>,
    target: UserId,
    action: &AccountAction,
) -> diesel::QueryResult<Option<&'static str>> {
    let Some(actor) = actor else {
        return Ok(None);
    };
    if actor == target {
        return Ok(Some("self"));
    }
    let mine = rbac::permissions_of(c, actor)?;
    let theirs = rbac::permissions_of(c, target)?;
    let is_superadmin = |roles: &[String]| roles.iter().any(|r| r == rbac::SUPERADMIN);
    let actor_is_superadmin = is_superadmin(&rbac::roles_of(c, actor)?);
    let held = rbac::roles_of(c, target)?;
    if is_superadmin(&held) && !actor_is_superadmin {
        return Ok(Some("superadmin"));
    }
    if !theirs.is_subset(&mine) {
        return Ok(Some("rank"));
    }
    if let AccountAction::SetRoles(names) = action {
        if is_superadmin(names) != is_superadmin(&held) && !actor_is_superadmin {
            return Ok(Some("superadmin"));
        }
        for granted in names.iter().filter(|n| !held.contains(n)) {
            if !rbac::permissions_of_role(c, granted)?.is_subset(&mine) {
                return Ok(Some("grant"));
            }
        }
    }
    Ok(None)
}

/// How an action ended inside its transaction.
enum Done {
    /// With the matches it closed.
    Applied(Vec<Match>),
    /// Refused for the actor's rank (the refusal is audited).
    Refused,
}

/// Runs `action` on the account `target` for `actor`: 404 for an unknown
/// account, 403 (audited) above the actor's station; the change and its
/// audit entry commit together.
pub async fn act(
    state: &AdminState,
    actor: Actor,
    target: UserId,
    action: AccountAction,
) -> Result<(), AppError> {
    let spec = action.spec();
    let cooldown = state.settings.accounts.mail_cooldown;
    let done = state
        .jobs
        .write_and_wake(move |c| {
            let user = User::find(c, target)?.ok_or(AppError::NotFound)?;
            if let Some(why) = refusal(c, actor.id, target, &action)? {
                let action_name = format!("{}.refused", spec.audit);
                let after = json!({ "refused": why });
                let target = ("user", target.to_string());
                actor.record(c, &action_name, target, None, Some(after))?;
                return Ok(Done::Refused);
            }
            let before = snapshot(c, spec.snapshot, target)?;
            let closing = action.apply(c, &user, actor.now, cooldown)?;
            let mut after = snapshot(c, spec.snapshot, target)?;
            if let (Some(Value::Object(map)), AccountAction::Ban { reason }) = (&mut after, &action)
            {
                map.insert("reason".into(), Value::String(reason.clone()));
            }
            actor.record(c, spec.audit, ("user", target.to_string()), before, after)?;
            Ok(Done::Applied(closing))
        })
        .await?;
    let Done::Applied(closing) = done else {
        return Err(AppError::Forbidden);
    };
    if spec.ends_sessions {
        closing::announce(&state.hub, target, &closing).await;
    } else {
        // Verified, roles or plan: cached principals of theirs are stale.
        state.hub.members_changed(vec![target]).await;
    }
    Ok(())
}

/// [`refusal`] for a ban from the reports queue, inside its transaction.
pub fn may_ban(
    c: &mut DbConnection,
    actor: &Actor,
    target: UserId,
) -> diesel::QueryResult<Option<&'static str>> {
    let ban = AccountAction::Ban {
        reason: String::new(),
    };
    refusal(c, actor.id, target, &ban)
}
