//! Periodic jobs. Every worker computes the same fire times from the
//! registry's schedules and enqueues each with a unique key
//! (`periodic:<kind>:<time>`), so a run happens once however many workers
//! there are.

use super::queue::{enqueue, NewJob};
use super::registry::Registry;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::AppError;
use chrono::NaiveDateTime;

pub struct Scheduler {
    last: NaiveDateTime,
    /// The start-time runs are still to be enqueued (the first call does it).
    starting: bool,
}

impl Scheduler {
    pub fn new(start: NaiveDateTime) -> Self {
        Self {
            last: start,
            starting: true,
        }
    }

    /// Enqueues the runs that fell due since the previous call.
    pub async fn enqueue_due(
        &mut self,
        db: &Db,
        registry: &Registry,
        clock: &Clock,
    ) -> Result<(), AppError> {
        let now = clock.now();
        let mut due: Vec<(String, String)> = registry
            .due_between(self.last, now)
            .into_iter()
            .map(|(kind, at)| {
                let key = format!("periodic:{kind}:{}", at.format("%Y-%m-%dT%H:%M:%S"));
                (kind, key)
            })
            .collect();
        if std::mem::take(&mut self.starting) {
            // Once a day across every worker that starts that day.
            due.extend(registry.at_start().iter().map(|kind| {
                let key = format!("start:{kind}:{}", now.format("%Y-%m-%d"));
                (kind.clone(), key)
            }));
        }
        self.last = now;
        if due.is_empty() {
            return Ok(());
        }
        db.write(move |c| {
            for (kind, key) in due {
                enqueue(
                    c,
                    NewJob::new(&kind, &serde_json::json!({}), now)?
                        .unique_key(key)
                        .max_attempts(3),
                )?;
            }
            Ok(())
        })
        .await
    }
}
