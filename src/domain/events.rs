//! Every webhook event's `data`, built here and nowhere else (the envelope around it is
//! `webhook::payload`). OTP result events are recorded by SQL in the same statement that
//! decides them, so their shape is given here as the SQL expression that builds it.
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

/// `otp.verified` / `otp.failed` / `otp.expired`, as a SQL expression over an
/// `otp_sessions` row with its `event_type` (and `?3` = the time it occurred, in ms). The
/// payload the client sent with the send is echoed in `payload`.
pub const OTP_RESULT_SQL: &str = "json_object('session_id', id, 'message_id', id, \
     'phone', phone, 'channel', channel, 'status', substr(event_type, 5), 'attempts', attempts, \
     'payload', payload, 'occurred_at', ?3)";

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
        assert!(OTP_RESULT_SQL.contains("'session_id'"));
    }
}
