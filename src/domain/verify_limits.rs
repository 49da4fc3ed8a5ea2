//! Twilio Verify's service rate limits: a rate limit (`RK…`) names a key a verification
//! request may carry (`RateLimits`: unique name → value), and each of its buckets (`BL…`)
//! allows `max` sends per `interval` seconds for every value of that key.
//!
//! The rule: a request takes one token from each bucket of each (rate limit, value) it
//! names, all or none: when any bucket is spent the request is refused and nothing is taken.
//! A bucket's window is fixed: it opens at the first token taken after the previous window
//! ended (or after the bucket's interval changed) and lasts `interval` seconds; a refused
//! request is told how long until the window that refused it ends.
use super::crypto::sha256_hex;
use super::error::{AppError, Code};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// Longest `UniqueName`.
pub const MAX_UNIQUE_NAME: usize = 64;
/// Longest `Description`.
pub const MAX_DESCRIPTION: usize = 255;
/// Rate limits a service may have.
pub const MAX_RATE_LIMITS: i64 = 10;
/// Buckets a rate limit may have.
pub const MAX_BUCKETS: i64 = 5;
/// Largest bucket `Max`.
pub const MAX_MAX: i64 = 1_000_000;
/// Longest bucket `Interval`: 30 days, in seconds.
pub const MAX_INTERVAL_S: i64 = 30 * 86_400;
/// Longest value of a `RateLimits` entry.
pub const MAX_VALUE: usize = 256;
/// Expired counters an object removes in one pass.
pub const PRUNE_BATCH: usize = 256;

/// A rate limit of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub sid: String,
    pub service_sid: String,
    pub unique_name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A bucket of a rate limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub sid: String,
    pub rate_limit_sid: String,
    pub service_sid: String,
    pub max: i64,
    pub interval: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Why a change to a service's rate limits or buckets is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The service has `MAX_RATE_LIMITS` already.
    TooManyRateLimits,
    /// Another rate limit of the service has this unique name.
    NameTaken,
    /// Not 1–64 letters, digits, `-`, `_` or `.`.
    NameFormat,
    /// The rate limit has `MAX_BUCKETS` already.
    TooManyBuckets,
    /// Another bucket of the rate limit has this interval.
    IntervalTaken,
}

impl Refusal {
    /// The error's `reason`, which a front door maps to its own code.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::TooManyRateLimits => "rate_limits_full",
            Refusal::NameTaken => "rate_limit_name_taken",
            Refusal::NameFormat => "rate_limit_name_format",
            Refusal::TooManyBuckets => "buckets_full",
            Refusal::IntervalTaken => "bucket_interval_taken",
        }
    }

    pub fn message(self) -> String {
        match self {
            Refusal::TooManyRateLimits => {
                format!("Max rate limits per service reached ({MAX_RATE_LIMITS})")
            }
            Refusal::NameTaken => "Rate limit with that UniqueName already exists".to_owned(),
            Refusal::NameFormat => format!(
                "UniqueName must be 1 to {MAX_UNIQUE_NAME} letters, digits, '-', '_' or '.'"
            ),
            Refusal::TooManyBuckets => {
                format!("Max Buckets per Rate limit reached ({MAX_BUCKETS})")
            }
            Refusal::IntervalTaken => "Bucket with the given Interval already exists".to_owned(),
        }
    }

    /// The refusal as the application's error (400, with its reason).
    pub fn error(self) -> AppError {
        AppError {
            reason: Some(self.as_str()),
            ..AppError::new(Code::InvalidRequest, self.message())
        }
    }
}

/// A unique name as given, if it has the allowed form.
pub fn unique_name(input: &str) -> Result<String, Refusal> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if input.is_empty() || input.len() > MAX_UNIQUE_NAME || !input.chars().all(allowed) {
        return Err(Refusal::NameFormat);
    }
    Ok(input.to_owned())
}

