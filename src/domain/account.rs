//! Customer sign-up rules: email normalisation, the password policy (NIST SP 800-63B:
//! 8–128 characters, not a common password, not the account's own email), the display
//! name, and whether new accounts need the operator's approval.
use super::error::{AppError, Code};
use std::fmt;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_NAME_CHARS: usize = 255;
/// Unrevoked API keys an account may hold at once (so a leaked session cannot mint keys
/// without bound, and a list stays short).
pub const MAX_LIVE_KEYS: u32 = 20;
/// A key's name: 1–100 characters (`api_keys.name`); "API key" when none is given.
pub const MAX_KEY_NAME_CHARS: usize = 100;

/// The 3000 most common passwords of 8 characters or more, lower-case, one a line, in byte
/// order (sorted, the list compresses to 2 KB less in the Worker's gzipped wasm): the head
/// of the list Django ships with its password validator (BSD licence; compiled by Royce
/// Williams from breach corpora), shorter ones dropped since the length rule already
/// refuses them.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A trimmed, lower-cased email address that passed [`Email::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidEmail;

impl fmt::Display for InvalidEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'email' must be an email address such as name@example.com \
             (at most {MAX_EMAIL_CHARS} characters)"
        )
    }
}

impl Email {
    /// Trims, lower-cases, and checks the shape: one `@`, a local part of 1–64 characters, a
    /// domain with at least one dot and no empty label, no spaces or control characters.
    /// Lower-casing makes the address case-insensitive for login and uniqueness.
    pub fn parse(input: &str) -> Result<Email, InvalidEmail> {
        let email = input.trim().to_lowercase();
        let chars = email.chars().count();
        if !(3..=MAX_EMAIL_CHARS).contains(&chars) {
            return Err(InvalidEmail);
        }
        let (local, domain) = email.split_once('@').ok_or(InvalidEmail)?;
        let forbidden =
            |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"@".contains(c);
        let local_ok = (1..=64).contains(&local.chars().count()) && !local.chars().any(forbidden);
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
            && !domain.chars().any(forbidden);
        if local_ok && domain_ok {
            Ok(Email(email))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRejected {
    TooShort,
    TooLong,
    Common,
    SameAsEmail,
}

impl fmt::Display for PasswordRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordRejected::TooShort => {
                write!(
                    f,
                    "the password must be at least {MIN_PASSWORD_CHARS} characters long"
                )
            }
            PasswordRejected::TooLong => {
                write!(
                    f,
                    "the password must be at most {MAX_PASSWORD_CHARS} characters long"
                )
            }
            PasswordRejected::Common => f.write_str(
                "this password is too common (it is on a list of passwords leaked in breaches); \
                 choose another",
            ),
            PasswordRejected::SameAsEmail => {
                f.write_str("the password must not be your email address")
            }
        }
    }
}

/// Whether `password` is on the shipped common-password list (case-insensitively).
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS.lines().any(|line| line == lower)
}

/// NIST SP 800-63B §5.1.1.2: length in characters (Unicode code points), no composition
/// rules, checked against a list of commonly used passwords and the account's own email.
/// Every character is allowed, spaces included; nothing is trimmed.
pub fn check_password(password: &str, email: Option<&Email>) -> Result<(), PasswordRejected> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordRejected::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordRejected::TooLong);
    }
    if let Some(email) = email {
        let lower = password.to_lowercase();
        if lower == email.as_str() || lower == email.local_part() {
            return Err(PasswordRejected::SameAsEmail);
        }
    }
    if is_common_password(password) {
        return Err(PasswordRejected::Common);
    }
    Ok(())
}

/// The account's display name: trimmed, 1–255 characters; when absent or blank, the
/// email's local part.
pub fn display_name(name: Option<&str>, email: &Email) -> Result<String, String> {
    let trimmed = name.map(str::trim).unwrap_or_default();
    let chosen = if trimmed.is_empty() {
        email.local_part()
    } else {
        trimmed
    };
    super::text::label("name", chosen, MAX_NAME_CHARS)
}

/// A key's name: trimmed, 1–100 characters, "API key" when absent or blank.
pub fn key_name(name: Option<&str>) -> Result<String, String> {
    let trimmed = name.map(str::trim).unwrap_or_default();
    if trimmed.is_empty() {
        return Ok("API key".to_owned());
    }
    if trimmed.chars().count() > MAX_KEY_NAME_CHARS || trimmed.chars().any(char::is_control) {
        return Err(format!(
            "'name' must be 1 to {MAX_KEY_NAME_CHARS} characters, without control characters"
        ));
    }
    Ok(trimmed.to_owned())
}

/// An API key as its holder sees it (never the secret).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub name: Option<String>,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// Times in ms.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Its scopes as stored (`domain::scope`); `None`: every scope.
    pub scopes: Option<String>,
    /// Its own caps and what it paid against them.
    pub spending: Spending,
}

/// Spend caps in minor units per UTC day and per UTC month (`None`: no cap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpendCaps {
    pub daily: Option<i64>,
    pub monthly: Option<i64>,
}

/// Spend caps and what was spent against them in the current UTC day and month (refunds
/// given back), in minor units: an account's or one of its keys'.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spending {
    pub caps: SpendCaps,
    pub today: i64,
    pub this_month: i64,
}

