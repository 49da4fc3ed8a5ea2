//! The route table: method + path → `Route`, or 404 / 405. Pure, so it is unit-tested natively.
//! A single trailing slash is optional everywhere (GetOTP's `/api/verify/` has one).

use crate::domain::scope::Scope;

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
    /// The sms-activate webhook URL (`GET`, `PUT`, `DELETE`).
    SmsActivateWebhook,
    WebhookRedeliver {
        event_id: String,
    },
    AdminWebhookEndpoint {
        account_id: String,
    },
    // Delivery provider callbacks.
    TwilioStatusCallback,
    // The fraud guard.
    FraudPolicy,
    FraudBlocks,
    FraudBlock {
        id: String,
    },
    FraudSafeList,
    FraudSafeNumber {
        phone: String,
    },
    // Dashboard: live activation updates, the customer's own lists.
    ActivationEvents {
        id: String,
    },
    Activations,
    Rents,
    OtpSessions,
    Outbox,
    // Customer accounts: sign-up, login sessions, own keys and templates.
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
    UpdateOwnKey {
        key_id: String,
    },
    AccountLimits,
    UsageAlerts,
    UsageAlert {
        id: String,
    },
    Templates,
    Template {
        id: String,
    },
    AdminListAccounts,
    AdminApproveAccount {
        account_id: String,
    },
    // The operator console and the audit log.
    Console(ConsoleRoute),
    /// The audit log: the operator's (`GET /admin/audit`) or a customer's (`GET /v1/audit`).
    Audit {
        admin: bool,
    },
    // sms-activate's handler protocol (the action is in the query string).
    SmsActivate,
    // Twilio Verify v2 (`/v2/Services…`).
    TwilioVerify(TwilioResource),
    // Statistics: the caller's account, or the operator's across accounts.
    Stats(StatsResource),
    // Vonage Verify v2 (`/v2/verify…`, and its applications' public keys).
    Vonage(VonageResource),
    // 5sim's `/v1/user/*` and `/v1/guest/*`.
    FiveSim(FiveSimResource),
    // Prelude Verify v2 (`/v2/verification…`).
    Prelude(PreludeResource),
}

/// The statistics routes (`/v1/stats/*` for the caller, `/admin/stats/*` for the operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsResource {
    Otp,
    Activations,
    AdminOtp,
    AdminActivations,
}

/// The operator console's routes (`/admin/session` and one account's pages and actions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleRoute {
    /// `GET` who is signed in, `POST` sign in, `DELETE` sign out.
    Session,
    Account {
        account_id: String,
    },
    Ledger {
        account_id: String,
    },
    Keys {
        account_id: String,
    },
    Adjust {
        account_id: String,
    },
    Suspend {
        account_id: String,
    },
    Reinstate {
        account_id: String,
    },
    Fraud {
        account_id: String,
    },
    Catalog,
    Suppliers,
}

/// The resources of the Vonage Verify v2 dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VonageResource {
    /// `POST` start a request.
    Requests,
    /// `POST` check a code, `DELETE` cancel.
    Request { id: String },
    /// `POST` the next workflow step now.
    NextWorkflow { id: String },
    /// `POST /v1/vonage/applications`: register an application's public key (our API key).
    Applications,
}

/// The resources of the 5sim dialect (every one `GET`, but the price ceilings').
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FiveSimResource {
    Profile,
    Buy {
        country: String,
        operator: String,
        product: String,
    },
    Check {
        id: String,
    },
    Finish {
        id: String,
    },
    Cancel {
        id: String,
    },
    Ban {
        id: String,
    },
    Inbox {
        id: String,
    },
    Orders,
    Payments,
    /// `GET` list, `POST` set, `DELETE` remove.
    MaxPrices,
    Products {
        country: String,
        operator: String,
    },
    Prices,
    Countries,
}

