//! Template messages (queued, delivered after the response) and their delivery receipts,
//! and the sandbox outbox.
use super::codes::{
    self, commit_send, new_session, open_object, precheck_resend, price, NewCode, Opened,
};
use super::idempotency::{self, Answer, Idem};
use super::jobs::{self, Deliver, Job, MessageRef};
use super::templates::{find_template, template_error};
use super::{fraud, webhooks, App, Listed};
use crate::config::{secret, var};
use crate::domain::crypto::constant_time_eq;
use crate::domain::delivery::{twilio_signature, twilio_status};
use crate::domain::error::{AppError, Code};
use crate::domain::events;
use crate::domain::ids::{new_id, AccountId};
use crate::domain::message::{Message, OutboxText};
use crate::domain::otp;
use crate::domain::phone::Phone;
use crate::domain::template::Variables;
use crate::store::messages::{self as store, NewMessage};
use crate::store::sessions::{Cost, Issue, SendTo};
use crate::store::wallet::{self, Delta, Entry, Kind};
use crate::store::webhooks::{event_statement, Event};
use crate::store::{batch, db};
use worker::{console_error, D1Database, D1PreparedStatement};

/// The newest `limit` sandbox outbox entries, for one phone or all.
pub async fn outbox(
    app: &App,
    to: Option<&Phone>,
    limit: i64,
) -> Result<Vec<OutboxText>, AppError> {
    Ok(store::outbox(&app.db()?, to.map(Phone::e164), limit).await?)
}

/// The account's own texts in the sandbox outbox (those of its OTP sessions and template
/// messages), newest first; only while some channel delivers to the sandbox.
pub async fn account_outbox(
    app: &App,
    account: &AccountId,
    page: crate::domain::pagination::Page,
) -> Listed<OutboxText> {
    let sandbox = ["sms", "whatsapp", "voice"]
        .iter()
        .any(|c| app.config.provider_for(c) == "sandbox");
    if !sandbox {
        let m = "no channel delivers to the sandbox outbox on this deployment";
        return Err(AppError::new(Code::RouteNotFound, m));
    }
    Ok(crate::store::dashboard::outbox(&app.db()?, account.as_str(), page).await?)
}

pub struct MessageOrder {
    pub phone: Phone,
    pub template_id: String,
    pub variables: Variables,
    /// As requested; checked against the deployment's bounds here.
    pub expires_in_seconds: Option<i64>,
}

pub struct Queued {
    pub message_id: String,
    pub expires_at: i64,
}

/// Queues a template message: the message row, the charge, the stored answer and (for a
/// template with `{code}`, which gets a fresh code checkable as an OTP session with the
/// message's id) the session, in one batch; delivered after the response.
pub async fn send(
    app: &App,
    account: &AccountId,
    order: MessageOrder,
    idem: Idem<'_, Queued>,
) -> Result<Answer<Queued>, AppError> {
    let db = app.db()?;
    let template = find_template(app, account, order.template_id.trim()).await?;
    let channel = codes::channel(app, Some(&template.row.channel))?;
    let ttl_secs = codes::lifetime(app, order.expires_in_seconds, "expires_in_seconds")?;
    let code = if template.parsed.has_code() {
        Some(otp::generate(otp::DEFAULT_LENGTH)?)
    } else {
        None
    };
    let text = template
        .parsed
        .render(code.as_deref(), &order.variables)
        .map_err(template_error)?;
    let cost = price(&db, &order.phone, channel).await?;
    let phone = &order.phone;
    let (db, template, code_ref, text_ref) = (&db, &template, &code, &text);
    idempotency::run(app, idem, |done| async move {
        let now = app.now_ms;
        let account_id = account.as_str();
        let attempt = fraud::Attempt {
            account_id,
            phone,
            channel,
            dialect: "message",
        };
        fraud::guard(app, &attempt).await?;
        let message_id = new_id("msg")?;
        let message = NewMessage {
            to: SendTo {
                id: &message_id,
                account_id,
                phone: phone.e164(),
                channel,
            },
            template_id: &template.row.id,
            session_id: code_ref.as_ref().map(|_| message_id.as_str()),
            cost,
            created_at: now,
            expires_at: now + i64::from(ttl_secs) * 1000,
        };
        let opened = match code_ref {
            Some(code) => Some(code_session(app, db, phone, &message, code, ttl_secs).await?),
            None => None,
        };
        let expires_at = message.expires_at;
        let mut statements = message_statements(db, &message, opened.as_ref(), app.spender())?;
        let queued = Queued {
            message_id: message_id.clone(),
            expires_at,
        };
        statements.extend(done.statement(db, &queued, None)?);
        let message = MessageRef {
            account_id: account.0.clone(),
            message_id,
            to: phone.e164().to_owned(),
            channel: channel.to_owned(),
            cost,
        };
        let job = Deliver::new(&app.env, message, text_ref.clone(), code_ref.clone())?;
        match &opened {
            Some(session) => commit_send(app, db, statements, session, phone, channel).await?,
            None => crate::store::batch(db, statements).await?,
        };
        // Delivery is due as soon as the message committed (whatever happens to the request).
        queue_delivery(app, job).await;
        // Its code is checkable once the session's object is open.
        if let Some(session) = &opened {
            open_object(app, session).await?;
        }
        Ok(queued)
    })
    .await
}

