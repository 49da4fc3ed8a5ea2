//! Every webhook event's `data`, built here and nowhere else (the envelope around it is
//! `webhook::payload`). The one exception: OTP result events (`otp.verified`, `otp.failed`,
//! `otp.expired`) are recorded by SQL in the same statement that decides them, so their
//! shape is the SQL expression `store::webhooks::OTP_RESULT_SQL`.
use serde_json::{json, Value};

/// `activation.*`: the activation's new state and its latest SMS.
pub fn activation(
    activation_id: &str,
    status: &str,
    number: &str,
    sms: Option<&str>,
    code: Option<&str>,
) -> Value {
    json!({
        "activation_id": activation_id,
        "status": status,
        "number": number,
        "sms": sms,
        "code": code,
    })
}

/// An SMS of an activation, as sms-activate's webhook sends it: its integer id, service
/// code and country number, the text, the code (the text when none was found, as
/// `getStatus` answers) and `receivedAt` as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn sms_activate_activation(
    activation_id: i64,
    service: &str,
    country: i64,
    sms: &SmsActivateSms<'_>,
) -> Value {
    json!({
        "activationId": activation_id,
        "service": service,
        "text": sms.text,
        "code": sms.code.unwrap_or(sms.text),
        "country": country,
        "receivedAt": sms.received_at,
    })
}

/// An SMS of a rent, as sms-activate's webhook sends it (`rentId` a string, as its
/// documentation shows it).
pub fn sms_activate_rent(rent_id: i64, sms: &SmsActivateSms<'_>) -> Value {
    json!({
        "rentId": rent_id.to_string(),
        "sms": {"phoneFrom": sms.from, "text": sms.text, "date": sms.received_at},
    })
}

/// One SMS for sms-activate's webhook; `received_at` already `YYYY-MM-DD HH:MM:SS`.
pub struct SmsActivateSms<'a> {
    pub from: &'a str,
    pub text: &'a str,
    pub code: Option<&'a str>,
    pub received_at: &'a str,
}

/// `message.sent` / `message.failed`.
pub fn message(
    message_id: &str,
    status: &str,
    phone_number: &str,
    channel: &str,
    error: Option<&str>,
) -> Value {
    json!({
        "message_id": message_id,
        "status": status,
        "phone_number": phone_number,
        "channel": channel,
        "error": error,
    })
}

/// `otp.blocked`: a send the fraud guard refused (nothing sent, nothing charged).
pub fn otp_blocked(phone_number: &str, channel: &str, reason: &str, dialect: &str) -> Value {
    json!({
        "phone_number": phone_number,
        "channel": channel,
        "reason": reason,
        "front_door": dialect,
    })
}

/// `usage.threshold_crossed`: the account's spend in a UTC day or month reached an alert's
/// threshold (amounts in the API's money format).
pub struct Crossed<'a> {
    pub alert_id: &'a str,
    /// `daily` or `monthly`.
    pub period: &'a str,
    /// The day (`2026-12-03`) or month (`2026-12`) it crossed in.
    pub period_start: &'a str,
    pub threshold: &'a str,
    pub spent: &'a str,
    pub currency: &'a str,
    pub crossed_at: &'a str,
}

pub fn usage_threshold_crossed(c: &Crossed<'_>) -> Value {
    json!({
        "alert_id": c.alert_id,
        "period": c.period,
        "period_start": c.period_start,
        "threshold": c.threshold,
        "spent": c.spent,
        "currency": c.currency,
        "crossed_at": c.crossed_at,
    })
}

/// `otp.step`: a workflow step of a session (`domain::workflow`): `sent` (and charged), or
/// `failed` with why (nothing charged).
pub fn otp_step(
    session_id: &str,
    step: usize,
    channel: &str,
    status: &str,
    error: Option<&str>,
) -> Value {
    json!({
        "session_id": session_id,
        "step": step + 1,
        "channel": channel,
        "status": status,
        "error": error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let a = activation(
            "act_1",
            "received",
            "+15550100",
            Some("code 1234"),
            Some("1234"),
        );
        assert_eq!(a["code"], "1234");
        let sms = SmsActivateSms {
            from: "Telegram",
            text: "code 1234",
            code: None,
            received_at: "2026-12-03 10:00:00",
        };
        let a = sms_activate_activation(17, "tg", 187, &sms);
        assert_eq!(
            (a["activationId"].clone(), a["code"].clone()),
            (json!(17), json!("code 1234"))
        );
        assert_eq!(sms_activate_rent(9, &sms)["rentId"], "9");
        assert_eq!(sms_activate_rent(9, &sms)["sms"]["phoneFrom"], "Telegram");
        let m = message("msg_1", "failed", "+15550100", "sms", None);
        assert_eq!(m["error"], Value::Null);
    }
}
