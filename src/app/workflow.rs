//! The channel fallback's operations (the engine itself runs in the session's object:
//! `durable::otp_session`'s `workflow`): the steps a send may carry, checked (`steps`); a
//! step that fell due (`run`, the queued job) or was asked for now (`next`), charged and
//! sent. A cancel, which ends the session and its workflow, is `otp::cancel`.
//!
//! A step goes out only once the session's object let it (`Op::Advance`, in order with the
//! checks): a step that lost the race to a right code is neither sent nor charged. Then it
//! is one D1 batch: the step's guarded insert (priced for its channel, refused when D1 knows
//! the session verified), its charge by the send path's one charge step
//! (`codes::charge`: one ledger row, the spend caps in the same batch), the sandbox's outbox
//! row, its `otp.step` event and, for a Vonage request, its `event` callback. The fraud guard
//! decides each step first. A step refused
//! (blocked, no price, no money, a cap) records `otp.step` as `failed` and charges nothing;
//! the workflow goes on with the next step when it falls due.
use super::codes::{self, channel};
use super::{fraud, jobs, otp, webhooks, App};
use crate::config::server_key;
use crate::domain::error::{AppError, Code};
use crate::domain::events;
use crate::domain::ids::{new_id, AccountId};
use crate::domain::otp as rules;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::vonage_callback::{event_body, StepEvent};
use crate::domain::workflow::{self, Asked, NoStep, Step};
use crate::durable::otp_session::{self, Op, Outcome, StepDue, StepGo};
use crate::providers::{self, Configured, Outgoing, Provider};
use crate::store;
use crate::store::messages::{outbox_statement, OutboxEntry};
use crate::store::vonage;
use crate::store::webhooks::{event_statement, Event};
use crate::store::workflow::{self as stored, NewStep, Refused, COST_OF_STEP};
use worker::{console_error, console_log, Context, Env};

/// The steps a send asked for (`(channel, timeout_s)` as given), checked: each channel one
/// this deployment delivers on, each wait 15 to 900 seconds, all of them within the code's
/// lifetime (`ttl_secs`). A missing wait is `default_timeout_s`.
pub fn steps(
    app: &App,
    asked: &[(Option<&str>, Option<i64>)],
    default_timeout_s: Option<i64>,
    ttl_secs: u32,
) -> Result<Vec<Step>, AppError> {
    let mut out = Vec::with_capacity(asked.len());
    for (i, (name, timeout_s)) in asked.iter().enumerate() {
        let channel = channel(app, *name)?;
        let timeout_s = timeout_s
            .or(default_timeout_s)
            .ok_or_else(|| AppError::invalid(format!("step {i}: 'timeout_s' is required")))?;
        out.push(Step {
            channel: channel.to_owned(),
            timeout_s,
        });
    }
    workflow::validate(&out, i64::from(ttl_secs)).map_err(|e| AppError::invalid(e.message()))?;
    Ok(out)
}

/// The queued job of a step that fell due (`durable::otp_session`'s alarm queues it).
pub async fn run(env: Env, wctx: Context, due: StepDue) -> Result<(), AppError> {
    let app = App::background(env, wctx);
    match advance(&app, &due.account_id, &due.session_id, Asked::Due(due.n)).await? {
        Ok(go) => send_step(&app, &go).await,
        // Sent already, not due yet, or the session ended: nothing to do.
        Err(_) => Ok(()),
    }
}

/// Sends the session's next step now (Vonage's `next_workflow`): 404 when the session is
/// unknown or has ended, `Conflict` when every step has gone out.
pub async fn next(app: &App, account: &AccountId, session_id: &str) -> Result<(), AppError> {
    match advance(app, account.as_str(), session_id, Asked::Now).await? {
        Ok(go) => send_step(app, &go).await,
        Err(NoStep::NoneLeft) => Err(AppError::new(
            Code::Conflict,
            "There are no more events left to trigger.",
        )),
        Err(_) => Err(AppError::not_found("session")),
    }
}

