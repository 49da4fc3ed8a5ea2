//! A session's channel fallback (its workflow), as pure rules: the steps a send may carry,
//! when each falls due, which one the session's object lets go out next, and the code
//! sealed for the later steps (the same code goes out on every step of a session).
//!
//! A workflow is the ordered list of steps after the send's own first message. Step `i` is
//! `{channel, timeout_s}`: when the message before it (the send's, or step `i - 1`'s) has
//! gone out `timeout_s` seconds ago and the session is still open (not verified, not failed,
//! not expired, not cancelled), it is sent. Each step is charged as it goes out.
use super::crypto::{derived_key, from_hex, hmac_sha256, to_hex};
use serde::{Deserialize, Serialize};

/// The shortest and longest wait before a step, in seconds.
pub const MIN_TIMEOUT_S: i64 = 15;
pub const MAX_TIMEOUT_S: i64 = 900;
/// The most steps a workflow holds after the send's first message.
pub const MAX_STEPS: usize = 3;
/// The longest code a workflow can carry sealed (a code is at most this many bytes).
pub const MAX_SEALED: usize = 32;

/// One step: the channel, and how long the message before it waits unverified first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub channel: String,
    pub timeout_s: i64,
}

/// Why a list of steps is refused (the front door words it in its own protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    TooMany,
    Timeout {
        index: usize,
    },
    /// The steps wait longer in all than the code lives: the last ones could never go out.
    LongerThanLifetime,
}

impl StepError {
    pub fn message(&self) -> String {
        match self {
            StepError::TooMany => format!("at most {MAX_STEPS} fallback steps"),
            StepError::Timeout { index } => format!(
                "step {index}: 'timeout_s' must be {MIN_TIMEOUT_S} to {MAX_TIMEOUT_S} seconds"
            ),
            StepError::LongerThanLifetime => {
                "the steps' timeouts add up to the code's lifetime or more: the last step \
                 could never be sent"
                    .to_owned()
            }
        }
    }
}

/// Checks the steps against the code's lifetime (`ttl_s`). Channels are the caller's to check
/// (which ones a deployment offers is configuration).
pub fn validate(steps: &[Step], ttl_s: i64) -> Result<(), StepError> {
    if steps.len() > MAX_STEPS {
        return Err(StepError::TooMany);
    }
    if let Some(index) =
        (steps.iter()).position(|s| !(MIN_TIMEOUT_S..=MAX_TIMEOUT_S).contains(&s.timeout_s))
    {
        return Err(StepError::Timeout { index });
    }
    if waits_s(steps) >= ttl_s && !steps.is_empty() {
        return Err(StepError::LongerThanLifetime);
    }
    Ok(())
}

/// The steps' waits added up, in seconds.
pub fn waits_s(steps: &[Step]) -> i64 {
    steps.iter().map(|s| s.timeout_s).sum()
}

/// A session's workflow as its object holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub steps: Vec<Step>,
    /// The index of the next step to go out (`steps.len()`: none left).
    pub next: usize,
    /// When the next step falls due (Unix ms).
    pub due_at: i64,
    /// The session's code, sealed (`seal`).
    pub sealed_code: String,
    pub cancelled: bool,
}

/// Which step the caller asks to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// Step `n`, because it fell due (the object's alarm): only if it is still the next one
    /// and due.
    Due(usize),
    /// The next step now, whatever its timeout says (Vonage's `next_workflow`).
    Now,
}

/// Why no step goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoStep {
    /// The session no longer accepts checks (verified, failed, expired) or was cancelled.
    Ended,
    /// Every step has gone out.
    NoneLeft,
    /// The step asked for is not the next one, or not due yet (a late or repeated alarm).
    NotDue,
}

impl Workflow {
    /// The workflow of a session opened at `now_ms`: the first step falls due after its wait.
    pub fn new(steps: Vec<Step>, sealed_code: String, now_ms: i64) -> Option<Workflow> {
        let first = steps.first()?.timeout_s;
        Some(Workflow {
            steps,
            next: 0,
            due_at: now_ms + first * 1000,
            sealed_code,
            cancelled: false,
        })
    }

    /// When the next step falls due, if one is left and the workflow runs.
    pub fn pending_at(&self) -> Option<i64> {
        (!self.cancelled && self.next < self.steps.len()).then_some(self.due_at)
    }

    /// Lets the asked step go out at `now_ms` if the session is `open`: the step's index,
    /// with the workflow moved on (the next step, if any, due after its own wait from now).
    /// Decided in the object with no await before its state is stored, so a check that
    /// verified the session first means the step never goes out.
    pub fn advance(&mut self, asked: Asked, open: bool, now_ms: i64) -> Result<usize, NoStep> {
        if !open || self.cancelled {
            return Err(NoStep::Ended);
        }
        let n = self.next;
        if let Asked::Due(asked) = asked {
            // The step just let out, asked again (its job retried): the same answer, nothing
            // moves; the step's ledger row makes its charge happen once.
            if asked + 1 == n {
                return Ok(asked);
            }
            if asked != n || now_ms < self.due_at {
                return Err(NoStep::NotDue);
            }
        }
        if n >= self.steps.len() {
            return Err(NoStep::NoneLeft);
        }
        self.next = n + 1;
        if let Some(after) = self.steps.get(self.next) {
            self.due_at = now_ms + after.timeout_s * 1000;
        }
        Ok(n)
    }
}

