//! What the Worker and a session's object say to each other: the commands (`Op`) and the
//! answers (`Outcome`), JSON both ways.
use crate::domain::otp::Terminal;
use crate::domain::otp_check::{Decision, Session};
use crate::domain::workflow::{Asked, NoStep, Workflow};
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
    /// The channel fallback, if the send asked for one (`domain::workflow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Workflow>,
}

/// A workflow step the object let go out: what to send, where (the code still sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepGo {
    pub session_id: String,
    pub account_id: String,
    /// The step's index in the workflow.
    pub n: usize,
    pub channel: String,
    pub phone: String,
    pub sealed_code: String,
    pub expires_at: i64,
}

/// The job the object's alarm queues when a step falls due (`app::jobs`): the job asks the
/// object to let step `n` go out (`Op::Advance`), then charges and sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDue {
    pub account_id: String,
    pub session_id: String,
    pub n: usize,
}

/// What the Worker asks of the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A new session, written to the object's storage before the answer (a repeated open
    /// of the same session changes nothing).
    Open { session: Opening },
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
    /// Cancel a live session (Twilio Verify's `Status=canceled`): it takes no check after
    /// this, serialized with the checks, so a check racing it either approved it first (the
    /// cancel is refused) or is refused. A repeated cancel answers `Cancelled` again.
    Cancel {
        id: String,
        account_id: String,
        key_hash: Option<String>,
    },
    /// The session ended: mirror its last state into D1 now (awaited), whatever was
    /// mirrored before (the scheduled pass asks once per ended session). `State` when the
    /// object holds it, `Unknown` when it does not (D1 then has all there is).
    Settle { id: String, account_id: String },
    /// The key was revoked: refuse it from now on (final).
    RevokeKey { key_hash: String },
    /// The key's scopes changed: ask its object again on its next use.
    KeyChanged { key_hash: String },
    /// Let a workflow step go out (`Workflow::advance`), decided in order with the checks.
    Advance {
        id: String,
        account_id: String,
        asked: Asked,
    },
    /// A JWT id presented until `expires_at` (Unix ms): fresh, or seen before.
    SeeJti { id: String, expires_at: i64 },
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
#[serde(rename_all = "snake_case")]
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
    /// The session is cancelled (by this command or an earlier one).
    Cancelled {
        session: Session,
    },
    /// The object holds no session (never opened here, or cleared long after its end), or
    /// not one of this account: the caller looks in D1.
    Unknown,
    /// The key presented is not a live key of the account: nothing was looked at.
    KeyRefused,
    /// The key presented is live but lacks the `otp:verify` scope: nothing was looked at.
    ScopeRefused,
    /// A revocation was recorded.
    Revoked,
    /// A change of a key was recorded.
    KeyForgotten,
    /// A workflow step may go out: the caller charges and sends it.
    Step {
        go: StepGo,
    },
    /// No workflow step goes out, and why.
    NoStep {
        why: NoStep,
    },
    /// Whether a JWT id was seen for the first time.
    Jti {
        fresh: bool,
    },
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
    fn a_workflow_travels_with_its_opening_and_an_advance_names_its_step() {
        let op = Op::Advance {
            id: "s".into(),
            account_id: "a".into(),
            asked: Asked::Due(1),
        };
        let text = serde_json::to_string(&op).unwrap();
        assert_eq!(
            text,
            r#"{"advance":{"id":"s","account_id":"a","asked":{"due":1}}}"#
        );
        let none = Outcome::NoStep {
            why: NoStep::NoneLeft,
        };
        let text = serde_json::to_string(&none).unwrap();
        assert_eq!(text, r#"{"no_step":{"why":"none_left"}}"#);
    }

    #[test]
    fn commands_travel_named() {
        let json = r#"{"open":{"session":{"id":"s","account_id":"a","phone":"+1",
            "channel":"sms","code_mac":"00","created_at":1,"expires_at":2,"max_attempts":5}}}"#;
        let op: Op = serde_json::from_str(json).unwrap();
        assert!(matches!(op, Op::Open { session } if session.id == "s"));
        let revoke = Op::RevokeKey {
            key_hash: "k".into(),
        };
        let text = serde_json::to_string(&revoke).unwrap();
        assert_eq!(text, r#"{"revoke_key":{"key_hash":"k"}}"#);
    }

    #[test]
    fn an_answer_round_trips_with_its_session() {
        let refused = Outcome::of_check(Decision::Refused(Terminal::MaxAttempts), session());
        let text = serde_json::to_string(&refused).unwrap();
        assert!(text.starts_with(r#"{"refused":{"ended":"max_attempts""#));
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