/// The resources of the Prelude Verify v2 dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreludeResource {
    /// `POST` create or retry.
    Verification,
    /// `POST` check a code.
    Check,
    /// `GET` list, `POST` add, `DELETE` remove; `action` is `allow` or `block`.
    PhoneNumbers { action: String },
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
    /// `POST` add a number to the safe list.
    SafeListNumbers,
    /// `GET` fetch, `DELETE` remove.
    SafeListNumber { phone: String },
    /// `GET` list the Verification Attempts.
    Attempts,
    /// `GET` their summary.
    AttemptsSummary,
    /// `GET` fetch one.
    Attempt { sid: String },
    /// `GET` list, `POST` create a service's rate limits.
    RateLimits { service: String },
    /// `GET` fetch, `POST` update, `DELETE`.
    RateLimit { service: String, sid: String },
    /// `GET` list, `POST` create a rate limit's buckets.
    Buckets { service: String, rate_limit: String },
    /// `GET` fetch, `POST` update, `DELETE`.
    Bucket {
        service: String,
        rate_limit: String,
        sid: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists; these methods are allowed on it.
    MethodNotAllowed(&'static str),
}

pub use crate::domain::url::{query_param, split_url};

/// The most `{param}` segments a template holds.
const MAX_PARAMS: usize = 3;

/// The values of a matched path's `{param}` segments, read in the template's order.
#[derive(Default)]
pub struct Params<'a> {
    values: [&'a str; MAX_PARAMS],
    len: usize,
    read: usize,
}

impl<'a> Params<'a> {
    fn push(&mut self, value: &'a str) -> Option<()> {
        *self.values.get_mut(self.len)? = value;
        self.len += 1;
        Some(())
    }

    /// The next `{param}`'s value (each template's constructor reads exactly its own).
    fn next(&mut self) -> String {
        let value = self.values.get(self.read).copied().unwrap_or_default();
        self.read += 1;
        value.to_owned()
    }
}

/// Builds a route from the values of its path's `{param}` segments.
type Make = fn(&mut Params) -> Route;

/// One path of the table: its template, the `Allow` answer of a 405 (its methods in order),
/// and the route each method takes.
struct Path {
    template: &'static str,
    /// How many segments the template holds (a quick refusal of most paths).
    segments: usize,
    allow: &'static str,
    methods: &'static [(&'static str, Make)],
}

impl Path {
    /// The `{param}` values if the path's segments fit the template: a literal segment
    /// equal, a `{param}` one non-empty segment. Compares bytes, splitting nothing.
    fn fit<'p>(&self, segments: &[&'p str]) -> Option<Params<'p>> {
        if segments.len() != self.segments {
            return None;
        }
        let mut params = Params::default();
        let template = self.template.as_bytes();
        let mut rest = template.strip_suffix(b"/").unwrap_or(template);
        for segment in segments {
            let after = rest.strip_prefix(b"/")?;
            let end = if after.first() == Some(&b'{') {
                (!segment.is_empty()).then_some(())?;
                params.push(segment)?;
                after.iter().position(|&b| b == b'/').unwrap_or(after.len())
            } else {
                // A literal: the segment's bytes, then a slash or the end.
                let end = segment.len();
                (after.get(..end) == Some(segment.as_bytes())).then_some(())?;
                matches!(after.get(end), None | Some(b'/')).then_some(end)?
            };
            rest = after.get(end..)?;
        }
        rest.is_empty().then_some(params)
    }
}

/// How many segments a template holds: its slashes, a trailing one aside.
const fn segment_count(template: &str) -> usize {
    let bytes = template.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'/' && i + 1 < bytes.len() {
            count += 1;
        }
        i += 1;
    }
    count
}

