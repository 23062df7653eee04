//! The admin console's member list (`directory::list`: an id, the start of
//! an email or nickname, or filters and sorts; a page of 51) among seeded
//! members on PostgreSQL. Run after seeding:
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench swiper seed --users 100000
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/swiper_bench cargo bench --bench user_search
//! ```

mod common;

use std::time::{Duration, Instant};

use swiper::auth::directory::{self, Filter, Sort};
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
    let all = Filter::default();
    let banned = Filter {
        active: Some(false),
        ..Filter::default()
    };
    let unverified = Filter {
        verified: Some(false),
        ..Filter::default()
    };
    let queries: Vec<(&str, String, &Filter, Sort)> = vec![
        (
            "exact email",
            swiper::seed::email((members / 2) as usize),
            &all,
            Sort::Oldest,
        ),
        ("email prefix", "member4321".to_string(), &all, Sort::Oldest),
        ("nickname prefix", "Sar".to_string(), &all, Sort::Oldest),
        ("id", (members / 3).to_string(), &all, Sort::Oldest),
        ("no match", "nobody-at-all".to_string(), &all, Sort::Oldest),
        ("newest", String::new(), &all, Sort::Newest),
        ("by email", String::new(), &all, Sort::Email),
        ("banned", String::new(), &banned, Sort::Newest),
        ("unverified", String::new(), &unverified, Sort::Email),
    ];
    for (what, q, filter, sort) in &queries {
        let run = |conn: &mut _| directory::list(conn, q, filter, *sort, None, 51);
        let found = match run(&mut conn) {
            Ok(found) => found.len(),
            Err(e) => {
                eprintln!("the listing fails on {url}: {e} (run `swiper migrate` on it)");
                return;
            }
        };
        let mut times: Vec<Duration> = (0..100)
            .map(|_| {
                let start = Instant::now();
                let _ = run(&mut conn);
                start.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "{what:>16} ({q}) among {members}: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms, {found} found",
            times[50].as_secs_f64() * 1e3,
            times[95].as_secs_f64() * 1e3,
            times[99].as_secs_f64() * 1e3,
        );
    }
}
