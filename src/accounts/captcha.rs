//! The login captcha: a distorted PNG made by `captcha-rs` from an answer
//! kept server-side (Redis, or in-process) for five minutes, single use,
//! compared case-insensitively in constant time. The form carries only the
//! challenge's random id; the image is drawn when the browser asks for it.

use std::time::Duration;

use crate::error::AppError;
use crate::limits::Counters;
use crate::security::random;

/// How long an answer stays valid.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// Characters that cannot be mistaken for each other.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 5;

fn key(id: &str) -> String {
    format!("captcha:{id}")
}

/// A challenge id is 22 URL-safe characters (16 random bytes).
pub fn is_well_formed(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new challenge: its answer stored, its id returned for the form.
pub async fn issue(counters: &Counters) -> String {
    let id = random::token(16);
    let answer: String = random::bytes(LENGTH)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    counters.put(&key(&id), &answer, TTL).await;
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

/// The answer of a live challenge (tests read it; pages never show it).
pub async fn answer(counters: &Counters, id: &str) -> Option<String> {
    if !is_well_formed(id) {
        return None;
    }
    counters.get(&key(id)).await
}

/// The PNG image of a live challenge, drawn off the async executor.
pub async fn png(counters: &Counters, id: &str) -> Result<Option<Vec<u8>>, AppError> {
    let Some(text) = answer(counters, id).await else {
        return Ok(None);
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
