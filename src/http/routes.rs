//! The route table: method + path → `Route`, or 404 / 405. Pure, so it is unit-tested natively.
//! A single trailing slash is optional everywhere (GetOTP's `/api/verify/` has one).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`. (`GET /openapi.json` is a static asset: wrangler.toml `[assets]`.)
    Healthz,
    // Operator (admin) API.
    AdminCreateAccount,
    AdminCreateKey {
        account_id: String,
    },
    AdminRevokeKey {
        key_id: String,
    },
    AdminTopup {
        account_id: String,
    },
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
    ActivationStatus {
        id: String,
    },
    SetActivationStatus {
        id: String,
    },
    InboundSms,
    // WhatOTP.
    OtpSend,
    OtpVerify,
    MessageSend,
    MessageStatus {
        id: String,
    },
    // GetOTP.
    GetOtpSend,
    GetOtpCheck,
    GetOtpStatus {
        message_id: String,
    },
    // NumberOTP.
    PublicPrices,
    PublicRentPrices,
    NumberOtpBalance,
    Rent,
    RentStatus {
        id: String,
    },
    Transactions,
    Profile,
    // Outbound webhooks.
    WebhookEndpoint,
    WebhookDeliveries,
    WebhookRedeliver {
        event_id: String,
    },
    AdminWebhookEndpoint {
        account_id: String,
    },
    // Delivery provider callbacks.
    TwilioStatusCallback,
    // Dashboard (issue 12): live activation updates, the customer's own lists.
    ActivationEvents {
        id: String,
    },
    Activations,
    Rents,
    OtpSessions,
    Outbox,
    // Customer accounts (issue 11): sign-up, login sessions, own keys and templates.
    AuthRegister,
    AuthLogin,
    AuthLogout,
    AuthSession,
    AuthPassword,
    AuthSessions,
    AuthRevokeSession {
        session_id: String,
    },
    Keys,
    RevokeOwnKey {
        key_id: String,
    },
    Templates,
    Template {
        id: String,
    },
    AdminListAccounts,
    AdminApproveAccount {
        account_id: String,
    },
    // sms-activate's handler protocol (the action is in the query string).
    SmsActivate,
    // Twilio Verify v2 (`/v2/Services…`).
    TwilioVerify(TwilioResource),
}

/// The resources of the Twilio Verify v2 dialect; the method picks the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioResource {
    /// `GET` list, `POST` create.
    Services,
    /// `GET` fetch, `POST` update, `DELETE`.
    Service { sid: String },
    /// `POST` start (or resend).
    Verifications { service: String },
    /// `GET` fetch, `POST` update (`Status`).
    Verification { service: String, sid: String },
    /// `POST` check.
    VerificationCheck { service: String },
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

