//! "Export my data" (GDPR articles 15 and 20): the member asks (one a
//! day), a job builds one ZIP — a README, JSON files for the account,
//! profile, preferences, photos (with the files), swipes made, matches,
//! messages of my conversations (both sides, as I see them), reports
//! made, blocks, sessions and security events — keeps it in the media
//! store (never under the public prefix) and mails a link (also on the
//! data page: a phone account has no mailbox). The link works for seven
//! days and only for that member, logged in; a periodic job
//! deletes the file when it expires. Nothing of another member's private
//! data goes in: the other side of a match is an id and a nickname.

use std::io::Write;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::state::AccountsState;
use crate::auth::{Principal, User, UserId};
use crate::db::schema::{
    auth_events, blocks, data_exports, matches, messages, oauth_identities, photos, reports,
    swipes, user_sessions, users,
};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::jobs::{enqueue, JobContext, JobError, NewJob, Registry};
use crate::mail::OutgoingMail;
use crate::profiles::store::Profile;

pub const BUILD: &str = "accounts.export";
pub const EXPIRE: &str = "accounts.export_expire";

/// How long the link and the file live.
pub const LIFETIME: TimeDelta = TimeDelta::days(7);
/// One export a day.
pub const EVERY: TimeDelta = TimeDelta::days(1);

crate::text_enum!(ExportStatus {
    Queued => "queued",
    Ready => "ready",
    Expired => "expired",
});

/// One of my exports, as the data page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = data_exports)]
pub struct Export {
    pub id: i64,
    pub status: ExportStatus,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Serialize, Deserialize)]
struct BuildJob {
    export: i64,
}

/// My exports of the last week, newest first.
pub async fn mine(state: &AccountsState, me: &Principal) -> Result<Vec<Export>, AppError> {
    let (id, since) = (me.id, state.clock.now() - LIFETIME - EVERY);
    state
        .db
        .primary(move |c| {
            Ok(data_exports::table
                .filter(data_exports::user_id.eq(id))
                .filter(data_exports::created_at.gt(since))
                .order(data_exports::id.desc())
                .select(Export::as_select())
                .load(c)?)
        })
        .await
}

/// Asks for an export: the job is queued in the same transaction; a second
/// one within a day is refused with 429 and `Retry-After`.
pub async fn request(state: &AccountsState, me: &Principal) -> Result<(), AppError> {
    let (id, now) = (me.id, state.clock.now());
    let last: Option<NaiveDateTime> = state
        .jobs
        .write_and_wake(move |c| {
            // The member's row, locked: two requests at once make one export.
            diesel::update(users::table.find(id))
                .set(users::updated_at.eq(users::updated_at))
                .execute(c)?;
            let last = data_exports::table
                .filter(data_exports::user_id.eq(id))
                .select(diesel::dsl::max(data_exports::created_at))
                .first::<Option<NaiveDateTime>>(c)?;
            if last.is_some_and(|at| at + EVERY > now) {
                return Ok(last);
            }
            let export = diesel::insert_into(data_exports::table)
                .values((
                    data_exports::user_id.eq(id),
                    data_exports::status.eq(ExportStatus::Queued),
                    data_exports::created_at.eq(now),
                ))
                .returning(data_exports::id)
                .get_result::<i64>(c)?;
            enqueue(c, NewJob::new(BUILD, &BuildJob { export }, now)?)?;
            Ok(None)
        })
        .await?;
    match last {
        Some(at) => Err(AppError::TooSoon {
            retry_after_secs: u64::try_from((at + EVERY - now).num_seconds().max(1)).unwrap_or(1),
        }),
        None => Ok(()),
    }
}

/// The file of export `id` for the logged-in member who asked for it:
/// `None` for anyone else or an expired export.
pub async fn download(
    state: &AccountsState,
    me: &Principal,
    id: i64,
) -> Result<Option<Vec<u8>>, AppError> {
    let (owner, now) = (me.id, state.clock.now());
    let key: Option<Option<String>> = state
        .db
        .primary(move |c| {
            Ok(data_exports::table
                .find(id)
                .filter(data_exports::user_id.eq(owner))
                .filter(data_exports::status.eq(ExportStatus::Ready))
                .filter(data_exports::expires_at.gt(now))
                .select(data_exports::storage_key)
                .first(c)
                .optional()?)
        })
        .await?;
    let Some(Some(key)) = key else {
        return Ok(None);
    };
    state
        .media
        .get(&key)
        .await
        .map_err(|e| AppError::internal("export file", e))
}

