//! The job queue, driven directly: real database, real worker code, handlers
//! made for the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use swiper::clock::Clock;
use swiper::config::Settings;
use swiper::db::{self, Pool};
use swiper::jobs::{
    enqueue, queue, JobContext, JobError, JobId, JobStatus, NewJob, Registry, Worker, WorkerWake,
};
use swiper::mail::Mailer;

use crate::helpers::*;

fn context(db: &TestDb, pool: Pool) -> JobContext {
    let settings: Settings = test_settings(db, 25, "swiper-test-jobs", &[]);
    let mut settings = settings;
    settings.mail.smtp_url = None;
    let mailer = Mailer::from_settings(&settings).expect("mailer");
    let media = swiper::storage::MediaStore::from_settings(&settings.media).expect("media store");
    JobContext {
        db: db::Db::new(pool),
        settings: Arc::new(settings),
        mailer,
        media,
        clock: Clock::system(),
        members_changed: swiper::jobs::MembersChanged::nobody(),
    }
}

fn worker(ctx: &JobContext, registry: Registry) -> Worker {
    Worker::new(ctx.clone(), Arc::new(registry), WorkerWake::default())
}

async fn add(pool: &Pool, kind: &'static str) -> JobId {
    run_on(pool, move |c| {
        Ok(enqueue(
            c,
            NewJob::new(kind, &serde_json::json!({}), Clock::system().now())?,
        )?)
    })
    .await
    .unwrap()
    .unwrap()
}