/// A verification request's `RateLimits`: a JSON object of unique name → value (a string,
/// or a number taken as its text), at most `MAX_RATE_LIMITS` entries. The reason on error.
pub fn parse_request(json: &str) -> Result<Vec<(String, String)>, String> {
    let parsed: Value =
        serde_json::from_str(json).map_err(|_| "must be a JSON object".to_owned())?;
    let Value::Object(entries) = parsed else {
        return Err("must be a JSON object".to_owned());
    };
    if entries.len() as i64 > MAX_RATE_LIMITS {
        return Err(format!("at most {MAX_RATE_LIMITS} entries"));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let value = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("the value of '{name}' must be a string")),
        };
        if value.is_empty() || value.len() > MAX_VALUE {
            return Err(format!(
                "the value of '{name}' must be 1 to {MAX_VALUE} bytes"
            ));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// One token to take: the counter of (service, rate limit, value, bucket) and its bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Take {
    pub key: String,
    pub max: i64,
    pub interval_s: i64,
}

impl Take {
    /// The token of `bucket` for `value` (the value is kept only as a digest).
    pub fn of(bucket: &Bucket, value: &str) -> Take {
        let digest = sha256_hex(value.as_bytes());
        let value = digest.get(..32).unwrap_or(&digest);
        Take {
            key: format!(
                "{}|{}|{value}|{}",
                bucket.service_sid, bucket.rate_limit_sid, bucket.sid
            ),
            max: bucket.max,
            interval_s: bucket.interval,
        }
    }
}

/// The count of one bucket's current window for one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// When the window ends (Unix ms).
    #[serde(rename = "u")]
    pub until_ms: i64,
    #[serde(rename = "n")]
    pub count: i64,
    /// The bucket's interval when the window opened.
    #[serde(rename = "i")]
    pub interval_s: i64,
}

/// The outcome of taking a request's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Every token taken; the counters that changed.
    Allowed(Vec<(String, Counter)>),
    /// A bucket is spent; nothing taken. Seconds until it frees (at least 1).
    Over { retry_after_s: u64 },
}

/// The counters an object holds.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub map: HashMap<String, Counter>,
}

impl Counters {
    /// The live counter of `take` at `now_ms` (none when its window ended or its bucket's
    /// interval changed).
    fn live(&self, take: &Take, now_ms: i64) -> Option<Counter> {
        let c = self.map.get(&take.key)?;
        (c.until_ms > now_ms && c.interval_s == take.interval_s).then_some(*c)
    }

