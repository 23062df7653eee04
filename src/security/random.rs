//! Random values from the operating system through `ring`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // SystemRandom only fails when the OS has no entropy source at all, in
    // which case nothing secure can continue.
    if SystemRandom::new().fill(&mut buf).is_err() {
        std::process::abort();
    }
    buf
}

/// A URL-safe token carrying `n` random bytes.
pub fn token(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(bytes(n))
}

/// Between half of `d` and all of it, at random: lifetimes of cache entries
/// filled together then end at different times (no avalanche of misses).
pub fn jittered(d: std::time::Duration) -> std::time::Duration {
    let byte = bytes(1)[0];
    d / 2 + d.mul_f64(f64::from(byte) / 510.0)
}

/// SHA-256 of a token, as stored in the database instead of the token itself.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// Compares two secrets without leaking where they differ (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_url_safe() {
        let (a, b) = (token(32), token(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn token_hash_is_stable_and_not_the_token() {
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(token_hash("abc"), "abc");
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"diff"));
    }
}