/// Every (method, path template) that `resolve` routes, `{name}` standing for one segment.
/// Kept next to `resolve`: a test checks that each entry resolves, that `resolve` routes
/// nothing else, and that openapi/openapi.json documents exactly these operations. A route
/// added to `resolve` goes here and into the OpenAPI document too.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("POST", "/admin/accounts"),
    ("POST", "/admin/accounts/{account_id}/keys"),
    ("POST", "/admin/accounts/{account_id}/topup"),
    ("DELETE", "/admin/keys/{key_id}"),
    ("PUT", "/admin/accounts/{account_id}/webhook"),
    ("PUT", "/admin/catalog"),
    ("POST", "/admin/numbers"),
    ("POST", "/admin/suppliers"),
    ("POST", "/admin/templates"),
    ("GET", "/admin/outbox"),
    ("GET", "/v1/balance"),
    ("GET", "/v1/countries"),
    ("GET", "/v1/services"),
    ("POST", "/v1/number"),
    ("GET", "/v1/activation/{id}/status"),
    ("POST", "/v1/activation/{id}/status"),
    ("POST", "/v1/providers/twilio/status"),
    ("POST", "/v1/inbound/sms"),
    ("GET", "/v1/webhook"),
    ("PUT", "/v1/webhook"),
    ("DELETE", "/v1/webhook"),
    ("GET", "/v1/webhook/deliveries"),
    ("POST", "/v1/webhook/events/{event_id}/redeliver"),
    ("POST", "/v1/otp/send"),
    ("POST", "/v1/otp/verify"),
    ("POST", "/v1/messages/send"),
    ("GET", "/v1/messages/{message_id}"),
    ("POST", "/api/verify/"),
    ("POST", "/api/verify/check"),
    ("GET", "/api/verify/{message_id}"),
    ("GET", "/api/public/prices"),
    ("GET", "/api/public/rent-prices"),
    ("GET", "/api/internal/balance"),
    ("POST", "/api/internal/balance"),
    ("POST", "/api/internal/rent"),
    ("GET", "/api/internal/rent/{id}"),
    ("GET", "/api/internal/transactions"),
    ("GET", "/api/user/profile"),
    // Customer accounts (issue 11).
    ("GET", "/admin/accounts"),
    ("POST", "/admin/accounts/{account_id}/approve"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/session"),
    ("POST", "/api/v1/auth/password"),
    ("GET", "/api/v1/auth/sessions"),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"),
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("DELETE", "/v1/keys/{key_id}"),
    ("GET", "/v1/templates"),
    ("POST", "/v1/templates"),
    ("GET", "/v1/templates/{id}"),
    ("DELETE", "/v1/templates/{id}"),
    // Dashboard (issue 12): live updates and the customer's own lists.
    ("GET", "/v1/activation/{id}/events"),
    ("GET", "/v1/activations"),
    ("GET", "/v1/otp/sessions"),
    ("GET", "/v1/outbox"),
    ("GET", "/api/internal/rents"),
    // sms-activate's handler protocol (issue 13).
    ("GET", "/stubs/handler_api.php"),
    ("POST", "/stubs/handler_api.php"),
    // Twilio Verify v2 (issue 14).
    ("GET", "/v2/Services"),
    ("POST", "/v2/Services"),
    ("GET", "/v2/Services/{sid}"),
    ("POST", "/v2/Services/{sid}"),
    ("DELETE", "/v2/Services/{sid}"),
    ("POST", "/v2/Services/{service_sid}/Verifications"),
    ("GET", "/v2/Services/{service_sid}/Verifications/{sid}"),
    ("POST", "/v2/Services/{service_sid}/Verifications/{sid}"),
    ("POST", "/v2/Services/{service_sid}/VerificationCheck"),
];

