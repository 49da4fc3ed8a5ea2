//! Every webhook event's `data`, built here and nowhere else (the envelope around it is
//! `webhook::payload`). The one exception: OTP result events (`otp.verified`, `otp.failed`,
//! `otp.expired`) are recorded by SQL in the same statement that decides them, so their
//! shape is the SQL expression `store::webhooks::OTP_RESULT_SQL`.
use super::money::Money;
use super::time::rfc3339;
use super::usage::{self, Notice, Period};
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
/// threshold (amounts in the API's money format, in `currency`).
pub fn usage_threshold_crossed(n: &Notice, currency: &str) -> Value {
    let money = |minor: i64| Money::from_minor(minor).to_decimal_string();
    json!({
        "alert_id": n.alert_id,
        // `daily` or `monthly`, and the day (`2026-12-03`) or month (`2026-12`) it crossed in.
        "period": Period::of_key(&n.period).as_str(),
        "period_start": usage::period_start(&n.period),
        "threshold": money(n.threshold),
        "spent": money(n.spent),
        "currency": currency,
        "crossed_at": rfc3339(n.created_at),
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

/// A Prelude Verify status callback (`verify.authentication`: a verification was created
/// and billed; `verify.attempt`: a code was sent), the whole body as Prelude sends it: the
/// event's `id`, `type`, `payload` (the verification, its target, the send's price, the
/// caller's `metadata`) and `created_at`.
pub struct PreludeCallback<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub verification_id: &'a str,
    pub phone_number: &'a str,
    pub channel: &'a str,
    /// The send's price, as a decimal amount of `currency`.
    pub price: &'a str,
    pub currency: &'a str,
    pub correlation_id: Option<&'a str>,
    pub time: &'a str,
}

pub fn prelude_callback(c: &PreludeCallback<'_>) -> Value {
    let amount: f64 = c.price.parse().unwrap_or(0.0);
    let mut payload = json!({
        "verification_id": c.verification_id,
        "target": {"type": "phone_number", "value": c.phone_number},
        "price": {"amount": amount, "currency": c.currency},
        "time": c.time,
    });
    if c.event_type == "verify.attempt" {
        payload["channel"] = json!(c.channel);
    }
    if let Some(id) = c.correlation_id {
        payload["metadata"] = json!({ "correlation_id": id });
    }
    json!({"id": c.event_id, "type": c.event_type, "payload": payload, "created_at": c.time})
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

    #[test]
    fn a_usage_crossing_names_each_field() {
        let n = Notice {
            alert_id: "ua_1".into(),
            account_id: "acc_1".into(),
            period: "d:2026-12-03".into(),
            spent: 51_000,
            threshold: 50_000,
            created_at: 1_796_292_000_000,
        };
        let expected = json!({
            "alert_id": "ua_1",
            "period": "daily",
            "period_start": "2026-12-03",
            "threshold": "5.00",
            "spent": "5.10",
            "currency": "USD",
            "crossed_at": "2026-12-03T10:00:00Z",
        });
        assert_eq!(usage_threshold_crossed(&n, "USD"), expected);
    }

    #[test]
    fn a_prelude_callback_is_prelude_s_whole_body() {
        let c = PreludeCallback {
            event_id: "evt_1",
            event_type: "verify.attempt",
            verification_id: "vrf_1",
            phone_number: "+14155550100",
            channel: "sms",
            price: "0.0075",
            currency: "USD",
            correlation_id: Some("c-1"),
            time: "2026-01-01T00:00:00Z",
        };
        assert_eq!(
            prelude_callback(&c),
            json!({"id": "evt_1", "type": "verify.attempt", "created_at": "2026-01-01T00:00:00Z",
                "payload": {"verification_id": "vrf_1", "channel": "sms",
                    "target": {"type": "phone_number", "value": "+14155550100"},
                    "price": {"amount": 0.0075, "currency": "USD"},
                    "time": "2026-01-01T00:00:00Z", "metadata": {"correlation_id": "c-1"}}})
        );
    }
}
