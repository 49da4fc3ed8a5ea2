//! Reading a type from JSON through a `serde_json::Value`: the text into the tree first (one
//! parser, shared by every type), then the type from the tree, which takes about half the
//! code per type that reading it straight from the text does. Used for what this Worker
//! wrote itself (an object's command or answer, a stored state) and for request bodies
//! (`http::body`, which checks the text first).
//!
//! The tree is read by `Tree`, not by serde_json's own reader of a `Value`, which also reads
//! a struct from an array (by position): code instantiated for every struct and never wanted
//! here. `Tree` reads a struct only from an object (a body is never read by position, at any
//! depth), and each kind only from its own kind of value, so that a type instantiates only
//! the one path it can take. Object keys are read as strings only.
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Value};

/// `text` as a `T`.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    from_tree(serde_json::from_str::<Value>(text)?)
}

/// `value` as a `T`.
pub fn from_tree<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    T::deserialize(Tree(value))
}

/// A `Value` as a deserializer: structs from objects only; an enum from a string (a unit
/// variant) or an object of one key (the variant and its content).
pub struct Tree(pub Value);

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (_, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

fn invalid<'de, V: Visitor<'de>>(value: &Value, v: &V) -> Error {
    de::Error::invalid_type(unexpected(value), v)
}

fn number<'de, V: Visitor<'de>>(n: &serde_json::Number, v: V) -> Result<V::Value, Error> {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => v.visit_u64(u),
        (_, Some(i)) => v.visit_i64(i),
        _ => v.visit_f64(n.as_f64().unwrap_or_default()),
    }
}

/// `deserialize_<kind>` methods that read one kind of value only (`method: pattern =>
/// read;`, the visitor named `$v`); any other kind is an error naming what was found.
macro_rules! only {
    ($de:lifetime, $v:ident; $($method:ident: $pat:pat => $read:expr;)*) => {
        $(
            fn $method<V: Visitor<$de>>(self, $v: V) -> Result<V::Value, Error> {
                match self.0 {
                    $pat => $read,
                    other => Err(invalid(&other, &$v)),
                }
            }
        )*
    };
}

/// `deserialize_<kind>` methods that read as another does: `to: method(arg: type, ...)`.
macro_rules! forward {
    ($de:lifetime, $($to:ident: $($method:ident($($arg:ident: $ty:ty),*))*;)*) => {
        $($(
            fn $method<V: Visitor<$de>>(self, $($arg: $ty,)* v: V) -> Result<V::Value, Error> {
                $(let _ = $arg;)*
                self.$to(v)
            }
        )*)*
    };
}

fn map<'de, V: Visitor<'de>>(m: serde_json::Map<String, Value>, v: V) -> Result<V::Value, Error> {
    v.visit_map(Entries {
        iter: m.into_iter(),
        value: None,
    })
}

/// An object's entries, in key order.
struct Entries {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        k: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        k.deserialize(Key(key)).map(Some)
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(&mut self, s: S) -> Result<S::Value, Error> {
        s.deserialize(Tree(self.value.take().unwrap_or(Value::Null)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An array's items.
struct Items(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        s: S,
    ) -> Result<Option<S::Value>, Error> {
        self.0.next().map(|v| s.deserialize(Tree(v))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// An object's key: a string, whatever the visitor asks for.
struct Key(String);

impl<'de> de::Deserializer<'de> for Key {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_string(self.0)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> de::Deserializer<'de> for Tree {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(b),
            Value::Number(n) => number(&n, v),
            Value::String(s) => v.visit_string(s),
            Value::Array(a) => v.visit_seq(Items(a.into_iter())),
            Value::Object(m) => map(m, v),
        }
    }

    // Each kind read only from its own kind of value, so that a visitor instantiates only
    // the one path it can take (as serde_json's own reader does).
    only! { 'de, v;
        deserialize_bool: Value::Bool(b) => v.visit_bool(b);
        deserialize_f64: Value::Number(n) => number(&n, v);
        deserialize_string: Value::String(s) => v.visit_string(s);
        deserialize_unit: Value::Null => v.visit_unit();
        deserialize_seq: Value::Array(a) => v.visit_seq(Items(a.into_iter()));
        deserialize_map: Value::Object(m) => map(m, v);
    }

    forward! { 'de,
        deserialize_f64: deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64()
            deserialize_i128() deserialize_u8() deserialize_u16() deserialize_u32()
            deserialize_u64() deserialize_u128() deserialize_f32();
        deserialize_string: deserialize_char() deserialize_str() deserialize_identifier();
        deserialize_unit: deserialize_unit_struct(name: &'static str);
        deserialize_seq: deserialize_tuple(len: usize)
            deserialize_tuple_struct(name: &'static str, len: usize);
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => v.visit_enum(s.into_deserializer()),
            Value::Object(m) if m.len() == 1 => v.visit_enum(MapAccessDeserializer::new(Entries {
                iter: m.into_iter(),
                value: None,
            })),
            Value::Object(_) => Err(de::Error::invalid_value(
                Unexpected::Map,
                &"map with a single key",
            )),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"string or map",
            )),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! { bytes byte_buf ignored_any }
}

#[cfg(test)]
mod tests {
    use super::{from_tree, read};
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Op {
        Get { id: String, n: Option<u32> },
        Put(Item),
        Ping,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Item {
        #[serde(default)]
        tags: Vec<String>,
        cost: i64,
        ratio: Option<f64>,
    }

    #[test]
    fn reads_what_it_is_given() {
        let get = read::<Op>(r#"{"get":{"n":2,"id":"a"}}"#).unwrap();
        let want = Op::Get {
            id: "a".into(),
            n: Some(2),
        };
        assert_eq!(get, want);
        assert_eq!(read::<Op>(r#""ping""#).unwrap(), Op::Ping);
        let put = read::<Op>(r#"{"put":{"cost":-5,"ratio":0.5,"tags":["x"],"more":[1]}}"#);
        let item = Item {
            tags: vec!["x".into()],
            cost: -5,
            ratio: Some(0.5),
        };
        assert_eq!(put.unwrap(), Op::Put(item));
        let value: serde_json::Value = from_tree(json!({"a": [1, null, {"b": "c"}]})).unwrap();
        assert_eq!(value, json!({"a": [1, null, {"b": "c"}]}));
    }

    #[test]
    fn refuses_the_rest_saying_why() {
        let why = |text: &str| read::<Op>(text).unwrap_err().to_string();
        assert_eq!(
            why(r#"{"get":{"id":1}}"#),
            "invalid type: integer `1`, expected a string"
        );
        assert!(why(r#"{"put":{}}"#).contains("missing field `cost`"));
        assert!(why(r#"{"get":{"id":"a"},"put":{}}"#).contains("expected map with a single key"));
        assert!(why("5").contains("invalid type: integer `5`, expected string or map"));
        assert!(why(r#"{"pop":{}}"#).contains("unknown variant `pop`"));
        assert!(why(r#""get""#).contains("invalid type"));
        assert!(why(r#"{"put":{"cost":1.5}}"#).contains("invalid type: floating point"));
        // A struct is read from an object only, never from an array by position.
        assert!(why(r#"{"put":[[],1,null]}"#).contains("invalid type: sequence"));
        for bad in [r#"{"get":"#, "", "[]"] {
            assert!(read::<Op>(bad).is_err(), "{bad}");
        }
    }
}
