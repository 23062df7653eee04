//! Role-based access control: permissions are defined once here and synced
//! to the `permissions` table by migrate; roles group them
//! (`role_permissions`) and members hold roles (`user_roles`). Anyone with
//! at least one role is staff. The seeded roles are created by the sync when
//! missing; `superadmin` always holds every permission.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{permissions, role_permissions, roles, user_roles};
use crate::db::types::{RoleId, UserId};
use crate::db::{insert_unique, transaction, DbConnection};

crate::text_enum!(
    /// What a staff action needs.
    Permission {
        AdminView => "admin.view",
        UsersView => "users.view",
        UsersBan => "users.ban",
        UsersVerify => "users.verify",
        UsersMail => "users.mail",
        UsersSessions => "users.sessions",
        UsersRoles => "users.roles",
        UsersPlan => "users.plan",
        ReportsHandle => "reports.handle",
        PhotosReview => "photos.review",
        SettingsEdit => "settings.edit",
        RolesEdit => "roles.edit",
        AuditView => "audit.view",
        StatsView => "stats.view",
        JobsView => "jobs.view",
        JobsRetry => "jobs.retry",
        PlansEdit => "plans.edit",
    }
);

pub const SUPERADMIN: &str = "superadmin";

/// A role the sync creates when it is missing.
pub struct SeededRole {
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [Permission],
}

use Permission as P;

pub const SEEDED_ROLES: &[SeededRole] = &[
    SeededRole {
        name: SUPERADMIN,
        description: "Everything, including roles and settings",
        permissions: P::ALL,
    },
    SeededRole {
        name: "moderator",
        description: "Reports, bans and photo review",
        permissions: &[
            P::AdminView,
            P::UsersView,
            P::UsersBan,
            P::ReportsHandle,
            P::PhotosReview,
        ],
    },
    SeededRole {
        name: "support",
        description: "View members, resend mail, revoke sessions",
        permissions: &[
            P::AdminView,
            P::UsersView,
            P::UsersMail,
            P::UsersSessions,
            P::UsersVerify,
        ],
    },
    SeededRole {
        name: "analyst",
        description: "Dashboards, read only",
        permissions: &[P::AdminView, P::StatsView, P::AuditView, P::JobsView],
    },
];

/// Brings the tables in line with the code: every permission exists, every
/// seeded role exists, and `superadmin` holds every permission. Roles staff
/// created or edited keep their permissions.
pub fn sync(c: &mut DbConnection, now: NaiveDateTime) -> QueryResult<()> {
    transaction(c, |c| {
        let known: BTreeSet<String> = permissions::table
            .select(permissions::code)
            .load::<String>(c)?
            .into_iter()
            .collect();
        for p in Permission::ALL {
            if !known.contains(p.as_str()) {
                insert_unique(c, |c| {
                    diesel::insert_into(permissions::table)
                        .values(permissions::code.eq(p.as_str()))
                        .execute(c)
                })?;
            }
        }
        for seeded in SEEDED_ROLES {
            let existing = role_id(c, seeded.name)?;
            let id = match existing {
                Some(id) => id,
                None => {
                    let created = insert_unique(c, |c| {
                        diesel::insert_into(roles::table)
                            .values((
                                roles::name.eq(seeded.name),
                                roles::description.eq(seeded.description),
                                roles::created_at.eq(now),
                            ))
                            .execute(c)
                    })?;
                    let Some(id) = role_id(c, seeded.name)? else {
                        continue;
                    };
                    if created.is_some() {
                        grant_all(c, id, seeded.permissions)?;
                    }
                    id
                }
            };
            if seeded.name == SUPERADMIN {
                grant_all(c, id, Permission::ALL)?;
            }
        }
        Ok(())
    })
}

fn grant_all(c: &mut DbConnection, role: RoleId, perms: &[Permission]) -> QueryResult<()> {
    for p in perms {
        insert_unique(c, |c| {
            diesel::insert_into(role_permissions::table)
                .values((
                    role_permissions::role_id.eq(role),
                    role_permissions::permission.eq(p.as_str()),
                ))
                .execute(c)
        })?;
    }
    Ok(())
}

