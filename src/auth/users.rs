//! The `users` table: the account row and every query on it.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::clock::delta;
use crate::db::schema::users;
use crate::db::DbConnection;
use crate::mail::Optional;

pub use crate::db::types::UserId;
use crate::db::types::{PlanId, SecretText};

crate::text_enum!(
    /// A member's sex, as stored in `users.sex`.
    Sex {
        Male => "male",
        Female => "female",
        NonBinary => "nonbinary",
    }
);

/// Mails with a cool-down per account.
#[derive(Clone, Copy, Debug)]
pub enum MailStamp {
    Verification,
    Reset,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub password_hash: SecretText,
    pub nickname: String,
    pub sex: Sex,
    pub birthday: NaiveDate,
    pub email_verified_at: Option<NaiveDateTime>,
    pub verification_sent_at: Option<NaiveDateTime>,
    pub is_superadmin: bool,
    pub is_active: bool,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub password_changed_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub reset_sent_at: Option<NaiveDateTime>,
    /// Public storage key of the main photo's thumbnail, shown in the navigation.
    pub avatar_key: Option<String>,
    /// The TOTP secret, sealed; pending until `totp_enabled_at` is set.
    pub totp_secret: Option<SecretText>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
    /// False for an account made through a provider until a password is set.
    pub password_usable: bool,
    /// The membership plan (`None`: free).
    pub plan_id: Option<PlanId>,
    /// Chat messages waiting to be read, over all matches (the badge).
    pub unread_messages: i64,
    /// Made by a phone number's first login: nickname, sex and birthday
    /// are still to be given (until then it is neither shown nor swipes).
    pub profile_pending: bool,
    /// Mail me on a new match (settings, or the mail's one-click link).
    pub match_mail: bool,
    /// Mail me when a match writes while I am away.
    pub message_mail: bool,
    /// The member deleted the account: hidden, restorable by logging in
    /// until [`GRACE`] has passed, then purged.
    pub deleted_at: Option<NaiveDateTime>,
    /// Staff banned the account (`is_active` is false).
    pub banned_at: Option<NaiveDateTime>,
    /// The deleted account's personal data is gone (a tombstone row).
    pub purged_at: Option<NaiveDateTime>,
}

/// How long a deleted account can be restored by logging in.
pub const GRACE: TimeDelta = TimeDelta::days(14);

