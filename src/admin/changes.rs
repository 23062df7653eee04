//! The console's other audited changes: closing a report, reviewing a
//! photo, the runtime settings, a plan's limits, roles and their
//! permissions, retrying a dead job. Each runs in one transaction with its
//! audit entry (handlers only parse, check the password and render).

use serde_json::json;

use super::accounts::may_ban;
use super::audit::Actor;
use super::state::AdminState;
use crate::accounts::closing;
use crate::auth::plans;
use crate::auth::rbac::{self, Permission, SetPermissions};
use crate::error::{AppError, ErrorCode};
use crate::jobs::queue::{self, JobId};
use crate::matches::reports::{self, ReportId};
use crate::profiles::photos::{Photo, PhotoId};
use crate::profiles::service::remove_photo;
use crate::runtime::{RuntimeSettings, Tunable};

/// Closes an open report with `dismiss`, or `ban` (the reported member is
/// banned in the same transaction, under the same rank rules as a ban from
/// the member page: refused with 403, audited). A report closed meanwhile
/// by someone else is left as it is.
pub async fn resolve_report(
    state: &AdminState,
    actor: Actor,
    id: ReportId,
    ban: bool,
    note: String,
) -> Result<(), AppError> {
    // Reports are closed by staff, never by the system.
    let (now, staff) = (actor.now, actor.id.ok_or(AppError::Forbidden)?);
    let outcome = state
        .db
        .write(move |c| {
            let report = reports::find(c, id)?.ok_or(AppError::NotFound)?;
            let resolution = if ban { "ban" } else { "dismiss" };
            if ban {
                if let Some(why) = may_ban(c, &actor, report.target_id)? {
                    let after = json!({ "refused": why, "reported": report.target_id });
                    let target = ("report", id.to_string());
                    actor.record(c, "report.resolve.refused", target, None, Some(after))?;
                    return Ok(Err(AppError::Forbidden));
                }
            }
            if !reports::resolve(c, id, resolution, staff, &note, now)? {
                return Ok(Ok(None));
            }
            let closing = if ban {
                closing::ban(c, report.target_id, now)?
            } else {
                Vec::new()
            };
            actor.record(
                c,
                "report.resolve",
                ("report", id.to_string()),
                Some(json!({ "status": "open" })),
                Some(json!({
                    "status": "resolved",
                    "resolution": resolution,
                    "note": note,
                    "reported": report.target_id,
                })),
            )?;
            Ok(Ok(ban.then_some((report.target_id, closing))))
        })
        .await?;
    if let Some((member, closing)) = outcome? {
        closing::announce(&state.hub, member, &closing).await;
    }
    Ok(())
}

/// Approves a photo, or rejects it with `reason` (it disappears for members
/// at once; a job deletes its files). A photo reviewed already is bad input.
pub async fn review_photo(
    state: &AdminState,
    actor: Actor,
    id: PhotoId,
    reject: Option<String>,
) -> Result<(), AppError> {
    let now = actor.now;
    let owner = state
        .jobs
        .write_and_wake(move |c| {
            let photo = Photo::find(c, id)?.ok_or(AppError::NotFound)?;
            let (action, after) = match reject {
                Some(reason) => {
                    remove_photo(c, &photo, now)?;
                    ("photo.reject", json!({ "deleted": true, "reason": reason }))
                }
                None if Photo::approve(c, id, now)? => {
                    ("photo.approve", json!({ "approved": true }))
                }
                None => return Err(AppError::InvalidInput),
            };
            let before = json!({ "owner": photo.user_id });
            actor
                .record(
                    c,
                    action,
                    ("photo", id.to_string()),
                    Some(before),
                    Some(after),
                )
                .map_err(AppError::from)?;
            Ok(photo.user_id)
        })
        .await?;
    // The owner's card changed on every instance's feed pages.
    state.hub.members_changed(vec![owner]).await;
    Ok(())
}

