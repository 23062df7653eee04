//! Staff stay below their station: the account actions against a
//! superadmin, an equal and oneself for every seeded role; role grants
//! above one's own permissions; a ban from the reports queue; a role change
//! ending the member's sessions; the password before assigning a plan.

use diesel::prelude::*;
use swiper::auth::rbac::{self, SEEDED_ROLES};
use swiper::auth::UserId;
use swiper::db::schema::{audit_log, users};

use crate::admin::staff;
use crate::helpers::*;

async fn id_of(app: &TestApp, email: &'static str) -> UserId {
    UserId(app.user_id(email).await)
}

/// A member holding `role`, not logged in anywhere.
async fn holder(app: &TestApp, email: &'static str, role: &'static str) -> UserId {
    app.member(&app.new_browser(), email).await;
    let id = id_of(app, email).await;
    app.db(move |c| rbac::assign(c, id, role, chrono::Utc::now().naive_utc()))
        .await;
    id
}

async fn is_active(app: &TestApp, id: UserId) -> bool {
    app.db(move |c| users::table.find(id).select(users::is_active).first(c))
        .await
}

async fn refusals(app: &TestApp) -> i64 {
    app.count("audit_log WHERE action LIKE '%.refused'").await
}

/// Every account action with the fields its form sends; `role` is the
/// target's own role, so a roles change grants nothing new.
fn actions(role: &'static str) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("ban", vec![("reason", "test")]),
        ("unban", vec![]),
        ("verify", vec![]),
        ("revoke-sessions", vec![]),
        ("resend-verification", vec![]),
        ("roles", vec![("role", role), ("password", GOOD_PASSWORD)]),
        ("plan", vec![("plan", "vip1"), ("password", GOOD_PASSWORD)]),
    ]
}

fn permission_of(action: &str) -> &'static str {
    match action {
        "ban" | "unban" => "users.ban",
        "verify" => "users.verify",
        "revoke-sessions" => "users.sessions",
        "resend-verification" => "users.mail",
        "roles" => "users.roles",
        _ => "users.plan",
    }
}

#[tokio::test]
async fn every_staff_role_against_every_account_action_on_a_superadmin_an_equal_and_itself() {
    let app = spawn_app().await;
    let top = holder(&app, "top@example.com", rbac::SUPERADMIN).await;
    for (i, role) in SEEDED_ROLES.iter().enumerate() {
        let me: &'static str = Box::leak(format!("actor{i}@example.com").into_boxed_str());
        let peer: &'static str = Box::leak(format!("peer{i}@example.com").into_boxed_str());
        let browser = staff(&app, me, role.name).await;
        let (me_id, peer_id) = (id_of(&app, me).await, holder(&app, peer, role.name).await);
        let holds = |code: &str| role.permissions.iter().any(|p| p.as_str() == code);
        let is_superadmin = role.name == rbac::SUPERADMIN;
        for (target, who, target_role) in [
            (top, "a superadmin", rbac::SUPERADMIN),
            (peer_id, "an equal", role.name),
            (me_id, "themselves", role.name),
        ] {
            for (action, fields) in actions(target_role) {
                let before = refusals(&app).await;
                let res = browser
                    .post(&format!("/admin/users/{target}/{action}"), &fields)
                    .await;
                let status = res.status().as_u16();
                let what = format!("{} → {action} on {who}: {status}", role.name);
                let allowed = holds(permission_of(action))
                    && target != me_id
                    && (is_superadmin || target != top);
                if allowed {
                    assert_ne!(status, 403, "{what}");
                    assert!(status < 500, "{what}");
                } else {
                    assert_eq!(status, 403, "{what}");
                    if holds(permission_of(action)) {
                        assert_eq!(refusals(&app).await, before + 1, "audited: {what}");
                    }
                }
            }
        }
        // The superadmin's account is untouched by anyone below it.
        let active = is_active(&app, top).await;
        assert!(active || is_superadmin, "{} banned a superadmin", role.name);
        if is_superadmin {
            // Put the superadmin back for the roles after it.
            browser
                .post(&format!("/admin/users/{top}/unban"), &[])
                .await;
        }
    }
}

