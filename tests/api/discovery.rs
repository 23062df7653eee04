//! Discovery: the feed's rules, swipes, matches, rewinds, who liked me,
//! block and report, and the ids nobody may reach.

use diesel::prelude::*;
use swiper::db::schema::{matches, reports, swipes, users};

use crate::helpers::*;

/// A member to create: sign-up fields, then the profile form.
#[derive(Clone)]
pub struct Person {
    pub email: &'static str,
    pub sex: &'static str,
    pub birthday: &'static str,
    pub want: &'static str,
    pub ages: (&'static str, &'static str),
    pub km: &'static str,
    pub position: Option<(&'static str, &'static str)>,
    pub city: &'static str,
}

impl Person {
    pub fn new(email: &'static str, sex: &'static str, birthday: &'static str) -> Self {
        Self {
            email,
            sex,
            birthday,
            want: "any",
            ages: ("18", "99"),
            km: "100",
            position: Some(("48.8566", "2.3522")),
            city: "Paris",
        }
    }
    pub fn wants(mut self, want: &'static str) -> Self {
        self.want = want;
        self
    }
    pub fn ages(mut self, min: &'static str, max: &'static str) -> Self {
        self.ages = (min, max);
        self
    }
    pub fn at(mut self, lat: &'static str, lng: &'static str, km: &'static str) -> Self {
        self.position = Some((lat, lng));
        self.km = km;
        self
    }
    pub fn no_position(mut self, city: &'static str) -> Self {
        self.position = None;
        self.city = city;
        self
    }
}

/// Signs `p` up, verifies the address, logs in and saves the profile; returns
/// the logged-in browser and the member's id.
pub async fn join(app: &TestApp, p: &Person) -> (Browser, i64) {
    let browser = app.new_browser();
    let res = browser
        .post(
            "/signup",
            &[
                ("email", p.email),
                ("password", GOOD_PASSWORD),
                ("nickname", p.email.split('@').next().unwrap()),
                ("sex", p.sex),
                ("birthday", p.birthday),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "sign-up of {}", p.email);
    let link = link_in(&app.mail.next_mail().await, "/verify-email?token=");
    assert_eq!(browser.get(&link).await.status(), 200);
    assert_eq!(browser.login(p.email, GOOD_PASSWORD).await.status(), 303);
    let (lat, lng) = p.position.unwrap_or(("", ""));
    let nickname = p.email.split('@').next().unwrap();
    let res = browser
        .post(
            "/profile",
            &[
                ("nickname", nickname),
                ("bio", ""),
                ("city", p.city),
                ("latitude", lat),
                ("longitude", lng),
                ("time_zone", "Europe/Paris"),
                ("want_sex", p.want),
                ("min_age", p.ages.0),
                ("max_age", p.ages.1),
                ("max_distance_km", p.km),
                ("discoverable", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "profile of {}", p.email);
    (browser, app.user_id(p.email).await)
}

/// The ids of the people on my feed's page `page`.
pub async fn feed(browser: &Browser, page: usize) -> Vec<i64> {
    let html = browser.html(&format!("/discover?page={page}")).await;
    html.split("data-candidate=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter_map(|s| s.parse().ok())
        .collect()
}

pub async fn swipe(browser: &Browser, target: i64, kind: &str) -> reqwest::Response {
    browser
        .post(
            "/swipes",
            &[("target", &target.to_string()), ("kind", kind)],
        )
        .await
}

// A woman in Paris, 36 (born 1990), open to anyone 18–99 within 100 km.
pub fn ana() -> Person {
    Person::new("ana@example.com", "female", "1990-05-17")
}

#[tokio::test]
async fn the_feed_shows_people_who_fit_both_ways_and_nobody_else() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana().wants("male").ages("30", "45")).await;
    let (_, fits) = join(
        &app,
        &Person::new("fits@example.com", "male", "1988-01-01").wants("female"),
    )
    .await;
    let (_, wrong_sex) = join(
        &app,
        &Person::new("she@example.com", "female", "1988-01-01"),
    )
    .await;
    let (_, too_young) = join(
        &app,
        &Person::new("young@example.com", "male", "2002-01-01"),
    )
    .await;
    let (_, wants_men) = join(
        &app,
        &Person::new("wantsmen@example.com", "male", "1988-01-01").wants("male"),
    )
    .await;
    let (_, wants_younger) = join(
        &app,
        &Person::new("picky@example.com", "male", "1988-01-01").ages("18", "30"),
    )
    .await;
    let (_, far) = join(
        &app,
        &Person::new("far@example.com", "male", "1988-01-01").at("45.764", "4.8357", "500"),
    )
    .await;
    let (_, near_but_short_reach) = join(
        &app,
        &Person::new("short@example.com", "male", "1988-01-01").at("49.2", "2.35", "20"),
    )
    .await;
    let shown = feed(&me, 1).await;
    assert_eq!(shown, vec![fits], "only the one who fits both ways");
    for id in [
        wrong_sex,
        too_young,
        wants_men,
        wants_younger,
        far,
        near_but_short_reach,
    ] {
        assert!(!shown.contains(&id));
    }
}

#[tokio::test]
async fn non_binary_members_and_any_combination_of_sexes_follow_the_two_way_rule() {
    let app = spawn_app().await;
    // Kai is non-binary and wants women and non-binary people.
    let (kai, kai_id) = join(
        &app,
        &Person::new("kai@example.com", "nonbinary", "1990-01-01").wants("female,nonbinary"),
    )
    .await;
    let (ana, ana_id) = join(&app, &ana().wants("any")).await;
    let (women_only, women_only_id) = join(
        &app,
        &Person::new("wo@example.com", "female", "1991-01-01").wants("female"),
    )
    .await;
    let (_, man_id) = join(
        &app,
        &Person::new("man@example.com", "male", "1989-01-01").wants("any"),
    )
    .await;
    let (_, nb_wants_men_id) = join(
        &app,
        &Person::new("sam@example.com", "nonbinary", "1992-01-01").wants("male"),
    )
    .await;
    let (_, nb_id) = join(
        &app,
        &Person::new("ray@example.com", "nonbinary", "1992-01-01").wants("any"),
    )
    .await;

    let mut shown = feed(&kai, 1).await;
    shown.sort();
    let mut expected = vec![ana_id, nb_id];
    expected.sort();
    assert_eq!(
        shown, expected,
        "a woman open to everyone and a non-binary member open to everyone; \
         not the man (unwanted), not the woman who wants women only, not the \
         non-binary member who wants men only"
    );
    let _ = (women_only_id, nb_wants_men_id, man_id);
    assert!(feed(&ana, 1).await.contains(&kai_id), "Ana wants everyone");
    assert!(
        !feed(&women_only, 1).await.contains(&kai_id),
        "wanting women only hides non-binary members"
    );

    // The new choices are offered on the forms.
    let signup = app.new_browser().html("/signup").await;
    assert!(signup.contains("value=\"nonbinary\""));
    let profile = kai.html("/profile").await;
    assert!(profile.contains("value=\"female,nonbinary\" selected"));
    assert!(profile.contains("Women and non-binary people"));
}

#[tokio::test]
async fn without_positions_the_feed_matches_by_city() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana().no_position("Lyon")).await;
    let (_, same_city) = join(
        &app,
        &Person::new("lyon@example.com", "male", "1990-01-01").no_position(" lyon "),
    )
    .await;
    let (_, other_city) = join(
        &app,
        &Person::new("nice@example.com", "male", "1990-01-01").no_position("Nice"),
    )
    .await;
    let (_, positioned_in_lyon) = join(
        &app,
        &Person::new("pos@example.com", "male", "1990-01-01").at("45.76", "4.83", "100"),
    )
    .await;
    let shown = feed(&me, 1).await;
    assert!(
        shown.contains(&same_city),
        "same city, case and spaces aside"
    );
    assert!(!shown.contains(&other_city));
    let _ = positioned_in_lyon;
    // With a position, members without one are matched by city too.
    let (with_pos, _) = join(
        &app,
        &Person::new("bob@example.com", "male", "1990-01-01").at("45.76", "4.84", "50"),
    )
    .await;
    let _ = with_pos;
    let (me2, _) = join(
        &app,
        &Person::new("carl@example.com", "female", "1991-01-01").at("45.75", "4.85", "50"),
    )
    .await;
    let shown = feed(&me2, 1).await;
    assert!(
        shown.contains(&positioned_in_lyon),
        "both positioned and near"
    );
    assert!(
        !shown.contains(&same_city),
        "no position and my city is empty"
    );
}

