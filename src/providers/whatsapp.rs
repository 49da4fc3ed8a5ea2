//! Meta WhatsApp Cloud API: an authentication-template message carrying the code, JSON POST
//! to `/{version}/{phone-number-id}/messages` with a bearer token.
use super::{Outgoing, Provider, Tries};
use crate::config::{secret, var, Config};
use crate::domain::delivery::{judge_whatsapp, whatsapp_template};
use crate::domain::error::{AppError, Code};
use worker::Env;

pub struct WhatsApp {
    phone_number_id: String,
    token: String,
    template: String,
    language: String,
    version: String,
    base_url: String,
    tries: Tries,
}

impl WhatsApp {
    pub fn from_env(env: &Env, config: &Config) -> Result<WhatsApp, String> {
        Ok(WhatsApp {
            phone_number_id: var(env, "WHATSAPP_PHONE_NUMBER_ID")
                .ok_or("WHATSAPP_PHONE_NUMBER_ID is not set")?,
            token: secret(env, "WHATSAPP_TOKEN")
                .map_err(|_| "WHATSAPP_TOKEN is not set".to_owned())?,
            template: var(env, "WHATSAPP_TEMPLATE").unwrap_or_else(|| "otp_code".to_owned()),
            language: var(env, "WHATSAPP_LANGUAGE").unwrap_or_else(|| "en_US".to_owned()),
            version: var(env, "WHATSAPP_API_VERSION").unwrap_or_else(|| "v21.0".to_owned()),
            base_url: var(env, "WHATSAPP_BASE_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            tries: Tries::of(config),
        })
    }
}

impl Provider for WhatsApp {
    async fn deliver(&self, m: &Outgoing<'_>, _now_ms: i64) -> Result<String, AppError> {
        // Business-initiated WhatsApp messages must be approved templates: the code travels as
        // the template's parameter, not as free text.
        let code = m.code.ok_or_else(|| {
            AppError::new(
                Code::DeliveryFailed,
                "WhatsApp delivers codes through an approved template: this message has no {code}",
            )
        })?;
        let body = whatsapp_template(m.to, &self.template, &self.language, code).to_string();
        let url = format!(
            "{}/{}/{}/messages",
            self.base_url, self.version, self.phone_number_id
        );
        let auth = format!("Bearer {}", self.token);
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        self.tries.post(&url, &headers, &body, judge_whatsapp).await
    }
}
