//! Outbound delivery: a `Provider` trait and the configured provider. `sandbox` (the
//! default) "delivers" by appending the full text to the outbox table, which the operator
//! reads at `GET /admin/outbox`; real HTTP adapters plug in beside it.
use crate::config::Config;
use crate::domain::ids::new_id;
use crate::http::error::{ApiError, Code};
use crate::store::messages::{append_outbox, OutboxEntry};
use worker::Env;

/// One outgoing text.
pub struct Outgoing<'a> {
    /// E.164.
    pub to: &'a str,
    pub channel: &'a str,
    pub sender: Option<&'a str>,
    pub text: &'a str,
    /// The session or message it belongs to.
    pub object_id: &'a str,
}

#[allow(async_fn_in_trait)]
pub trait Provider {
    /// Hands the text over; returns the provider's id for it. A refusal is an error.
    async fn deliver(&self, message: &Outgoing<'_>, now_ms: i64) -> Result<String, ApiError>;
}

pub struct Sandbox {
    env: Env,
}

impl Provider for Sandbox {
    async fn deliver(&self, m: &Outgoing<'_>, now_ms: i64) -> Result<String, ApiError> {
        let id = new_id("out")?;
        let entry = OutboxEntry { id: &id, to: m.to, channel: m.channel, sender: m.sender, text: m.text, object_id: m.object_id, created_at: now_ms };
        append_outbox(&crate::store::db(&self.env)?, &entry).await?;
        Ok(id)
    }
}

/// The providers this build knows, picked by `OTP_PROVIDER`.
pub enum Configured {
    Sandbox(Sandbox),
}

pub fn configured(env: &Env, config: &Config) -> Result<Configured, ApiError> {
    match config.otp_provider.as_str() {
        "sandbox" => Ok(Configured::Sandbox(Sandbox { env: env.clone() })),
        other => Err(ApiError { internal: Some(format!("unknown OTP_PROVIDER '{other}'")), ..ApiError::of(Code::DeliveryFailed) }),
    }
}

impl Provider for Configured {
    async fn deliver(&self, message: &Outgoing<'_>, now_ms: i64) -> Result<String, ApiError> {
        match self {
            Configured::Sandbox(p) => p.deliver(message, now_ms).await,
        }
    }
}
