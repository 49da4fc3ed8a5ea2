//! One dispatcher per account delivers its webhook events one at a time, oldest first, so
//! the receiver sees each object's events in order. A failed attempt is retried after an
//! exponential, jittered delay (a Durable Object alarm); later events wait behind it. The
//! sms-activate webhook's events (`sms_activate.*`) go to that URL instead, as they are; a
//! callback goes to its own URL, signed with Standard Webhooks or, for a Vonage application's
//! (its recorded `signer`), with a Vonage JWT.
use crate::config::Config;
use crate::domain::error::AppError;
use crate::domain::time::rfc3339;
use crate::domain::url::{query_param, split_url};
use crate::domain::vonage_callback::{self, open_secret, signer_application};
use crate::domain::webhook::{payload, retry_delay_ms, signature};
use crate::outbound;
use crate::store::vonage;
use crate::store::webhooks::{self, Attempt, Outcome, SmsActivateHook, SMS_ACTIVATE_EVENTS};
use std::cell::{Cell, RefCell};
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, Response, Result, State,
};

const ACCOUNT_KEY: &str = "account_id";

#[cfg_attr(feature = "front", durable_object)]
pub struct WebhookDispatcher {
    state: State,
    env: Env,
    /// A delivery loop is running in this instance; a kick meanwhile only asks it to look again.
    running: Cell<bool>,
    look_again: Cell<bool>,
    account: RefCell<Option<String>>,
}

enum Step {
    Continue,
    WaitUntil(i64),
    Idle,
}

#[cfg(feature = "front")]
impl DurableObject for WebhookDispatcher {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            running: Cell::new(false),
            look_again: Cell::new(false),
            account: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let url = req.inner().url();
        let account = query_param(split_url(&url).1, "account");
        let Some(account) = account else {
            return Response::error("account missing", 400);
        };
        if self.account.borrow().is_none() {
            // Remembered in storage so that an alarm (which has no request) knows the account.
            self.state.storage().put(ACCOUNT_KEY, &account).await?;
            *self.account.borrow_mut() = Some(account);
        }
        // Deliver from the alarm handler, not here: the kicker (a request, or an activation's
        // object) must not wait for a slow endpoint. An alarm 0 ms from now runs at once.
        self.state.storage().set_alarm(0).await?;
        Response::ok("ok")
    }

    async fn alarm(&self) -> Result<Response> {
        if self.account.borrow().is_none() {
            *self.account.borrow_mut() = self.state.storage().get::<String>(ACCOUNT_KEY).await?;
        }
        self.pump().await;
        Response::ok("ok")
    }
}

impl WebhookDispatcher {
    async fn pump(&self) {
        if self.running.get() {
            self.look_again.set(true);
            return;
        }
        let Some(account) = self.account.borrow().clone() else {
            return;
        };
        self.running.set(true);
        loop {
            self.look_again.set(false);
            match self.step(&account).await {
                Ok(Step::Continue) => continue,
                Ok(Step::WaitUntil(at)) => {
                    // `set_alarm` takes an offset from now, in milliseconds.
                    let offset = at - crate::clock::now_ms();
                    if let Err(e) = self.state.storage().set_alarm(offset.max(0)).await {
                        console_error!("webhook alarm: {e}");
                    }
                    break;
                }
                Ok(Step::Idle) if self.look_again.get() => continue,
                Ok(Step::Idle) => break,
                Err(e) => {
                    console_error!("webhook dispatch failed: {e}");
                    // Try again soon rather than dropping the queue.
                    let _ = self.state.storage().set_alarm(5_000).await;
                    break;
                }
            }
        }
        self.running.set(false);
    }