/// My data as one JSON object: each of the export's JSON files under its
/// name (`account`, `profile`, …), as the API gives it.
pub async fn as_json(state: &AccountsState, id: UserId) -> Result<Value, AppError> {
    let (files, _) = state.db.primary(move |c| Ok(collect(c, id)?)).await?;
    Ok(Value::Object(
        files
            .into_iter()
            .map(|(name, v)| (name.trim_end_matches(".json").to_string(), v))
            .collect(),
    ))
}

pub fn register(r: &mut Registry) {
    r.register(BUILD, build);
    if let Err(e) = r.every(EXPIRE, "0 47 * * * *") {
        tracing::error!(error = %e, "invalid export schedule");
    }
    r.register(EXPIRE, expire);
}

fn iso(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The ZIP's JSON files: (file name, content).
type Files = Vec<(&'static str, Value)>;

/// Everything of `id` the ZIP holds, and the storage keys of the photos.
fn collect(c: &mut DbConnection, id: UserId) -> QueryResult<(Files, Vec<String>)> {
    let Some(user) = User::find(c, id)? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let phone = User::phone_of(c, id)?;
    let providers: Vec<(String, NaiveDateTime)> = oauth_identities::table
        .filter(oauth_identities::user_id.eq(id))
        .select((oauth_identities::provider, oauth_identities::created_at))
        .load(c)?;
    let account = json!({
        "id": user.id.0,
        "email": (!user.email.ends_with(".invalid")).then_some(&user.email),
        "phone": phone,
        "nickname": user.nickname,
        "sex": user.sex.as_str(),
        "birthday": user.birthday.to_string(),
        "email_verified_at": user.email_verified_at.map(iso),
        "language": user.language,
        "time_zone": user.time_zone,
        "created_at": iso(user.created_at),
        "last_login_at": user.last_login_at.map(iso),
        "two_factor": user.totp_enabled_at.is_some(),
        "linked_providers": providers.iter().map(|(p, at)| json!({"provider": p, "linked_at": iso(*at)})).collect::<Vec<_>>(),
        "mails": {"match": user.match_mail, "message": user.message_mail},
    });
    let profile = Profile::find(c, id)?;
    let (profile_json, preferences) = match &profile {
        Some(p) => (
            json!({
                "bio": p.bio,
                "city": p.city,
                "latitude": p.latitude,
                "longitude": p.longitude,
                "hide_age": p.hide_age,
                "hide_distance": p.hide_distance,
                "updated_at": iso(p.updated_at),
            }),
            json!({
                "want_sex": p.want_sex.as_str(),
                "min_age": p.min_age,
                "max_age": p.max_age,
                "max_distance_km": p.max_distance_km,
                "discoverable": p.discoverable,
            }),
        ),
        None => (Value::Null, Value::Null),
    };
    let my_photos: Vec<(i64, String, bool, NaiveDateTime)> = photos::table
        .filter(photos::user_id.eq(id))
        .order(photos::id.asc())
        .select((
            photos::id,
            photos::storage_key,
            photos::is_main,
            photos::created_at,
        ))
        .load(c)?;
    let photos_json: Vec<Value> = my_photos
        .iter()
        .map(|(pid, _, main, at)| json!({"id": pid, "file": format!("photos/{pid}.jpg"), "main": main, "uploaded_at": iso(*at)}))
        .collect();
    let keys = my_photos.iter().map(|(_, k, _, _)| k.clone()).collect();
    let my_swipes: Vec<(i64, String, NaiveDateTime)> = swipes::table
        .filter(swipes::swiper_id.eq(id))
        .order(swipes::id.asc())
        .select((swipes::target_id, swipes::kind, swipes::created_at))
        .load(c)?;
    let my_matches: Vec<(i64, UserId, UserId, NaiveDateTime)> = matches::table
        .filter(matches::user_a.eq(id).or(matches::user_b.eq(id)))
        .order(matches::id.asc())
        .select((
            matches::id,
            matches::user_a,
            matches::user_b,
            matches::created_at,
        ))
        .load(c)?;
    let others: Vec<UserId> = my_matches
        .iter()
        .map(|(_, a, b, _)| if *a == id { *b } else { *a })
        .collect();
    let names = User::nicknames(c, &others)?;
    let matches_json: Vec<Value> = my_matches
        .iter()
        .zip(&others)
        .map(|((mid, _, _, at), other)| {
            json!({"id": mid, "with": {"id": other.0, "nickname": names.get(other)}, "matched_at": iso(*at)})
        })
        .collect();
    let match_ids: Vec<i64> = my_matches.iter().map(|m| m.0).collect();
    let conversation: Vec<(i64, i64, UserId, String, NaiveDateTime)> = messages::table
        .filter(messages::match_id.eq_any(&match_ids))
        .order(messages::id.asc())
        .select((
            messages::id,
            messages::match_id,
            messages::sender_id,
            messages::body,
            messages::sent_at,
        ))
        .load(c)?;
    let messages_json: Vec<Value> = conversation
        .iter()
        .map(|(mid, m, from, body, at)| {
            json!({"id": mid, "match": m, "from": if *from == id { "me".to_string() } else { from.0.to_string() }, "body": body, "sent_at": iso(*at)})
        })
        .collect();
    let my_reports: Vec<(i64, i64, String, String, NaiveDateTime)> = reports::table
        .filter(reports::reporter_id.eq(id))
        .select((
            reports::id,
            reports::target_id,
            reports::reason,
            reports::details,
            reports::created_at,
        ))
        .load(c)?;
    let my_blocks: Vec<(i64, NaiveDateTime)> = blocks::table
        .filter(blocks::blocker_id.eq(id))
        .select((blocks::blocked_id, blocks::created_at))
        .load(c)?;
    let sessions: Vec<(NaiveDateTime, NaiveDateTime, String, String)> = user_sessions::table
        .filter(user_sessions::user_id.eq(id))
        .select((
            user_sessions::created_at,
            user_sessions::last_seen_at,
            user_sessions::ip,
            user_sessions::user_agent,
        ))
        .load(c)?;
    let events: Vec<(String, String, String, NaiveDateTime)> = auth_events::table
        .filter(auth_events::user_id.eq(id))
        .order(auth_events::id.asc())
        .select((
            auth_events::kind,
            auth_events::ip,
            auth_events::user_agent,
            auth_events::created_at,
        ))
        .load(c)?;
    let files = vec![
        ("account.json", account),
        ("profile.json", profile_json),
        ("preferences.json", preferences),
        ("photos.json", Value::from(photos_json)),
        (
            "swipes.json",
            my_swipes
                .iter()
                .map(|(t, k, at)| json!({"target": t, "kind": k, "at": iso(*at)}))
                .collect(),
        ),
        ("matches.json", Value::from(matches_json)),
        ("messages.json", Value::from(messages_json)),
        (
            "reports.json",
            my_reports
                .iter()
                .map(|(rid, t, reason, details, at)| json!({"id": rid, "target": t, "reason": reason, "details": details, "at": iso(*at)}))
                .collect(),
        ),
        (
            "blocks.json",
            my_blocks
                .iter()
                .map(|(b, at)| json!({"blocked": b, "at": iso(*at)}))
                .collect(),
        ),
        (
            "sessions.json",
            sessions
                .iter()
                .map(|(start, seen, ip, ua)| json!({"started_at": iso(*start), "last_seen_at": iso(*seen), "ip": ip, "user_agent": ua}))
                .collect(),
        ),
        (
            "security_events.json",
            events
                .iter()
                .map(|(k, ip, ua, at)| json!({"kind": k, "ip": ip, "user_agent": ua, "at": iso(*at)}))
                .collect(),
        ),
    ];
    Ok((files, keys))
}

/// The ZIP: the README, each JSON file, then the photos.
fn zip(
    readme: &str,
    files: &[(&'static str, Value)],
    photos: &[(i64, Vec<u8>)],
) -> Result<Vec<u8>, JobError> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    out.start_file("README.txt", deflated)?;
    out.write_all(readme.as_bytes())?;
    for (name, value) in files {
        out.start_file(*name, deflated)?;
        out.write_all(serde_json::to_string_pretty(value)?.as_bytes())?;
    }
    // JPEGs do not shrink: stored as they are.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (id, bytes) in photos {
        out.start_file(format!("photos/{id}.jpg"), stored)?;
        out.write_all(bytes)?;
    }
    Ok(out.finish()?.into_inner())
}

async fn build(ctx: JobContext, payload: String) -> Result<(), JobError> {
    let BuildJob { export } = serde_json::from_str(&payload)?;
    let found = ctx
        .db
        .primary(move |c| {
            let owner: Option<UserId> = data_exports::table
                .find(export)
                .filter(data_exports::status.eq(ExportStatus::Queued))
                .select(data_exports::user_id)
                .first(c)
                .optional()?;
            let Some(owner) = owner else {
                return Ok(None);
            };
            let photo_ids: Vec<i64> = photos::table
                .filter(photos::user_id.eq(owner))
                .order(photos::id.asc())
                .select(photos::id)
                .load(c)?;
            Ok(Some((User::find(c, owner)?, collect(c, owner)?, photo_ids)))
        })
        .await?;
    // Built already (a retry after the mail), or the account is gone.
    let Some((Some(user), (files, keys), photo_ids)) = found else {
        return Ok(());
    };
    let mut photo_files = Vec::new();
    for (id, key) in photo_ids.iter().zip(&keys) {
        let largest = crate::profiles::imaging::SIZES[crate::profiles::imaging::SIZES.len() - 1];
        let file = crate::profiles::photos::size_key(key, largest);
        if let Some(bytes) = ctx.media.get(&file).await? {
            photo_files.push((*id, bytes));
        }
    }
    let t = Tr::new(user.language.as_deref().unwrap_or("en"));
    let bytes = zip(t.t("export.readme"), &files, &photo_files)?;
    let key = format!(
        "exports/{}.zip",
        crate::security::random::token(24).to_lowercase()
    );
    ctx.media.put(&key, bytes, "application/zip").await?;
    let now = ctx.clock.now();
    let stored_key = key.clone();
    let marked = ctx
        .db
        .write(move |c| {
            Ok(diesel::update(
                data_exports::table
                    .find(export)
                    .filter(data_exports::status.eq(ExportStatus::Queued)),
            )
            .set((
                data_exports::status.eq(ExportStatus::Ready),
                data_exports::storage_key.eq(Some(stored_key)),
                data_exports::ready_at.eq(Some(now)),
                data_exports::expires_at.eq(Some(now + LIFETIME)),
            ))
            .execute(c)?)
        })
        .await?;
    if marked == 0 {
        ctx.media.delete(&key).await?;
        return Ok(());
    }
    if user.email.ends_with(".invalid") {
        // A phone account has no mailbox: the data page links the export.
        return Ok(());
    }
    let link = ctx
        .settings
        .absolute_url(&format!("/settings/data/exports/{export}"));
    let mail = OutgoingMail {
        to: user.email.clone(),
        subject: t.t("mail.export.subject").to_string(),
        body: t.tf(
            "mail.export.body",
            &[("name", &user.nickname), ("link", &link)],
        ),
        unsubscribe: None,
    };
    ctx.mailer.send(&ctx.settings.mail.from, mail).await?;
    Ok(())
}

/// Deletes the files of expired exports.
async fn expire(ctx: JobContext, _payload: String) -> Result<(), JobError> {
    let now = ctx.clock.now();
    let due: Vec<(i64, Option<String>)> = ctx
        .db
        .primary(move |c| {
            Ok(data_exports::table
                .filter(data_exports::status.eq(ExportStatus::Ready))
                .filter(data_exports::expires_at.le(now))
                .select((data_exports::id, data_exports::storage_key))
                .load(c)?)
        })
        .await?;
    for (id, key) in due {
        if let Some(key) = &key {
            ctx.media.delete(key).await?;
        }
        ctx.db
            .write(move |c| {
                Ok(diesel::update(data_exports::table.find(id))
                    .set((
                        data_exports::status.eq(ExportStatus::Expired),
                        data_exports::storage_key.eq(None::<String>),
                    ))
                    .execute(c)?)
            })
            .await?;
    }
    Ok(())
}