/// No `Debug`: it holds the password hash.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct UserInsertForm<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub nickname: &'a str,
    pub sex: Sex,
    pub birthday: NaiveDate,
    pub email_verified_at: Option<NaiveDateTime>,
    pub is_superadmin: bool,
    pub language: Option<&'a str>,
    pub password_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    pub fn user_id(&self) -> UserId {
        self.id
    }

    /// Whether logging in takes a second step (a TOTP or recovery code).
    pub fn has_second_factor(&self) -> bool {
        self.totp_enabled_at.is_some()
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// The nicknames of these members (the public name cards show).
    /// See [`Names`] for pages that name people by id.
    pub fn nicknames(
        conn: &mut DbConnection,
        ids: &[UserId],
    ) -> QueryResult<std::collections::HashMap<UserId, String>> {
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::nickname))
            .load::<(UserId, String)>(conn)?
            .into_iter()
            .collect())
    }

    /// The account whose verified phone number is `phone` (E.164).
    pub fn find_by_phone(conn: &mut DbConnection, phone: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::phone.eq(phone))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// The member's verified phone number, if any.
    pub fn phone_of(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<String>> {
        users::table
            .find(id)
            .select(users::phone)
            .first(conn)
            .optional()
            .map(Option::flatten)
    }

    /// Records `phone` as the member's verified number; `false` when another
    /// account has it (one account per number).
    pub fn set_phone(conn: &mut DbConnection, id: UserId, phone: &str) -> QueryResult<bool> {
        let taken = crate::db::insert_unique(conn, |c| {
            diesel::update(users::table.find(id))
                .set(users::phone.eq(Some(phone)))
                .execute(c)
        })?;
        Ok(taken.is_some())
    }

    /// Forgets the member's phone number.
    pub fn clear_phone(conn: &mut DbConnection, id: UserId) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::phone.eq(None::<String>))
            .execute(conn)
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// Adds many accounts at once (seeding); their ids are looked up by email.
    pub fn insert_many(
        conn: &mut DbConnection,
        forms: &[UserInsertForm<'_>],
    ) -> QueryResult<usize> {
        crate::db::dialect::per_backend(
            conn,
            |pg| diesel::insert_into(users::table).values(forms).execute(pg),
            |sq| diesel::insert_into(users::table).values(forms).execute(sq),
        )
    }

    /// The ids of these addresses, where accounts exist.
    pub fn ids_by_email(
        conn: &mut DbConnection,
        emails: &[&str],
    ) -> QueryResult<Vec<(String, UserId)>> {
        users::table
            .filter(users::email.eq_any(emails))
            .select((users::email, users::id))
            .load(conn)
    }

    /// How many seeded accounts (`member<n>@<domain>`) exist.
    pub fn count_seeded(conn: &mut DbConnection, domain: &str) -> QueryResult<i64> {
        users::table
            .filter(users::email.like(format!("member%@{domain}")))
            .count()
            .get_result(conn)
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        users::table.count().get_result(conn)
    }

    pub fn insert(conn: &mut DbConnection, form: &UserInsertForm<'_>) -> QueryResult<UserId> {
        diesel::insert_into(users::table)
            .values(form)
            .returning(users::id)
            .get_result(conn)
    }

    /// A new password chosen by the member (a reset or a change).
    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: UserId,
        hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::password_usable.eq(true),
                users::password_changed_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Bans an account: disabled, with the ban's own mark.
    pub fn ban(conn: &mut DbConnection, id: UserId, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::is_active.eq(false),
                users::banned_at.eq(Some(now)),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Lifts a ban. An account its member deleted stays disabled (only its
    /// member's login restores it, within the grace period; a purged one
    /// never comes back).
    pub fn lift_ban(conn: &mut DbConnection, id: UserId, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::is_active.eq(users::deleted_at.is_null()),
                users::banned_at.eq(None::<NaiveDateTime>),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// The member deleted the account: disabled and hidden at once.
    pub fn mark_deleted(
        conn: &mut DbConnection,
        id: UserId,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::is_active.eq(false),
                users::deleted_at.eq(Some(now)),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Undoes a deletion still in its grace period (the member logged in);
    /// returns whether there was one to undo.
    pub fn restore(conn: &mut DbConnection, id: UserId, now: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(users::table.find(id).filter(restorable(now)))
            .set((
                users::is_active.eq(true),
                users::deleted_at.eq(None::<NaiveDateTime>),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Those of `ids` who deleted their account (in its grace period or purged).
    pub fn departed_among(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<UserId>> {
        users::table
            .filter(users::id.eq_any(ids))
            .filter(users::deleted_at.is_not_null())
            .select(users::id)
            .load(conn)
    }

    /// Whether a proven login may open a session: an active account, or a
    /// deleted one within its grace period (which the login restores).
    pub fn may_log_in(&self, now: NaiveDateTime) -> bool {
        self.is_active
            || (self.banned_at.is_none()
                && self.purged_at.is_none()
                && self.deleted_at.is_some_and(|at| now < at + GRACE))
    }

    /// Marks the password as not chosen by the member (an account made
    /// through a provider).
    pub fn mark_password_unusable(conn: &mut DbConnection, id: UserId) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::password_usable.eq(false))
            .execute(conn)
            .map(|_| ())
    }

    /// Saves the member's language choice (a code with a catalog).
    pub fn set_language(conn: &mut DbConnection, id: UserId, code: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::language.eq(Some(code)))
            .execute(conn)
            .map(|_| ())
    }

    /// Replaces `old` with `new` (the same password, re-hashed with more
    /// iterations) if `old` is still the stored hash.
    pub fn upgrade_hash(
        conn: &mut DbConnection,
        id: UserId,
        old: &str,
        new: &str,
    ) -> QueryResult<bool> {
        let n = diesel::update(users::table.find(id).filter(users::password_hash.eq(old)))
            .set(users::password_hash.eq(new))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Records a login, if the account is still active and its hash is still
    /// `verified_hash`. One conditional UPDATE: on PostgreSQL it waits for a
    /// concurrent reset's row lock and then re-checks, so a login cannot
    /// straddle a reset. Returns whether it did.
    pub fn record_login_if_unchanged(
        conn: &mut DbConnection,
        id: UserId,
        verified_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            users::table
                .find(id)
                .filter(users::password_hash.eq(verified_hash))
                .filter(users::is_active.eq(true).or(restorable(now))),
        )
        .set(users::last_login_at.eq(now))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Whether the member gets mails of `kind` (settings, or the one-click
    /// link in such a mail).
    pub fn wants(&self, kind: Optional) -> bool {
        match kind {
            Optional::Match => self.match_mail,
            Optional::Message => self.message_mail,
        }
    }

    /// Turns mails of `kind` on or off.
    pub fn set_mail(
        conn: &mut DbConnection,
        id: UserId,
        kind: Optional,
        on: bool,
    ) -> QueryResult<usize> {
        let target = diesel::update(users::table.find(id));
        match kind {
            Optional::Match => target.set(users::match_mail.eq(on)).execute(conn),
            Optional::Message => target.set(users::message_mail.eq(on)).execute(conn),
        }
    }

    /// Makes a new row the account of `phone`: no usable password, and
    /// pending (it gives nickname, sex and birthday before anything else).
    /// A unique violation when another account has the number.
    pub fn make_phone_account(conn: &mut DbConnection, id: UserId, phone: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::phone.eq(Some(phone)),
                users::profile_pending.eq(true),
                users::password_usable.eq(false),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Gives a pending account its nickname, sex and birthday; its phone
    /// number, proven by the code, counts as its verified contact. `false`
    /// when the account was not pending (completed already).
    pub fn complete_profile(
        conn: &mut DbConnection,
        id: UserId,
        nickname: &str,
        sex: Sex,
        birthday: NaiveDate,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            users::table
                .find(id)
                .filter(users::profile_pending.eq(true)),
        )
        .set((
            users::nickname.eq(nickname),
            users::sex.eq(sex),
            users::birthday.eq(birthday),
            users::profile_pending.eq(false),
            users::email_verified_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Marks the email verified (once; later calls change nothing).
    pub fn mark_verified(
        conn: &mut DbConnection,
        id: UserId,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(
            users::table
                .find(id)
                .filter(users::email_verified_at.is_null()),
        )
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
    }

    pub fn promote_superadmin(
        conn: &mut DbConnection,
        id: UserId,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((users::is_superadmin.eq(true), users::updated_at.eq(now)))
            .execute(conn)
            .map(|_| ())
    }

    /// Stamps that a mail of `kind` was queued now, unless one was less than
    /// `cooldown` ago. One conditional UPDATE, so double clicks queue one mail.
    pub fn stamp_mail_if_cooled(
        conn: &mut DbConnection,
        id: UserId,
        kind: MailStamp,
        now: NaiveDateTime,
        cooldown: Duration,
    ) -> QueryResult<bool> {
        let since = now - delta(cooldown);
        let target = users::table.find(id);
        let n = match kind {
            MailStamp::Verification => diesel::update(
                target.filter(
                    users::verification_sent_at
                        .is_null()
                        .or(users::verification_sent_at.le(since)),
                ),
            )
            .set(users::verification_sent_at.eq(now))
            .execute(conn)?,
            MailStamp::Reset => diesel::update(
                target.filter(
                    users::reset_sent_at
                        .is_null()
                        .or(users::reset_sent_at.le(since)),
                ),
            )
            .set(users::reset_sent_at.eq(now))
            .execute(conn)?,
        };
        Ok(n == 1)
    }

    /// The key of the member's processed main photo (`None`: no photo).
    pub fn set_avatar(conn: &mut DbConnection, id: UserId, key: Option<&str>) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::avatar_key.eq(key))
            .execute(conn)
            .map(|_| ())
    }

    /// Saves the nickname (validated by the caller) and the time zone.
    pub fn set_nickname_and_time_zone(
        conn: &mut DbConnection,
        id: UserId,
        nickname: &str,
        time_zone: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::nickname.eq(nickname),
                users::time_zone.eq(Some(time_zone)),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Stamps a verification mail as sent now, unconditionally (sign-up).
    pub fn stamp_verification_sent(
        conn: &mut DbConnection,
        id: UserId,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::verification_sent_at.eq(now))
            .execute(conn)
            .map(|_| ())
    }
}

/// Members' nicknames by id, for pages that name people instead of showing
/// bare ids (the admin console's queues and audit log).
pub struct Names(std::collections::HashMap<UserId, String>);

impl Names {
    pub fn of(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Self> {
        Ok(Self(User::nicknames(conn, ids)?))
    }

    /// The member's nickname, or `#id` for an id that names nobody now.
    pub fn name(&self, id: &UserId) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| format!("#{id}"))
    }
}

/// A deleted account its member can still bring back by logging in: not
/// banned, not purged, deleted less than [`GRACE`] ago (the SQL twin of
/// [`User::may_log_in`]'s second half).
type Restorable = diesel::dsl::And<
    diesel::dsl::And<
        diesel::dsl::Gt<users::deleted_at, NaiveDateTime>,
        diesel::dsl::IsNull<users::banned_at>,
    >,
    diesel::dsl::IsNull<users::purged_at>,
>;

fn restorable(now: NaiveDateTime) -> Restorable {
    users::deleted_at
        .gt(now - GRACE)
        .and(users::banned_at.is_null())
        .and(users::purged_at.is_null())
}
