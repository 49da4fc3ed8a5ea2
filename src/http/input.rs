//! Wire-input rules shared by several dialects (each dialect module stays independent of
//! the others; what two of them parse alike lives here).
use crate::domain::error::AppError;
use crate::domain::otp;

/// Bounds for operator-supplied labels (names, references).
const MAX_LABEL: usize = 255;

/// A trimmed label of 1 to 255 characters.
pub fn label(field: &str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_LABEL {
        return Err(AppError::invalid(format!(
            "'{field}' must be 1 to {MAX_LABEL} characters"
        )));
    }
    Ok(v.to_owned())
}

/// The user input of an OTP check: 1–16 characters (a string, or a JSON number).
pub fn code_input(value: Option<&serde_json::Value>, field: &str) -> Result<String, AppError> {
    let code = match value {
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
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