/// The one route table. Each path lists its methods (comma-separated methods share a
/// route); from it come `TABLE` (what `resolve` reads, including each path's `Allow`) and
/// `ROUTES` (every method + template, which the OpenAPI check reads).
macro_rules! route_table {
    ($(
        $template:literal => {
            $m0:ident $(, $m:ident)* => $make:expr
            $(; $n0:ident $(, $n:ident)* => $nmake:expr)*
        }
    )*) => {
        pub(super) const TABLE: &[Path] = &[$(
            Path {
                template: $template,
                segments: segment_count($template),
                allow: concat!(
                    stringify!($m0) $(, ", ", stringify!($m))*
                    $(, ", ", stringify!($n0) $(, ", ", stringify!($n))*)*
                ),
                methods: &[
                    (stringify!($m0), $make) $(, (stringify!($m), $make))*
                    $(, (stringify!($n0), $nmake) $(, (stringify!($n), $nmake))*)*
                ],
            },
        )*];

        /// Every (method, path template) that `resolve` routes, `{name}` standing for one
        /// segment. A test checks that openapi/openapi.json documents exactly these.
        pub const ROUTES: &[(&str, &str)] = &[$(
            (stringify!($m0), $template) $(, (stringify!($m), $template))*
            $(, (stringify!($n0), $template) $(, (stringify!($n), $template))*)*,
        )*];
    };
}

mod table {
    use super::ConsoleRoute as Cr;
    use super::FiveSimResource as Fs;
    use super::PreludeResource as Pr;
    use super::Route::*;
    use super::StatsResource as St;
    use super::TwilioResource as Tw;
    use super::VonageResource as Vg;
    use super::{segment_count, Path};

