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
            PhoneError::MissingPlus => {
                "phone number must be in E.164 format, starting with + (e.g. +14155550100)"
            }
            PhoneError::NotDigits => {
                "phone number may contain only digits after an optional leading + \
                 (no spaces, dashes, dots or other characters)"
            }
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
    /// Parses to `+digits`. A phone is ASCII digits with an optional leading `+`, nothing
    /// else: a separator, a decimal point or an exponent is refused, never dropped, so
    /// `14155550180.0` can never reach `141555501800`.
    pub fn parse(input: &str, plus: PlusSign) -> Result<Phone, PhoneError> {
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let digits = match input.strip_prefix('+') {
            Some(rest) => rest,
            None if plus == PlusSign::Optional => input,
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

    /// The ISO 3166-1 alpha-2 country of the number, by the longest matching calling code
    /// in `CALLING_CODES`; `None` when the code is not in the table.
    pub fn country(&self) -> Option<&'static str> {
        let digits = self.digits();
        (1..=4).rev().find_map(|len| {
            let prefix = digits.get(..len)?;
            CALLING_CODES
                .iter()
                .find(|(code, _)| *code == prefix)
                .map(|(_, country)| *country)
        })
    }
}

/// Whether `country` (ISO 3166-1 alpha-2, upper-cased) is one `Phone::country` can answer.
pub fn is_known_country(country: &str) -> bool {
    CALLING_CODES.iter().any(|(_, c)| *c == country)
}

/// The calling code of a country (`US` → "1"): the shortest code listed for it, a North
/// American area code standing for its "1".
pub fn calling_code(country: &str) -> Option<&'static str> {
    let code = CALLING_CODES
        .iter()
        .filter(|(_, c)| *c == country)
        .map(|(code, _)| *code)
        .min_by_key(|code| code.len())?;
    Some(if code.starts_with('1') { "1" } else { code })
}

