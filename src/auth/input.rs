//! Account inputs, parsed and validated once at the edge. Each error is a
//! stable [`FieldCode`] that forms show next to the field.

use chrono::{Datelike, NaiveDate};

pub use super::Sex;
use crate::error::FieldCode;

pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_NICKNAME_CHARS: usize = 40;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MIN_AGE: i32 = 18;

pub use crate::mail::{is_no_email, NO_EMAIL_DOMAIN};

/// Who a new member is: what a phone number's account gives once.
#[derive(Debug, Clone)]
pub struct Person {
    pub nickname: Nickname,
    pub sex: Sex,
    pub birthday: Birthday,
}

/// A normalised (trimmed, lower-case) and syntactically valid address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldCode> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(FieldCode::Required);
        }
        if s.len() > MAX_EMAIL_LEN {
            return Err(FieldCode::TooLong);
        }
        match s.parse::<lettre::Address>() {
            // `.invalid` never receives mail (RFC 2606); it also holds the
            // stand-ins of accounts made by a phone number.
            Ok(_) if s.contains('.') && !s.ends_with(".invalid") => Ok(Self(s)),
            _ => Err(FieldCode::InvalidEmail),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stand-in address of the account `phone` (E.164) made.
    pub fn stand_in_for(phone: &str) -> Self {
        Self(format!(
            "{}@{NO_EMAIL_DOMAIN}",
            phone.trim_start_matches('+')
        ))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nickname(String);

impl Nickname {
    pub fn parse(raw: &str) -> Result<Self, FieldCode> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldCode::Required);
        }
        if s.chars().count() > MAX_NICKNAME_CHARS {
            return Err(FieldCode::TooLong);
        }
        if s.chars().any(is_invisible_or_control) {
            return Err(FieldCode::InvalidNickname);
        }
        if s.chars().all(|c| c.is_whitespace() || is_blank_glyph(c)) {
            return Err(FieldCode::NicknameInvisible);
        }
        if impersonates_staff(s) {
            return Err(FieldCode::NicknameReserved);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that draw nothing although they are not white space (Hangul
/// and halfwidth fillers, the Braille blank, the soft hyphen, combining
/// grapheme joiner, Khmer and Mongolian invisible vowels and selectors): a
/// name made only of them looks empty.
fn is_blank_glyph(c: char) -> bool {
    matches!(c,
        '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' | '\u{2800}'
        | '\u{00AD}' | '\u{034F}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180D}' | '\u{FE00}'..='\u{FE0F}')
}

/// Words a member's name may not use, because they read as the site or its
/// staff speaking.
const RESERVED_WORDS: &[&str] = &[
    "admin",
    "administrator",
    "moderator",
    "official",
    "root",
    "staff",
    "support",
    "swiper",
    "system",
];

/// Whether a name reads as staff or the site: one of its words is reserved,
/// or, with the separators dropped, the whole name is ("A.d.m.i.n").
fn impersonates_staff(name: &str) -> bool {
    let lower = name.to_lowercase();
    let mut words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let joined: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    words.any(|w| RESERVED_WORDS.contains(&w)) || RESERVED_WORDS.contains(&joined.as_str())
}

/// The `sex` field of a form.
pub fn parse_sex(raw: &str) -> Result<Sex, FieldCode> {
    match raw.trim() {
        "" => Err(FieldCode::Required),
        s => Sex::parse(s).ok_or(FieldCode::InvalidChoice),
    }
}

/// Characters that would let a name display as something else: controls,
/// bidirectional overrides, embeddings, isolates and marks, and zero-width
/// characters (U+202E makes "Eve\u{202E}nimda" read as "Eveadmin").
pub fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{FEFF}')
}

/// Free text a member writes (a bio, a city, a report): trimmed, at most
/// `max` characters, line breaks allowed, other controls and invisible
/// direction changes not.
pub fn free_text(raw: &str, max: usize) -> Result<String, FieldCode> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(FieldCode::TooLong);
    }
    if s.chars()
        .any(|c| c != '\n' && c != '\r' && is_invisible_or_control(c))
    {
        return Err(FieldCode::InvalidText);
    }
    Ok(s.replace("\r\n", "\n"))
}

/// A birthday of an adult member (18+ on `today`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Birthday(NaiveDate);

impl Birthday {
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, FieldCode> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(FieldCode::Required);
        }
        let date =
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| FieldCode::InvalidDate)?;
        if date > today {
            return Err(FieldCode::BirthdayInFuture);
        }
        if age_on(date, today) < MIN_AGE {
            return Err(FieldCode::Under18);
        }
        if age_on(date, today) > 120 {
            return Err(FieldCode::InvalidDate);
        }
        Ok(Self(date))
    }
    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// Full years between `birthday` and `today`.
pub fn age_on(birthday: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birthday.year();
    if (today.month(), today.day()) < (birthday.month(), birthday.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        assert_eq!(Email::parse("nope"), Err(FieldCode::InvalidEmail));
        assert_eq!(Email::parse(""), Err(FieldCode::Required));
        assert_eq!(
            Email::parse(&format!("{}@x.io", "a".repeat(300))),
            Err(FieldCode::TooLong)
        );
    }

    #[test]
    fn nobody_signs_up_with_the_stand_in_of_a_phone_account() {
        let stand_in = Email::stand_in_for("+8613800138000");
        assert_eq!(stand_in.as_str(), "8613800138000@phone.invalid");
        assert!(is_no_email(stand_in.as_str()));
        assert!(!is_no_email("ada@example.com"));
        for typed in ["8613800138000@phone.invalid", "ada@mail.INVALID"] {
            assert_eq!(Email::parse(typed), Err(FieldCode::InvalidEmail));
        }
    }

    #[test]
    fn blank_and_staff_sounding_nicknames_are_refused_with_their_codes() {
        for blank in [
            "\u{3164}",
            "\u{3164} \u{3164}",
            "\u{2800}",
            "\u{FFA0}\u{00AD}",
        ] {
            assert_eq!(
                Nickname::parse(blank),
                Err(FieldCode::NicknameInvisible),
                "{blank:?}"
            );
        }
        for staff in [
            "admin",
            "Swiper Support",
            "A.d.m.i.n",
            "official-moderator",
            "SWIPER",
        ] {
            assert_eq!(
                Nickname::parse(staff),
                Err(FieldCode::NicknameReserved),
                "{staff:?}"
            );
        }
        for fine in [
            "Badminton fan",
            "Adminah",
            "Supporter",
            "\u{3164}Bo",
            "李 Swipe",
        ] {
            assert!(Nickname::parse(fine).is_ok(), "{fine:?}");
        }
    }

    #[test]
    fn nicknames_refuse_bidi_overrides_and_zero_width_characters() {
        assert!(Nickname::parse("Zoë 李").is_ok());
        for bad in [
            "Eve\u{202E}nimda",
            "a\u{200B}b",
            "x\u{2066}y",
            "\u{FEFF}z",
            "tab\there",
        ] {
            assert_eq!(
                Nickname::parse(bad),
                Err(FieldCode::InvalidNickname),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn members_are_adults_born_in_the_past() {
        assert!(Birthday::parse("2008-11-21", today()).is_ok());
        assert_eq!(
            Birthday::parse("2008-11-22", today()),
            Err(FieldCode::Under18)
        );
        assert_eq!(
            Birthday::parse("2027-01-01", today()),
            Err(FieldCode::BirthdayInFuture)
        );
        assert_eq!(
            Birthday::parse("21/11/1990", today()),
            Err(FieldCode::InvalidDate)
        );
    }
}
