//! The admin console's member search (`User::search`: an id, or the start of
//! an email or nickname, first page of 51 by id) among seeded members on
//! PostgreSQL. Run after seeding:
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench swiper seed --users 100000
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench cargo bench --bench user_search
//! ```

mod common;

use std::time::{Duration, Instant};

use swiper::auth::User;

fn main() {
    let Some((mut conn, url)) = common::connect("postgres://postgres@127.0.0.1:5432/swiper_bench")
    else {
        return;
    };
    let members = User::count(&mut conn).unwrap_or(0);
    if members == 0 {
        eprintln!("no members in {url}: run `swiper seed --users N` first");
        return;
    }
    let queries: Vec<(&str, String)> = vec![
        ("exact email", swiper::seed::email((members / 2) as usize)),
        ("email prefix", "member4321".to_string()),
        ("nickname prefix", "Sar".to_string()),
        ("id", (members / 3).to_string()),
        ("no match", "nobody-at-all".to_string()),
    ];
    for (what, q) in &queries {
        if let Err(e) = User::search(&mut conn, q, None, 51) {
            eprintln!("the search fails on {url}: {e} (run `swiper migrate` on it)");
            return;
        }
        let mut times: Vec<Duration> = (0..100)
            .map(|_| {
                let start = Instant::now();
                let _ = User::search(&mut conn, q, None, 51);
                start.elapsed()
            })
            .collect();
        times.sort();
        let found = User::search(&mut conn, q, None, 51)
            .map(|v| v.len())
            .unwrap_or(0);
        println!(
            "{what:>16} ({q}) among {members}: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms, {found} found",
            times[50].as_secs_f64() * 1e3,
            times[95].as_secs_f64() * 1e3,
            times[99].as_secs_f64() * 1e3,
        );
    }
}
