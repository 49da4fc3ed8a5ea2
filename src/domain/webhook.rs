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

/// Where an endpoint may point (OWASP SSRF prevention): `https://` to a public host name or a
/// public IP address, port 1–65535, no credentials, printable ASCII only (no spaces, control
/// or bidi characters: international names are written in punycode). Loopback, private,
/// link-local, carrier-grade NAT, multicast, reserved and documentation addresses are
/// refused in every spelling a URL parser accepts (`127.1`, `0x7f.0.0.1`, `2130706433`,
/// `[::ffff:127.0.0.1]`, …), and so are single-label and local names (`localhost`,
/// `*.local`, `*.internal`, …). The one exception is local development: with
/// `allow_local_http`, loopback targets (127.0.0.1, localhost, [::1]) are accepted, over
/// `http://` or `https://`.
pub fn validate_url(url: &str, allow_local_http: bool) -> Result<(), String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!("url must be at most {MAX_URL_LEN} characters"));
    }
    if !url.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(
            "url must be printable ASCII without spaces or control characters (write \
                    international names in punycode, other characters percent-encoded)"
                .to_owned(),
        );
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("url must start with https://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err("url must start with https://".to_owned());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("url must not contain credentials".to_owned());
    }
    if authority.contains('\\') {
        return Err("url has an invalid host".to_owned());
    }
    let (host, port) = split_host_port(authority)?;
    if let Some(port) = port {
        match port.parse::<u32>() {
            // Digits only: `parse` would take a sign (`+443`), which no fetch accepts.
            Ok(p)
                if (1..=65535).contains(&p)
                    && port.len() <= 5
                    && port.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err("url has an invalid port (1 to 65535)".to_owned()),
        }
    }
    let target = classify_host(host)?;
    match (target, scheme.as_str()) {
        (Target::Loopback, _) if allow_local_http => Ok(()),
        (Target::Public, "https") => Ok(()),
        (Target::Public, _) => Err("url must use https (plain http is allowed only to \
                                    127.0.0.1 or localhost in development)"
            .to_owned()),
        (Target::Loopback, _) | (Target::Internal, _) => Err("url must point to a public host: \
                                                               loopback, private, link-local \
                                                               and other internal addresses \
                                                               are refused"
            .to_owned()),
    }
}

/// What a URL's host reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Public,
    Loopback,
    Internal,
}

/// `host[:port]` or `[v6][:port]`; an empty host or port is an error.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    let invalid = || "url has an invalid host".to_owned();
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(invalid)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(invalid)?),
        };
        (inside, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("url has no host".to_owned());
    }
    if port == Some("") {
        return Err("url has an invalid port (1 to 65535)".to_owned());
    }
    Ok((host, port))
}