pub fn resolve(method: &str, path: &str) -> Result<Route, RouteError> {
    use Route::*;
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
    let m = method;
    match segments.as_slice() {
        ["healthz"] => on(m, "GET", vec![("GET", Healthz)]),

        ["admin", "accounts"] => on(
            m,
            "GET, POST",
            vec![("GET", AdminListAccounts), ("POST", AdminCreateAccount)],
        ),
        ["admin", "accounts", a, "approve"] => {
            let account_id = id(a).ok_or(RouteError::NotFound)?;
            on(
                m,
                "POST",
                vec![("POST", AdminApproveAccount { account_id })],
            )
        }
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
        ["stubs", "handler_api.php"] => on(
            m,
            "GET, POST",
            vec![("GET", SmsActivate), ("POST", SmsActivate)],
        ),
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
        ["v1", "activation", a, "events"] => {
            let id = id(a).ok_or(RouteError::NotFound)?;
            on(m, "GET", vec![("GET", ActivationEvents { id })])
        }
        ["v1", "activations"] => on(m, "GET", vec![("GET", Activations)]),
        ["v1", "otp", "sessions"] => on(m, "GET", vec![("GET", OtpSessions)]),
        ["v1", "outbox"] => on(m, "GET", vec![("GET", Outbox)]),
        ["api", "internal", "rents"] => on(m, "GET", vec![("GET", Rents)]),
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

        ["api", "v1", "auth", "register"] => on(m, "POST", vec![("POST", AuthRegister)]),
        ["api", "v1", "auth", "login"] => on(m, "POST", vec![("POST", AuthLogin)]),
        ["api", "v1", "auth", "logout"] => on(m, "POST", vec![("POST", AuthLogout)]),
        ["api", "v1", "auth", "session"] => on(m, "GET", vec![("GET", AuthSession)]),
        ["api", "v1", "auth", "password"] => on(m, "POST", vec![("POST", AuthPassword)]),
        ["api", "v1", "auth", "sessions"] => on(m, "GET", vec![("GET", AuthSessions)]),
        ["api", "v1", "auth", "sessions", s] => {
            let session_id = id(s).ok_or(RouteError::NotFound)?;
            on(
                m,
                "DELETE",
                vec![("DELETE", AuthRevokeSession { session_id })],
            )
        }
        ["v1", "keys"] => on(m, "GET, POST", vec![("GET", Keys), ("POST", Keys)]),
        ["v1", "keys", k] => {
            let key_id = id(k).ok_or(RouteError::NotFound)?;
            on(m, "DELETE", vec![("DELETE", RevokeOwnKey { key_id })])
        }
        ["v1", "templates"] => on(
            m,
            "GET, POST",
            vec![("GET", Templates), ("POST", Templates)],
        ),
        ["v1", "templates", t] => {
            let t = id(t).ok_or(RouteError::NotFound)?;
            on(
                m,
                "GET, DELETE",
                vec![
                    ("GET", Template { id: t.clone() }),
                    ("DELETE", Template { id: t }),
                ],
            )
        }
        ["v2", "Services"] => {
            let r = || TwilioVerify(TwilioResource::Services);
            on(m, "GET, POST", vec![("GET", r()), ("POST", r())])
        }
        ["v2", "Services", s] => {
            let sid = id(s).ok_or(RouteError::NotFound)?;
            let r = || TwilioVerify(TwilioResource::Service { sid: sid.clone() });
            on(
                m,
                "GET, POST, DELETE",
                vec![("GET", r()), ("POST", r()), ("DELETE", r())],
            )
        }
        ["v2", "Services", s, "Verifications"] => {
            let service = id(s).ok_or(RouteError::NotFound)?;
            on(
                m,
                "POST",
                vec![(
                    "POST",
                    TwilioVerify(TwilioResource::Verifications { service }),
                )],
            )
        }
        ["v2", "Services", s, "Verifications", v] => {
            let (service, sid) = (
                id(s).ok_or(RouteError::NotFound)?,
                id(v).ok_or(RouteError::NotFound)?,
            );
            let r = || {
                TwilioVerify(TwilioResource::Verification {
                    service: service.clone(),
                    sid: sid.clone(),
                })
            };
            on(m, "GET, POST", vec![("GET", r()), ("POST", r())])
        }
        ["v2", "Services", s, "VerificationCheck"] => {
            let service = id(s).ok_or(RouteError::NotFound)?;
            on(
                m,
                "POST",
                vec![(
                    "POST",
                    TwilioVerify(TwilioResource::VerificationCheck { service }),
                )],
            )
        }
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
        assert_eq!(
            resolve("GET", "/stubs/handler_api.php"),
            Ok(Route::SmsActivate)
        );
        assert_eq!(
            resolve("POST", "/stubs/handler_api.php"),
            Ok(Route::SmsActivate)
        );
        assert_eq!(
            resolve("PUT", "/stubs/handler_api.php"),
            Err(RouteError::MethodNotAllowed("GET, POST"))
        );
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
    fn dashboard_routes() {
        assert_eq!(
            resolve("GET", "/v1/activation/act_1/events"),
            Ok(Route::ActivationEvents { id: "act_1".into() })
        );
        assert_eq!(resolve("GET", "/v1/activations"), Ok(Route::Activations));
        assert_eq!(resolve("GET", "/api/internal/rents"), Ok(Route::Rents));
        assert_eq!(resolve("GET", "/v1/otp/sessions"), Ok(Route::OtpSessions));
        assert_eq!(resolve("GET", "/v1/outbox"), Ok(Route::Outbox));
        assert_eq!(
            resolve("POST", "/v1/activation/a/events"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            resolve("GET", "/v1/activation//events"),
            Err(RouteError::NotFound)
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
    fn customer_account_routes() {
        assert_eq!(resolve("POST", "/api/v1/auth/login"), Ok(Route::AuthLogin));
        assert_eq!(
            resolve("GET", "/api/v1/auth/session/"),
            Ok(Route::AuthSession)
        );
        assert_eq!(
            resolve("DELETE", "/api/v1/auth/sessions/ses_1"),
            Ok(Route::AuthRevokeSession {
                session_id: "ses_1".into()
            })
        );
        assert_eq!(resolve("GET", "/v1/keys"), Ok(Route::Keys));
        assert_eq!(
            resolve("DELETE", "/v1/keys/key_1"),
            Ok(Route::RevokeOwnKey {
                key_id: "key_1".into()
            })
        );
        assert_eq!(
            resolve("PUT", "/v1/keys"),
            Err(RouteError::MethodNotAllowed("GET, POST"))
        );
        assert_eq!(
            resolve("GET", "/v1/templates/t1"),
            Ok(Route::Template { id: "t1".into() })
        );
        assert_eq!(
            resolve("GET", "/admin/accounts"),
            Ok(Route::AdminListAccounts)
        );
        assert_eq!(
            resolve("POST", "/admin/accounts"),
            Ok(Route::AdminCreateAccount)
        );
        assert_eq!(
            resolve("POST", "/admin/accounts/a1/approve"),
            Ok(Route::AdminApproveAccount {
                account_id: "a1".into()
            })
        );
        assert_eq!(
            resolve("GET", "/api/v1/auth/login"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
    }

    #[test]
    fn twilio_verify_routes() {
        use TwilioResource::*;
        let tv = |r| Ok(Route::TwilioVerify(r));
        assert_eq!(resolve("POST", "/v2/Services"), tv(Services));
        assert_eq!(
            resolve("GET", "/v2/Services/VA1"),
            tv(Service { sid: "VA1".into() })
        );
        assert_eq!(
            resolve("DELETE", "/v2/Services/VA1"),
            tv(Service { sid: "VA1".into() })
        );
        assert_eq!(
            resolve("POST", "/v2/Services/VA1/Verifications"),
            tv(Verifications {
                service: "VA1".into()
            })
        );
        assert_eq!(
            resolve("POST", "/v2/Services/VA1/Verifications/VE2"),
            tv(Verification {
                service: "VA1".into(),
                sid: "VE2".into()
            })
        );
        assert_eq!(
            resolve("POST", "/v2/Services/VA1/VerificationCheck"),
            tv(VerificationCheck {
                service: "VA1".into()
            })
        );
        assert_eq!(
            resolve("GET", "/v2/Services/VA1/VerificationCheck"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            resolve("PUT", "/v2/Services"),
            Err(RouteError::MethodNotAllowed("GET, POST"))
        );
        assert_eq!(
            resolve("GET", "/v2/services"),
            Err(RouteError::NotFound),
            "Twilio's paths are case-sensitive"
        );
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

    /// A template's path with a sample value in each `{param}`.
    fn sample(template: &str) -> String {
        template
            .split('/')
            .map(|s| if s.starts_with('{') { "x1" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A path in a comparable shape: no trailing slash, every `{param}` as `{}`.
    fn shape(path: &str) -> String {
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        trimmed
            .split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') {
                    "{}"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Whether a concrete path fits a template (one non-empty segment per `{param}`).
    fn fits(template: &str, path: &str) -> bool {
        let tpl = shape(template);
        let tpl: Vec<&str> = tpl.trim_start_matches('/').split('/').collect();
        let p = path.strip_suffix('/').unwrap_or(path);
        let p: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        tpl.len() == p.len()
            && tpl
                .iter()
                .zip(&p)
                .all(|(t, s)| if *t == "{}" { !s.is_empty() } else { t == s })
    }

    #[test]
    fn every_listed_route_resolves() {
        for (method, template) in ROUTES {
            let path = sample(template);
            assert!(
                resolve(method, &path).is_ok(),
                "ROUTES lists {method} {template}, but resolve(\"{method}\", \"{path}\") \
                 does not route it",
            );
        }
    }

    /// Documented operations that the Workers static assets serve (wrangler.toml `[assets]`,
    /// public/openapi.json copied from openapi/openapi.json by scripts/build.sh), never the
    /// Worker: `resolve` routes none of them.
    const ASSET_ROUTES: &[(&str, &str)] = &[("GET", "/openapi.json")];

    #[test]
    fn asset_routes_are_not_routed_by_the_worker() {
        for (method, path) in ASSET_ROUTES {
            assert!(
                resolve(method, path).is_err(),
                "{method} {path} is served as a static asset, but resolve routes it"
            );
        }
    }

    #[test]
    fn openapi_documents_exactly_the_route_table() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi/openapi.json"))
                .expect("openapi/openapi.json is JSON");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true),
            "openapi/openapi.json must be OpenAPI 3.1"
        );
        let paths = doc["paths"]
            .as_object()
            .expect("openapi/openapi.json has paths");
        let methods = [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ];
        let documented: std::collections::BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                methods
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(move |m| (m.to_ascii_uppercase(), shape(path)))
            })
            .collect();
        let routed: std::collections::BTreeSet<(String, String)> = ROUTES
            .iter()
            .chain(ASSET_ROUTES)
            .map(|(m, p)| (m.to_string(), shape(p)))
            .collect();
        let missing: Vec<String> = routed
            .difference(&documented)
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        let extra: Vec<String> = documented
            .difference(&routed)
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "openapi/openapi.json and the route table (ROUTES in src/http/routes.rs) disagree.\n\
             Routed but not documented (add these operations to openapi/openapi.json): \
             {missing:?}\n\
             Documented but not routed (add them to ROUTES and resolve, or remove them from \
             the document): {extra:?}"
        );
    }

    use proptest::prelude::*;

    /// Path segments drawn from the table's own words, ids and hostile strings.
    fn segment() -> impl Strategy<Value = String> {
        let words: Vec<String> = ROUTES
            .iter()
            .flat_map(|(_, p)| p.split('/'))
            .filter(|s| !s.is_empty() && !s.starts_with('{'))
            .map(str::to_owned)
            .collect();
        prop_oneof![
            4 => proptest::sample::select(words),
            1 => Just(String::new()),
            1 => "[a-z0-9_]{1,12}",
            1 => ".{0,8}",
        ]
    }

    fn method() -> impl Strategy<Value = String> {
        let known = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
            .map(str::to_owned)
            .to_vec();
        prop_oneof![4 => proptest::sample::select(known), 1 => "[A-Z]{1,7}"]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// `resolve` routes only what ROUTES lists, and a 405's `Allow` names exactly the
        /// methods ROUTES lists for that path.
        #[test]
        fn resolve_routes_only_the_table(
            m in method(),
            segs in proptest::collection::vec(segment(), 1..6),
            slash in any::<bool>(),
        ) {
            let path = format!("/{}{}", segs.join("/"), if slash { "/" } else { "" });
            match resolve(&m, &path) {
                Ok(_) => prop_assert!(
                    ROUTES.iter().any(|(rm, t)| *rm == m && fits(t, &path)),
                    "{m} {path} is routed but not in ROUTES",
                ),
                Err(RouteError::MethodNotAllowed(allow)) => {
                    let listed: Vec<&str> =
                        ROUTES.iter().filter(|(_, t)| fits(t, &path)).map(|(rm, _)| *rm).collect();
                    prop_assert!(
                        !listed.is_empty(),
                        "{m} {path}: 405 for a path ROUTES does not list",
                    );
                    let mut allowed: Vec<&str> = allow.split(", ").collect();
                    allowed.sort_unstable();
                    let mut listed = listed;
                    listed.sort_unstable();
                    listed.dedup();
                    prop_assert_eq!(allowed, listed);
                    prop_assert!(!ROUTES.iter().any(|(rm, t)| *rm == m && fits(t, &path)));
                }
                Err(RouteError::NotFound) => prop_assert!(
                    !ROUTES.iter().any(|(_, t)| fits(t, &path))
                        || segs.iter().any(String::is_empty)
                        || path.contains("//"),
                    "{m} {path}: 404 for a path ROUTES lists"
                ),
            }
        }

        /// URL splitting never panics; the path starts with '/' and holds no '?' or '#', the
        /// query no '#'; a URL built from a path and a query splits back into them.
        #[test]
        fn split_url_never_panics(
            url in ".{0,80}",
            host in "[a-z.:0-9]{0,10}",
            path in "(/[a-z0-9._%-]{0,8}){1,4}",
            query in "[a-z0-9=&%]{0,20}",
        ) {
            for u in [url.clone(), format!("https://{host}{url}")] {
                let (p, q) = split_url(&u);
                prop_assert!(p.starts_with('/'), "{u} → {p}");
                prop_assert!(
                    !p.contains('?') && !p.contains('#') && !q.contains('#'),
                    "{u} → {p} {q}",
                );
            }
            let full = format!("https://{host}{path}?{query}#frag");
            prop_assert_eq!(split_url(&full), (path.as_str(), query.as_str()));
        }

        #[test]
        fn query_param_never_panics(q in ".{0,60}", name in "[a-z]{1,5}") {
            let _ = query_param(&q, &name);
        }

        /// A value written with form encoding reads back as itself.
        #[test]
        fn query_param_round_trips(value in ".{0,40}") {
            let q: String =
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("x", "1")
                    .append_pair("name", &value)
                    .finish();
            prop_assert_eq!(query_param(&q, "name"), Some(value));
        }
    }
}
