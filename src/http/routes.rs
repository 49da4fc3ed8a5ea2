//! The route table: method + path → `Route`, or 404 / 405. Pure, so it is unit-tested natively.
//! A single trailing slash is optional everywhere (GetOTP's `/api/verify/` has one).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    // Operator (admin) API.
    AdminCreateAccount,
    AdminCreateKey { account_id: String },
    AdminRevokeKey { key_id: String },
    AdminTopup { account_id: String },
    AdminPutCatalog,
    AdminImportNumbers,
    AdminCreateSupplier,
    AdminCreateTemplate,
    AdminOutbox,
    // OTPWALL.
    Balance,
    Countries,
    Services,
    BuyNumber,
    ActivationStatus { id: String },
    SetActivationStatus { id: String },
    InboundSms,
    // WhatOTP.
    OtpSend,
    OtpVerify,
    MessageSend,
    MessageStatus { id: String },
    // GetOTP.
    GetOtpSend,
    GetOtpCheck,
    GetOtpStatus { message_id: String },
    // NumberOTP.
    PublicPrices,
    PublicRentPrices,
    NumberOtpBalance,
    Rent,
    RentStatus { id: String },
    Transactions,
    Profile,
    // Outbound webhooks.
    WebhookEndpoint,
    WebhookDeliveries,
    WebhookRedeliver { event_id: String },
    AdminWebhookEndpoint { account_id: String },
    // Delivery provider callbacks.
    TwilioStatusCallback,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists; these methods are allowed on it.
    MethodNotAllowed(&'static str),
}

/// Picks the route whose method matches among those a path allows.
fn on(
    method: &str,
    allowed: &'static str,
    choices: Vec<(&str, Route)>,
) -> Result<Route, RouteError> {
    choices
        .into_iter()
        .find(|(m, _)| *m == method)
        .map(|(_, r)| r)
        .ok_or(RouteError::MethodNotAllowed(allowed))
}

/// Path segments must be non-empty ids: no `//`, no empty `{id}`.
fn id(segment: &str) -> Option<String> {
    (!segment.is_empty()).then(|| segment.to_owned())
}

pub use crate::domain::url::{query_param, split_url};

