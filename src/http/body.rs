//! Request bodies: at most 64 KiB of JSON, parsed into a typed struct once.
use crate::domain::error::{AppError, Code};
use serde::de::DeserializeOwned;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn check_size(len: usize) -> Result<(), AppError> {
    if len > MAX_BODY_BYTES {
        Err(AppError::of(Code::PayloadTooLarge))
    } else {
        Ok(())
    }
}

/// Parses a JSON body. Syntax errors → 2003 (malformed JSON); a well-formed body with
/// missing fields, wrong types or unknown enum values → 2004 with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    check_size(bytes.len())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::new(
            Code::MalformedJson,
            "request body is empty; a JSON object is required",
        ));
    }
    // Two steps, so that a syntax error anywhere is reported as such even when a type
    // error comes earlier in the text.
    let value: StrictValue = serde_json::from_slice(bytes)
        .map_err(|e| AppError::new(Code::MalformedJson, format!("malformed JSON: {e}")))?;
    // Serde reads a struct from an array by position, and a map keeps the last of two equal
    // keys: a body is a JSON object with distinct keys, so no two readers see it two ways.
    if !value.0.is_object() {
        return Err(AppError::new(
            Code::InvalidRequest,
            "invalid request body: the body must be a JSON object",
        ));
    }
    T::deserialize(value.0)
        .map_err(|e| AppError::new(Code::InvalidRequest, format!("invalid request body: {e}")))
}

/// A JSON value whose objects, at every depth, have distinct keys (a duplicate is a syntax
/// error here, reported as malformed JSON).
struct StrictValue(serde_json::Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v)
            .map_or(serde_json::Value::Null, serde_json::Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some((key, StrictValue(v))) = map.next_entry::<String, StrictValue>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key '{key}'")));
            }
            object.insert(key, v);
        }
        Ok(serde_json::Value::Object(object))
    }
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
        assert_eq!(
            parse_json::<Topup>(b"").unwrap_err().code,
            Code::MalformedJson
        );
        assert_eq!(
            parse_json::<Topup>(b"{\"amount\":").unwrap_err().code,
            Code::MalformedJson
        );
        assert_eq!(
            parse_json::<Topup>(b"[1,2").unwrap_err().code,
            Code::MalformedJson
        );
        let wrong_type = parse_json::<Topup>(b"{\"amount\":5}").unwrap_err();
        assert_eq!(wrong_type.code, Code::InvalidRequest);
        assert!(
            wrong_type.message.contains("invalid type"),
            "{}",
            wrong_type.message
        );
        assert_eq!(
            parse_json::<Topup>(b"{}").unwrap_err().code,
            Code::InvalidRequest
        );
        assert_eq!(
            parse_json::<Topup>(&vec![b' '; MAX_BODY_BYTES + 1])
                .unwrap_err()
                .code,
            Code::PayloadTooLarge
        );
        assert!(parse_json::<Topup>(b"{\"amount\":\"1\"}").is_ok());
        // Arrays are not read by position; duplicate keys are refused at any depth.
        assert_eq!(
            parse_json::<Topup>(b"[\"1\"]").unwrap_err().code,
            Code::InvalidRequest
        );
        assert_eq!(
            parse_json::<serde_json::Value>(b"\"x\"").unwrap_err().code,
            Code::InvalidRequest
        );
        let dup = parse_json::<Topup>(b"{\"amount\":\"1\",\"amount\":\"2\"}").unwrap_err();
        assert_eq!(dup.code, Code::MalformedJson);
        assert!(dup.message.contains("duplicate key"), "{}", dup.message);
        let nested = b"{\"amount\":\"1\",\"x\":[{\"a\":1,\"a\":2}]}";
        assert_eq!(
            parse_json::<Topup>(nested).unwrap_err().code,
            Code::MalformedJson
        );
        let deep: serde_json::Value =
            parse_json(b"{\"a\":[1,-2,1.5,null,true,{\"b\":\"c\"}]}").unwrap();
        assert_eq!(
            deep,
            serde_json::json!({"a":[1,-2,1.5,null,true,{"b":"c"}]})
        );
    }
}
