//! HTTP Basic credentials (`Authorization: Basic base64(user:password)`): the one decoder
//! every front door that reads them calls.
use base64::Engine;

/// The decoded `user:password` text of an `Authorization: Basic …` header value.
fn decoded(header: &str) -> Option<String> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(decoded).ok()
}

/// `(username, password)` of an `Authorization: Basic …` header value; the password is
/// everything after the first colon, and a pair without a colon is refused.
pub fn credentials(header: &str) -> Option<(String, String)> {
    let text = decoded(header)?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The username of an `Authorization: Basic …` header value: the text before the first
/// colon, or all of it when there is none.
pub fn username(header: &str) -> Option<String> {
    let text = decoded(header)?;
    Some(
        text.split_once(':')
            .map_or(text.as_str(), |(user, _)| user)
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(pair: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    #[test]
    fn credentials_as_the_sdks_send_them() {
        assert_eq!(
            credentials(&basic("ACabc:key:with:colons")),
            Some(("ACabc".to_owned(), "key:with:colons".to_owned()))
        );
        assert_eq!(
            credentials("basic QUM6"),
            Some(("AC".to_owned(), String::new()))
        );
        assert_eq!(credentials("Bearer abc"), None);
        assert_eq!(credentials("Basic !!!"), None);
        assert_eq!(credentials("Basic QUM="), None, "no colon");
    }

    #[test]
    fn username_with_or_without_a_password() {
        assert_eq!(username(&basic("otp_key:")), Some("otp_key".to_owned()));
        assert_eq!(username(&basic("otp_key")), Some("otp_key".to_owned()));
        assert_eq!(username(&basic("a:b:c")), Some("a".to_owned()));
        assert_eq!(username("Bearer abc"), None);
        assert_eq!(username("Basic !!!"), None);
    }
}