/// Puts new runtime values in force: `(setting, before, after)` each.
pub async fn update_settings(
    state: &AdminState,
    actor: Actor,
    changes: Vec<(Tunable, i64, i64)>,
) -> Result<(), AppError> {
    let now = actor.now;
    state
        .db
        .write(move |c| {
            let mut before = serde_json::Map::new();
            let mut after = serde_json::Map::new();
            for (t, old, new) in &changes {
                RuntimeSettings::put(c, *t, *new, now)?;
                before.insert(t.key.into(), (*old).into());
                after.insert(t.key.into(), (*new).into());
            }
            let target = ("settings", "runtime".to_string());
            Ok(actor.record(
                c,
                "settings.update",
                target,
                Some(before.into()),
                Some(after.into()),
            )?)
        })
        .await?;
    state.runtime.invalidate();
    Ok(())
}

/// A plan's limits (`None`: the runtime setting) and features.
pub struct PlanLimits {
    pub superlikes: Option<i64>,
    pub rewinds: Option<i64>,
    pub see_likes: bool,
}

/// Changes the plan `name`; 404 when there is none.
pub async fn update_plan(
    state: &AdminState,
    actor: Actor,
    name: String,
    new: PlanLimits,
) -> Result<(), AppError> {
    state
        .db
        .write(move |c| {
            let old = plans::by_name(c, &name)?.ok_or(AppError::NotFound)?;
            plans::update(c, old.id, new.superlikes, new.rewinds, new.see_likes)?;
            let before = json!({
                "superlike_daily_limit": old.superlike_daily_limit,
                "rewind_daily_limit": old.rewind_daily_limit,
                "see_likes": old.see_likes,
            });
            let after = json!({
                "superlike_daily_limit": new.superlikes,
                "rewind_daily_limit": new.rewinds,
                "see_likes": new.see_likes,
            });
            Ok(actor.record(c, "plan.update", ("plan", name), Some(before), Some(after))?)
        })
        .await
}

/// A new role without permissions; `role_exists` when the name is taken.
pub async fn create_role(
    state: &AdminState,
    actor: Actor,
    name: String,
    description: String,
) -> Result<(), AppError> {
    let now = actor.now;
    state
        .db
        .write(move |c| {
            if !rbac::create_role(c, &name, &description, now)? {
                return Err(AppError::Refused(ErrorCode::RoleExists));
            }
            let after = json!({ "description": description });
            Ok(actor.record(c, "role.create", ("role", name), None, Some(after))?)
        })
        .await
}

/// The role's permissions become exactly `perms`.
pub async fn set_role_permissions(
    state: &AdminState,
    actor: Actor,
    name: String,
    perms: Vec<Permission>,
) -> Result<(), AppError> {
    state
        .db
        .write(move |c| match rbac::set_permissions(c, &name, &perms)? {
            SetPermissions::Done(before) => {
                let after: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
                let (before, after) = (
                    json!({ "permissions": before }),
                    json!({ "permissions": after }),
                );
                Ok(actor.record(
                    c,
                    "role.permissions",
                    ("role", name),
                    Some(before),
                    Some(after),
                )?)
            }
            SetPermissions::UnknownRole => Err(AppError::NotFound),
            SetPermissions::Locked => Err(AppError::Refused(ErrorCode::RoleLocked)),
        })
        .await
}

/// Queues a dead job again; any other job is bad input.
pub async fn retry_job(state: &AdminState, actor: Actor, id: JobId) -> Result<(), AppError> {
    let now = actor.now;
    state
        .jobs
        .write_and_wake(move |c| {
            let job = queue::find(c, id)?.ok_or(AppError::NotFound)?;
            if !queue::retry_dead(c, id, now)? {
                return Err(AppError::InvalidInput);
            }
            let before = json!({ "status": "dead", "kind": job.kind });
            let after = json!({ "status": "queued" });
            Ok(actor.record(
                c,
                "job.retry",
                ("job", id.to_string()),
                Some(before),
                Some(after),
            )?)
        })
        .await
}
