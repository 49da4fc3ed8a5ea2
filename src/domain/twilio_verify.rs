//! Twilio Verify v2 compatibility, the pure parts: Twilio-style SIDs, verification states,
//! channel names, the form fields the SDKs send, paging, dates, HTTP Basic credentials and
//! Twilio's error codes and envelope. The dialect (`/v2/Services…`) glues these to the OTP
//! engine; nothing here knows about the runtime.
use super::crypto::to_hex;
use super::ids::{random_bytes, RandomUnavailable};
use super::otp::Terminal;
use base64::Engine;
use serde_json::{json, Value};

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
}

impl SidKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SidKind::Account => "AC",
            SidKind::ApiKey => "SK",
            SidKind::Service => "VA",
            SidKind::Verification => "VE",
            SidKind::Attempt => "VL",
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

/// Twilio's dates: ISO 8601 in UTC to the second, `2015-07-30T20:00:00Z` (what the SDKs
/// parse with `YYYY-MM-DD[T]HH:mm:ss[Z]` / `%Y-%m-%dT%H:%M:%SZ`).
pub fn date(unix_ms: i64) -> String {
    super::time::rfc3339(unix_ms)
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

/// A `Channel` value: the OTP engine's channel for it, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelChoice {
    /// `sms`, `call` (the engine's `voice`) or `whatsapp`.
    Supported(&'static str),
    /// A Twilio channel otpedge does not deliver on (`email`, `sna`, `auto`).
    Unsupported,
    /// Not a Twilio channel at all.
    Unknown,
}

pub fn channel(input: &str) -> ChannelChoice {
    match input {
        "sms" => ChannelChoice::Supported("sms"),
        "call" => ChannelChoice::Supported("voice"),
        "whatsapp" => ChannelChoice::Supported("whatsapp"),
        "email" | "sna" | "auto" => ChannelChoice::Unsupported,
        _ => ChannelChoice::Unknown,
    }
}

/// The Twilio name of an engine channel (`voice` is `call`).
pub fn twilio_channel(engine: &str) -> &'static str {
    match engine {
        "voice" => "call",
        "whatsapp" => "whatsapp",
        _ => "sms",
    }
}

