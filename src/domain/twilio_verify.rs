//! Twilio Verify's rules: Twilio-style SIDs, a verification's states, the Twilio name of
//! an engine channel and the page of a list. The wire format (form fields, JSON, errors)
//! is the dialect's (`http::dialects::twilio_verify`); nothing here knows about the runtime.
use super::crypto::to_hex;
use super::ids::{random_bytes, RandomUnavailable};
use super::otp::Terminal;

/// Hex digits after the two-letter prefix of every SID.
pub const SID_HEX_LEN: usize = 32;

/// The kinds of SID this API hands out or accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidKind {
    /// An account (`AC…`): the HTTP Basic username, `account_sid` in every answer.
    Account,
    /// An API key (`SK…`): the other accepted username.
    ApiKey,
    /// A Verify service (`VA…`).
    Service,
    /// A verification (`VE…`).
    Verification,
    /// One send of a verification (`VL…`, `attempt_sid`); also its OTP session's id.
    Attempt,
    /// A safe-listed number (`GN…`).
    SafeList,
    /// A service's rate limit (`RK…`).
    RateLimit,
    /// A bucket of a rate limit (`BL…`).
    Bucket,
}

impl SidKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SidKind::Account => "AC",
            SidKind::ApiKey => "SK",
            SidKind::Service => "VA",
            SidKind::Verification => "VE",
            SidKind::Attempt => "VL",
            SidKind::SafeList => "GN",
            SidKind::RateLimit => "RK",
            SidKind::Bucket => "BL",
        }
    }
}

/// A new SID: the kind's prefix and 32 lowercase hex digits (128 random bits).
pub fn new_sid(kind: SidKind) -> Result<String, RandomUnavailable> {
    Ok(format!(
        "{}{}",
        kind.prefix(),
        to_hex(&random_bytes::<16>()?)
    ))
}

/// Whether `candidate` is a SID of this kind as we write them (lowercase hex).
pub fn is_sid(kind: SidKind, candidate: &str) -> bool {
    candidate.len() == 2 + SID_HEX_LEN
        && candidate.starts_with(kind.prefix())
        && candidate
            .bytes()
            .skip(2)
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A verification's status as Twilio names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Canceled,
    MaxAttemptsReached,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Canceled => "canceled",
            Status::MaxAttemptsReached => "max_attempts_reached",
            Status::Expired => "expired",
        }
    }

    /// Only a pending verification takes checks, resends and status updates.
    pub fn is_pending(self) -> bool {
        self == Status::Pending
    }
}

/// The status from the OTP session of the latest send (its terminal state, if any) and the
/// verification's own cancel. An approval stands even if a cancel came after it.
pub fn status(canceled: bool, session: Option<Terminal>) -> Status {
    match (session, canceled) {
        (Some(Terminal::AlreadyVerified), _) => Status::Approved,
        (_, true) => Status::Canceled,
        (Some(Terminal::MaxAttempts), _) => Status::MaxAttemptsReached,
        (Some(Terminal::Expired), _) => Status::Expired,
        (None, false) => Status::Pending,
    }
}

/// What an update asks of a pending verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Cancel,
    Approve,
}

/// The Twilio name of an engine channel (`voice` is `call`).
pub fn twilio_channel(engine: &str) -> &'static str {
    match engine {
        "voice" => "call",
        "whatsapp" => "whatsapp",
        _ => "sms",
    }
}

/// A page of a list, as Twilio numbers them: page `page` (from 0) of `size` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

impl Paging {
    pub fn offset(self) -> i64 {
        i64::from(self.page) * i64::from(self.size)
    }
}

/// A Verify service of an account.
#[derive(Debug, Clone)]
pub struct Service {
    pub sid: String,
    pub account_id: String,
    pub friendly_name: String,
    pub code_length: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A verification with the OTP session of its latest recorded send.
#[derive(Debug, Clone)]
pub struct VerificationRecord {
    pub sid: String,
    pub service_sid: String,
    pub to_phone: String,
    pub created_at: i64,
    pub canceled_at: Option<i64>,
    /// Twilio's channel name of the latest send.
    pub channel: String,
    pub session_id: String,
    pub sent_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub verified_at: Option<i64>,
}

/// One recorded send of a verification.
#[derive(Debug, Clone)]
pub struct Send {
    pub session_id: String,
    pub channel: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_have_their_prefix_and_32_lowercase_hex() {
        for kind in [
            SidKind::Account,
            SidKind::ApiKey,
            SidKind::Service,
            SidKind::Verification,
            SidKind::Attempt,
            SidKind::RateLimit,
            SidKind::Bucket,
        ] {
            let a = new_sid(kind).unwrap();
            let b = new_sid(kind).unwrap();
            assert_eq!(a.len(), 34);
            assert!(a.starts_with(kind.prefix()));
            assert!(is_sid(kind, &a), "{a}");
            assert_ne!(a, b);
        }
        assert!(is_sid(
            SidKind::Service,
            "VA0123456789abcdef0123456789abcdef"
        ));
        for (sid, why) in [
            ("VE0123456789abcdef0123456789abcdef", "wrong prefix"),
            ("VA0123456789ABCDEF0123456789abcdef", "upper-case hex"),
            ("VA0123456789abcdef0123456789abcde", "short"),
            ("VA0123456789abcdef0123456789abcdef0", "long"),
            ("VA0123456789abcdef0123456789abcdeg", "not hex"),
        ] {
            assert!(!is_sid(SidKind::Service, sid), "{why}");
        }
        assert!(!is_sid(SidKind::Account, ""));
        assert!(!is_sid(
            SidKind::Account,
            "AC/../../0123456789abcdef0123456789"
        ));
    }

    #[test]
    fn status_follows_the_latest_session_and_the_cancel() {
        assert_eq!(status(false, None), Status::Pending);
        assert_eq!(status(true, None), Status::Canceled);
        assert_eq!(
            status(false, Some(Terminal::AlreadyVerified)),
            Status::Approved
        );
        assert_eq!(
            status(true, Some(Terminal::AlreadyVerified)),
            Status::Approved
        );
        assert_eq!(
            status(false, Some(Terminal::MaxAttempts)),
            Status::MaxAttemptsReached
        );
        assert_eq!(status(true, Some(Terminal::MaxAttempts)), Status::Canceled);
        assert_eq!(status(false, Some(Terminal::Expired)), Status::Expired);
        assert_eq!(Status::MaxAttemptsReached.as_str(), "max_attempts_reached");
        assert!(Status::Pending.is_pending());
        assert!(!Status::Canceled.is_pending());
    }

    #[test]
    fn engine_channels_by_their_twilio_names() {
        assert_eq!(twilio_channel("voice"), "call");
        assert_eq!(twilio_channel("sms"), "sms");
        assert_eq!(twilio_channel("whatsapp"), "whatsapp");
    }

    #[test]
    fn a_page_starts_after_the_pages_before_it() {
        assert_eq!(Paging { page: 0, size: 50 }.offset(), 0);
        assert_eq!(Paging { page: 2, size: 20 }.offset(), 40);
    }
}