    // The first path that fits wins: a literal path comes before a `{param}` one of the same
    // shape (`/api/verify/check` before `/api/verify/{message_id}`).
    route_table! {
        "/healthz" => { GET => |_| Healthz }

        // Operator (admin) API.
        "/admin/accounts" => { GET => |_| AdminListAccounts; POST => |_| AdminCreateAccount }
        "/admin/accounts/{account_id}/approve" => {
            POST => |p| AdminApproveAccount { account_id: p.next() }
        }
        "/admin/accounts/{account_id}/keys" => {
            GET => |p| Console(Cr::Keys { account_id: p.next() });
            POST => |p| AdminCreateKey { account_id: p.next() }
        }
        "/admin/accounts/{account_id}/topup" => {
            POST => |p| AdminTopup { account_id: p.next() }
        }
        "/admin/keys/{key_id}" => { DELETE => |p| AdminRevokeKey { key_id: p.next() } }
        "/admin/accounts/{account_id}/webhook" => {
            PUT => |p| AdminWebhookEndpoint { account_id: p.next() }
        }
        "/admin/catalog" => { GET => |_| Console(Cr::Catalog); PUT => |_| AdminPutCatalog }
        "/admin/numbers" => { POST => |_| AdminImportNumbers }
        "/admin/suppliers" => {
            GET => |_| Console(Cr::Suppliers);
            POST => |_| AdminCreateSupplier
        }
        "/admin/templates" => { POST => |_| AdminCreateTemplate }
        "/admin/outbox" => { GET => |_| AdminOutbox }

        // The operator console and the audit log.
        "/admin/session" => { GET, POST, DELETE => |_| Console(Cr::Session) }
        "/admin/accounts/{account_id}" => {
            GET => |p| Console(Cr::Account { account_id: p.next() })
        }
        "/admin/accounts/{account_id}/ledger" => {
            GET => |p| Console(Cr::Ledger { account_id: p.next() })
        }
        "/admin/accounts/{account_id}/adjust" => {
            POST => |p| Console(Cr::Adjust { account_id: p.next() })
        }
        "/admin/accounts/{account_id}/suspend" => {
            POST => |p| Console(Cr::Suspend { account_id: p.next() })
        }
        "/admin/accounts/{account_id}/reinstate" => {
            POST => |p| Console(Cr::Reinstate { account_id: p.next() })
        }
        "/admin/accounts/{account_id}/fraud" => {
            GET => |p| Console(Cr::Fraud { account_id: p.next() })
        }
        "/admin/audit" => { GET => |_| Audit { admin: true } }
        "/v1/audit" => { GET => |_| Audit { admin: false } }

        // OTPWALL.
        "/v1/balance" => { GET => |_| Balance }
        "/v1/countries" => { GET => |_| Countries }
        "/v1/services" => { GET => |_| Services }
        "/v1/number" => { POST => |_| BuyNumber }
        "/v1/activation/{id}/status" => {
            GET => |p| ActivationStatus { id: p.next() };
            POST => |p| SetActivationStatus { id: p.next() }
        }
        "/v1/activation/{id}/events" => { GET => |p| ActivationEvents { id: p.next() } }
        "/v1/activations" => { GET => |_| Activations }
        "/v1/inbound/sms" => { POST => |_| InboundSms }

        // Delivery provider callbacks and outbound webhooks.
        "/v1/providers/twilio/status" => { POST => |_| TwilioStatusCallback }
        "/v1/webhook" => { GET, PUT, DELETE => |_| WebhookEndpoint }
        "/v1/webhook/deliveries" => { GET => |_| WebhookDeliveries }
        "/v1/webhook/sms-activate" => { GET, PUT, DELETE => |_| SmsActivateWebhook }
        "/v1/webhook/events/{event_id}/redeliver" => {
            POST => |p| WebhookRedeliver { event_id: p.next() }
        }

        // The fraud guard.
        "/v1/fraud/policy" => { GET, PUT => |_| FraudPolicy }
        "/v1/fraud/blocks" => { GET => |_| FraudBlocks }
        "/v1/fraud/blocks/{id}" => { DELETE => |p| FraudBlock { id: p.next() } }
        "/v1/fraud/safe-list" => { GET, POST => |_| FraudSafeList }
        "/v1/fraud/safe-list/{phone}" => { DELETE => |p| FraudSafeNumber { phone: p.next() } }

        // WhatOTP.
        "/v1/otp/send" => { POST => |_| OtpSend }
        "/v1/otp/verify" => { POST => |_| OtpVerify }
        "/v1/otp/sessions" => { GET => |_| OtpSessions }
        "/v1/outbox" => { GET => |_| Outbox }
        "/v1/messages/send" => { POST => |_| MessageSend }
        "/v1/messages/{message_id}" => { GET => |p| MessageStatus { id: p.next() } }

        // GetOTP.
        "/api/verify/" => { POST => |_| GetOtpSend }
        "/api/verify/check" => { POST => |_| GetOtpCheck }
        "/api/verify/{message_id}" => { GET => |p| GetOtpStatus { message_id: p.next() } }

        // NumberOTP.
        "/api/public/prices" => { GET => |_| PublicPrices }
        "/api/public/rent-prices" => { GET => |_| PublicRentPrices }
        "/api/internal/balance" => { GET, POST => |_| NumberOtpBalance }
        "/api/internal/rent" => { POST => |_| Rent }
        "/api/internal/rent/{id}" => { GET => |p| RentStatus { id: p.next() } }
        "/api/internal/rents" => { GET => |_| Rents }
        "/api/internal/transactions" => { GET => |_| Transactions }
        "/api/user/profile" => { GET => |_| Profile }

        // Customer accounts: sign-up, login sessions, own keys and templates.
        "/api/v1/auth/register" => { POST => |_| AuthRegister }
        "/api/v1/auth/login" => { POST => |_| AuthLogin }
        "/api/v1/auth/logout" => { POST => |_| AuthLogout }
        "/api/v1/auth/session" => { GET => |_| AuthSession }
        "/api/v1/auth/password" => { POST => |_| AuthPassword }
        "/api/v1/auth/sessions" => { GET => |_| AuthSessions }
        "/api/v1/auth/sessions/{session_id}" => {
            DELETE => |p| AuthRevokeSession { session_id: p.next() }
        }
        "/v1/keys" => { GET, POST => |_| Keys }
        "/v1/keys/{key_id}" => {
            DELETE => |p| RevokeOwnKey { key_id: p.next() };
            PATCH => |p| UpdateOwnKey { key_id: p.next() }
        }
        "/v1/account/limits" => { GET, PUT => |_| AccountLimits }
        "/v1/usage/alerts" => { GET, POST => |_| UsageAlerts }
        "/v1/usage/alerts/{id}" => { DELETE => |p| UsageAlert { id: p.next() } }
        "/v1/templates" => { GET, POST => |_| Templates }
        "/v1/templates/{id}" => { GET, DELETE => |p| Template { id: p.next() } }

        // sms-activate's handler protocol (the action is in the query string).
        "/stubs/handler_api.php" => { GET, POST => |_| SmsActivate }

        // Twilio Verify v2.
        "/v2/Services" => { GET, POST => |_| TwilioVerify(Tw::Services) }
        "/v2/Services/{sid}" => {
            GET, POST, DELETE => |p| TwilioVerify(Tw::Service { sid: p.next() })
        }
        "/v2/Services/{service_sid}/Verifications" => {
            POST => |p| TwilioVerify(Tw::Verifications { service: p.next() })
        }
        "/v2/Services/{service_sid}/Verifications/{sid}" => {
            GET, POST => |p| {
                let service = p.next();
                TwilioVerify(Tw::Verification { service, sid: p.next() })
            }
        }
        "/v2/Services/{service_sid}/VerificationCheck" => {
            POST => |p| TwilioVerify(Tw::VerificationCheck { service: p.next() })
        }
        "/v2/Services/{service_sid}/RateLimits" => {
            GET, POST => |p| TwilioVerify(Tw::RateLimits { service: p.next() })
        }
        "/v2/Services/{service_sid}/RateLimits/{sid}" => {
            GET, POST, DELETE => |p| {
                let service = p.next();
                TwilioVerify(Tw::RateLimit { service, sid: p.next() })
            }
        }
        "/v2/Services/{service_sid}/RateLimits/{rate_limit_sid}/Buckets" => {
            GET, POST => |p| {
                let service = p.next();
                TwilioVerify(Tw::Buckets { service, rate_limit: p.next() })
            }
        }
        "/v2/Services/{service_sid}/RateLimits/{rate_limit_sid}/Buckets/{sid}" => {
            GET, POST, DELETE => |p| {
                let (service, rate_limit) = (p.next(), p.next());
                TwilioVerify(Tw::Bucket { service, rate_limit, sid: p.next() })
            }
        }
        "/v2/SafeList/Numbers" => { POST => |_| TwilioVerify(Tw::SafeListNumbers) }
        "/v2/SafeList/Numbers/{phone_number}" => {
            GET, DELETE => |p| TwilioVerify(Tw::SafeListNumber { phone: p.next() })
        }
        "/v2/Attempts" => { GET => |_| TwilioVerify(Tw::Attempts) }
        "/v2/Attempts/Summary" => { GET => |_| TwilioVerify(Tw::AttemptsSummary) }
        "/v2/Attempts/{sid}" => { GET => |p| TwilioVerify(Tw::Attempt { sid: p.next() }) }

        // Statistics.
        "/v1/stats/otp" => { GET => |_| Stats(St::Otp) }
        "/v1/stats/activations" => { GET => |_| Stats(St::Activations) }
        "/admin/stats/otp" => { GET => |_| Stats(St::AdminOtp) }
        "/admin/stats/activations" => { GET => |_| Stats(St::AdminActivations) }

        // Vonage Verify v2 (its own literal segment: no Twilio path fits it).
        "/v2/verify" => { POST => |_| Vonage(Vg::Requests) }
        "/v2/verify/{request_id}" => { POST, DELETE => |p| Vonage(Vg::Request { id: p.next() }) }
        "/v2/verify/{request_id}/next_workflow" => {
            POST => |p| Vonage(Vg::NextWorkflow { id: p.next() })
        }
        "/v1/vonage/applications" => { POST => |_| Vonage(Vg::Applications) }

        // 5sim (no path of ours lives under /v1/user or /v1/guest).
        "/v1/user/profile" => { GET => |_| FiveSim(Fs::Profile) }
        "/v1/user/buy/activation/{country}/{operator}/{product}" => {
            GET => |p| {
                let (country, operator) = (p.next(), p.next());
                FiveSim(Fs::Buy { country, operator, product: p.next() })
            }
        }
        "/v1/user/check/{id}" => { GET => |p| FiveSim(Fs::Check { id: p.next() }) }
        "/v1/user/finish/{id}" => { GET => |p| FiveSim(Fs::Finish { id: p.next() }) }
        "/v1/user/cancel/{id}" => { GET => |p| FiveSim(Fs::Cancel { id: p.next() }) }
        "/v1/user/ban/{id}" => { GET => |p| FiveSim(Fs::Ban { id: p.next() }) }
        "/v1/user/sms/inbox/{id}" => { GET => |p| FiveSim(Fs::Inbox { id: p.next() }) }
        "/v1/user/orders" => { GET => |_| FiveSim(Fs::Orders) }
        "/v1/user/payments" => { GET => |_| FiveSim(Fs::Payments) }
        "/v1/user/max-prices" => { GET, POST, DELETE => |_| FiveSim(Fs::MaxPrices) }
        "/v1/guest/products/{country}/{operator}" => {
            GET => |p| {
                let country = p.next();
                FiveSim(Fs::Products { country, operator: p.next() })
            }
        }
        "/v1/guest/prices" => { GET => |_| FiveSim(Fs::Prices) }
        "/v1/guest/countries" => { GET => |_| FiveSim(Fs::Countries) }

        // Prelude Verify v2.
        "/v2/verification" => { POST => |_| Prelude(Pr::Verification) }
        "/v2/verification/check" => { POST => |_| Prelude(Pr::Check) }
        "/v2/verification/management/phone-numbers/{action}" => {
            GET, POST, DELETE => |p| Prelude(Pr::PhoneNumbers { action: p.next() })
        }
    }
}

