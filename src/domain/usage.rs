//! Usage alerts: an account is told (a `usage.threshold_crossed` webhook event, and a notice
//! the dashboard shows) when its spend in a UTC day or UTC month reaches a threshold: an
//! amount, or a percentage of the account's spend cap for that period. Each alert crosses at
//! most once per period. Spend periods are named as the `spend` table names them:
//! `d:YYYY-MM-DD` and `m:YYYY-MM`.
use super::money::Money;
use super::time::rfc3339;
use serde_json::Value;

/// The most alerts an account may hold.
pub const MAX_ALERTS: u32 = 20;

/// Which spend an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Monthly,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Monthly => "monthly",
        }
    }

    pub fn parse(name: &str) -> Option<Period> {
        match name {
            "daily" => Some(Period::Daily),
            "monthly" => Some(Period::Monthly),
            _ => None,
        }
    }

    /// The spend period (as stored) of this kind that holds `now_ms`.
    pub fn key(self, now_ms: i64) -> String {
        let date = rfc3339(now_ms);
        match self {
            Period::Daily => format!("d:{}", date.get(..10).unwrap_or_default()),
            Period::Monthly => format!("m:{}", date.get(..7).unwrap_or_default()),
        }
    }

    /// The kind of a stored spend period (`d:…` daily, else monthly).
    pub fn of_key(key: &str) -> Period {
        if key.starts_with("d:") {
            Period::Daily
        } else {
            Period::Monthly
        }
    }
}

/// The start of a stored spend period (`2026-12-03` of `d:2026-12-03`).
pub fn period_start(key: &str) -> &str {
    key.get(2..).unwrap_or_default()
}

/// A stored spend period as a number (`d:2026-12-03` → 20261203), to tell an alert's
/// crossings in different periods apart.
pub fn period_number(key: &str) -> i64 {
    period_start(key)
        .chars()
        .filter(char::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10)
                .saturating_add(i64::from(d.to_digit(10).unwrap_or(0)))
        })
}

/// What an alert waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An amount spent in the period.
    Threshold(Money),
    /// A percentage (1 to 100) of the account's cap for the period.
    PercentOfCap(u8),
}

/// A new alert's fields, as given: `threshold` (money) or `percent_of_cap` (1..100), one of
/// the two, and `period`. The error names the field.
pub fn parse(body: &serde_json::Map<String, Value>) -> Result<(Trigger, Period), String> {
    let given = |f: &str| body.get(f).filter(|v| !v.is_null());
    let trigger = match (given("threshold"), given("percent_of_cap")) {
        (Some(_), Some(_)) => {
            return Err("give 'threshold' or 'percent_of_cap', not both".to_owned());
        }
        (None, None) => return Err("'threshold' or 'percent_of_cap' is required".to_owned()),
        (Some(v), None) => match Money::parse_json(v) {
            Ok(m) if m.is_positive() => Trigger::Threshold(m),
            Ok(_) => return Err("'threshold' must be above zero".to_owned()),
            Err(e) => return Err(format!("'threshold': {e}")),
        },
        (None, Some(v)) => match v.as_u64().and_then(|n| u8::try_from(n).ok()) {
            Some(p) if (1..=100).contains(&p) => Trigger::PercentOfCap(p),
            _ => return Err("'percent_of_cap' must be an integer from 1 to 100".to_owned()),
        },
    };
    let period = given("period")
        .and_then(Value::as_str)
        .and_then(Period::parse)
        .ok_or_else(|| "'period' must be \"daily\" or \"monthly\"".to_owned())?;
    Ok((trigger, period))
}

/// An alert as stored: its threshold in minor units or its percentage of the cap.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Alert {
    pub id: String,
    pub period: String,
    pub threshold: Option<i64>,
    pub percent_of_cap: Option<i64>,
    pub created_at: i64,
    /// When it crossed in the current period (`None`: not yet).
    pub crossed_at: Option<i64>,
}

/// A crossing: the alert, the spend period (`d:…`, `m:…`), what was spent when it crossed,
/// the threshold it crossed (minor units) and when.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Notice {
    pub alert_id: String,
    pub account_id: String,
    pub period: String,
    pub spent: i64,
    pub threshold: i64,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(v: Value) -> Result<(Trigger, Period), String> {
        parse(v.as_object().unwrap())
    }

    #[test]
    fn periods_are_named_as_the_spend_table_names_them() {
        let ms = 1_796_256_000_000; // 2026-12-03T00:00:00Z
        assert_eq!(Period::Daily.key(ms), "d:2026-12-03");
        assert_eq!(Period::Monthly.key(ms), "m:2026-12");
        assert_eq!(period_start("d:2026-12-03"), "2026-12-03");
        assert_eq!(period_number("d:2026-12-03"), 20_261_203);
        assert_eq!(period_number("m:2026-12"), 202_612);
    }

    #[test]
    fn parses_one_trigger_and_a_period() {
        assert_eq!(
            parsed(json!({"threshold": "5.00", "period": "daily"})),
            Ok((Trigger::Threshold(Money::from_minor(50_000)), Period::Daily))
        );
        assert_eq!(
            parsed(json!({"percent_of_cap": 80, "period": "monthly"})),
            Ok((Trigger::PercentOfCap(80), Period::Monthly))
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        for (body, field) in [
            (json!({"threshold": "-1", "period": "daily"}), "'threshold'"),
            (json!({"threshold": "0", "period": "daily"}), "'threshold'"),
            (
                json!({"threshold": "abc", "period": "daily"}),
                "'threshold'",
            ),
            (
                json!({"percent_of_cap": 0, "period": "daily"}),
                "'percent_of_cap'",
            ),
            (
                json!({"percent_of_cap": 101, "period": "daily"}),
                "'percent_of_cap'",
            ),
            (
                json!({"percent_of_cap": 50.5, "period": "daily"}),
                "'percent_of_cap'",
            ),
            (json!({"threshold": "1", "period": "weekly"}), "'period'"),
            (json!({"threshold": "1"}), "'period'"),
            (json!({"period": "daily"}), "'threshold'"),
            (
                json!({"threshold": "1", "percent_of_cap": 5, "period": "daily"}),
                "not both",
            ),
        ] {
            let e = parsed(body.clone()).unwrap_err();
            assert!(e.contains(field), "{body}: {e}");
        }
    }
}
