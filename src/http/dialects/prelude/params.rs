//! Prelude's request bodies, parsed into what the operations take; a bad field is a
//! `ParamError` with Prelude's code and the field's path (`param`).
use crate::domain::otp::{is_numeric, MAX_LENGTH, MIN_LENGTH};
use crate::domain::phone::{Phone, PlusSign};
use serde_json::{Map, Value};

/// The longest `metadata.correlation_id`.
const MAX_CORRELATION_ID: usize = 64;
/// The most fallbacks a verification may ask for.
pub const MAX_AUTO_FALLBACKS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub code: &'static str,
    pub param: &'static str,
    pub message: String,
}

fn bad(code: &'static str, param: &'static str, message: impl Into<String>) -> ParamError {
    ParamError {
        code,
        param,
        message: message.into(),
    }
}

fn invalid(param: &'static str, rule: &str) -> ParamError {
    bad("invalid_request", param, format!("'{param}' {rule}"))
}

/// `POST /v2/verification`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    pub phone: Phone,
    pub code_size: Option<usize>,
    pub custom_code: Option<String>,
    pub template_id: Option<String>,
    pub callback_url: Option<String>,
    /// `options.method` "voice": the code is read out in a call.
    pub voice: bool,
    /// `options.preferred_channel` as sent (a channel this deployment may not deliver on).
    pub preferred_channel: Option<String>,
    pub max_auto_fallbacks: u64,
    pub correlation_id: Option<String>,
}

/// `POST /v2/verification/check`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub phone: Phone,
    pub code: String,
}

fn object<'a>(v: &'a Value, param: &'static str) -> Result<&'a Map<String, Value>, ParamError> {
    v.as_object()
        .ok_or_else(|| invalid(param, "must be a JSON object"))
}

/// An optional member: absent and null alike are `None`.
fn member<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).filter(|v| !v.is_null())
}

fn text(
    o: &Map<String, Value>,
    name: &str,
    param: &'static str,
) -> Result<Option<String>, ParamError> {
    match member(o, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(invalid(param, "must be a string")),
    }
}

/// The `target`: a phone number in E.164 (`email_address` is not offered).
pub fn target(body: &Map<String, Value>) -> Result<Phone, ParamError> {
    let t = object(member(body, "target").unwrap_or(&Value::Null), "target")?;
    match text(t, "type", "target.type")?.as_deref() {
        Some("phone_number") => {}
        Some("email_address") => {
            let m = "Email verification is not available on this account";
            return Err(bad("email_verification_not_allowed", "target.type", m));
        }
        _ => return Err(invalid("target.type", "must be \"phone_number\"")),
    }
    e164(t, "value", "target.value")
}

/// A phone number in E.164, exactly as sent (no spaces around it).
fn e164(o: &Map<String, Value>, name: &str, param: &'static str) -> Result<Phone, ParamError> {
    let value = member(o, name).and_then(Value::as_str).unwrap_or_default();
    Phone::parse(value, PlusSign::Required).map_err(|e| {
        let m = format!("The provided phone number is invalid ({e}); provide it in E.164");
        bad("invalid_phone_number", param, m)
    })
}

fn code_size(options: &Map<String, Value>) -> Result<Option<usize>, ParamError> {
    let Some(v) = member(options, "code_size") else {
        return Ok(None);
    };
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (MIN_LENGTH..=MAX_LENGTH).contains(n))
        .map(Some)
        .ok_or_else(|| {
            let m = format!("Code size must be between {MIN_LENGTH} and {MAX_LENGTH}");
            bad("invalid_code_size", "options.code_size", m)
        })
}

fn custom_code(options: &Map<String, Value>) -> Result<Option<String>, ParamError> {
    let code = text(options, "custom_code", "options.custom_code")?;
    match code {
        Some(c) if is_numeric(&c) && (MIN_LENGTH..=MAX_LENGTH).contains(&c.len()) => Ok(Some(c)),
        Some(_) => {
            let m = format!("The custom code must be {MIN_LENGTH} to {MAX_LENGTH} digits");
            Err(bad("invalid_custom_code", "options.custom_code", m))
        }
        None => Ok(None),
    }
}

fn fallbacks(options: &Map<String, Value>) -> Result<u64, ParamError> {
    match member(options, "max_auto_fallbacks") {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= MAX_AUTO_FALLBACKS)
            .ok_or_else(|| {
                let rule = format!("must be an integer from 0 to {MAX_AUTO_FALLBACKS}");
                invalid("options.max_auto_fallbacks", &rule)
            }),
    }
}

fn correlation_id(body: &Map<String, Value>) -> Result<Option<String>, ParamError> {
    let Some(m) = member(body, "metadata") else {
        return Ok(None);
    };
    let id = text(
        object(m, "metadata")?,
        "correlation_id",
        "metadata.correlation_id",
    )?;
    match id {
        Some(id) if id.chars().count() > MAX_CORRELATION_ID => {
            let m = format!("The correlation ID must be at most {MAX_CORRELATION_ID} characters");
            Err(bad("invalid_correlation_id", "metadata.correlation_id", m))
        }
        id => Ok(id),
    }
}