pub fn role_id(c: &mut DbConnection, name: &str) -> QueryResult<Option<RoleId>> {
    roles::table
        .filter(roles::name.eq(name))
        .select(roles::id)
        .first(c)
        .optional()
}

/// Gives `user` the role `name`; `false` if they had it already (or it does not exist).
pub fn assign(
    c: &mut DbConnection,
    user: UserId,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(role) = role_id(c, name)? else {
        return Ok(false);
    };
    Ok(insert_unique(c, |c| {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(user),
                user_roles::role_id.eq(role),
                user_roles::created_at.eq(now),
            ))
            .execute(c)
    })?
    .is_some())
}

/// The names of a member's roles.
pub fn roles_of(c: &mut DbConnection, user: UserId) -> QueryResult<Vec<String>> {
    user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq(user))
        .order(roles::name)
        .select(roles::name)
        .load(c)
}

/// Everything a member's roles allow (empty for members who are not staff).
pub fn permissions_of(c: &mut DbConnection, user: UserId) -> QueryResult<BTreeSet<Permission>> {
    let codes: Vec<String> = user_roles::table
        .inner_join(role_permissions::table.on(role_permissions::role_id.eq(user_roles::role_id)))
        .filter(user_roles::user_id.eq(user))
        .select(role_permissions::permission)
        .distinct()
        .load(c)?;
    Ok(codes.iter().filter_map(|c| Permission::parse(c)).collect())
}

/// What the role `name` grants (empty for an unknown role).
pub fn permissions_of_role(c: &mut DbConnection, name: &str) -> QueryResult<BTreeSet<Permission>> {
    let codes: Vec<String> = role_permissions::table
        .inner_join(roles::table)
        .filter(roles::name.eq(name))
        .select(role_permissions::permission)
        .load(c)?;
    Ok(codes.iter().filter_map(|c| Permission::parse(c)).collect())
}

/// Whether a member holds any role.
pub fn is_staff(c: &mut DbConnection, user: UserId) -> QueryResult<bool> {
    let n: i64 = user_roles::table
        .filter(user_roles::user_id.eq(user))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// Every role name, for the roles form.
pub fn role_names(c: &mut DbConnection) -> QueryResult<Vec<String>> {
    roles::table.order(roles::name).select(roles::name).load(c)
}

/// How replacing a member's roles ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetRoles {
    Done,
    UnknownRole,
    /// The member is the last superadmin and would lose the role.
    LastSuperadmin,
}

/// Replaces a member's roles with `names`, inside the caller's transaction.
/// The superadmin role's row is locked first, so two demotions racing
/// cannot leave the site without a superadmin.
pub fn set_roles(
    c: &mut DbConnection,
    user: UserId,
    names: &[String],
    now: NaiveDateTime,
) -> QueryResult<SetRoles> {
    // A no-op update takes the row lock on PostgreSQL (SQLite's write
    // transaction is exclusive already).
    diesel::update(roles::table.filter(roles::name.eq(SUPERADMIN)))
        .set(roles::name.eq(SUPERADMIN))
        .execute(c)?;
    let mut ids = Vec::new();
    for name in names {
        match role_id(c, name)? {
            Some(id) => ids.push(id),
            None => return Ok(SetRoles::UnknownRole),
        }
    }
    let had = roles_of(c, user)?.iter().any(|r| r == SUPERADMIN);
    let keeps = names.iter().any(|r| r == SUPERADMIN);
    if had && !keeps {
        let Some(sa) = role_id(c, SUPERADMIN)? else {
            return Ok(SetRoles::LastSuperadmin);
        };
        let holders: i64 = user_roles::table
            .filter(user_roles::role_id.eq(sa))
            .count()
            .get_result(c)?;
        if holders <= 1 {
            return Ok(SetRoles::LastSuperadmin);
        }
    }
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user))).execute(c)?;
    for id in ids {
        insert_unique(c, |c| {
            diesel::insert_into(user_roles::table)
                .values((
                    user_roles::user_id.eq(user),
                    user_roles::role_id.eq(id),
                    user_roles::created_at.eq(now),
                ))
                .execute(c)
        })?;
    }
    Ok(SetRoles::Done)
}

