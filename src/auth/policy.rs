//! The password policy (OWASP ASVS 5.0 §6.2, Django's validators): a length
//! between the minimum (10 by default) and the maximum (128), never
//! truncated; not only whitespace; not only digits; not one of the 20,000
//! most common passwords, nor an alphabet or keyboard run or one repeated
//! character; not too similar to the email or nickname. The bounds are
//! runtime settings.
//!
//! `common_passwords.txt` is Django's list (BSD licence; 20,000 entries
//! derived from Royce Williams' list of leaked passwords), embedded at build
//! time and looked up in a hash set built once: O(1) per check.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::error::FieldCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 10,
            max_length: 128,
        }
    }
}

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Runs of characters people type instead of a password.
const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1234567890",
    "01234567890",
];

/// One of the 20,000 most common passwords, a keyboard or alphabet run (or
/// its reverse), or one character repeated.
pub fn is_common(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return true;
    }
    let mut chars = lower.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return true;
        }
    }
    let reversed: String = lower.chars().rev().collect();
    lower.chars().count() >= 4
        && RUNS
            .iter()
            .any(|run| run.contains(lower.as_str()) || run.contains(reversed.as_str()))
}

/// Ratcliff/Obershelp similarity (Python's `SequenceMatcher.ratio`): twice
/// the matched characters over the total length.
fn similarity(a: &[char], b: &[char]) -> f64 {
    fn matched(a: &[char], b: &[char]) -> usize {
        // The longest common substring, then the same on each side of it.
        let (mut best, mut at_a, mut at_b) = (0, 0, 0);
        let mut prev = vec![0usize; b.len() + 1];
        for (i, ca) in a.iter().enumerate() {
            let mut row = vec![0usize; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                if ca == cb {
                    row[j + 1] = prev[j] + 1;
                    if row[j + 1] > best {
                        best = row[j + 1];
                        at_a = i + 1 - best;
                        at_b = j + 1 - best;
                    }
                }
            }
            prev = row;
        }
        if best == 0 {
            return 0;
        }
        best + matched(&a[..at_a], &b[..at_b]) + matched(&a[at_a + best..], &b[at_b + best..])
    }
    let total = a.len() + b.len();
    if total == 0 {
        return 0.0;
    }
    2.0 * matched(a, b) as f64 / total as f64
}

/// Whether the password is built from the email or nickname.
fn too_similar(lower: &str, email: &str, nickname: &str) -> bool {
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_string();
    let nick = nickname.trim().to_lowercase();
    let mut attributes = vec![email.clone(), local.clone(), nick.clone()];
    for whole in [&email, &nick] {
        attributes.extend(
            whole
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| p.chars().count() >= 3)
                .map(str::to_string),
        );
    }
    let pw: Vec<char> = lower.chars().collect();
    attributes
        .iter()
        .filter(|a| a.chars().count() >= 3)
        .any(|attr| {
            if lower.contains(attr.as_str()) && attr.chars().count() >= 4 || attr.contains(lower) {
                return true;
            }
            let a: Vec<char> = attr.chars().collect();
            similarity(&pw, &a) >= 0.7
        })
}

/// The policy in force: the runtime settings, never below `floor` (the
/// configured `PASSWORD_MIN_LENGTH`).
pub async fn current(
    runtime: &crate::runtime::RuntimeSettings,
    floor: usize,
) -> Result<PasswordPolicy, crate::error::AppError> {
    let runtime_min = runtime.get(crate::runtime::PASSWORD_MIN_LENGTH).await?;
    let max = runtime.get(crate::runtime::PASSWORD_MAX_LENGTH).await?;
    let min = usize::try_from(runtime_min).unwrap_or(10).max(floor);
    Ok(PasswordPolicy {
        min_length: min,
        max_length: usize::try_from(max).unwrap_or(128).max(min),
    })
}

/// Checks a new password; the error names the one rule it breaks.
pub fn check(
    password: &str,
    email: &str,
    nickname: &str,
    policy: &PasswordPolicy,
) -> Result<(), FieldCode> {
    let chars = password.chars().count();
    if chars == 0 {
        return Err(FieldCode::Required);
    }
    if password.chars().all(char::is_whitespace) {
        return Err(FieldCode::PasswordOnlyWhitespace);
    }
    if chars < policy.min_length {
        return Err(FieldCode::PasswordTooShort);
    }
    if chars > policy.max_length {
        return Err(FieldCode::PasswordTooLong);
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(FieldCode::PasswordAllDigits);
    }
    if is_common(password) {
        return Err(FieldCode::PasswordTooCommon);
    }
    if too_similar(&password.to_lowercase(), email, nickname) {
        return Err(FieldCode::PasswordTooSimilar);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_for_ada(p: &str) -> Result<(), FieldCode> {
        check(
            p,
            "ada@example.com",
            "Ada Lovelace",
            &PasswordPolicy::default(),
        )
    }

    #[test]
    fn the_list_has_twenty_thousand_entries() {
        assert_eq!(include_str!("common_passwords.txt").lines().count(), 20_000);
        // A few entries differ only in spaces around them.
        assert!(COMMON.len() > 19_500);
    }

    #[test]
    fn each_rule_has_its_own_code() {
        assert_eq!(check_for_ada(""), Err(FieldCode::Required));
        assert_eq!(
            check_for_ada("            "),
            Err(FieldCode::PasswordOnlyWhitespace)
        );
        assert_eq!(check_for_ada("short"), Err(FieldCode::PasswordTooShort));
        assert_eq!(
            check_for_ada(&"x".repeat(129)),
            Err(FieldCode::PasswordTooLong)
        );
        assert_eq!(
            check_for_ada("12345678901234"),
            Err(FieldCode::PasswordAllDigits)
        );
        assert_eq!(
            check_for_ada("password123"),
            Err(FieldCode::PasswordTooCommon)
        );
        assert_eq!(
            check_for_ada("ada@example.com!"),
            Err(FieldCode::PasswordTooSimilar)
        );
        assert_eq!(
            check_for_ada("my ada lovelace pw"),
            Err(FieldCode::PasswordTooSimilar)
        );
        assert_eq!(
            check_for_ada("Lovelace1815"),
            Err(FieldCode::PasswordTooSimilar)
        );
    }

    #[test]
    fn yesterdays_weak_passwords_are_refused() {
        for weak in [
            "qwerty12345",
            "1234567890a",
            "abcdefghijk",
            "kjihgfedcba",
            "aaaaaaaaaaaa",
        ] {
            assert_eq!(
                check_for_ada(weak),
                Err(FieldCode::PasswordTooCommon),
                "{weak}"
            );
        }
    }

    #[test]
    fn passphrases_pass_untruncated() {
        let long = "correct horse battery staple and a violet tram that sings at 9!!";
        assert_eq!(long.chars().count(), 64);
        assert_eq!(check_for_ada(long), Ok(()));
        assert_eq!(check_for_ada("violet tram 42 sings"), Ok(()));
        assert_eq!(
            check_for_ada(&"é".repeat(10)),
            Err(FieldCode::PasswordTooCommon)
        );
        assert_eq!(check_for_ada("ünïcödé pässwörd"), Ok(()));
    }
}
