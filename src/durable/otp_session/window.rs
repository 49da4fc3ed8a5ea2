//! A number's verification window, as its object holds it: the codes sent to the number
//! while the window is open (each send of the window issues a fresh code, and any of its
//! codes that has not expired verifies), with ONE set of counters for the whole window
//! (attempts count across its sends; one success ends it). A send when the number's window
//! has ended (verified, attempts spent, every code expired) opens a new window.
//!
//! The window lives in the object its number names (`anchor`), under `window_key`, so a
//! check by number finds it without D1. Its codes' MACs are bound to the anchor, so the
//! Worker can compute a candidate's MAC from the number alone.
use super::protocol::Opening;
use super::state::{mac_matches, Stored, KEEP_AFTER_END_MS};
use crate::domain::otp_check::{apply, Decision, Session};
use serde::{Deserialize, Serialize};

pub const WINDOW_PREFIX: &str = "w:";
/// Codes a window keeps (the resend rules allow fewer sends in a window's lifetime).
const MAX_CODES: usize = 16;

/// The name a number's window goes by: its object (`domain::otp::session_object`) and the
/// id its codes' MACs are bound to.
pub fn anchor(phone: &str) -> String {
    format!("{WINDOW_PREFIX}{phone}")
}

/// The storage key of a number's window.
pub fn window_key(phone: &str) -> String {
    anchor(phone)
}

/// One code of a window: the send that carried it, its MAC and when it stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCode {
    pub session_id: String,
    pub mac: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub id: String,
    /// The window's state as a session: the send D1 mirrors it into (the latest, or the
    /// one whose code verified) and the window-wide counters (expiry: its last code's).
    pub current: Stored,
    pub codes: Vec<WindowCode>,
}

impl Window {
    /// A new window holding the code of `send`.
    pub fn open(id: String, send: Opening) -> Window {
        let code = code_of(&send);
        Window {
            id,
            current: Stored::opened(send),
            codes: vec![code],
        }
    }

    /// Whether the window still takes checks (and so a send joins it as a retry).
    pub fn is_open(&self, now_ms: i64) -> bool {
        self.current.counters.terminal(now_ms).is_none()
    }

    /// Adds a send's fresh code to the open window: its expiry extends the window's, its
    /// attempts stay counted. Expired codes are dropped.
    pub fn add(&mut self, send: Opening, now_ms: i64) {
        self.codes.retain(|c| c.expires_at > now_ms);
        if self.codes.len() >= MAX_CODES {
            self.codes.remove(0);
        }
        self.codes.push(code_of(&send));
        let expires_at = self.current.counters.expires_at.max(send.expires_at);
        self.current.counters.expires_at = expires_at;
        self.current.session = Opening { expires_at, ..send };
    }

    /// Applies one check: `mac` (the candidate's hex MAC) against every unexpired code, then
    /// the window's counters. Returns the decision and whether the state changed, which must
    /// then be stored before the answer.
    pub fn check(&mut self, mac: &str, now_ms: i64) -> (Decision, bool) {
        // Every code is compared (no early exit): the time taken says nothing of which.
        let matched = self
            .codes
            .iter()
            .filter(|c| c.expires_at > now_ms)
            .fold(None, |found, c| match mac_matches(&c.mac, mac) {
                true => Some(c.session_id.clone()),
                false => found,
            });
        let verified = matched.is_some();
        if let Some(session_id) = matched {
            self.current.session.id = session_id;
        }
        let decision = apply(&mut self.current.counters, verified, now_ms);
        let expired = decision == Decision::Refused(crate::domain::otp::Terminal::Expired);
        let newly_expired = expired && !std::mem::replace(&mut self.current.expiry_seen, true);
        (decision, decision.counted() || newly_expired)
    }

    /// The window as a session, under the window's id.
    pub fn row(&self) -> Session {
        Session {
            id: self.id.clone(),
            ..self.current.row()
        }
    }

