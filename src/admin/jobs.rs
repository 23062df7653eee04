//! Periodic work of the admin console: least privilege over time — staff
//! who have not logged in for `staff_idle_days` (90 by default) lose their
//! roles, each removal audited (actor: the system). The last superadmin is
//! kept, so the console can never be locked out.

use crate::auth::rbac;
use crate::jobs::{JobContext, JobError, Registry};
use crate::runtime::{RuntimeSettings, STAFF_IDLE_DAYS};

use super::audit::Actor;

pub const STRIP_IDLE_STAFF: &str = "admin.strip_idle_staff";

pub fn register(r: &mut Registry) {
    if let Err(e) = r.every(STRIP_IDLE_STAFF, "0 15 3 * * *") {
        tracing::error!(error = %e, "invalid idle-staff schedule");
    }
    r.register(STRIP_IDLE_STAFF, |ctx: JobContext, _payload| async move {
        strip_idle_staff(&ctx)
            .await
            .map(|_| ())
            .map_err(|e| JobError(e.to_string()))
    });
}

/// Removes the roles of idle staff; the number of accounts changed.
pub async fn strip_idle_staff(ctx: &JobContext) -> Result<usize, crate::error::AppError> {
    let days = RuntimeSettings::new(ctx.db.clone())
        .get(STAFF_IDLE_DAYS)
        .await?;
    if days == 0 {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let before = now - chrono::TimeDelta::days(days);
    let system = Actor {
        id: None,
        ip: "system".to_string(),
        now,
    };
    let stripped = ctx
        .db
        .write(move |c| {
            let mut stripped = 0;
            for id in rbac::idle_staff(c, before)? {
                let roles = rbac::roles_of(c, id)?;
                if rbac::set_roles(c, id, &[], now)? != rbac::SetRoles::Done {
                    tracing::warn!(user_id = %id, "idle staff kept: the last superadmin");
                    continue;
                }
                system.record(
                    c,
                    "user.roles.idle_removed",
                    ("user", id.to_string()),
                    Some(serde_json::json!({ "roles": roles })),
                    Some(serde_json::json!({ "roles": [] })),
                )?;
                stripped += 1;
            }
            Ok(stripped)
        })
        .await?;
    if stripped > 0 {
        tracing::info!(stripped, days, "roles removed from idle staff");
    }
    Ok(stripped)
}