#[tokio::test]
async fn a_moderator_cannot_ban_a_superadmin_from_the_reports_queue_either() {
    use swiper::matches::reports::{self, ReportReason};
    let app = spawn_app().await;
    let top = holder(&app, "top@example.com", rbac::SUPERADMIN).await;
    let reporter = holder(&app, "reporter@example.com", "analyst").await;
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    let report = app
        .db(move |c| {
            let now = chrono::Utc::now().naive_utc();
            reports::file(c, reporter, top, ReportReason::Spam, "", now)
        })
        .await
        .expect("filed");
    let res = moderator
        .post(
            &format!("/admin/reports/{report}/resolve"),
            &[("action", "ban"), ("note", "")],
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    let active = is_active(&app, top).await;
    assert!(active, "the superadmin is not banned");
    let refused = app
        .db(|c| {
            audit_log::table
                .filter(audit_log::action.eq("report.resolve.refused"))
                .count()
                .get_result::<i64>(c)
        })
        .await;
    assert_eq!(refused, 1);
    assert_eq!(
        app.count("reports WHERE status = 'open'").await,
        1,
        "the report stays open"
    );
}

#[tokio::test]
async fn nobody_grants_a_role_above_their_own_permissions_or_changes_their_own_roles() {
    let app = spawn_app().await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let res = admin
        .post(
            "/admin/roles",
            &[
                ("name", "keeper"),
                ("description", "edits roles"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = admin
        .post(
            "/admin/roles/keeper",
            &[
                ("permission", "admin.view"),
                ("permission", "users.view"),
                ("permission", "users.roles"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let keeper = staff(&app, "keeper@example.com", "keeper").await;
    let keeper_id = id_of(&app, "keeper@example.com").await;
    let plain = holder(&app, "plain@example.com", "keeper").await;
    let other = app.new_browser();
    app.member(&other, "other@example.com").await;
    let other_id = id_of(&app, "other@example.com").await;
    let roles = |id: UserId, role: &'static str| {
        let keeper = keeper.clone();
        async move {
            keeper
                .post(
                    &format!("/admin/users/{id}/roles"),
                    &[("role", role), ("password", GOOD_PASSWORD)],
                )
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(roles(keeper_id, rbac::SUPERADMIN).await, 403, "themselves");
    assert_eq!(roles(other_id, rbac::SUPERADMIN).await, 403, "superadmin");
    assert_eq!(
        roles(other_id, "moderator").await,
        403,
        "users.ban is not theirs"
    );
    assert_eq!(
        roles(plain, rbac::SUPERADMIN).await,
        403,
        "an equal to superadmin"
    );
    assert_eq!(
        roles(other_id, "keeper").await,
        303,
        "their own permissions"
    );
    let held = app.db(move |c| rbac::roles_of(c, keeper_id)).await;
    assert_eq!(held, ["keeper"]);
    let held = app.db(move |c| rbac::roles_of(c, other_id)).await;
    assert_eq!(held, ["keeper"]);
    assert_eq!(refusals(&app).await, 4);
}

#[tokio::test]
async fn a_role_change_ends_the_members_sessions_so_a_demoted_moderator_loses_admin_at_once() {
    let app = spawn_app().await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    let mod_id = id_of(&app, "mod@example.com").await;
    assert_eq!(moderator.get("/admin/reports").await.status(), 200);
    let res = admin
        .post(
            &format!("/admin/users/{mod_id}/roles"),
            &[("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(!moderator.is_logged_in().await, "the session was renewed");
    assert_eq!(moderator.get("/admin/reports").await.status(), 404);
    let held = app.db(move |c| rbac::roles_of(c, mod_id)).await;
    assert!(held.is_empty());
}

#[tokio::test]
async fn assigning_a_plan_asks_for_the_password_again() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "vip@example.com").await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let res = admin.post("/admin/users/1/plan", &[("plan", "vip2")]).await;
    assert_error(res, 422, "reauthentication_required").await;
    let res = admin
        .post(
            "/admin/users/1/plan",
            &[("plan", "vip2"), ("password", "not the password")],
        )
        .await;
    assert_error(res, 422, "reauthentication_required").await;
    assert_eq!(app.count("audit_log WHERE action = 'user.plan'").await, 0);
    let res = admin
        .post(
            "/admin/users/1/plan",
            &[("plan", "vip2"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("audit_log WHERE action = 'user.plan'").await, 1);
}