#[tokio::test]
async fn unverified_hidden_and_blocked_people_never_appear() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (_, visible) = join(&app, &Person::new("ok@example.com", "male", "1990-01-01")).await;
    let (hidden_browser, hidden) = join(
        &app,
        &Person::new("hidden@example.com", "male", "1990-01-01"),
    )
    .await;
    let (blocker, blocker_id) = join(
        &app,
        &Person::new("blocker@example.com", "male", "1990-01-01"),
    )
    .await;
    // An account that never verified its address.
    let res = app
        .new_browser()
        .post(
            "/signup",
            &[
                ("email", "unverified@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "Unverified"),
                ("sex", "male"),
                ("birthday", "1990-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.mail.next_mail().await;
    let unverified = app
        .db(|c| {
            users::table
                .filter(users::email.eq("unverified@example.com"))
                .select(users::id)
                .first::<i64>(c)
        })
        .await;
    // Hidden: discovery turned off.
    let res = hidden_browser
        .post(
            "/profile",
            &[
                ("nickname", "hidden"),
                ("city", "Paris"),
                ("latitude", "48.8566"),
                ("longitude", "2.3522"),
                ("time_zone", "Europe/Paris"),
                ("want_sex", "any"),
                ("min_age", "18"),
                ("max_age", "99"),
                ("max_distance_km", "100"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let shown = feed(&me, 1).await;
    assert!(shown.contains(&visible) && shown.contains(&blocker_id));
    assert!(!shown.contains(&hidden) && !shown.contains(&unverified) && !shown.contains(&me_id));
    // A block hides both ways.
    let res = blocker.post(&format!("/users/{me_id}/block"), &[]).await;
    assert_eq!(res.status(), 303);
    assert!(!feed(&me, 1).await.contains(&blocker_id), "blocked by them");
    assert!(!feed(&blocker, 1).await.contains(&me_id), "blocked by me");
}

#[tokio::test]
async fn a_swiped_person_never_appears_again_and_pages_do_not_repeat() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let mut everyone = Vec::new();
    for (i, email) in [
        "m1@example.com",
        "m2@example.com",
        "m3@example.com",
        "m4@example.com",
        "m5@example.com",
        "m6@example.com",
        "m7@example.com",
        "m8@example.com",
        "m9@example.com",
        "m10@example.com",
        "m11@example.com",
        "m12@example.com",
    ]
    .into_iter()
    .enumerate()
    {
        let birthday = if i % 2 == 0 {
            "1989-03-03"
        } else {
            "1992-07-07"
        };
        everyone.push(join(&app, &Person::new(email, "male", birthday)).await.1);
    }
    let first = feed(&me, 1).await;
    let second = feed(&me, 2).await;
    assert_eq!(first.len(), 10);
    assert_eq!(second.len(), 2);
    let mut all: Vec<i64> = first.iter().chain(second.iter()).copied().collect();
    all.sort_unstable();
    let mut expected = everyone.clone();
    expected.sort_unstable();
    assert_eq!(all, expected, "every page together, each person once");
    let target = first[0];
    assert_eq!(swipe(&me, target, "dislike").await.status(), 303);
    for page in 1..=3 {
        assert!(
            !feed(&me, page).await.contains(&target),
            "never again after a swipe"
        );
    }
}

#[tokio::test]
async fn people_who_superliked_me_come_first() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (_, a) = join(&app, &Person::new("a@example.com", "male", "1990-01-01")).await;
    let (fan, fan_id) = join(
        &app,
        &Person::new("fan@example.com", "male", "1990-01-01").at("49.2", "2.9", "100"),
    )
    .await;
    let (_, c) = join(&app, &Person::new("c@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&fan, me_id, "superlike").await.status(), 303);
    let shown = feed(&me, 1).await;
    assert_eq!(shown[0], fan_id, "{shown:?}");
    assert!(shown.contains(&a) && shown.contains(&c));
    assert!(me
        .html("/discover")
        .await
        .contains("data-testid=\"superliked-me\""));
}

#[tokio::test]
async fn a_second_swipe_on_the_same_person_is_already_swiped() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, him) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&me, him, "like").await.status(), 303);
    assert_error(swipe(&me, him, "dislike").await, 409, "already_swiped").await;
    assert_eq!(app.count("swipes").await, 1);
}

#[tokio::test]
async fn bad_swipes_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (_, him) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    assert_error(swipe(&me, him, "love").await, 400, "invalid_input").await;
    assert_error(
        me.post("/swipes", &[("target", "abc"), ("kind", "like")])
            .await,
        400,
        "invalid_input",
    )
    .await;
    assert_error(swipe(&me, 999_999, "like").await, 404, "not_found").await;
    assert_error(swipe(&me, me_id, "like").await, 404, "not_found").await;
    assert_eq!(app.count("swipes").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_identical_swipes_at_once_leave_one_row() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, him) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    let statuses = me
        .post_concurrently(
            "/swipes",
            &[("target", &him.to_string()), ("kind", "like")],
            20,
        )
        .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(app.count("swipes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_liking_each_other_at_once_make_exactly_one_match() {
    let app = spawn_app().await;
    for round in 0..3 {
        let a_email: &'static str = Box::leak(format!("a{round}@example.com").into_boxed_str());
        let b_email: &'static str = Box::leak(format!("b{round}@example.com").into_boxed_str());
        let (a, a_id) = join(&app, &Person::new(a_email, "female", "1990-01-01")).await;
        let (b, b_id) = join(&app, &Person::new(b_email, "male", "1990-01-01")).await;
        let (ta, tb) = (a.csrf().await, b.csrf().await);
        let fa = tokio::spawn(async move {
            a.post_raw(
                "/swipes",
                &[
                    ("target", &b_id.to_string()),
                    ("kind", "like"),
                    ("csrf_token", &ta),
                ],
            )
            .await
            .status()
        });
        let fb = tokio::spawn(async move {
            b.post_raw(
                "/swipes",
                &[
                    ("target", &a_id.to_string()),
                    ("kind", "like"),
                    ("csrf_token", &tb),
                ],
            )
            .await
            .status()
        });
        assert_eq!(fa.await.unwrap(), 303);
        assert_eq!(fb.await.unwrap(), 303);
        let (lo, hi) = (a_id.min(b_id), a_id.max(b_id));
        let n = app
            .db(move |c| {
                matches::table
                    .filter(matches::user_a.eq(lo))
                    .filter(matches::user_b.eq(hi))
                    .count()
                    .get_result::<i64>(c)
            })
            .await;
        assert_eq!(n, 1, "round {round}: exactly one match");
        for _ in 0..2 {
            assert!(
                app.mail.next_mail().await.contains("It's a match"),
                "one mail each"
            );
        }
    }
}

/// Swipes for the writer as `service::swipe` builds them (swiper, target,
/// kind), on the app's clock and default limits.
async fn writer_swipes(
    app: &TestApp,
) -> impl Fn(i64, i64, swiper::discovery::swipes::SwipeKind) -> swiper::discovery::writer::Swipe {
    let defaults = swiper::discovery::limits::Defaults::of(&app.state.runtime)
        .await
        .unwrap();
    let (now, today) = (app.state.clock.now(), app.state.clock.today());
    move |swiper, target, kind| swiper::discovery::writer::Swipe {
        swiper: swiper::auth::UserId(swiper),
        target: swiper::auth::UserId(target),
        kind,
        now,
        today,
        day_start: now - chrono::TimeDelta::hours(1),
        defaults,
    }
}

/// Swipes that arrive together are written as one group, one transaction,
/// and the rules hold inside it as they do between requests: a pair swiped
/// twice keeps one row, two members liking each other make one match, the
/// day's superlikes stop at the limit (one by default).
#[tokio::test]
async fn swipes_written_in_one_group_keep_every_rule() {
    use swiper::discovery::swipes::SwipeKind::{Dislike, Like, Superlike};
    use swiper::discovery::writer::SwipeOutcome;
    use swiper::error::{AppError, ErrorCode};

    let app = spawn_app().await;
    let (_, me) = join(&app, &ana()).await;
    let (_, a) = join(&app, &Person::new("a@example.com", "male", "1990-01-01")).await;
    let (_, b) = join(&app, &Person::new("b@example.com", "male", "1990-01-01")).await;
    let (_, c) = join(&app, &Person::new("c@example.com", "male", "1990-01-01")).await;
    let writer = &app.state.discovery.writer;
    let swipe = writer_swipes(&app).await;
    let before = writer.groups();
    let group = [
        swipe(me, a, Like),
        swipe(me, a, Dislike),
        swipe(a, me, Like),
        swipe(me, b, Superlike),
        swipe(me, c, Superlike),
    ];
    // All five are queued before the writer runs (one thread, one poll each).
    let outcomes = futures_util::future::join_all(group.map(|s| writer.write(s))).await;
    assert_eq!(writer.groups(), before + 1, "one group: {outcomes:?}");
    assert!(
        matches!(outcomes[0], Ok(SwipeOutcome::Swiped)),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            outcomes[1],
            Err(AppError::Refused(ErrorCode::AlreadySwiped))
        ),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[2], Ok(SwipeOutcome::Matched(_))),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[3], Ok(SwipeOutcome::Swiped)),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            outcomes[4],
            Err(AppError::Refused(ErrorCode::SuperlikeLimitReached))
        ),
        "{outcomes:?}"
    );
    assert_eq!(app.count("swipes").await, 3);
    assert_eq!(app.count("matches").await, 1);
}

