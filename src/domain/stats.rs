//! Statistics queries: what they group by, the UTC days they cover, and the rates they show.
//! The counts come from rollups per account and UTC day (migration `0015_stats_rollups`).
use super::time::{parse_rfc3339, rfc3339};

/// The longest range one query may cover, in days.
pub const MAX_RANGE_DAYS: i64 = 400;
/// The range when `from` is left out: this many days up to `to`.
pub const DEFAULT_RANGE_DAYS: i64 = 30;

const DAY_MS: i64 = 86_400_000;

/// What OTP statistics are grouped by (`group_by`), and the rollup column each reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpGroup {
    Day,
    Country,
    Channel,
    Prefix,
    ApiKey,
    /// The front door that sent it (`whatotp`, `getotp`, `message`, `twilio`, `vonage`,
    /// `prelude`).
    Door,
}

impl OtpGroup {
    pub fn parse(name: &str) -> Option<OtpGroup> {
        Some(match name {
            "day" => OtpGroup::Day,
            "country" => OtpGroup::Country,
            "channel" => OtpGroup::Channel,
            "prefix" => OtpGroup::Prefix,
            "api_key" => OtpGroup::ApiKey,
            "door" => OtpGroup::Door,
            _ => return None,
        })
    }

    pub fn column(self) -> &'static str {
        match self {
            OtpGroup::Day => "day",
            OtpGroup::Country => "country",
            OtpGroup::Channel => "channel",
            OtpGroup::Prefix => "prefix",
            OtpGroup::ApiKey => "api_key",
            OtpGroup::Door => "door",
        }
    }
}

/// What activation statistics are grouped by (`group_by`), and the rollup column each reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationGroup {
    Day,
    Service,
    Country,
    Operator,
}

impl ActivationGroup {
    pub fn parse(name: &str) -> Option<ActivationGroup> {
        Some(match name {
            "day" => ActivationGroup::Day,
            "service" => ActivationGroup::Service,
            "country" => ActivationGroup::Country,
            "operator" => ActivationGroup::Operator,
            _ => return None,
        })
    }

    pub fn column(self) -> &'static str {
        match self {
            ActivationGroup::Day => "day",
            ActivationGroup::Service => "service",
            ActivationGroup::Country => "country",
            ActivationGroup::Operator => "operator",
        }
    }
}

/// The UTC days a query covers, both included, as `YYYY-MM-DD` (the rollups' `day`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: String,
    pub to: String,
}

/// A bad filter: the field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub field: &'static str,
    pub message: String,
}

impl FilterError {
    fn new(field: &'static str, rule: &str) -> FilterError {
        FilterError {
            field,
            message: format!("'{field}' {rule}"),
        }
    }
}

/// The UTC day (ms at its start) of `YYYY-MM-DD` or of an RFC 3339 date-time.
fn day_of(field: &'static str, text: &str) -> Result<i64, FilterError> {
    let text = text.trim();
    let ms = if text.len() == 10 {
        parse_rfc3339(&format!("{text}T00:00:00Z"))
    } else {
        parse_rfc3339(text)
    };
    ms.map(|ms| ms.div_euclid(DAY_MS) * DAY_MS)
        .ok_or_else(|| FilterError::new(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// `YYYY-MM-DD` of a UTC day.
pub fn day_text(unix_ms: i64) -> String {
    rfc3339(unix_ms).chars().take(10).collect()
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|v| !v.trim().is_empty())
}

/// The range of `from` and `to` (dates or RFC 3339 times; their UTC days, both included).
/// `to` defaults to today, `from` to the 30 days ending at `to`. Refused: a bad date,
/// `from` after `to`, a range over 400 days.
pub fn range(from: Option<&str>, to: Option<&str>, now_ms: i64) -> Result<Range, FilterError> {
    let to = match present(to) {
        Some(t) => day_of("to", t)?,
        None => now_ms.div_euclid(DAY_MS) * DAY_MS,
    };
    let from = match present(from) {
        Some(f) => day_of("from", f)?,
        None => to - (DEFAULT_RANGE_DAYS - 1) * DAY_MS,
    };
    if from > to {
        return Err(FilterError::new("from", "must not be after 'to'"));
    }
    if (to - from) / DAY_MS + 1 > MAX_RANGE_DAYS {
        let rule = format!("must be at most {MAX_RANGE_DAYS} days before 'to'");
        return Err(FilterError::new("from", &rule));
    }
    Ok(Range {
        from: day_text(from),
        to: day_text(to),
    })
}

/// OTP counters of one group (`key`: the day, country, channel, prefix or API key id;
/// `""` where it is unknown).
#[derive(Debug, Clone)]
pub struct OtpStats {
    pub key: String,
    pub sends: i64,
    pub verified: i64,
    pub blocked: i64,
    pub spend: i64,
}

/// Activation counters of one group (`key`: the day, service, country or operator).
#[derive(Debug, Clone)]
pub struct ActivationStats {
    pub key: String,
    pub orders: i64,
    pub sms_received: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub expired: i64,
    pub refunded: i64,
    pub spend: i64,
}

/// A Twilio Verify send, as its Verification Attempts resource shows it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub sid: String,
    pub service_sid: String,
    pub verification_sid: String,
    /// Twilio's name of the channel (`sms`, `call`, `whatsapp`).
    pub channel: String,
    pub to_phone: String,
    pub country: Option<String>,
    pub cost: i64,
    pub created_at: i64,
    pub verified_at: Option<i64>,
}

/// Which Twilio Verify sends a list or summary covers: created in `[after_ms, before_ms)`,
/// and each filter given.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub after_ms: i64,
    pub before_ms: i64,
    pub to: Option<String>,
    pub country: Option<String>,
    /// The engine's channel (`sms`, `voice`, `whatsapp`).
    pub channel: Option<String>,
    /// The destination's leading characters (`+44`; summaries only).
    pub prefix: Option<String>,
    pub service_sid: Option<String>,
    pub verification_sid: Option<String>,
    /// `Some(true)`: verified sends only; `Some(false)`: the others.
    pub converted: Option<bool>,
}

