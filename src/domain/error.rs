//! The one error type of the application: a kind per condition (`Code`), each with its
//! stable number and default message (README "Error codes"). Below HTTP: the store, the
//! providers, the Durable Objects and the application layer all speak it; only `http/` maps
//! a code to a status, headers and a front door's envelope. Internal details are logged by
//! the HTTP layer and never sent to a client.
use std::fmt;

/// Declares `Code` from one table: each kind with its stable number and default message.
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident => $number:literal, $message:literal;)*) => {
        /// The error catalog (README "Error codes"). GetOTP's numeric codes keep the meaning of
        /// its table; otpedge's own conditions are numbered from 2000.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            pub fn number(self) -> &'static str {
                match self {
                    $(Code::$name => $number,)*
                }
            }

            pub fn default_message(self) -> &'static str {
                match self {
                    $(Code::$name => $message,)*
                }
            }
        }
    };
}

codes! {
    // GetOTP's table.
    Unauthorized => "1136", "User Not Authorized";
    InvalidTemplateId => "1512", "Invalid template id";
    TemplateNotFound => "1513", "Template is not found";
    InvalidChannel => "1515", "Invalid channel specified";
    InvalidRecipient => "1523", "Invalid recipient number(s)";
    SenderMissing => "1620", "'sender' is missing";
    PhoneMissing => "1621", "'phone' is missing";
    TemplateMissing => "1622", "'template' is missing";
    InvalidCodeLength => "1623", "Invalid code length";
    TemplateWithoutCode => "1624", "Template does not contain keyword {code}";
    CodeAndCodeLength => "1629",
        "Provide either 'data.code' or 'data.code_length' but not \
         both";
    CodeInvalid => "1631",
        "When 'data.channel' is not VOICE 'data.code' must be valid and 4 \
         to 8 characters long";
    CodeNotNumeric => "1632", "'data.code' should be numeric if provided";
    InvalidPayload => "1705", "Invalid payload";
    // otpedge, general.
    Internal => "2000", "Internal error";
    RouteNotFound => "2001", "No such route";
    MethodNotAllowed => "2002", "Method not allowed on this route";
    MalformedJson => "2003", "Malformed JSON body";
    InvalidRequest => "2004", "Invalid request";
    PayloadTooLarge => "2005", "Request body is larger than 64 KiB";
    RateLimited => "2006", "Rate limit exceeded";
    InsufficientFunds => "2007", "Insufficient balance";
    NotFound => "2008", "Not found";
    IdempotencyKeyReused => "2009",
        "Idempotency-Key was already used with a different \
         request";
    IdempotencyInProgress => "2010",
        "A request with this Idempotency-Key is still in \
         progress";
    InvalidIdempotencyKey => "2011", "Invalid Idempotency-Key";
    Forbidden => "2012", "Forbidden";
    Conflict => "2013", "Conflict";
    InvalidAmount => "2014", "Invalid amount";
    InvalidPagination => "2015", "Invalid pagination";
    UnsupportedMediaType => "2016", "Content-Type must be application/json";
    WalletMaximum => "2017", "The balance would exceed the wallet's maximum";
    // --- activations (21xx) ---
    UnknownCountry => "2100", "Unknown country";
    UnknownService => "2101", "Unknown service";
    UnknownOperator => "2102", "Unknown operator for this country";
    NotOffered => "2103", "This service is not offered for this country and operator";
    NoNumbers => "2104", "No numbers available";
    PriceAboveMax => "2105", "The price is above max_price";
    CancelTooEarly => "2106", "Cancel is not allowed yet";
    ActivationEnded => "2107", "The activation has already ended";
    SmsAlreadyReceived => "2108", "An SMS was already received; complete or retry instead";
    NoSmsYet => "2109", "No SMS has been received yet";
    InvalidSignature => "2110", "Invalid or missing X-Signature";
    SupplierNotAllowed => "2111", "This supplier does not own the number";

    // --- OTP and messages (22xx) ---
    NoOtpPrice => "2200", "No OTP price for this destination country and channel";
    ResendTooSoon => "2201", "A code was sent to this number too recently";
    SendLimitReached => "2202", "Too many codes sent to this number in the window";
    TemplateVariables => "2203", "Template variables do not match the template";
    InvalidTemplate => "2204", "Invalid template body";
    DeliveryFailed => "2205", "The delivery provider refused the message";
    /// A check of a session (or Twilio verification) whose attempts are all spent.
    CheckAttemptsSpent => "2206", "Max check attempts reached";
    /// The account's fraud guard refused a send (the error's `reason` says which rule).
    SendBlocked => "2207", "The fraud guard refused this send";

    // --- webhooks (23xx) ---
    InvalidWebhookUrl => "2300", "Invalid webhook URL";
    NoWebhookEndpoint => "2301", "No webhook endpoint is set";

    // --- customer accounts and sessions (24xx) ---
    BadCredentials => "2400", "Invalid email or password";
    EmailTaken => "2401", "An account with this email already exists";
    PasswordRejected => "2402", "The password does not meet the password policy";
    InvalidEmail => "2403", "Invalid email address";
    LoginLocked => "2404", "Too many failed logins; try again later";
    NotApproved => "2405",
        "This account is waiting for the operator's approval: \
         money-moving calls are refused until it is approved";
    CrossOrigin => "2406",
        "Cross-origin request refused: a request authenticated by the session cookie \
         must come from this site (Origin header)";
    SessionRequired => "2407",
        "This route needs a login session (Authorization: Bearer <session token> or \
         the session cookie); an API key cannot manage API keys";
    KeyLimit => "2408", "The account already has the maximum number of live API keys";
    WrongPassword => "2409", "'current_password' is wrong";
    /// The API key does not hold the scope the route or action needs (the message names it).
    InsufficientScope => "2410", "insufficient_scope: this API key lacks the scope it needs";
    /// A charge would take the spend of a UTC day or month past its cap (the message says
    /// which cap and when it resets).
    SpendCapReached => "2411", "spend_cap_reached: a spend cap would be exceeded";
}

