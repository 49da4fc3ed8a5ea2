//! Extracting the code from an incoming SMS: the first group of 4 to 8 digits, where a code
//! written in parts ("123-456", "123 456") counts as one group. Digits glued to a `+`
//! (a phone number) or longer than 8 digits (an order number) are not codes.

/// A run of digit groups joined by single separators, as found in the text.
struct Candidate {
    digits: String,
    parts: usize,
    after_plus: bool,
}

fn candidates(text: &str) -> Vec<Candidate> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some(&c) = chars.get(i) else { break };
        if !c.is_ascii_digit() {
            i += 1;
            continue;
        }
        let after_plus = i > 0 && chars.get(i - 1) == Some(&'+');
        let mut digits = String::new();
        let mut parts = 0;
        loop {
            let start = i;
            while let Some(&d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                i += 1;
            }
            parts += 1;
            let group_len = i - start;
            // "123-456" / "123 456": a single separator between two short groups joins them.
            let sep = chars.get(i).copied();
            let next_is_digit = chars.get(i + 1).is_some_and(|d| d.is_ascii_digit());
            let next_len = chars
                .iter()
                .skip(i + 1)
                .take_while(|d| d.is_ascii_digit())
                .count();
            if matches!(sep, Some('-' | ' '))
                && next_is_digit
                && (2..=4).contains(&group_len)
                && (2..=4).contains(&next_len)
                && digits.len() + next_len <= 8
            {
                i += 1;
                continue;
            }
            break;
        }
        out.push(Candidate {
            digits,
            parts,
            after_plus,
        });
    }
    out
}

/// The verification code in an SMS, if one is there.
pub fn extract_code(text: &str) -> Option<String> {
    let found = candidates(text);
    let acceptable = |c: &&Candidate| (4..=8).contains(&c.digits.len()) && !c.after_plus;
    // A single unbroken group is the usual shape; a split one ("123-456") is the fallback.
    found
        .iter()
        .filter(acceptable)
        .find(|c| c.parts == 1)
        .or_else(|| found.iter().find(acceptable))
        .map(|c| c.digits.clone())
}

/// Seconds a signed webhook may be older or newer than our clock.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// A parsed `X-Signature: t=<unix seconds>,v1=<hex>` header (several `v1` are allowed, so
/// a supplier can sign with an old and a new secret while rotating).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub timestamp: i64,
    pub macs: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Malformed,
    Stale,
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Malformed => {
                "X-Signature must be 't=<unix seconds>,v1=<hex HMAC-SHA256>'"
            }
            SignatureError::Stale => "X-Signature timestamp is outside the 300 s tolerance",
            SignatureError::Mismatch => "X-Signature does not match",
        })
    }
}

pub fn parse_signature(header: &str) -> Result<Signature, SignatureError> {
    let mut timestamp = None;
    let mut macs = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match name.trim() {
            "t" => {
                timestamp = Some(
                    value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            "v1" => macs.push(
                crate::domain::crypto::from_hex(value.trim())
                    .filter(|m| m.len() == 32)
                    .ok_or(SignatureError::Malformed)?,
            ),
            _ => {} // unknown schemes are ignored, as in Stripe-style headers
        }
    }
    match timestamp {
        Some(timestamp) if !macs.is_empty() => Ok(Signature { timestamp, macs }),
        _ => Err(SignatureError::Malformed),
    }
}

/// Whether the timestamp is within the tolerance of `now_ms`.
pub fn is_fresh(signature: &Signature, now_ms: i64) -> bool {
    // Checked: a hostile `t=` near i64's limits must not overflow (a panic in debug, a
    // wrapped "fresh" answer in release).
    now_ms
        .div_euclid(1000)
        .checked_sub(signature.timestamp)
        .is_some_and(|d| d.unsigned_abs() <= SIGNATURE_TOLERANCE_SECS as u64)
}

/// Whether one of the header's MACs is `HMAC-SHA256(secret, "<t>.<raw body>")`, compared in
/// constant time.
pub fn signed_by(signature: &Signature, secret: &[u8], body: &[u8]) -> bool {
    let mut message = format!("{}.", signature.timestamp).into_bytes();
    message.extend_from_slice(body);
    let expected = crate::domain::crypto::hmac_sha256(secret, &message);
    signature.macs.iter().fold(false, |ok, mac| {
        ok | crate::domain::crypto::constant_time_eq(mac, &expected)
    })
}

/// An SMS a supplier delivered, and where it went (an activation or a rent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    pub id: String,
    /// The supplier's id for it (a redelivery carries the same).
    pub sms_id: String,
    pub sender: String,
    pub text: String,
    pub code: Option<String>,
    pub received_at: String,
    /// What held the number when it arrived (`None`: nothing did).
    pub target: Option<SmsTarget>,
    /// 1 once forwarded to its target.
    pub delivered: i64,
}

/// What an inbound SMS is for: an `activation` or a `rent` (`kind`), by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsTarget {
    pub kind: String,
    pub id: String,
}

