//! The one error type of the application: a kind per condition (`Code`), each with its
//! stable number and default message (README "Error codes"). Below HTTP: the store, the
//! providers, the Durable Objects and the application layer all speak it; only `http/` maps
//! a code to a status, headers and a front door's envelope. Internal details are logged by
//! the HTTP layer and never sent to a client.
use std::fmt;

/// The error catalog (README "Error codes"). GetOTP's numeric codes keep the meaning of
/// its table; otpedge's own conditions are numbered from 2000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    // GetOTP's table.
    Unauthorized,
    InvalidTemplateId,
    TemplateNotFound,
    InvalidChannel,
    InvalidRecipient,
    SenderMissing,
    PhoneMissing,
    TemplateMissing,
    InvalidCodeLength,
    TemplateWithoutCode,
    CodeAndCodeLength,
    CodeInvalid,
    CodeNotNumeric,
    InvalidPayload,
    // otpedge, general.
    Internal,
    RouteNotFound,
    MethodNotAllowed,
    MalformedJson,
    InvalidRequest,
    PayloadTooLarge,
    RateLimited,
    InsufficientFunds,
    NotFound,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    InvalidIdempotencyKey,
    Forbidden,
    Conflict,
    InvalidAmount,
    InvalidPagination,
    // --- activations (21xx) ---
    UnknownCountry,
    UnknownService,
    UnknownOperator,
    NotOffered,
    NoNumbers,
    PriceAboveMax,
    CancelTooEarly,
    ActivationEnded,
    SmsAlreadyReceived,
    NoSmsYet,
    InvalidSignature,
    SupplierNotAllowed,

    // --- OTP and messages (22xx) ---
    NoOtpPrice,
    ResendTooSoon,
    SendLimitReached,
    TemplateVariables,
    InvalidTemplate,
    DeliveryFailed,

    // --- webhooks (23xx) ---
    InvalidWebhookUrl,
    NoWebhookEndpoint,
}

