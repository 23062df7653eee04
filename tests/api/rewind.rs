//! Rewind: undo my last swipe within a daily quota counted on my local day,
//! changeable at run time, safe under concurrency.

use diesel::prelude::*;
use swiper::clock::Clock;
use swiper::db::schema::swipes;
use swiper::runtime::REWIND_DAILY_LIMIT;

use crate::discovery::{feed, join, swipe, Person};
use crate::helpers::*;

fn ana() -> Person {
    Person::new("ana@example.com", "female", "1990-05-17")
}

/// `n` men who fit Ana's feed; returns their ids.
async fn men(app: &TestApp, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let email: &'static str = Box::leak(format!("man{i}@example.com").into_boxed_str());
        ids.push(join(app, &Person::new(email, "male", "1990-01-01")).await.1);
    }
    ids
}

async fn rewind(browser: &Browser) -> reqwest::Response {
    browser.post("/swipes/rewind", &[]).await
}

#[tokio::test]
async fn three_rewinds_a_day_then_rewind_limit_reached() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    assert_error(rewind(&me).await, 409, "nothing_to_rewind").await;
    let ids = men(&app, 4).await;
    for id in &ids {
        assert_eq!(swipe(&me, *id, "dislike").await.status(), 303);
    }
    for n in 1..=3 {
        let res = rewind(&me).await;
        assert_eq!(res.status(), 303, "rewind {n}");
        assert_eq!(location(&res), "/discover?notice=rewound");
    }
    assert_error(rewind(&me).await, 409, "rewind_limit_reached").await;
    assert_eq!(app.count("swipes").await, 1, "three undone, one left");
    assert_eq!(app.count("rewinds").await, 3);
    // The most recent ones went first, and they are back in my feed.
    let shown = feed(&me, 1).await;
    assert!(ids[1..].iter().all(|id| shown.contains(id)));
    assert!(!shown.contains(&ids[0]));
}

#[tokio::test]
async fn rewinding_the_like_that_made_a_match_removes_the_match() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    let (him, him_id) = join(&app, &Person::new("him@example.com", "male", "1990-01-01")).await;
    swipe(&him, me_id, "like").await;
    assert!(location(&swipe(&me, him_id, "like").await)
        .starts_with("/discover?notice=its_a_match&match="));
    assert_eq!(app.count("matches").await, 1);
    assert_eq!(rewind(&me).await.status(), 303);
    assert_eq!(app.count("matches").await, 0);
    assert!(!me.html("/matches").await.contains("him</span>"));
    assert!(
        feed(&me, 1).await.contains(&him_id),
        "he is back in my feed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_rewinds_at_once_with_three_left_undo_exactly_three() {
    let app = spawn_app().await;
    let (me, _) = join(&app, &ana()).await;
    for id in men(&app, 10).await {
        swipe(&me, id, "dislike").await;
    }
    let statuses = me.post_concurrently("/swipes/rewind", &[], 10).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(app.count("swipes").await, 7);
    assert_eq!(app.count("rewinds").await, 3);
}

#[tokio::test]
async fn the_quota_starts_again_at_the_members_local_midnight() {
    // 21:00 UTC is 23:00 in Paris (summer time), Ana's time zone.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(21, 0, 0))
        .unwrap();
    let clock = Clock::manual(start);
    let app = spawn_app_with_clock(clock.clone()).await;
    let (me, _) = join(&app, &ana()).await;
    for id in men(&app, 5).await {
        swipe(&me, id, "dislike").await;
    }
    for _ in 0..3 {
        assert_eq!(rewind(&me).await.status(), 303);
    }
    assert_error(rewind(&me).await, 409, "rewind_limit_reached").await;
    clock.advance(chrono::TimeDelta::minutes(59));
    assert_error(rewind(&me).await, 409, "rewind_limit_reached").await;
    // 23:59 → 00:01 in Paris: a new day there (still 1 June in UTC).
    clock.advance(chrono::TimeDelta::minutes(2));
    assert_eq!(rewind(&me).await.status(), 303, "a new local day");
}

#[tokio::test]
async fn a_changed_rewind_limit_applies_on_another_instance_without_restart() {
    let (a, b) = spawn_two().await;
    let (me, _) = join(&a, &ana()).await;
    for id in men(&a, 5).await {
        swipe(&me, id, "dislike").await;
    }
    // Without Redis the instances share no sessions: log in on B as well.
    let on_b = me.on(&b.base);
    assert_eq!(
        on_b.login("ana@example.com", GOOD_PASSWORD).await.status(),
        303
    );
    for _ in 0..3 {
        assert_eq!(rewind(&on_b).await.status(), 303);
    }
    assert_error(rewind(&on_b).await, 409, "rewind_limit_reached").await;
    // Staff raise the limit through instance A; B follows by itself.
    a.state
        .runtime
        .set(REWIND_DAILY_LIMIT.key, 5, a.state.clock.now())
        .await
        .unwrap()
        .unwrap();
    wait_until("instance B sees the new limit", || async {
        b.state.runtime.get(REWIND_DAILY_LIMIT).await.unwrap() == 5
    })
    .await;
    assert_eq!(
        rewind(&on_b).await.status(),
        303,
        "a fourth rewind is allowed now"
    );
    assert!(
        a.state
            .runtime
            .set(REWIND_DAILY_LIMIT.key, -1, a.state.clock.now())
            .await
            .unwrap()
            .is_err(),
        "an invalid value is refused"
    );
    let left = a.db(|c| swipes::table.count().get_result::<i64>(c)).await;
    assert_eq!(left, 1);
}

async fn put_on_plan(app: &TestApp, user: i64, plan: &'static str) {
    app.db(move |c| {
        let p = swiper::auth::plans::by_name(c, plan)?.expect("a seeded plan");
        swiper::auth::plans::assign(c, swiper::auth::UserId(user), p.id)
    })
    .await;
}

#[tokio::test]
async fn a_plan_with_five_rewinds_allows_five_and_decides_who_liked_me() {
    let app = spawn_app().await;
    let (me, me_id) = join(&app, &ana()).await;
    // vip1: 5 rewinds a day (the free plan: the runtime setting, 3).
    put_on_plan(&app, me_id, "vip1").await;
    let ids = men(&app, 6).await;
    for id in &ids {
        assert_eq!(swipe(&me, *id, "dislike").await.status(), 303);
    }
    for n in 1..=5 {
        assert_eq!(rewind(&me).await.status(), 303, "rewind {n}");
    }
    assert_error(rewind(&me).await, 409, "rewind_limit_reached").await;

    // Who liked me follows the plan: free members see how many, not who,
    // once the free plan is set that way.
    let (him, _) = join(&app, &Person::new("fan@example.com", "male", "1990-01-01")).await;
    swipe(&him, me_id, "like").await;
    assert!(
        me.html("/likes").await.contains("data-liker="),
        "vip1 sees likers"
    );
    app.db(|c| {
        let free = swiper::auth::plans::by_name(c, "free")?.expect("free");
        swiper::auth::plans::update(c, free.id, None, None, false)
    })
    .await;
    put_on_plan(&app, me_id, "free").await;
    let page = me.html("/likes").await;
    assert!(!page.contains("data-liker="), "free now hides likers");
    assert!(page.contains("data-likes-hidden=\"1\""), "{page}");
    // One person: the singular (the catalog's plural table, CLDR's `one`).
    assert!(page.contains("Someone liked you."), "{page}");
    assert!(!page.contains("1 people"), "{page}");
}