pub use table::ROUTES;

impl Route {
    /// Whether the route's operation checks the key's scope itself, with the key's liveness
    /// (an OTP send: the send's own D1 batch, or the key object's one answer; a check: the
    /// session's object, which keeps the key's scopes with its liveness; a balance or an
    /// activation's status: the D1 read that checks the key), so the pipeline makes no call
    /// of its own for it.
    pub fn checks_own_scope(&self) -> bool {
        use Route::*;
        let reads = matches!(self, Balance | NumberOtpBalance | ActivationStatus { .. });
        reads || matches!(self, OtpSend | GetOtpSend | OtpVerify | GetOtpCheck)
    }

    /// The scope an API key needs for this route (`domain::scope`); `None`: no key scope
    /// (public routes, the operator's, sign-in, the session-only key management, provider
    /// callbacks, and sms-activate, whose every action names its own: `Action::scope`).
    /// A login session holds every scope. `method` tells a path's actions apart.
    pub fn scope(&self, method: &str) -> Option<Scope> {
        use Route::*;
        use Scope as S;
        let read = matches!(method, "GET" | "HEAD");
        Some(match self {
            Balance | NumberOtpBalance | Transactions | Profile => S::WalletRead,
            ActivationStatus { .. } | ActivationEvents { .. } | Activations => S::ActivationsRead,
            RentStatus { .. } | Rents | Stats(StatsResource::Activations) => S::ActivationsRead,
            BuyNumber | SetActivationStatus { .. } => S::ActivationsWrite,
            Rent => S::RentWrite,
            OtpSend
            | GetOtpSend
            | GetOtpStatus { .. }
            | OtpSessions
            | Stats(StatsResource::Otp) => S::OtpSend,
            OtpVerify | GetOtpCheck => S::OtpVerify,
            MessageSend | MessageStatus { .. } | Outbox | Templates | Template { .. } => {
                S::MessagesSend
            }
            WebhookEndpoint | WebhookDeliveries | SmsActivateWebhook | WebhookRedeliver { .. } => {
                S::WebhooksManage
            }
            TwilioVerify(TwilioResource::Verification { .. }) if read => S::OtpSend,
            TwilioVerify(
                TwilioResource::Verification { .. } | TwilioResource::VerificationCheck { .. },
            ) => S::OtpVerify,
            FraudPolicy | FraudBlocks | FraudSafeList if read => S::FraudRead,
            TwilioVerify(TwilioResource::SafeListNumber { .. }) if read => S::FraudRead,
            FraudPolicy | FraudBlocks | FraudBlock { .. } | FraudSafeList => S::FraudManage,
            FraudSafeNumber { .. } => S::FraudManage,
            TwilioVerify(
                TwilioResource::SafeListNumbers | TwilioResource::SafeListNumber { .. },
            ) => S::FraudManage,
            TwilioVerify(_) => S::OtpSend,
            Vonage(VonageResource::Request { .. }) if method == "POST" => S::OtpVerify,
            Vonage(_) => S::OtpSend,
            FiveSim(r) => return r.scope(read),
            Prelude(PreludeResource::PhoneNumbers { .. }) if read => S::FraudRead,
            Prelude(PreludeResource::PhoneNumbers { .. }) => S::FraudManage,
            Prelude(PreludeResource::Check) => S::OtpVerify,
            Prelude(_) => S::OtpSend,
            _ => return None,
        })
    }
}

