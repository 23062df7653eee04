//! `swiper create-admin`: an account with the superadmin flag. (The RBAC
//! issue replaces the flag with the `superadmin` role.)

use diesel::prelude::*;

use super::input::Email;
use super::user::{User, UserInsertForm};
use crate::db::schema::users;
use crate::db::{self, DbConnection};
use crate::security::{password, random};

pub enum CreatedAdmin {
    Promoted,
    Created { password: String },
}

/// Promotes the account with `email`, or creates a verified one with a random
/// password that is returned once.
pub fn create_admin(
    conn: &mut DbConnection,
    email: &Email,
    iterations: u32,
) -> QueryResult<CreatedAdmin> {
    db::transaction(conn, |c| {
        let now = db::now();
        if let Some(user) = User::find_by_email(c, email.as_str())? {
            diesel::update(users::table.find(user.id))
                .set((users::is_superadmin.eq(true), users::updated_at.eq(now)))
                .execute(c)?;
            return Ok(CreatedAdmin::Promoted);
        }
        let pw = random::token(15);
        let hash = password::hash(&pw, iterations);
        let nickname = email.as_str().split('@').next().unwrap_or("admin");
        User::insert(
            c,
            &UserInsertForm {
                email: email.as_str(),
                password_hash: &hash,
                nickname,
                sex: "female",
                birthday: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
                email_verified_at: Some(now),
                is_superadmin: true,
                language: None,
                password_changed_at: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        Ok(CreatedAdmin::Created { password: pw })
    })
}
