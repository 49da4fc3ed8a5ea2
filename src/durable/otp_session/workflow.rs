//! The workflow engine: a session's channel fallback, run by the session's object.
//!
//! API (the Worker's side, `app::otp::send` and `app::workflow`): a send passes its steps
//! after the first message (`OtpSend::fallback`, a list of `domain::workflow::Step
//! {channel, timeout_s}`); the session is opened with its `Workflow` (the code sealed for the
//! later steps) and stored at once. Then:
//! - the object keeps one storage key per running workflow (`wf:<id>`: when its next step
//!   falls due) and arms its alarm for the earliest; the alarm queues a `StepDue` job per
//!   step that fell due (`JOBS`), and looks again a while later in case the job was lost;
//! - the job asks `Op::Advance { asked: Due(n) }`: the object lets step `n` go out only if
//!   the session is still open and `n` is its next step (`Workflow::advance`, decided with no
//!   await before the new state is stored, in order with the checks: a step that lost the
//!   race to a right code never goes out), and answers `Outcome::Step` with what to send;
//!   the job then charges the step and sends it (`app::workflow`); a retried job asking for
//!   the step just let out gets the same answer (the step's ledger row charges it once);
//! - `Op::Advance { asked: Now }` sends the next step at once (Vonage's `next_workflow`);
//! - `Op::Cancel` ends the session and its workflow; a check is answered as before (0 far
//!   round trips: the check never waits on the workflow).
//! - A number's verification window (`window`) runs the workflow of its latest send the same
//!   way, under its anchor (`wf:w:<phone>`), in order with the window's checks: a step goes
//!   out only while no code of the window has verified (and only when due: no `Now`).
use super::protocol::StepGo;
use super::state::Stored;
use super::window::Window;
use crate::domain::workflow::{Asked, NoStep};

/// The storage key of a running workflow (its value: when its next step falls due).
pub const WORKFLOW_PREFIX: &str = "wf:";
/// How soon the alarm looks at a step again after queueing its job (the job may be lost).
pub const STEP_RETRY_MS: i64 = 60_000;

pub fn workflow_key(id: &str) -> String {
    format!("{WORKFLOW_PREFIX}{id}")
}

/// Lets the asked step of `s` go out at `now_ms` (the state changes only when it does).
pub fn advance(s: &mut Stored, asked: Asked, now_ms: i64) -> Result<StepGo, NoStep> {
    let open = s.counters.terminal(now_ms).is_none();
    let Some(w) = s.session.workflow.as_mut() else {
        return Err(NoStep::NoneLeft);
    };
    let n = w.advance(asked, open, now_ms)?;
    let channel = w.steps.get(n).map(|st| st.channel.clone());
    let sealed_code = w.sealed_code.clone();
    let session = &s.session;
    Ok(StepGo {
        session_id: session.id.clone(),
        account_id: session.account_id.clone(),
        n,
        channel: channel.unwrap_or_default(),
        phone: session.phone.clone(),
        sealed_code,
        expires_at: session.expires_at,
    })
}

/// When the workflow of `s` next needs the alarm, if it runs.
pub fn pending_at(s: &Stored, now_ms: i64) -> Option<i64> {
    let w = s.session.workflow.as_ref()?;
    s.counters.terminal(now_ms).is_none().then_some(())?;
    w.pending_at()
}

/// Where a workflow runs: a session, or a number's verification window (its steps those of
/// the window's latest send; its storage key names the window's anchor).
pub enum Flow {
    Session(Stored),
    Window(Window),
}

impl Flow {
    pub fn stored(&self) -> &Stored {
        match self {
            Flow::Session(s) => s,
            Flow::Window(w) => &w.current,
        }
    }

