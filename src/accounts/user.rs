//! The `users` table: the account row and its queries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::users;
use crate::db::DbConnection;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Mails with a cool-down per account.
#[derive(Clone, Copy, Debug)]
pub enum MailStamp {
    Verification,
    Reset,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub nickname: String,
    pub sex: String,
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
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct UserInsertForm<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub nickname: &'a str,
    pub sex: &'a str,
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
        UserId(self.id)
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<User>> {
        users::table
            .find(id.0)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut DbConnection, form: &UserInsertForm<'_>) -> QueryResult<i64> {
        diesel::insert_into(users::table)
            .values(form)
            .returning(users::id)
            .get_result(conn)
    }

    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: UserId,
        hash: &str,
        now: NaiveDateTime,
        changed: bool,
    ) -> QueryResult<()> {
        let target = users::table.find(id.0);
        if changed {
            diesel::update(target)
                .set((
                    users::password_hash.eq(hash),
                    users::password_changed_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
        } else {
            diesel::update(target)
                .set(users::password_hash.eq(hash))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Saves the member's language choice (a code with a catalog).
    pub fn set_language(conn: &mut DbConnection, id: UserId, code: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id.0))
            .set(users::language.eq(Some(code)))
            .execute(conn)
            .map(|_| ())
    }

    /// Replaces `old` with `new` if `old` is still the stored hash.
    pub fn upgrade_hash(
        conn: &mut DbConnection,
        id: UserId,
        old: &str,
        new: &str,
    ) -> QueryResult<bool> {
        let n = diesel::update(users::table.find(id.0).filter(users::password_hash.eq(old)))
            .set(users::password_hash.eq(new))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Stamps that a mail of `kind` was queued now, unless one was less than
    /// `cooldown` ago. One conditional UPDATE, so double clicks queue one mail.
    pub fn stamp_mail_if_cooled(
        conn: &mut DbConnection,
        id: UserId,
        kind: MailStamp,
        now: NaiveDateTime,
        cooldown: std::time::Duration,
    ) -> QueryResult<bool> {
        let since = now - chrono::TimeDelta::from_std(cooldown).unwrap_or(chrono::TimeDelta::MAX);
        let target = users::table.find(id.0);
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
}
