//! Login sessions: the token, its lifetime, the cookie that carries it, and the same-origin
//! rule (CSRF) for requests that the cookie authenticates.
//!
//! A token is `ots_` + 43 base64url characters (256 random bits). Only its SHA-256 is
//! stored. A session dies at the first of: its idle expiry (pushed forward when it is used,
//! at most once a minute), its absolute expiry, or its revocation.
use super::crypto::sha256_hex;
use super::ids::{random_bytes, RandomUnavailable};
use base64::Engine;
use std::collections::HashMap;

pub const TOKEN_PREFIX: &str = "ots_";
const TOKEN_RANDOM_BYTES: usize = 32;
/// `ots_` + base64url(32 bytes) without padding.
pub const TOKEN_LEN: usize = 4 + 43;
pub const COOKIE_NAME: &str = "otpedge_session";
/// A used session's idle expiry (and `last_seen_at`) is written at most this often.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

/// A live login session as its account sees it (times in ms).
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// When the session ends if unused: the earlier of its idle and absolute expiry.
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

pub struct NewToken {
    /// Shown once (login answer, cookie); never stored or logged.
    pub token: String,
    pub hash: String,
}

pub fn new_token() -> Result<NewToken, RandomUnavailable> {
    let bytes = random_bytes::<TOKEN_RANDOM_BYTES>()?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = token_hash(&token);
    Ok(NewToken { token, hash })
}

pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The shape of a session token: never confused with a 32-character API key (`_` is not
/// alphanumeric), checked before any D1 lookup.
pub fn looks_like_session_token(candidate: &str) -> bool {
    candidate.len() == TOKEN_LEN
        && candidate.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
            rest.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Idle and absolute lifetimes (`SESSION_IDLE_SECS`, `SESSION_MAX_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub idle_expires_at: i64,
    pub expires_at: i64,
}

impl Expiry {
    /// When the session ends if it is not used again: what answers call `expires_at`.
    pub fn effective(&self) -> i64 {
        self.idle_expires_at.min(self.expires_at)
    }

    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms < self.effective()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    pub idle_expires_at: i64,
    pub seen_before: i64,
}

/// Per isolate: when the use of a credential (session or API key hash) was last written, so
/// a busy credential costs at most one D1 write a minute per isolate. Bounded: past 10 000
/// entries the stale ones are dropped (and, if that is not enough, all of them).
#[derive(Debug, Default)]
pub struct TouchMemo {
    last: HashMap<String, i64>,
}

const TOUCH_MEMO_MAX: usize = 10_000;

impl TouchMemo {
    /// Whether a write for `hash` is due at `now_ms`; if so, it is remembered as done.
    pub fn due(&mut self, hash: &str, now_ms: i64) -> bool {
        if self
            .last
            .get(hash)
            .is_some_and(|t| now_ms - t < TOUCH_INTERVAL_MS)
        {
            return false;
        }
        if self.last.len() >= TOUCH_MEMO_MAX {
            self.last.retain(|_, t| now_ms - *t < TOUCH_INTERVAL_MS);
            if self.last.len() >= TOUCH_MEMO_MAX {
                self.last.clear();
            }
        }
        self.last.insert(hash.to_owned(), now_ms);
        true
    }
}

impl SessionPolicy {
    pub fn start(&self, now_ms: i64) -> Expiry {
        let expires_at = now_ms.saturating_add(self.absolute_ms);
        Expiry {
            idle_expires_at: now_ms.saturating_add(self.idle_ms).min(expires_at),
            expires_at,
        }
    }

    /// What a use of a session at `now_ms` writes: a new idle expiry (the store caps it at
    /// the absolute one and never revives a dead session), only if the last write was at or
    /// before `seen_before` (so at most one write a minute).
    pub fn touch(&self, now_ms: i64) -> Touch {
        Touch {
            idle_expires_at: now_ms.saturating_add(self.idle_ms),
            seen_before: now_ms - TOUCH_INTERVAL_MS,
        }
    }

    /// Max-Age of the cookie: the absolute lifetime (the server enforces the idle one).
    pub fn cookie_max_age_secs(&self) -> i64 {
        self.absolute_ms / 1000
    }
}

/// Whether cookies must be `Secure` for this request URL: always, except for plain
/// `http://` to localhost / 127.0.0.1 / [::1] (local development), where a browser would not
/// send a Secure cookie back.
pub fn cookie_secure(request_url: &str) -> bool {
    match parse_origin(request_url) {
        Some(o) => {
            !(o.scheme == "http" && matches!(o.host.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
        }
        None => true,
    }
}

fn cookie_attributes(max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; {}",
        cookie_attributes(max_age_secs, secure)
    )
}

/// `Set-Cookie` that removes the session cookie (logout).
pub fn clear_cookie(secure: bool) -> String {
    format!("{COOKIE_NAME}=; {}", cookie_attributes(0, secure))
}

/// The session token in a `Cookie` header, if any (the first `otpedge_session=`).
pub fn cookie_token(cookie_header: &str) -> Option<&str> {
    named_cookie(cookie_header, COOKIE_NAME)
}

fn named_cookie<'h>(cookie_header: &'h str, wanted: &str) -> Option<&'h str> {
    cookie_header.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name.trim() == wanted)
            .then(|| value.trim().trim_matches('"'))
            .filter(|v| !v.is_empty())
    })
}