/// A form-urlencoded body (what the SDKs send), in order. Twilio's parameter names are
/// PascalCase; a name is matched exactly, and the first value of a repeated name counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Why a parameter is refused; the dialect turns it into 20001 / 60200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// A required parameter is absent (Twilio's 20001).
    Missing(&'static str),
    /// A parameter has a value Twilio would refuse (60200), with the reason.
    Invalid(&'static str, String),
}

impl ParamError {
    pub fn message(&self) -> String {
        match self {
            ParamError::Missing(name) => {
                format!("Missing required parameter {name} in the post body")
            }
            ParamError::Invalid(name, why) => format!("Invalid parameter `{name}`: {why}"),
        }
    }
}

pub const MIN_CODE_LENGTH: u32 = 4;
pub const MAX_CODE_LENGTH: u32 = 10;
pub const DEFAULT_CODE_LENGTH: u32 = 6;
/// Twilio shows the service name in the text and caps it at 30 characters.
pub const MAX_FRIENDLY_NAME: usize = 30;

/// `FriendlyName`: required on create, 1–30 characters.
pub fn friendly_name(input: Option<&str>) -> Result<String, ParamError> {
    let name = input.ok_or(ParamError::Missing("FriendlyName"))?;
    if name.chars().count() > MAX_FRIENDLY_NAME || name.chars().any(char::is_control) {
        return Err(ParamError::Invalid(
            "FriendlyName",
            format!("1 to {MAX_FRIENDLY_NAME} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

/// `CodeLength`: 4–10 digits, 6 when absent.
pub fn code_length(input: Option<&str>) -> Result<u32, ParamError> {
    match input {
        None => Ok(DEFAULT_CODE_LENGTH),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (MIN_CODE_LENGTH..=MAX_CODE_LENGTH).contains(n))
            .ok_or_else(|| {
                ParamError::Invalid(
                    "CodeLength",
                    format!(
                        "{v} is not a whole number from {MIN_CODE_LENGTH} to {MAX_CODE_LENGTH}"
                    ),
                )
            }),
    }
}

/// `CustomCode`: the caller's own code, 4–10 digits.
pub fn custom_code(input: Option<&str>) -> Result<Option<String>, ParamError> {
    match input {
        None => Ok(None),
        Some(v)
            if (MIN_CODE_LENGTH as usize..=MAX_CODE_LENGTH as usize).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(ParamError::Invalid(
            "CustomCode",
            format!("{MIN_CODE_LENGTH} to {MAX_CODE_LENGTH} digits"),
        )),
    }
}

/// `Status` of a verification update: what the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Cancel,
    Approve,
}

pub fn update(input: Option<&str>) -> Result<Update, ParamError> {
    match input {
        None => Err(ParamError::Missing("Status")),
        Some("canceled") => Ok(Update::Cancel),
        Some("approved") => Ok(Update::Approve),
        Some(other) => Err(ParamError::Invalid(
            "Status",
            format!("{other} is not one of canceled, approved"),
        )),
    }
}

/// A page of a list, as Twilio numbers them: `Page` from 0, `PageSize` 1–1000 (default 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

impl Paging {
    pub fn parse(page: Option<&str>, size: Option<&str>) -> Result<Paging, ParamError> {
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| ParamError::Invalid("PageSize", format!("1 to {MAX_PAGE_SIZE}")))?,
        };
        let page = match page {
            None => 0,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(|| ParamError::Invalid("Page", "a whole number from 0".to_owned()))?,
        };
        Ok(Paging { page, size })
    }

    pub fn offset(self) -> i64 {
        i64::from(self.page) * i64::from(self.size)
    }

    /// `meta` of a list answer; `list_url` is the list's absolute URL without a query, `key`
    /// the name of the array (`services`), `has_next` whether a further page has rows.
    pub fn meta(self, list_url: &str, key: &str, has_next: bool) -> Value {
        let url = |page: u32| format!("{list_url}?PageSize={}&Page={page}", self.size);
        json!({
            "page": self.page,
            "page_size": self.size,
            "first_page_url": url(0),
            "previous_page_url": (self.page > 0).then(|| url(self.page - 1)),
            "url": url(self.page),
            "next_page_url": has_next.then(|| url(self.page + 1)),
            "key": key,
        })
    }
}

/// `(username, password)` of an `Authorization: Basic …` header value.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Twilio's error codes this API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 20001, 400: a required parameter is missing.
    MissingParameter,
    /// 20003, 401: wrong or missing credentials.
    Authenticate,
    /// 20004, 405: method not allowed on the resource.
    MethodNotAllowed,
    /// 20404, 404: no such resource (or no pending verification to check).
    NotFound,
    /// 20429, 429: too many requests.
    TooManyRequests,
    /// 60200, 400: invalid parameter.
    InvalidParameter,
    /// 60202, 429: max check attempts reached.
    MaxCheckAttempts,
    /// 60203, 429: max send attempts reached.
    MaxSendAttempts,
    /// 60223, 400: the delivery channel is disabled on this deployment.
    ChannelDisabled,
}

impl ErrorCode {
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::MissingParameter => 20001,
            ErrorCode::Authenticate => 20003,
            ErrorCode::MethodNotAllowed => 20004,
            ErrorCode::NotFound => 20404,
            ErrorCode::TooManyRequests => 20429,
            ErrorCode::InvalidParameter => 60200,
            ErrorCode::MaxCheckAttempts => 60202,
            ErrorCode::MaxSendAttempts => 60203,
            ErrorCode::ChannelDisabled => 60223,
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MissingParameter
            | ErrorCode::InvalidParameter
            | ErrorCode::ChannelDisabled => 400,
            ErrorCode::Authenticate => 401,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::NotFound => 404,
            ErrorCode::TooManyRequests
            | ErrorCode::MaxCheckAttempts
            | ErrorCode::MaxSendAttempts => 429,
        }
    }

    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::MissingParameter => "Missing required parameter",
            ErrorCode::Authenticate => "Authenticate",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::NotFound => "The requested resource was not found",
            ErrorCode::TooManyRequests => "Too Many Requests",
            ErrorCode::InvalidParameter => "Invalid parameter",
            ErrorCode::MaxCheckAttempts => "Max check attempts reached",
            ErrorCode::MaxSendAttempts => "Max send attempts reached",
            ErrorCode::ChannelDisabled => "Delivery channel disabled",
        }
    }

    /// The Twilio code for an otpedge error code, where Twilio has one. Others keep
    /// otpedge's number (README "Error codes") and HTTP status in Twilio's envelope.
    pub fn for_otpedge(code: &str) -> Option<ErrorCode> {
        Some(match code {
            "1136" => ErrorCode::Authenticate,
            "2001" | "2008" => ErrorCode::NotFound,
            "2002" => ErrorCode::MethodNotAllowed,
            "2006" => ErrorCode::TooManyRequests,
            "2201" | "2202" => ErrorCode::MaxSendAttempts,
            "2206" => ErrorCode::MaxCheckAttempts,
            "1515" => ErrorCode::ChannelDisabled,
            "1523" | "1623" | "1631" | "1632" | "2003" | "2004" | "2015" => {
                ErrorCode::InvalidParameter
            }
            _ => return None,
        })
    }
}

