//! Wire-input rules shared by several dialects (each dialect module stays independent of
//! the others; what two of them parse alike lives here).
use crate::domain::error::{AppError, Code};
use crate::domain::otp;

/// Bounds for operator-supplied labels (names, references).
const MAX_LABEL: usize = 255;

/// A trimmed label of 1 to 255 characters without control characters (`domain::text`).
pub fn label(field: &str, value: &str) -> Result<String, AppError> {
    crate::domain::text::label(field, value, MAX_LABEL).map_err(AppError::invalid)
}

/// A template's name (a label) and channel (one this product knows, 1515 otherwise), as the
/// operator's and the customers' template routes read them.
pub fn template_fields(name: &str, channel: &str) -> Result<(String, String), AppError> {
    let name = label("name", name)?;
    let channel = otp::known_channel(channel).ok_or_else(|| {
        let m = format!("'channel' must be one of: {}", otp::CHANNELS.join(", "));
        AppError::new(Code::InvalidChannel, m)
    })?;
    Ok((name, channel.to_owned()))
}

/// The user input of an OTP check: 1–16 characters (a string, or a JSON number).
pub fn code_input(value: Option<&serde_json::Value>, field: &str) -> Result<String, AppError> {
    let code = match value {
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        // JSON has one number type: `76946493.0` is the integer 76946493, as JSON Schema's
        // `integer` reads it (a code has at most 16 digits). A fraction is not a code.
        Some(serde_json::Value::Number(n))
            if n.as_f64()
                .is_some_and(|f| f >= 0.0 && f.fract() == 0.0 && f < 1.0e16) =>
        {
            format!("{}", n.as_f64().unwrap_or_default() as u64)
        }
        _ => {
            let m = format!("'{field}' is required: the code the user typed, as a string");
            return Err(AppError::invalid(m));
        }
    };
    if code.is_empty() || code.chars().count() > otp::MAX_INPUT_LENGTH {
        let m = format!(
            "'{field}' must be 1 to {} characters",
            otp::MAX_INPUT_LENGTH
        );
        return Err(AppError::invalid(m));
    }
    Ok(code)
}

/// A phone number given as a path segment: `%2B` (an encoded `+`) decoded.
pub fn path_phone(segment: &str) -> String {
    match segment.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("%2B") => format!("+{}", segment.get(3..).unwrap_or("")),
        _ => segment.to_owned(),
    }
}

/// An operator's reason, from the body's `reason` field (`{"reason": "…"}`; an empty body
/// has none): 400 naming the field when it is blank or too long, or `required` and absent.
pub fn reason(ctx: &super::Ctx, required: bool) -> Result<Option<String>, AppError> {
    #[derive(serde::Deserialize)]
    struct Body {
        reason: Option<String>,
    }
    let given = match ctx.body.is_empty() {
        true => None,
        false => ctx.json::<Body>()?.reason,
    };
    match given {
        Some(r) => crate::domain::audit::reason(&r)
            .map(Some)
            .map_err(AppError::invalid),
        None if required => Err(AppError::invalid("'reason' is required: say why")),
        None => Ok(None),
    }
}
