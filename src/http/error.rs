//! The one error type. Every failure becomes an `ApiError` with a stable code; the code
//! fixes the HTTP status, and the dialect of the path fixes the envelope.
//! Internal details are logged by the glue and never sent to a client.
use crate::domain::time::sql_datetime;
use serde_json::json;
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

    pub fn status(self) -> u16 {
        match self {
            Code::Unauthorized => 401,
            Code::InvalidTemplateId
            | Code::TemplateNotFound
            | Code::InvalidChannel
            | Code::InvalidRecipient
            | Code::SenderMissing
            | Code::PhoneMissing
            | Code::TemplateMissing
            | Code::InvalidCodeLength
            | Code::TemplateWithoutCode
            | Code::CodeAndCodeLength
            | Code::CodeInvalid
            | Code::CodeNotNumeric
            | Code::InvalidPayload
            | Code::MalformedJson
            | Code::InvalidRequest
            | Code::InvalidIdempotencyKey
            | Code::InvalidAmount
            | Code::InvalidPagination => 400,
            Code::Internal => 500,
            Code::RouteNotFound | Code::NotFound => 404,
            Code::MethodNotAllowed => 405,
            Code::PayloadTooLarge => 413,
            Code::RateLimited => 429,
            Code::InsufficientFunds => 402,
            Code::IdempotencyKeyReused => 422,
            Code::IdempotencyInProgress | Code::Conflict => 409,
            Code::Forbidden => 403,
            // --- activations (21xx) ---
            Code::UnknownCountry | Code::UnknownService | Code::UnknownOperator => 400,
            Code::NotOffered => 404,
            Code::NoNumbers | Code::PriceAboveMax | Code::CancelTooEarly | Code::ActivationEnded | Code::SmsAlreadyReceived | Code::NoSmsYet => 409,
            Code::InvalidSignature => 401,
            Code::SupplierNotAllowed => 403,

            // --- OTP and messages (22xx) ---
            Code::NoOtpPrice | Code::TemplateVariables | Code::InvalidTemplate => 400,
            Code::ResendTooSoon | Code::SendLimitReached => 429,
            Code::DeliveryFailed => 502,

            // --- webhooks (23xx) ---
            Code::InvalidWebhookUrl => 400,
            Code::NoWebhookEndpoint => 404,
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
            Code::CodeAndCodeLength => "Provide either 'data.code' or 'data.code_length' but not both",
            Code::CodeInvalid => "When 'data.channel' is not VOICE 'data.code' must be valid and 4 to 8 characters long",
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
            Code::IdempotencyKeyReused => "Idempotency-Key was already used with a different request",
            Code::IdempotencyInProgress => "A request with this Idempotency-Key is still in progress",
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

/// Which envelope a path answers errors in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{"errors":[{timestamp,path,method,status,message,code}]}`: `/v1`, `/admin`, `/api/verify/`, everything else.
    House,
    /// `{"success":false,"error","code"}`: `/api/public`, `/api/internal`, `/api/user`.
    NumberOtp,
    /// Twilio's `{"code","message","more_info","status"}`: `/v2/` (Twilio Verify).
    Twilio,
}

impl Dialect {
    pub fn for_path(path: &str) -> Dialect {
        if path.starts_with("/v2/") {
            Dialect::Twilio
        } else if path.starts_with("/api/public/") || path.starts_with("/api/internal/") || path.starts_with("/api/user/") {
            Dialect::NumberOtp
        } else {
            Dialect::House
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Seconds, for 429 (`Retry-After`).
    pub retry_after: Option<u64>,
    /// For 405 (`Allow`).
    pub allow: Option<String>,
    /// Logged, never rendered.
    pub internal: Option<String>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), retry_after: None, allow: None, internal: None }
    }

    pub fn of(code: Code) -> ApiError {
        ApiError::new(code, code.default_message())
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidRequest, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::of(Code::Unauthorized)
    }

    /// A failure that is ours, not the client's: the detail goes to the log only.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError { internal: Some(detail.into()), ..ApiError::of(Code::Internal) }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The response body in the dialect's envelope.
    pub fn body(&self, dialect: Dialect, path: &str, method: &str, now_ms: i64) -> String {
        let value = match dialect {
            Dialect::House => json!({"errors": [{
                "timestamp": sql_datetime(now_ms),
                "path": path,
                "method": method,
                "status": self.status(),
                "message": self.message,
                "code": self.code.number(),
            }]}),
            Dialect::NumberOtp => json!({"success": false, "error": self.message, "code": self.code.number()}),
            Dialect::Twilio => {
                // Twilio's code where it has one (same HTTP status), else otpedge's number.
                use crate::domain::twilio_verify::{error_body, ErrorCode};
                match ErrorCode::for_otpedge(self.code.number()) {
                    Some(ErrorCode::Authenticate) => error_body(20003, 401, "Authenticate"),
                    Some(code) => error_body(code.code(), self.status(), &self.message),
                    None => error_body(self.code.number().parse().unwrap_or(2000), self.status(), &self.message),
                }
            }
        };
        value.to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.code.number(), self.message)
    }
}

impl From<crate::domain::ids::RandomUnavailable> for ApiError {
    fn from(e: crate::domain::ids::RandomUnavailable) -> ApiError {
        ApiError::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn house_envelope_matches_getotp() {
        let body = ApiError::unauthorized().body(Dialect::House, "/api/verify/", "POST", 1_755_475_200_000);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            json!({"errors":[{"timestamp":"2025-08-18 00:00:00","path":"/api/verify/","method":"POST","status":401,"message":"User Not Authorized","code":"1136"}]})
        );
    }

    #[test]
    fn numberotp_envelope() {
        let body = ApiError::of(Code::InsufficientFunds).body(Dialect::NumberOtp, "/api/internal/rent", "POST", 0);
        assert_eq!(body, r#"{"code":"2007","error":"Insufficient balance","success":false}"#);
    }

    #[test]
    fn internal_detail_is_not_rendered() {
        let e = ApiError::internal("D1_ERROR: secret detail");
        assert_eq!(e.status(), 500);
        assert!(!e.body(Dialect::House, "/", "GET", 0).contains("secret"));
    }

    #[test]
    fn dialect_by_path() {
        assert_eq!(Dialect::for_path("/api/internal/balance"), Dialect::NumberOtp);
        assert_eq!(Dialect::for_path("/api/verify/"), Dialect::House);
        assert_eq!(Dialect::for_path("/v1/balance"), Dialect::House);
        assert_eq!(Dialect::for_path("/admin/accounts"), Dialect::House);
    }
}
