//! The query parameters of Twilio's Verification Attempts (`GET /v2/Attempts`, and its
//! `Summary`): each parsed here, or refused as Twilio would (60200, naming it).
use super::params::{channel, ChannelChoice, ParamError};
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::stats::AttemptFilter;
use crate::domain::time::parse_rfc3339;
use crate::domain::twilio_verify::{is_sid, SidKind};

/// How far back a list or summary reaches when `DateCreatedAfter` is left out.
const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

fn invalid(name: &'static str, why: &str) -> ParamError {
    ParamError::Invalid(name, why.to_owned())
}

fn time(name: &'static str, v: Option<String>) -> Result<Option<i64>, ParamError> {
    v.map(|t| parse_rfc3339(&t).ok_or_else(|| invalid(name, "an ISO 8601 date-time (UTC)")))
        .transpose()
}

fn sid(name: &'static str, kind: SidKind, v: Option<String>) -> Result<Option<String>, ParamError> {
    match v {
        Some(s) if is_sid(kind, &s) => Ok(Some(s)),
        Some(_) => Err(invalid(name, &format!("a {} sid", kind.prefix()))),
        None => Ok(None),
    }
}

/// The engine's channel of a Twilio `Channel` filter; one otpedge never sends on (`email`)
/// matches nothing.
fn channel_filter(v: Option<String>) -> Result<Option<String>, ParamError> {
    let Some(name) = v else { return Ok(None) };
    match channel(&name.to_ascii_lowercase()) {
        ChannelChoice::Supported(c) => Ok(Some(c.to_owned())),
        ChannelChoice::Unsupported => Ok(Some(name)),
        ChannelChoice::Unknown if name.eq_ignore_ascii_case("rbm") => Ok(Some(name)),
        ChannelChoice::Unknown => Err(invalid("Channel", "one of sms, call, whatsapp, email, rbm")),
    }
}

fn country(v: Option<String>) -> Result<Option<String>, ParamError> {
    let Some(c) = v else { return Ok(None) };
    let upper = c.to_ascii_uppercase();
    match upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
        true => Ok(Some(upper)),
        false => Err(invalid("Country", "an ISO 3166-1 alpha-2 country code")),
    }
}

fn status(v: Option<String>) -> Result<Option<bool>, ParamError> {
    match v.map(|s| s.to_ascii_uppercase()).as_deref() {
        None => Ok(None),
        Some("CONVERTED") => Ok(Some(true)),
        Some("UNCONVERTED") => Ok(Some(false)),
        Some(_) => Err(invalid("Status", "CONVERTED or UNCONVERTED")),
    }
}

fn prefix(v: Option<String>) -> Result<Option<String>, ParamError> {
    let Some(p) = v else { return Ok(None) };
    let digits = p.strip_prefix('+').unwrap_or(&p);
    let valid = (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    match valid {
        true => Ok(Some(format!("+{digits}"))),
        false => Err(invalid("DestinationPrefix", "a + and 1 to 15 digits")),
    }
}

fn to(v: Option<String>) -> Result<Option<String>, ParamError> {
    v.map(|t| {
        Phone::parse(&t, PlusSign::Required)
            .map(|p| p.e164().to_owned())
            .map_err(|e| invalid("ChannelData.To", &format!("{t}: {e}")))
    })
    .transpose()
}

/// The filters of a list (`summary` false) or a summary, read by `get`. Times default to the
/// last 30 days up to `now_ms`.
pub fn filter(
    get: impl Fn(&str) -> Option<String>,
    now_ms: i64,
    summary: bool,
) -> Result<AttemptFilter, ParamError> {
    let get = |name: &str| get(name).filter(|v| !v.is_empty());
    let before_ms = time("DateCreatedBefore", get("DateCreatedBefore"))?.unwrap_or(now_ms + 1);
    let after = time("DateCreatedAfter", get("DateCreatedAfter"))?;
    let mut f = AttemptFilter {
        after_ms: after.unwrap_or(before_ms - DEFAULT_DAYS * DAY_MS),
        before_ms,
        country: country(get("Country"))?,
        channel: channel_filter(get("Channel"))?,
        service_sid: sid(
            "VerifyServiceSid",
            SidKind::Service,
            get("VerifyServiceSid"),
        )?,
        ..AttemptFilter::default()
    };
    if summary {
        f.prefix = prefix(get("DestinationPrefix"))?;
    } else {
        f.to = to(get("ChannelData.To"))?;
        let verification = get("VerificationSid");
        f.verification_sid = sid("VerificationSid", SidKind::Verification, verification)?;
        f.converted = status(get("Status"))?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const NOW: i64 = 1_767_225_600_000;

    fn parse(pairs: &[(&str, &str)], summary: bool) -> Result<AttemptFilter, ParamError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        filter(|k| map.get(k).cloned(), NOW, summary)
    }

    #[test]
    fn defaults_to_the_last_30_days() {
        let f = parse(&[], false).unwrap();
        assert_eq!((f.after_ms, f.before_ms), (NOW + 1 - 30 * DAY_MS, NOW + 1));
        let f = parse(&[("DateCreatedAfter", "2025-12-31T00:00:00Z")], false).unwrap();
        assert_eq!(f.after_ms, NOW - DAY_MS);
    }

    #[test]
    fn filters() {
        let sid_ve = format!("VE{}", "a".repeat(32));
        let f = parse(
            &[
                ("Country", "us"),
                ("Channel", "call"),
                ("Status", "converted"),
                ("ChannelData.To", "+14155550100"),
                ("VerificationSid", &sid_ve),
            ],
            false,
        )
        .unwrap();
        assert_eq!(f.country.as_deref(), Some("US"));
        assert_eq!(f.channel.as_deref(), Some("voice"));
        assert_eq!(f.converted, Some(true));
        assert_eq!(f.to.as_deref(), Some("+14155550100"));
        assert_eq!(f.verification_sid, Some(sid_ve));
        let s = parse(&[("DestinationPrefix", "44")], true).unwrap();
        assert_eq!(s.prefix.as_deref(), Some("+44"));
    }

    #[test]
    fn bad_filters_name_their_parameter() {
        for (name, value) in [
            ("DateCreatedAfter", "yesterday"),
            ("Country", "USA"),
            ("Channel", "pigeon"),
            ("Status", "maybe"),
            ("VerifyServiceSid", "VA1"),
            ("VerificationSid", "VL00000000000000000000000000000000"),
            ("ChannelData.To", "12"),
        ] {
            match parse(&[(name, value)], false) {
                Err(ParamError::Invalid(field, _)) => assert_eq!(field, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(&[("DestinationPrefix", "+4x")], true),
            Err(ParamError::Invalid("DestinationPrefix", _))
        ));
    }
}
