//! The admin console: the role × route matrix from the route table, audited
//! actions, bans, runtime settings.

use diesel::prelude::*;
use swiper::admin::table::ROUTES;
use swiper::auth::rbac::{self, SEEDED_ROLES};
use swiper::db::schema::{audit_log, profiles, recovery_codes, users};
use swiper::security::otp;

use crate::helpers::*;

/// A member with `role`, two-factor on (set in the database: the 2FA flow
/// has its own tests), logged in on a new browser.
pub(crate) async fn staff(app: &TestApp, email: &'static str, role: &'static str) -> Browser {
    let b = app.new_browser();
    app.member(&b, email).await;
    app.db(move |c| {
        let user = swiper::auth::User::find_by_email(c, email)?.expect("the member");
        rbac::assign(c, user.id, role, chrono::Utc::now().naive_utc())?;
        diesel::update(users::table.find(user.id))
            .set(users::totp_enabled_at.eq(Some(chrono::Utc::now().naive_utc())))
            .execute(c)?;
        let hash = otp::hash_recovery_code(&otp::normalize_recovery_code(RECOVERY));
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user.id),
                recovery_codes::code_hash.eq(hash),
                recovery_codes::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(c)
    })
    .await;
    // Log in again, through the second step (a recovery code).
    b.post("/logout", &[]).await;
    let res = b.login(email, GOOD_PASSWORD).await;
    assert_eq!(location(&res), "/login/2fa");
    let res = b.post("/login/2fa", &[("code", RECOVERY)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/admin", "staff land on the console");
    b
}

#[tokio::test]
async fn staff_see_an_admin_link_and_members_do_not() {
    let app = spawn_app().await;
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    let page = moderator.html("/discover").await;
    assert!(page.contains("data-testid=\"nav-admin\""), "{page}");
    let console = moderator.html("/admin").await;
    assert!(
        console.contains("href=\"/admin\" aria-current=\"page\""),
        "the menu marks the page"
    );
    let reports = moderator.html("/admin/reports").await;
    assert!(reports.contains("href=\"/admin/reports\" aria-current=\"page\""));
    assert!(reports.contains("href=\"/admin\" aria-current=\"false\""));
    let member = app.new_browser();
    app.member(&member, "plain@example.com").await;
    assert!(!member.html("/discover").await.contains("nav-admin"));
    // A member logging in lands on the deck.
    member.post("/logout", &[]).await;
    let res = member.login("plain@example.com", GOOD_PASSWORD).await;
    assert_eq!(location(&res), "/discover");
}

const RECOVERY: &str = "abcde-fghjk";

async fn status_of(b: &Browser, method: &str, path: &str) -> u16 {
    match method {
        "GET" => b.get(path).await.status().as_u16(),
        _ => b.post(path, &[]).await.status().as_u16(),
    }
}

#[tokio::test]
async fn every_admin_route_answers_each_role_as_its_permissions_say() {
    let app = spawn_app().await;
    // User 1: the member the sample paths act on.
    let member = app.new_browser();
    app.member(&member, "target@example.com").await;
    assert!(app.count("users WHERE id = 1").await == 1);
    // Photo 1, report 1 and a job 1 exist for the sample paths.
    add_photo(&app, 1).await;
    app.db(|c| {
        use swiper::matches::reports::{self, ReportReason};
        reports::file(
            c,
            swiper::auth::UserId(1),
            swiper::auth::UserId(1),
            ReportReason::Spam,
            "",
            chrono::Utc::now().naive_utc(),
        )
    })
    .await;
    let visitor = app.new_browser();
    let mut staffers = Vec::new();
    for (i, role) in SEEDED_ROLES.iter().enumerate() {
        let email: &'static str = Box::leak(format!("staff{i}@example.com").into_boxed_str());
        let b = staff(&app, email, role.name).await;
        staffers.push((role, b));
    }
    assert!(!ROUTES.is_empty());
    let superadmin = &staffers
        .iter()
        .find(|(role, _)| role.name == rbac::SUPERADMIN)
        .expect("a superadmin")
        .1;
    for route in ROUTES {
        // Every page is kept out of caches; every action needs the CSRF token.
        if route.method == "GET" {
            let res = superadmin.get(route.sample).await;
            assert_eq!(res.status(), 200, "{route:?}");
            let cache = res
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(cache.contains("no-store"), "{route:?}: {cache}");
        } else {
            let res = superadmin.post_raw(route.sample, &[]).await;
            assert_error(res, 403, "csrf_failed").await;
        }

        assert_eq!(
            status_of(&visitor, route.method, route.sample).await,
            404,
            "visitor {route:?}"
        );
        assert_eq!(
            status_of(&member, route.method, route.sample).await,
            404,
            "member {route:?}"
        );
        for (role, b) in &staffers {
            let allowed = role.permissions.contains(&route.permission);
            let status = status_of(b, route.method, route.sample).await;
            if allowed {
                assert!(
                    ![401, 403, 404].contains(&status) && status < 500,
                    "{} {route:?}: {status}",
                    role.name
                );
            } else {
                assert_eq!(status, 403, "{} {route:?}", role.name);
            }
        }
    }
}

pub(crate) async fn audit_entries(
    app: &TestApp,
    action: &'static str,
) -> Vec<(Option<i64>, String, String)> {
    app.db(move |c| {
        audit_log::table
            .filter(audit_log::action.eq(action))
            .select((audit_log::actor_id, audit_log::target_id, audit_log::ip))
            .load::<(Option<i64>, String, String)>(c)
    })
    .await
}

async fn in_feed(app: &TestApp, id: i64) -> bool {
    app.db(move |c| {
        profiles::table
            .filter(profiles::user_id.eq(id))
            .select(profiles::in_feed)
            .first::<bool>(c)
    })
    .await
}

#[tokio::test]
async fn a_ban_ends_every_session_hides_the_member_and_is_audited_once() {
    let app = spawn_app().await;
    let member = app.new_browser();
    app.member(&member, "bad@example.com").await;
    let other_device = app.new_browser();
    other_device.login("bad@example.com", GOOD_PASSWORD).await;
    // The member fills a discoverable profile, so they are in feeds.
    app.db(|c| {
        diesel::update(profiles::table.filter(profiles::user_id.eq(1)))
            .set(profiles::in_feed.eq(true))
            .execute(c)
    })
    .await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let admin_id: i64 = app
        .db(|c| {
            users::table
                .filter(users::email.eq("boss@example.com"))
                .select(users::id)
                .first(c)
        })
        .await;

    let res = admin.post("/admin/users/1/ban", &[("reason", "")]).await;
    assert_eq!(res.status(), 400, "a ban needs a reason");
    assert!(
        audit_entries(&app, "user.ban").await.is_empty(),
        "a refused action is not audited"
    );

    let res = admin
        .post("/admin/users/1/ban", &[("reason", "spam")])
        .await;
    assert_eq!(res.status(), 303);
    assert!(!member.is_logged_in().await, "the session died");
    assert!(!other_device.is_logged_in().await, "every session died");
    assert_eq!(
        member
            .login("bad@example.com", GOOD_PASSWORD)
            .await
            .status(),
        401
    );
    assert!(!in_feed(&app, 1).await, "gone from discovery");
    let entries = audit_entries(&app, "user.ban").await;
    assert_eq!(
        entries,
        vec![(Some(admin_id), "1".to_string(), "127.0.0.1".to_string())]
    );
    assert!(admin
        .html("/admin/users/1")
        .await
        .contains("data-status=\"banned\""));

    let res = admin.post("/admin/users/1/unban", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(audit_entries(&app, "user.unban").await.len(), 1);
    assert_eq!(
        member
            .login("bad@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );

    // Search finds members by email prefix, nickname or id.
    let page = admin.html("/admin/users?q=bad").await;
    assert!(page.contains("href=\"/admin/users/1\""), "{page}");
    assert!(admin
        .html("/admin/users?q=1")
        .await
        .contains("href=\"/admin/users/1\""));
    let finds = |q: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .html(&format!("/admin/users?q={q}"))
                .await
                .contains("href=\"/admin/users/1\"")
        }
    };
    assert!(finds("Memb").await, "nickname prefix");
    assert!(finds("BAD%40EX").await, "emails ignore case");
    assert!(!finds("nobody").await);
    assert!(!finds("%25").await, "wildcards are literal");
    let audit = admin.html("/admin/audit").await;
    assert!(audit.contains("data-audit=\"user.ban\""));
    // Readable: the actor's name, each changed field as before → after.
    let ban = &audit[audit.find("data-audit=\"user.ban\"").unwrap()..];
    let ban = &ban[..ban.find("</tr>").unwrap()];
    assert!(ban.contains(">Member</a>"), "the actor by name: {ban}");
    assert!(
        ban.contains("<span class=\"field\">") && ban.contains("<del>") && ban.contains("<ins>"),
        "{ban}"
    );
    assert!(
        !ban.contains("{&quot;") && !ban.contains("{\""),
        "no raw JSON: {ban}"
    );
}

#[tokio::test]
async fn settings_need_the_password_refuse_bad_values_and_apply_everywhere() {
    let app = spawn_app().await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    // Each setting in words, with what it does, its default and its bounds.
    let form = admin.html("/admin/settings").await;
    let rewind = &form[form.find("data-setting=\"rewind_daily_limit\"").unwrap()..];
    let rewind = &rewind[..rewind.find("</div>").unwrap()];
    assert!(rewind.contains("Undos a day"), "{rewind}");
    assert!(rewind.contains("Default 3; from 0 to 1000."), "{rewind}");
    assert!(
        !form.contains("setting.rate"),
        "no raw key reaches the page"
    );
    let limit = || async {
        app.state
            .runtime
            .get(swiper::runtime::REWIND_DAILY_LIMIT)
            .await
            .unwrap()
    };
    assert_eq!(limit().await, 3);

    let res = admin
        .post("/admin/settings", &[("rewind_daily_limit", "5")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"wrong_password\""));
    let res = admin
        .post(
            "/admin/settings",
            &[("rewind_daily_limit", "-1"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"out_of_range\""));
    let res = admin
        .post(
            "/admin/settings",
            &[("rewind_daily_limit", "lots"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(limit().await, 3, "nothing changed");
    assert!(audit_entries(&app, "settings.update").await.is_empty());

    let res = admin
        .post(
            "/admin/settings",
            &[
                ("rewind_daily_limit", "5"),
                ("superlike_daily_limit", "1"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(limit().await, 5);
    assert_eq!(
        audit_entries(&app, "settings.update").await.len(),
        1,
        "one action, one entry"
    );
    assert!(admin.html("/admin/settings").await.contains("value=\"5\""));
}

#[tokio::test]
async fn a_staff_session_idle_for_fifteen_minutes_must_log_in_again() {
    let clock = swiper::clock::Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    assert_eq!(admin.get("/admin").await.status(), 200);
    clock.advance(chrono::TimeDelta::minutes(14));
    assert_eq!(admin.get("/admin").await.status(), 200, "still active");
    clock.advance(chrono::TimeDelta::minutes(16));
    let res = admin.get("/admin/users").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));
    assert!(!admin.is_logged_in().await, "the session ended");
}

#[tokio::test]
async fn roles_change_with_the_password_and_the_last_superadmin_keeps_the_role() {
    let app = spawn_app().await;
    let target = app.new_browser();
    app.member(&target, "helper@example.com").await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let boss: i64 = app
        .db(|c| {
            users::table
                .filter(users::email.eq("boss@example.com"))
                .select(users::id)
                .first(c)
        })
        .await;

    let res = admin
        .post("/admin/users/1/roles", &[("role", "moderator")])
        .await;
    assert_error(res, 422, "reauthentication_required").await;
    let res = admin
        .post(
            "/admin/users/1/roles",
            &[
                ("role", "moderator"),
                ("role", "support"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let roles = app.db(|c| rbac::roles_of(c, swiper::auth::UserId(1))).await;
    assert_eq!(roles, ["moderator", "support"]);
    assert_eq!(audit_entries(&app, "user.roles").await.len(), 1);

    // Nobody changes their own roles (the only superadmin included).
    let res = admin
        .post(
            &format!("/admin/users/{boss}/roles"),
            &[("role", "moderator"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    let roles = app
        .db(move |c| rbac::roles_of(c, swiper::auth::UserId(boss)))
        .await;
    assert_eq!(roles, ["superadmin"]);
    assert_eq!(
        audit_entries(&app, "user.roles").await.len(),
        1,
        "a refusal is not audited"
    );

    // A second superadmin can take the role from the first.
    let second = staff(&app, "second@example.com", rbac::SUPERADMIN).await;
    let res = second
        .post(
            &format!("/admin/users/{boss}/roles"),
            &[("role", "analyst"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let roles = app
        .db(move |c| rbac::roles_of(c, swiper::auth::UserId(boss)))
        .await;
    assert_eq!(roles, ["analyst"]);
}

#[tokio::test]
async fn the_idle_staff_job_removes_roles_after_ninety_days_and_audits_it() {
    let clock = swiper::clock::Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    staff(&app, "mod@example.com", "moderator").await;
    staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let ctx = app.state.job_context();
    clock.advance(chrono::TimeDelta::days(89));
    assert_eq!(
        swiper::admin::jobs::strip_idle_staff(&ctx).await.unwrap(),
        0,
        "not yet"
    );
    clock.advance(chrono::TimeDelta::days(2));
    assert_eq!(
        swiper::admin::jobs::strip_idle_staff(&ctx).await.unwrap(),
        1
    );
    let roles = |email: &'static str| {
        let app = &app;
        async move {
            app.db(move |c| {
                let u = swiper::auth::User::find_by_email(c, email)?.expect("user");
                rbac::roles_of(c, u.id)
            })
            .await
        }
    };
    assert!(
        roles("mod@example.com").await.is_empty(),
        "the idle moderator lost the role"
    );
    assert_eq!(
        roles("boss@example.com").await,
        ["superadmin"],
        "the last superadmin stays"
    );
    let entries = audit_entries(&app, "user.roles.idle_removed").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, None, "done by the system");
}

#[tokio::test]
async fn moderators_close_reports_by_dismissing_or_banning_once() {
    use swiper::matches::reports::{self, ReportReason};
    let app = spawn_app().await;
    let target = app.new_browser();
    app.member(&target, "rude@example.com").await; // user 1
    app.member(&app.new_browser(), "victim@example.com").await; // user 2
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    let (spam, harassment) = app
        .db(|c| {
            let now = chrono::Utc::now().naive_utc();
            let (a, b) = (swiper::auth::UserId(2), swiper::auth::UserId(1));
            let spam = reports::file(c, a, b, ReportReason::Spam, "ads", now)?.expect("filed");
            let other = reports::file(c, b, a, ReportReason::Harassment, "<b>rude</b>", now)?
                .expect("filed");
            Ok::<_, diesel::result::Error>((spam.0, other.0))
        })
        .await;
    let queue = moderator.html("/admin/reports").await;
    assert!(queue.contains(&format!("data-report=\"{spam}\"")));
    // Names and reasons in words, not bare ids and codes.
    assert!(queue.contains("<strong>Spam or scam</strong>"), "{queue}");
    assert!(
        queue.contains("href=\"/admin/users/2\">Member</a>"),
        "the reporter by name"
    );
    assert!(!queue.contains(">#2</a>"));
    assert!(
        queue.contains("rude") && !queue.contains("<b>rude</b>"),
        "details are escaped"
    );

    let res = moderator
        .post(
            &format!("/admin/reports/{harassment}/resolve"),
            &[("action", "dismiss"), ("note", "banter")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = moderator
        .post(
            &format!("/admin/reports/{spam}/resolve"),
            &[("action", "ban"), ("note", "spam bot")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        !target.is_logged_in().await,
        "the reported member is banned"
    );
    // Resolving again changes nothing and writes nothing.
    moderator
        .post(
            &format!("/admin/reports/{spam}/resolve"),
            &[("action", "dismiss")],
        )
        .await;
    assert_eq!(audit_entries(&app, "report.resolve").await.len(), 2);
    assert_eq!(app.count("reports WHERE status = 'open'").await, 0);
    let resolved = moderator.html("/admin/reports?status=resolved").await;
    assert!(
        resolved.contains("data-resolution=\"ban\"")
            && resolved.contains("data-resolution=\"dismiss\"")
    );
    assert_error(
        moderator
            .post(
                &format!("/admin/reports/{spam}/resolve"),
                &[("action", "delete")],
            )
            .await,
        400,
        "invalid_input",
    )
    .await;
}

#[tokio::test]
async fn a_dead_job_is_shown_with_its_error_and_retried_once() {
    use swiper::db::schema::jobs;
    let app = spawn_app().await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let analyst = staff(&app, "numbers@example.com", "analyst").await;
    let id: i64 = app
        .db(|c| {
            let now = chrono::Utc::now().naive_utc();
            let id = swiper::jobs::enqueue(
                c,
                swiper::jobs::NewJob::new("maintenance.purge_expired", &(), now)?,
            )?
            .expect("enqueued");
            diesel::update(jobs::table.find(id.0))
                .set((
                    jobs::status.eq("dead"),
                    jobs::last_error.eq(Some("smtp said <no>")),
                    jobs::run_at.eq(now + chrono::TimeDelta::days(1)),
                ))
                .execute(c)?;
            Ok::<_, diesel::result::Error>(id.0)
        })
        .await;
    let page = analyst.html("/admin/jobs").await;
    assert!(page.contains(&format!("data-job=\"{id}\"")), "{page}");
    assert!(page.contains("smtp said") && !page.contains("<no>"));
    assert!(
        !page.contains(&format!("/admin/jobs/{id}/retry")),
        "no retry button without jobs.retry"
    );
    assert_eq!(
        analyst
            .post(&format!("/admin/jobs/{id}/retry"), &[])
            .await
            .status(),
        403
    );

    let res = admin.post(&format!("/admin/jobs/{id}/retry"), &[]).await;
    assert_eq!(res.status(), 303);
    let status: String = app
        .db(move |c| jobs::table.find(id).select(jobs::status).first(c))
        .await;
    assert_ne!(status, "dead");
    assert_eq!(
        admin
            .post(&format!("/admin/jobs/{id}/retry"), &[])
            .await
            .status(),
        400,
        "not dead any more"
    );
    assert_eq!(audit_entries(&app, "job.retry").await.len(), 1);
}

/// A processed photo of `user`, as the upload job leaves it; its id.
pub(crate) async fn add_photo(app: &TestApp, user: i64) -> i64 {
    use swiper::db::schema::photos;
    app.db(move |c| {
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(photos::table)
            .values((
                photos::user_id.eq(user),
                photos::storage_key.eq(swiper::profiles::photos::new_storage_key()),
                photos::status.eq("ready"),
                photos::is_main.eq(true),
                photos::created_at.eq(now),
                photos::updated_at.eq(now),
            ))
            .execute(c)?;
        photos::table
            .select(diesel::dsl::max(photos::id))
            .first::<Option<i64>>(c)
    })
    .await
    .expect("a photo id")
}

#[tokio::test]
async fn photo_review_approves_or_rejects_and_deletes_the_files() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "pics@example.com").await;
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    let keep = add_photo(&app, 1).await;
    let bad = add_photo(&app, 1).await;
    let queue = moderator.html("/admin/photos").await;
    assert!(
        queue.contains(&format!("data-photo=\"{keep}\""))
            && queue.contains(&format!("data-photo=\"{bad}\""))
    );
    assert!(
        queue.contains("href=\"/admin/users/1\">Member</a>"),
        "the member by name"
    );
    assert!(queue.contains("data-confirm="), "rejecting asks first");

    assert_eq!(
        moderator
            .post(&format!("/admin/photos/{keep}/approve"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        moderator
            .post(&format!("/admin/photos/{bad}/reject"), &[])
            .await
            .status(),
        400,
        "a reason is needed"
    );
    let jobs_before = app.count("jobs WHERE kind = 'photo.delete_files'").await;
    assert_eq!(
        moderator
            .post(
                &format!("/admin/photos/{bad}/reject"),
                &[("reason", "not a person")]
            )
            .await
            .status(),
        303
    );
    assert_eq!(app.count("photos").await, 1, "the rejected photo is gone");
    assert!(
        app.count("jobs WHERE kind = 'photo.delete_files'").await > jobs_before,
        "its files are deleted by a job"
    );
    let queue = moderator.html("/admin/photos").await;
    assert!(!queue.contains("data-photo="), "nothing left to review");
    assert_eq!(audit_entries(&app, "photo.approve").await.len(), 1);
    assert_eq!(audit_entries(&app, "photo.reject").await.len(), 1);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn on_two_instances_a_ban_ends_sessions_on_both_and_settings_reach_both() {
    require_postgres_and_redis();
    let (a, b) = spawn_two().await;
    let member = a.new_browser();
    a.member(&member, "both@example.com").await;
    let member_on_b = member.on(&b.base);
    assert!(
        member_on_b.is_logged_in().await,
        "one session, both instances"
    );
    let admin = staff(&a, "boss@example.com", rbac::SUPERADMIN).await;

    let banned = std::time::Instant::now();
    assert_eq!(
        admin
            .post("/admin/users/1/ban", &[("reason", "spam")])
            .await
            .status(),
        303
    );
    logged_out_within_a_second(&member_on_b, banned, "dead on the other instance").await;
    assert!(!member.is_logged_in().await, "and on this one");

    // A setting saved through A is in force on B within 5 seconds.
    let res = admin
        .post(
            "/admin/settings",
            &[("superlike_daily_limit", "4"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let started = std::time::Instant::now();
    wait_until("B applies the new setting", || async {
        b.state
            .runtime
            .get(swiper::runtime::SUPERLIKE_DAILY_LIMIT)
            .await
            .unwrap()
            == 4
    })
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A swipe takes its principal from the cache, as a page does: the ban's
/// event empties it before the ban is answered, so a member who swiped a
/// moment ago cannot swipe again once banned.
#[tokio::test]
async fn a_member_banned_right_after_a_swipe_cannot_swipe_again() {
    use crate::discovery::{ana, join, swipe, Person};
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (_, a) = join(&app, &Person::new("a@example.com", "male", "1990-01-01")).await;
    let (_, b) = join(&app, &Person::new("b@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&me, a, "like").await.status(), 303);
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let res = admin
        .post(&format!("/admin/users/{me_id}/ban"), &[("reason", "spam")])
        .await;
    assert_eq!(res.status(), 303);
    let res = swipe(&me, b, "like").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    assert_eq!(
        app.count("swipes").await,
        1,
        "the second swipe wrote nothing"
    );
}

/// B's chat subscription goes silent (the link stays open, nothing arrives:
/// no event reaches B, and nothing tells B so). A ban, a new password and a
/// "log out everywhere else" on A still refuse the member on B within 5
/// seconds (the principal cache's lifetime bounds it), and a swipe or a
/// block on A still removes the person from the member's feed on B within
/// 5 seconds (the kept page's lifetime bounds it).
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn with_pub_sub_cut_bans_and_sign_outs_on_a_still_reach_b_within_five_seconds() {
    use crate::discovery::{ana, feed, gone_from_feed, join, swipe, Person};
    require_postgres_and_redis();
    let a = spawn_app().await;
    let redis = a.state.settings.redis.url.clone().expect("Redis");
    let proxy = RedisProxy::start(redis.expose());
    let prefix = a.state.settings.redis.prefix.clone();
    let b = spawn_on(
        a.db.clone(),
        &prefix,
        &[("RUN_WORKER", "false"), ("REDIS_URL", &proxy.url)],
    )
    .await;
    let (me, _) = join(&a, &ana().wants("male")).await;
    let (_, him) = join(
        &a,
        &Person::new("him@example.com", "male", "1988-01-01").wants("female"),
    )
    .await;
    let (_, other) = join(
        &a,
        &Person::new("other@example.com", "male", "1987-01-01").wants("female"),
    )
    .await;
    let (pat, _) = join(
        &a,
        &Person::new("pat@example.com", "male", "1986-01-01").wants("male"),
    )
    .await;
    let pat_on_b = b.new_browser();
    assert_eq!(
        pat_on_b
            .login("pat@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    let phone = b.new_browser();
    assert_eq!(
        phone.login("ana@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    let banned = a.new_browser();
    a.member(&banned, "ban@example.com").await;
    let banned_on_b = banned.on(&b.base);
    let me_on_b = me.on(&b.base);
    // B knows them all (their principals and my feed are in its caches).
    assert!(banned_on_b.is_logged_in().await && phone.is_logged_in().await);
    assert!(pat_on_b.is_logged_in().await);
    let shown = feed(&me_on_b, 1).await;
    assert!(shown.contains(&him) && shown.contains(&other), "{shown:?}");
    let admin = staff(&a, "boss@example.com", rbac::SUPERADMIN).await;

    proxy.silence_subscriptions();
    let five = std::time::Duration::from_secs(5);
    let swiped = std::time::Instant::now();
    assert_eq!(swipe(&me, him, "dislike").await.status(), 303, "on A");
    gone_from_feed(&me_on_b, him, swiped, five, "swiped on A, gone on B").await;
    let blocked = std::time::Instant::now();
    let res = me.post(&format!("/users/{other}/block"), &[]).await;
    assert_eq!(res.status(), 303, "on A");
    gone_from_feed(&me_on_b, other, blocked, five, "blocked on A, gone on B").await;
    let sent = std::time::Instant::now();
    let banned_id = a.user_id("ban@example.com").await;
    let res = admin
        .post(
            &format!("/admin/users/{banned_id}/ban"),
            &[("reason", "spam")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = me.post("/settings/sessions/revoke-others", &[]).await;
    assert_eq!(res.status(), 303);
    let res = pat
        .post(
            "/settings/password",
            &[
                ("current_password", GOOD_PASSWORD),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    wait_until(
        "B refuses the banned member and the ended sessions",
        || async {
            !banned_on_b.is_logged_in().await
                && !phone.is_logged_in().await
                && !pat_on_b.is_logged_in().await
        },
    )
    .await;
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(5),
        "refused on B after {:?}",
        sent.elapsed()
    );
    assert!(
        proxy.dropped() > 0,
        "the events really were lost on the way to B"
    );
    assert!(me_on_b.is_logged_in().await, "the session that asked stays");
}

#[tokio::test]
async fn plans_are_edited_and_assigned_from_the_console_with_an_audit_entry_each() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "vip@example.com").await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let res = admin
        .post(
            "/admin/users/1/plan",
            &[("plan", "gold"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 400, "no such plan");
    assert_eq!(
        admin
            .post(
                "/admin/users/1/plan",
                &[("plan", "vip2"), ("password", GOOD_PASSWORD)]
            )
            .await
            .status(),
        303
    );
    assert!(admin
        .html("/admin/users/1")
        .await
        .contains("value=\"vip2\" selected"));
    assert_eq!(audit_entries(&app, "user.plan").await.len(), 1);

    let edit = |fields: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        async move {
            admin
                .post("/admin/plans/vip2", &fields)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        edit(vec![("superlike_daily_limit", "7")]).await,
        422,
        "password first"
    );
    assert_eq!(
        edit(vec![
            ("superlike_daily_limit", "-3"),
            ("password", GOOD_PASSWORD)
        ])
        .await,
        400
    );
    assert_eq!(
        edit(vec![
            ("superlike_daily_limit", "7"),
            ("rewind_daily_limit", ""),
            ("password", GOOD_PASSWORD)
        ])
        .await,
        303
    );
    let plan = app
        .db(|c| swiper::auth::plans::by_name(c, "vip2"))
        .await
        .expect("vip2");
    assert_eq!(
        (
            plan.superlike_daily_limit,
            plan.rewind_daily_limit,
            plan.see_likes
        ),
        (Some(7), None, false)
    );
    assert_eq!(audit_entries(&app, "plan.update").await.len(), 1);
}

#[tokio::test]
async fn the_daily_statistics_job_feeds_the_dashboard_charts() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "one@example.com").await;
    app.member(&app.new_browser(), "two@example.com").await;
    let analyst = staff(&app, "numbers@example.com", "analyst").await;
    let (today, now) = (app.state.clock.today(), app.state.clock.now());
    // One chat message today.
    app.db(move |c| {
        use swiper::db::schema::messages;
        diesel::insert_into(messages::table)
            .values((
                messages::match_id.eq(1i64),
                messages::sender_id.eq(1i64),
                messages::body.eq("hi"),
                messages::client_id.eq("stats-1"),
                messages::sent_at.eq(now),
            ))
            .execute(c)
    })
    .await;
    // Today is counted live: the job has not run, and the charts show it.
    let page = analyst.html("/admin").await;
    assert!(page.contains("data-series=\"signups\""));
    assert!(page.contains("data-last=\"3\""), "today's sign-ups, live");
    let today_rows = app
        .db(move |c| {
            use swiper::db::schema::daily_stats;
            daily_stats::table
                .filter(daily_stats::day.eq(today))
                .count()
                .get_result::<i64>(c)
        })
        .await;
    assert_eq!(today_rows, 0, "today is never stored before it ends");
    let handler = job_registry()
        .get(swiper::admin::stats::DAILY_STATS)
        .expect("the statistics job is registered");
    // The job counts yesterday and every earlier charted day never counted.
    handler(app.state.job_context(), "null".into())
        .await
        .unwrap();
    let page = analyst.html("/admin").await;
    assert!(page.contains("<svg"), "{page}");
    assert!(page.contains("data-series=\"signups\""));
    let signups = page
        .split("data-series=\"signups\"")
        .nth(1)
        .and_then(|rest| rest.split("data-last=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert_eq!(signups, "3", "three accounts were made today");
    let messages = page
        .split("data-series=\"messages\"")
        .nth(1)
        .and_then(|rest| rest.split("data-last=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert_eq!(messages, "1", "one message today");
    let charts = &page[page.find("class=\"charts\"").unwrap()..];
    let charts = &charts[..charts.find("</section>").unwrap()];
    assert!(!charts.contains("<script"), "charts drawn on the server");
    assert_eq!(
        app.count("daily_stats").await,
        swiper::admin::stats::CHART_DAYS - 1,
        "the 29 days before today, none of them today"
    );
    let first = today - chrono::TimeDelta::days(swiper::admin::stats::CHART_DAYS - 1);
    let (oldest, newest) = app
        .db(move |c| {
            use swiper::db::schema::daily_stats;
            daily_stats::table
                .select((
                    diesel::dsl::min(daily_stats::day),
                    diesel::dsl::max(daily_stats::day),
                ))
                .first::<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)>(c)
        })
        .await;
    assert_eq!(oldest, Some(first));
    assert_eq!(newest, Some(today - chrono::TimeDelta::days(1)));
}

#[tokio::test]
async fn the_roles_editor_changes_permissions_with_the_password_and_audits_it() {
    let app = spawn_app().await;
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let moderator = staff(&app, "mod@example.com", "moderator").await;
    assert_eq!(moderator.get("/admin/audit").await.status(), 403);
    let page = admin.html("/admin/roles").await;
    assert!(page.contains("data-role=\"moderator\""), "{page}");
    assert!(page.contains("data-holders=\"moderator\">1<"), "{page}");

    let moderator_permissions = || async {
        app.db(|c| {
            use swiper::db::schema::{role_permissions, roles};
            role_permissions::table
                .inner_join(roles::table)
                .filter(roles::name.eq("moderator"))
                .select(role_permissions::permission)
                .order(role_permissions::permission)
                .load::<String>(c)
        })
        .await
    };
    let before = moderator_permissions().await;
    let mut wanted: Vec<(&str, &str)> = before.iter().map(|p| ("permission", p.as_str())).collect();
    wanted.push(("permission", "audit.view"));

    // Without the password, with an unknown code, nothing changes.
    let res = admin.post("/admin/roles/moderator", &wanted).await;
    assert_error(res, 422, "reauthentication_required").await;
    let mut bad = wanted.clone();
    bad.push(("permission", "everything.please"));
    bad.push(("password", GOOD_PASSWORD));
    assert_eq!(
        admin.post("/admin/roles/moderator", &bad).await.status(),
        400
    );
    assert_eq!(moderator_permissions().await, before);
    assert!(audit_entries(&app, "role.permissions").await.is_empty());

    wanted.push(("password", GOOD_PASSWORD));
    let res = admin.post("/admin/roles/moderator", &wanted).await;
    assert_eq!(res.status(), 303);
    assert!(moderator_permissions()
        .await
        .contains(&"audit.view".to_string()));
    assert_eq!(
        moderator.get("/admin/audit").await.status(),
        200,
        "in force at once"
    );
    let (before_json, after_json): (Option<String>, Option<String>) = app
        .db(|c| {
            audit_log::table
                .filter(audit_log::action.eq("role.permissions"))
                .select((audit_log::before, audit_log::after))
                .first(c)
        })
        .await;
    assert!(!before_json.unwrap_or_default().contains("audit.view"));
    assert!(after_json.unwrap_or_default().contains("audit.view"));
    assert_eq!(audit_entries(&app, "role.permissions").await.len(), 1);

    // Superadmin always holds everything; unknown roles are 404.
    let res = admin
        .post(
            "/admin/roles/superadmin",
            &[("permission", "users.view"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_error(res, 409, "role_locked").await;
    let res = admin
        .post("/admin/roles/nobody", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 404);

    // New roles: a valid, free name, with the password.
    let create = |name: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .post(
                    "/admin/roles",
                    &[
                        ("name", name),
                        ("description", "Answers members"),
                        ("password", GOOD_PASSWORD),
                    ],
                )
                .await
        }
    };
    assert_eq!(create("helpdesk").await.status(), 303);
    assert_error(create("helpdesk").await, 409, "role_exists").await;
    assert_eq!(create("Bad Name!").await.status(), 400);
    assert_eq!(audit_entries(&app, "role.create").await.len(), 1);
    assert!(admin
        .html("/admin/roles")
        .await
        .contains("data-role=\"helpdesk\""));
}

#[tokio::test]
async fn the_member_table_shows_joined_last_login_plan_and_sorts_from_its_headers() {
    let app = spawn_app().await;
    app.member(&app.new_browser(), "first@example.com").await; // user 1
    app.member(&app.new_browser(), "second@example.com").await; // user 2
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await;
    let page = admin.html("/admin/users?status=active").await;
    let first = &page[page.find("data-user=\"1\"").unwrap()..];
    let first = &first[..first.find("</tr>").unwrap()];
    let today = app.state.clock.today().format("%Y-%m-%d").to_string();
    assert!(
        first.contains(&format!("<td data-joined>{today}</td>")),
        "{first}"
    );
    assert!(first.contains("<td data-plan>free</td>"), "{first}");
    assert!(first.contains(&today), "logged in today");
    // The Joined header sorts newest first next, keeping the filters; the
    // table then says so and lists the newest member first.
    let joined = page.split("data-sort=\"joined\"").next().unwrap();
    let href = joined
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let href = href.replace("&amp;", "&").replace("&#38;", "&");
    assert!(
        href.contains("sort=newest") && href.contains("status=active"),
        "{href}"
    );
    let sorted = admin.html(&href).await;
    assert!(sorted.contains("aria-sort=\"descending\""));
    let (one, two) = (
        sorted.find("data-user=\"1\"").unwrap(),
        sorted.find("data-user=\"2\"").unwrap(),
    );
    assert!(two < one, "newest first");
    assert!(
        page.contains("<aside class=\"filters\""),
        "filters in a side panel"
    );
}

#[tokio::test]
async fn every_admin_action_ends_on_a_page_that_says_what_was_done() {
    use swiper::matches::reports::{self, ReportReason};
    // No cool-down: the verification mail can be sent again at once.
    let app = spawn_app_with(&[("MAIL_COOLDOWN", "0")]).await;
    app.member(&app.new_browser(), "target@example.com").await; // user 1
    app.member(&app.new_browser(), "other@example.com").await; // user 2
    let admin = staff(&app, "boss@example.com", rbac::SUPERADMIN).await; // user 3
    app.sign_up(&app.new_browser(), "unverified@example.com", "New")
        .await; // user 4
    let (report_a, report_b) = app
        .db(|c| {
            let now = chrono::Utc::now().naive_utc();
            let (a, b) = (swiper::auth::UserId(2), swiper::auth::UserId(1));
            let one = reports::file(c, a, b, ReportReason::Spam, "", now)?.expect("filed");
            let two = reports::file(c, b, a, ReportReason::Spam, "", now)?.expect("filed");
            Ok::<_, diesel::result::Error>((one.0, two.0))
        })
        .await;
    let (keep, bad) = (add_photo(&app, 2).await, add_photo(&app, 2).await);
    let job: i64 = app
        .db(|c| {
            use swiper::db::schema::jobs;
            let now = chrono::Utc::now().naive_utc();
            let id = swiper::jobs::enqueue(
                c,
                swiper::jobs::NewJob::new("maintenance.purge_expired", &(), now)?,
            )?
            .expect("enqueued");
            diesel::update(jobs::table.find(id.0))
                .set((
                    jobs::status.eq("dead"),
                    jobs::run_at.eq(now + chrono::TimeDelta::days(1)),
                ))
                .execute(c)?;
            Ok::<_, diesel::result::Error>(id.0)
        })
        .await;
    let pw = ("password", GOOD_PASSWORD);
    // (route pattern, path, form fields)
    type Action<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);
    let actions: Vec<Action> = vec![
        (
            "/admin/users/{id}/verify",
            "/admin/users/1/verify".into(),
            vec![],
        ),
        (
            "/admin/users/{id}/resend-verification",
            "/admin/users/4/resend-verification".into(),
            vec![],
        ),
        (
            "/admin/users/{id}/revoke-sessions",
            "/admin/users/1/revoke-sessions".into(),
            vec![],
        ),
        (
            "/admin/users/{id}/roles",
            "/admin/users/1/roles".into(),
            vec![("role", "support"), pw],
        ),
        (
            "/admin/users/{id}/plan",
            "/admin/users/1/plan".into(),
            vec![("plan", "vip2"), pw],
        ),
        (
            "/admin/users/{id}/ban",
            "/admin/users/1/ban".into(),
            vec![("reason", "spam")],
        ),
        (
            "/admin/users/{id}/unban",
            "/admin/users/1/unban".into(),
            vec![],
        ),
        (
            "/admin/roles",
            "/admin/roles".into(),
            vec![("name", "helpers"), ("description", "Help"), pw],
        ),
        (
            "/admin/roles/{name}",
            "/admin/roles/helpers".into(),
            vec![("permission", "users.view"), pw],
        ),
        (
            "/admin/plans/{name}",
            "/admin/plans/vip2".into(),
            vec![
                ("superlike_daily_limit", "5"),
                ("rewind_daily_limit", "5"),
                pw,
            ],
        ),
        (
            "/admin/reports/{id}/resolve",
            format!("/admin/reports/{report_a}/resolve"),
            vec![("action", "dismiss")],
        ),
        (
            "/admin/reports/{id}/resolve",
            format!("/admin/reports/{report_b}/resolve"),
            vec![("action", "ban")],
        ),
        (
            "/admin/photos/{id}/approve",
            format!("/admin/photos/{keep}/approve"),
            vec![],
        ),
        (
            "/admin/photos/{id}/reject",
            format!("/admin/photos/{bad}/reject"),
            vec![("reason", "not a face")],
        ),
        (
            "/admin/settings",
            "/admin/settings".into(),
            vec![("rewind_daily_limit", "4"), pw],
        ),
        (
            "/admin/jobs/{id}/retry",
            format!("/admin/jobs/{job}/retry"),
            vec![],
        ),
    ];
    // Every state-changing route of the console is tried here.
    for r in ROUTES.iter().filter(|r| r.method == "POST") {
        assert!(
            actions.iter().any(|(pattern, _, _)| *pattern == r.pattern),
            "{} is not tried",
            r.pattern
        );
    }
    let mut notices = std::collections::HashSet::new();
    for (pattern, path, fields) in &actions {
        let res = admin.post(path, fields).await;
        assert_eq!(res.status(), 303, "{path}");
        let to = location(&res);
        let notice = to
            .split("notice=")
            .nth(1)
            .unwrap_or_else(|| panic!("{pattern} ends without a notice: {to}"))
            .to_string();
        let page = admin.html(&to).await;
        assert!(
            page.contains(&format!("data-notice=\"notice.{notice}\"")),
            "{pattern}: the notice is shown on {to}"
        );
        assert!(!page.contains(">notice."), "no raw key on {to}");
        notices.insert(notice);
    }
    assert!(notices.len() >= 15, "each action says its own: {notices:?}");
}
