//! The activation state machine. Pure: the Durable Object feeds it
//! the stored state, a command and the clock, and persists what it returns.
//!
//! ```text
//! waiting ──sms──▶ received ──complete──▶ complete
//!    ▲                │
//!    └─────retry──────┘          (earlier SMS stay in the list)
//! waiting after a retry (an SMS received) ──complete──▶ complete
//! waiting (no SMS ever, after the cancel lock) ──cancel──▶ cancelled  (+ refund)
//! expiry: waiting without SMS ──▶ expired (+ refund); received, or waiting after a retry
//! ──▶ complete
//! ```
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Waiting,
    Received,
    Complete,
    Cancelled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Received => "received",
            Status::Complete => "complete",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }

    /// The webhook event that reports reaching this state.
    pub fn event_type(self) -> Option<&'static str> {
        match self {
            Status::Waiting => None,
            Status::Received => Some("activation.sms_received"),
            Status::Complete => Some("activation.completed"),
            Status::Cancelled => Some("activation.cancelled"),
            Status::Expired => Some("activation.expired"),
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Complete | Status::Cancelled | Status::Expired)
    }

    /// Terminal states whose charge is given back.
    pub fn is_refunded(self) -> bool {
        matches!(self, Status::Cancelled | Status::Expired)
    }
}

/// What can happen to an activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// An SMS arrived for the activation's number.
    Sms,
    Complete,
    Cancel,
    Retry,
    /// The lifetime is over (the alarm, or any event arriving after `expires_at`).
    Expire,
}

/// The part of an activation the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub status: Status,
    /// SMS received so far (kept across retries).
    pub sms_count: usize,
    pub cancel_allowed_at_ms: i64,
    pub expires_at_ms: i64,
}

/// Why a command is refused; each becomes a 409 with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The activation already ended in this state.
    AlreadyTerminal { status: Status },
    /// Cancel inside the early-cancel lock; allowed from this instant.
    CancelTooEarly { allowed_at_ms: i64 },
    /// Cancel after an SMS arrived (the number did its job).
    SmsAlreadyReceived,
    /// Complete or retry with no SMS to act on.
    NoSmsYet,
}

/// An accepted command: the new status (possibly unchanged, e.g. a second SMS while received).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: Status,
    /// The SMS is appended to the history.
    pub records_sms: bool,
}

/// Whether the lifetime is over and `Expire` should run before anything else.
pub fn is_due(facts: &Facts, now_ms: i64) -> bool {
    !facts.status.is_terminal() && now_ms >= facts.expires_at_ms
}

pub fn apply(facts: &Facts, command: Command, now_ms: i64) -> Result<Transition, Refusal> {
    use Status::*;
    let stay = |to| {
        Ok(Transition {
            to,
            records_sms: false,
        })
    };
    if facts.status.is_terminal() {
        return Err(Refusal::AlreadyTerminal {
            status: facts.status,
        });
    }
    match (command, facts.status) {
        (Command::Sms, Waiting | Received) => Ok(Transition {
            to: Received,
            records_sms: true,
        }),
        // An SMS received before a retry is still there to complete the activation with.
        (Command::Complete, _) if facts.sms_count > 0 => stay(Complete),
        (Command::Complete, _) => Err(Refusal::NoSmsYet),
        (Command::Retry, Received) => stay(Waiting),
        (Command::Retry, _) => Err(Refusal::NoSmsYet),
        (Command::Cancel, _) if facts.sms_count > 0 => Err(Refusal::SmsAlreadyReceived),
        (Command::Cancel, _) if now_ms < facts.cancel_allowed_at_ms => {
            Err(Refusal::CancelTooEarly {
                allowed_at_ms: facts.cancel_allowed_at_ms,
            })
        }
        (Command::Cancel, _) => stay(Cancelled),
        // A customer who received a code pays for it, even if a retry was pending.
        (Command::Expire, _) if facts.sms_count > 0 => stay(Complete),
        (Command::Expire, _) => stay(Expired),
        (_, Complete | Cancelled | Expired) => Err(Refusal::AlreadyTerminal {
            status: facts.status,
        }),
    }
}

/// One SMS an activation received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsEntry {
    /// Our inbound_sms row id (delivery is idempotent on it).
    pub id: String,
    pub from: String,
    pub text: String,
    pub code: Option<String>,
    pub received_at: String,
}

/// The activation as its object holds it (and answers every change with).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    pub id: String,
    pub number: String,
    pub cost: i64,
    pub status: Status,
    pub sms: Vec<SmsEntry>,
    pub cancel_allowed_at_ms: i64,
    pub expires_at_ms: i64,
    /// The activation's sequence number: its transitions so far (0 at purchase).
    #[serde(default)]
    pub seq: i64,
}

#[derive(Debug, Deserialize)]
/// An activation as the account's list shows it (times in ms).
pub struct Activation {
    pub id: String,
    pub number: String,
    pub country: String,
    pub service: String,
    pub operator: String,
    pub cost: i64,
    pub status: String,
    pub created_at: i64,
    pub cancel_allowed_at: i64,
    pub expires_at: i64,
}