    /// Takes one token of each of `takes`, all or none.
    pub fn take(&mut self, takes: &[Take], now_ms: i64) -> Taken {
        let wait = takes
            .iter()
            .filter_map(|t| self.live(t, now_ms).filter(|c| c.count >= t.max))
            .map(|c| (c.until_ms - now_ms).max(1))
            .max();
        if let Some(wait_ms) = wait {
            let secs = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1);
            return Taken::Over {
                retry_after_s: secs.max(1),
            };
        }
        let mut changed = Vec::with_capacity(takes.len());
        for t in takes {
            let next = match self.live(t, now_ms) {
                Some(c) => Counter {
                    count: c.count + 1,
                    ..c
                },
                None => Counter {
                    until_ms: now_ms.saturating_add(t.interval_s.saturating_mul(1000)),
                    count: 1,
                    interval_s: t.interval_s,
                },
            };
            self.map.insert(t.key.clone(), next);
            changed.push((t.key.clone(), next));
        }
        Taken::Allowed(changed)
    }

    /// Removes up to `limit` counters whose window ended; their keys.
    pub fn prune(&mut self, now_ms: i64, limit: usize) -> Vec<String> {
        let gone: Vec<String> = (self.map.iter())
            .filter(|(_, c)| c.until_ms <= now_ms)
            .map(|(k, _)| k.clone())
            .take(limit)
            .collect();
        for k in &gone {
            self.map.remove(k);
        }
        gone
    }

    /// When the next window ends, if any counter is held.
    pub fn next_end(&self) -> Option<i64> {
        self.map.values().map(|c| c.until_ms).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(key: &str, max: i64, interval_s: i64) -> Take {
        Take {
            key: key.to_owned(),
            max,
            interval_s,
        }
    }

    #[test]
    fn a_bucket_allows_max_per_window_then_frees_when_it_ends() {
        let mut c = Counters::default();
        let t = [take("k", 2, 60)];
        assert!(matches!(c.take(&t, 1_000), Taken::Allowed(_)));
        assert!(matches!(c.take(&t, 2_000), Taken::Allowed(_)));
        assert_eq!(
            c.take(&t, 31_000),
            Taken::Over { retry_after_s: 30 },
            "the window opened at the first token"
        );
        assert_eq!(c.take(&t, 60_999), Taken::Over { retry_after_s: 1 });
        assert!(matches!(c.take(&t, 61_000), Taken::Allowed(_)));
    }

    #[test]
    fn all_or_none_and_the_longest_wait() {
        let mut c = Counters::default();
        let (a, b) = (take("a", 1, 10), take("b", 5, 100));
        assert!(matches!(c.take(&[a.clone(), b.clone()], 0), Taken::Allowed(v) if v.len() == 2));
        assert_eq!(
            c.take(&[a, b.clone()], 1_000),
            Taken::Over { retry_after_s: 9 }
        );
        assert_eq!(c.map["b"].count, 1, "nothing taken from b when a refused");
        assert!(matches!(
            c.take(std::slice::from_ref(&b), 1_000),
            Taken::Allowed(_)
        ));
        assert_eq!(c.map["b"].count, 2);
    }

    #[test]
    fn a_changed_max_applies_at_once_and_a_changed_interval_opens_a_window() {
        let mut c = Counters::default();
        for _ in 0..2 {
            assert!(matches!(c.take(&[take("k", 2, 60)], 0), Taken::Allowed(_)));
        }
        assert!(matches!(c.take(&[take("k", 2, 60)], 0), Taken::Over { .. }));
        assert!(matches!(c.take(&[take("k", 3, 60)], 0), Taken::Allowed(_)));
        assert!(matches!(c.take(&[take("k", 3, 60)], 0), Taken::Over { .. }));
        assert!(matches!(c.take(&[take("k", 3, 30)], 0), Taken::Allowed(_)));
        assert_eq!(c.map["k"].count, 1);
    }

    #[test]
    fn pruning_removes_ended_windows_a_batch_at_a_time() {
        let mut c = Counters::default();
        for i in 0..5 {
            c.take(&[take(&format!("k{i}"), 1, 1 + i)], 0);
        }
        assert_eq!(c.next_end(), Some(1_000));
        assert_eq!(c.prune(2_500, 1).len(), 1, "at most the batch");
        assert_eq!(c.prune(2_500, 10).len(), 1);
        assert_eq!(c.prune(4_500, 10).len(), 2);
        assert_eq!(c.map.len(), 1);
        assert_eq!(c.next_end(), Some(5_000));
    }

    #[test]
    fn the_value_is_kept_as_a_digest_in_the_key() {
        let b = Bucket {
            sid: "BL1".into(),
            rate_limit_sid: "RK1".into(),
            service_sid: "VA1".into(),
            max: 2,
            interval: 60,
            created_at: 0,
            updated_at: 0,
        };
        let t = Take::of(&b, "1.2.3.4");
        assert!(
            t.key.starts_with("VA1|RK1|") && t.key.ends_with("|BL1"),
            "{}",
            t.key
        );
        assert!(!t.key.contains("1.2.3.4"));
        assert_ne!(t.key, Take::of(&b, "1.2.3.5").key);
        assert_eq!((t.max, t.interval_s), (2, 60));
    }

    #[test]
    fn unique_names_and_requests() {
        assert_eq!(unique_name("end_user_ip.v-2"), Ok("end_user_ip.v-2".into()));
        for bad in ["", "a b", "ip/x", "é", &"x".repeat(65)] {
            assert_eq!(unique_name(bad), Err(Refusal::NameFormat), "{bad}");
        }
        assert_eq!(
            parse_request(r#"{"end_user_ip":"1.2.3.4","user":42}"#),
            Ok(vec![
                ("end_user_ip".into(), "1.2.3.4".into()),
                ("user".into(), "42".into())
            ])
        );
        for bad in [
            "{",
            "[]",
            "\"x\"",
            r#"{"a":null}"#,
            r#"{"a":{}}"#,
            r#"{"a":""}"#,
        ] {
            assert!(parse_request(bad).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..11).map(|i| format!("\"n{i}\":\"v\"")).collect();
        assert!(parse_request(&format!("{{{}}}", many.join(","))).is_err());
        assert_eq!(
            Refusal::NameTaken.error().reason,
            Some("rate_limit_name_taken")
        );
    }
}
