//! Reading a value that this Worker wrote as JSON (an object's command or answer, a stored
//! state): the text into a `serde_json::Value` first (one parser, shared by every type), then
//! the type from that tree, which takes about half the code per type that reading it
//! straight from the text does. Request bodies go the same way (`http::body`).
use serde::de::DeserializeOwned;

/// `text` as a `T`.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    T::deserialize(serde_json::from_str::<serde_json::Value>(text)?)
}

#[cfg(test)]
mod tests {
    use super::read;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Op {
        Get { id: String, n: Option<u32> },
        Ping,
    }

    #[test]
    fn reads_what_it_is_given_and_refuses_the_rest() {
        let get = read::<Op>(r#"{"get":{"n":2,"id":"a"}}"#).unwrap();
        let want = Op::Get {
            id: "a".into(),
            n: Some(2),
        };
        assert_eq!(get, want);
        assert_eq!(read::<Op>(r#""ping""#).unwrap(), Op::Ping);
        for bad in [r#"{"get":{"id":1}}"#, r#"{"put":{}}"#, r#"{"get":"#, ""] {
            assert!(read::<Op>(bad).is_err(), "{bad}");
        }
    }
}
