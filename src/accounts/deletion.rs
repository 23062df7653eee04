//! Deleting my account. The member proves it is them (the password; a code
//! texted to the number of a phone account; a login less than ten minutes
//! old for an account that has neither). The account is then hidden at
//! once: disabled (so it is in no feed, no likes, no search), every session
//! and API token ends on every instance, and the other side of each match
//! sees "deleted member". Logging in within [`GRACE`] restores it
//! (`login::open_session`); after that the purge ([`purge`], run by the
//! admin's periodic job so the audit log records it) removes the personal
//! data and leaves a tombstone row, so the other member's conversations
//! still read. A banned account's email and phone stay behind as keyed
//! hashes for [`banned::BAN_MEMORY`], so deleting is no way around a ban.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::banned;
use super::closing;
use super::phone::Phone;
use super::reentry::{self, Caller, Guards};
use super::sms::{self, Purpose};
use super::state::AccountsState;
use crate::auth::{sessions, Principal, User, UserId};
use crate::db::schema::{
    account_tokens, auth_events, blocks, oauth_identities, photos, profiles, recovery_codes,
    reports, rewinds, swipes, user_roles, user_sessions, users,
};
use crate::db::DbConnection;
use crate::error::{AppError, FieldCode, FieldErrors};
use crate::profiles::photos::Photo;
use crate::security::SecretString;

pub use crate::auth::users::GRACE;

/// How old a login may be to delete an account that has neither a
/// password nor a phone (a provider's): the provider's login is the proof.
pub const FRESH_LOGIN: TimeDelta = TimeDelta::minutes(10);

/// What the member sent: the password, or (a phone account) the code.
#[derive(Debug, Default)]
pub struct Proof {
    pub password: SecretString,
    pub code: String,
}

/// How a request to delete ended.
pub enum Deletion {
    Done,
    /// A phone account asked without a code: one was texted.
    CodeSent,
    /// A wrong password or code: the field's error.
    Refused(FieldErrors),
    /// An account with neither password nor phone logs in again first.
    LoginAgain,
}

/// How `member` proves it is them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKind {
    Password,
    Code,
    FreshLogin,
}

fn proof_kind(user: &User, phone: Option<&str>) -> ProofKind {
    if user.password_usable {
        ProofKind::Password
    } else if phone.is_some() {
        ProofKind::Code
    } else {
        ProofKind::FreshLogin
    }
}

/// The way the logged-in member proves it is them.
pub async fn proof_for(state: &AccountsState, me: &Principal) -> Result<ProofKind, AppError> {
    let (user, phone) = account(state, me.id).await?;
    Ok(user.map_or(ProofKind::Password, |u| proof_kind(&u, phone.as_deref())))
}

/// The account and its phone number.
async fn account(
    state: &AccountsState,
    id: UserId,
) -> Result<(Option<User>, Option<String>), AppError> {
    state
        .db
        .primary(move |c| Ok((User::find(c, id)?, User::phone_of(c, id)?)))
        .await
}

/// Deletes the logged-in member's account once they proved it is them.
pub async fn delete(
    state: &AccountsState,
    me: &Principal,
    caller: &Caller,
    proof: Proof,
    lang: &str,
) -> Result<Deletion, AppError> {
    let id = me.id;
    let (Some(user), phone) = account(state, id).await? else {
        return Err(AppError::LoginRequired);
    };
    let now = state.clock.now();
    match proof_kind(&user, phone.as_deref()) {
        ProofKind::Password => {
            if !reentry::check(&Guards::of(state), caller, &user, &proof.password).await? {
                let wrong = FieldErrors::one("password", FieldCode::WrongPassword);
                return Ok(Deletion::Refused(wrong));
            }
        }
        ProofKind::Code => {
            let phone = phone
                .as_deref()
                .and_then(|p| Phone::parse(p).ok())
                .ok_or(AppError::InvalidInput)?;
            let purpose = Purpose::Delete(id);
            if proof.code.trim().is_empty() {
                let lang = user.language.as_deref().unwrap_or(lang);
                sms::send_code(state, &phone, purpose, &caller.ip_bucket, lang, true).await?;
                return Ok(Deletion::CodeSent);
            }
            if !sms::check_code(state, &phone, purpose, &proof.code).await {
                let wrong = FieldErrors::one("code", FieldCode::InvalidCode);
                return Ok(Deletion::Refused(wrong));
            }
        }
        ProofKind::FreshLogin => {
            let session = me.session_id.clone();
            let started: Option<NaiveDateTime> = state
                .db
                .primary(move |c| {
                    Ok(user_sessions::table
                        .find(&session)
                        .select(user_sessions::created_at)
                        .first(c)
                        .optional()?)
                })
                .await?;
            if started.is_none_or(|at| at + FRESH_LOGIN < now) {
                return Ok(Deletion::LoginAgain);
            }
        }
    }
    let closing = state
        .db
        .write(move |c| {
            Ok(crate::db::dialect::transaction(c, |c| {
                closing::close(c, id, User::mark_deleted, now)
            })?)
        })
        .await?;
    closing::announce(&state.hub, id, &closing).await;
    tracing::info!(user = %id, "account deleted by its member");
    Ok(Deletion::Done)
}