    async fn step(&self, account: &str) -> std::result::Result<Step, AppError> {
        let db = crate::store::db(&self.env)?;
        let targets = Targets {
            endpoint: webhooks::endpoint(&db, account).await?,
            hook: webhooks::sms_activate_hook(&db, account).await?,
        };
        let deliverable = (targets.endpoint.is_some(), targets.hook.is_some());
        let Some(event) = webhooks::next_pending(&db, account, deliverable).await? else {
            return Ok(Step::Idle);
        };
        let now = crate::clock::now_ms();
        if let Some(at) = event.next_attempt_at.filter(|at| *at > now) {
            return Ok(Step::WaitUntil(at));
        }
        let config = Config::get(&self.env);
        let server_key = crate::config::server_key(&self.env)?;
        let Some(mut out) = targets.delivery(&event, account, &server_key) else {
            return Ok(Step::Idle);
        };
        if let Some(application_id) = event.signer.as_deref().and_then(signer_application) {
            out.signing = vonage_signing(&db, application_id, &server_key).await?;
        }
        let started = crate::clock::now_ms();
        // An endpoint stored before today's URL rules is checked again: never connect to an
        // internal address (SSRF), record the refusal as a failed attempt instead.
        let allow_local = config.webhook_allow_local_http;
        let result = match crate::domain::webhook::validate_url(&out.url, allow_local) {
            Ok(()) => {
                let timeout = config.webhook_timeout_ms;
                post(&out, account, &event.id, started / 1000, timeout).await
            }
            Err(why) => Err(format!("not delivered: {why}")),
        };
        let finished = crate::clock::now_ms();
        let number = event.attempts + 1;
        let (status_code, error) = match &result {
            Ok(code) => (Some(*code), None),
            Err(e) => (None, Some(e.as_str())),
        };
        let outcome = if matches!(status_code, Some(200..=299)) {
            Outcome::Delivered
        } else if number >= i64::from(config.webhook_max_attempts) {
            Outcome::GaveUp
        } else {
            let jitter = crate::domain::ids::random_bytes::<4>()
                .map(u32::from_le_bytes)
                .unwrap_or(0);
            let failures = u32::try_from(number).unwrap_or(u32::MAX);
            Outcome::RetryAt(
                finished
                    + retry_delay_ms(
                        failures,
                        config.webhook_retry_base_ms,
                        config.webhook_retry_max_ms,
                        jitter,
                    ),
            )
        };
        let attempt = Attempt {
            event_id: &event.id,
            account_id: account,
            number,
            url: &out.url,
            status_code,
            error,
            duration_ms: finished - started,
            at_ms: finished,
        };
        webhooks::record_attempt(&db, &attempt, &outcome).await?;
        Ok(match outcome {
            Outcome::Delivered | Outcome::GaveUp => Step::Continue,
            Outcome::RetryAt(at) => Step::WaitUntil(at),
        })
    }
}

/// Where an account's events go: its endpoint (our envelope around the event's `data`), its
/// sms-activate webhook (the `data` alone, in sms-activate's shape) and a callback's own URL
/// (its recorded body as is).
struct Targets {
    endpoint: Option<webhooks::Endpoint>,
    hook: Option<SmsActivateHook>,
}

/// One delivery: where, what, and how it is signed.
struct Outgoing {
    url: String,
    body: String,
    signing: Signing,
}

enum Signing {
    /// Standard Webhooks headers with this `whsec_` secret.
    Standard(String),
    /// A Vonage callback: a JWT under the application's signature secret.
    Vonage(vonage_callback::Signer),
    /// The signer's secret is gone (a failed attempt says so).
    Unsigned(&'static str),
}

impl Targets {
    /// The URL, body and signing of the event's delivery (`None`: its target is gone).
    fn delivery(
        &self,
        event: &webhooks::PendingEvent,
        account: &str,
        server_key: &str,
    ) -> Option<Outgoing> {
        let out = |url: &str, secret: String, body: String| Outgoing {
            url: url.to_owned(),
            body,
            signing: Signing::Standard(secret),
        };
        if let Some(url) = &event.url {
            let secret = self.callback_secret(account, server_key);
            return Some(out(url, secret, event.data.clone()));
        }
        if event.event_type.starts_with(SMS_ACTIVATE_EVENTS) {
            let hook = self.hook.as_ref()?;
            let secret = SmsActivateHook::secret(server_key, account);
            return Some(out(&hook.url, secret, event.data.clone()));
        }
        let endpoint = self.endpoint.as_ref()?;
        // Stored data that does not parse goes out as `"data": null` (said in the log), so one
        // bad row never holds up the account's queue.
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_else(|e| {
            worker::console_error!("event {} data unreadable, sent as null: {e}", event.id);
            serde_json::Value::Null
        });
        let body = payload(&event.event_type, &rfc3339(event.created_at), &data);
        Some(out(&endpoint.url, endpoint.secret(server_key), body))
    }

