//! What the Worker and a session's object say to each other: the commands (`Op`) and the
//! answers (`Outcome`), JSON both ways.
use crate::domain::otp::Terminal;
use crate::domain::otp_check::{Decision, Session};
use serde::{Deserialize, Serialize};

/// A new session, as the send opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub id: String,
    pub account_id: String,
    pub phone: String,
    pub channel: String,
    /// Hex HMAC-SHA256 of the code (`domain::otp::code_mac`).
    pub code_mac: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_attempts: i64,
}

/// What the Worker asks of the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// A new session (a repeated open of the same session changes nothing). `store`: write
    /// it to storage now, because its KV record was not written; otherwise the object keeps
    /// it in memory until a check changes it, and restores it from KV if it restarted.
    Open {
        session: Opening,
        #[serde(default)]
        store: bool,
    },
    /// Check a candidate for `account_id`: `mac` is the candidate's hex MAC.
    /// `key_hash`: the API key presented, which must be a live key of `account_id` (the
    /// object asks the key's object once and keeps the answer); `None` when the caller
    /// has checked the credential itself (a login session).
    Check {
        id: String,
        account_id: String,
        key_hash: Option<String>,
        mac: String,
    },
    /// The session's state, for its owner (already authenticated by the caller).
    Get { id: String, account_id: String },
    /// Approve without a code (Twilio Verify's `Status=approved`): a check whose code
    /// matched, under the same rules.
    Approve {
        id: String,
        account_id: String,
        key_hash: Option<String>,
    },
    /// The key was revoked: refuse it from now on (final).
    RevokeKey { key_hash: String },
    /// A send to a number's verification window (`window`): the send's session, its code's
    /// MAC bound to the number's window (`window::anchor`). Opens a window with `window_id`
    /// when the number has none open, else adds the fresh code to the open one.
    WindowSend { window_id: String, send: Opening },
    /// Check a candidate against every unexpired code of the number's open window, as
    /// `Check` does (same key rule, same counters, one success).
    WindowCheck {
        account_id: String,
        phone: String,
        key_hash: Option<String>,
        mac: String,
    },
}

/// Why a check was not evaluated (`domain::otp::Terminal`, as it travels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    AlreadyVerified,
    MaxAttempts,
    Expired,
}

impl From<Terminal> for Ended {
    fn from(t: Terminal) -> Ended {
        match t {
            Terminal::AlreadyVerified => Ended::AlreadyVerified,
            Terminal::MaxAttempts => Ended::MaxAttempts,
            Terminal::Expired => Ended::Expired,
        }
    }
}

impl From<Ended> for Terminal {
    fn from(e: Ended) -> Terminal {
        match e {
            Ended::AlreadyVerified => Terminal::AlreadyVerified,
            Ended::MaxAttempts => Terminal::MaxAttempts,
            Ended::Expired => Terminal::Expired,
        }
    }
}

/// The object's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Opened,
    Verified {
        session: Session,
    },
    Wrong {
        session: Session,
    },
    Refused {
        ended: Ended,
        session: Session,
    },
    State {
        session: Session,
    },
    /// The object holds no session (never opened here, or cleared long after its end), or
    /// not one of this account: the caller looks in D1.
    Unknown,
    /// The key presented is not a live key of the account: nothing was looked at.
    KeyRefused,
    /// A revocation was recorded.
    Revoked,
    /// The send joined the window `id`: a fresh window, or (`retry`) the number's open one.
    WindowOpened {
        id: String,
        retry: bool,
    },
}

impl Outcome {
    /// The answer to a check that decided `decision`, with the session's state after it.
    pub fn of_check(decision: Decision, session: Session) -> Outcome {
        match decision {
            Decision::Verified => Outcome::Verified { session },
            Decision::Wrong => Outcome::Wrong { session },
            Decision::Refused(t) => Outcome::Refused {
                ended: t.into(),
                session,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            id: "otp_1".into(),
            account_id: "acc".into(),
            phone: "+14155550100".into(),
            channel: "sms".into(),
            created_at: 1,
            expires_at: 2,
            attempts: 1,
            max_attempts: 5,
            verified_at: None,
        }
    }

    #[test]
    fn commands_travel_tagged_and_an_open_stores_only_when_asked() {
        let json = r#"{"op":"open","session":{"id":"s","account_id":"a","phone":"+1",
            "channel":"sms","code_mac":"00","created_at":1,"expires_at":2,"max_attempts":5}}"#;
        let op: Op = serde_json::from_str(json).unwrap();
        assert!(matches!(op, Op::Open { store: false, .. }));
        let revoke = Op::RevokeKey {
            key_hash: "k".into(),
        };
        let text = serde_json::to_string(&revoke).unwrap();
        assert_eq!(text, r#"{"op":"revoke_key","key_hash":"k"}"#);
    }

    #[test]
    fn an_answer_round_trips_with_its_session() {
        let refused = Outcome::of_check(Decision::Refused(Terminal::MaxAttempts), session());
        let text = serde_json::to_string(&refused).unwrap();
        assert!(text.starts_with(r#"{"result":"refused","ended":"max_attempts""#));
        assert_eq!(serde_json::from_str::<Outcome>(&text).unwrap(), refused);
        let wrong = Outcome::of_check(Decision::Wrong, session());
        assert_eq!(wrong, Outcome::Wrong { session: session() });
    }

    #[test]
    fn an_ended_session_says_why_both_ways() {
        for t in [
            Terminal::AlreadyVerified,
            Terminal::MaxAttempts,
            Terminal::Expired,
        ] {
            assert_eq!(Terminal::from(Ended::from(t)), t);
        }
    }
}
