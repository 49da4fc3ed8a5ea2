//! OTP codes: generation, hashing, checking rules. Pure; the glue stores and serializes.
use super::crypto::{constant_time_eq, hmac_sha256};
use super::ids::{random_bytes, RandomUnavailable};
use serde::Deserialize;

pub const MIN_LENGTH: usize = 4;
pub const MAX_LENGTH: usize = 8;
pub const DEFAULT_LENGTH: usize = 6;
/// Wrong checks a session survives; the next check (even with the right code) is refused.
pub const MAX_ATTEMPTS: i64 = 5;
/// Longest accepted user input for a check; anything longer cannot be a code.
pub const MAX_INPUT_LENGTH: usize = 16;
/// The delivery channels otpedge knows (a deployment may offer fewer: `OTP_CHANNELS`).
pub const CHANNELS: [&str; 3] = ["sms", "whatsapp", "voice"];

/// A known channel by name (case-insensitive, trimmed).
pub fn known_channel(input: &str) -> Option<&'static str> {
    let wanted = input.trim().to_ascii_lowercase();
    CHANNELS.iter().find(|c| **c == wanted).copied()
}

/// `length` decimal digits, each uniform over 0–9: a random byte is used only when it is
/// below 250 (the largest multiple of 10 in a byte), so no digit is favoured.
pub fn generate(length: usize) -> Result<String, RandomUnavailable> {
    let mut out = String::with_capacity(length);
    while out.len() < length {
        let chunk = random_bytes::<32>()?;
        for b in chunk {
            if b < 250 {
                out.push(char::from(b'0' + b % 10));
                if out.len() == length {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// The stored form of a code: HMAC-SHA256 under the server secret, bound to its session
/// so one session's hash says nothing about another's.
pub fn code_mac(secret: &str, session_id: &str, code: &str) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), format!("{session_id}:{code}").as_bytes())
}

/// Whether `candidate` is the code whose MAC is `stored`, in constant time.
pub fn matches(secret: &str, session_id: &str, candidate: &str, stored: &[u8]) -> bool {
    constant_time_eq(&code_mac(secret, session_id, candidate), stored)
}

pub fn is_numeric(code: &str) -> bool {
    !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit())
}

/// Why a session no longer accepts checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    AlreadyVerified,
    MaxAttempts,
    Expired,
}

/// Session ids are ours (`otp_…`, `msg_…`, UUIDs): never longer than this. KV keys are at
/// most 512 bytes, so a longer id is answered as an unknown session without a KV read.
pub const MAX_SESSION_ID_LEN: usize = 64;

/// Whether a client's session id could name a session at all (1 to 64 printable ASCII
/// characters). Anything else is a session that does not exist.
pub fn could_be_session_id(id: &str) -> bool {
    (1..=MAX_SESSION_ID_LEN).contains(&id.len()) && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// An account's OTP sessions are spread over this many Durable Objects (`session_object`).
pub const SESSION_SHARDS: u32 = 16;

/// The name of the Durable Object that holds session `session_id` of `account_id`: one of the
/// account's `SESSION_SHARDS` objects, chosen by the session id (FNV-1a). An account's
/// objects are created by its first sends, so they live near the account's servers, and a
/// send opens a session in an object that already exists (no new object per session).
pub fn session_object(account_id: &str, session_id: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in session_id.bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    shard_object(account_id, hash % SESSION_SHARDS)
}

/// The name of the account's OTP-session object number `shard` (< `SESSION_SHARDS`).
pub fn shard_object(account_id: &str, shard: u32) -> String {
    format!("{account_id}/{shard}")
}

/// The `status` of a check the session refused (already used, attempts spent, expired): a
/// word no client can read as a success, whatever field it looks at.
pub const REFUSED_STATUS: &str = "rejected";

impl Terminal {
    /// Why a check was refused. Never a success word ("already_used", not
    /// "already_verified"): a refused check must not read as a success in any field.
    pub fn reason(self) -> &'static str {
        match self {
            Terminal::AlreadyVerified => "already_used",
            Terminal::MaxAttempts => "max_attempts",
            Terminal::Expired => "expired",
        }
    }

    /// The session's state as the status routes show it.
    pub fn status(self) -> &'static str {
        match self {
            Terminal::AlreadyVerified => "verified",
            Terminal::MaxAttempts => "failed",
            Terminal::Expired => "expired",
        }
    }
}

/// A session's terminal state, if any: a success first, then spent attempts, then time.
pub fn terminal(
    verified: bool,
    attempts: i64,
    max_attempts: i64,
    expires_at_ms: i64,
    now_ms: i64,
) -> Option<Terminal> {
    if verified {
        Some(Terminal::AlreadyVerified)
    } else if attempts >= max_attempts {
        Some(Terminal::MaxAttempts)
    } else if now_ms >= expires_at_ms {
        Some(Terminal::Expired)
    } else {
        None
    }
}

/// Resend rules for one phone: at most `max_sends` per `window_ms`, `interval_ms` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRules {
    pub max_sends: i64,
    pub window_ms: i64,
    pub interval_ms: i64,
}

/// Which rule refuses a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBlock {
    TooSoon,
    WindowFull,
}

