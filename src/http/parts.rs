//! Which Worker serves a route. The routes are served by three Workers built from this one
//! crate (Cargo features of the same names), so that each stays small enough to load fast
//! at every point of presence:
//!
//! - `front` (the Worker named `otpedge`): the product API's money and OTP routes under
//!   `/v1` (balance, catalog, numbers and activations, OTP send and verify, messages), the
//!   public price lists, GetOTP and `/healthz`; it also hosts every Durable Object, the queue
//!   consumer and the Cron pass, and receives every request first;
//! - `protocols` (`otpedge-protocols`): the market's protocols: sms-activate, Twilio Verify,
//!   Vonage, Prelude, 5sim and NumberOTP's account routes;
//! - `accounts` (`otpedge-accounts`): the operator's API and console, customer sign-in, keys,
//!   templates, limits, lists, webhooks, the fraud guard's settings, statistics and audit.
//!
//! A build with every feature (the default) serves every route itself. The front hands a
//! request for another part, untouched, to that part's Worker through a service binding.
use super::routes::Route;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Front,
    Protocols,
    Accounts,
}

impl Part {
    /// Whether this build serves the part's routes itself.
    pub fn served_here(self) -> bool {
        match self {
            Part::Front => cfg!(feature = "front"),
            Part::Protocols => cfg!(feature = "protocols"),
            Part::Accounts => cfg!(feature = "accounts"),
        }
    }

    /// The service binding through which this build hands the part's routes over: only the
    /// front hands over (the others receive nothing but their own routes), and only the parts
    /// it does not serve itself.
    pub fn handed_to(self) -> Option<&'static str> {
        if self.served_here() || !cfg!(feature = "front") {
            return None;
        }
        match self {
            Part::Front => None,
            Part::Protocols => Some("PROTOCOLS"),
            Part::Accounts => Some("ACCOUNTS"),
        }
    }
}

impl Route {
    /// Whether a success of this route changes the public price lists, so that the front
    /// forgets its cached copies when another Worker served it.
    pub fn changes_prices(&self) -> bool {
        matches!(self, Route::AdminPutCatalog | Route::AdminImportNumbers)
    }

    /// The Worker that serves this route.
    pub fn part(&self) -> Part {
        use Route::*;
        match self {
            Healthz | Balance | Countries | Services | BuyNumber | ActivationStatus { .. } => {
                Part::Front
            }
            SetActivationStatus { .. } | ActivationEvents { .. } | InboundSms => Part::Front,
            OtpSend | OtpVerify | MessageSend | MessageStatus { .. } => Part::Front,
            GetOtpSend | GetOtpCheck | GetOtpStatus { .. } => Part::Front,
            PublicPrices | PublicRentPrices => Part::Front,
            SmsActivate | SmsActivateWebhook | TwilioVerify(_) | Vonage(_) | FiveSim(_) => {
                Part::Protocols
            }
            Prelude(_) | NumberOtpBalance | Transactions | Profile | Rent => Part::Protocols,
            RentStatus { .. } => Part::Protocols,
            _ => Part::Accounts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::routes::{resolve, ROUTES};

    fn part(method: &str, path: &str) -> Part {
        match resolve(method, path) {
            Ok(route) => route.part(),
            Err(e) => panic!("{method} {path}: {e:?}"),
        }
    }

    #[test]
    fn the_hot_routes_are_the_fronts() {
        for (method, path) in [
            ("GET", "/healthz"),
            ("GET", "/v1/balance"),
            ("POST", "/v1/number"),
            ("GET", "/v1/activation/a1/status"),
            ("GET", "/v1/activation/a1/events"),
            ("POST", "/v1/otp/send"),
            ("POST", "/v1/otp/verify"),
            ("GET", "/api/public/prices"),
            ("POST", "/api/verify/check"),
        ] {
            assert_eq!(part(method, path), Part::Front, "{method} {path}");
        }
    }

    #[test]
    fn protocols_and_accounts_have_their_own_workers() {
        for (method, path) in [
            ("GET", "/stubs/handler_api.php"),
            ("POST", "/v2/Services/VA1/Verifications"),
            ("POST", "/v2/verify"),
            ("GET", "/v1/user/profile"),
            ("POST", "/v2/verification"),
            ("GET", "/api/internal/balance"),
        ] {
            assert_eq!(part(method, path), Part::Protocols, "{method} {path}");
        }
        for (method, path) in [
            ("POST", "/admin/accounts"),
            ("GET", "/admin/session"),
            ("POST", "/api/v1/auth/login"),
            ("GET", "/v1/keys"),
            ("GET", "/v1/activations"),
            ("GET", "/v1/stats/otp"),
            ("PUT", "/v1/webhook"),
        ] {
            assert_eq!(part(method, path), Part::Accounts, "{method} {path}");
        }
    }

    #[test]
    fn every_part_serves_some_routes_and_the_default_build_serves_all() {
        let sample = |t: &str| t.replace('{', "x").replace('}', "");
        let parts: Vec<Part> = ROUTES.iter().map(|(m, t)| part(m, &sample(t))).collect();
        for p in [Part::Front, Part::Protocols, Part::Accounts] {
            assert!(parts.contains(&p), "{p:?} serves no route");
            assert!(p.served_here());
            assert_eq!(p.handed_to(), None, "the default build hands nothing over");
        }
    }
}
