//! `Idempotency-Key` rules: same key + same request within 24 h replays the first
//! response; same key + another request → 422; the first still running → 409.
use super::crypto::sha256_hex;

pub const MAX_KEY_LEN: usize = 255;
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// A claim still without an answer after this long was left by a request that ended without
/// releasing it (far longer than any request runs): a request with the key takes it over.
pub const ABANDONED_MS: i64 = 5 * 60 * 1000;

/// A stored record of an earlier request with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub fingerprint: String,
    pub created_at_ms: i64,
    /// `None` while the first request is still running.
    pub response: Option<(u16, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Replay { status: u16, body: String },
    InProgress,
    Mismatch,
}

pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"
        ));
    }
    if !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err("Idempotency-Key must be printable ASCII without spaces".to_owned());
    }
    Ok(())
}

/// What identifies "the same request": method, path and the exact body bytes.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut data = Vec::with_capacity(method.len() + path.len() + body.len() + 2);
    data.extend_from_slice(method.as_bytes());
    data.push(b' ');
    data.extend_from_slice(path.as_bytes());
    data.push(b'\n');
    data.extend_from_slice(body);
    sha256_hex(&data)
}

pub fn is_expired(record: &Record, now_ms: i64) -> bool {
    now_ms - record.created_at_ms >= RETENTION_MS
}

/// Decides what to do with a request whose key already has a live record.
pub fn decide(record: &Record, fingerprint: &str) -> Decision {
    if record.fingerprint != fingerprint {
        return Decision::Mismatch;
    }
    match &record.response {
        Some((status, body)) => Decision::Replay {
            status: *status,
            body: body.clone(),
        },
        None => Decision::InProgress,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fp: &str, response: Option<(u16, &str)>) -> Record {
        Record {
            fingerprint: fp.into(),
            created_at_ms: 0,
            response: response.map(|(s, b)| (s, b.into())),
        }
    }

    #[test]
    fn replays_rejects_and_waits() {
        let fp = fingerprint("POST", "/v1/number", b"{}");
        assert_eq!(
            decide(&record(&fp, Some((200, "{\"a\":1}"))), &fp),
            Decision::Replay {
                status: 200,
                body: "{\"a\":1}".into()
            }
        );
        assert_eq!(decide(&record(&fp, None), &fp), Decision::InProgress);
        let other = fingerprint("POST", "/v1/number", b"{ }");
        assert_eq!(
            decide(&record(&fp, Some((200, ""))), &other),
            Decision::Mismatch
        );
    }

    #[test]
    fn keys_are_bounded_and_records_expire() {
        assert!(validate_key("abc-123").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key(&"a".repeat(256)).is_err());
        assert!(validate_key("has space").is_err());
        let r = Record {
            fingerprint: String::new(),
            created_at_ms: 0,
            response: None,
        };
        assert!(!is_expired(&r, RETENTION_MS - 1));
        assert!(is_expired(&r, RETENTION_MS));
    }
}
