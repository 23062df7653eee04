//! Password hashes in Django's format: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`,
//! PBKDF2-HMAC-SHA256 through `ring`. Accounts can be imported from a Django site,
//! and a hash made with fewer iterations than configured is upgraded at login.
//!
//! Hashing is deliberately slow: call these from a blocking thread
//! (`web::block`), never on the async executor. The `_off_executor`
//! helpers do, and run at most half the cores' worth of hashes at once: a
//! flood of logins (each one a slow hash, even for an unknown email) then
//! waits its turn instead of taking every core from the pages.

use std::num::NonZeroU32;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::pbkdf2;

const ALGORITHM: &str = "pbkdf2_sha256";
const HASH_LEN: usize = 32;

/// Result of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Invalid,
    Valid,
    /// Valid, but made with fewer iterations than configured: store a new hash.
    ValidNeedsRehash,
}

/// Hashes `password` with a fresh random salt.
pub fn hash(password: &str, iterations: u32) -> String {
    // Django's salts are 22 alphanumeric characters; a URL-safe token of the
    // same strength keeps the format readable by Django too.
    let salt = super::random::token(16).replace(['-', '_'], "x");
    hash_with_salt(password, &salt, iterations)
}

fn hash_with_salt(password: &str, salt: &str, iterations: u32) -> String {
    let iterations = iterations.max(1);
    let mut out = [0u8; HASH_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN),
        salt.as_bytes(),
        password.as_bytes(),
        &mut out,
    );
    format!("{ALGORITHM}${iterations}${salt}${}", STANDARD.encode(out))
}

/// Checks `password` against `encoded`; a malformed hash never verifies.
pub fn verify(password: &str, encoded: &str, configured_iterations: u32) -> Verification {
    let mut parts = encoded.splitn(4, '$');
    let (Some(ALGORITHM), Some(iter), Some(salt), Some(b64)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Verification::Invalid;
    };
    let (Some(iterations), Ok(expected)) = (
        iter.parse::<u32>().ok().and_then(NonZeroU32::new),
        STANDARD.decode(b64),
    ) else {
        return Verification::Invalid;
    };
    let ok = pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt.as_bytes(),
        password.as_bytes(),
        &expected,
    )
    .is_ok();
    match (ok, iterations.get() < configured_iterations) {
        (false, _) => Verification::Invalid,
        (true, true) => Verification::ValidNeedsRehash,
        (true, false) => Verification::Valid,
    }
}

/// A hash of a random password, verified against when the email is unknown
/// so that both paths cost the same time.
/// [`hash`] on the blocking thread pool: the slow work never stalls the
/// async executor, so a flood of logins doesn't delay other requests.
pub async fn hash_off_executor(
    password: &super::SecretString,
    iterations: u32,
) -> Result<String, crate::error::AppError> {
    let password = password.clone();
    in_hashing_slot(move || hash(password.expose(), iterations)).await
}

/// How many hashes may run at once: half the cores, at least one.
fn slot_count() -> usize {
    crate::slots::cores() / 2
}

fn hashing_slots() -> &'static crate::slots::Slots {
    static SLOTS: std::sync::OnceLock<crate::slots::Slots> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| crate::slots::Slots::new(slot_count()))
}

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn in_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::error::AppError> {
    hashing_slots()
        .run(work)
        .await
        .map_err(|e| crate::error::AppError::internal("password hashing", e))
}

/// [`verify`] on the blocking thread pool.
pub async fn verify_off_executor(
    password: &super::SecretString,
    encoded: String,
    iterations: u32,
) -> Result<Verification, crate::error::AppError> {
    Ok(verify_timed_off_executor(password, encoded, iterations)
        .await?
        .0)
}

/// [`verify`] on the blocking thread pool, and how long the check itself
/// took (without the wait for a slot, which a flood makes long).
pub async fn verify_timed_off_executor(
    password: &super::SecretString,
    encoded: String,
    iterations: u32,
) -> Result<(Verification, std::time::Duration), crate::error::AppError> {
    let password = password.clone();
    in_hashing_slot(move || {
        let started = std::time::Instant::now();
        let verification = verify(password.expose(), &encoded, iterations);
        (verification, started.elapsed())
    })
    .await
}