/// When the next send is allowed, given the send times (ms) to this phone, and which rule
/// holds it back until then (`None` when a send is allowed now).
pub fn next_send(sends: &[i64], rules: SendRules, now_ms: i64) -> (i64, Option<SendBlock>) {
    let mut in_window: Vec<i64> = sends
        .iter()
        .copied()
        .filter(|t| *t > now_ms - rules.window_ms)
        .collect();
    in_window.sort_unstable();
    let after_interval = in_window
        .last()
        .map_or(now_ms, |last| last + rules.interval_ms);
    let count = in_window.len() as i64;
    let after_window = if count >= rules.max_sends && rules.max_sends > 0 {
        // The send that must leave the window for the count to drop below the maximum.
        let index = (count - rules.max_sends) as usize;
        in_window.get(index).map_or(now_ms, |t| t + rules.window_ms)
    } else if rules.max_sends <= 0 {
        i64::MAX
    } else {
        now_ms
    };
    let next = after_interval.max(after_window).max(now_ms);
    let block = if next <= now_ms {
        None
    } else if after_window >= after_interval {
        Some(SendBlock::WindowFull)
    } else {
        Some(SendBlock::TooSoon)
    };
    (next, block)
}

#[derive(Debug, Deserialize)]
/// An OTP session as the account's list shows it (times in ms).
pub struct SessionRecord {
    pub id: String,
    pub phone: String,
    pub channel: String,
    pub dialect: String,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub verified_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_length_and_only_digits() {
        for len in MIN_LENGTH..=MAX_LENGTH {
            let c = generate(len).unwrap();
            assert_eq!(c.len(), len);
            assert!(is_numeric(&c));
        }
    }

    #[test]
    fn each_digit_position_is_uniform() {
        // 10^5 codes of 6 digits; chi-square over 10 digits (9 d.o.f.). Per position the bound
        // is chi-square(9)'s 1 - 10^-7 quantile (≈ 52), so a correct generator fails this
        // test about once in a million runs. The pooled 6·10^5 digits are held to the
        // 1 - 10^-6 quantile (≈ 46): a modulo-biased generator (byte % 10 without rejection)
        // scores about 225 there, so bias cannot pass.
        const N: usize = 100_000;
        let mut counts = [[0u32; 10]; DEFAULT_LENGTH];
        for _ in 0..N {
            let code = generate(DEFAULT_LENGTH).unwrap();
            for (pos, b) in code.bytes().enumerate() {
                counts[pos][usize::from(b - b'0')] += 1;
            }
        }
        let chi_square = |row: &[u32; 10], n: f64| -> f64 {
            row.iter()
                .map(|&c| (f64::from(c) - n / 10.0).powi(2) / (n / 10.0))
                .sum()
        };
        let mut pooled = [0u32; 10];
        for (pos, row) in counts.iter().enumerate() {
            let chi = chi_square(row, N as f64);
            assert!(chi < 52.0, "position {pos}: chi-square {chi} for {row:?}");
            for (p, c) in pooled.iter_mut().zip(row) {
                *p += c;
            }
        }
        let chi = chi_square(&pooled, (N * DEFAULT_LENGTH) as f64);
        assert!(chi < 46.0, "all positions: chi-square {chi} for {pooled:?}");
    }

    #[test]
    fn mac_binds_code_and_session() {
        let mac = code_mac("secret", "otp_1", "123456");
        assert!(matches("secret", "otp_1", "123456", &mac));
        assert!(!matches("secret", "otp_1", "123457", &mac));
        assert!(!matches("secret", "otp_2", "123456", &mac));
        assert!(!matches("other", "otp_1", "123456", &mac));
    }

    #[test]
    fn terminal_states_in_order() {
        assert_eq!(terminal(false, 0, 5, 1000, 999), None);
        assert_eq!(terminal(false, 4, 5, 1000, 999), None);
        assert_eq!(
            terminal(false, 5, 5, 1000, 999),
            Some(Terminal::MaxAttempts)
        );
        assert_eq!(terminal(false, 0, 5, 1000, 1000), Some(Terminal::Expired));
        assert_eq!(
            terminal(true, 5, 5, 1000, 2000),
            Some(Terminal::AlreadyVerified)
        );
    }

    #[test]
    fn resend_rules() {
        let rules = SendRules {
            max_sends: 5,
            window_ms: 600_000,
            interval_ms: 30_000,
        };
        let now = 10_000_000;
        assert_eq!(next_send(&[], rules, now), (now, None));
        assert_eq!(
            next_send(&[now - 10_000], rules, now),
            (now + 20_000, Some(SendBlock::TooSoon))
        );
        assert_eq!(next_send(&[now - 30_000], rules, now), (now, None));
        let five = [
            now - 500_000,
            now - 400_000,
            now - 300_000,
            now - 200_000,
            now - 100_000,
        ];
        assert_eq!(
            next_send(&five, rules, now),
            (now + 100_000, Some(SendBlock::WindowFull))
        );
        // Older sends than the window do not count.
        assert_eq!(
            next_send(&[now - 700_000, now - 100_000], rules, now),
            (now, None)
        );
        let burst = [now - 4, now - 3, now - 2, now - 1, now];
        let no_gap = SendRules {
            interval_ms: 0,
            ..rules
        };
        assert_eq!(
            next_send(&burst, no_gap, now),
            (now - 4 + 600_000, Some(SendBlock::WindowFull))
        );
    }

    #[test]
    fn a_session_always_lives_in_the_same_object_of_its_account() {
        let a = session_object("acc_1", "otp_abc");
        assert_eq!(a, session_object("acc_1", "otp_abc"));
        assert!(a.starts_with("acc_1/"));
        assert_ne!(a, session_object("acc_2", "otp_abc"));
        // Spread over every shard.
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            seen.insert(session_object("acc_1", &format!("otp_{i:08x}")));
        }
        assert_eq!(seen.len(), SESSION_SHARDS as usize);
    }
}
