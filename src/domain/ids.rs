//! Unguessable identifiers and API keys from the CSPRNG (getrandom → crypto.getRandomValues).
use std::fmt;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of an API key, as OTPWALL's doc promises: 32 alphanumeric characters.
pub const API_KEY_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomUnavailable;

impl fmt::Display for RandomUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the system random number generator is unavailable")
    }
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomUnavailable> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| RandomUnavailable)?;
    Ok(buf)
}

/// `len` characters drawn uniformly from `alphabet` by rejection sampling (no modulo bias).
pub fn random_string(alphabet: &[u8], len: usize) -> Result<String, RandomUnavailable> {
    let n = alphabet.len();
    if n == 0 || n > 256 {
        return Ok(String::new());
    }
    // Largest multiple of n that fits in a byte: bytes at or above it are rejected.
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let chunk = random_bytes::<64>()?;
        for &b in chunk.iter() {
            if usize::from(b) < limit {
                if let Some(&c) = alphabet.get(usize::from(b) % n) {
                    out.push(char::from(c));
                }
                if out.len() == len {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// A new API key: 32 characters of [A-Za-z0-9].
pub fn new_api_key() -> Result<String, RandomUnavailable> {
    random_string(BASE62, API_KEY_LEN)
}

pub fn looks_like_api_key(candidate: &str) -> bool {
    candidate.len() == API_KEY_LEN && candidate.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The SHA-256 (hex) of a well-formed API key as presented: what D1 is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHash(String, bool);

impl KeyHash {
    /// The hash of `key`, if it has the shape of an API key or of a login session token
    /// (`domain::session`; a session is accepted wherever a key is). A malformed key never
    /// costs a D1 round trip.
    pub fn of(key: &str) -> Option<KeyHash> {
        let session = super::session::looks_like_session_token(key);
        (looks_like_api_key(key) || session)
            .then(|| KeyHash(super::crypto::sha256_hex(key.as_bytes()), session))
    }

    /// The hash of `key` if it has the shape of an API key, never of a session token: for a
    /// key taken from anywhere but `Authorization: Bearer` or the session cookie (a URL, a
    /// form, `X-OTP-Key`, HTTP Basic). Session tokens authenticate the dashboard API only.
    pub fn of_api_key(key: &str) -> Option<KeyHash> {
        looks_like_api_key(key).then(|| KeyHash(super::crypto::sha256_hex(key.as_bytes()), false))
    }

    /// The credential is a login session token (not an API key): its logout and expiry
    /// live in D1 only, so it is never answered from a key's Durable Object.
    pub fn is_session(&self) -> bool {
        self.1
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account that presented a live key (or that the operator named and that exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(pub String);

impl AccountId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An opaque id such as `act_5Qk2…` (22 base62 characters ≈ 131 bits).
pub fn new_id(prefix: &str) -> Result<String, RandomUnavailable> {
    Ok(format!("{prefix}_{}", random_string(BASE62, 22)?))
}

/// A random (version 4) UUID, for ids that GetOTP clients expect in UUID form.
pub fn new_uuid() -> Result<String, RandomUnavailable> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = super::crypto::to_hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

pub fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_32_alphanumerics_and_distinct() {
        let a = new_api_key().unwrap();
        let b = new_api_key().unwrap();
        assert!(looks_like_api_key(&a) && looks_like_api_key(&b));
        assert_ne!(a, b);
        assert!(!looks_like_api_key("short"));
        assert!(!looks_like_api_key(&format!("{}!", &a[..31])));
    }

    #[test]
    fn base62_characters_are_uniform() {
        let s = random_string(BASE62, 62_000).unwrap();
        let mut counts = [0u32; 62];
        for c in s.bytes() {
            let i = BASE62.iter().position(|&x| x == c).unwrap();
            counts[i] += 1;
        }
        // Expected 1000 each; chi-square with 61 d.o.f., 1 - 10^-6 quantile ≈ 129.
        let chi: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - 1000.0).powi(2) / 1000.0)
            .sum();
        assert!(chi < 129.0, "chi-square {chi}");
    }

    #[test]
    fn uuids_have_the_v4_shape() {
        let u = new_uuid().unwrap();
        assert!(is_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert!(!is_uuid("not-a-uuid"));
        assert!(new_id("act").unwrap().starts_with("act_"));
    }
}
