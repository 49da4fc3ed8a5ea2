//! Prelude's error envelope: `{"code","message","type","request_id"}` (and `param` naming
//! the field at fault), with Prelude's machine-readable codes where it has one.
use crate::domain::error::Code;
use serde_json::{json, Value};

/// An error the dialect raises with Prelude's own code (carried as the error's `reason`).
pub fn prelude_code(code: Code) -> &'static str {
    match code {
        Code::InvalidRecipient | Code::PhoneMissing => "invalid_phone_number",
        Code::InvalidCodeLength => "invalid_code_size",
        Code::CodeAndCodeLength => "custom_size_conflict",
        Code::CodeInvalid | Code::CodeNotNumeric => "invalid_custom_code",
        Code::InvalidTemplateId | Code::TemplateNotFound | Code::TemplateWithoutCode => {
            "invalid_template_id"
        }
        Code::TemplateVariables => "invalid_template_variables",
        Code::InvalidWebhookUrl => "invalid_callback_url",
        Code::NoOtpPrice | Code::InvalidChannel => "channel_not_enabled_in_region",
        Code::InsufficientFunds => "insufficient_balance",
        Code::SpendCapReached => "spending_limit_exceeded",
        Code::Unauthorized => "invalid_api_key",
        Code::Internal | Code::DeliveryFailed => "internal",
        Code::RouteNotFound | Code::NotFound => "not_found",
        Code::MethodNotAllowed => "method_not_allowed",
        Code::RateLimited | Code::ResendTooSoon | Code::SendLimitReached => "too_many_requests",
        Code::CheckAttemptsSpent | Code::LoginLocked => "too_many_requests",
        Code::Forbidden | Code::NotApproved | Code::InsufficientScope | Code::SendBlocked => {
            "forbidden"
        }
        _ => "invalid_request",
    }
}

/// The error's `type`: its class, by HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 | 413 | 415 | 422 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        429 => "too_many_requests",
        _ => "internal",
    }
}

/// The envelope's body.
pub fn error_body(
    status: u16,
    code: &str,
    message: &str,
    param: Option<&str>,
    request_id: &str,
) -> Value {
    let mut body = json!({
        "code": code,
        "message": message,
        "type": error_type(status),
        "request_id": request_id,
    });
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_types_are_prelude_words() {
        assert_eq!(prelude_code(Code::InvalidRecipient), "invalid_phone_number");
        assert_eq!(prelude_code(Code::InvalidCodeLength), "invalid_code_size");
        assert_eq!(
            prelude_code(Code::InsufficientFunds),
            "insufficient_balance"
        );
        assert_eq!(prelude_code(Code::MalformedJson), "invalid_request");
        assert_eq!(error_type(400), "bad_request");
        assert_eq!(error_type(502), "internal");
        let body = error_body(
            400,
            "invalid_code_size",
            "m",
            Some("options.code_size"),
            "r",
        );
        assert_eq!(
            body,
            json!({"code":"invalid_code_size","message":"m","type":"bad_request",
                "request_id":"r","param":"options.code_size"})
        );
        assert!(error_body(401, "invalid_api_key", "m", None, "r")
            .get("param")
            .is_none());
    }
}
