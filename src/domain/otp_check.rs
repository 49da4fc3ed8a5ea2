//! One check of an OTP session, as its Durable Object applies it: pure, so that the rules
//! the object serializes (at most `max_attempts` wrong codes counted, one success, nothing
//! after the end) are unit-tested natively.
use super::otp::{terminal, Terminal};
use serde::{Deserialize, Serialize};

/// The counters of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub attempts: i64,
    pub max_attempts: i64,
    pub verified_at: Option<i64>,
    pub expires_at: i64,
}

impl Counters {
    pub fn new(max_attempts: i64, expires_at: i64) -> Counters {
        Counters {
            attempts: 0,
            max_attempts,
            verified_at: None,
            expires_at,
        }
    }

    pub fn terminal(&self, now_ms: i64) -> Option<Terminal> {
        terminal(
            self.verified_at.is_some(),
            self.attempts,
            self.max_attempts,
            self.expires_at,
            now_ms,
        )
    }

    pub fn remaining(&self) -> i64 {
        if self.verified_at.is_some() {
            0
        } else {
            (self.max_attempts - self.attempts).max(0)
        }
    }
}

/// One session as its checks see it: who and what it is for, and its counters. Read from
/// D1 or from the session's object; the rules of its state are the counters'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub account_id: String,
    pub phone: String,
    pub channel: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub verified_at: Option<i64>,
}

impl Session {
    pub fn counters(&self) -> Counters {
        Counters {
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            verified_at: self.verified_at,
            expires_at: self.expires_at,
        }
    }

    pub fn terminal(&self, now_ms: i64) -> Option<Terminal> {
        self.counters().terminal(now_ms)
    }

    /// Checks left (0 once verified).
    pub fn attempts_remaining(&self) -> i64 {
        self.counters().remaining()
    }

    /// Checks left now: 0 once the session has ended, expiry included.
    pub fn attempts_remaining_at(&self, now_ms: i64) -> i64 {
        match self.terminal(now_ms) {
            Some(_) => 0,
            None => self.attempts_remaining(),
        }
    }

    /// `pending`, `verified`, `failed` or `expired`.
    pub fn status(&self, now_ms: i64) -> &'static str {
        self.terminal(now_ms).map_or("pending", Terminal::status)
    }
}

/// What one check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The right code, the first time: the session is now verified.
    Verified,
    /// A wrong code, counted.
    Wrong,
    /// Nothing was evaluated: the session had already ended.
    Refused(Terminal),
}

impl Decision {
    /// Whether the check changed the counters (and so must be stored before it is answered).
    pub fn counted(self) -> bool {
        !matches!(self, Decision::Refused(_))
    }
}

/// Applies one check (`matched`: the candidate's MAC equals the stored one, compared in
/// constant time by the caller) at `now_ms`.
pub fn apply(c: &mut Counters, matched: bool, now_ms: i64) -> Decision {
    if let Some(t) = c.terminal(now_ms) {
        return Decision::Refused(t);
    }
    if matched {
        c.verified_at = Some(now_ms);
        Decision::Verified
    } else {
        c.attempts += 1;
        Decision::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn live() -> Counters {
        Counters::new(5, NOW + 300_000)
    }

    #[test]
    fn fifty_wrong_codes_count_five() {
        let mut c = live();
        let decisions: Vec<_> = (0..50).map(|_| apply(&mut c, false, NOW)).collect();
        assert_eq!(
            decisions.iter().filter(|d| **d == Decision::Wrong).count(),
            5
        );
        assert!(decisions[5..]
            .iter()
            .all(|d| *d == Decision::Refused(Terminal::MaxAttempts)));
        assert_eq!(c.attempts, 5);
        assert_eq!(c.remaining(), 0);
        // The right code after that is refused too.
        assert_eq!(
            apply(&mut c, true, NOW),
            Decision::Refused(Terminal::MaxAttempts)
        );
    }

    #[test]
    fn twenty_right_codes_verify_once() {
        let mut c = live();
        let decisions: Vec<_> = (0..20).map(|i| apply(&mut c, true, NOW + i)).collect();
        assert_eq!(decisions[0], Decision::Verified);
        assert!(decisions[1..]
            .iter()
            .all(|d| *d == Decision::Refused(Terminal::AlreadyVerified)));
        assert_eq!(c.verified_at, Some(NOW));
    }

    #[test]
    fn remaining_counts_down_and_success_keeps_attempts() {
        let mut c = live();
        assert_eq!(apply(&mut c, false, NOW), Decision::Wrong);
        assert_eq!(c.remaining(), 4);
        assert_eq!(apply(&mut c, true, NOW), Decision::Verified);
        assert_eq!((c.attempts, c.remaining()), (1, 0));
    }

    fn session(c: Counters) -> Session {
        Session {
            id: "otp_1".into(),
            account_id: "a".into(),
            phone: "+14155550100".into(),
            channel: "sms".into(),
            created_at: NOW - 1,
            expires_at: c.expires_at,
            attempts: c.attempts,
            max_attempts: c.max_attempts,
            verified_at: c.verified_at,
        }
    }

    #[test]
    fn a_session_states_its_counters_rules() {
        let mut c = live();
        assert_eq!(session(c).status(NOW), "pending");
        assert_eq!(session(c).attempts_remaining_at(NOW), 5);
        let end = c.expires_at;
        assert_eq!(session(c).status(end), "expired");
        assert_eq!(session(c).attempts_remaining(), 5);
        assert_eq!(session(c).attempts_remaining_at(end), 0);
        apply(&mut c, false, NOW);
        assert_eq!(session(c).counters(), c);
        apply(&mut c, true, NOW);
        assert_eq!(session(c).status(NOW), "verified");
        assert_eq!(session(c).attempts_remaining(), 0);
    }

    #[test]
    fn nothing_counts_after_expiry() {
        let mut c = live();
        let end = c.expires_at;
        assert_eq!(
            apply(&mut c, true, end),
            Decision::Refused(Terminal::Expired)
        );
        assert_eq!(
            apply(&mut c, false, end + 1),
            Decision::Refused(Terminal::Expired)
        );
        assert_eq!(c, live());
        assert!(!Decision::Refused(Terminal::Expired).counted());
    }
}
