//! Keys derived from `SECRET_KEY`: one HKDF-SHA256 expansion per purpose, so
//! the session cookie key, the CSRF key, the mail-link key and the keys that
//! seal TOTP secrets and OAuth flow cookies are unrelated even though they share one configured secret.

use ring::hkdf;

/// Bytes of key material for `purpose`.
pub fn derive<const N: usize>(secret: &[u8], purpose: &[u8]) -> [u8; N] {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"swiper").extract(secret);
    let mut out = [0u8; N];
    let info: &[&[u8]] = &[purpose];
    // Expansion only fails for lengths over 255 × 32 bytes; every caller asks
    // for far less.
    if let Ok(okm) = prk.expand(info, Len(N)) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// The keys the running application uses, derived once at start.
pub struct Keys {
    /// Signs the CSRF tokens of forms (bound to a per-browser cookie and the
    /// login session).
    pub csrf: ring::hmac::Key,
    /// Seals TOTP secrets stored in the database.
    pub totp: super::seal::Sealer,
    /// Seals the short-lived OAuth cookies (state, PKCE verifier, the
    /// provider identity waiting for a new member's profile).
    pub oauth: super::seal::Sealer,
    /// Seals text messages waiting in the job queue (they hold codes).
    pub sms: super::seal::Sealer,
    /// Keys the stored hashes of text-message codes (a copy of Redis alone
    /// does not give a live code away by trying the million).
    pub sms_code: ring::hmac::Key,
    /// Signs the one-click unsubscribe links of mails (no login needed).
    pub unsubscribe: ring::hmac::Key,
    /// Keys the hashes of a purged banned account's email and phone.
    pub contact: ring::hmac::Key,
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            csrf: hmac_key(secret, b"csrf token"),
            totp: super::seal::Sealer::new(derive(secret, b"totp secret")),
            oauth: super::seal::Sealer::new(derive(secret, b"oauth flow")),
            sms: super::seal::Sealer::new(derive(secret, b"sms text")),
            sms_code: hmac_key(secret, b"sms code"),
            unsubscribe: hmac_key(secret, b"unsubscribe link"),
            contact: hmac_key(secret, b"banned contact"),
        }
    }
}

/// An HMAC-SHA256 key for `purpose`.
pub fn hmac_key(secret: &[u8], purpose: &[u8]) -> ring::hmac::Key {
    let bytes: [u8; 32] = derive(secret, purpose);
    ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_gets_its_own_key() {
        let a: [u8; 32] = derive(b"secret", b"one");
        let b: [u8; 32] = derive(b"secret", b"two");
        let again: [u8; 32] = derive(b"secret", b"one");
        assert_ne!(a, b);
        assert_eq!(a, again);
        assert_ne!(a, [0u8; 32]);
    }
}