/// Twilio Verify sends and how many of them were verified.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conversion {
    pub attempts: i64,
    pub converted: i64,
}

/// Where a list page starts: after the send created at `created_at` with id `sid` (newest
/// first), written `PT<created_at>_<sid>` in Twilio's `PageToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    pub created_at: i64,
    pub sid: String,
}

impl PageToken {
    pub fn parse(text: &str) -> Option<PageToken> {
        let (at, sid) = text.strip_prefix("PT")?.split_once('_')?;
        let created_at = at.parse::<i64>().ok().filter(|n| *n >= 0)?;
        let valid = !sid.is_empty() && sid.len() <= 64;
        valid.then(|| PageToken {
            created_at,
            sid: sid.to_owned(),
        })
    }

    pub fn text(&self) -> String {
        format!("PT{}_{}", self.created_at, self.sid)
    }
}

/// How a summary over `[after_ms, before_ms)` is counted: the whole UTC days inside it from
/// the rollups, and the parts of days at its edges (at most two spans) from the sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub days: Option<Range>,
    pub spans: Vec<(i64, i64)>,
}

pub fn split(after_ms: i64, before_ms: i64) -> Split {
    let first = (after_ms + DAY_MS - 1).div_euclid(DAY_MS) * DAY_MS;
    let end = before_ms.div_euclid(DAY_MS) * DAY_MS;
    if after_ms >= before_ms {
        return Split {
            days: None,
            spans: Vec::new(),
        };
    }
    if first >= end {
        return Split {
            days: None,
            spans: vec![(after_ms, before_ms)],
        };
    }
    let spans = [(after_ms, first), (end, before_ms)]
        .into_iter()
        .filter(|(a, b)| a < b)
        .collect();
    Split {
        days: Some(Range {
            from: day_text(first),
            to: day_text(end - DAY_MS),
        }),
        spans,
    }
}

/// `part / whole` rounded to 4 decimals (0 when `whole` is 0).
pub fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}

/// `part / whole` as a percentage with 2 decimals, as Twilio writes it (`"33.33"`).
pub fn percentage(part: i64, whole: i64) -> String {
    format!("{:.2}", rate(part, whole) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600_000 + 3_600_000; // 2026-01-01T01:00:00Z

    #[test]
    fn default_range_is_the_last_30_days() {
        let r = range(None, None, NOW).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str()),
            ("2025-12-03", "2026-01-01")
        );
        let r = range(Some("2025-12-31T23:59:59Z"), Some("2026-01-01"), NOW).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str()),
            ("2025-12-31", "2026-01-01")
        );
    }

    #[test]
    fn bad_ranges_name_their_field() {
        let err = |f, t| range(f, t, NOW).unwrap_err().field;
        assert_eq!(err(Some("2026-02-01"), Some("2026-01-01")), "from");
        assert_eq!(err(Some("2024-01-01"), Some("2026-01-01")), "from");
        assert_eq!(err(Some("yesterday"), None), "from");
        assert_eq!(err(None, Some("2026-13-01")), "to");
        // 400 days, both included, is the most.
        assert!(range(Some("2025-01-01"), Some("2026-02-04"), NOW).is_ok());
        assert_eq!(err(Some("2025-01-01"), Some("2026-02-05")), "from");
    }

    #[test]
    fn summaries_split_into_whole_days_and_edges() {
        let day = |d: i64| 1_767_225_600_000 + d * DAY_MS; // 2026-01-01 + d days
        let s = split(day(0) + 5, day(3) + 7);
        let days = s.days.unwrap();
        assert_eq!(
            (days.from.as_str(), days.to.as_str()),
            ("2026-01-02", "2026-01-03")
        );
        assert_eq!(s.spans, vec![(day(0) + 5, day(1)), (day(3), day(3) + 7)]);
        let whole = split(day(0), day(2));
        assert_eq!(whole.days.unwrap().to, "2026-01-02");
        assert!(whole.spans.is_empty());
        assert_eq!(
            split(day(0) + 1, day(1) - 1).spans,
            vec![(day(0) + 1, day(1) - 1)]
        );
        assert_eq!(split(day(1), day(0)).spans, vec![]);
    }

    #[test]
    fn page_tokens() {
        let t = PageToken::parse("PT1767225600000_VLabc").unwrap();
        assert_eq!((t.created_at, t.sid.as_str()), (1_767_225_600_000, "VLabc"));
        assert_eq!(t.text(), "PT1767225600000_VLabc");
        for bad in ["", "PT", "PT12", "PTx_VL", "PT-1_VL", "1_VL", "PT1_"] {
            assert_eq!(PageToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn groups_and_rates() {
        assert_eq!(
            OtpGroup::parse("api_key").map(OtpGroup::column),
            Some("api_key")
        );
        assert_eq!(OtpGroup::parse("door").map(OtpGroup::column), Some("door"));
        assert_eq!(OtpGroup::parse("service"), None);
        assert_eq!(
            ActivationGroup::parse("operator"),
            Some(ActivationGroup::Operator)
        );
        assert_eq!(ActivationGroup::parse("prefix"), None);
        assert_eq!(rate(1, 3), 0.3333);
        assert_eq!(rate(1, 0), 0.0);
        assert_eq!(percentage(1, 3), "33.33");
        assert_eq!(percentage(0, 0), "0.00");
    }
}
