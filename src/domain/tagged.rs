//! Reading serde's internally tagged form (`{"<tag>":"<kind>", ...the kind's fields}`)
//! without buffering: the tag must be the object's first key, as serde writes it, and the
//! kind's fields are then read straight from the rest of the object. serde's own reader of
//! that form copies every object into an intermediate tree first, once per payload type.
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::Deserializer;
use std::fmt;
use std::marker::PhantomData;

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

/// Reads a `T` (the body of `Deserialize::deserialize` for a `Tagged` type).
pub fn deserialize<'de, T: Tagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TagFirst(PhantomData))
}

struct TagFirst<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TagFirst<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object whose first key is \"{}\"", T::TAG)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<T, M::Error> {
        let first: Option<String> = map.next_key()?;
        if first.as_deref() != Some(T::TAG) {
            return Err(de::Error::missing_field(T::TAG));
        }
        let kind: String = map.next_value()?;
        T::read(&kind, MapAccessDeserializer::new(map))?
            .ok_or_else(|| de::Error::unknown_variant(&kind, T::KINDS))
    }
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

    impl<'de> Deserialize<'de> for Shape {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
            deserialize(d)
        }
    }

    fn read(text: &str) -> Result<Shape, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn what_serde_writes_tagged_reads_back() {
        for shape in [Shape::Square(Side { side: 3 }), Shape::Dot(Empty {})] {
            let text = serde_json::to_string(&shape).unwrap();
            assert_eq!(read(&text), Ok(shape));
        }
        assert_eq!(
            read(r#"{"kind":"square","extra":[1],"side":2}"#),
            Ok(Shape::Square(Side { side: 2 }))
        );
    }

    #[test]
    fn a_kind_unknown_missing_or_not_first_is_refused() {
        let unknown = read(r#"{"kind":"circle","side":1}"#).unwrap_err();
        assert!(unknown.contains("unknown variant `circle`"), "{unknown}");
        for text in [
            r#"{"side":1,"kind":"square"}"#,
            "{}",
            r#"{"kind":"square"}"#,
            "[]",
        ] {
            assert!(read(text).is_err(), "{text}");
        }
    }
}
