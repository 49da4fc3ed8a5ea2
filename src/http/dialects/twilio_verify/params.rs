//! The parameters Twilio's SDKs send, read from their form fields: each is parsed here, or
//! refused with the reason Twilio would give (20001 missing, 60200 invalid).
use crate::domain::twilio_verify::{Paging, Update};
use crate::domain::verify_limits;

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

/// `RiskCheck` (`enable`, the default, or `disable`): whether the fraud guard decides the
/// send. Twilio honours `disable` on SMS only, so on other channels the guard still decides.
pub fn risk_check(input: Option<&str>, channel: &str) -> Result<bool, ParamError> {
    match input.map(str::to_ascii_lowercase).as_deref() {
        None | Some("enable") => Ok(true),
        Some("disable") => Ok(channel != "sms"),
        Some(_) => Err(ParamError::Invalid(
            "RiskCheck",
            "enable or disable".to_owned(),
        )),
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

/// `Status` of a verification update: `canceled` or `approved`.
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

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// `Page` (from 0) and `PageSize` (1–1000, default 50) of a list request.
pub fn paging(page: Option<&str>, size: Option<&str>) -> Result<Paging, ParamError> {
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

/// `RateLimits` of a verification: a JSON object of rate limit unique name → value.
pub fn rate_limits(input: Option<&str>) -> Result<Vec<(String, String)>, ParamError> {
    match input {
        None => Ok(Vec::new()),
        Some(json) => {
            verify_limits::parse_request(json).map_err(|why| ParamError::Invalid("RateLimits", why))
        }
    }
}

/// `Description` of a rate limit: up to 255 characters.
pub fn description(input: Option<&str>) -> Result<Option<String>, ParamError> {
    match input {
        Some(d) if d.chars().count() > verify_limits::MAX_DESCRIPTION => Err(ParamError::Invalid(
            "Description",
            "at most 255 characters".to_owned(),
        )),
        d => Ok(d.map(str::to_owned)),
    }
}

fn whole(name: &'static str, input: Option<&str>, max: i64) -> Result<Option<i64>, ParamError> {
    input
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| ParamError::Invalid(name, format!("a whole number from 1 to {max}")))
        })
        .transpose()
}

/// A bucket's `Max` (1–1,000,000) and `Interval` (seconds, 1–2,592,000), both `required`
/// on create; on update either may be absent.
pub fn allowance(
    max: Option<&str>,
    interval: Option<&str>,
    required: bool,
) -> Result<(Option<i64>, Option<i64>), ParamError> {
    if required && max.is_none() {
        return Err(ParamError::Missing("Max"));
    }
    if required && interval.is_none() {
        return Err(ParamError::Missing("Interval"));
    }
    Ok((
        whole("Max", max, verify_limits::MAX_MAX)?,
        whole("Interval", interval, verify_limits::MAX_INTERVAL_S)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn rate_limit_parameters() {
        assert_eq!(rate_limits(None), Ok(Vec::new()));
        assert_eq!(
            rate_limits(Some(r#"{"end_user_ip":"1.2.3.4"}"#)),
            Ok(vec![("end_user_ip".into(), "1.2.3.4".into())])
        );
        assert!(matches!(
            rate_limits(Some("{not json")),
            Err(ParamError::Invalid("RateLimits", _))
        ));
        assert_eq!(
            allowance(Some("2"), Some("60"), true),
            Ok((Some(2), Some(60)))
        );
        assert_eq!(allowance(None, Some("60"), false), Ok((None, Some(60))));
        assert_eq!(
            allowance(None, Some("60"), true),
            Err(ParamError::Missing("Max"))
        );
        assert_eq!(
            allowance(Some("2"), None, true),
            Err(ParamError::Missing("Interval"))
        );
        for (max, interval) in [
            ("0", "60"),
            ("-1", "60"),
            ("2", "0"),
            ("2", "x"),
            ("1.5", "1"),
        ] {
            assert!(
                matches!(
                    allowance(Some(max), Some(interval), true),
                    Err(ParamError::Invalid(..))
                ),
                "{max} {interval}"
            );
        }
        assert!(description(Some(&"d".repeat(256))).is_err());
        assert_eq!(description(Some("per IP")), Ok(Some("per IP".into())));
    }

    #[test]
    fn paging_parameters() {
        assert_eq!(paging(None, None), Ok(Paging { page: 0, size: 50 }));
        assert_eq!(paging(Some("2"), Some("20")).map(Paging::offset), Ok(40));
        assert!(paging(None, Some("0")).is_err());
        assert!(paging(None, Some("1001")).is_err());
        assert!(paging(Some("-1"), None).is_err());
    }
}