    /// When the sweep clears it.
    pub fn cleanup_at(&self) -> i64 {
        self.current.counters.expires_at + KEEP_AFTER_END_MS
    }
}

fn code_of(send: &Opening) -> WindowCode {
    WindowCode {
        session_id: send.id.clone(),
        mac: send.code_mac.clone(),
        expires_at: send.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::to_hex;
    use crate::domain::otp::{code_mac, Terminal};

    const NOW: i64 = 1_000_000;
    const PHONE: &str = "+14155550100";

    fn mac(code: &str) -> String {
        to_hex(&code_mac("secret", &anchor(PHONE), code))
    }

    fn send(id: &str, code: &str, expires_at: i64) -> Opening {
        Opening {
            id: id.into(),
            account_id: "acc".into(),
            phone: PHONE.into(),
            channel: "sms".into(),
            code_mac: mac(code),
            created_at: NOW,
            expires_at,
            max_attempts: 5,
            workflow: None,
        }
    }

    #[test]
    fn every_unexpired_code_of_the_window_verifies_once() {
        let mut w = Window::open("vrf_1".into(), send("s1", "111111", NOW + 60_000));
        w.add(send("s2", "222222", NOW + 90_000), NOW + 10);
        assert_eq!(w.codes.len(), 2);
        assert_eq!(w.row().expires_at, NOW + 90_000);
        assert_eq!(w.row().id, "vrf_1");
        let mut other = w.clone();
        assert_eq!(
            w.check(&mac("111111"), NOW + 20),
            (Decision::Verified, true)
        );
        assert_eq!(w.current.session.id, "s1");
        assert_eq!(other.check(&mac("222222"), NOW + 20).0, Decision::Verified);
        assert_eq!(other.current.session.id, "s2");
        let again = w.check(&mac("222222"), NOW + 30);
        assert_eq!(again, (Decision::Refused(Terminal::AlreadyVerified), false));
        assert!(!w.is_open(NOW + 30));
    }

    #[test]
    fn an_expired_code_no_longer_verifies_but_the_window_lives_on_its_last() {
        let mut w = Window::open("vrf_1".into(), send("s1", "111111", NOW + 60_000));
        w.add(send("s2", "222222", NOW + 120_000), NOW + 10);
        assert_eq!(
            w.check(&mac("111111"), NOW + 60_000),
            (Decision::Wrong, true)
        );
        assert!(w.is_open(NOW + 60_000));
        w.add(send("s3", "333333", NOW + 130_000), NOW + 70_000);
        assert_eq!(w.codes.len(), 2, "the expired code is dropped");
        let end = w.check(&mac("222222"), NOW + 130_000);
        assert_eq!(end, (Decision::Refused(Terminal::Expired), true));
        assert!(
            !w.check(&mac("222222"), NOW + 130_000).1,
            "an expiry is seen once"
        );
    }

    #[test]
    fn attempts_count_across_the_window_sends() {
        let mut w = Window::open("vrf_1".into(), send("s1", "111111", NOW + 60_000));
        for _ in 0..4 {
            assert_eq!(w.check(&mac("000000"), NOW).0, Decision::Wrong);
        }
        w.add(send("s2", "222222", NOW + 60_000), NOW);
        assert_eq!(w.row().attempts, 4);
        assert_eq!(w.check(&mac("000000"), NOW).0, Decision::Wrong);
        let spent = w.check(&mac("222222"), NOW);
        assert_eq!(spent, (Decision::Refused(Terminal::MaxAttempts), false));
        assert!(!w.is_open(NOW));
        assert_eq!(w.cleanup_at(), NOW + 60_000 + KEEP_AFTER_END_MS);
    }

    #[test]
    fn a_mac_that_is_not_hex_never_matches() {
        let mut w = Window::open("vrf_1".into(), send("s1", "111111", NOW + 60_000));
        assert_eq!(w.check("zz", NOW).0, Decision::Wrong);
        assert_eq!(window_key(PHONE), "w:+14155550100");
    }
}
