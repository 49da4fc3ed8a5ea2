//! Outbound delivery behind one `Provider` trait, chosen per channel by configuration
//! (`OTP_PROVIDER_SMS`, `OTP_PROVIDER_WHATSAPP`, `OTP_PROVIDER_VOICE`, falling back to
//! `OTP_PROVIDER`): `sandbox` (the default) appends the full text to the outbox the operator
//! reads at `GET /admin/outbox`; `twilio` sends SMS through Twilio's Messages API and voice
//! calls through its Calls API (TwiML that reads the code); `whatsapp` sends Meta WhatsApp
//! Cloud API template messages. A timeout, 429 or 5xx is retried a bounded number of times;
//! any other refusal fails at once with the provider's error code kept.
mod twilio;
mod whatsapp;

use crate::config::Config;
use crate::domain::delivery::Verdict;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::new_id;
use crate::outbound;
use crate::store::messages::{append_outbox, OutboxEntry};
use std::time::Duration;
use worker::{Delay, Env, Method};

pub use twilio::Twilio;
pub use whatsapp::WhatsApp;

/// One outgoing text.
pub struct Outgoing<'a> {
    /// E.164.
    pub to: &'a str,
    pub channel: &'a str,
    pub sender: Option<&'a str>,
    pub text: &'a str,
    /// The code the text carries, for providers that send it apart from the text
    /// (WhatsApp authentication templates, voice).
    pub code: Option<&'a str>,
    /// The session or message it belongs to.
    pub object_id: &'a str,
}

#[allow(async_fn_in_trait)]
pub trait Provider {
    /// Hands the text over; returns the provider's id for it. A refusal is an error.
    async fn deliver(&self, message: &Outgoing<'_>, now_ms: i64) -> Result<String, AppError>;
}

pub struct Sandbox {
    env: Env,
}

impl Provider for Sandbox {
    async fn deliver(&self, m: &Outgoing<'_>, now_ms: i64) -> Result<String, AppError> {
        let id = new_id("out")?;
        let entry = OutboxEntry {
            id: &id,
            to: m.to,
            channel: m.channel,
            sender: m.sender,
            text: m.text,
            object_id: m.object_id,
            created_at: now_ms,
        };
        append_outbox(&crate::store::db(&self.env)?, &entry).await?;
        Ok(id)
    }
}

/// The providers this build knows.
pub enum Configured {
    Sandbox(Sandbox),
    Twilio(Twilio),
    WhatsApp(WhatsApp),
}

/// The provider configured for `channel`. A misconfiguration is the operator's error:
/// logged in full, answered as a delivery failure (and refunded by the caller).
pub fn configured(env: &Env, config: &Config, channel: &str) -> Result<Configured, AppError> {
    let name = config.provider_for(channel);
    let misconfigured = |detail: String| AppError {
        internal: Some(detail),
        ..AppError::of(Code::DeliveryFailed)
    };
    match (name, channel) {
        ("sandbox", _) => Ok(Configured::Sandbox(Sandbox { env: env.clone() })),
        ("twilio", "sms" | "voice") => Twilio::from_env(env, config)
            .map(Configured::Twilio)
            .map_err(&misconfigured),
        ("whatsapp", "whatsapp") => WhatsApp::from_env(env, config)
            .map(Configured::WhatsApp)
            .map_err(&misconfigured),
        (other, channel) => Err(misconfigured(format!(
            "provider '{other}' cannot deliver channel '{channel}'"
        ))),
    }
}

impl Provider for Configured {
    async fn deliver(&self, message: &Outgoing<'_>, now_ms: i64) -> Result<String, AppError> {
        match self {
            Configured::Sandbox(p) => p.deliver(message, now_ms).await,
            Configured::Twilio(p) => p.deliver(message, now_ms).await,
            Configured::WhatsApp(p) => p.deliver(message, now_ms).await,
        }
    }
}

/// How a provider's requests are tried: each bounded by `timeout_ms`, at most `attempts`.
#[derive(Clone, Copy)]
struct Tries {
    timeout_ms: i64,
    attempts: u32,
}

impl Tries {
    fn of(config: &Config) -> Tries {
        Tries {
            timeout_ms: config.provider_timeout_ms,
            attempts: config.provider_max_attempts,
        }
    }

    /// POSTs `body` with bounded retries: `Retry` verdicts and timeouts are tried again
    /// (after 100 ms, 200 ms, …), `Failed` ends at once, `Sent` returns the provider's
    /// message id.
    async fn post(
        self,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
        judge: fn(u16, &str) -> Verdict,
    ) -> Result<String, AppError> {
        let attempts = self.attempts;
        let mut last = String::new();
        for attempt in 1..=attempts.max(1) {
            match outbound::send(Method::Post, url, headers, Some(body), self.timeout_ms).await {
                Ok(answer) => match judge(answer.status, &answer.body) {
                    Verdict::Sent(id) => return Ok(id),
                    Verdict::Failed { code, message } => {
                        return Err(AppError::new(
                            Code::DeliveryFailed,
                            format!("the provider refused the message (error {code}): {message}"),
                        ));
                    }
                    Verdict::Retry(why) => last = why,
                },
                Err(why) => last = why,
            }
            if attempt < attempts {
                Delay::from(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
        Err(AppError::new(
            Code::DeliveryFailed,
            format!("the provider did not accept the message after {attempts} attempts: {last}"),
        ))
    }
}