/// A graceful shutdown stops the HTTP workers one by one. A swipe waiting
/// behind a group that another worker's swipe started is still written and
/// answered after that worker stopped: the writer runs on the system's own
/// arbiter, not on the worker whose swipe started it. (On SQLite, one
/// writer, the waiting swipe has no other writer to take it; without that,
/// it waits forever and the bound below fails the test.)
#[actix_web::test]
async fn a_swipe_waiting_on_a_group_outlives_the_worker_that_started_it() {
    use diesel::connection::SimpleConnection;
    use swiper::discovery::swipes::SwipeKind::Like;
    use swiper::discovery::writer::SwipeOutcome;

    let app = spawn_app().await;
    let (_, me) = join(&app, &ana()).await;
    let (_, a) = join(&app, &Person::new("a@example.com", "male", "1990-01-01")).await;
    let (_, b) = join(&app, &Person::new("b@example.com", "male", "1990-01-01")).await;
    let writer = app.state.discovery.writer.clone();
    let swipe = writer_swipes(&app).await;
    let swipe = move |target: i64| swipe(me, target, Like);
    // Hold the group's first statement: my profile row (PostgreSQL) or the
    // database's write lock (SQLite).
    let pool = app.db.pool();
    let mut hold = pool.get().unwrap();
    if app.db.is_postgres() {
        let lock = format!("BEGIN; SELECT 1 FROM profiles WHERE user_id = {me} FOR UPDATE");
        hold.batch_execute(&lock).unwrap();
    } else {
        hold.batch_execute("BEGIN IMMEDIATE").unwrap();
    }
    // A worker's swipe starts the writer, whose group then waits on the lock.
    let before = writer.groups();
    let worker = actix_rt::Arbiter::new();
    let on_worker = writer.clone();
    let first = swipe(a);
    assert!(worker.spawn(async move {
        let _ = on_worker.write(first).await;
    }));
    while writer.groups() == before {
        actix_web::rt::task::yield_now().await;
    }
    // Another swipe waits behind that group; then the worker stops.
    let second = actix_web::rt::spawn({
        let writer = writer.clone();
        async move { writer.write(swipe(b)).await }
    });
    actix_web::rt::task::yield_now().await;
    worker.stop();
    actix_web::rt::task::spawn_blocking(move || worker.join())
        .await
        .unwrap()
        .unwrap();
    hold.batch_execute("COMMIT").unwrap();
    let answered = actix_web::rt::time::timeout(std::time::Duration::from_secs(30), second).await;
    assert!(
        matches!(answered, Ok(Ok(Ok(SwipeOutcome::Swiped)))),
        "{answered:?}"
    );
    let pool = app.db.pool();
    let mut c = pool.get().unwrap();
    let written = |c: &mut swiper::db::DbConnection, target: i64| {
        swipes::table
            .filter(swipes::swiper_id.eq(me))
            .filter(swipes::target_id.eq(target))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    };
    assert_eq!(written(&mut c, b), 1, "the waiting swipe is written");
    if !app.db.is_postgres() {
        // One writer: the first group committed before the second began.
        // (PostgreSQL's two writers take the released lock in either order,
        // and nobody waits for the first swipe's answer any more.)
        assert_eq!(written(&mut c, a), 1, "the worker's swipe is written too");
    }
}

