//! HTTP's view of an `AppError`: the status each code answers with. Envelopes (the body
//! shape per front door) are in `envelope`.
use crate::domain::error::Code;

/// The HTTP status of an error code (README "Error codes").
pub fn status(code: Code) -> u16 {
    match code {
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
        Code::InsufficientFunds | Code::SpendCapReached => 402,
        Code::IdempotencyKeyReused => 422,
        Code::IdempotencyInProgress | Code::Conflict => 409,
        Code::Forbidden => 403,
        Code::UnsupportedMediaType => 415,
        Code::WalletMaximum => 409,
        // --- activations (21xx) ---
        Code::UnknownCountry | Code::UnknownService | Code::UnknownOperator => 400,
        Code::NotOffered => 404,
        Code::NoNumbers
        | Code::PriceAboveMax
        | Code::CancelTooEarly
        | Code::ActivationEnded
        | Code::SmsAlreadyReceived
        | Code::NoSmsYet => 409,
        Code::InvalidSignature => 401,
        Code::SupplierNotAllowed => 403,

        // --- OTP and messages (22xx) ---
        Code::NoOtpPrice | Code::TemplateVariables | Code::InvalidTemplate => 400,
        Code::ResendTooSoon | Code::SendLimitReached | Code::CheckAttemptsSpent => 429,
        Code::DeliveryFailed => 502,

        // --- webhooks (23xx) ---
        Code::InvalidWebhookUrl => 400,
        Code::NoWebhookEndpoint => 404,

        // --- customer accounts and sessions (24xx) ---
        Code::BadCredentials => 401,
        Code::EmailTaken | Code::KeyLimit => 409,
        Code::PasswordRejected | Code::InvalidEmail | Code::WrongPassword => 400,
        Code::LoginLocked => 429,
        Code::NotApproved | Code::CrossOrigin | Code::SessionRequired => 403,
        Code::InsufficientScope => 403,
        Code::SendBlocked => 403,
    }
}
