//! Request bodies: at most 64 KiB of JSON, parsed into a typed struct once.
use super::error::{ApiError, Code};
use serde::de::DeserializeOwned;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn check_size(len: usize) -> Result<(), ApiError> {
    if len > MAX_BODY_BYTES {
        Err(ApiError::of(Code::PayloadTooLarge))
    } else {
        Ok(())
    }
}

/// Parses a JSON body. Syntax errors → 2003 (malformed JSON); a well-formed body with
/// missing fields, wrong types or unknown enum values → 2004 with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_size(bytes.len())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(Code::MalformedJson, "request body is empty; a JSON object is required"));
    }
    // Two steps, so that a syntax error anywhere is reported as such even when a type
    // error comes earlier in the text.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::new(Code::MalformedJson, format!("malformed JSON: {e}")))?;
    T::deserialize(value).map_err(|e| ApiError::new(Code::InvalidRequest, format!("invalid request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Topup {
        amount: String,
    }

    #[test]
    fn classifies_failures() {
        assert_eq!(parse_json::<Topup>(b"").unwrap_err().code, Code::MalformedJson);
        assert_eq!(parse_json::<Topup>(b"{\"amount\":").unwrap_err().code, Code::MalformedJson);
        assert_eq!(parse_json::<Topup>(b"[1,2").unwrap_err().code, Code::MalformedJson);
        let wrong_type = parse_json::<Topup>(b"{\"amount\":5}").unwrap_err();
        assert_eq!(wrong_type.code, Code::InvalidRequest);
        assert!(wrong_type.message.contains("invalid type"), "{}", wrong_type.message);
        assert_eq!(parse_json::<Topup>(b"{}").unwrap_err().code, Code::InvalidRequest);
        assert_eq!(parse_json::<Topup>(&vec![b' '; MAX_BODY_BYTES + 1]).unwrap_err().code, Code::PayloadTooLarge);
        assert!(parse_json::<Topup>(b"{\"amount\":\"1\"}").is_ok());
    }
}