/// The create request's fields (`signals`, `dispatch_id` and unknown options are ignored).
pub fn create(body: &Value) -> Result<Create, ParamError> {
    let body = object(body, "body")?;
    let phone = target(body)?;
    let empty = Map::new();
    let options = match member(body, "options") {
        Some(v) => object(v, "options")?,
        None => &empty,
    };
    let code_size = code_size(options)?;
    let custom_code = custom_code(options)?;
    if code_size.is_some() && custom_code.is_some() {
        let m = "Custom code and code size can't be set at the same time";
        return Err(bad("custom_size_conflict", "options.custom_code", m));
    }
    let voice = match text(options, "method", "options.method")?.as_deref() {
        None | Some("auto" | "message") => false,
        Some("voice") => true,
        Some(_) => return Err(invalid("options.method", "must be auto, voice or message")),
    };
    if let Some(variables) = member(options, "variables") {
        object(variables, "options.variables")?;
    }
    if let Some(signals) = member(body, "signals") {
        object(signals, "signals")?;
    }
    text(options, "locale", "options.locale")?;
    text(body, "dispatch_id", "dispatch_id")?;
    Ok(Create {
        phone,
        code_size,
        custom_code,
        template_id: text(options, "template_id", "options.template_id")?,
        callback_url: text(options, "callback_url", "options.callback_url")?,
        voice,
        preferred_channel: text(options, "preferred_channel", "options.preferred_channel")?,
        max_auto_fallbacks: fallbacks(options)?,
        correlation_id: correlation_id(body)?,
    })
}

/// The check request's fields.
pub fn check(body: &Value) -> Result<Check, ParamError> {
    let body = object(body, "body")?;
    let phone = target(body)?;
    let code = match member(body, "code") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => {
            return Err(invalid(
                "code",
                "is required: the code the user typed, as a string",
            ))
        }
    };
    Ok(Check { phone, code })
}

/// `POST|DELETE /v2/verification/management/phone-numbers/{action}`: the number.
pub fn phone_number(body: &Value) -> Result<Phone, ParamError> {
    e164(object(body, "body")?, "phone_number", "phone_number")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(value: &str) -> Value {
        json!({"type": "phone_number", "value": value})
    }

    #[test]
    fn a_create_with_options_and_metadata() {
        let body = json!({"target": target("+14155550100"), "signals": {"ip": "1.2.3.4"},
            "options": {"code_size": 8, "preferred_channel": "whatsapp", "max_auto_fallbacks": 2,
                "locale": "fr-FR", "variables": {"a": "b"}},
            "metadata": {"correlation_id": "c-1"}});
        let c = create(&body).unwrap();
        assert_eq!(c.phone.e164(), "+14155550100");
        assert_eq!(c.code_size, Some(8));
        assert_eq!(c.preferred_channel.as_deref(), Some("whatsapp"));
        assert_eq!(c.max_auto_fallbacks, 2);
        assert_eq!(c.correlation_id.as_deref(), Some("c-1"));
        assert!(!c.voice);
    }

    #[test]
    fn bad_fields_answer_prelude_codes_and_their_param() {
        let cases = [
            (
                json!({"target": {"type": "ip", "value": "x"}}),
                "invalid_request",
                "target.type",
            ),
            (
                json!({"target": {"type": "email_address", "value": "a@b.c"}}),
                "email_verification_not_allowed",
                "target.type",
            ),
            (
                json!({"target": target("14155550100")}),
                "invalid_phone_number",
                "target.value",
            ),
            (
                json!({"target": target("+1415abc")}),
                "invalid_phone_number",
                "target.value",
            ),
            (
                json!({"target": target("+14155550100"), "options": {"code_size": 3}}),
                "invalid_code_size",
                "options.code_size",
            ),
            (
                json!({"target": target("+14155550100"), "options": {"code_size": 9}}),
                "invalid_code_size",
                "options.code_size",
            ),
            (
                json!({"target": target("+14155550100"), "options": {"custom_code": "12a4"}}),
                "invalid_custom_code",
                "options.custom_code",
            ),
            (
                json!({"target": target("+14155550100"),
                "options": {"custom_code": "1234", "code_size": 4}}),
                "custom_size_conflict",
                "options.custom_code",
            ),
            (
                json!({"target": target("+14155550100"), "options": {"max_auto_fallbacks": 9}}),
                "invalid_request",
                "options.max_auto_fallbacks",
            ),
            (
                json!({"target": target("+14155550100"),
                "metadata": {"correlation_id": "x".repeat(65)}}),
                "invalid_correlation_id",
                "metadata.correlation_id",
            ),
            (json!([]), "invalid_request", "body"),
        ];
        for (body, code, param) in cases {
            let e = create(&body).unwrap_err();
            assert_eq!((e.code, e.param), (code, param), "{body}");
        }
    }

    #[test]
    fn a_check_needs_a_target_and_a_code() {
        let c = check(&json!({"target": target("+14155550100"), "code": " 1234 "})).unwrap();
        assert_eq!(c.code, "1234");
        let e = check(&json!({"target": target("+14155550100"), "code": 1234})).unwrap_err();
        assert_eq!(e.param, "code");
        let p = phone_number(&json!({"phone_number": "+14155550100"})).unwrap();
        assert_eq!(p.e164(), "+14155550100");
        assert_eq!(
            phone_number(&json!({})).unwrap_err().code,
            "invalid_phone_number"
        );
    }
}