pub fn resolve(method: &str, path: &str) -> Result<Route, RouteError> {
    use Route::*;
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
    let m = method;
    match segments.as_slice() {
        ["healthz"] => on(m, "GET", vec![("GET", Healthz)]),

        ["admin", "accounts"] => on(m, "POST", vec![("POST", AdminCreateAccount)]),
        ["admin", "accounts", a, "keys"] => {
            let account_id = id(a).ok_or(RouteError::NotFound)?;
            on(m, "POST", vec![("POST", AdminCreateKey { account_id })])
        }
        ["admin", "accounts", a, "topup"] => {
            let account_id = id(a).ok_or(RouteError::NotFound)?;
            on(m, "POST", vec![("POST", AdminTopup { account_id })])
        }
        ["admin", "keys", k] => {
            let key_id = id(k).ok_or(RouteError::NotFound)?;
            on(m, "DELETE", vec![("DELETE", AdminRevokeKey { key_id })])
        }
        ["admin", "accounts", a, "webhook"] => {
            let account_id = id(a).ok_or(RouteError::NotFound)?;
            on(m, "PUT", vec![("PUT", AdminWebhookEndpoint { account_id })])
        }
        ["admin", "catalog"] => on(m, "PUT", vec![("PUT", AdminPutCatalog)]),
        ["admin", "numbers"] => on(m, "POST", vec![("POST", AdminImportNumbers)]),
        ["admin", "suppliers"] => on(m, "POST", vec![("POST", AdminCreateSupplier)]),
        ["admin", "templates"] => on(m, "POST", vec![("POST", AdminCreateTemplate)]),
        ["admin", "outbox"] => on(m, "GET", vec![("GET", AdminOutbox)]),

        ["v1", "balance"] => on(m, "GET", vec![("GET", Balance)]),
        ["v1", "countries"] => on(m, "GET", vec![("GET", Countries)]),
        ["v1", "services"] => on(m, "GET", vec![("GET", Services)]),
        ["v1", "number"] => on(m, "POST", vec![("POST", BuyNumber)]),
        ["v1", "activation", a, "status"] => {
            let a = id(a).ok_or(RouteError::NotFound)?;
            on(
                m,
                "GET, POST",
                vec![
                    ("GET", ActivationStatus { id: a.clone() }),
                    ("POST", SetActivationStatus { id: a }),
                ],
            )
        }
        ["v1", "providers", "twilio", "status"] => {
            on(m, "POST", vec![("POST", TwilioStatusCallback)])
        }
        ["v1", "inbound", "sms"] => on(m, "POST", vec![("POST", InboundSms)]),
        ["v1", "webhook"] => on(
            m,
            "GET, PUT, DELETE",
            vec![
                ("GET", WebhookEndpoint),
                ("PUT", WebhookEndpoint),
                ("DELETE", WebhookEndpoint),
            ],
        ),
        ["v1", "webhook", "deliveries"] => on(m, "GET", vec![("GET", WebhookDeliveries)]),
        ["v1", "webhook", "events", e, "redeliver"] => {
            let event_id = id(e).ok_or(RouteError::NotFound)?;
            on(m, "POST", vec![("POST", WebhookRedeliver { event_id })])
        }
        ["v1", "otp", "send"] => on(m, "POST", vec![("POST", OtpSend)]),
        ["v1", "otp", "verify"] => on(m, "POST", vec![("POST", OtpVerify)]),
        ["v1", "messages", "send"] => on(m, "POST", vec![("POST", MessageSend)]),
        ["v1", "messages", a] => {
            let a = id(a).ok_or(RouteError::NotFound)?;
            on(m, "GET", vec![("GET", MessageStatus { id: a })])
        }

        ["api", "verify"] => on(m, "POST", vec![("POST", GetOtpSend)]),
        ["api", "verify", "check"] => on(m, "POST", vec![("POST", GetOtpCheck)]),
        ["api", "verify", a] => {
            let message_id = id(a).ok_or(RouteError::NotFound)?;
            on(m, "GET", vec![("GET", GetOtpStatus { message_id })])
        }

        ["api", "public", "prices"] => on(m, "GET", vec![("GET", PublicPrices)]),
        ["api", "public", "rent-prices"] => on(m, "GET", vec![("GET", PublicRentPrices)]),
        ["api", "internal", "balance"] => on(
            m,
            "GET, POST",
            vec![("GET", NumberOtpBalance), ("POST", NumberOtpBalance)],
        ),
        ["api", "internal", "rent"] => on(m, "POST", vec![("POST", Rent)]),
        ["api", "internal", "rent", a] => {
            let a = id(a).ok_or(RouteError::NotFound)?;
            on(m, "GET", vec![("GET", RentStatus { id: a })])
        }
        ["api", "internal", "transactions"] => on(m, "GET", vec![("GET", Transactions)]),
        ["api", "user", "profile"] => on(m, "GET", vec![("GET", Profile)]),
        _ => Err(RouteError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_with_params_and_optional_trailing_slash() {
        assert_eq!(resolve("GET", "/v1/balance"), Ok(Route::Balance));
        assert_eq!(resolve("GET", "/v1/balance/"), Ok(Route::Balance));
        assert_eq!(resolve("POST", "/api/verify/"), Ok(Route::GetOtpSend));
        assert_eq!(
            resolve("GET", "/v1/activation/act_1/status"),
            Ok(Route::ActivationStatus { id: "act_1".into() })
        );
        assert_eq!(
            resolve("POST", "/admin/accounts/a1/topup"),
            Ok(Route::AdminTopup {
                account_id: "a1".into()
            })
        );
        // GET and POST both, as NumberOTP's documentation shows each for the balance.
        assert_eq!(
            resolve("POST", "/api/internal/balance"),
            Ok(Route::NumberOtpBalance)
        );
        assert_eq!(resolve("PUT", "/v1/webhook"), Ok(Route::WebhookEndpoint));
        assert_eq!(
            resolve("POST", "/v1/webhook/events/evt_1/redeliver"),
            Ok(Route::WebhookRedeliver {
                event_id: "evt_1".into()
            })
        );
    }

    #[test]
    fn splits_urls_and_reads_query_params() {
        assert_eq!(
            split_url("http://localhost/v1/balance"),
            ("/v1/balance", "")
        );
        assert_eq!(
            split_url("https://h.example:8443/api/internal/transactions?page=2&limit=5#x"),
            ("/api/internal/transactions", "page=2&limit=5")
        );
        assert_eq!(split_url("http://localhost"), ("/", ""));
        assert_eq!(split_url("http://localhost?x=1"), ("/", ""));
        assert_eq!(
            query_param("service=tele%67ram&country=US&country=PK", "country").as_deref(),
            Some("US")
        );
        assert_eq!(
            query_param("service=tele%67ram", "service").as_deref(),
            Some("telegram")
        );
        assert_eq!(query_param("a=1", "b"), None);
    }

    #[test]
    fn unknown_paths_and_wrong_methods() {
        assert_eq!(resolve("GET", "/v2/balance"), Err(RouteError::NotFound));
        assert_eq!(
            resolve("GET", "/v1/activation//status"),
            Err(RouteError::NotFound)
        );
        assert_eq!(resolve("GET", "/"), Err(RouteError::NotFound));
        assert_eq!(
            resolve("DELETE", "/v1/balance"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            resolve("PUT", "/v1/activation/x/status"),
            Err(RouteError::MethodNotAllowed("GET, POST"))
        );
    }
}