/// A message's batch: its row, its session's guarded insert (a template with `{code}`),
/// and its charge with the ledger row (counted against the paying key's caps: `spender`).
fn message_statements(
    db: &D1Database,
    m: &NewMessage<'_>,
    session: Option<&Opened>,
    spender: Option<&str>,
) -> Result<Vec<D1PreparedStatement>, AppError> {
    let mut statements = vec![store::insert_message(db, m)?];
    statements.extend(session.map(|s| s.insert.clone()));
    let charge = Entry {
        account_id: m.to.account_id,
        kind: Kind::MessageSend,
        reference: None,
        object_id: Some(m.to.id),
        description: "template message",
        key_hash: spender,
    };
    statements
        .extend(wallet::change_statements(db, &charge, Delta::Amount(-m.cost), m.created_at)?.1);
    Ok(statements)
}

/// The session of a message whose template has `{code}` (the message's id is its id): a
/// code message is an OTP send too (same resend rules, same session checks), free (the
/// message carries the charge).
async fn code_session(
    app: &App,
    db: &D1Database,
    phone: &Phone,
    m: &NewMessage<'_>,
    code: &str,
    ttl_secs: u32,
) -> Result<Opened, AppError> {
    let issue = Issue {
        to: m.to,
        dialect: "message",
        sender: None,
        template_id: Some(m.template_id),
        payload: None,
        key_hash: None,
        api_key: None,
    };
    precheck_resend(app, db, m.to.account_id, phone).await?;
    let new = NewCode {
        issue,
        code,
        ttl_secs,
        fallback: &[],
    };
    new_session(app, db, &new, Cost::Fixed(0))
}

/// Hands the message to the `deliver` job (`jobs::Deliver`) on the JOBS queue; when the
/// queue refuses it, the job runs after the response instead, and the scheduled pass fails
/// and refunds a message still queued long after its expiry (`upkeep`).
async fn queue_delivery(app: &App, job: Deliver) {
    if app.fault == Some(super::Fault::DeliveryDropped) {
        return;
    }
    let job = Job::Deliver(job);
    let Err(e) = jobs::enqueue(&app.env, &job).await else {
        return;
    };
    console_error!(
        "delivery job not queued, run after the answer: {}",
        e.detail()
    );
    let Job::Deliver(d) = job else { return };
    let env = app.env.clone();
    app.later(async move {
        let run = match db(&env) {
            Ok(db) => d.run(&env, &db).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = run {
            console_error!("message {} delivery: {}", d.message.message_id, e.detail());
        }
    });
}

/// A message of the account.
pub async fn message(app: &App, account: &AccountId, id: &str) -> Result<Message, AppError> {
    let m = store::message(&app.db()?, account.as_str(), id).await?;
    m.ok_or_else(|| AppError::not_found("message"))
}

/// A delivery receipt as the provider sent it: the URL it called, its signature, its fields.
pub struct TwilioReceipt<'a> {
    pub url_called: &'a str,
    pub signature: Option<&'a str>,
    pub params: &'a [(String, String)],
}

/// What a receipt changed: nothing (`None`: unknown message, or a status we do not track),
/// or the message's new status.
pub struct Applied {
    pub message_id: String,
    pub status: &'static str,
}

/// Applies Twilio's message status callback, authenticated by `X-Twilio-Signature` over the
/// configured callback URL and the form fields. A wrong or missing signature → 403 and
/// nothing changes; a `failed` receipt records `message.failed` for the webhook.
pub async fn twilio_receipt(app: &App, r: TwilioReceipt<'_>) -> Result<Option<Applied>, AppError> {
    let forbidden = || AppError::new(Code::Forbidden, "invalid X-Twilio-Signature");
    let token = secret(&app.env, "TWILIO_AUTH_TOKEN").map_err(|_| forbidden())?;
    // Twilio signs the URL it called: the configured public URL, else the one we were reached at.
    let url =
        var(&app.env, "TWILIO_STATUS_CALLBACK_URL").unwrap_or_else(|| r.url_called.to_owned());
    let presented = r.signature.ok_or_else(forbidden)?;
    if !constant_time_eq(
        presented.as_bytes(),
        twilio_signature(&token, &url, r.params).as_bytes(),
    ) {
        return Err(forbidden());
    }
    let field = |name: &str| {
        r.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(sid), Some(status)) = (
        field("MessageSid"),
        field("MessageStatus").or(field("SmsStatus")),
    ) else {
        return Err(AppError::invalid(
            "MessageSid and MessageStatus are required",
        ));
    };
    let Some(ours) = twilio_status(status) else {
        return Ok(None);
    };
    let error = field("ErrorCode").map(|code| format!("twilio error {code}"));
    let db = app.db()?;
    let Some(m) = store::apply_receipt(&db, sid, ours, error.as_deref(), app.now_ms).await? else {
        return Ok(None);
    };
    if ours == "failed" {
        let event = Event {
            account_id: &m.account_id,
            event_type: "message.failed",
            object_id: &m.id,
            version: 0,
            data: events::message(&m.id, "failed", &m.phone, &m.channel, error.as_deref()),
        };
        batch(&db, vec![event_statement(&db, &event, app.now_ms)?]).await?;
        webhooks::kick_soon(app, &m.account_id);
    }
    Ok(Some(Applied {
        message_id: m.id,
        status: ours,
    }))
}