/// The operator console's cookie: sent to `/admin/` only, never on a request another site
/// starts (`SameSite=Strict`), unreadable by scripts.
pub const CONSOLE_COOKIE: &str = "otpedge_admin";

/// The console session's token in a `Cookie` header, if any.
pub fn console_cookie_token(cookie_header: &str) -> Option<&str> {
    named_cookie(cookie_header, CONSOLE_COOKIE)
}

/// `Set-Cookie` for a console session (`max_age_secs` 0: removes it, at logout).
pub fn set_console_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{CONSOLE_COOKIE}={token}; Path=/admin; Max-Age={max_age_secs}; HttpOnly; \
         SameSite=Strict{secure}"
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

/// scheme, host and port of an absolute URL or of an `Origin` header value, lower-cased,
/// with the scheme's default port dropped.
fn parse_origin(text: &str) -> Option<Origin> {
    let (scheme, rest) = text.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority.ends_with(']') => {
            let port: u16 = authority.get(i + 1..)?.parse().ok()?;
            (authority.get(..i)?, Some(port))
        }
        _ => (authority, None),
    };
    let default = if scheme == "https" { 443 } else { 80 };
    let port = port.filter(|p| *p != default);
    Some(Origin {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// CSRF rule for a state-changing request authenticated by the session cookie: its `Origin`
/// header must name the origin of the request URL itself. A missing header, `null`, or any
/// other origin is refused. (Requests with a Bearer token or an API key need no Origin:
/// a browser never attaches those by itself.)
pub fn same_origin(request_url: &str, origin_header: Option<&str>) -> bool {
    let Some(header) = origin_header.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    // An Origin header is exactly scheme://host[:port]: no path.
    if header.eq_ignore_ascii_case("null")
        || header
            .split_once("://")
            .is_some_and(|(_, r)| r.contains('/'))
    {
        return false;
    }
    match (parse_origin(request_url), parse_origin(header)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// For requests that carry no session cookie yet (login, register): refuse only when an
/// `Origin` header is present and names another origin (login CSRF); a client that sends no
/// Origin (curl, a backend) is fine.
pub fn origin_allowed_without_cookie(request_url: &str, origin_header: Option<&str>) -> bool {
    match origin_header.map(str::trim).filter(|h| !h.is_empty()) {
        None => true,
        Some(h) => same_origin(request_url, Some(h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: SessionPolicy = SessionPolicy {
        idle_ms: 3_600_000,
        absolute_ms: 86_400_000,
    };

    #[test]
    fn tokens_are_256_bits_distinct_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a.token, b.token);
        assert!(looks_like_session_token(&a.token), "{}", a.token);
        assert_eq!(a.token.len(), TOKEN_LEN);
        assert_eq!(a.hash, sha256_hex(a.token.as_bytes()));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.token));
        // An API key (32 alphanumerics) is never taken for a session token, and vice versa.
        assert!(!looks_like_session_token(
            "abcdefghijklmnopqrstuvwxyz012345"
        ));
        assert!(!crate::domain::ids::looks_like_api_key(&a.token));
        assert!(!looks_like_session_token(&format!(
            "{}!",
            &a.token[..TOKEN_LEN - 1]
        )));
        assert!(!looks_like_session_token(&format!("xyz_{}", &a.token[4..])));
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let e = POLICY.start(1_000);
        assert_eq!(
            e,
            Expiry {
                idle_expires_at: 3_601_000,
                expires_at: 86_401_000
            }
        );
        assert_eq!(e.effective(), 3_601_000);
        assert!(e.is_live(3_600_999));
        assert!(!e.is_live(3_601_000));
        // A use writes a new idle expiry if the last write is a minute old.
        assert_eq!(
            POLICY.touch(61_000),
            Touch {
                idle_expires_at: 3_661_000,
                seen_before: 1_000
            }
        );
        // An idle lifetime longer than the absolute one is capped by it.
        let odd = SessionPolicy {
            idle_ms: 10_000,
            absolute_ms: 5_000,
        };
        assert_eq!(
            odd.start(0),
            Expiry {
                idle_expires_at: 5_000,
                expires_at: 5_000
            }
        );
        assert_eq!(POLICY.cookie_max_age_secs(), 86_400);
    }

    #[test]
    fn touches_are_written_at_most_once_a_minute_per_credential() {
        let mut memo = TouchMemo::default();
        assert!(memo.due("a", 0));
        assert!(!memo.due("a", 59_999));
        assert!(memo.due("b", 30_000));
        assert!(memo.due("a", 60_000));
        for i in 0..(TOUCH_MEMO_MAX + 5) {
            assert!(memo.due(&i.to_string(), 200_000));
        }
        assert!(memo.last.len() <= TOUCH_MEMO_MAX);
    }

    #[test]
    fn cookies() {
        assert_eq!(
            set_cookie("ots_abc", 600, true),
            "otpedge_session=ots_abc; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            set_cookie("ots_abc", 600, false),
            "otpedge_session=ots_abc; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            clear_cookie(true),
            "otpedge_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            cookie_token("a=1; otpedge_session=ots_x; b=2"),
            Some("ots_x")
        );
        assert_eq!(cookie_token("otpedge_session=\"ots_q\""), Some("ots_q"));
        assert_eq!(cookie_token("xotpedge_session=ots_x"), None);
        assert_eq!(cookie_token("otpedge_session="), None);
        assert_eq!(cookie_token(""), None);
    }

    #[test]
    fn the_console_cookie_is_strict_and_its_own() {
        assert_eq!(
            set_console_cookie("ots_a", 60, true),
            "otpedge_admin=ots_a; Path=/admin; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_console_cookie("ots_a", 0, false).contains("Secure"));
        let both = "otpedge_session=ots_c; otpedge_admin=ots_o";
        assert_eq!(console_cookie_token(both), Some("ots_o"));
        assert_eq!(cookie_token(both), Some("ots_c"));
        assert_eq!(console_cookie_token("otpedge_session=ots_c"), None);
    }

    #[test]
    fn secure_except_plain_http_to_this_machine() {
        assert!(!cookie_secure("http://localhost/api/v1/auth/login"));
        assert!(!cookie_secure("http://127.0.0.1:8787/api/v1/auth/login"));
        assert!(!cookie_secure("http://[::1]:8787/x"));
        assert!(cookie_secure("https://localhost/x"));
        assert!(cookie_secure("https://otp.example.com/api/v1/auth/login"));
        assert!(cookie_secure("http://otp.example.com/x"));
        assert!(cookie_secure("nonsense"));
    }

    #[test]
    fn same_origin_rule() {
        let url = "https://otp.example.com/v1/keys";
        assert!(same_origin(url, Some("https://otp.example.com")));
        assert!(same_origin(url, Some("https://OTP.example.com:443")));
        assert!(same_origin(
            "http://127.0.0.1:8787/v1/keys",
            Some("http://127.0.0.1:8787")
        ));
        assert!(!same_origin(
            "http://127.0.0.1:8787/v1/keys",
            Some("http://127.0.0.1:8788")
        ));
        assert!(!same_origin(url, None));
        assert!(!same_origin(url, Some("")));
        assert!(!same_origin(url, Some("null")));
        assert!(!same_origin(url, Some("https://evil.example")));
        assert!(!same_origin(url, Some("http://otp.example.com")));
        assert!(!same_origin(
            url,
            Some("https://otp.example.com.evil.example")
        ));
        assert!(!same_origin(url, Some("https://otp.example.com/")));
        assert!(!same_origin(url, Some("https://user@otp.example.com")));
        assert!(origin_allowed_without_cookie(url, None));
        assert!(origin_allowed_without_cookie(
            url,
            Some("https://otp.example.com")
        ));
        assert!(!origin_allowed_without_cookie(
            url,
            Some("https://evil.example")
        ));
    }
}