/// One change as replayed to a client: what happened, and the state right after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub kind: super::live::Kind,
    pub view: View,
}

/// A rent: a number leased to an account for `hours`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rent {
    pub id: String,
    pub account_id: String,
    pub number: String,
    pub country: String,
    pub service: String,
    pub operator: String,
    pub hours: i64,
    /// Minor units.
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Command as C;
    use Status::*;

    const LOCK: i64 = 120_000;
    const LIFE: i64 = 1_200_000;

    fn facts(status: Status, sms_count: usize) -> Facts {
        Facts {
            status,
            sms_count,
            cancel_allowed_at_ms: LOCK,
            expires_at_ms: LIFE,
        }
    }

    fn to(status: Status, cmd: Command, sms: usize, now: i64) -> Result<Status, Refusal> {
        apply(&facts(status, sms), cmd, now).map(|t| t.to)
    }

    #[test]
    fn happy_path_waiting_received_complete() {
        let t = apply(&facts(Waiting, 0), C::Sms, 1).unwrap();
        assert_eq!(
            t,
            Transition {
                to: Received,
                records_sms: true
            }
        );
        assert_eq!(to(Received, C::Complete, 1, 2), Ok(Complete));
    }

    #[test]
    fn a_second_sms_while_received_is_recorded() {
        assert_eq!(
            apply(&facts(Received, 1), C::Sms, 5).unwrap(),
            Transition {
                to: Received,
                records_sms: true
            }
        );
    }

    #[test]
    fn retry_goes_back_to_waiting_and_keeps_history() {
        assert_eq!(
            apply(&facts(Received, 1), C::Retry, 5).unwrap(),
            Transition {
                to: Waiting,
                records_sms: false
            }
        );
        assert_eq!(to(Waiting, C::Retry, 0, 5), Err(Refusal::NoSmsYet));
        // After a retry the next SMS is received as usual.
        assert_eq!(to(Waiting, C::Sms, 1, 6), Ok(Received));
    }

    #[test]
    fn complete_needs_an_sms() {
        assert_eq!(to(Waiting, C::Complete, 0, 5), Err(Refusal::NoSmsYet));
        // Waiting again after a retry: the SMS received before it completes the activation.
        assert_eq!(to(Waiting, C::Complete, 1, 5), Ok(Complete));
    }

    #[test]
    fn cancel_rules() {
        assert_eq!(
            to(Waiting, C::Cancel, 0, LOCK - 1),
            Err(Refusal::CancelTooEarly {
                allowed_at_ms: LOCK
            })
        );
        assert_eq!(to(Waiting, C::Cancel, 0, LOCK), Ok(Cancelled));
        assert_eq!(
            to(Received, C::Cancel, 1, LOCK + 1),
            Err(Refusal::SmsAlreadyReceived)
        );
        // Back to waiting after a retry: an SMS has arrived, so no cancel (and no refund).
        assert_eq!(
            to(Waiting, C::Cancel, 1, LOCK + 1),
            Err(Refusal::SmsAlreadyReceived)
        );
    }

    #[test]
    fn expiry() {
        assert_eq!(to(Waiting, C::Expire, 0, LIFE), Ok(Expired));
        assert_eq!(to(Received, C::Expire, 1, LIFE), Ok(Complete));
        assert_eq!(to(Waiting, C::Expire, 2, LIFE), Ok(Complete));
        assert!(is_due(&facts(Waiting, 0), LIFE));
        assert!(!is_due(&facts(Waiting, 0), LIFE - 1));
        assert!(!is_due(&facts(Expired, 0), LIFE + 1));
    }

    #[test]
    fn terminal_states_accept_nothing() {
        for s in [Complete, Cancelled, Expired] {
            for c in [C::Sms, C::Complete, C::Cancel, C::Retry, C::Expire] {
                assert_eq!(
                    to(s, c, 1, LOCK + 1),
                    Err(Refusal::AlreadyTerminal { status: s }),
                    "{s:?} {c:?}"
                );
                assert_eq!(
                    to(s, c, 0, LIFE + 1),
                    Err(Refusal::AlreadyTerminal { status: s }),
                    "{s:?} {c:?}"
                );
            }
        }
    }

    #[test]
    fn exhaustive_non_terminal_table() {
        // Every (status, command, sms seen, clock) combination yields a defined answer, and
        // only cancel/expire without SMS lead to a refunded state.
        for s in [Waiting, Received] {
            for sms in [0usize, 1, 3] {
                if s == Received && sms == 0 {
                    continue; // unreachable: received implies an SMS
                }
                for now in [0, LOCK, LIFE] {
                    for c in [C::Sms, C::Complete, C::Cancel, C::Retry, C::Expire] {
                        if let Ok(t) = apply(&facts(s, sms), c, now) {
                            if t.to.is_refunded() {
                                assert_eq!(sms, 0, "{s:?} {c:?} refunded after an SMS");
                                assert!(matches!(c, C::Cancel | C::Expire));
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(Cancelled.as_str(), "cancelled");
        assert_eq!(serde_json::to_string(&Received).unwrap(), "\"received\"");
        assert!(Expired.is_refunded() && !Complete.is_refunded());
    }
}