fn classify_host(host: &str) -> Result<Target, String> {
    let invalid = || "url has an invalid host".to_owned();
    if host.contains(':') {
        let ip: std::net::Ipv6Addr = host.parse().map_err(|_| invalid())?;
        return Ok(classify_v6(ip));
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 {
        return Err(invalid());
    }
    let labels: Vec<&str> = name.split('.').collect();
    // WHATWG URL: a host whose last label is a number is an IPv4 address, in any of its
    // spellings (decimal, octal, hex, fewer than four parts).
    if labels.last().is_some_and(|l| looks_numeric(l)) {
        return whatwg_ipv4(&labels).map(classify_v4).ok_or_else(invalid);
    }
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return Err(invalid());
    }
    if labels.len() < 2 {
        // `localhost`, `intranet`, `metadata`: names that only resolve inside a network.
        return Ok(if name == "localhost" {
            Target::Loopback
        } else {
            Target::Internal
        });
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld == "localhost" {
        return Ok(Target::Loopback);
    }
    let internal_suffixes = [
        "local",
        "internal",
        "intranet",
        "lan",
        "home",
        "corp",
        "private",
        "localdomain",
        "test",
        "invalid",
        "example",
    ];
    if internal_suffixes.contains(&tld)
        || name.ends_with(".home.arpa")
        || name == "home.arpa"
        || tld == "arpa"
    {
        return Ok(Target::Internal);
    }
    Ok(Target::Public)
}

fn looks_numeric(label: &str) -> bool {
    let hex = label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"));
    match hex {
        Some(h) => h.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The WHATWG URL IPv4 parser: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x);
/// the last part fills the remaining bytes. `None` when it is not a valid address.
fn whatwg_ipv4(labels: &[&str]) -> Option<std::net::Ipv4Addr> {
    if labels.is_empty() || labels.len() > 4 {
        return None;
    }
    let mut parts = Vec::with_capacity(4);
    for l in labels {
        let value = if let Some(h) = l.strip_prefix("0x").or_else(|| l.strip_prefix("0X")) {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if l.len() > 1 && l.starts_with('0') {
            u64::from_str_radix(l.get(1..)?, 8).ok()?
        } else {
            l.parse::<u64>().ok()?
        };
        parts.push(value);
    }
    let (last, init) = parts.split_last()?;
    if init.iter().any(|p| *p > 255) || *last >= 256u64.pow(5 - parts.len() as u32) {
        return None;
    }
    let mut n = *last;
    for (i, p) in init.iter().enumerate() {
        n += p << (8 * (3 - i));
    }
    Some(std::net::Ipv4Addr::from(u32::try_from(n).ok()?))
}

fn classify_v4(ip: std::net::Ipv4Addr) -> Target {
    let [a, b, c, _] = ip.octets();
    if a == 127 {
        return Target::Loopback;
    }
    let internal = a == 0 // "this network"
        || a == 10
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224; // multicast, reserved, broadcast
    if internal {
        Target::Internal
    } else {
        Target::Public
    }
}

fn classify_v6(ip: std::net::Ipv6Addr) -> Target {
    if ip.is_loopback() {
        return Target::Loopback;
    }
    let seg = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
    };
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d):
    // judged by the IPv4 address they carry.
    if seg[..5] == [0, 0, 0, 0, 0] && (seg[5] == 0xffff || seg[5] == 0) {
        return match classify_v4(embedded_v4(seg[6], seg[7])) {
            Target::Public if seg[5] == 0 => Target::Internal, // deprecated form: refuse
            t => t,
        };
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        return classify_v4(embedded_v4(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return classify_v4(embedded_v4(seg[1], seg[2])); // 6to4
    }
    let internal = ip.is_unspecified()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local
        || (seg[0] & 0xffc0) == 0xfe80 // link-local
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (seg[0] & 0xff00) == 0xff00 // multicast
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x2001 && seg[1] == 0) // Teredo
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // discard-only
        || seg[0] == 0x64 && seg[1] == 0xff9b; // local-use NAT64
    if internal {
        Target::Internal
    } else {
        Target::Public
    }
}

/// One recorded delivery attempt of an event, as its account sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub object_id: String,
    pub attempt: i64,
    pub url: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub succeeded: bool,
    pub created_at: i64,
    pub next_attempt_at: Option<i64>,
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
    fn ssrf_targets_are_refused() {
        let refused = [
            "https://127.0.0.1/",
            "https://127.1/",
            "https://0x7f.0.0.1/",
            "https://0177.0.0.1/",
            "https://2130706433/",
            "https://0/",
            "https://0.0.0.0/",
            "https://10.0.0.5/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[fc00::1]:8443/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:7f00:1::]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://app.localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://intranet/",
            "https://[::1",
            "https://[::1]x/",
            "https://example.com:99999999/",
            "https://example.com:0/",
            "https://example.com:+443/",
            "https://example.com:/",
            "https://example.com:-1/",
            "https://exa%6dple.com/",
            "https://%31%32%37.0.0.1/",
            "https://256.0.0.1/",
            "https://1.2.3.4.5/",
            "https://example.com\\@127.0.0.1/",
            "https://example.com/\u{202e}gpj.exe",
            "https://ex\u{202e}ample.com/",
            "https://example.com/\u{200f}",
            "https://ex\u{0}ample.com/",
            "https://-bad-.com/",
            "http://example.com/",
        ];
        for url in refused {
            assert!(validate_url(url, false).is_err(), "accepted {url:?}");
        }
        for url in [
            "https://example.com/hooks",
            "https://8.8.8.8/h",
            "https://[2606:4700::1111]/h",
            "https://hooks.example.co.uk:8443/x?y=1#z",
            "https://xn--bcher-kva.de/",
        ] {
            assert!(validate_url(url, false).is_ok(), "refused {url:?}");
        }
    }

    #[test]
    fn local_development_takes_loopback_only() {
        for url in [
            "http://127.0.0.1:9/h",
            "https://127.0.0.1/",
            "http://localhost:8080/",
            "http://[::1]:80/",
        ] {
            assert!(
                validate_url(url, true).is_ok(),
                "refused {url:?} in development"
            );
        }
        for url in [
            "http://10.0.0.1/",
            "http://169.254.169.254/",
            "http://example.com/",
        ] {
            assert!(
                validate_url(url, true).is_err(),
                "accepted {url:?} in development"
            );
        }
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
