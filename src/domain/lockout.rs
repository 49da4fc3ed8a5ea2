//! Failed-login throttling, beyond the auth rate-limit group: per email (known or not) and
//! per client IP, at most `max_failures` failed attempts per window; one more locks the
//! subject for `lock_ms`, answered 429 with `Retry-After`.
//!
//! Each attempt is counted *before* the password is checked, by one atomic UPSERT in D1
//! (`store::throttle`), and given back when it succeeds. So parallel guesses cannot overrun
//! the limit: of N simultaneous wrong passwords for one email at most `max_failures` are
//! ever evaluated. This module only judges the counted row.

/// The subject keys are hashed so that the table holds no guessed address or client IP.
pub fn email_subject(normalized_email: &str) -> String {
    format!(
        "email:{}",
        super::crypto::sha256_hex(normalized_email.as_bytes())
    )
}

pub fn ip_subject(ip: &str) -> String {
    format!("ip:{}", super::crypto::sha256_hex(ip.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Attempts allowed per window; the next one locks.
    pub max_failures: u32,
    pub window_ms: i64,
    pub lock_ms: i64,
}

/// A throttle row as the counting UPSERT returned it (this attempt included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub failures: i64,
    pub window_start: i64,
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password.
    Proceed,
    /// Refuse without checking. `newly`: this attempt crossed the limit, so the store must
    /// write `until` as the row's `locked_until`.
    Locked {
        until: i64,
        retry_after_secs: u64,
        newly: bool,
    },
}

fn retry_after(until: i64, now_ms: i64) -> u64 {
    let ms = until.saturating_sub(now_ms).max(0);
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

impl LockoutPolicy {
    /// A window that started at or before this instant is over: the next attempt starts a
    /// new one (a bound parameter of the counting UPSERT).
    pub fn stale_before(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.window_ms)
    }

    pub fn judge(&self, row: Counted, now_ms: i64) -> Verdict {
        if let Some(until) = row.locked_until.filter(|u| *u > now_ms) {
            return Verdict::Locked {
                until,
                retry_after_secs: retry_after(until, now_ms),
                newly: false,
            };
        }
        if row.failures > i64::from(self.max_failures) {
            let until = now_ms.saturating_add(self.lock_ms);
            return Verdict::Locked {
                until,
                retry_after_secs: retry_after(until, now_ms),
                newly: true,
            };
        }
        Verdict::Proceed
    }
}

/// Of several subjects' verdicts (email and IP), the one that refuses longest, else Proceed.
pub fn strictest(verdicts: &[Verdict]) -> Verdict {
    verdicts
        .iter()
        .copied()
        .fold(Verdict::Proceed, |acc, v| match (acc, v) {
            (Verdict::Proceed, v) => v,
            (a @ Verdict::Locked { until: ua, .. }, Verdict::Locked { until: ub, .. })
                if ub <= ua =>
            {
                a
            }
            (Verdict::Locked { .. }, b @ Verdict::Locked { .. }) => b,
            (a, Verdict::Proceed) => a,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: LockoutPolicy = LockoutPolicy {
        max_failures: 10,
        window_ms: 900_000,
        lock_ms: 900_000,
    };

    fn counted(failures: i64) -> Counted {
        Counted {
            failures,
            window_start: 0,
            locked_until: None,
        }
    }

    #[test]
    fn ten_attempts_pass_the_eleventh_locks_for_fifteen_minutes() {
        for n in 1..=10 {
            assert_eq!(P.judge(counted(n), 5_000), Verdict::Proceed, "{n}");
        }
        assert_eq!(
            P.judge(counted(11), 5_000),
            Verdict::Locked {
                until: 905_000,
                retry_after_secs: 900,
                newly: true
            }
        );
        assert_eq!(
            P.judge(counted(40), 5_000),
            Verdict::Locked {
                until: 905_000,
                retry_after_secs: 900,
                newly: true
            }
        );
    }

    #[test]
    fn a_standing_lock_refuses_until_it_ends() {
        let locked = Counted {
            failures: 11,
            window_start: 0,
            locked_until: Some(905_000),
        };
        assert_eq!(
            P.judge(locked, 904_001),
            Verdict::Locked {
                until: 905_000,
                retry_after_secs: 1,
                newly: false
            }
        );
        assert_eq!(
            P.judge(locked, 600_000),
            Verdict::Locked {
                until: 905_000,
                retry_after_secs: 305,
                newly: false
            }
        );
        // The store starts a fresh window once the lock is over; a row that still shows
        // an old lock and few failures proceeds.
        let over = Counted {
            failures: 1,
            window_start: 905_000,
            locked_until: Some(905_000),
        };
        assert_eq!(P.judge(over, 905_000), Verdict::Proceed);
        assert_eq!(P.stale_before(1_000_000), 100_000);
    }

    #[test]
    fn subjects_are_hashed_and_distinct() {
        let e = email_subject("alice@example.com");
        assert!(e.starts_with("email:") && e.len() == 6 + 64 && !e.contains("alice"));
        let i = ip_subject("203.0.113.9");
        assert!(i.starts_with("ip:") && !i.contains("203"));
        assert_ne!(ip_subject("203.0.113.9"), ip_subject("203.0.113.10"));
    }

    #[test]
    fn the_strictest_verdict_wins() {
        let a = Verdict::Locked {
            until: 10_000,
            retry_after_secs: 10,
            newly: false,
        };
        let b = Verdict::Locked {
            until: 20_000,
            retry_after_secs: 20,
            newly: true,
        };
        assert_eq!(
            strictest(&[Verdict::Proceed, Verdict::Proceed]),
            Verdict::Proceed
        );
        assert_eq!(strictest(&[Verdict::Proceed, a]), a);
        assert_eq!(strictest(&[a, b]), b);
        assert_eq!(strictest(&[b, a, Verdict::Proceed]), b);
    }
}
