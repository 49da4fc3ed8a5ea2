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

/// A JSON route reads a body sent as JSON: `application/json` (any parameters) or a
/// `+json` type; no `Content-Type` at all is read as JSON too. Anything else (a form, text)
/// → 415 (2016) rather than a guess at what the client meant.
pub fn check_content_type(header: Option<&str>) -> Result<(), AppError> {
    let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(AppError::new(
            Code::UnsupportedMediaType,
            format!(
                "Content-Type must be application/json, got '{}'",
                media.chars().take(100).collect::<String>()
            ),
        ))
    }
}

/// Parses a JSON body. Syntax errors → 2003 (malformed JSON); a well-formed body with
/// missing fields, wrong types or unknown enum values → 2004 with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    crate::domain::json::from_tree(json_object(bytes)?)
        .map_err(|e| AppError::new(Code::InvalidRequest, format!("invalid request body: {e}")))
}

/// The body as a JSON object with distinct keys; not generic, so that each body type
/// instantiates only its own reading.
fn json_object(bytes: &[u8]) -> Result<serde_json::Value, AppError> {
    check_size(bytes.len())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::new(
            Code::MalformedJson,
            "request body is empty; a JSON object is required",
        ));
    }
    // Two steps, so that a syntax error anywhere is reported as such even when a type
    // error comes earlier in the text.
    let malformed = |e: &dyn std::fmt::Display| {
        AppError::new(Code::MalformedJson, format!("malformed JSON: {e}"))
    };
    // Read as text: one instantiation of the parser (the other readers read text too).
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(&e))?;
    let value: StrictValue = serde_json::from_str(text).map_err(|e| malformed(&e))?;
    // Serde reads a struct from an array by position, and a map keeps the last of two equal
    // keys: a body is a JSON object with distinct keys, so no two readers see it two ways.
    if !value.0.is_object() {
        return Err(AppError::new(
            Code::InvalidRequest,
            "invalid request body: the body must be a JSON object",
        ));
    }
    Ok(value.0)
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
    fn content_types() {
        for ok in [
            None,
            Some(""),
            Some("application/json"),
            Some("Application/JSON; charset=UTF-8"),
            Some("application/merge-patch+json"),
        ] {
            assert!(check_content_type(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "text/json+x",
        ] {
            assert_eq!(
                check_content_type(Some(bad)).unwrap_err().code,
                Code::UnsupportedMediaType,
                "{bad}"
            );
        }
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

/// Property tests of the body parser (the crate's other properties: src/proptests.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::parse_json;
    use crate::domain::error::Code;
    use crate::proptests::{config, ok};
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            // Exact binary fractions: serde_json (without float_roundtrip) may read the last
            // digit of an arbitrary float differently; money never goes through a float anyway.
            any::<i32>().prop_map(|n| json!(f64::from(n) / 4.0)),
            ".{0,10}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(config())]

        /// Any bytes: an object, or a 400/413 with a code; never a panic.
        #[test]
        fn body_parse_never_panics(bytes in any::<Vec<u8>>()) {
            match parse_json::<Value>(&bytes) {
                Ok(v) => prop_assert!(v.is_object()),
                Err(e) => prop_assert!(
                    matches!(
                        e.code,
                        Code::MalformedJson | Code::InvalidRequest | Code::PayloadTooLarge
                    ),
                ),
            }
        }

        /// Every JSON object reads back as itself; every other JSON value is refused (2004).
        #[test]
        fn body_objects_round_trip(v in json_value()) {
            let bytes = ok(serde_json::to_vec(&v))?;
            match parse_json::<Value>(&bytes) {
                Ok(parsed) => {
                    prop_assert!(v.is_object());
                    prop_assert_eq!(parsed, v);
                }
                Err(e) => {
                    prop_assert!(!v.is_object());
                    prop_assert_eq!(e.code, Code::InvalidRequest);
                }
            }
        }

        /// A key given twice, at any depth, is refused (two parsers must never read one body
        /// two ways).
        #[test]
        fn body_duplicate_keys_refused(
            key in "[a-z]{1,6}",
            a in json_value(),
            b in json_value(),
            nest in 0usize..4,
        ) {
            let mut text = format!("{{{k}:{a},{k}:{b}}}", k = json!(key), a = a, b = b);
            for _ in 0..nest {
                text = format!("{{\"x\":[{text}]}}");
            }
            prop_assert_eq!(
                parse_json::<Value>(text.as_bytes()).unwrap_err().code,
                Code::MalformedJson,
            );
        }

        /// Arrays are never read by position into a struct (GetOTP's, OTPWALL's bodies).
        #[test]
        fn body_arrays_refused(items in proptest::collection::vec(json_value(), 0..5)) {
            #[derive(serde::Deserialize, Debug)]
            #[allow(dead_code)]
            struct Buy {
                service: Value,
                country: Value,
            }
            let bytes = ok(serde_json::to_vec(&items))?;
            prop_assert_eq!(parse_json::<Buy>(&bytes).unwrap_err().code, Code::InvalidRequest);
        }
    }

    #[test]
    fn body_deep_nesting_is_refused_without_overflow() {
        for (open, times) in [("[", 60_000), ("{\"a\":", 12_000)] {
            let text = open.repeat(times);
            let e = parse_json::<Value>(text.as_bytes()).unwrap_err();
            assert_eq!(e.code, Code::MalformedJson, "{}", e.message);
        }
    }
}
