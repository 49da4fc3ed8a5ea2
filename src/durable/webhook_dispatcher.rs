//! One dispatcher per account delivers its webhook events one at a time, oldest first, so
//! the receiver sees each object's events in order. A failed attempt is retried after an
//! exponential, jittered delay (a Durable Object alarm); later events wait behind it.
use crate::config::Config;
use crate::domain::error::AppError;
use crate::domain::time::rfc3339;
use crate::domain::url::{query_param, split_url};
use crate::domain::webhook::{payload, retry_delay_ms, signature};
use crate::outbound;
use crate::store::webhooks::{self, Attempt, Outcome};
use std::cell::{Cell, RefCell};
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, Response, Result, State,
};

const ACCOUNT_KEY: &str = "account_id";

#[durable_object]
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

    /// Where an event goes and the secret that signs it: a callback's own URL, else the
    /// account's endpoint (`None`: no endpoint). Both are signed with the account's
    /// endpoint secret (the first one's when it has none).
    async fn target(
        &self,
        db: &worker::D1Database,
        account: &str,
        callback: Option<&str>,
    ) -> std::result::Result<Option<(String, String)>, AppError> {
        let endpoint = webhooks::endpoint(db, account).await?;
        let key = crate::config::server_key(&self.env)?;
        Ok(match (callback, endpoint) {
            (Some(url), endpoint) => {
                let e = endpoint.unwrap_or(webhooks::Endpoint {
                    account_id: account.to_owned(),
                    url: url.to_owned(),
                    secret_version: 1,
                    updated_at: 0,
                });
                Some((url.to_owned(), e.secret(&key)))
            }
            (None, Some(e)) => Some((e.url.clone(), e.secret(&key))),
            (None, None) => None,
        })
    }

    async fn step(&self, account: &str) -> std::result::Result<Step, AppError> {
        let db = crate::store::db(&self.env)?;
        let Some(event) = webhooks::next_pending(&db, account).await? else {
            return Ok(Step::Idle);
        };
        // A callback goes to its own URL, else the event goes to the account's endpoint.
        let Some((target, secret)) = self.target(&db, account, event.url.as_deref()).await? else {
            return Ok(Step::Idle);
        };
        let now = crate::clock::now_ms();
        if let Some(at) = event.next_attempt_at.filter(|at| *at > now) {
            return Ok(Step::WaitUntil(at));
        }
        let config = Config::get(&self.env);
        let body = body_of(&event);
        let started = crate::clock::now_ms();
        // A URL stored before today's rules is checked again: never connect to an internal
        // address (SSRF), record the refusal as a failed attempt instead.
        let allow_local = config.webhook_allow_local_http;
        let result = match crate::domain::webhook::validate_url(&target, allow_local) {
            Ok(()) => {
                post(
                    &target,
                    &secret,
                    &event.id,
                    started / 1000,
                    &body,
                    config.webhook_timeout_ms,
                )
                .await
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
            url: &target,
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

/// What a delivery posts: a callback's body as recorded, else the event in the webhook
/// envelope (`payload`).
fn body_of(event: &webhooks::PendingEvent) -> String {
    if event.url.is_some() {
        return event.data.clone();
    }
    let data: serde_json::Value =
        serde_json::from_str(&event.data).unwrap_or(serde_json::Value::Null);
    payload(&event.event_type, &rfc3339(event.created_at), &data)
}

/// POSTs one signed delivery; the status code, or why there was none.
async fn post(
    url: &str,
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &str,
    timeout_ms: i64,
) -> std::result::Result<u16, String> {
    let sig = signature(secret, msg_id, timestamp, body)
        .ok_or("the endpoint secret is not a whsec_ secret")?;
    let timestamp = timestamp.to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("webhook-id", msg_id),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", sig.as_str()),
        ("User-Agent", "otpedge-webhooks/1"),
    ];
    outbound::send(Method::Post, url, &headers, Some(body), timeout_ms)
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
