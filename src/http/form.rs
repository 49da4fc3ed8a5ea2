//! A form-urlencoded body (`application/x-www-form-urlencoded`) read by name: the one
//! reader the front doors that take forms call.
use crate::domain::delivery::form_decode;

/// The fields of a form, in order. A name is matched exactly, and the first value of a
/// repeated name counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form(form_decode(bytes))
    }

    /// A form of fields already decoded (in order).
    pub fn from_fields(fields: Vec<(String, String)>) -> Form {
        Form(fields)
    }

    /// The first value of `name`, trimmed; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_as_the_sdks_encode_them() {
        let f = Form::parse(b"To=%2B14155550100&Channel=sms&FriendlyName=My+App&Code=&To=%2B1999");
        assert_eq!(
            f.get("To"),
            Some("+14155550100"),
            "the first of a repeated name"
        );
        assert_eq!(f.get("FriendlyName"), Some("My App"));
        assert_eq!(f.get("Code"), None, "empty is absent");
        assert_eq!(f.get("to"), None, "names are matched exactly");
        assert_eq!(Form::parse(b"").get("To"), None);
    }
}
