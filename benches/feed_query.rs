//! The recommendation feed's database work for one member (every query of
//! `feed::build`: superlikers, one per latitude band and sex, the city),
//! timed for many seeded members on PostgreSQL. Run after seeding:
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench_1m swiper seed --users 1000000
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench_1m cargo bench --bench feed_query
//! ```
//!
//! Each member's feed is built `PASSES` times (5 unless set), in passes over
//! all the members; a member's time is the median of their runs, and the
//! percentiles are over members. A second line counts every run. With
//! `SLOWEST=1` it prints the five slowest members; with `EXPLAIN=1`, the
//! plans of one member's queries (auto_explain, to the server's log).

mod common;

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use swiper::auth::User;
use swiper::clock::Clock;
use swiper::discovery::feed::{self, Viewer};
use swiper::profiles::store::Profile;

fn main() {
    let Some((mut conn, url)) =
        common::connect("postgres://postgres@127.0.0.1:5432/swiper_bench_1m")
    else {
        return;
    };
    let clock = Clock::system();
    let (now, today) = (clock.now(), clock.today());
    let members = User::count(&mut conn).unwrap_or(0);
    let sample: Vec<usize> = (0..300)
        .map(|k| (k * 3331 + 17) % members.max(1) as usize)
        .collect();
    let viewers: Vec<Viewer> = sample
        .iter()
        .filter_map(|n| {
            let user = User::find_by_email(&mut conn, &swiper::seed::email(*n)).ok()??;
            let p = Profile::find(&mut conn, user.id).ok()??;
            Some(Viewer::of(&p, today))
        })
        .collect();
    if viewers.is_empty() {
        eprintln!("no seeded members in {url}: run `swiper seed --users N` first");
        return;
    }
    if std::env::var("EXPLAIN").is_ok() {
        let _ = conn.batch_execute(
            "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; \
             SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; \
             SET auto_explain.log_level = log;",
        );
        let _ = feed::build(&mut conn, &viewers[0], today, now);
        let _ = conn.batch_execute("SET auto_explain.log_min_duration = -1;");
    }
    // Warm the caches once, then measure every member PASSES times (five
    // unless set), in passes over all of them, so a moment when the machine
    // is slow lands on one run of many members, not on every run of one.
    for v in &viewers {
        let _ = feed::build(&mut conn, v, today, now);
    }
    let passes: usize = std::env::var("PASSES")
        .ok()
        .and_then(|p| p.parse().ok())
        .filter(|p| *p > 0)
        .unwrap_or(5);
    let mut runs = vec![Vec::new(); viewers.len()];
    let mut sizes = Vec::new();
    for _ in 0..passes {
        for (i, v) in viewers.iter().enumerate() {
            let start = Instant::now();
            let feed = feed::build(&mut conn, v, today, now).unwrap_or_default();
            runs[i].push(start.elapsed());
            sizes.push(feed.len());
        }
    }
    // A member's time is the median of their runs.
    let median = |r: &Vec<Duration>| {
        let mut r = r.clone();
        r.sort();
        r[r.len() / 2]
    };
    let mut slowest: Vec<(Duration, &Viewer)> = runs.iter().map(median).zip(&viewers).collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    if std::env::var("SLOWEST").is_ok() {
        for (t, v) in slowest.iter().take(5) {
            println!("{:.1} ms: {v:?}", t.as_secs_f64() * 1e3);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let spread = |mut times: Vec<Duration>| {
        times.sort();
        let at = |q: f64| ms(times[((times.len() as f64 * q) as usize).min(times.len() - 1)]);
        format!(
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            at(0.50),
            at(0.95),
            at(0.99),
            ms(times[times.len() - 1])
        )
    };
    let avg_size = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    println!(
        "feed::build for {} members of {members}, each the median of {passes} runs: {}; {avg_size:.0} people per feed on average",
        viewers.len(),
        spread(runs.iter().map(median).collect()),
    );
    println!(
        "every run counted ({} runs): {}",
        viewers.len() * passes,
        spread(runs.concat()),
    );
}