/// Staff (anyone with a role) whose last login is older than `before` (or
/// who never logged in and were given a role before it).
pub fn idle_staff(c: &mut DbConnection, before: NaiveDateTime) -> QueryResult<Vec<UserId>> {
    use crate::db::schema::users;
    let mut ids: Vec<UserId> = user_roles::table
        .inner_join(users::table)
        .filter(
            users::last_login_at.lt(before).or(users::last_login_at
                .is_null()
                .and(user_roles::created_at.lt(before))),
        )
        .select(user_roles::user_id)
        .load(c)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A role as the roles editor shows it.
#[derive(Debug, Clone)]
pub struct RoleView {
    pub name: String,
    pub description: String,
    pub permissions: BTreeSet<String>,
    pub holders: i64,
}

impl RoleView {
    pub fn has(&self, code: &&str) -> bool {
        self.permissions.contains(*code)
    }
    /// The superadmin role always holds every permission.
    pub fn locked(&self) -> bool {
        self.name == SUPERADMIN
    }
}

/// Every role with its permissions and how many members hold it.
pub fn roles_overview(c: &mut DbConnection) -> QueryResult<Vec<RoleView>> {
    let rows: Vec<(RoleId, String, String)> = roles::table
        .order(roles::name)
        .select((roles::id, roles::name, roles::description))
        .load(c)?;
    let grants: Vec<(RoleId, String)> = role_permissions::table
        .select((role_permissions::role_id, role_permissions::permission))
        .load(c)?;
    let holders: Vec<(RoleId, i64)> = user_roles::table
        .group_by(user_roles::role_id)
        .select((user_roles::role_id, diesel::dsl::count_star()))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, description)| RoleView {
            name,
            description,
            permissions: grants
                .iter()
                .filter(|(r, _)| *r == id)
                .map(|(_, p)| p.clone())
                .collect(),
            holders: holders
                .iter()
                .find(|(r, _)| *r == id)
                .map_or(0, |(_, n)| *n),
        })
        .collect())
}

/// Whether `name` is a valid new role name: 2–32 of `a-z0-9_-`, starting
/// with a letter.
pub fn valid_role_name(name: &str) -> bool {
    (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Creates an empty role; `false` if the name is taken.
pub fn create_role(
    c: &mut DbConnection,
    name: &str,
    description: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(insert_unique(c, |c| {
        diesel::insert_into(roles::table)
            .values((
                roles::name.eq(name),
                roles::description.eq(description),
                roles::created_at.eq(now),
            ))
            .execute(c)
    })?
    .is_some())
}

/// How replacing a role's permissions ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetPermissions {
    /// Done; the permissions the role held before.
    Done(Vec<String>),
    UnknownRole,
    /// The superadmin role always holds everything.
    Locked,
}

/// Replaces the permissions of the role `name`, inside the caller's
/// transaction.
pub fn set_permissions(
    c: &mut DbConnection,
    name: &str,
    perms: &[Permission],
) -> QueryResult<SetPermissions> {
    if name == SUPERADMIN {
        return Ok(SetPermissions::Locked);
    }
    let Some(role) = role_id(c, name)? else {
        return Ok(SetPermissions::UnknownRole);
    };
    let before: Vec<String> = role_permissions::table
        .filter(role_permissions::role_id.eq(role))
        .order(role_permissions::permission)
        .select(role_permissions::permission)
        .load(c)?;
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(role)))
        .execute(c)?;
    grant_all(c, role, perms)?;
    Ok(SetPermissions::Done(before))
}
