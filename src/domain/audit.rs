//! The audit log: who did what to which resource, and why. The front door builds one `Actor`
//! per request (who, from which IP, under which request id); an operation that changes
//! something describes it as a `Change` and writes both in the same D1 batch as the change
//! (`store::audit`). Rows are never edited or deleted (the table's triggers refuse it).
use super::time::parse_rfc3339;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorType {
    /// A customer signed in to the dashboard (a login session).
    User,
    /// A customer's API key.
    ApiKey,
    /// The operator (the admin token, or a console session).
    Admin,
    /// The platform itself (the scheduled pass, jobs).
    System,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::ApiKey => "api_key",
            ActorType::Admin => "admin",
            ActorType::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<ActorType> {
        [Self::User, Self::ApiKey, Self::Admin, Self::System]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// Who acted, from where, in which request. `id` is the account (a user), the key's
/// SHA-256 (an API key: the store records the key's id), the console session's id or
/// `token` (the operator), or the job's name (the system).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorType,
    pub id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The platform itself acting (no request, no IP).
    pub fn system(job: &str) -> Actor {
        Actor {
            kind: ActorType::System,
            id: Some(job.to_owned()),
            ip: None,
            request_id: None,
        }
    }
}

/// What changed: the action, the resource, its state before and after (JSON), the reason,
/// and the account it concerns (`None`: the platform's own, such as the catalog).
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    pub account_id: Option<&'a str>,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<&'a str>,
}

/// One row of the audit log as it is read back.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub at: i64,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub account_id: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

/// The longest reason kept (characters).
pub const MAX_REASON: usize = 500;

/// A reason as given: a label (`text::label`) of at most `MAX_REASON` characters; blank is
/// refused.
pub fn reason(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("'reason' is required: say why".to_owned());
    }
    super::text::label("reason", text, MAX_REASON)
}

/// Rows per page of an audit list.
pub const PAGE: u32 = 50;

/// The filters of an audit list (`None`: any). `before_id` is the keyset cursor: rows older
/// than it (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub account_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before_id: Option<i64>,
}

/// A time filter, when given: RFC 3339 or Unix milliseconds, exactly (400 naming the field
/// otherwise, an empty value too).
pub fn parse_time(field: &str, value: Option<&str>) -> Result<Option<i64>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    let parsed = parse_rfc3339(v).or_else(|| v.parse::<i64>().ok().filter(|n| *n >= 0));
    parsed
        .map(Some)
        .ok_or_else(|| format!("'{field}' must be an RFC 3339 time or Unix milliseconds"))
}

/// The keyset cursor a page answered (`next_cursor`): the id of its last row, digits only.
pub fn parse_cursor(value: Option<&str>) -> Result<Option<i64>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    (digits.then(|| v.parse::<i64>().ok()).flatten())
        .filter(|n| *n > 0)
        .map(Some)
        .ok_or_else(|| "'cursor' must be the next_cursor of an earlier page".to_owned())
}

/// The longest text filter (characters).
pub const MAX_FILTER: usize = 200;

/// A filter's text value: at most `MAX_FILTER` characters (400 naming the field otherwise),
/// trimmed; blank is no filter.
pub fn parse_text(field: &str, value: Option<String>) -> Result<Option<String>, String> {
    match value {
        Some(v) if v.chars().count() > MAX_FILTER => Err(format!("'{field}' is too long")),
        other => Ok(other.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())),
    }
}

/// `from` after `to` is refused (400 naming `from`).
pub fn check_range(filter: &Filter) -> Result<(), String> {
    match (filter.from_ms, filter.to_ms) {
        (Some(from), Some(to)) if from > to => Err("'from' is after 'to'".to_owned()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_types_round_trip() {
        for t in [
            ActorType::User,
            ActorType::ApiKey,
            ActorType::Admin,
            ActorType::System,
        ] {
            assert_eq!(ActorType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ActorType::parse("root"), None);
    }

    #[test]
    fn a_reason_is_required_and_bounded() {
        assert_eq!(
            reason("  refund of order 12 ").as_deref(),
            Ok("refund of order 12")
        );
        assert!(reason("   ").is_err());
        assert!(reason(&"x".repeat(501)).is_err());
        assert!(reason("two\nlines").is_err());
        assert!(reason(&"é".repeat(500)).is_ok());
    }

    #[test]
    fn filters_parse_or_name_the_field() {
        assert_eq!(parse_time("from", None), Ok(None));
        assert_eq!(
            parse_time("from", Some("2026-01-02T00:00:00Z")),
            Ok(Some(1_767_312_000_000))
        );
        assert_eq!(
            parse_time("to", Some("1700000000000")),
            Ok(Some(1_700_000_000_000))
        );
        assert!(parse_time("to", Some("yesterday"))
            .unwrap_err()
            .contains("'to'"));
        assert_eq!(parse_cursor(Some("42")), Ok(Some(42)));
        assert!(parse_cursor(Some("-1")).is_err());
        assert!(parse_cursor(Some("abc")).is_err());
        assert!(parse_cursor(Some(" 4")).is_err());
        assert!(parse_cursor(Some("")).is_err());
        assert!(parse_time("from", Some("")).is_err());
        assert!(parse_time("from", Some(" 17")).is_err());
        assert!(parse_time("from", Some("-5")).is_err());
        assert_eq!(parse_text("action", Some("  ".into())), Ok(None));
        assert!(parse_text("action", Some("a".repeat(201))).is_err());
        let backwards = Filter {
            from_ms: Some(2),
            to_ms: Some(1),
            ..Filter::default()
        };
        assert!(check_range(&backwards).unwrap_err().contains("'from'"));
    }
}