/// A failed operation: what went wrong (`code`), the client-facing message, and for
/// throttling refusals how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub code: Code,
    pub message: String,
    /// Seconds until a retry may succeed (rate limits, resend rules; `Retry-After`).
    pub retry_after: Option<u64>,
    /// Logged, never rendered.
    pub internal: Option<String>,
    /// Why a send was refused (`SendBlocked`): `domain::fraud::Reason::as_str`.
    pub reason: Option<&'static str>,
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            retry_after: None,
            internal: None,
            reason: None,
        }
    }

    pub fn of(code: Code) -> AppError {
        AppError::new(code, code.default_message())
    }

    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::new(Code::InvalidRequest, message)
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized() -> AppError {
        AppError::of(Code::Unauthorized)
    }

    /// A failure that is ours, not the client's: the detail goes to the log only.
    pub fn internal(detail: impl Into<String>) -> AppError {
        AppError {
            internal: Some(detail.into()),
            ..AppError::of(Code::Internal)
        }
    }

    /// A send the fraud guard refused, and why.
    pub fn blocked(reason: &'static str, message: &str) -> AppError {
        AppError {
            reason: Some(reason),
            ..AppError::new(Code::SendBlocked, message)
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> AppError {
        self.retry_after = Some(secs);
        self
    }

    /// What to log: the internal detail if there is one, else the message.
    pub fn detail(&self) -> &str {
        self.internal.as_deref().unwrap_or(&self.message)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.number(), self.message)?;
        if let Some(detail) = &self.internal {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<crate::domain::ids::RandomUnavailable> for AppError {
    fn from(e: crate::domain::ids::RandomUnavailable) -> AppError {
        AppError::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_kept_apart_from_the_message() {
        let e = AppError::internal("D1_ERROR: secret detail");
        assert_eq!(e.code, Code::Internal);
        assert_eq!(e.message, "Internal error");
        assert_eq!(e.detail(), "D1_ERROR: secret detail");
    }
}
