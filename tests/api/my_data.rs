//! A member's own data: the export (a ZIP by mail link, for that member
//! only, expiring) and deleting the account (hidden at once, restorable by
//! logging in for 14 days, then purged; a ban outlives it).

use std::io::Read;

use diesel::prelude::*;
use swiper::clock::Clock;
use swiper::db::schema::{audit_log, photos, profiles, users};

use crate::chat::jobs_settle;
use crate::discovery::{join, swipe, Person};
use crate::helpers::*;
use crate::photos::{jpeg_with_gps, media_files, upload, wait_processed};

/// Ana (with a photo) and Bo matched, and a message each way.
async fn couple(app: &TestApp) -> (Browser, i64, Browser, i64, i64) {
    let (ana, ana_id) = join(app, &Person::new("ana@example.com", "female", "1990-05-17")).await;
    let (bo, bo_id) = join(app, &Person::new("bo@example.com", "male", "1990-01-01")).await;
    assert_eq!(
        upload(&ana, "a.jpg", jpeg_with_gps(800, 600))
            .await
            .status(),
        303
    );
    wait_processed(&ana).await;
    assert_eq!(swipe(&ana, bo_id, "like").await.status(), 303);
    assert_eq!(swipe(&bo, ana_id, "like").await.status(), 303);
    for _ in 0..2 {
        app.mail.next_mail().await; // the match mails
    }
    let m = app
        .db(move |c| {
            swiper::db::schema::matches::table
                .select(swiper::db::schema::matches::id)
                .first::<i64>(c)
        })
        .await;
    for (who, body) in [(&ana, "hi Bo, from Ana"), (&bo, "hello Ana, from Bo")] {
        let res = who
            .post(&format!("/matches/{m}/messages"), &[("body", body)])
            .await;
        assert_eq!(res.status(), 303);
    }
    (ana, ana_id, bo, bo_id, m)
}

/// Runs a job of `kind` now and waits until it is done.
async fn run_job(app: &TestApp, kind: &'static str) {
    let now = app.state.clock.now();
    app.db(move |c| {
        swiper::jobs::enqueue(
            c,
            swiper::jobs::NewJob::new(kind, &serde_json::json!({}), now)?,
        )
    })
    .await;
    jobs_settle(app, kind).await;
}

