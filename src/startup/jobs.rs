//! The job registry: every feature's job kinds, and the maintenance the
//! composition root schedules itself.

use crate::jobs::{JobContext, JobError, Registry};
use crate::{accounts, auth, discovery, profiles};

/// Every job kind the application knows, periodic ones included.
pub fn job_registry() -> Registry {
    let mut r = Registry::default();
    accounts::register_jobs(&mut r);
    profiles::register_jobs(&mut r);
    discovery::register_jobs(&mut r);
    crate::matches::register_jobs(&mut r);
    crate::admin::jobs::register(&mut r);
    crate::admin::stats::register(&mut r);
    crate::admin::purge::register(&mut r);
    register_maintenance(&mut r);
    r
}

const PURGE_EXPIRED: &str = "maintenance.purge_expired";

/// Every ten minutes: expired tokens and sessions, old finished jobs, and
/// jobs whose worker vanished on their last attempt.
fn register_maintenance(r: &mut Registry) {
    if let Err(e) = r.every(PURGE_EXPIRED, "0 */10 * * * *") {
        tracing::error!(error = %e, "invalid maintenance schedule");
    }
    r.register(PURGE_EXPIRED, |ctx: JobContext, _payload| async move {
        let (now, idle) = (ctx.clock.now(), ctx.settings.sessions.idle_timeout);
        ctx.db
            .primary(move |c| {
                let tokens = accounts::tokens::purge_expired(c, now)?;
                let sessions = auth::sessions::purge_expired(c, now, idle)?;
                let jobs = crate::jobs::queue::purge_done(c, now - chrono::TimeDelta::days(7))?;
                let buried = crate::jobs::queue::bury_abandoned(c, now)?;
                tracing::info!(tokens, sessions, jobs, buried, "purged expired rows");
                Ok(())
            })
            .await
            .map_err(|e| JobError(e.to_string()))
    });
}
