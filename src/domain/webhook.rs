//! Outbound webhooks: Standard Webhooks signatures, endpoint URL rules and the retry schedule.
//! <https://www.standardwebhooks.com/>: `webhook-id`, `webhook-timestamp` (Unix seconds),
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, where the
//! key is the base64 part of the `whsec_…` secret.
use super::crypto::hmac_sha256;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

pub const SECRET_PREFIX: &str = "whsec_";
pub const MAX_URL_LEN: usize = 2048;

/// An endpoint secret in Standard Webhooks form: `whsec_` + base64 of the key bytes.
pub fn secret_from_key(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", B64.encode(key))
}

/// The HMAC key of a `whsec_…` secret.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    B64.decode(secret.strip_prefix(SECRET_PREFIX)?)
        .ok()
        .filter(|k| !k.is_empty())
}

/// The `webhook-signature` header value for one message.
pub fn signature(secret: &str, msg_id: &str, timestamp_secs: i64, body: &str) -> Option<String> {
    let key = secret_key(secret)?;
    let signed = format!("{msg_id}.{timestamp_secs}.{body}");
    Some(format!(
        "v1,{}",
        B64.encode(hmac_sha256(&key, signed.as_bytes()))
    ))
}

/// Where an endpoint may point: `https://` anywhere, or `http://` to this machine only when
/// the deployment allows it (local development).
pub fn validate_url(url: &str, allow_local_http: bool) -> Result<(), String> {
    if url.len() > MAX_URL_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "url must be at most {MAX_URL_LEN} characters without spaces"
        ));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("url must start with https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("url must not contain credentials".to_owned());
    }
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || authority.starts_with('[') => {
            if !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err("url has an invalid port".to_owned());
            }
            h
        }
        _ => authority,
    };
    if host.is_empty() {
        return Err("url has no host".to_owned());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http"
            if allow_local_http
                && matches!(
                    host.to_ascii_lowercase().as_str(),
                    "127.0.0.1" | "localhost" | "[::1]"
                ) =>
        {
            Ok(())
        }
        "http" => Err(
            "url must use https (plain http is allowed only to 127.0.0.1 or localhost in \
            development)"
                .to_owned(),
        ),
        _ => Err("url must start with https://".to_owned()),
    }
}

/// Delay before retry number `failures` (1 after the first failed attempt): exponential from
/// `base_ms`, capped at `max_ms`, with ±50 % jitter from `jitter` (any u32, uniformly drawn) so
/// endpoints that fail together do not get retried in lockstep.
pub fn retry_delay_ms(failures: u32, base_ms: i64, max_ms: i64, jitter: u32) -> i64 {
    let exp = base_ms
        .saturating_mul(1i64 << failures.saturating_sub(1).min(30))
        .min(max_ms);
    // factor in [0.5, 1.5)
    let factor_milli = 500 + i64::from(jitter % 1000);
    (exp.saturating_mul(factor_milli) / 1000).max(1)
}

/// The body of one delivery, Standard Webhooks' recommended shape.
pub fn payload(event_type: &str, timestamp: &str, data: &serde_json::Value) -> String {
    serde_json::json!({"type": event_type, "timestamp": timestamp, "data": data}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_reference_vector() {
        // The reference test vector of the Standard Webhooks libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_round_trip() {
        let s = secret_from_key(&[7u8; 24]);
        assert!(s.starts_with("whsec_"));
        assert_eq!(secret_key(&s), Some(vec![7u8; 24]));
        assert!(secret_key("nope").is_none());
        assert!(signature("whsec_!!", "m", 1, "").is_none());
    }

    #[test]
    fn url_rules() {
        assert!(validate_url("https://example.com/hooks", false).is_ok());
        assert!(validate_url("https://example.com:8443/h?x=1", false).is_ok());
        assert!(validate_url("http://example.com/hooks", true).is_err());
        assert!(validate_url("http://127.0.0.1:9000/h", false).is_err());
        assert!(validate_url("http://127.0.0.1:9000/h", true).is_ok());
        assert!(validate_url("http://localhost/h", true).is_ok());
        assert!(validate_url("http://[::1]:80/h", true).is_ok());
        assert!(validate_url("http://127.0.0.1.evil.com/h", true).is_err());
        assert!(validate_url("http://localhost@evil.com/h", true).is_err());
        assert!(validate_url("ftp://example.com", true).is_err());
        assert!(validate_url("https://", false).is_err());
        assert!(validate_url("https://exa mple.com", false).is_err());
        assert!(validate_url("example.com", false).is_err());
        assert!(validate_url("https://example.com:x/", false).is_err());
    }

    #[test]
    fn retry_delays_grow_with_jitter_and_a_cap() {
        assert_eq!(retry_delay_ms(1, 1000, 3_600_000, 500), 1000);
        assert_eq!(retry_delay_ms(2, 1000, 3_600_000, 500), 2000);
        assert_eq!(retry_delay_ms(3, 1000, 3_600_000, 0), 2000);
        assert_eq!(retry_delay_ms(3, 1000, 3_600_000, 999), 5996);
        assert_eq!(retry_delay_ms(40, 1000, 3_600_000, 500), 3_600_000);
        assert!(retry_delay_ms(1, 0, 0, 0) >= 1);
    }
}