/// The deleted accounts whose grace period is over and not yet purged.
pub fn due(c: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<UserId>> {
    users::table
        .filter(users::deleted_at.lt(now - GRACE))
        .filter(users::purged_at.is_null())
        .order(users::id.asc())
        .limit(limit)
        .select(users::id)
        .load(c)
}

/// Purges one account past its grace period, inside the caller's
/// transaction: photos (their files go by the photo jobs), profile, swipes,
/// rewinds, blocks made, sessions and tokens, provider links, security
/// events, roles and the phone; reports keep their ids and reason, not
/// their words. The users row stays as a tombstone without personal data
/// (the other side's conversations name it "deleted member"). Returns
/// `false` when there was nothing to purge (another worker did it).
pub fn purge(
    c: &mut DbConnection,
    keys: &crate::security::keys::Keys,
    id: UserId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(user) = User::find(c, id)? else {
        return Ok(false);
    };
    if user.purged_at.is_some() || user.deleted_at.is_none_or(|at| at + GRACE > now) {
        return Ok(false);
    }
    if user.banned_at.is_some() {
        let phone = User::phone_of(c, id)?;
        let contacts = [Some(user.email.as_str()), phone.as_deref()];
        for contact in contacts.into_iter().flatten() {
            banned::remember(c, keys, contact, now)?;
        }
    }
    for photo in Photo::of_user(c, id)? {
        crate::profiles::jobs::queue_file_deletion(c, &photo.storage_key, now)?;
    }
    diesel::delete(photos::table.filter(photos::user_id.eq(id))).execute(c)?;
    diesel::delete(profiles::table.find(id)).execute(c)?;
    diesel::delete(swipes::table.filter(swipes::swiper_id.eq(id).or(swipes::target_id.eq(id))))
        .execute(c)?;
    diesel::delete(rewinds::table.filter(rewinds::user_id.eq(id))).execute(c)?;
    diesel::delete(blocks::table.filter(blocks::blocker_id.eq(id))).execute(c)?;
    sessions::revoke_all(c, id)?;
    diesel::delete(account_tokens::table.filter(account_tokens::user_id.eq(id))).execute(c)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id))).execute(c)?;
    diesel::delete(oauth_identities::table.filter(oauth_identities::user_id.eq(id))).execute(c)?;
    diesel::delete(auth_events::table.filter(auth_events::user_id.eq(id))).execute(c)?;
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id))).execute(c)?;
    diesel::update(
        reports::table.filter(reports::reporter_id.eq(id).or(reports::target_id.eq(id))),
    )
    .set(reports::details.eq(""))
    .execute(c)?;
    let placeholder = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(format!("deleted-{}@deleted.invalid", id.0)),
            users::password_hash.eq(""),
            users::password_usable.eq(false),
            users::nickname.eq(""),
            users::birthday.eq(placeholder),
            users::phone.eq(None::<String>),
            users::email_verified_at.eq(None::<NaiveDateTime>),
            users::language.eq(None::<String>),
            users::time_zone.eq(None::<String>),
            users::avatar_key.eq(None::<String>),
            users::totp_secret.eq(None::<String>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::last_login_at.eq(None::<NaiveDateTime>),
            users::plan_id.eq(None::<i64>),
            users::match_mail.eq(false),
            users::message_mail.eq(false),
            users::is_active.eq(false),
            users::is_superadmin.eq(false),
            users::purged_at.eq(Some(now)),
            users::updated_at.eq(now),
        ))
        .execute(c)?;
    Ok(true)
}
