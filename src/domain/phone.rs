//! Phone numbers in E.164: `+` and 8–15 digits, first digit not 0.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneError {
    Empty,
    MissingPlus,
    NotDigits,
    WrongLength,
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PhoneError::Empty => "phone number is empty",
            PhoneError::MissingPlus => "phone number must be in E.164 format, starting with + (e.g. +14155550100)",
            PhoneError::NotDigits => "phone number may contain only digits after the +",
            PhoneError::WrongLength => "phone number must have 8 to 15 digits and not start with 0",
        })
    }
}

/// Whether a number written without `+` is accepted (the GetOTP dialect sends `60123456789`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlusSign {
    Required,
    Optional,
}

impl Phone {
    /// Parses and normalises to `+digits`. Spaces, dashes, dots and parentheses are
    /// ignored, as people paste numbers in those shapes.
    pub fn parse(input: &str, plus: PlusSign) -> Result<Phone, PhoneError> {
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        if compact.is_empty() {
            return Err(PhoneError::Empty);
        }
        let digits = match compact.strip_prefix('+') {
            Some(rest) => rest,
            None if plus == PlusSign::Optional => compact.as_str(),
            None => return Err(PhoneError::MissingPlus),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::NotDigits);
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::WrongLength);
        }
        Ok(Phone(format!("+{digits}")))
    }

    /// `+14155550100`
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// `14155550100`, as GetOTP echoes it.
    pub fn digits(&self) -> &str {
        self.0.get(1..).unwrap_or_default()
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_e164_and_common_formatting() {
        assert_eq!(Phone::parse("+14155550100", PlusSign::Required).unwrap().e164(), "+14155550100");
        assert_eq!(Phone::parse("+1 (415) 555-0100", PlusSign::Required).unwrap().e164(), "+14155550100");
        assert_eq!(Phone::parse("60123456789", PlusSign::Optional).unwrap().digits(), "60123456789");
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(Phone::parse("", PlusSign::Required), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("14155550100", PlusSign::Required), Err(PhoneError::MissingPlus));
        assert_eq!(Phone::parse("+1415abc0100", PlusSign::Required), Err(PhoneError::NotDigits));
        assert_eq!(Phone::parse("+1234567", PlusSign::Required), Err(PhoneError::WrongLength));
        assert_eq!(Phone::parse("+1234567890123456", PlusSign::Required), Err(PhoneError::WrongLength));
        assert_eq!(Phone::parse("+0123456789", PlusSign::Required), Err(PhoneError::WrongLength));
        assert_eq!(Phone::parse("++14155550100", PlusSign::Required), Err(PhoneError::NotDigits));
    }
}