impl InboundSms {
    /// Its target as (kind, id).
    pub fn target(&self) -> Option<(&str, &str)> {
        (self.target.as_ref()).map(|t| (t.kind.as_str(), t.id.as_str()))
    }
}

/// An inbound SMS field is free of control characters; an SMS's `text` may break lines
/// (`\n`, `\r`) and hold tabs, an id or a sender may not.
pub fn clean_field(field: &str, value: &str, line_breaks: bool) -> Result<(), String> {
    let allowed = |c: char| line_breaks && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(format!("'{field}' must not contain control characters"));
    }
    Ok(())
}

/// A supplier's `received_at` may run ahead of our clock by the signature's tolerance (clock
/// skew), never more: an SMS is not received in the future.
pub fn received_by(received_at_ms: i64, now_ms: i64) -> bool {
    received_at_ms <= now_ms.saturating_add(SIGNATURE_TOLERANCE_SECS * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_fields() {
        assert!(clean_field("text", "line one\r\nline\ttwo", true).is_ok());
        assert!(clean_field("text", "a\u{0}b", true).is_err());
        assert!(clean_field("text", "a\u{1b}[2Jb", true).is_err());
        assert!(clean_field("from", "Tele\ngram", false).is_err());
        assert!(clean_field("sms_id", "id\u{7f}", false).is_err());
        assert!(clean_field("from", "Telegram", false).is_ok());
        assert!(received_by(1_000 + 300_000, 1_000));
        assert!(!received_by(1_000 + 300_001, 1_000));
        assert!(received_by(0, 1_000));
        assert!(received_by(i64::MAX - 1, i64::MAX));
    }

    fn code(text: &str) -> Option<&'static str> {
        extract_code(text).map(|c| Box::leak(c.into_boxed_str()) as &'static str)
    }

    #[test]
    fn common_shapes() {
        assert_eq!(code("Your code is 985421"), Some("985421"));
        assert_eq!(code("123-456"), Some("123456"));
        assert_eq!(code("Your Telegram code is 123 456"), Some("123456"));
        assert_eq!(
            code("G-123456 is your Google verification code."),
            Some("123456")
        );
        assert_eq!(
            code("<#> Your WhatsApp code: 482-913\nYou can also tap this link"),
            Some("482913")
        );
        assert_eq!(
            code("Facebook: 12345678 is your confirmation code"),
            Some("12345678")
        );
        assert_eq!(
            code("Use 4821 to log in. Valid for 10 minutes."),
            Some("4821")
        );
        assert_eq!(code("Код подтверждения: 55713"), Some("55713"));
    }

    #[test]
    fn four_to_eight_digits_only() {
        assert_eq!(code("Your code is 123"), None);
        assert_eq!(code("Order 1234567890 shipped"), None);
        assert_eq!(code("Code 1234567"), Some("1234567"));
        assert_eq!(code("no digits at all"), None);
        assert_eq!(code(""), None);
    }

    #[test]
    fn skips_phone_numbers_and_short_numbers() {
        assert_eq!(code("Call +14155550100 or use code 7788"), Some("7788"));
        assert_eq!(code("In 5 minutes, 2 attempts left: 90210"), Some("90210"));
    }

    #[test]
    fn prefers_a_whole_group_over_a_split_one() {
        // "2-step" digits are short and not joined; the real code wins.
        assert_eq!(code("Ref 12-34, code 987654"), Some("987654"));
    }

    #[test]
    fn signature_round_trip() {
        let body = br#"{"sms_id":"1"}"#;
        let t = 1_700_000_000i64;
        let mut msg = format!("{t}.").into_bytes();
        msg.extend_from_slice(body);
        let mac =
            crate::domain::crypto::to_hex(&crate::domain::crypto::hmac_sha256(b"s3cret", &msg));
        let sig = parse_signature(&format!("t={t},v1={mac}")).unwrap();
        assert!(signed_by(&sig, b"s3cret", body));
        assert!(!signed_by(&sig, b"other", body));
        assert!(!signed_by(&sig, b"s3cret", br#"{"sms_id":"2"}"#));
        assert!(is_fresh(&sig, t * 1000 + 300_000));
        assert!(!is_fresh(&sig, t * 1000 + 301_000));
        assert!(!is_fresh(&sig, t * 1000 - 301_000));
        // A second, wrong v1 does not hurt (rotation).
        let two = parse_signature(&format!("t={t}, v1={}, v1={mac}", "00".repeat(32))).unwrap();
        assert!(signed_by(&two, b"s3cret", body));
    }

    #[test]
    fn malformed_signatures() {
        for h in [
            "",
            "t=1",
            "v1=00",
            "t=x,v1=00",
            "t=1,v1=zz",
            "t=1,v1=0011",
            "garbage",
        ] {
            assert_eq!(parse_signature(h), Err(SignatureError::Malformed), "{h}");
        }
    }
}
