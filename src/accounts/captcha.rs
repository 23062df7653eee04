//! The login captcha: a distorted PNG made by `captcha-rs` from an answer
//! kept server-side (Redis, or in-process) for five minutes, single use,
//! compared case-insensitively in constant time. The form carries only the
//! challenge's random id; the image is drawn when the browser asks for it.
//!
//! A page view stores nothing: the login form of an address past its
//! threshold carries a fresh id, and the answer is made when the (rate
//! limited) image is first asked for, or when a login POST is refused for
//! want of one. An address holds at most [`LIVE_PER_IP`] answers at a time,
//! so a flood of page views or image requests cannot fill Redis.

use std::time::Duration;

use crate::error::AppError;
use crate::limits::Counters;
use crate::security::random;

/// How long an answer stays valid.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// Characters that cannot be mistaken for each other.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 5;

/// Answers one address may have made within [`TTL`].
pub const LIVE_PER_IP: u64 = 10;

fn key(id: &str) -> String {
    format!("captcha:{id}")
}

/// An id for a form to carry; nothing is stored until its image is asked
/// for ([`png`]).
pub fn fresh_id() -> String {
    random::token(16)
}

/// Whether `ip_bucket` may make another answer now (and counts it).
async fn may_issue(counters: &Counters, ip_bucket: &str) -> Result<(), AppError> {
    let made = counters
        .hit(&format!("captcha-made:{ip_bucket}"), TTL, LIVE_PER_IP + 1)
        .await;
    if made.count > LIVE_PER_IP {
        return Err(AppError::TooSoon {
            retry_after_secs: made.retry_after_secs,
        });
    }
    Ok(())
}

/// Stores a new answer for `id` and returns it.
async fn store(counters: &Counters, id: &str) -> String {
    let answer: String = random::bytes(LENGTH)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    counters.put(&key(id), &answer, TTL).await;
    answer
}

/// A challenge id is 22 URL-safe characters (16 random bytes).
pub fn is_well_formed(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new challenge after a refused login: its answer stored (within the
/// address's allowance; past it the id is fresh and its image will say
/// 429), its id returned for the form.
pub async fn issue(counters: &Counters, ip_bucket: &str) -> String {
    let id = fresh_id();
    if may_issue(counters, ip_bucket).await.is_ok() {
        store(counters, &id).await;
    }
    id
}

/// Checks an answer and uses the challenge up, right or wrong.
pub async fn solve(counters: &Counters, id: &str, answer: &str) -> bool {
    if !is_well_formed(id) {
        return false;
    }
    let Some(expected) = counters.take(&key(id)).await else {
        return false;
    };
    let given = answer.trim().to_ascii_lowercase();
    random::constant_time_eq(expected.as_bytes(), given.as_bytes())
}

/// A form's captcha (its challenge id and the answer typed), when one is
/// needed: `Err` with the field's code when it is missing or wrong. The
/// challenge is used up either way.
pub async fn check(
    counters: &Counters,
    given: Option<&(String, String)>,
) -> Result<(), crate::error::FieldCode> {
    use crate::error::FieldCode;
    match given {
        Some((id, answer)) if !answer.trim().is_empty() => {
            if solve(counters, id, answer).await {
                Ok(())
            } else {
                Err(FieldCode::CaptchaInvalid)
            }
        }
        Some((id, _)) => {
            // Used up all the same: an empty answer does not keep it alive.
            solve(counters, id, "").await;
            Err(FieldCode::CaptchaRequired)
        }
        None => Err(FieldCode::CaptchaRequired),
    }
}

/// The answer of a live challenge (tests read it; pages never show it).
pub async fn answer(counters: &Counters, id: &str) -> Option<String> {
    if !is_well_formed(id) {
        return None;
    }
    counters.get(&key(id)).await
}

/// The PNG image of a challenge, drawn off the async executor: a live one,
/// or a fresh id's, whose answer is made now (within the address's
/// allowance). `None` for an id that is not well formed.
pub async fn png(
    counters: &Counters,
    id: &str,
    ip_bucket: &str,
) -> Result<Option<Vec<u8>>, AppError> {
    if !is_well_formed(id) {
        return Ok(None);
    }
    let text = match answer(counters, id).await {
        Some(text) => text,
        None => {
            may_issue(counters, ip_bucket).await?;
            store(counters, id).await
        }
    };
    let drawn = actix_web::web::block(move || {
        let captcha = captcha_rs::CaptchaBuilder::new()
            .text(text)
            .width(180)
            .height(64)
            .dark_mode(false)
            .complexity(6)
            .distortion(6)
            .interference_lines(3)
            .interference_ellipses(2)
            .build();
        let mut png = Vec::new();
        captcha
            .image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map(|()| png)
    })
    .await
    .map_err(|e| AppError::internal("captcha", e))?
    .map_err(|e| AppError::internal("captcha", e))?;
    Ok(Some(drawn))
}
