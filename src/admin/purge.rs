//! The purge of deleted accounts past their grace period, every hour: the
//! personal data goes (`accounts::deletion::purge`) and the audit log
//! records it in the same transaction, by the system and without personal
//! data (the account's id only). Expired banned-contact hashes go too.

use super::audit::{self, Entry};
use crate::accounts::deletion;
use crate::jobs::{JobContext, JobError, Registry};

pub const PURGE_DELETED: &str = "accounts.purge_deleted";

/// Accounts one run purges at most (the next run takes the rest).
const BATCH: i64 = 200;

pub fn register(r: &mut Registry) {
    if let Err(e) = r.every(PURGE_DELETED, "0 17 * * * *") {
        tracing::error!(error = %e, "invalid purge schedule");
    }
    r.register(PURGE_DELETED, |ctx: JobContext, _payload| async move {
        run(&ctx)
            .await
            .map(|_| ())
            .map_err(|e| JobError(e.to_string()))
    });
}

/// Purges every account due now; returns how many.
pub async fn run(ctx: &JobContext) -> Result<usize, crate::error::AppError> {
    let keys = crate::security::keys::Keys::from_secret(ctx.settings.secret_key.expose());
    let now = ctx.clock.now();
    let purged = ctx
        .db
        .write(move |c| {
            let mut purged = 0;
            for id in deletion::due(c, now, BATCH)? {
                if !deletion::purge(c, &keys, id, now)? {
                    continue;
                }
                let entry = Entry {
                    actor: None,
                    action: "user.purge",
                    target_type: "user",
                    target_id: id.to_string(),
                    before: None,
                    after: None,
                    ip: "",
                };
                audit::record(c, &entry, now)?;
                purged += 1;
            }
            crate::accounts::banned::forget_old_bans(c, now)?;
            Ok(purged)
        })
        .await?;
    if purged > 0 {
        tracing::info!(purged, "deleted accounts purged");
    }
    Ok(purged)
}
