//! "It's a match" mails, as a job queued in the swipe's transaction.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::auth::{User, UserId};
use crate::db::DbConnection;
use crate::i18n::Tr;
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::mail::{unsubscribe_url, Optional, OutgoingMail};

pub const MATCH: &str = "mail.match";

#[derive(Serialize, Deserialize)]
struct MatchMail {
    to: UserId,
    with: UserId,
}

/// Queues the mail to both members.
pub fn queue_match(
    c: &mut DbConnection,
    a: UserId,
    b: UserId,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    for (to, with) in [(a, b), (b, a)] {
        enqueue(c, NewJob::new(MATCH, &MatchMail { to, with }, now)?)?;
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.register(MATCH, send);
}

async fn send(ctx: JobContext, payload: String) -> Result<(), JobError> {
    let MatchMail { to, with } = serde_json::from_str(&payload)?;
    let found = ctx
        .db
        .primary(move |c| Ok((User::find(c, to)?, User::find(c, with)?)))
        .await?;
    let (Some(to), Some(with)) = found else {
        return Ok(());
    };
    if !to.match_mail {
        // Turned off in settings or by the link in an earlier mail.
        return Ok(());
    }
    let t = Tr::new(to.language.as_deref().unwrap_or("en"));
    let link = ctx.settings.absolute_url("/matches");
    let unsubscribe = unsubscribe_url(&ctx.settings, to.id.0, Optional::Match);
    let mail = OutgoingMail {
        to: to.email.clone(),
        subject: t.t1("mail.match.subject", "name", &with.nickname),
        body: t.tf(
            "mail.match.body",
            &[
                ("name", &to.nickname),
                ("other", &with.nickname),
                ("link", &link),
                ("unsubscribe", &unsubscribe),
            ],
        ),
        unsubscribe: Some(unsubscribe.clone()),
    };
    ctx.mailer.send(&ctx.settings.mail.from, mail).await?;
    Ok(())
}
