//! Twilio: SMS through the Messages API, voice through the Calls API with TwiML that reads
//! the code. Form-encoded POSTs with HTTP Basic auth (Account SID : Auth Token).
use super::{Outgoing, Provider, Tries};
use crate::config::{secret, var, Config};
use crate::domain::delivery::{form_encode, judge_twilio, twiml_say_digits};
use crate::domain::error::AppError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use worker::Env;

pub struct Twilio {
    account_sid: String,
    auth_token: String,
    /// An E.164 number, or a Messaging Service SID (`MG…`).
    from: String,
    base_url: String,
    status_callback: Option<String>,
    tries: Tries,
}

impl Twilio {
    pub fn from_env(env: &Env, config: &Config) -> Result<Twilio, String> {
        let required = |name: &str| var(env, name).ok_or_else(|| format!("{name} is not set"));
        Ok(Twilio {
            account_sid: required("TWILIO_ACCOUNT_SID")?,
            auth_token: secret(env, "TWILIO_AUTH_TOKEN")
                .map_err(|_| "TWILIO_AUTH_TOKEN is not set".to_owned())?,
            from: required("TWILIO_FROM")?,
            base_url: var(env, "TWILIO_BASE_URL")
                .unwrap_or_else(|| "https://api.twilio.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            status_callback: var(env, "TWILIO_STATUS_CALLBACK_URL"),
            tries: Tries::of(config),
        })
    }
}

impl Provider for Twilio {
    async fn deliver(&self, m: &Outgoing<'_>, _now_ms: i64) -> Result<String, AppError> {
        let from_field = if self.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let (resource, body) = if m.channel == "voice" {
            let twiml = match m.code {
                Some(code) => twiml_say_digits("Your verification code is", code),
                None => twiml_say_digits(m.text, ""),
            };
            (
                "Calls.json",
                form_encode(&[("To", m.to), ("From", &self.from), ("Twiml", &twiml)]),
            )
        } else {
            let mut fields = vec![
                ("To", m.to),
                (from_field, self.from.as_str()),
                ("Body", m.text),
            ];
            if let Some(url) = &self.status_callback {
                fields.push(("StatusCallback", url));
            }
            ("Messages.json", form_encode(&fields))
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.base_url, self.account_sid
        );
        let auth = format!(
            "Basic {}",
            B64.encode(format!("{}:{}", self.account_sid, self.auth_token))
        );
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ];
        self.tries.post(&url, &headers, &body, judge_twilio).await
    }
}
