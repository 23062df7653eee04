//! Secrets the application must read back (TOTP secrets) are stored sealed:
//! AES-256-GCM through `ring`, with a key derived from `SECRET_KEY` for one
//! purpose, a random 96-bit nonce per value. A copy of the database alone
//! does not give them away.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use super::random;

const PREFIX: &str = "v1.";

#[derive(Clone)]
pub struct Sealer {
    key: std::sync::Arc<LessSafeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// A sealer under `key` (derived for one purpose: `keys::Keys`).
    pub fn new(key: [u8; 32]) -> Self {
        let bytes = key;
        // A 32-byte key is always valid for AES-256-GCM.
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes).unwrap_or_else(|_| unreachable!());
        Self {
            key: std::sync::Arc::new(LessSafeKey::new(unbound)),
        }
    }

    /// `v1.<base64url(nonce ‖ ciphertext ‖ tag)>`.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce_bytes = random::bytes(NONCE_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&nonce_bytes);
        let mut buffer = plaintext.to_vec();
        // Sealing only fails for inputs of gigabytes.
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut buffer,
            )
            .is_err()
        {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// The plaintext, or `None` for anything malformed, tampered with or
    /// sealed under another key.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if raw.len() < NONCE_LEN + aead::AES_256_GCM.tag_len() {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_untouched_and_under_its_key() {
        let sealer = Sealer::new([7; 32]);
        let sealed = sealer.seal(b"the secret bytes");
        assert!(!sealed.contains("secret"));
        assert_eq!(
            sealer.open(&sealed).as_deref(),
            Some(&b"the secret bytes"[..])
        );
        assert_ne!(
            sealer.seal(b"x"),
            sealer.seal(b"x"),
            "a fresh nonce each time"
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            sealer.open(std::str::from_utf8(&tampered).unwrap_or("")),
            None
        );
        assert_eq!(Sealer::new([8; 32]).open(&sealed), None);
        for garbage in ["", "v1.", "v1.!!!", "v2.abcd", "v1.AAAA"] {
            assert_eq!(sealer.open(garbage), None, "{garbage}");
        }
        assert_eq!(format!("{sealer:?}"), "Sealer([redacted])");
    }
}