async fn call(app: &App, account_id: &str, id: &str, op: &Op) -> Result<Outcome, AppError> {
    if !rules::could_be_session_id(id) {
        return Ok(Outcome::Unknown);
    }
    otp_session::call(&app.env, &rules::session_object(account_id, id), op).await
}

/// Asks the session's object to let a step go out.
async fn advance(
    app: &App,
    account_id: &str,
    session_id: &str,
    asked: Asked,
) -> Result<Result<StepGo, NoStep>, AppError> {
    let op = Op::Advance {
        id: session_id.to_owned(),
        account_id: account_id.to_owned(),
        asked,
    };
    match call(app, account_id, session_id, &op).await? {
        Outcome::Step { go } => Ok(Ok(go)),
        Outcome::NoStep { why } => Ok(Err(why)),
        _ => Ok(Err(NoStep::Ended)),
    }
}

/// A step the object let go out: the fraud guard, then the step's batch, then a real
/// provider (a refusal there is refunded, as a send's is).
async fn send_step(app: &App, go: &StepGo) -> Result<(), AppError> {
    let phone = Phone::parse(&go.phone, PlusSign::Required)
        .map_err(|_| AppError::internal("a session's phone does not parse"))?;
    let attempt = fraud::Attempt {
        account_id: &go.account_id,
        phone: &phone,
        channel: &go.channel,
        dialect: "workflow",
    };
    match fraud::guard(app, &attempt).await {
        Err(e) if e.code == Code::SendBlocked => {
            return failed(app, go, e.reason.unwrap_or("blocked")).await;
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let code = workflow::open(&server_key(&app.env)?, &go.session_id, &go.sealed_code)
        .ok_or_else(|| AppError::internal("a workflow's code does not open"))?;
    let left_s = u32::try_from((go.expires_at - app.now_ms).max(0) / 1000).unwrap_or(0);
    let text = otp::default_text(&code, left_s);
    let provider = providers::configured(&app.env, &app.config, &go.channel);
    let sandbox = matches!(provider, Ok(Configured::Sandbox(_)));
    let step_id = workflow::step_id(&go.session_id, go.n);
    match commit(app, go, &phone, &step_id, sandbox.then_some(text.as_str())).await {
        Ok(()) => {}
        Err(Some(Refused::AlreadySent)) => return Ok(()),
        Err(Some(why)) => return failed(app, go, refusal(why)).await,
        Err(None) => return Err(AppError::internal("workflow step batch failed")),
    }
    webhooks::kick_soon(app, &go.account_id);
    console_log!(
        "otp step sent session={} step={} channel={}",
        go.session_id,
        go.n + 1,
        go.channel
    );
    let provider = match provider {
        Ok(Configured::Sandbox(_)) => return Ok(()),
        Ok(provider) => provider,
        Err(e) => return refund(app, go, &step_id, e).await,
    };
    let outgoing = Outgoing {
        to: &go.phone,
        channel: &go.channel,
        sender: None,
        text: &text,
        code: Some(&code),
        object_id: &go.session_id,
    };
    match provider.deliver(&outgoing, app.now_ms).await {
        Ok(_) => Ok(()),
        Err(e) => refund(app, go, &step_id, e).await,
    }
}

fn refusal(why: Refused) -> &'static str {
    match why {
        Refused::NoPrice => "no_price",
        Refused::Verified => "verified",
        Refused::AccountInactive => "account_inactive",
        Refused::Overdraft => "insufficient_funds",
        Refused::SpendCap => "spend_cap_reached",
        Refused::AlreadySent => "already_sent",
    }
}

/// The step's batch; `Err(None)`: D1 failed for another reason (the job is retried).
async fn commit(
    app: &App,
    go: &StepGo,
    phone: &Phone,
    step_id: &str,
    sandbox_text: Option<&str>,
) -> Result<(), Option<Refused>> {
    let statements = statements(app, go, phone, step_id, sandbox_text).map_err(|e| {
        console_error!("workflow step {step_id}: {}", e.detail());
        None
    })?;
    let db = app.db().map_err(|_| None)?;
    match store::batch(&db, statements).await {
        Ok(_) => Ok(()),
        Err(e) => Err(stored::refused(&e).or_else(|| {
            console_error!("workflow step {step_id} batch: {e}");
            None
        })),
    }
}

fn statements(
    app: &App,
    go: &StepGo,
    phone: &Phone,
    step_id: &str,
    sandbox_text: Option<&str>,
) -> Result<Vec<worker::D1PreparedStatement>, AppError> {
    let db = app.db()?;
    let country = phone
        .country()
        .ok_or_else(|| codes::no_price(phone, &go.channel))?;
    let step = NewStep {
        id: step_id,
        session_id: &go.session_id,
        account_id: &go.account_id,
        n: go.n,
        channel: &go.channel,
        country,
        created_at: app.now_ms,
    };
    let mut out = vec![stored::insert_statement(&db, &step)?];
    out.extend(codes::charge(
        app,
        &db,
        &go.account_id,
        step_id,
        COST_OF_STEP,
    )?);
    if let Some(text) = sandbox_text {
        let entry = OutboxEntry {
            id: &new_id("out")?,
            to: &go.phone,
            channel: &go.channel,
            sender: None,
            text,
            object_id: &go.session_id,
            created_at: app.now_ms,
        };
        out.push(outbox_statement(&db, &entry)?);
    }
    out.push(step_event(&db, app, go, step_id, None)?);
    out.push(vonage_event(&db, app, go, step_id, "sent")?);
    Ok(out)
}

/// The step's `event` callback, for a Vonage request of an application that takes them.
fn vonage_event(
    db: &worker::D1Database,
    app: &App,
    go: &StepGo,
    step_id: &str,
    status: &str,
) -> Result<worker::D1PreparedStatement, AppError> {
    let data = event_body(&StepEvent {
        request_id: &go.session_id,
        channel: &go.channel,
        status,
        at_ms: app.now_ms,
    });
    Ok(vonage::event_statement(
        db,
        &go.session_id,
        step_id,
        &data,
        app.now_ms,
    )?)
}

fn step_event(
    db: &worker::D1Database,
    app: &App,
    go: &StepGo,
    step_id: &str,
    error: Option<&str>,
) -> Result<worker::D1PreparedStatement, AppError> {
    let status = if error.is_some() { "failed" } else { "sent" };
    let event = Event {
        account_id: &go.account_id,
        event_type: "otp.step",
        object_id: step_id,
        version: 0,
        data: events::otp_step(&go.session_id, go.n, &go.channel, status, error),
    };
    Ok(event_statement(db, &event, app.now_ms)?)
}

/// A step refused before it went out: `otp.step` `failed` with why, nothing charged.
async fn failed(app: &App, go: &StepGo, why: &str) -> Result<(), AppError> {
    let step_id = workflow::step_id(&go.session_id, go.n);
    let db = app.db()?;
    let statements = vec![
        step_event(&db, app, go, &step_id, Some(why))?,
        vonage_event(&db, app, go, &step_id, "failed")?,
    ];
    store::batch(&db, statements).await?;
    webhooks::kick_soon(app, &go.account_id);
    Ok(())
}

/// A provider refused a step that was charged: the charge is given back (now, or by a
/// queued job), as a send's is.
async fn refund(app: &App, go: &StepGo, step_id: &str, e: AppError) -> Result<(), AppError> {
    console_error!("workflow step {step_id} not delivered: {}", e.detail());
    let db = app.db()?;
    let cost = crate::store::workflow::cost(&db, step_id).await?;
    let owed = jobs::Refund {
        account_id: go.account_id.clone(),
        kind: jobs::RefundKind::OtpRefund,
        cost,
        object_id: step_id.to_owned(),
    };
    jobs::refund(&app.env, &db, owed, app.now_ms, None)
        .await
        .map(|_| ())
}