/// Paces refused logins: a refusal is answered no sooner than the slowest
/// password check seen in the last ten minutes took. An unknown email is
/// checked against a dummy hash at the configured iteration count; an
/// account imported with more iterations takes longer to check, and without
/// this its refusals would stand out by their time.
#[derive(Default)]
pub struct Pacer {
    /// (slowest check in microseconds, when it was seen).
    slowest: std::sync::Mutex<(u64, Option<std::time::Instant>)>,
}

const PACER_MEMORY: std::time::Duration = std::time::Duration::from_secs(600);

impl Pacer {
    pub fn observe(&self, took: std::time::Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let mut slowest = self.slowest.lock().unwrap_or_else(|p| p.into_inner());
        let stale = slowest.1.is_none_or(|at| at.elapsed() > PACER_MEMORY);
        if stale || micros >= slowest.0 {
            *slowest = (micros, Some(std::time::Instant::now()));
        }
    }

    /// How long a refusal that started at `started` still has to wait.
    pub fn remaining(&self, started: std::time::Instant) -> std::time::Duration {
        let slowest = self.slowest.lock().unwrap_or_else(|p| p.into_inner()).0;
        std::time::Duration::from_micros(slowest).saturating_sub(started.elapsed())
    }
}

pub fn dummy_hash(iterations: u32) -> String {
    hash(&super::random::token(16), iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let slots = hashing_slots().count();
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let calls = (0..8).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            in_hashing_slot(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let h = hash("a real, slow hash", 200_000);
                running.fetch_sub(1, Ordering::SeqCst);
                h
            })
        });
        let hashes = futures_util::future::join_all(calls).await;
        assert!(hashes.iter().all(Result::is_ok));
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 1 && most <= slots,
            "{most} at once with {slots} slots"
        );
    }

    /// Made by Django 5.2: `make_password("correct horse", "seasalt", "pbkdf2_sha256")`
    /// with 1,000,000 iterations.
    const DJANGO_HASH: &str =
        "pbkdf2_sha256$1000000$seasalt$eDeT2Bk71DYBhUNxsvTfOL61wQ+l2yaHzCst8hDsfHQ=";

    #[test]
    fn the_pacer_remembers_the_slowest_check() {
        let pacer = Pacer::default();
        pacer.observe(std::time::Duration::from_millis(300));
        pacer.observe(std::time::Duration::from_millis(100));
        let started = std::time::Instant::now();
        let left = pacer.remaining(started);
        assert!(left > std::time::Duration::from_millis(250), "{left:?}");
    }

    #[test]
    fn a_hash_made_by_django_verifies() {
        assert_eq!(
            verify("correct horse", DJANGO_HASH, 600_000),
            Verification::Valid
        );
        assert_eq!(
            verify("wrong horse", DJANGO_HASH, 600_000),
            Verification::Invalid
        );
    }

    #[test]
    fn our_hash_has_the_django_format_and_round_trips() {
        let h = hash("s3cret pass", 1000);
        let parts: Vec<&str> = h.split('$').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "pbkdf2_sha256");
        assert_eq!(parts[1], "1000");
        assert_eq!(verify("s3cret pass", &h, 1000), Verification::Valid);
        assert_eq!(verify("s3cret pasS", &h, 1000), Verification::Invalid);
    }

    #[test]
    fn fewer_iterations_than_configured_asks_for_a_rehash() {
        let h = hash("pw", 1000);
        assert_eq!(verify("pw", &h, 2000), Verification::ValidNeedsRehash);
    }

    #[test]
    fn malformed_hashes_never_verify() {
        for bad in [
            "",
            "pbkdf2_sha256$",
            "md5$1$a$b",
            "pbkdf2_sha256$0$salt$AAAA",
            "pbkdf2_sha256$x$s$AAAA",
            "pbkdf2_sha256$10$s$***",
        ] {
            assert_eq!(verify("pw", bad, 10), Verification::Invalid, "{bad}");
        }
    }
}