async fn job(pool: &Pool, id: JobId) -> queue::Job {
    run_on(pool, move |c| Ok(queue::find(c, id)?))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_job_that_fails_twice_then_succeeds_is_done_after_three_attempts() {
    let db = TestDb::new();
    let ctx = context(&db, db.pool());
    let calls = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::default();
    let seen = calls.clone();
    registry.register("test.flaky", move |_ctx, _payload| {
        let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if n <= 2 {
                Err(JobError(format!("failure number {n}")))
            } else {
                Ok(())
            }
        }
    });
    let w = worker(&ctx, registry);
    let id = add(ctx.db.pool(), "test.flaky").await;

    let (_, first) = w.run_once().await.unwrap().unwrap();
    assert_eq!(first, JobStatus::Queued);
    assert_eq!(
        job(ctx.db.pool(), id).await.last_error.as_deref(),
        Some("failure number 1")
    );
    let (_, second) = w.run_once().await.unwrap().unwrap();
    assert_eq!(second, JobStatus::Queued);
    let (_, third) = w.run_once().await.unwrap().unwrap();
    assert_eq!(third, JobStatus::Done);

    let done = job(ctx.db.pool(), id).await;
    assert_eq!(done.status, "done");
    assert_eq!(done.attempts, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(w.run_once().await.unwrap().is_none(), "nothing left to run");
}

#[tokio::test]
async fn a_job_that_keeps_failing_ends_dead_with_its_last_error() {
    let db = TestDb::new();
    let ctx = context(&db, db.pool());
    let mut registry = Registry::default();
    registry.register("test.broken", |_ctx, _payload| async {
        Err(JobError("smtp said no".into()))
    });
    let w = worker(&ctx, registry);
    let id = run_on(ctx.db.pool(), |c| {
        Ok(enqueue(
            c,
            NewJob::new("test.broken", &(), Clock::system().now())?.max_attempts(2),
        )?)
    })
    .await
    .unwrap()
    .unwrap();
    w.run_once().await.unwrap();
    let (_, status) = w.run_once().await.unwrap().unwrap();
    assert_eq!(status, JobStatus::Dead);
    let dead = job(ctx.db.pool(), id).await;
    assert_eq!((dead.status.as_str(), dead.attempts), ("dead", 2));
    assert_eq!(dead.last_error.as_deref(), Some("smtp said no"));
    assert!(
        w.run_once().await.unwrap().is_none(),
        "a dead job is not retried"
    );
}

#[tokio::test]
async fn failed_attempts_wait_with_exponential_back_off() {
    let db = TestDb::new();
    let pool = db.pool();
    let id = add(&pool, "test.anything").await;
    let now = swiper::clock::Clock::system().now();
    let claimed = run_on(&pool, move |c| {
        Ok(queue::claim(c, "w1", now, Duration::from_secs(60))?)
    })
    .await
    .unwrap()
    .unwrap();
    run_on(&pool, move |c| {
        Ok(queue::fail(
            c,
            &claimed,
            "w1",
            "boom",
            now,
            Duration::from_secs(10),
        )?)
    })
    .await
    .unwrap();
    let after = job(&pool, id).await;
    assert_eq!(after.status, "queued");
    assert_eq!((after.run_at - now).num_seconds(), 10);
    let early = run_on(&pool, move |c| {
        Ok(queue::claim(
            c,
            "w1",
            now + chrono::TimeDelta::seconds(5),
            Duration::from_secs(60),
        )?)
    })
    .await
    .unwrap();
    assert!(early.is_none(), "not before its back-off");
    let on_time = run_on(&pool, move |c| {
        Ok(queue::claim(
            c,
            "w1",
            now + chrono::TimeDelta::seconds(10),
            Duration::from_secs(60),
        )?)
    })
    .await
    .unwrap();
    assert_eq!(on_time.map(|j| j.attempts), Some(2));
}

#[tokio::test]
async fn a_job_whose_worker_vanished_is_run_again_after_its_lease() {
    let db = TestDb::new();
    let pool = db.pool();
    let id = add(&pool, "test.anything").await;
    let lease = Duration::from_secs(300);
    let t0 = swiper::clock::Clock::system().now();

    // Worker A claims the job and dies without finishing it.
    let a = run_on(&pool, move |c| Ok(queue::claim(c, "worker-a", t0, lease)?))
        .await
        .unwrap();
    assert_eq!(a.map(|j| j.id), Some(id));

    // While the lease holds, nobody else gets it.
    let during = run_on(&pool, move |c| {
        Ok(queue::claim(
            c,
            "worker-b",
            t0 + chrono::TimeDelta::seconds(299),
            lease,
        )?)
    })
    .await
    .unwrap();
    assert!(during.is_none());

    // After the lease, worker B gets it and finishes it.
    let after = t0 + chrono::TimeDelta::seconds(301);
    let b = run_on(&pool, move |c| {
        Ok(queue::claim(c, "worker-b", after, lease)?)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (b.id, b.attempts, b.locked_by.as_deref()),
        (id, 2, Some("worker-b"))
    );
    // Worker A coming back to life cannot complete a job it no longer holds.
    assert!(!run_on(&pool, move |c| Ok(queue::complete(
        c, id, "worker-a", after
    )?))
    .await
    .unwrap());
    assert!(run_on(&pool, move |c| Ok(queue::complete(
        c, id, "worker-b", after
    )?))
    .await
    .unwrap());
    assert_eq!(job(&pool, id).await.status, "done");
}

/// On PostgreSQL, four workers drain a thousand jobs and each runs exactly once
/// (`FOR UPDATE SKIP LOCKED`). On SQLite the same holds with immediate transactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_draining_a_thousand_jobs_run_each_exactly_once() {
    let db = TestDb::new();
    let ctx = context(&db, db.pool());
    run_on(ctx.db.pool(), |c| {
        for _ in 0..1000 {
            enqueue(c, NewJob::new("test.count", &(), Clock::system().now())?)?;
        }
        Ok(())
    })
    .await
    .unwrap();

    let runs: Arc<Mutex<Vec<JobId>>> = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..4 {
        let mut registry = Registry::default();
        registry.register("test.count", |_ctx, _payload| async { Ok(()) });
        let w = worker(&ctx, registry);
        let runs = runs.clone();
        handles.push(tokio::spawn(async move {
            while let Some((job, status)) = w.run_once().await.unwrap() {
                assert_eq!(status, JobStatus::Done);
                runs.lock().unwrap().push(job.id);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let mut ids = runs.lock().unwrap().clone();
    assert_eq!(ids.len(), 1000, "every job ran");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "no job ran twice");
    assert_eq!(
        run_on(ctx.db.pool(), |c| {
            use diesel::prelude::*;
            use swiper::db::schema::jobs;
            Ok(jobs::table
                .filter(jobs::status.eq("done"))
                .filter(jobs::attempts.eq(1))
                .count()
                .get_result::<i64>(c)?)
        })
        .await
        .unwrap(),
        1000
    );
    if db.is_postgres() {
        eprintln!("drained on PostgreSQL");
    }
}

#[tokio::test]
async fn a_periodic_run_is_enqueued_once_however_many_workers_see_it() {
    let db = TestDb::new();
    let pool = db.pool();
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 5, 0)
        .unwrap();
    let to = from + chrono::TimeDelta::minutes(10);
    for _ in 0..3 {
        let due = job_registry().due_between(from, to);
        assert_eq!(due.len(), 1);
        run_on(&pool, move |c| {
            for (kind, at) in due {
                let key = format!("periodic:{kind}:{at}");
                enqueue(
                    c,
                    NewJob::new(&kind, &(), Clock::system().now())?.unique_key(key),
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    }
    let n = run_on(&pool, |c| {
        use diesel::prelude::*;
        use swiper::db::schema::jobs;
        Ok(jobs::table
            .filter(jobs::kind.eq("maintenance.purge_expired"))
            .count()
            .get_result::<i64>(c)?)
    })
    .await
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn workers_that_start_run_the_daily_statistics_once_that_day() {
    use swiper::jobs::schedule::Scheduler;
    let db = TestDb::new();
    let ctx = context(&db, db.pool());
    let registry = job_registry();
    let now = ctx.clock.now();
    // Three workers start (and each looks again later): one run today.
    for _ in 0..3 {
        let mut scheduler = Scheduler::new(now);
        scheduler
            .enqueue_due(&ctx.db, &registry, &ctx.clock)
            .await
            .unwrap();
        scheduler
            .enqueue_due(&ctx.db, &registry, &ctx.clock)
            .await
            .unwrap();
    }
    let n = run_on(ctx.db.pool(), |c| {
        use diesel::prelude::*;
        use swiper::db::schema::jobs;
        Ok(jobs::table
            .filter(jobs::kind.eq(swiper::admin::stats::DAILY_STATS))
            .count()
            .get_result::<i64>(c)?)
    })
    .await
    .unwrap();
    assert_eq!(n, 1, "one statistics run at start, not one per worker");
}

#[tokio::test]
async fn the_purge_job_removes_expired_tokens_and_sessions_and_keeps_live_ones() {
    use swiper::accounts::{admin, input::Email, tokens};
    use swiper::auth::sessions;
    let db = TestDb::new();
    let ctx = context(&db, db.pool());
    let lifetimes = sessions::Lifetimes::from_settings(&ctx.settings.sessions);
    run_on(ctx.db.pool(), move |c| {
        let email = Email::parse("pat@example.com").unwrap();
        admin::create_admin(c, &email, 1000, false, Clock::system().now())?;
        let user = swiper::auth::User::find_by_email(c, "pat@example.com")?
            .unwrap()
            .user_id();
        let now = swiper::clock::Clock::system().now();
        let long_ago = now - chrono::TimeDelta::days(60);
        sessions::create(c, user, false, "127.0.0.1", "old", long_ago, lifetimes)?;
        sessions::create(c, user, true, "127.0.0.1", "live", now, lifetimes)?;
        tokens::issue(
            c,
            user,
            tokens::Purpose::ResetPassword,
            Duration::from_secs(60),
            long_ago,
        )?;
        tokens::issue(
            c,
            user,
            tokens::Purpose::ResetPassword,
            Duration::from_secs(3600),
            now,
        )?;
        enqueue(
            c,
            NewJob::new("maintenance.purge_expired", &(), Clock::system().now())?,
        )?;
        Ok(())
    })
    .await
    .unwrap();
    let w = worker(&ctx, job_registry());
    let (_, status) = w.run_once().await.unwrap().unwrap();
    assert_eq!(status, JobStatus::Done);
    let (sessions_left, tokens_left) = run_on(ctx.db.pool(), |c| {
        use diesel::prelude::*;
        use swiper::db::schema::{account_tokens, user_sessions};
        Ok((
            user_sessions::table
                .select(user_sessions::user_agent)
                .load::<String>(c)?,
            account_tokens::table.count().get_result::<i64>(c)?,
        ))
    })
    .await
    .unwrap();
    assert_eq!(sessions_left, vec!["live".to_string()]);
    assert_eq!(tokens_left, 1);
}

#[tokio::test]
async fn a_job_whose_worker_vanished_on_its_last_attempt_is_buried_not_retried_forever() {
    let db = TestDb::new();
    let pool = db.pool();
    let id = run_on(&pool, |c| {
        Ok(enqueue(
            c,
            NewJob::new("test.anything", &(), Clock::system().now())?.max_attempts(1),
        )?)
    })
    .await
    .unwrap()
    .unwrap();
    let lease = Duration::from_secs(60);
    let t0 = swiper::clock::Clock::system().now();
    let first = run_on(&pool, move |c| Ok(queue::claim(c, "worker-a", t0, lease)?))
        .await
        .unwrap();
    assert_eq!(first.map(|j| j.id), Some(id));
    let later = t0 + chrono::TimeDelta::seconds(120);
    let again = run_on(&pool, move |c| {
        Ok(queue::claim(c, "worker-b", later, lease)?)
    })
    .await
    .unwrap();
    assert!(again.is_none(), "no attempts left");
    let buried = run_on(&pool, move |c| Ok(queue::bury_abandoned(c, later)?))
        .await
        .unwrap();
    assert_eq!(buried, 1);
    let dead = job(&pool, id).await;
    assert_eq!(dead.status, "dead");
    assert!(dead.last_error.is_some_and(|e| e.contains("lease")));
}

#[tokio::test]
async fn a_mail_job_run_again_mails_the_same_link_and_it_works_once() {
    use diesel::prelude::*;
    use swiper::db::schema::jobs;
    let app = spawn_app().await;
    let browser = app.new_browser();
    let first = app.sign_up(&browser, "again@example.com", "Again").await;
    // The worker sent it; run the same job again, as after a crash between
    // sending and recording it (the lease expires and the job runs again).
    let payload: String = app
        .db(|c| {
            jobs::table
                .filter(jobs::kind.eq(swiper::accounts::mails::VERIFY_EMAIL))
                .select(jobs::payload)
                .first(c)
        })
        .await;
    let handler = job_registry()
        .get(swiper::accounts::mails::VERIFY_EMAIL)
        .expect("the verification mail handler");
    handler(app.state.job_context(), payload)
        .await
        .expect("the retry runs");
    let second = link_in(&app.mail.next_mail().await, "/verify-email?token=");
    assert_eq!(first, second, "one link per job");
    assert_eq!(app.count("account_tokens").await, 1, "one token");
    assert_eq!(browser.get(&first).await.status(), 200);
    let again = browser.get(&second).await.text().await.expect("body");
    assert!(again.contains("data-error-code"), "used once: {again}");
}
