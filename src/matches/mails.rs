//! "New messages" mails to a member who is away. A message queues one job
//! per conversation and clock hour (its unique key), due five minutes after
//! that hour ends; the job mails only if the messages are still unread then
//! (a member who is online has read them). So one conversation mails a
//! member at most once an hour, and a busy evening is one mail, not fifty.

use chrono::{DateTime, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::store::{self, MatchId};
use crate::auth::{User, UserId};
use crate::db::DbConnection;
use crate::i18n::Tr;
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::mail::{unsubscribe_url, Optional, OutgoingMail};

pub const MESSAGE: &str = "mail.message";

/// How long after its hour a batch waits for the member to read it.
const GRACE: TimeDelta = TimeDelta::minutes(5);

#[derive(Serialize, Deserialize)]
struct MessageMail {
    to: UserId,
    #[serde(rename = "match")]
    match_id: MatchId,
}

/// The hour `at` falls in, and when its batch is due.
fn batch(at: NaiveDateTime) -> (i64, NaiveDateTime) {
    let hour = at.and_utc().timestamp().div_euclid(3600);
    let due = DateTime::from_timestamp((hour + 1) * 3600, 0)
        .map(|d| d.naive_utc())
        .unwrap_or(at);
    (hour, due + GRACE)
}

/// Queues the mail about a message to `to` in `match_id`, inside the
/// message's transaction; the hour's batch is queued once.
pub fn queue_message(
    c: &mut DbConnection,
    to: UserId,
    match_id: MatchId,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let (hour, due) = batch(now);
    let job = NewJob::new(MESSAGE, &MessageMail { to, match_id }, now)?
        .run_at(due)
        .unique_key(format!("{MESSAGE}:{}:{}:{hour}", match_id.0, to.0));
    enqueue(c, job).map(|_| ())
}

pub fn register(r: &mut Registry) {
    r.register(MESSAGE, send);
}

async fn send(ctx: JobContext, payload: String) -> Result<(), JobError> {
    let MessageMail { to, match_id } = serde_json::from_str(&payload)?;
    let found = ctx
        .db
        .primary(move |c| {
            let Some(m) = store::find_mine(c, to, match_id)? else {
                return Ok(None);
            };
            let unread = m.unread_for(to);
            Ok(Some((
                User::find(c, to)?,
                User::find(c, m.other(to))?,
                unread,
            )))
        })
        .await?;
    // The match ended, or either side left: nothing to say.
    let Some((Some(to), Some(from), unread)) = found else {
        return Ok(());
    };
    if unread == 0 || !to.wants(Optional::Message) {
        return Ok(());
    }
    let t = Tr::new(to.language.as_deref().unwrap_or("en"));
    let link = ctx
        .settings
        .absolute_url(&format!("/matches/{}", match_id.0));
    let unsubscribe = unsubscribe_url(&ctx.settings, to.id.0, Optional::Message);
    let mail = OutgoingMail {
        to: to.email.clone(),
        subject: t.t1("mail.message.subject", "other", &from.nickname),
        body: t.tf(
            "mail.message.body",
            &[
                ("name", &to.nickname),
                ("other", &from.nickname),
                ("link", &link),
                ("unsubscribe", &unsubscribe),
            ],
        ),
        unsubscribe: Some(unsubscribe),
    };
    ctx.mailer.send(&ctx.settings.mail.from, mail).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_is_one_batch_due_after_it_ends() {
        let at = |h, m| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, 6)
                .and_then(|d| d.and_hms_opt(h, m, 0))
                .unwrap_or_default()
        };
        let (first, due) = batch(at(10, 1));
        assert_eq!(batch(at(10, 59)), (first, due), "the same batch");
        assert_eq!(due, at(11, 5));
        let (next, next_due) = batch(at(11, 0));
        assert_eq!(next, first + 1);
        assert!(next_due - due >= TimeDelta::hours(1), "mails an hour apart");
    }
}