    pub fn stored_mut(&mut self) -> &mut Stored {
        match self {
            Flow::Session(s) => s,
            Flow::Window(w) => &mut w.current,
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod object {
    use super::super::object::OtpSession;
    use super::super::protocol::{Outcome, StepDue};
    use super::super::window::WINDOW_PREFIX;
    use super::{advance, pending_at, workflow_key, Flow, STEP_RETRY_MS, WORKFLOW_PREFIX};
    use crate::clock::now_ms;
    use crate::domain::workflow::Asked;
    use serde::Serialize;
    use worker::{console_error, Result};

    /// The queue the step jobs go to (`wrangler.toml`), as `app::jobs` reads them.
    const QUEUE: &str = "JOBS";

    /// A step job as `app::jobs::Job` reads it.
    #[derive(Serialize)]
    #[serde(tag = "job", rename_all = "snake_case")]
    enum Queued<'a> {
        WorkflowStep(&'a StepDue),
    }

    impl OtpSession {
        /// Notes when the workflow of `id` next needs the alarm (or that it needs none).
        pub(in super::super) async fn schedule(&self, id: &str, at: Option<i64>) -> Result<()> {
            let storage = self.state.storage();
            match at {
                Some(at) => {
                    storage.put(&workflow_key(id), at).await?;
                    self.alarm_by(at).await
                }
                None => storage.delete(&workflow_key(id)).await.map(|_| ()),
            }
        }

        /// `Op::Advance`: of a session, or (`id` a window's anchor) of a number's window,
        /// whose steps go out only when due.
        pub(in super::super) async fn advance(
            &self,
            id: &str,
            account_id: &str,
            asked: Asked,
        ) -> Result<Outcome> {
            let Some(mut flow) = self.load_flow(id, true).await? else {
                return Ok(Outcome::Unknown);
            };
            let windowed = matches!(flow, Flow::Window(_));
            if flow.stored().session.account_id != account_id || windowed && asked == Asked::Now {
                return Ok(Outcome::Unknown);
            }
            let now = now_ms();
            // From `load` to the storage write nothing is awaited (as for a check).
            let outcome = match advance(flow.stored_mut(), asked, now) {
                Ok(go) => {
                    self.save_flow(&flow).await?;
                    Outcome::Step { go }
                }
                Err(why) => Outcome::NoStep { why },
            };
            self.schedule(id, pending_at(flow.stored(), now)).await?;
            Ok(outcome)
        }

        /// The session or window a workflow runs in (`restore`: a session may be restored
        /// from the KV record its send wrote when the open failed).
        async fn load_flow(&self, id: &str, restore: bool) -> Result<Option<Flow>> {
            if let Some(phone) = id.strip_prefix(WINDOW_PREFIX) {
                return Ok(self.load_window(phone).await?.map(Flow::Window));
            }
            let s = match restore {
                true => self.load_or_restore(id).await?,
                false => self.load(id).await?,
            };
            Ok(s.map(Flow::Session))
        }

        async fn save_flow(&self, flow: &Flow) -> Result<()> {
            match flow {
                Flow::Session(s) => self.save(s).await,
                Flow::Window(w) => self.save_window(w).await,
            }
        }

        /// The alarm's part: queues a job for each step that fell due, forgets workflows
        /// that ended, and keeps the alarm for the next step due.
        pub(in super::super) async fn run_workflows(&self) -> Result<()> {
            let now = now_ms();
            let mut next: Option<i64> = None;
            for (key, value) in self.list(WORKFLOW_PREFIX).await? {
                let id = key.trim_start_matches(WORKFLOW_PREFIX).to_owned();
                let due = value.as_f64().map_or(0, |d| d as i64);
                if due > now {
                    next = Some(next.map_or(due, |n| n.min(due)));
                    continue;
                }
                match self.due_step(&id, now).await? {
                    Some(at) => {
                        self.state.storage().put(&key, at).await?;
                        next = Some(next.map_or(at, |n| n.min(at)));
                    }
                    None => {
                        self.state.storage().delete(&key).await?;
                    }
                }
            }
            if let Some(at) = next {
                self.alarm_by(at).await?;
            }
            Ok(())
        }

        /// A workflow whose key fell due: queues its step's job if the step is due; returns
        /// when to look again (`None`: the workflow is over).
        async fn due_step(&self, id: &str, now: i64) -> Result<Option<i64>> {
            let Some(flow) = self.load_flow(id, false).await? else {
                return Ok(None);
            };
            let s = flow.stored();
            let Some(due) = pending_at(s, now) else {
                return Ok(None);
            };
            if due > now {
                return Ok(Some(due));
            }
            let n = s.session.workflow.as_ref().map_or(0, |w| w.next);
            let job = StepDue {
                account_id: s.session.account_id.clone(),
                session_id: id.to_owned(),
                n,
            };
            // Noted before the job is queued: the job's advance may run meanwhile, and its
            // own note (the step after) is the one that must stay.
            let retry = now + STEP_RETRY_MS;
            self.state.storage().put(&workflow_key(id), retry).await?;
            match self.queue(&job).await {
                // The job's advance may already have moved the workflow on.
                Ok(()) => {
                    let flow = self.load_flow(id, false).await?;
                    Ok(match flow.and_then(|f| pending_at(f.stored(), now)) {
                        Some(at) if at > now => Some(at),
                        Some(_) => Some(retry),
                        None => None,
                    })
                }
                Err(e) => {
                    console_error!("workflow step of {id} not queued: {e}");
                    Ok(Some(now + 5_000))
                }
            }
        }

        async fn queue(&self, job: &StepDue) -> Result<()> {
            let body = serde_json::to_string(&Queued::WorkflowStep(job))?;
            self.env.queue(QUEUE)?.send(body).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::protocol::Opening;
    use super::*;
    use crate::domain::otp_check::Decision;
    use crate::domain::workflow::{Step, Workflow};

    const NOW: i64 = 1_000_000;

    fn session(steps: Vec<Step>) -> Stored {
        Stored::opened(Opening {
            id: "s1".into(),
            account_id: "acc".into(),
            phone: "+14155550100".into(),
            channel: "sms".into(),
            code_mac: "00".into(),
            created_at: NOW,
            expires_at: NOW + 600_000,
            max_attempts: 5,
            workflow: Workflow::new(steps, "ab".into(), NOW),
        })
    }

    fn voice() -> Vec<Step> {
        vec![Step {
            channel: "voice".into(),
            timeout_s: 30,
        }]
    }

    #[test]
    fn a_due_step_goes_out_with_the_sessions_phone_and_sealed_code() {
        let mut s = session(voice());
        assert_eq!(pending_at(&s, NOW), Some(NOW + 30_000));
        let go = advance(&mut s, Asked::Due(0), NOW + 30_000).unwrap();
        assert_eq!(
            (go.n, go.channel.as_str(), go.phone.as_str()),
            (0, "voice", "+14155550100")
        );
        assert_eq!(
            (go.sealed_code.as_str(), go.expires_at),
            ("ab", NOW + 600_000)
        );
        assert_eq!(pending_at(&s, NOW + 30_000), None);
        assert_eq!(
            advance(&mut s, Asked::Now, NOW + 31_000),
            Err(NoStep::NoneLeft)
        );
    }

    #[test]
    fn a_verified_or_cancelled_session_sends_nothing_more() {
        let mut verified = session(voice());
        verified.counters.verified_at = Some(NOW + 1);
        assert_eq!(
            advance(&mut verified, Asked::Due(0), NOW + 30_000),
            Err(NoStep::Ended)
        );
        assert_eq!(pending_at(&verified, NOW), None);
        let mut cancelled = session(voice());
        assert_eq!(cancelled.cancel(NOW + 5), Ok(true));
        assert_eq!(cancelled.cancel(NOW + 6), Ok(false));
        assert_eq!(
            cancelled.counters.terminal(NOW + 5),
            Some(crate::domain::otp::Terminal::Expired)
        );
        assert_eq!(
            advance(&mut cancelled, Asked::Now, NOW + 6),
            Err(NoStep::Ended)
        );
        let mut plain = session(Vec::new());
        assert_eq!(advance(&mut plain, Asked::Now, NOW), Err(NoStep::NoneLeft));
        assert_eq!(workflow_key("s1"), "wf:s1");
    }

    #[test]
    fn a_windows_steps_are_its_latest_sends_and_stop_once_any_code_verifies() {
        let opening = |id: &str, mac: &str, steps: Vec<Step>| Opening {
            id: id.into(),
            code_mac: mac.into(),
            ..session(steps).session
        };
        let first = opening("s1", "aa", voice());
        let mut w = Window::open("vrf_1".into(), first);
        let mut retried = w.clone();
        retried.add(opening("s2", "bb", Vec::new()), NOW + 1);
        assert_eq!(
            pending_at(&retried.current, NOW + 1),
            None,
            "a retry's steps replace"
        );
        let mut flow = Flow::Window(w.clone());
        assert_eq!(pending_at(flow.stored(), NOW), Some(NOW + 30_000));
        let go = advance(flow.stored_mut(), Asked::Due(0), NOW + 30_000).unwrap();
        assert_eq!(
            (go.session_id.as_str(), go.channel.as_str()),
            ("s1", "voice")
        );
        assert_eq!(w.check("aa", NOW + 10).0, Decision::Verified);
        assert_eq!(
            advance(&mut w.current, Asked::Due(0), NOW + 30_000),
            Err(NoStep::Ended)
        );
    }
}
