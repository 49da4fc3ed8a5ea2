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
        let m = message("msg_1", "failed", "+15550100", "sms", None);
        assert_eq!(m["error"], Value::Null);
    }
}
