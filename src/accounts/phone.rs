//! Phone numbers: E.164 (`+` and 8 to 15 digits, no leading zero), read
//! from what people type (spaces, dashes, dots, brackets, a leading `00`),
//! and masked wherever they are logged.

use crate::error::FieldCode;

/// A number in E.164 form: `+8613800138000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, FieldCode> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
            .collect();
        if compact.is_empty() {
            return Err(FieldCode::Required);
        }
        let digits = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"))
            .ok_or(FieldCode::InvalidPhone)?;
        let valid = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err(FieldCode::InvalidPhone);
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: the country code's first digits and the last two.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..3], "*".repeat(n - 5), &self.0[n - 2..])
    }

    /// What the login defence counts failures under (it hashes it, as it
    /// does an email).
    pub fn defence_subject(&self) -> String {
        format!("phone:{}", self.0)
    }

    /// A key for counters and stored codes that does not hold the number.
    pub fn subject(&self) -> String {
        crate::security::random::token_hash(&format!("phone:{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_people_type_them() {
        for typed in [
            "+86 138 0013 8000",
            "0086-138-0013-8000",
            "+86 (138) 0013.8000",
            " +8613800138000 ",
        ] {
            assert_eq!(
                Phone::parse(typed).unwrap().as_str(),
                "+8613800138000",
                "{typed}"
            );
        }
        assert_eq!(Phone::parse("").unwrap_err(), FieldCode::Required);
        for bad in [
            "13800138000",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "+33 6 12 ab 34",
            "++33612345678",
            "+٣٣٦١٢٣٤٥٦٧٨",
        ] {
            assert_eq!(
                Phone::parse(bad).unwrap_err(),
                FieldCode::InvalidPhone,
                "{bad}"
            );
        }
        let p = Phone::parse("+8613800138000").unwrap();
        assert_eq!(p.masked(), "+86*********00");
        assert!(!p.subject().contains("138"));
    }
}
