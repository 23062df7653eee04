//! How long one password hash takes at the configured iteration count: the
//! cost every login pays on a blocking thread. Run with
//! `cargo bench --bench password_hash` (optimised build).

use std::time::Instant;

use swiper::config::MIN_PASSWORD_ITERATIONS;
use swiper::security::password;

fn main() {
    let rounds = 20;
    let encoded = password::hash("violet tram 42 sings", MIN_PASSWORD_ITERATIONS);
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let ok = password::verify("violet tram 42 sings", &encoded, MIN_PASSWORD_ITERATIONS);
        times.push(start.elapsed());
        assert_eq!(ok, password::Verification::Valid);
    }
    times.sort();
    let median = times[rounds / 2];
    let worst = times[rounds - 1];
    println!(
        "pbkdf2_sha256 at {MIN_PASSWORD_ITERATIONS} iterations: median {:.1} ms, worst {:.1} ms over {rounds} verifications \
         (≈ {:.1} logins/s per core)",
        median.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        1.0 / median.as_secs_f64()
    );
}
