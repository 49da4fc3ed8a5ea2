//! Reading serde's internally tagged form (`{"<tag>":"<kind>", ...the kind's fields}`)
//! through a `Value` (`domain::json`): the tag is taken out of the object, and the kind's
//! fields are read from the rest. serde's own reader of that form buffers every object in
//! an intermediate tree of its own, with code for it once per payload type.
use super::json::Tree;
use serde::de;
use serde::Deserializer;
use serde_json::{Error, Value};

/// A type read from the tagged form.
pub trait Tagged: Sized {
    /// The key that names the kind.
    const TAG: &'static str;
    /// Every kind, for the error on an unknown one.
    const KINDS: &'static [&'static str];
    /// The value of kind `kind` read from `fields` (a deserializer over the rest of the
    /// object); `None` for an unknown kind.
    fn read<'de, D: Deserializer<'de>>(kind: &str, fields: D) -> Result<Option<Self>, D::Error>;
}

/// `text` as a `T`.
pub fn read<T: Tagged>(text: &str) -> Result<T, Error> {
    let not_tagged = || de::Error::custom(format!("not an object with a string `{}`", T::TAG));
    let Value::Object(mut object) = serde_json::from_str::<Value>(text)? else {
        return Err(not_tagged());
    };
    let kind = match object.remove(T::TAG) {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err(not_tagged()),
        None => return Err(de::Error::missing_field(T::TAG)),
    };
    T::read(&kind, Tree(Value::Object(object)))?
        .ok_or_else(|| de::Error::unknown_variant(&kind, T::KINDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Shape {
        Square(Side),
        Dot(Empty),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Side {
        side: u32,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Empty {}

    impl Tagged for Shape {
        const TAG: &'static str = "kind";
        const KINDS: &'static [&'static str] = &["square", "dot"];
        fn read<'de, D: Deserializer<'de>>(kind: &str, f: D) -> Result<Option<Self>, D::Error> {
            Ok(match kind {
                "square" => Some(Shape::Square(Side::deserialize(f)?)),
                "dot" => Some(Shape::Dot(Empty::deserialize(f)?)),
                _ => None,
            })
        }
    }

    fn shape(text: &str) -> Result<Shape, String> {
        read(text).map_err(|e| e.to_string())
    }

    #[test]
    fn what_serde_writes_tagged_reads_back() {
        for s in [Shape::Square(Side { side: 3 }), Shape::Dot(Empty {})] {
            let text = serde_json::to_string(&s).unwrap();
            assert_eq!(shape(&text), Ok(s));
        }
        let square = Ok(Shape::Square(Side { side: 2 }));
        assert_eq!(shape(r#"{"kind":"square","extra":[1],"side":2}"#), square);
        assert_eq!(shape(r#"{"side":2,"kind":"square"}"#), square);
    }

    #[test]
    fn a_kind_unknown_missing_or_not_a_string_is_refused() {
        let unknown = shape(r#"{"kind":"circle","side":1}"#).unwrap_err();
        assert!(unknown.contains("unknown variant `circle`"), "{unknown}");
        assert!(shape(r#"{"side":1}"#)
            .unwrap_err()
            .contains("missing field `kind`"));
        for text in [
            r#"{"kind":1}"#,
            "{}",
            r#"{"kind":"square"}"#,
            "[]",
            r#""square""#,
        ] {
            assert!(shape(text).is_err(), "{text}");
        }
    }
}