/// The pad that seals a session's code: HMAC under a key derived from the server key for
/// this session alone, so each pad is used for one code only.
fn pad(server_key: &str, session_id: &str) -> [u8; 32] {
    let key = derived_key(server_key, "workflow-code", session_id, 1);
    hmac_sha256(&key, b"pad")
}

/// The code as the object stores it for the later steps (hex; never the code in the clear).
/// `None` for a code longer than `MAX_SEALED` bytes.
pub fn seal(server_key: &str, session_id: &str, code: &str) -> Option<String> {
    let pad = pad(server_key, session_id);
    let bytes = code.as_bytes();
    (bytes.len() <= MAX_SEALED).then(|| {
        let sealed: Vec<u8> = bytes.iter().zip(pad.iter()).map(|(c, p)| c ^ p).collect();
        to_hex(&sealed)
    })
}

/// The code `seal` sealed.
pub fn open(server_key: &str, session_id: &str, sealed: &str) -> Option<String> {
    let pad = pad(server_key, session_id);
    let bytes: Vec<u8> = from_hex(sealed)?
        .iter()
        .zip(pad.iter())
        .map(|(c, p)| c ^ p)
        .collect();
    String::from_utf8(bytes).ok()
}

/// The ledger's and the event's id of a session's step `n` (one charge per step).
pub fn step_id(session_id: &str, n: usize) -> String {
    format!("{session_id}:step{}", n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(channel: &str, timeout_s: i64) -> Step {
        Step {
            channel: channel.into(),
            timeout_s,
        }
    }

    #[test]
    fn steps_wait_15_to_900_seconds_and_fit_in_the_lifetime() {
        assert_eq!(validate(&[], 300), Ok(()));
        assert_eq!(
            validate(&[step("voice", 15), step("sms", 900)], 1000),
            Ok(())
        );
        assert_eq!(
            validate(&[step("voice", 14)], 300),
            Err(StepError::Timeout { index: 0 })
        );
        assert_eq!(
            validate(&[step("voice", 30), step("sms", 901)], 3000),
            Err(StepError::Timeout { index: 1 })
        );
        assert_eq!(
            validate(&[step("voice", 150), step("sms", 150)], 300),
            Err(StepError::LongerThanLifetime)
        );
        let four = vec![step("sms", 15); 4];
        assert_eq!(validate(&four, 3000), Err(StepError::TooMany));
        assert!(StepError::Timeout { index: 1 }
            .message()
            .contains("15 to 900"));
    }

    #[test]
    fn a_due_step_goes_out_once_and_the_next_falls_due_after_its_wait() {
        let mut w = Workflow::new(
            vec![step("voice", 15), step("whatsapp", 30)],
            "00".into(),
            0,
        )
        .unwrap();
        assert_eq!(w.pending_at(), Some(15_000));
        assert_eq!(w.advance(Asked::Due(0), true, 14_999), Err(NoStep::NotDue));
        assert_eq!(w.advance(Asked::Due(0), true, 15_000), Ok(0));
        // The step's job retried: the same step again, nothing moves.
        assert_eq!(w.advance(Asked::Due(0), true, 16_000), Ok(0));
        assert_eq!(w.pending_at(), Some(45_000));
        assert_eq!(w.advance(Asked::Due(1), true, 44_999), Err(NoStep::NotDue));
        assert_eq!(w.advance(Asked::Due(1), true, 45_000), Ok(1));
        assert_eq!(w.pending_at(), None);
        assert_eq!(w.advance(Asked::Now, true, 50_000), Err(NoStep::NoneLeft));
        assert_eq!(w.advance(Asked::Due(0), true, 50_000), Err(NoStep::NotDue));
    }

    #[test]
    fn an_ended_or_cancelled_session_sends_no_step_and_now_skips_the_wait() {
        let mut w = Workflow::new(vec![step("voice", 60)], "00".into(), 0).unwrap();
        assert_eq!(w.advance(Asked::Due(0), false, 60_000), Err(NoStep::Ended));
        assert_eq!(w.advance(Asked::Now, true, 1), Ok(0));
        let mut c = Workflow::new(vec![step("voice", 60)], "00".into(), 0).unwrap();
        c.cancelled = true;
        assert_eq!(c.pending_at(), None);
        assert_eq!(c.advance(Asked::Now, true, 1), Err(NoStep::Ended));
        assert!(Workflow::new(Vec::new(), "00".into(), 0).is_none());
    }

    #[test]
    fn a_sealed_code_opens_only_for_its_session_and_key() {
        let sealed = seal("server", "s1", "123456").unwrap();
        assert_ne!(sealed, to_hex(b"123456"));
        assert_eq!(open("server", "s1", &sealed).as_deref(), Some("123456"));
        assert_ne!(open("server", "s2", &sealed).as_deref(), Some("123456"));
        assert_ne!(open("other", "s1", &sealed).as_deref(), Some("123456"));
        assert_eq!(seal("server", "s1", &"1".repeat(33)), None);
        assert_eq!(step_id("s1", 0), "s1:step1");
    }
}
