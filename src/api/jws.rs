//! Access tokens: JWTs signed with Ed25519 (`EdDSA`, RFC 8037) through ring.
//!
//! A small JWS signer rather than `jsonwebtoken`: the API needs one
//! algorithm, ring already does the cryptography, and the 11.x crate would
//! need a hand-written ring `CryptoProvider` (its signers, verifiers and JWK
//! helpers) that is bigger than this file. It is tested against the RFC 8037
//! appendix A vectors (key, thumbprint, signature).
//!
//! Keys are PKCS#8 Ed25519 private keys in PEM (`-----BEGIN PRIVATE
//! KEY-----`), several in one `JWT_KEY_FILE` to rotate: the first signs,
//! every one verifies (add the new key first, drop the old one once the
//! tokens it signed have expired: 15 minutes). Each key's `kid` is its
//! RFC 7638 thumbprint. In development a key is generated into
//! `var/jwt_key.pem`.

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The signing keys: the first signs, all verify.
pub struct Keys {
    signer: Ed25519KeyPair,
    kid: String,
    verifiers: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("kid", &self.kid).finish()
    }
}

/// Why a token was not accepted (the client only ever hears "invalid").
#[derive(Debug, PartialEq, Eq)]
pub enum Invalid {
    Malformed,
    UnknownKey,
    BadSignature,
}

/// The RFC 7638 thumbprint of an Ed25519 public key: its `kid`.
pub fn thumbprint(public: &[u8]) -> String {
    let x = URL_SAFE_NO_PAD.encode(public);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

/// The DER bodies of the `PRIVATE KEY` blocks of a PEM text.
fn pem_blocks(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (line, &mut body) {
            ("-----BEGIN PRIVATE KEY-----", None) => body = Some(String::new()),
            ("-----END PRIVATE KEY-----", Some(b)) => {
                out.push(
                    STANDARD
                        .decode(b.as_bytes())
                        .map_err(|_| "bad base64 in a key")?,
                );
                body = None;
            }
            (l, Some(b)) => b.push_str(l),
            _ => {}
        }
    }
    if body.is_some() {
        return Err("a key block is not closed".into());
    }
    Ok(out)
}

/// A PEM `PRIVATE KEY` block of `der`.
fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

/// A new Ed25519 private key as PKCS#8 PEM (`swiper jwt-key`).
pub fn new_key_pem() -> String {
    match Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()) {
        Ok(der) => pem(der.as_ref()),
        Err(_) => String::new(),
    }
}

