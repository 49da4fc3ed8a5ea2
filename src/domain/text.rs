//! Free text a client names things with (accounts, suppliers, templates, catalog entries).

/// A name or label: at most `max` characters as sent (what the OpenAPI `maxLength` counts),
/// not blank, stored trimmed, no control characters. SQLite's `length()` stops at a NUL, so
/// a name starting with one would fail a `CHECK (length(…))` after every other rule passed;
/// control characters never belong in a name anyway.
pub fn label(field: &str, value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || value.chars().count() > max {
        return Err(format!("'{field}' must be 1 to {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("'{field}' must not contain control characters"));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label("name", "  acme ", 255), Ok("acme".into()));
        assert!(label("name", "", 255).is_err());
        assert!(label("name", "   ", 255).is_err());
        assert!(label("name", "\u{0}acme", 255).is_err());
        assert!(label("name", "ac\u{7}me", 255).is_err());
        assert!(label("name", "ac\u{85}me", 255).is_err());
        assert!(label("name", &"é".repeat(255), 255).is_ok());
        assert!(label("name", &"é".repeat(256), 255).is_err());
        // The bound counts the value as sent, as the document's maxLength does.
        assert!(label("name", &format!("\u{a0}{}", "é".repeat(255)), 255).is_err());
    }
}