    /// A callback's signing secret: the account's endpoint secret (the first one's when it
    /// has none).
    fn callback_secret(&self, account: &str, server_key: &str) -> String {
        let first = webhooks::Endpoint {
            account_id: account.to_owned(),
            url: String::new(),
            secret_version: 1,
            updated_at: 0,
        };
        self.endpoint.as_ref().unwrap_or(&first).secret(server_key)
    }
}

/// A Vonage application's signing, its secret opened.
async fn vonage_signing(
    db: &worker::D1Database,
    application_id: &str,
    server_key: &str,
) -> std::result::Result<Signing, AppError> {
    let sealed = vonage::sealed_secret(db, application_id).await?;
    let secret = sealed.and_then(|s| open_secret(server_key, application_id, &s));
    Ok(match secret {
        Some(secret) => Signing::Vonage(vonage_callback::Signer {
            application_id: application_id.to_owned(),
            secret,
        }),
        None => Signing::Unsigned("the application has no signature secret"),
    })
}

/// The headers that sign one delivery.
fn signed_headers(
    out: &Outgoing,
    account: &str,
    msg_id: &str,
    timestamp: i64,
) -> std::result::Result<Vec<(&'static str, String)>, String> {
    match &out.signing {
        Signing::Standard(secret) => {
            let sig = signature(secret, msg_id, timestamp, &out.body)
                .ok_or("the endpoint secret is not a whsec_ secret")?;
            Ok(vec![
                ("webhook-id", msg_id.to_owned()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", sig),
            ])
        }
        Signing::Vonage(signer) => {
            let jti = crate::domain::ids::new_uuid().map_err(|e| e.to_string())?;
            let token = vonage_callback::token(signer, (account, &jti, timestamp), &out.body);
            Ok(vec![("Authorization", format!("Bearer {token}"))])
        }
        Signing::Unsigned(why) => Err(format!("not delivered: {why}")),
    }
}

/// POSTs one signed delivery; the status code, or why there was none.
async fn post(
    out: &Outgoing,
    account: &str,
    msg_id: &str,
    timestamp: i64,
    timeout_ms: i64,
) -> std::result::Result<u16, String> {
    let signed = signed_headers(out, account, msg_id, timestamp)?;
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("User-Agent", "otpedge-webhooks/1"),
    ];
    headers.extend(signed.iter().map(|(name, value)| (*name, value.as_str())));
    outbound::send(
        Method::Post,
        &out.url,
        &headers,
        Some(&out.body),
        timeout_ms,
    )
    .await
    .map(|answer| answer.status)
}

/// Wakes the account's dispatcher so that new events go out now. Best effort: an event that
/// is not kicked goes out with the next one, or at the dispatcher's next alarm.
pub async fn kick(env: &Env, account_id: &str) -> std::result::Result<(), AppError> {
    let stub = env
        .durable_object("WEBHOOKS")
        .and_then(|ns| ns.id_from_name(account_id)?.get_stub())
        .map_err(|e| AppError::internal(format!("WEBHOOKS binding: {e}")))?;
    let url = format!("https://webhooks/kick?account={account_id}");
    stub.fetch_with_str(&url)
        .await
        .map_err(|e| AppError::internal(format!("webhook kick: {e}")))?;
    Ok(())
}
