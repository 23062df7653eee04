//! `swiper create-admin`: an account with the superadmin flag. (The RBAC
//! issue replaces the flag with the `superadmin` role.)

use chrono::NaiveDateTime;

use super::input::{Email, Sex};
use crate::auth::users::UserInsertForm;
use crate::auth::{rbac, User};
use crate::db::{transaction, DbConnection};
use crate::profiles::store::Profile;
use crate::security::{password, random, SecretString};

pub enum CreatedAdmin {
    Promoted,
    Created {
        password: SecretString,
    },
    /// The account is banned and `unban` was not asked: nothing changed.
    Banned,
}

/// Promotes the account with `email`, or creates a verified one with a random
/// password that is returned once. A banned account stays as it is unless
/// `unban` lifts the ban too (a ban is not lifted by accident).
pub fn create_admin(
    conn: &mut DbConnection,
    email: &Email,
    iterations: u32,
    unban: bool,
    now: NaiveDateTime,
) -> diesel::QueryResult<CreatedAdmin> {
    transaction(conn, |c| {
        if let Some(user) = User::find_by_email(c, email.as_str())? {
            if !user.is_active {
                if !unban {
                    return Ok(CreatedAdmin::Banned);
                }
                User::lift_ban(c, user.id, now)?;
                Profile::refresh_in_feed(c, user.id)?;
            }
            User::promote_superadmin(c, user.id, now)?;
            rbac::assign(c, user.id, rbac::SUPERADMIN, now)?;
            return Ok(CreatedAdmin::Promoted);
        }
        let pw = random::token(15);
        let hash = password::hash(&pw, iterations);
        let nickname = email.as_str().split('@').next().unwrap_or("admin");
        let birthday = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
        let id = User::insert(
            c,
            &UserInsertForm {
                email: email.as_str(),
                password_hash: &hash,
                nickname,
                sex: Sex::Female,
                birthday,
                email_verified_at: Some(now),
                is_superadmin: true,
                language: None,
                password_changed_at: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        // A staff account is not shown in discovery (in_feed stays false)
        // until its owner fills in the profile and saves it.
        Profile::create(c, id, Sex::Female, birthday, now)?;
        rbac::assign(c, id, rbac::SUPERADMIN, now)?;
        Ok(CreatedAdmin::Created {
            password: SecretString::new(pw),
        })
    })
}