/// Calling code → country. Shared codes (+1, +7) go to their largest country; the
/// Caribbean and Canadian area codes under +1 are listed where they differ.
const CALLING_CODES: &[(&str, &str)] = &[
    ("1", "US"),
    ("1204", "CA"),
    ("1236", "CA"),
    ("1250", "CA"),
    ("1289", "CA"),
    ("1306", "CA"),
    ("1343", "CA"),
    ("1365", "CA"),
    ("1403", "CA"),
    ("1416", "CA"),
    ("1418", "CA"),
    ("1438", "CA"),
    ("1450", "CA"),
    ("1506", "CA"),
    ("1514", "CA"),
    ("1519", "CA"),
    ("1579", "CA"),
    ("1581", "CA"),
    ("1587", "CA"),
    ("1604", "CA"),
    ("1613", "CA"),
    ("1639", "CA"),
    ("1647", "CA"),
    ("1705", "CA"),
    ("1709", "CA"),
    ("1778", "CA"),
    ("1780", "CA"),
    ("1807", "CA"),
    ("1819", "CA"),
    ("1825", "CA"),
    ("1867", "CA"),
    ("1873", "CA"),
    ("1902", "CA"),
    ("1905", "CA"),
    ("1876", "JM"),
    ("1787", "PR"),
    ("1939", "PR"),
    ("1868", "TT"),
    ("1246", "BB"),
    ("1242", "BS"),
    ("7", "RU"),
    ("76", "KZ"),
    ("77", "KZ"),
    ("20", "EG"),
    ("27", "ZA"),
    ("30", "GR"),
    ("31", "NL"),
    ("32", "BE"),
    ("33", "FR"),
    ("34", "ES"),
    ("36", "HU"),
    ("39", "IT"),
    ("40", "RO"),
    ("41", "CH"),
    ("43", "AT"),
    ("44", "GB"),
    ("45", "DK"),
    ("46", "SE"),
    ("47", "NO"),
    ("48", "PL"),
    ("49", "DE"),
    ("51", "PE"),
    ("52", "MX"),
    ("53", "CU"),
    ("54", "AR"),
    ("55", "BR"),
    ("56", "CL"),
    ("57", "CO"),
    ("58", "VE"),
    ("60", "MY"),
    ("61", "AU"),
    ("62", "ID"),
    ("63", "PH"),
    ("64", "NZ"),
    ("65", "SG"),
    ("66", "TH"),
    ("81", "JP"),
    ("82", "KR"),
    ("84", "VN"),
    ("86", "CN"),
    ("90", "TR"),
    ("91", "IN"),
    ("92", "PK"),
    ("93", "AF"),
    ("94", "LK"),
    ("95", "MM"),
    ("98", "IR"),
    ("212", "MA"),
    ("213", "DZ"),
    ("216", "TN"),
    ("218", "LY"),
    ("220", "GM"),
    ("221", "SN"),
    ("225", "CI"),
    ("233", "GH"),
    ("234", "NG"),
    ("237", "CM"),
    ("243", "CD"),
    ("244", "AO"),
    ("251", "ET"),
    ("254", "KE"),
    ("255", "TZ"),
    ("256", "UG"),
    ("260", "ZM"),
    ("263", "ZW"),
    ("351", "PT"),
    ("352", "LU"),
    ("353", "IE"),
    ("354", "IS"),
    ("358", "FI"),
    ("359", "BG"),
    ("370", "LT"),
    ("371", "LV"),
    ("372", "EE"),
    ("373", "MD"),
    ("374", "AM"),
    ("375", "BY"),
    ("380", "UA"),
    ("381", "RS"),
    ("385", "HR"),
    ("386", "SI"),
    ("387", "BA"),
    ("420", "CZ"),
    ("421", "SK"),
    ("852", "HK"),
    ("853", "MO"),
    ("855", "KH"),
    ("856", "LA"),
    ("880", "BD"),
    ("886", "TW"),
    ("960", "MV"),
    ("961", "LB"),
    ("962", "JO"),
    ("963", "SY"),
    ("964", "IQ"),
    ("965", "KW"),
    ("966", "SA"),
    ("967", "YE"),
    ("968", "OM"),
    ("970", "PS"),
    ("971", "AE"),
    ("972", "IL"),
    ("973", "BH"),
    ("974", "QA"),
    ("975", "BT"),
    ("976", "MN"),
    ("977", "NP"),
    ("992", "TJ"),
    ("993", "TM"),
    ("994", "AZ"),
    ("995", "GE"),
    ("996", "KG"),
    ("998", "UZ"),
];

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_e164() {
        assert_eq!(
            Phone::parse("+14155550100", PlusSign::Required)
                .unwrap()
                .e164(),
            "+14155550100"
        );
        assert_eq!(
            Phone::parse("60123456789", PlusSign::Optional)
                .unwrap()
                .digits(),
            "60123456789"
        );
    }

    /// A float-like or formatted string is refused, never read as another number.
    #[test]
    fn only_digits_after_an_optional_plus() {
        for input in [
            "14155550180.0",
            "+14155550196.0",
            "1.4155550180e10",
            "+1 (415) 555-0100",
            "+1-415-555-0100",
            "+1 4155550100",
            "14155550100 ",
            " 14155550100",
            "１4155550100",
        ] {
            for plus in [PlusSign::Required, PlusSign::Optional] {
                let got = Phone::parse(input, plus);
                assert!(
                    matches!(got, Err(PhoneError::NotDigits | PhoneError::MissingPlus)),
                    "{input:?} gave {got:?}"
                );
            }
        }
    }

    #[test]
    fn country_by_longest_calling_code() {
        assert_eq!(calling_code("US"), Some("1"));
        assert_eq!(calling_code("CA"), Some("1"));
        assert_eq!(calling_code("PK"), Some("92"));
        assert_eq!(calling_code("XX"), None);
        for (number, country) in [
            ("+14155550100", Some("US")),
            ("+14165550100", Some("CA")),
            ("+447700900123", Some("GB")),
            ("+919812345678", Some("IN")),
            ("+923001234567", Some("PK")),
            ("+60123456789", Some("MY")),
            ("+6281234567890", Some("ID")),
            ("+4915123456789", Some("DE")),
            ("+33612345678", Some("FR")),
            ("+2348012345678", Some("NG")),
            ("+5511912345678", Some("BR")),
            ("+79161234567", Some("RU")),
            ("+77011234567", Some("KZ")),
            ("+2991234567", None),
        ] {
            let phone = Phone::parse(number, PlusSign::Required).unwrap();
            assert_eq!(phone.country(), country, "{number}");
        }
    }

    #[test]
    fn rejects_bad_numbers() {
        for (input, error) in [
            ("", PhoneError::Empty),
            ("14155550100", PhoneError::MissingPlus),
            ("+1415abc0100", PhoneError::NotDigits),
            ("+1234567", PhoneError::WrongLength),
            ("+1234567890123456", PhoneError::WrongLength),
            ("+0123456789", PhoneError::WrongLength),
            ("++14155550100", PhoneError::NotDigits),
        ] {
            assert_eq!(
                Phone::parse(input, PlusSign::Required),
                Err(error),
                "{input:?}"
            );
        }
    }
}
