//! Twilio's JSON shapes of a service, a verification and a check, as the SDKs read them.
use super::origin;
use super::shapes::date;
use crate::app::verify::{Caller, Verification};
use crate::domain::time::rfc3339_millis;
use crate::domain::twilio_verify::{Service, Status, VerificationRecord};
use crate::http::server::Ctx;
use serde_json::{json, Value};

pub fn service_json(ctx: &Ctx, caller: &Caller, s: &Service) -> Value {
    let url = format!("{}/v2/Services/{}", origin(ctx), s.sid);
    json!({
        "sid": s.sid,
        "account_sid": caller.account_sid,
        "friendly_name": s.friendly_name,
        "code_length": s.code_length,
        "lookup_enabled": false,
        "psd2_enabled": false,
        "skip_sms_to_landlines": false,
        "dtmf_input_required": false,
        "tts_name": null,
        "do_not_share_warning_enabled": false,
        "custom_code_enabled": true,
        "push": {"include_date": false, "apn_credential_sid": null, "fcm_credential_sid": null},
        "totp": {"issuer": null, "time_step": 30, "code_length": 6, "skew": 1},
        "default_template_sid": null,
        "whatsapp": {"msg_service_sid": null, "from": null},
        "passkeys": null,
        "verify_event_subscription_enabled": false,
        "date_created": date(s.created_at),
        "date_updated": date(s.updated_at),
        "url": url,
        "links": {
            "verification_checks": format!("{url}/VerificationCheck"),
            "verifications": format!("{url}/Verifications"),
            "rate_limits": format!("{url}/RateLimits"),
            "messaging_configurations": format!("{url}/MessagingConfigurations"),
            "entities": format!("{url}/Entities"),
            "webhooks": format!("{url}/Webhooks"),
            "access_tokens": format!("{url}/AccessTokens"),
        },
    })
}

pub fn verification_json(ctx: &Ctx, caller: &Caller, v: &Verification) -> Value {
    let attempts: Vec<Value> = v
        .sends
        .iter()
        .map(|s| {
            json!({
                "attempt_sid": s.session_id,
                "channel": s.channel,
                "time": rfc3339_millis(s.created_at),
            })
        })
        .collect();
    let r = &v.row;
    json!({
        "sid": r.sid,
        "service_sid": r.service_sid,
        "account_sid": caller.account_sid,
        "to": r.to_phone,
        "channel": r.channel,
        "status": v.status.as_str(),
        "valid": v.status == Status::Approved,
        "lookup": {},
        "amount": null,
        "payee": null,
        "send_code_attempts": attempts,
        "date_created": date(r.created_at),
        "date_updated": date(v.updated_at),
        "sna": null,
        "url": format!("{}/v2/Services/{}/Verifications/{}", origin(ctx), r.service_sid, r.sid),
    })
}

/// The answer to a check: the verification and its status after the check.
pub fn check_json(ctx: &Ctx, caller: &Caller, v: &VerificationRecord, status: Status) -> Value {
    json!({
        "sid": v.sid,
        "service_sid": v.service_sid,
        "account_sid": caller.account_sid,
        "to": v.to_phone,
        "channel": v.channel,
        "status": status.as_str(),
        "valid": status == Status::Approved,
        "amount": null,
        "payee": null,
        "sna_attempts_error_codes": [],
        "date_created": date(v.created_at),
        "date_updated": date(ctx.app.now_ms),
    })
}
