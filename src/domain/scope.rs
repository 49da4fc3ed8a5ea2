//! What an API key may do. A key carries a set of scopes; each route and each action of
//! every front door names the one scope it needs (`http::routes::Route::scope`, and
//! sms-activate's `Action::scope`). A key without a recorded set (`None`: keys made before
//! scopes existed, or made without `scopes`) and a login session hold every scope.

use super::error::{AppError, Code};

/// The scopes a key may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    WalletRead,
    ActivationsRead,
    ActivationsWrite,
    RentWrite,
    OtpSend,
    OtpVerify,
    MessagesSend,
    WebhooksManage,
    FraudRead,
    FraudManage,
}

impl Scope {
    /// Every scope, in the order the API lists them.
    pub const ALL: [Scope; 10] = [
        Scope::WalletRead,
        Scope::ActivationsRead,
        Scope::ActivationsWrite,
        Scope::RentWrite,
        Scope::OtpSend,
        Scope::OtpVerify,
        Scope::MessagesSend,
        Scope::WebhooksManage,
        Scope::FraudRead,
        Scope::FraudManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::WalletRead => "wallet:read",
            Scope::ActivationsRead => "activations:read",
            Scope::ActivationsWrite => "activations:write",
            Scope::RentWrite => "rent:write",
            Scope::OtpSend => "otp:send",
            Scope::OtpVerify => "otp:verify",
            Scope::MessagesSend => "messages:send",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::FraudRead => "fraud:read",
            Scope::FraudManage => "fraud:manage",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A key's scopes as stored: the names, space-separated, each once, in `Scope::ALL`'s order.
/// An unknown name is refused with a message naming it.
pub fn normalize<S: AsRef<str>>(names: &[S]) -> Result<String, String> {
    let mut held = Vec::new();
    for name in names {
        let name = name.as_ref();
        let scope = Scope::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            format!(
                "'scopes': unknown scope '{name}' (known: {})",
                known.join(", ")
            )
        })?;
        if !held.contains(&scope) {
            held.push(scope);
        }
    }
    Ok(Scope::ALL
        .into_iter()
        .filter(|s| held.contains(s))
        .map(Scope::as_str)
        .collect::<Vec<_>>()
        .join(" "))
}

/// 403 `insufficient_scope`, naming the scope the key lacks.
pub fn refused(needed: Scope) -> AppError {
    let name = needed.as_str();
    AppError::new(
        Code::InsufficientScope,
        format!("insufficient_scope: this API key lacks the scope '{name}'"),
    )
}

/// The scopes a stored set names (`None`: every scope).
pub fn listed(stored: Option<&str>) -> Vec<&'static str> {
    Scope::ALL
        .into_iter()
        .filter(|s| allows(stored, *s))
        .map(Scope::as_str)
        .collect()
}

/// Whether a stored set (`None`: every scope) holds `needed`.
pub fn allows(stored: Option<&str>, needed: Scope) -> bool {
    stored.is_none_or(|s| s.split(' ').any(|name| name == needed.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("otp:sendx"), None);
    }

    #[test]
    fn normalize_orders_dedups_and_names_the_unknown() {
        assert_eq!(
            normalize(&["otp:verify", "wallet:read", "otp:verify"]),
            Ok("wallet:read otp:verify".to_owned())
        );
        assert_eq!(normalize::<&str>(&[]), Ok(String::new()));
        let e = normalize(&["otp:verify", "root"]).unwrap_err();
        assert!(e.contains("'scopes'") && e.contains("'root'"), "{e}");
    }

    #[test]
    fn none_holds_every_scope_and_empty_holds_none() {
        assert!(Scope::ALL.iter().all(|s| allows(None, *s)));
        assert!(!allows(Some(""), Scope::OtpVerify));
        assert!(allows(Some("wallet:read otp:verify"), Scope::OtpVerify));
        assert!(!allows(Some("wallet:read otp:verify"), Scope::OtpSend));
        assert_eq!(listed(Some("otp:verify")), vec!["otp:verify"]);
        assert_eq!(listed(None).len(), 10);
    }
}