impl Code {
    pub fn number(self) -> &'static str {
        match self {
            Code::Unauthorized => "1136",
            Code::InvalidTemplateId => "1512",
            Code::TemplateNotFound => "1513",
            Code::InvalidChannel => "1515",
            Code::InvalidRecipient => "1523",
            Code::SenderMissing => "1620",
            Code::PhoneMissing => "1621",
            Code::TemplateMissing => "1622",
            Code::InvalidCodeLength => "1623",
            Code::TemplateWithoutCode => "1624",
            Code::CodeAndCodeLength => "1629",
            Code::CodeInvalid => "1631",
            Code::CodeNotNumeric => "1632",
            Code::InvalidPayload => "1705",
            Code::Internal => "2000",
            Code::RouteNotFound => "2001",
            Code::MethodNotAllowed => "2002",
            Code::MalformedJson => "2003",
            Code::InvalidRequest => "2004",
            Code::PayloadTooLarge => "2005",
            Code::RateLimited => "2006",
            Code::InsufficientFunds => "2007",
            Code::NotFound => "2008",
            Code::IdempotencyKeyReused => "2009",
            Code::IdempotencyInProgress => "2010",
            Code::InvalidIdempotencyKey => "2011",
            Code::Forbidden => "2012",
            Code::Conflict => "2013",
            Code::InvalidAmount => "2014",
            Code::InvalidPagination => "2015",
            // --- activations (21xx) ---
            Code::UnknownCountry => "2100",
            Code::UnknownService => "2101",
            Code::UnknownOperator => "2102",
            Code::NotOffered => "2103",
            Code::NoNumbers => "2104",
            Code::PriceAboveMax => "2105",
            Code::CancelTooEarly => "2106",
            Code::ActivationEnded => "2107",
            Code::SmsAlreadyReceived => "2108",
            Code::NoSmsYet => "2109",
            Code::InvalidSignature => "2110",
            Code::SupplierNotAllowed => "2111",

            // --- OTP and messages (22xx) ---
            Code::NoOtpPrice => "2200",
            Code::ResendTooSoon => "2201",
            Code::SendLimitReached => "2202",
            Code::TemplateVariables => "2203",
            Code::InvalidTemplate => "2204",
            Code::DeliveryFailed => "2205",

            // --- webhooks (23xx) ---
            Code::InvalidWebhookUrl => "2300",
            Code::NoWebhookEndpoint => "2301",
        }
    }

    pub fn default_message(self) -> &'static str {
        match self {
            Code::Unauthorized => "User Not Authorized",
            Code::InvalidTemplateId => "Invalid template id",
            Code::TemplateNotFound => "Template is not found",
            Code::InvalidChannel => "Invalid channel specified",
            Code::InvalidRecipient => "Invalid recipient number(s)",
            Code::SenderMissing => "'sender' is missing",
            Code::PhoneMissing => "'phone' is missing",
            Code::TemplateMissing => "'template' is missing",
            Code::InvalidCodeLength => "Invalid code length",
            Code::TemplateWithoutCode => "Template does not contain keyword {code}",
            Code::CodeAndCodeLength => {
                "Provide either 'data.code' or 'data.code_length' but not \
                both"
            }
            Code::CodeInvalid => {
                "When 'data.channel' is not VOICE 'data.code' must be valid and 4 \
                to 8 characters long"
            }
            Code::CodeNotNumeric => "'data.code' should be numeric if provided",
            Code::InvalidPayload => "Invalid payload",
            Code::Internal => "Internal error",
            Code::RouteNotFound => "No such route",
            Code::MethodNotAllowed => "Method not allowed on this route",
            Code::MalformedJson => "Malformed JSON body",
            Code::InvalidRequest => "Invalid request",
            Code::PayloadTooLarge => "Request body is larger than 64 KiB",
            Code::RateLimited => "Rate limit exceeded",
            Code::InsufficientFunds => "Insufficient balance",
            Code::NotFound => "Not found",
            Code::IdempotencyKeyReused => {
                "Idempotency-Key was already used with a different \
                request"
            }
            Code::IdempotencyInProgress => {
                "A request with this Idempotency-Key is still in \
                progress"
            }
            Code::InvalidIdempotencyKey => "Invalid Idempotency-Key",
            Code::Forbidden => "Forbidden",
            Code::Conflict => "Conflict",
            Code::InvalidAmount => "Invalid amount",
            Code::InvalidPagination => "Invalid pagination",
            // --- activations (21xx) ---
            Code::UnknownCountry => "Unknown country",
            Code::UnknownService => "Unknown service",
            Code::UnknownOperator => "Unknown operator for this country",
            Code::NotOffered => "This service is not offered for this country and operator",
            Code::NoNumbers => "No numbers available",
            Code::PriceAboveMax => "The price is above max_price",
            Code::CancelTooEarly => "Cancel is not allowed yet",
            Code::ActivationEnded => "The activation has already ended",
            Code::SmsAlreadyReceived => "An SMS was already received; complete or retry instead",
            Code::NoSmsYet => "No SMS has been received yet",
            Code::InvalidSignature => "Invalid or missing X-Signature",
            Code::SupplierNotAllowed => "This supplier does not own the number",

            // --- OTP and messages (22xx) ---
            Code::NoOtpPrice => "No OTP price for this destination country and channel",
            Code::ResendTooSoon => "A code was sent to this number too recently",
            Code::SendLimitReached => "Too many codes sent to this number in the window",
            Code::TemplateVariables => "Template variables do not match the template",
            Code::InvalidTemplate => "Invalid template body",
            Code::DeliveryFailed => "The delivery provider refused the message",

            // --- webhooks (23xx) ---
            Code::InvalidWebhookUrl => "Invalid webhook URL",
            Code::NoWebhookEndpoint => "No webhook endpoint is set",
        }
    }
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
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            retry_after: None,
            internal: None,
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