impl FiveSimResource {
    /// Its key scope: the wallet's reads, the activations' reads and writes; none for the
    /// guest lists.
    fn scope(&self, read: bool) -> Option<Scope> {
        use FiveSimResource::*;
        Some(match self {
            Profile | Payments => Scope::WalletRead,
            Check { .. } | Inbox { .. } | Orders => Scope::ActivationsRead,
            MaxPrices if read => Scope::ActivationsRead,
            Buy { .. } | Finish { .. } | Cancel { .. } | Ban { .. } | MaxPrices => {
                Scope::ActivationsWrite
            }
            Products { .. } | Prices | Countries => return None,
        })
    }
}

/// The most segments a template holds.
const MAX_SEGMENTS: usize = 7;

/// Method + path → the route, by the first path of the table that fits; a single trailing
/// slash is optional. A path that fits with another method → 405 with the path's methods.
pub fn resolve(method: &str, path: &str) -> Result<Route, RouteError> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let mut segments = [""; MAX_SEGMENTS];
    let mut len = 0;
    for segment in trimmed.trim_start_matches('/').split('/') {
        *segments.get_mut(len).ok_or(RouteError::NotFound)? = segment;
        len += 1;
    }
    let segments = segments.get(..len).unwrap_or_default();
    for entry in table::TABLE {
        if let Some(mut params) = entry.fit(segments) {
            return match entry.methods.iter().find(|(m, _)| *m == method) {
                Some((_, make)) => Ok(make(&mut params)),
                None => Err(RouteError::MethodNotAllowed(entry.allow)),
            };
        }
    }
    Err(RouteError::NotFound)
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
    fn vonage_paths_sit_beside_twilios() {
        let vg = |m: &str, p: &str| resolve(m, p);
        assert_eq!(
            vg("POST", "/v2/verify"),
            Ok(Route::Vonage(VonageResource::Requests))
        );
        let id = || "3f1c0a9e-0000-4000-8000-000000000000".to_owned();
        let one = Ok(Route::Vonage(VonageResource::Request { id: id() }));
        assert_eq!(vg("DELETE", &format!("/v2/verify/{}", id())), one);
        assert_eq!(
            vg("POST", &format!("/v2/verify/{}/next_workflow", id())),
            Ok(Route::Vonage(VonageResource::NextWorkflow { id: id() }))
        );
        assert_eq!(
            vg("GET", "/v2/verify"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert!(matches!(
            vg("POST", "/v2/Services/VA1/Verifications"),
            Ok(Route::TwilioVerify(_))
        ));
        let scope = |m: &str, p: &str| resolve(m, p).ok().and_then(|r| r.scope(m));
        assert_eq!(scope("POST", "/v2/verify/x"), Some(Scope::OtpVerify));
        assert_eq!(scope("DELETE", "/v2/verify/x"), Some(Scope::OtpSend));
    }

    #[test]
    fn routes_name_their_scopes() {
        use crate::domain::scope::Scope;
        let scope = |m: &str, p: &str| resolve(m, p).ok().and_then(|r| r.scope(m));
        assert_eq!(scope("POST", "/v1/number"), Some(Scope::ActivationsWrite));
        assert_eq!(scope("POST", "/api/internal/rent"), Some(Scope::RentWrite));
        assert_eq!(scope("POST", "/v1/otp/send"), Some(Scope::OtpSend));
        assert_eq!(scope("POST", "/api/verify/check"), Some(Scope::OtpVerify));
        assert_eq!(
            scope("POST", "/v2/Services/VA1/VerificationCheck"),
            Some(Scope::OtpVerify)
        );
        assert_eq!(
            scope("POST", "/v2/Services/VA1/Verifications"),
            Some(Scope::OtpSend)
        );
        assert_eq!(scope("GET", "/v1/balance"), Some(Scope::WalletRead));
        assert_eq!(scope("PUT", "/v1/webhook"), Some(Scope::WebhooksManage));
        assert_eq!(scope("GET", "/v1/keys"), None);
        assert_eq!(scope("GET", "/stubs/handler_api.php"), None);
        assert_eq!(scope("GET", "/v1/countries"), None);
        assert_eq!(
            resolve("PATCH", "/v1/keys/key_1"),
            Ok(Route::UpdateOwnKey {
                key_id: "key_1".into()
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
            resolve("POST", "/v2/Services/VA1/RateLimits/RK2/Buckets/BL3"),
            tv(Bucket {
                service: "VA1".into(),
                rate_limit: "RK2".into(),
                sid: "BL3".into()
            })
        );
        assert_eq!(
            resolve("DELETE", "/v2/Services/VA1/RateLimits/RK2"),
            tv(RateLimit {
                service: "VA1".into(),
                sid: "RK2".into()
            })
        );
        assert_eq!(
            resolve("GET", "/v2/services"),
            Err(RouteError::NotFound),
            "Twilio's paths are case-sensitive"
        );
    }

    #[test]
    fn fivesim_routes() {
        use FiveSimResource::*;
        let fs = |r| Ok(Route::FiveSim(r));
        assert_eq!(
            resolve("GET", "/v1/user/buy/activation/usa/any/telegram"),
            fs(Buy {
                country: "usa".into(),
                operator: "any".into(),
                product: "telegram".into()
            })
        );
        assert_eq!(
            resolve("GET", "/v1/user/check/17"),
            fs(Check { id: "17".into() })
        );
        assert_eq!(resolve("DELETE", "/v1/user/max-prices"), fs(MaxPrices));
        assert_eq!(
            resolve("GET", "/v1/guest/products/usa/any"),
            fs(Products {
                country: "usa".into(),
                operator: "any".into()
            })
        );
        assert_eq!(
            resolve("POST", "/v1/user/profile"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        let scope = |m: &str, p: &str| resolve(m, p).ok().and_then(|r| r.scope(m));
        assert_eq!(
            scope("GET", "/v1/user/max-prices"),
            Some(Scope::ActivationsRead)
        );
        assert_eq!(
            scope("POST", "/v1/user/max-prices"),
            Some(Scope::ActivationsWrite)
        );
        assert_eq!(
            scope("GET", "/v1/user/ban/1"),
            Some(Scope::ActivationsWrite)
        );
        assert_eq!(scope("GET", "/v1/guest/prices"), None);
        // No route of ours shares a path with 5sim's.
        for (_, template) in ROUTES {
            let fivesim = template.starts_with("/v1/user/") || template.starts_with("/v1/guest/");
            let is_5sim_route = matches!(resolve("GET", template), Ok(Route::FiveSim(_)));
            assert_eq!(fivesim, is_5sim_route, "{template}");
        }
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
                    // The first path that fits wins (`/api/verify/check` before
                    // `/api/verify/{message_id}`): its methods are the allowed ones.
                    let first = ROUTES.iter().find(|(_, t)| fits(t, &path)).map(|(_, t)| *t);
                    let listed: Vec<&str> = ROUTES
                        .iter()
                        .filter(|(_, t)| Some(*t) == first)
                        .map(|(rm, _)| *rm)
                        .collect();
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