#[tokio::test]
async fn my_export_holds_every_part_for_me_alone_and_expires() {
    let clock = Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    let (ana, ana_id, bo, _, _) = couple(&app).await;

    assert!(ana
        .html("/settings/data")
        .await
        .contains("action=\"/settings/data/export\""));
    let res = ana.post("/settings/data/export", &[]).await;
    assert_eq!(location(&res), "/settings/data?notice=export_requested");
    // One a day.
    let again = ana.post("/settings/data/export", &[]).await;
    assert_eq!(again.status(), 429);
    assert!(again.headers().contains_key("retry-after"));

    let mail = app.mail.next_mail().await;
    assert!(mail.contains("To: ana@example.com"), "{mail}");
    let link = link_in(&mail, "/settings/data/exports/");
    // Bo (logged in) and a visitor get nothing from her link.
    assert_eq!(bo.get(&link).await.status(), 404);
    let visitor = app.new_browser();
    assert_ne!(visitor.get(&link).await.status(), 200);
    let page = ana.html("/settings/data").await;
    let path = link.trim_start_matches(&app.base).to_string();
    assert!(
        page.contains(&format!("href=\"{path}\"")),
        "the page links it too"
    );

    let res = ana.get(&link).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut names: Vec<String> = (0..zip.len())
        .map(|i| {
            zip.by_index(i)
                .expect("an entry")
                .name()
                .expect("a name")
                .to_string()
        })
        .collect();
    names.sort();
    for part in [
        "README.txt",
        "account.json",
        "profile.json",
        "preferences.json",
        "photos.json",
        "swipes.json",
        "matches.json",
        "messages.json",
        "reports.json",
        "blocks.json",
        "sessions.json",
        "security_events.json",
    ] {
        assert!(names.contains(&part.to_string()), "{part} in {names:?}");
    }
    let photo = names
        .iter()
        .find(|n| n.starts_with("photos/"))
        .expect("the photo file");
    let mut jpeg = Vec::new();
    zip.by_name(photo).unwrap().read_to_end(&mut jpeg).unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    let mut text = String::new();
    for name in names.iter().filter(|n| n.ends_with(".json")) {
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
    }
    assert!(text.contains("ana@example.com") && text.contains("1990-05-17"));
    assert!(text.contains("hi Bo, from Ana") && text.contains("hello Ana, from Bo"));
    assert!(text.contains(&format!("\"id\": {ana_id}")));
    // Nothing of Bo's private data: his email, birthday, position.
    assert!(!text.contains("bo@example.com"), "his email");
    assert!(!text.contains("1990-01-01"), "his birthday");
    let hers: Vec<f64> = app
        .db(move |c| {
            profiles::table
                .find(ana_id)
                .select(profiles::latitude)
                .first::<Option<f64>>(c)
        })
        .await
        .into_iter()
        .collect();
    assert_eq!(hers.len(), 1, "her own position is hers to read");

    // After seven days the link is dead and the job deletes the file.
    clock.advance(chrono::TimeDelta::days(7) + chrono::TimeDelta::minutes(1));
    let ana = app.new_browser();
    assert_eq!(
        ana.login("ana@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    assert_eq!(ana.get(&link).await.status(), 404);
    let before = media_files(&app)
        .iter()
        .filter(|f| f.contains("exports"))
        .count();
    assert_eq!(before, 1, "the file is still there before the job");
    run_job(&app, "accounts.export_expire").await;
    assert!(!media_files(&app).iter().any(|f| f.contains("exports")));
    assert!(ana
        .html("/settings/data")
        .await
        .contains("data-status=\"expired\""));
}

#[tokio::test]
async fn deleting_hides_at_once_a_login_restores_and_the_purge_keeps_the_conversation() {
    let clock = Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    let (ana, ana_id, bo, _, m) = couple(&app).await;
    let other_device = app.new_browser();
    assert_eq!(
        other_device
            .login("ana@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );

    // The password is asked for; a wrong one changes nothing.
    let page = ana.html("/settings/data").await;
    assert!(page.contains("action=\"/settings/delete\"") && page.contains("name=\"password\""));
    let res = ana
        .post("/settings/delete", &[("password", "not it at all")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"wrong_password\""));
    assert!(ana.is_logged_in().await);

    let res = ana
        .post("/settings/delete", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    // Hidden at once: logged out everywhere, out of the feed, "deleted member" to Bo.
    assert!(!ana.is_logged_in().await);
    assert!(!other_device.is_logged_in().await);
    let in_feed = || {
        app.db(move |c| {
            profiles::table
                .find(ana_id)
                .select(profiles::in_feed)
                .first::<bool>(c)
        })
    };
    assert!(!in_feed().await);
    let list = bo.html("/matches").await;
    assert!(list.contains("data-testid=\"deleted-member\""), "{list}");
    assert!(!list.contains(">ana<"), "her name is gone");
    let thread = bo.html(&format!("/matches/{m}")).await;
    assert!(thread.contains("hi Bo, from Ana") && thread.contains("data-testid=\"departed\""));
    assert!(!thread.contains("action=\"/matches/{m}/messages\""));
    assert_eq!(bo.get(&format!("/users/{ana_id}")).await.status(), 404);

    // Logging in within the grace period brings it back as it was.
    clock.advance(chrono::TimeDelta::days(13));
    let ana = app.new_browser();
    assert_eq!(
        ana.login("ana@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    assert!(ana.is_logged_in().await);
    assert!(in_feed().await);
    let bo = app.new_browser();
    assert_eq!(
        bo.login("bo@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    assert!(!bo.html("/matches").await.contains("deleted-member"));

    // Deleted again, and not back in time: purged.
    let res = ana
        .post("/settings/delete", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    let files_before = media_files(&app)
        .iter()
        .filter(|f| f.contains("photos"))
        .count();
    assert!(files_before >= 3, "her photo's sizes are on disk");
    clock.advance(chrono::TimeDelta::days(14) + chrono::TimeDelta::minutes(1));
    run_job(&app, "accounts.purge_deleted").await;
    jobs_settle(&app, "photo.delete_files").await;
    wait_until("her photo files are gone", || async {
        !media_files(&app).iter().any(|f| f.contains("photos"))
    })
    .await;
    let (email, nickname, purged) = app
        .db(move |c| {
            users::table
                .find(ana_id)
                .select((
                    users::email,
                    users::nickname,
                    users::purged_at.is_not_null(),
                ))
                .first::<(String, String, bool)>(c)
        })
        .await;
    assert!(purged && !email.contains("ana") && nickname.is_empty());
    let left = app
        .db(move |c| {
            photos::table
                .filter(photos::user_id.eq(ana_id))
                .count()
                .get_result::<i64>(c)
        })
        .await;
    assert_eq!(left, 0);
    let audit: Vec<(String, String, Option<String>)> = app
        .db(|c| {
            audit_log::table
                .filter(audit_log::action.eq("user.purge"))
                .select((audit_log::target_id, audit_log::ip, audit_log::after))
                .load(c)
        })
        .await;
    assert_eq!(audit, vec![(ana_id.to_string(), String::new(), None)]);
    // Bo still reads the conversation, with "deleted member".
    let bo = app.new_browser();
    assert_eq!(
        bo.login("bo@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    let thread = bo.html(&format!("/matches/{m}")).await;
    assert!(thread.contains("hi Bo, from Ana") && thread.contains("Deleted member"));
    // Reading it clears his badge, and he can remove the conversation.
    let unread = app
        .db(move |c| {
            users::table
                .filter(users::email.eq("bo@example.com"))
                .select(users::unread_messages)
                .first::<i64>(c)
        })
        .await;
    assert_eq!(unread, 0, "read like any conversation");
    let res = bo.post(&format!("/matches/{m}/unmatch"), &[]).await;
    assert_eq!(res.status(), 303);
    assert!(!bo.html("/matches").await.contains("deleted-member"));
    // Too late to log in; staff cannot bring it back.
    assert_ne!(
        app.new_browser()
            .login("ana@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn a_banned_member_who_deletes_cannot_sign_up_again_with_the_same_email() {
    let clock = Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock(clock.clone()).await;
    let (eve, eve_id) = join(
        &app,
        &Person::new("eve@example.com", "female", "1990-05-17"),
    )
    .await;
    let (_, ann_id) = join(
        &app,
        &Person::new("ann@example.com", "female", "1991-05-17"),
    )
    .await;
    let res = eve
        .post("/settings/delete", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    // Staff ban her during the grace period; Ann just leaves.
    let now = clock.now();
    app.db(move |c| swiper::accounts::closing::ban(c, swiper::auth::UserId(eve_id), now))
        .await;
    let ann = app.new_browser();
    assert_eq!(
        ann.login("ann@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    assert_eq!(
        location(
            &ann.post("/settings/delete", &[("password", GOOD_PASSWORD)])
                .await
        ),
        "/login?notice=account_deleted"
    );
    // A banned account is not restored by logging in.
    assert_ne!(
        app.new_browser()
            .login("eve@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    clock.advance(chrono::TimeDelta::days(15));
    run_job(&app, "accounts.purge_deleted").await;
    let purged = app
        .db(move |c| {
            users::table
                .filter(users::id.eq_any([eve_id, ann_id]))
                .filter(users::purged_at.is_not_null())
                .count()
                .get_result::<i64>(c)
        })
        .await;
    assert_eq!(purged, 2);
    // Staff lifting the ban cannot bring a purged account back.
    app.db(move |c| swiper::auth::User::lift_ban(c, swiper::auth::UserId(eve_id), now))
        .await;
    let active = app
        .db(move |c| {
            users::table
                .find(eve_id)
                .select(users::is_active)
                .first::<bool>(c)
        })
        .await;
    assert!(!active, "a purged account stays gone");

    let sign_up = |email: &'static str| {
        let browser = app.new_browser();
        async move {
            let res = browser
                .post(
                    "/signup",
                    &[
                        ("email", email),
                        ("password", GOOD_PASSWORD),
                        ("nickname", "again"),
                        ("sex", "female"),
                        ("birthday", "1990-05-17"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 303, "the same answer either way");
        }
    };
    let exists = |email: &'static str| {
        app.db(move |c| {
            users::table
                .filter(users::email.eq(email))
                .count()
                .get_result::<i64>(c)
        })
    };
    sign_up("eve@example.com").await;
    assert_eq!(
        exists("eve@example.com").await,
        0,
        "refused: she was banned"
    );
    sign_up("ann@example.com").await;
    assert_eq!(
        exists("ann@example.com").await,
        1,
        "a member who just left can come back"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn a_deletion_on_one_instance_hides_the_member_on_the_other_at_once() {
    require_postgres_and_redis();
    let (a, b) = spawn_two().await;
    let (ana, ana_id) = join(&a, &Person::new("ana@example.com", "female", "1990-05-17")).await;
    let (bo, _) = join(&a, &Person::new("bo@example.com", "male", "1990-01-01")).await;
    let (ana_b, bo_b) = (ana.on(&b.base), bo.on(&b.base));
    assert!(
        ana_b.is_logged_in().await,
        "B has her session (and caches it)"
    );
    assert!(crate::discovery::feed(&bo_b, 1).await.contains(&ana_id));

    let since = std::time::Instant::now();
    let res = ana
        .post("/settings/delete", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    logged_out_within_a_second(&ana_b, since, "her session on B").await;
    assert!(
        !crate::discovery::feed(&bo_b, 1).await.contains(&ana_id),
        "out of his feed on B"
    );
    assert!(!bo_b
        .html("/likes")
        .await
        .contains(&format!("data-candidate=\"{ana_id}\"")));
}

#[tokio::test]
async fn a_phone_account_deletes_with_a_texted_code() {
    use crate::sms::{clear_minute_of, next_code, texts_to};
    let app = spawn_app().await;
    let number = "+33612345678";
    let b = app.new_browser();
    b.post("/login/sms", &[("phone", number)]).await;
    let code = next_code(&app, number, 0).await;
    let res = b
        .post("/login/sms", &[("phone", number), ("code", &code)])
        .await;
    assert_eq!(location(&res), "/welcome");
    // No password to give: the page offers a code.
    let page = b.html("/settings/data").await;
    assert!(!page.contains("name=\"password\"") && !page.contains("name=\"code\""));
    clear_minute_of(&app, number).await;
    let sent = texts_to(&app, number).len();
    let res = b.post("/settings/delete", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("name=\"code\""));
    let code = next_code(&app, number, sent).await;
    let res = b.post("/settings/delete", &[("code", "000000")]).await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"invalid_code\""));
    assert!(b.is_logged_in().await, "a wrong code changes nothing");
    let res = b.post("/settings/delete", &[("code", &code)]).await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    assert!(!b.is_logged_in().await);
    let deleted = app
        .db(|c| {
            users::table
                .filter(users::deleted_at.is_not_null())
                .count()
                .get_result::<i64>(c)
        })
        .await;
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn a_providers_account_deletes_within_ten_minutes_of_logging_in() {
    use crate::oauth::{app_with, complete_profile, oauth_login};
    use swiper::db::schema::user_sessions;
    let provider = FakeProvider::start().await;
    let app = app_with(&provider).await;
    provider.set_user("u-1", Some("nova@example.com"), "Nova");
    let b = app.new_browser();
    assert_eq!(oauth_login(&b).await.status(), 303);
    assert_eq!(complete_profile(&b, "1995-03-04").await.status(), 303);
    assert!(b
        .html("/settings/data")
        .await
        .contains("data-testid=\"delete-form\""));

    // A login more than ten minutes old is asked to log in again.
    let aged = chrono::Utc::now().naive_utc() - chrono::TimeDelta::minutes(11);
    app.db(move |c| {
        diesel::update(user_sessions::table)
            .set(user_sessions::created_at.eq(aged))
            .execute(c)
    })
    .await;
    let res = b.post("/settings/delete", &[]).await;
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-error-code=\"login_again\""));
    assert!(b.is_logged_in().await);

    // Logged in again through the provider: deleted.
    assert_eq!(oauth_login(&b).await.status(), 303);
    let res = b.post("/settings/delete", &[]).await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    assert!(!b.is_logged_in().await);
    // And a provider's login within the grace period restores it.
    assert_eq!(location(&oauth_login(&b).await), "/discover");
    assert!(b.is_logged_in().await);
}

#[tokio::test]
#[ignore = "needs an S3-compatible server: set TEST_S3_ENDPOINT and run with -- --include-ignored (CI starts moto_server)"]
async fn the_purge_deletes_the_photos_from_s3_compatible_storage() {
    let endpoint = std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("TEST_S3_ENDPOINT must point at an S3-compatible server (e.g. moto_server)");
    let name = format!(
        "swiper-purge-{}",
        swiper::security::random::token(8)
            .to_lowercase()
            .replace(['_', '-'], "x")
    );
    let bucket = crate::s3::bucket(&endpoint, &name).await;
    let objects = || async { crate::s3::keys(&bucket).await.len() };
    let clock = Clock::manual(chrono::Utc::now().naive_utc());
    let app = spawn_app_with_clock_and(
        clock.clone(),
        &[
            ("S3_ENDPOINT", endpoint.as_str()),
            ("S3_BUCKET", name.as_str()),
            ("S3_REGION", "eu-west-1"),
            ("S3_ACCESS_KEY", "test"),
            ("S3_SECRET_KEY", "test"),
        ],
    )
    .await;
    let (ana, _) = join(
        &app,
        &Person::new("ana@example.com", "female", "1990-05-17"),
    )
    .await;
    assert_eq!(
        upload(&ana, "a.jpg", jpeg_with_gps(800, 600))
            .await
            .status(),
        303
    );
    wait_processed(&ana).await;
    assert_eq!(objects().await, 3, "three sizes in the bucket");
    let res = ana
        .post("/settings/delete", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(location(&res), "/login?notice=account_deleted");
    assert_eq!(objects().await, 3, "kept through the grace period");
    clock.advance(chrono::TimeDelta::days(15));
    run_job(&app, "accounts.purge_deleted").await;
    jobs_settle(&app, "photo.delete_files").await;
    wait_until("her photos are gone from the bucket", || async {
        objects().await == 0
    })
    .await;
    let _ = bucket.delete().await;
}