/// A key just created: the plain key is in this answer and nowhere else.
pub struct NewKey {
    pub key: ApiKey,
    pub api_key: String,
    /// The key's `SK…` sid (Twilio Verify's other username).
    pub twilio_sid: String,
}

/// An account as its owner sees it, with its wallet.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// The account may move money.
    pub approved: bool,
    pub status: String,
    pub created_at: String,
    pub balance: i64,
    pub currency: String,
    /// The `AC…` sid (Twilio Verify's username).
    pub twilio_sid: Option<String>,
}

/// One line of the operator's account list.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub account_id: String,
    pub email: Option<String>,
    pub name: String,
    pub approved: bool,
    pub status: String,
    pub balance: i64,
    pub currency: String,
    pub created_at: String,
}

/// Refuses a money move (403, 2405) while the account awaits the operator's approval.
pub fn require_approved(approved: bool) -> Result<(), AppError> {
    if approved {
        Ok(())
    } else {
        Err(AppError::of(Code::NotApproved))
    }
}

/// `SIGNUP_APPROVAL`: may a self-registered account move money at once (`auto`), or only
/// after the operator approves it (`manual`)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupApproval {
    Auto,
    Manual,
}

impl SignupApproval {
    /// `auto` or `manual`, any case; anything else is refused (a typo must not silently
    /// open sign-ups).
    pub fn parse(value: &str) -> Option<SignupApproval> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(SignupApproval::Auto),
            "manual" => Some(SignupApproval::Manual),
            _ => None,
        }
    }

    /// Whether a newly registered account starts approved.
    pub fn starts_approved(self) -> bool {
        self == SignupApproval::Auto
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        let e = Email::parse("  Alice.Smith+otp@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "alice.smith+otp@example.com");
        assert_eq!(e.local_part(), "alice.smith+otp");
        assert_eq!(
            Email::parse("ALICE@EXAMPLE.COM"),
            Email::parse("alice@example.com")
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "a b@example.com",
            "alice@exa mple.com",
            "a@b@example.com",
            "alice@.example.com",
            "alice@example..com",
            "alice@-example.com",
            "alice@example.com\u{0}",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(Email::parse(&long).is_err());
        assert!(Email::parse("ünïcode@exämple.org").is_ok());
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert_eq!(
            check_password("Xk7#q2p", None),
            Err(PasswordRejected::TooShort)
        );
        assert_eq!(check_password("Xk7#q2pz", None), Ok(()));
        // 8 characters, 16 bytes: long enough.
        assert_eq!(check_password("ключзамк", None), Ok(()));
        assert_eq!(check_password(&"x7".repeat(64), None), Ok(()));
        assert_eq!(
            check_password(&format!("{}y", "x7".repeat(64)), None),
            Err(PasswordRejected::TooLong)
        );
        // Spaces count and are kept.
        assert_eq!(check_password("  Xk7#q ", None), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        for common in [
            "password",
            "PASSWORD1",
            "12345678",
            "iloveyou",
            "Qwertyuiop",
            "1q2w3e4r5t",
        ] {
            assert_eq!(
                check_password(common, None),
                Err(PasswordRejected::Common),
                "{common}"
            );
        }
        assert_eq!(COMMON_PASSWORDS.lines().count(), 3000);
        assert!(COMMON_PASSWORDS.lines().all(|l| l == l.to_lowercase()));
        let lines: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(!is_common_password("correct horse battery staple"));
    }

    #[test]
    fn the_email_is_not_a_password() {
        let e = Email::parse("longname@example.com").unwrap();
        assert_eq!(
            check_password("LongName@example.com", Some(&e)),
            Err(PasswordRejected::SameAsEmail)
        );
        assert_eq!(
            check_password("longname", Some(&e)),
            Err(PasswordRejected::SameAsEmail)
        );
        assert_eq!(check_password("longname-but-more", Some(&e)), Ok(()));
    }

    #[test]
    fn names_default_to_the_local_part() {
        let e = Email::parse("bob@example.com").unwrap();
        assert_eq!(display_name(None, &e).unwrap(), "bob");
        assert_eq!(display_name(Some("   "), &e).unwrap(), "bob");
        assert_eq!(
            display_name(Some("  Bob's Shop "), &e).unwrap(),
            "Bob's Shop"
        );
        assert!(display_name(Some(&"x".repeat(256)), &e).is_err());
        assert!(display_name(Some("\u{0}acme"), &e).is_err());
        assert!(display_name(Some("ac\u{7}me"), &e).is_err());
    }

    #[test]
    fn key_names() {
        assert_eq!(key_name(None).unwrap(), "API key");
        assert_eq!(key_name(Some("  ")).unwrap(), "API key");
        assert_eq!(key_name(Some(" production ")).unwrap(), "production");
        assert!(key_name(Some(&"x".repeat(101))).is_err());
        assert!(key_name(Some("a\nb")).is_err());
    }

    #[test]
    fn signup_approval_values() {
        assert_eq!(SignupApproval::parse("auto"), Some(SignupApproval::Auto));
        assert_eq!(
            SignupApproval::parse(" Manual "),
            Some(SignupApproval::Manual)
        );
        assert_eq!(SignupApproval::parse("yes"), None);
        assert!(SignupApproval::Auto.starts_approved());
        assert!(!SignupApproval::Manual.starts_approved());
    }
}