/// Twilio's error envelope, which the SDKs turn into their exception (`RestException` in
/// Node, `TwilioRestException` in Python): `code`, `message`, `more_info`, `status`.
pub fn error_body(code: u32, status: u16, message: &str) -> Value {
    let more_info = (code >= 20_000).then(|| format!("https://www.twilio.com/docs/errors/{code}"));
    json!({"code": code, "message": message, "more_info": more_info, "status": status})
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
        assert!(
            !is_sid(SidKind::Service, "VE0123456789abcdef0123456789abcdef"),
            "wrong prefix"
        );
        assert!(
            !is_sid(SidKind::Service, "VA0123456789ABCDEF0123456789abcdef"),
            "upper-case hex"
        );
        assert!(
            !is_sid(SidKind::Service, "VA0123456789abcdef0123456789abcde"),
            "short"
        );
        assert!(
            !is_sid(SidKind::Service, "VA0123456789abcdef0123456789abcdef0"),
            "long"
        );
        assert!(
            !is_sid(SidKind::Service, "VA0123456789abcdef0123456789abcdeg"),
            "not hex"
        );
        assert!(!is_sid(SidKind::Account, ""));
        assert!(!is_sid(
            SidKind::Account,
            "AC/../../0123456789abcdef0123456789"
        ));
    }

    #[test]
    fn dates_are_iso_8601_to_the_second() {
        assert_eq!(date(1_438_286_400_000), "2015-07-30T20:00:00Z");
        assert_eq!(date(1_438_286_400_999), "2015-07-30T20:00:00Z");
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
    fn channels_map_to_the_engine() {
        assert_eq!(channel("sms"), ChannelChoice::Supported("sms"));
        assert_eq!(channel("call"), ChannelChoice::Supported("voice"));
        assert_eq!(channel("whatsapp"), ChannelChoice::Supported("whatsapp"));
        assert_eq!(channel("email"), ChannelChoice::Unsupported);
        assert_eq!(channel("SMS"), ChannelChoice::Unknown);
        assert_eq!(
            channel("voice"),
            ChannelChoice::Unknown,
            "Twilio calls it call"
        );
        assert_eq!(twilio_channel("voice"), "call");
        assert_eq!(twilio_channel("sms"), "sms");
        assert_eq!(twilio_channel("whatsapp"), "whatsapp");
    }

    #[test]
    fn forms_as_the_sdk_encodes_them() {
        let f = Form::parse(b"To=%2B14155550100&Channel=sms&FriendlyName=My+App&Code=&To=%2B1999");
        assert_eq!(
            f.get("To"),
            Some("+14155550100"),
            "the first of a repeated name"
        );
        assert_eq!(f.get("FriendlyName"), Some("My App"));
        assert_eq!(f.get("Code"), None, "empty is absent");
        assert_eq!(f.get("to"), None, "names are PascalCase, matched exactly");
        assert_eq!(Form::parse(b"").get("To"), None);
    }

    #[test]
    fn parameters() {
        assert_eq!(code_length(None), Ok(6));
        assert_eq!(code_length(Some("4")), Ok(4));
        assert_eq!(code_length(Some("10")), Ok(10));
        for bad in ["3", "11", "six", "-5", "6.0", ""] {
            assert!(
                matches!(
                    code_length(Some(bad)),
                    Err(ParamError::Invalid("CodeLength", _))
                ),
                "{bad}"
            );
        }
        assert_eq!(friendly_name(Some("My App")), Ok("My App".to_owned()));
        assert_eq!(
            friendly_name(None),
            Err(ParamError::Missing("FriendlyName"))
        );
        assert!(friendly_name(Some(&"x".repeat(31))).is_err());
        assert!(friendly_name(Some("a\nb")).is_err());
        assert_eq!(custom_code(Some("0042")), Ok(Some("0042".to_owned())));
        assert_eq!(custom_code(None), Ok(None));
        for bad in ["123", "12345678901", "12a4"] {
            assert!(custom_code(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(update(Some("canceled")), Ok(Update::Cancel));
        assert_eq!(update(Some("approved")), Ok(Update::Approve));
        assert!(matches!(
            update(Some("pending")),
            Err(ParamError::Invalid("Status", _))
        ));
        assert_eq!(update(None), Err(ParamError::Missing("Status")));
        assert_eq!(
            ParamError::Missing("To").message(),
            "Missing required parameter To in the post body"
        );
    }

    #[test]
    fn paging_and_meta() {
        assert_eq!(Paging::parse(None, None), Ok(Paging { page: 0, size: 50 }));
        assert_eq!(
            Paging::parse(Some("2"), Some("20")).map(Paging::offset),
            Ok(40)
        );
        assert!(Paging::parse(None, Some("0")).is_err());
        assert!(Paging::parse(None, Some("1001")).is_err());
        assert!(Paging::parse(Some("-1"), None).is_err());
        let meta = Paging { page: 1, size: 2 }.meta("https://h/v2/Services", "services", false);
        assert_eq!(meta["key"], "services");
        assert_eq!(meta["page"], 1);
        assert_eq!(meta["page_size"], 2);
        assert_eq!(meta["url"], "https://h/v2/Services?PageSize=2&Page=1");
        assert_eq!(
            meta["first_page_url"],
            "https://h/v2/Services?PageSize=2&Page=0"
        );
        assert_eq!(
            meta["previous_page_url"],
            "https://h/v2/Services?PageSize=2&Page=0"
        );
        assert_eq!(meta["next_page_url"], Value::Null);
        let first = Paging { page: 0, size: 2 }.meta("https://h/v2/Services", "services", true);
        assert_eq!(first["previous_page_url"], Value::Null);
        assert_eq!(
            first["next_page_url"],
            "https://h/v2/Services?PageSize=2&Page=1"
        );
    }

    #[test]
    fn basic_credentials_as_the_sdk_sends_them() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ACabc:key:with:colons")
        );
        assert_eq!(
            basic_credentials(&header),
            Some(("ACabc".to_owned(), "key:with:colons".to_owned()))
        );
        assert_eq!(
            basic_credentials("basic QUM6"),
            Some(("AC".to_owned(), String::new()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Basic QUM="), None, "no colon");
    }

    #[test]
    fn error_codes_and_envelope() {
        assert_eq!(
            (
                ErrorCode::Authenticate.code(),
                ErrorCode::Authenticate.status()
            ),
            (20003, 401)
        );
        assert_eq!(
            (ErrorCode::NotFound.code(), ErrorCode::NotFound.status()),
            (20404, 404)
        );
        assert_eq!(
            (
                ErrorCode::MaxCheckAttempts.code(),
                ErrorCode::MaxCheckAttempts.status()
            ),
            (60202, 429)
        );
        assert_eq!(
            (
                ErrorCode::MaxSendAttempts.code(),
                ErrorCode::MaxSendAttempts.status()
            ),
            (60203, 429)
        );
        assert_eq!(
            (
                ErrorCode::InvalidParameter.code(),
                ErrorCode::InvalidParameter.status()
            ),
            (60200, 400)
        );
        assert_eq!(
            ErrorCode::for_otpedge("1136"),
            Some(ErrorCode::Authenticate)
        );
        assert_eq!(
            ErrorCode::for_otpedge("2201"),
            Some(ErrorCode::MaxSendAttempts)
        );
        assert_eq!(
            ErrorCode::for_otpedge("2202"),
            Some(ErrorCode::MaxSendAttempts)
        );
        assert_eq!(ErrorCode::for_otpedge("2008"), Some(ErrorCode::NotFound));
        assert_eq!(
            ErrorCode::for_otpedge("2007"),
            None,
            "insufficient balance keeps otpedge's code"
        );
        let body = error_body(
            20404,
            404,
            "The requested resource /Services/VAx was not found",
        );
        assert_eq!(body["code"], 20404);
        assert_eq!(body["status"], 404);
        assert_eq!(
            body["more_info"],
            "https://www.twilio.com/docs/errors/20404"
        );
        assert_eq!(
            error_body(2007, 402, "Insufficient balance")["more_info"],
            Value::Null
        );
        // Not RFC 9457 (no `type`/`title`), so the Node SDK raises RestException.
        assert!(body.get("type").is_none() && body.get("title").is_none());
    }
}