#[tokio::test]
async fn a_mutual_like_is_a_match_for_both_with_a_mail() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (him, him_id) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&him, me_id, "like").await.status(), 303);
    let res = swipe(&me, him_id, "like").await;
    assert!(location(&res).starts_with("/discover?notice=its_a_match&match="));
    let mail_a = app.mail.next_mail().await;
    let mail_b = app.mail.next_mail().await;
    assert!(mail_a.contains("It's a match") && mail_b.contains("It's a match"));
    assert!(me.html("/matches").await.contains("him</span>"));
    assert!(him.html("/matches").await.contains("ana</span>"));
}

#[tokio::test]
async fn superlikes_are_limited_per_day_by_the_runtime_setting() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, a) = join(&app, &Person::new("a@example.com", "male", "1990-01-01")).await;
    let (_, b) = join(&app, &Person::new("b@example.com", "male", "1990-01-01")).await;
    let (_, c) = join(&app, &Person::new("c@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&me, a, "superlike").await.status(), 303);
    assert_error(
        swipe(&me, b, "superlike").await,
        409,
        "superlike_limit_reached",
    )
    .await;
    assert_eq!(
        swipe(&me, b, "like").await.status(),
        303,
        "plain likes are not limited"
    );
    app.state
        .runtime
        .set("superlike_daily_limit", 2, app.state.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(swipe(&me, c, "superlike").await.status(), 303);
}

#[tokio::test]
async fn an_unverified_member_cannot_swipe() {
    let app = spawn_app().await;
    let (_, him) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    let newbie = app.new_browser();
    newbie
        .post(
            "/signup",
            &[
                ("email", "new@example.com"),
                ("password", GOOD_PASSWORD),
                ("nickname", "New"),
                ("sex", "female"),
                ("birthday", "1990-01-01"),
            ],
        )
        .await;
    app.mail.next_mail().await;
    assert_eq!(
        newbie
            .login("new@example.com", GOOD_PASSWORD)
            .await
            .status(),
        303
    );
    assert_error(swipe(&newbie, him, "like").await, 403, "email_not_verified").await;
    assert_eq!(app.count("swipes").await, 0);
}

#[tokio::test]
async fn who_liked_me_lists_likers_i_have_not_swiped_superlikes_first() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (a, a_id) = join(&app, &Person::new("a@example.com", "male", "1990-01-01")).await;
    let (b, b_id) = join(&app, &Person::new("b@example.com", "male", "1990-01-01")).await;
    let (c, c_id) = join(&app, &Person::new("c@example.com", "male", "1990-01-01")).await;
    let (d, _) = join(&app, &Person::new("d@example.com", "male", "1990-01-01")).await;
    swipe(&a, me_id, "like").await;
    swipe(&b, me_id, "superlike").await;
    swipe(&c, me_id, "like").await;
    swipe(&d, me_id, "dislike").await;
    swipe(&me, c_id, "dislike").await;
    let html = me.html("/likes").await;
    let likers: Vec<i64> = html
        .split("data-liker=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    assert_eq!(
        likers,
        vec![b_id, a_id],
        "superlike first; no one I swiped; no dislikes"
    );
}

#[tokio::test]
async fn blocking_ends_the_match_and_hides_us_from_each_other() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (him, him_id) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    swipe(&him, me_id, "like").await;
    swipe(&me, him_id, "like").await;
    assert_eq!(app.count("matches").await, 1);
    assert_eq!(
        me.post(&format!("/users/{him_id}/block"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.count("matches").await, 0);
    assert_error(him.get(&format!("/users/{me_id}")).await, 404, "not_found").await;
    assert_error(me.get(&format!("/users/{him_id}")).await, 404, "not_found").await;
    assert!(!him
        .html("/likes")
        .await
        .contains(&format!("data-liker=\"{me_id}\"")));
    assert!(!him.html("/matches").await.contains("ana</span>"));
}

#[tokio::test]
async fn a_report_is_stored_once_for_the_moderators() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let (_, him) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    let path = format!("/users/{him}/report");
    let res = me
        .post(
            &path,
            &[
                ("reason", "harassment"),
                ("details", "Rude <b>messages</b>"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_error(
        me.post(&path, &[("reason", "spam"), ("details", "")]).await,
        409,
        "already_reported",
    )
    .await;
    assert_error(
        me.post(&path, &[("reason", "because"), ("details", "")])
            .await,
        400,
        "invalid_input",
    )
    .await;
    let stored = app
        .db(|c| {
            reports::table
                .select((reports::reason, reports::details, reports::status))
                .load::<(String, String, String)>(c)
        })
        .await;
    assert_eq!(
        stored,
        vec![(
            "harassment".into(),
            "Rude <b>messages</b>".into(),
            "open".into()
        )]
    );
}

#[tokio::test]
async fn ids_the_rules_do_not_allow_are_not_found() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana().wants("male")).await;
    let (him, him_id) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    let (stranger, stranger_id) = join(
        &app,
        &Person::new("eve@example.com", "female", "1990-01-01").wants("female"),
    )
    .await;
    let (other, other_id) = join(&app, &Person::new("oth@example.com", "male", "1991-01-01")).await;
    // A match between him and me; the stranger is not in my feed (wrong sex).
    swipe(&him, me_id, "like").await;
    swipe(&me, him_id, "like").await;
    let match_id = app
        .db(|c| matches::table.select(matches::id).first::<i64>(c))
        .await;
    assert_eq!(
        me.get(&format!("/users/{him_id}")).await.status(),
        200,
        "matched"
    );
    assert_eq!(
        me.get(&format!("/users/{other_id}")).await.status(),
        200,
        "in my feed"
    );
    assert_error(
        me.get(&format!("/users/{stranger_id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(me.get("/users/999999").await, 404, "not_found").await;
    assert_error(me.get("/users/not-a-number").await, 404, "not_found").await;
    // Someone else's match, by id.
    assert_error(
        stranger.get(&format!("/matches/{match_id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        other
            .post(&format!("/matches/{match_id}/unmatch"), &[])
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.count("matches").await, 1, "nothing changed");
    // Blocking or reporting a stranger I cannot see is refused.
    assert_error(
        me.post(&format!("/users/{stranger_id}/block"), &[]).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        me.post(
            &format!("/users/{stranger_id}/report"),
            &[("reason", "spam"), ("details", "")],
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let _ = stranger;
    // My own match page works, and unmatching ends it.
    assert_eq!(me.get(&format!("/matches/{match_id}")).await.status(), 200);
    assert_eq!(
        me.post(&format!("/matches/{match_id}/unmatch"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.count("matches").await, 0);
    assert_eq!(
        app.count("swipes").await,
        2,
        "the swipes stay: no coming back in the feed"
    );
    let _ = swipes::table;
}

#[tokio::test]
async fn a_changed_profile_changes_my_feed_at_once() {
    let app = spawn_app().await;
    // Ana is in Paris; Bo starts in Lyon (390 km), looking within 10 km.
    let (_, ana_id) = join(&app, &ana()).await;
    let bo = Person::new("bo@example.com", "male", "1990-01-01").at("45.7640", "4.8357", "10");
    let (bo_browser, _) = join(&app, &bo).await;
    assert!(feed(&bo_browser, 1).await.is_empty(), "nobody within 10 km");
    // He moves to Paris: the feed he just saw (and that is kept for a
    // while) gives way to one built from his new place.
    let moved = bo.at("48.8600", "2.3500", "50");
    let res = bo_browser
        .post(
            "/profile",
            &[
                ("nickname", "bo"),
                ("bio", ""),
                ("city", moved.city),
                ("latitude", moved.position.unwrap().0),
                ("longitude", moved.position.unwrap().1),
                ("time_zone", "Europe/Paris"),
                ("want_sex", "any"),
                ("min_age", "18"),
                ("max_age", "99"),
                ("max_distance_km", moved.km),
                ("discoverable", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(feed(&bo_browser, 1).await, vec![ana_id]);
}

/// A swipe is accepted only on someone my feed would show me by the rules:
/// a member of the wrong sex, outside my ages or far away is a 404 like an
/// unknown id (nothing tells who is in discovery), and lands in nobody's
/// "who liked me". Someone who liked me may be liked back wherever they are.
#[tokio::test]
async fn a_swipe_is_refused_on_anyone_my_feed_would_not_show_me() {
    let app = spawn_app().await;
    let (ana_b, ana) = join(
        &app,
        &Person::new("ana@example.com", "female", "1990-05-17").wants("male"),
    )
    .await;
    let (_, woman) = join(
        &app,
        &Person::new("cleo@example.com", "female", "1991-01-01"),
    )
    .await;
    let (_, too_old) = join(
        &app,
        &Person::new("old@example.com", "male", "1950-01-01").ages("18", "99"),
    )
    .await;
    let (far_b, far) = join(
        &app,
        &Person::new("far@example.com", "male", "1989-01-01").at("35.6762", "139.6503", "100"),
    )
    .await;
    let (_, near) = join(&app, &Person::new("near@example.com", "male", "1989-02-02")).await;
    // Ana wants men 30–40 years old.
    let res = ana_b
        .post(
            "/profile",
            &[
                ("nickname", "ana"),
                ("bio", ""),
                ("city", "Paris"),
                ("latitude", "48.8566"),
                ("longitude", "2.3522"),
                ("time_zone", "Europe/Paris"),
                ("want_sex", "male"),
                ("min_age", "30"),
                ("max_age", "40"),
                ("max_distance_km", "100"),
                ("discoverable", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    for (target, who) in [
        (woman, "a woman"),
        (too_old, "a man of 76"),
        (far, "a man in Tokyo"),
    ] {
        let res = swipe(&ana_b, target, "like").await;
        assert_eq!(res.status(), 404, "{who}");
        assert_eq!(
            swipe(&ana_b, 999_999, "like").await.status(),
            404,
            "unknown"
        );
    }
    assert_eq!(app.count("swipes").await, 0, "nothing stored");
    assert_eq!(
        swipe(&ana_b, near, "like").await.status(),
        303,
        "in her feed"
    );
    // The man in Tokyo likes Ana (she is out of his reach too, but likes are
    // his to give only where his feed shows her): refused as well.
    assert_eq!(swipe(&far_b, ana, "like").await.status(), 404);
}

/// A bulk load ends with the planner's statistics refreshed, so the first
/// discovery pages after `swiper seed` plan as well as an hour later (no
/// waiting for autovacuum), on both backends.
#[tokio::test]
async fn seeding_leaves_the_tables_analysed() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let s = &app.state;
    swiper::seed::seed(&s.db, &s.media, &s.clock, 1000, 300, 0, false)
        .await
        .expect("seeded");
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // The rows the planner believes `profiles` holds.
    let query = if app.db.is_postgres() {
        "SELECT CAST(reltuples AS BIGINT) AS n FROM pg_class WHERE relname = 'profiles'"
    } else {
        "SELECT COALESCE(MAX(CAST(stat AS INTEGER)), 0) AS n FROM sqlite_stat1 \
         WHERE tbl = 'profiles'"
    };
    let estimated = app
        .db(move |c| diesel::sql_query(query).get_result::<N>(c).map(|r| r.n))
        .await;
    assert_eq!(estimated, 300, "the statistics know the seeded rows");
    if app.db.is_postgres() {
        // Vacuumed too: the visibility map lets the feed's index-only
        // scans skip the table from the first page on.
        let visible = app
            .db(|c| {
                diesel::sql_query(
                    "SELECT CAST(relallvisible AS BIGINT) AS n FROM pg_class \
                     WHERE relname = 'profiles'",
                )
                .get_result::<N>(c)
                .map(|r| r.n)
            })
            .await;
        assert!(visible > 0, "no page of profiles marked all-visible");
    }
}

/// Someone I liked or superliked leaves my feed but not my reach: their
/// page still opens (to look again, or to report them); someone I
/// disliked does not.
#[tokio::test]
async fn a_member_i_liked_or_superliked_can_still_be_seen() {
    let app = spawn_app().await;
    let (ana, _) = join(
        &app,
        &Person::new("ana@example.com", "female", "1990-05-17"),
    )
    .await;
    let (_, bo) = join(&app, &Person::new("bo@example.com", "male", "1989-01-01")).await;
    let (_, cy) = join(&app, &Person::new("cy@example.com", "male", "1988-01-01")).await;
    let (_, dan) = join(&app, &Person::new("dan@example.com", "male", "1987-01-01")).await;
    assert_eq!(swipe(&ana, bo, "superlike").await.status(), 303);
    assert_eq!(swipe(&ana, cy, "like").await.status(), 303);
    assert_eq!(swipe(&ana, dan, "dislike").await.status(), 303);
    assert_eq!(ana.get(&format!("/users/{bo}")).await.status(), 200);
    assert_eq!(ana.get(&format!("/users/{cy}")).await.status(), 200);
    assert_eq!(ana.get(&format!("/users/{dan}")).await.status(), 404);
}

#[tokio::test]
async fn fifty_pages_at_once_for_a_member_without_a_feed_build_it_once() {
    let app = spawn_app().await;
    let (me, my_id) = join(&app, &ana().wants("male")).await;
    join(
        &app,
        &Person::new("fits@example.com", "male", "1988-01-01").wants("female"),
    )
    .await;
    let (feeds, pages) = (&app.state.discovery.feeds, &app.state.discovery.pages);
    feeds.forget(swiper::auth::UserId(my_id));
    pages.changed(swiper::auth::UserId(my_id));
    let (before, pages_before) = (feeds.puts(), pages.puts());
    let asks = (0..50).map(|_| me.get("/discover"));
    let answers = futures_util::future::join_all(asks).await;
    assert!(answers.iter().all(|r| r.status() == 200));
    assert_eq!(feeds.puts() - before, 1, "one build for fifty misses");
    assert_eq!(
        pages.puts() - pages_before,
        1,
        "one page read for fifty misses"
    );
}

/// Asking for ids nobody has, again and again, reads the database once per
/// id (a negative entry), and a member the rules hide from me is not taken
/// for nobody.
#[tokio::test]
async fn an_unknown_member_id_is_looked_up_once_not_once_per_request() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana().wants("male")).await;
    let (_, stranger_id) = join(
        &app,
        &Person::new("eve@example.com", "female", "1990-01-01").wants("female"),
    )
    .await;
    let absent = &app.state.discovery.absent;
    let before = absent.remembered();
    for _ in 0..20 {
        assert_error(me.get("/users/987654321").await, 404, "not_found").await;
    }
    assert_eq!(absent.remembered() - before, 1, "one read for twenty asks");
    for _ in 0..3 {
        assert_error(
            me.get(&format!("/users/{stranger_id}")).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_eq!(
        absent.remembered() - before,
        1,
        "a member hidden from me is not remembered as nobody"
    );
    assert!(!absent.contains(swiper::auth::UserId(stranger_id)));
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (shared by the two instances): set TEST_DATABASE_URL and TEST_REDIS_URL and run with -- --include-ignored"]
async fn on_two_instances_a_swipe_or_a_block_on_one_hides_the_person_on_the_other_at_once() {
    require_postgres_and_redis();
    let (app, b) = spawn_two().await;
    let (me, my_id) = join(&app, &ana().wants("male")).await;
    let (_, first) = join(
        &app,
        &Person::new("first@example.com", "male", "1988-01-01").wants("female"),
    )
    .await;
    let (_, second) = join(
        &app,
        &Person::new("second@example.com", "male", "1988-01-01").wants("female"),
    )
    .await;
    let me_on_b = me.on(&b.base);
    // B builds my feed and keeps it, and the page as shown (and my principal).
    let shown = feed(&me_on_b, 1).await;
    assert!(
        shown.contains(&first) && shown.contains(&second),
        "{shown:?}"
    );
    let kept = || b.state.discovery.pages.get(swiper::auth::UserId(my_id), 1);
    assert!(kept().is_some(), "without an event B would show it again");

    let a_second = std::time::Duration::from_secs(1);
    let swiped = std::time::Instant::now();
    assert_eq!(swipe(&me, first, "dislike").await.status(), 303, "on A");
    gone_from_feed(&me_on_b, first, swiped, a_second, "swiped on A, gone on B").await;
    let shown = feed(&me_on_b, 1).await;
    assert!(shown.contains(&second));
    assert!(kept().is_some());

    let blocked = std::time::Instant::now();
    let res = me.post(&format!("/users/{second}/block"), &[]).await;
    assert_eq!(res.status(), 303, "on A");
    gone_from_feed(
        &me_on_b,
        second,
        blocked,
        a_second,
        "blocked on A, gone on B",
    )
    .await;
}

/// Waits until `who` is no longer on page 1 of `browser`'s feed: as soon as
/// the event of the change reaches the instance (it drops the page it
/// kept), or, with events lost, when that page's short life ends. Asserts
/// it took less than `limit` from `since`.
pub async fn gone_from_feed(
    browser: &Browser,
    who: i64,
    since: std::time::Instant,
    limit: std::time::Duration,
    what: &str,
) {
    wait_until(what, || async { !feed(browser, 1).await.contains(&who) }).await;
    assert!(
        since.elapsed() < limit,
        "{what}: after {:?}",
        since.elapsed()
    );
}

#[tokio::test]
async fn a_member_who_hides_age_and_distance_is_shown_without_them_and_a_paused_one_not_at_all() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    let ben = Person::new("ben@example.com", "male", "1989-02-02");
    let (ben_browser, ben_id) = join(&app, &ben).await;
    let deck = me.html("/discover").await;
    assert!(deck.contains("class=\"age\">"), "age shown before");
    assert!(deck.contains("km away"), "distance shown before");

    let save = |extra: &'static [(&'static str, &'static str)]| {
        let b = ben_browser.clone();
        async move {
            let mut fields = vec![
                ("nickname", "ben"),
                ("bio", ""),
                ("city", "Paris"),
                ("latitude", "48.8566"),
                ("longitude", "2.3522"),
                ("time_zone", "Europe/Paris"),
                ("want_sex", "any"),
                ("min_age", "18"),
                ("max_age", "99"),
                ("max_distance_km", "100"),
            ];
            fields.extend_from_slice(extra);
            b.post("/profile", &fields).await.status()
        }
    };
    assert_eq!(
        save(&[
            ("discoverable", "on"),
            ("hide_age", "on"),
            ("hide_distance", "on")
        ])
        .await,
        303
    );
    let deck = me.html("/discover").await;
    assert!(
        deck.contains(&format!("data-candidate=\"{ben_id}\"")),
        "still in my feed"
    );
    assert!(!deck.contains("class=\"age\""), "no age: {deck}");
    assert!(!deck.contains("km away"), "no distance");
    let page = me.html(&format!("/users/{ben_id}")).await;
    assert!(!page.contains("class=\"age\"") && !page.contains("km away"));
    assert!(
        ben_browser
            .html("/profile")
            .await
            .contains("id=\"hide_age\" name=\"hide_age\" type=\"checkbox\" checked"),
        "the choice is kept"
    );

    // Paused (not shown in Discover): out of every feed.
    assert_eq!(save(&[("hide_age", "on")]).await, 303);
    assert!(!feed(&me, 1).await.contains(&ben_id));
}

/// The `List-Unsubscribe` URL of a mail.
fn unsubscribe_link(mail: &str) -> String {
    let at = mail
        .find("List-Unsubscribe: <")
        .expect("a List-Unsubscribe header")
        + 19;
    mail[at..].split('>').next().unwrap().to_string()
}

#[tokio::test]
async fn a_match_mail_is_turned_off_from_its_own_link_without_logging_in() {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use swiper::db::schema::{jobs, users};
    let app = spawn_app().await;
    let (ana_b, ana_id) = join(&app, &ana()).await;
    let (ben, ben_id) = join(&app, &Person::new("ben@example.com", "male", "1990-01-01")).await;
    assert_eq!(swipe(&ben, ana_id, "like").await.status(), 303);
    assert_eq!(swipe(&ana_b, ben_id, "like").await.status(), 303);
    let (a, b) = (app.mail.next_mail().await, app.mail.next_mail().await);
    let hers = if a.contains("To: ana@example.com") {
        a
    } else {
        b
    };
    assert!(hers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    let url = unsubscribe_link(&hers);
    assert!(hers.contains(&url), "the link is in the text too");
    let match_mail = |email: &'static str| {
        app.db(move |c| {
            users::table
                .filter(users::email.eq(email))
                .select(users::match_mail)
                .first::<bool>(c)
        })
    };

    // A forged or altered link changes nothing.
    let client = reqwest::Client::new();
    let forged = url.replace("&t=", "&t=x");
    let res = client.post(&forged).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let other = url.replace(&format!("u={ana_id}"), &format!("u={ben_id}"));
    assert_eq!(client.post(&other).send().await.unwrap().status(), 400);
    // Opening it shows a button and changes nothing (link scanners GET).
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("method=\"post\""), "{page}");
    assert!(match_mail("ana@example.com").await);

    // A mail client's one-click POST (RFC 8058): no cookie, no CSRF token.
    let res = client
        .post(&url)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"unsubscribed\""));
    assert!(!match_mail("ana@example.com").await);
    assert!(match_mail("ben@example.com").await, "only hers");

    // Her next match mails only the other side.
    let (carl, carl_id) = join(&app, &Person::new("carl@example.com", "male", "1991-01-01")).await;
    assert_eq!(swipe(&carl, ana_id, "like").await.status(), 303);
    assert_eq!(swipe(&ana_b, carl_id, "like").await.status(), 303);
    assert!(app.mail.next_mail().await.contains("To: carl@example.com"));
    wait_until("both match mail jobs are done", || async {
        let open = app
            .db(|c| {
                jobs::table
                    .filter(jobs::kind.eq("mail.match"))
                    .filter(jobs::status.ne("done"))
                    .count()
                    .get_result::<i64>(c)
            })
            .await;
        open == 0
    })
    .await;
    assert!(app.mail.try_next().await.is_none(), "no mail for her");

    // Settings turn it back on.
    let settings = ana_b.html("/settings").await;
    assert!(!settings.contains("name=\"match_mail\" type=\"checkbox\" value=\"on\" checked"));
    let res = ana_b.post("/settings/mails", &[("match_mail", "on")]).await;
    assert_eq!(location(&res), "/settings?notice=mails_saved");
    assert!(match_mail("ana@example.com").await);
}

/// A seeded member and their feed, for `history` to add to.
struct Member {
    /// Their id.
    me: i64,
    /// The first person their feed shows: `history` swipes or blocks them.
    first: i64,
    /// `user_id` of everyone else the feed does not show, as SQL.
    others: String,
}

/// Of 3,000 seeded members, the first whose feed shows at least 20 people:
/// `history` adds to their past, the statistics are refreshed, and their
/// feed is built again. The first person shown must be gone and everyone
/// else still there; returned, the entries PostgreSQL read from `indexes`
/// while building it (the transaction's own statistics,
/// `pg_stat_get_xact_tuples_returned`).
async fn entries_read_after_history<F>(indexes: &'static str, history: F) -> i64
where
    F: FnOnce(&mut swiper::db::DbConnection, &Member) -> QueryResult<()> + Send + 'static,
{
    use swiper::discovery::feed::{self, Viewer};
    require_postgres();
    let app = spawn_app().await;
    let s = &app.state;
    swiper::seed::seed(&s.db, &s.media, &s.clock, 1000, 3000, 0, false)
        .await
        .expect("seeded");
    let (now, today) = (s.clock.now(), s.clock.today());
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let (before, after, read) = app
        .db(move |c| {
            let (viewer, before) = (0..200)
                .find_map(|n| {
                    let user =
                        swiper::auth::User::find_by_email(c, &swiper::seed::email(n)).ok()??;
                    let p = swiper::profiles::store::Profile::find(c, user.id).ok()??;
                    let v = Viewer::of(&p, today);
                    let f = feed::build(c, &v, today, now).ok()?;
                    (f.len() >= 20).then_some((v, f))
                })
                .expect("a seeded member with a feed");
            let me = viewer.id.0;
            let shown: Vec<String> = before.iter().map(|x| x.id.0.to_string()).collect();
            let member = Member {
                me,
                first: before[0].id.0,
                others: format!("user_id <> {me} AND user_id NOT IN ({})", shown.join(", ")),
            };
            history(c, &member)?;
            diesel::sql_query("ANALYZE").execute(c)?;
            c.transaction(|c| {
                let after = feed::build(c, &viewer, today, now)?;
                let read = diesel::sql_query(format!(
                    "SELECT CAST(SUM(pg_stat_get_xact_tuples_returned(CAST(i AS regclass))) \
                     AS BIGINT) AS n FROM unnest(CAST('{{{indexes}}}' AS text[])) AS i"
                ))
                .get_result::<N>(c)?
                .n;
                Ok((before, after, read))
            })
        })
        .await;
    let ids: Vec<i64> = after.iter().map(|c| c.id.0).collect();
    let gone = before[0].id.0;
    assert!(!ids.contains(&gone), "{gone} is still shown");
    for c in &before[1..] {
        assert!(ids.contains(&c.id.0), "{:?} left the feed", c.id);
    }
    read
}

/// A member with many swipes has them probed pair by pair, never read
/// again for every candidate: on PostgreSQL's generic plan the feed of a
/// member who has swiped 2,000 people reads fewer `swipes_pair` entries
/// than that. Left to the planner, an anti-join on its guess of two swipes
/// a member read all 2,000 again for each candidate (28,015 entries here;
/// 364 ms instead of 4.6 ms at 1,000,000 members), and one hash of them
/// all per statement part read 4 × 2,000. The feed keeps its rule: the one
/// shown person among the 2,000 is gone, everyone else is still there.
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
async fn a_member_with_thousands_of_swipes_has_them_probed_pair_by_pair() {
    let read = entries_read_after_history("swipes_pair", |c, m| {
        let Member { me, first, others } = m;
        // 1,999 dislikes on people the feed does not show and one on the
        // first it shows (two or three swipes a member on average).
        for sql in [
            format!(
                "INSERT INTO swipes (swiper_id, target_id, kind, created_at) \
                 SELECT {me}, user_id, 'dislike', now() FROM profiles WHERE {others} \
                 ORDER BY user_id LIMIT 1999 ON CONFLICT DO NOTHING"
            ),
            format!(
                "INSERT INTO swipes (swiper_id, target_id, kind, created_at) \
                 VALUES ({me}, {first}, 'dislike', now())"
            ),
        ] {
            diesel::sql_query(sql).execute(c)?;
        }
        Ok(())
    })
    .await;
    assert!(
        read < 2000,
        "the feed read {read} swipes_pair entries for a member with 2,000 swipes"
    );
}

/// A member's blocks, both ways, are each read once per statement part,
/// never again for every candidate: with 300 people blocked, 300 who
/// blocked them and one block on a shown person, building the feed reads
/// fewer block index entries than six reads of those lists (the parts of
/// the statement and the superlikers). An anti-join on the generic plan's
/// guess of one block a member read all 601 again for each candidate (73
/// ms instead of 3 ms at 1,000,000 members with 300 each way).
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
async fn a_member_with_hundreds_of_blocks_has_each_list_read_once() {
    let read = entries_read_after_history("blocks_pkey,blocks_by_blocked", |c, m| {
        let Member { me, first, others } = m;
        for sql in [
            // Everyone else blocks one other person: about one block a member.
            format!(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) \
                 SELECT a.user_id, b.user_id, now() FROM profiles a JOIN profiles b \
                 ON b.user_id = a.user_id + 1 WHERE a.user_id <> {me} AND b.user_id <> {me} \
                 ON CONFLICT DO NOTHING"
            ),
            format!(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) \
                 SELECT {me}, user_id, now() FROM profiles WHERE {others} \
                 ORDER BY user_id LIMIT 300 ON CONFLICT DO NOTHING"
            ),
            format!(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) \
                 SELECT user_id, {me}, now() FROM profiles WHERE {others} \
                 ORDER BY user_id DESC LIMIT 300 ON CONFLICT DO NOTHING"
            ),
            format!(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) \
                 VALUES ({me}, {first}, now())"
            ),
        ] {
            diesel::sql_query(sql).execute(c)?;
        }
        Ok(())
    })
    .await;
    assert!(
        read < 6 * 601,
        "the feed read {read} block index entries for a member with 601 blocks"
    );
}

/// The feed's statement runs on a generic plan without JIT: PostgreSQL
/// would otherwise compile a generic plan whose estimate passes
/// `jit_above_cost` again at every execution (~30 ms for a statement that
/// runs in 2). Both settings end with the statement's transaction.
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with -- --include-ignored"]
async fn the_feed_statement_runs_on_a_generic_plan_without_jit() {
    require_postgres();
    let app = spawn_app().await;
    #[derive(QueryableByName)]
    struct Settings {
        #[diesel(sql_type = diesel::sql_types::Text)]
        jit: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        plans: String,
    }
    fn settings(c: &mut swiper::db::DbConnection) -> QueryResult<(String, String)> {
        let s = diesel::sql_query(
            "SELECT current_setting('jit') AS jit, current_setting('plan_cache_mode') AS plans",
        )
        .get_result::<Settings>(c)?;
        Ok((s.jit, s.plans))
    }
    let (inside, after) = app
        .db(|c| {
            diesel::sql_query("SET jit = on").execute(c)?;
            let inside = swiper::db::with_generic_plan(c, settings)?;
            Ok((inside, settings(c)?))
        })
        .await;
    assert_eq!(
        inside,
        ("off".to_string(), "force_generic_plan".to_string())
    );
    assert_eq!(after, ("on".to_string(), "auto".to_string()));
}