impl Keys {
    /// Keys from PEM text (one or more PKCS#8 Ed25519 keys).
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for der in pem_blocks(text)? {
            pairs.push(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map_err(|_| "not a PKCS#8 Ed25519 private key".to_string())?,
            );
        }
        Self::from_pairs(pairs)
    }

    fn from_pairs(pairs: Vec<Ed25519KeyPair>) -> Result<Self, String> {
        let verifiers: Vec<(String, Vec<u8>)> = pairs
            .iter()
            .map(|p| {
                let public = p.public_key().as_ref().to_vec();
                (thumbprint(&public), public)
            })
            .collect();
        let signer = pairs.into_iter().next().ok_or("no private key found")?;
        Ok(Self {
            kid: verifiers[0].0.clone(),
            signer,
            verifiers,
        })
    }

    /// `JWT_KEY_FILE`, or in development `var/jwt_key.pem`, generated the
    /// first time.
    pub fn load(file: Option<&Path>, var_dir: &Path) -> Result<Self, String> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("JWT_KEY_FILE: cannot read {}: {e}", path.display()))?;
            return Self::from_pem(&text).map_err(|e| format!("JWT_KEY_FILE: {e}"));
        }
        let path = var_dir.join("jwt_key.pem");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Self::from_pem(&text).map_err(|e| format!("{}: {e}", path.display()));
        }
        let der = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| "cannot generate a key".to_string())?;
        std::fs::create_dir_all(var_dir).map_err(|e| e.to_string())?;
        crate::config::write_private(&path, pem(der.as_ref()).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Self::from_pem(&pem(der.as_ref()))
    }

    /// The id of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS of `claims` (`typ` JWT, `alg` EdDSA, this `kid`).
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, serde_json::Error> {
        let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        Ok(self.sign_input(input))
    }

    fn sign_input(&self, input: String) -> String {
        let sig = self.signer.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// The claims of a token signed by one of these keys. Only `EdDSA` is
    /// accepted (never `none`, never a key named by the token itself).
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, Invalid> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Invalid::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| Invalid::Malformed);
        #[derive(serde::Deserialize)]
        struct Header {
            alg: String,
            kid: Option<String>,
        }
        let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| Invalid::Malformed)?;
        if header.alg != "EdDSA" {
            return Err(Invalid::Malformed);
        }
        let public = match header.kid {
            Some(kid) => self.verifiers.iter().find(|(k, _)| *k == kid),
            None => self.verifiers.first().filter(|_| self.verifiers.len() == 1),
        }
        .ok_or(Invalid::UnknownKey)?;
        let signed = &token[..h.len() + 1 + p.len()];
        UnparsedPublicKey::new(&signature::ED25519, &public.1)
            .verify(signed.as_bytes(), &decode(s)?)
            .map_err(|_| Invalid::BadSignature)?;
        serde_json::from_slice(&decode(p)?).map_err(|_| Invalid::Malformed)
    }

    /// The public keys as a JWK Set (RFC 7517, `OKP`/`Ed25519`).
    pub fn jwks(&self) -> super::schema::Jwks {
        let keys = self
            .verifiers
            .iter()
            .map(|(kid, public)| super::schema::Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: URL_SAFE_NO_PAD.encode(public),
                kid: kid.clone(),
                alg: "EdDSA".into(),
                usage: "sig".into(),
            })
            .collect();
        super::schema::Jwks { keys }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8037, appendix A.1–A.4.
    const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    const COMPACT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    fn rfc_keys() -> Keys {
        let seed = URL_SAFE_NO_PAD.decode(D).unwrap();
        let public = URL_SAFE_NO_PAD.decode(X).unwrap();
        let pair = Ed25519KeyPair::from_seed_and_public_key(&seed, &public).unwrap();
        Keys::from_pairs(vec![pair]).unwrap()
    }

    #[test]
    fn the_rfc_8037_vectors_hold() {
        let keys = rfc_keys();
        assert_eq!(keys.kid(), THUMBPRINT, "A.3: the thumbprint");
        // A.4: the signature of "Example of Ed25519 signing" under {"alg":"EdDSA"}.
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#),
            URL_SAFE_NO_PAD.encode(b"Example of Ed25519 signing")
        );
        assert_eq!(keys.sign_input(input), COMPACT);
        // A.5: it verifies (no kid: the only key).
        let public = URL_SAFE_NO_PAD.decode(X).unwrap();
        let (signed, sig) = COMPACT.rsplit_once('.').unwrap();
        UnparsedPublicKey::new(&signature::ED25519, &public)
            .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        assert_eq!(keys.jwks().keys[0].x, X);
    }

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    #[test]
    fn tokens_round_trip_and_tampering_is_refused() {
        let dir =
            std::env::temp_dir().join(format!("swiper-jws-{}", crate::security::random::token(6)));
        let keys = Keys::load(None, &dir).unwrap();
        let again = Keys::load(None, &dir).unwrap();
        assert_eq!(keys.kid(), again.kid(), "the generated key is kept");
        let claims = Claims {
            sub: "7".into(),
            exp: 99,
        };
        let token = keys.sign(&claims).unwrap();
        assert_eq!(again.verify::<Claims>(&token).unwrap(), claims);

        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"1","exp":99}"#);
        let forged = format!("{head}.{forged_claims}.{sig}");
        assert_eq!(keys.verify::<Claims>(&forged), Err(Invalid::BadSignature));
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            forged_claims
        );
        assert_eq!(keys.verify::<Claims>(&none), Err(Invalid::Malformed));
        for junk in ["", "a.b", "a.b.c.d", "!!.??.**", "\u{0}.\u{0}.\u{0}"] {
            assert!(keys.verify::<Claims>(junk).is_err(), "{junk:?}");
        }
        // Another key's token: unknown kid.
        let other = Keys::from_pem(&pem(Ed25519KeyPair::generate_pkcs8(
            &ring::rand::SystemRandom::new(),
        )
        .unwrap()
        .as_ref()))
        .unwrap();
        assert_eq!(
            keys.verify::<Claims>(&other.sign(&claims).unwrap()),
            Err(Invalid::UnknownKey)
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn with_two_keys_the_first_signs_and_both_verify() {
        let gen = || {
            pem(
                Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                    .unwrap()
                    .as_ref(),
            )
        };
        let (new, old) = (gen(), gen());
        let before = Keys::from_pem(&old).unwrap();
        let rotated = Keys::from_pem(&format!("{new}{old}")).unwrap();
        let claims = Claims {
            sub: "1".into(),
            exp: 1,
        };
        let old_token = before.sign(&claims).unwrap();
        assert_eq!(rotated.verify::<Claims>(&old_token).unwrap(), claims);
        assert_ne!(rotated.kid(), before.kid());
        assert_eq!(rotated.jwks().keys.len(), 2);
        assert!(Keys::from_pem("no key here").is_err());
        assert!(
            Keys::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
        );
    }
}
