//! One-time passwords for two-factor login: TOTP (RFC 6238 over RFC 4226,
//! HMAC-SHA1, 6 digits, 30-second steps) through `ring`, the `otpauth://`
//! URI authenticator apps scan (as a QR code drawn by the `qrcode` crate,
//! no outside service), and single-use recovery codes.

use ring::hmac;

use super::random;

pub const DIGITS: u32 = 6;
pub const STEP_SECS: i64 = 30;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;

/// A new random secret.
pub fn generate_secret() -> Vec<u8> {
    random::bytes(SECRET_LEN)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, upper case, without padding (what authenticator apps take).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32, ignoring case, spaces and padding; `None` for other characters.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let upper = c.to_ascii_uppercase() as u8;
        let value = BASE32.iter().position(|&b| b == upper)?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The time step of a Unix time.
pub fn step_of(unix_time: i64) -> i64 {
    unix_time.div_euclid(STEP_SECS)
}

fn code_for_step(secret: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    binary % 10u32.pow(DIGITS)
}

/// The code shown at `unix_time`.
pub fn code_at(secret: &[u8], unix_time: i64) -> String {
    format!("{:06}", code_for_step(secret, step_of(unix_time)))
}

/// Checks a code against the steps around `unix_time` (±1: clocks drift and
/// people type slowly) and returns the step it matched. A step at or before
/// `last_used` is refused, so each code works once.
pub fn verify(secret: &[u8], code: &str, unix_time: i64, last_used: Option<i64>) -> Option<i64> {
    let given: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if given.len() != DIGITS as usize || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_time);
    let mut matched = None;
    // Every candidate is computed and compared, matched or not.
    for step in [now - 1, now, now + 1] {
        let expected = format!("{:06}", code_for_step(secret, step));
        if random::constant_time_eq(expected.as_bytes(), given.as_bytes())
            && last_used.is_none_or(|last| step > last)
        {
            matched = Some(step);
        }
    }
    matched
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encode(issuer),
        percent_encode(account),
        base32_encode(secret),
        percent_encode(issuer),
    )
}

/// The QR code of `uri` as an SVG element (no script, no outside resource).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// Characters of recovery codes: no 0/o, 1/l/i to confuse.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
pub const RECOVERY_CODES: usize = 10;

/// Ten new recovery codes, `xxxxx-xxxxx` (about 49 bits each).
pub fn recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = random::bytes(10)
                .iter()
                .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed, reduced to what is stored: lower case, no
/// spaces or dashes.
pub fn normalize_recovery_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// How a recovery code is stored: SHA-256, base64url. Unsalted is enough here:
/// each code is random (about 49 bits), works once, and is only tried
/// behind the login's rate limit.
pub fn hash_recovery_code(normalized: &str) -> String {
    random::token_hash(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_test_vectors() {
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time), code, "{time}");
        }
    }

    #[test]
    fn one_step_either_way_is_accepted_once() {
        let t = 1_234_567_890;
        let now = step_of(t);
        let before = code_at(RFC_SECRET, t - 30);
        let after = code_at(RFC_SECRET, t + 30);
        assert_eq!(verify(RFC_SECRET, &before, t, None), Some(now - 1));
        assert_eq!(verify(RFC_SECRET, &after, t, None), Some(now + 1));
        assert_eq!(
            verify(RFC_SECRET, &code_at(RFC_SECRET, t - 60), t, None),
            None
        );
        assert_eq!(
            verify(RFC_SECRET, &code_at(RFC_SECRET, t + 60), t, None),
            None
        );
        let current = code_at(RFC_SECRET, t);
        assert_eq!(verify(RFC_SECRET, &current, t, Some(now)), None, "reused");
        assert_eq!(verify(RFC_SECRET, &before, t, Some(now - 1)), None);
        assert_eq!(verify(RFC_SECRET, "12345", t, None), None);
        assert_eq!(verify(RFC_SECRET, "abcdef", t, None), None);
        assert_eq!(verify(RFC_SECRET, "", t, None), None);
    }

    #[test]
    fn base32_follows_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        assert_eq!(base32_decode("mzxw 6ytb oi=="), Some(b"foobar".to_vec()));
        assert_eq!(base32_decode("MZ!"), None);
        let secret = generate_secret();
        assert_eq!(base32_decode(&base32_encode(&secret)), Some(secret));
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalize() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert!(codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        assert_eq!(normalize_recovery_code(" ABCDE-fghjk "), "abcdefghjk");
    }

    #[test]
    fn the_uri_and_qr_code_are_well_formed() {
        let uri = otpauth_uri(RFC_SECRET, "Swiper", "ada@example.com");
        assert!(uri.starts_with("otpauth://totp/Swiper:ada%40example.com?secret=GEZDGNBV"));
        let svg = qr_svg(&uri).unwrap_or_default();
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
