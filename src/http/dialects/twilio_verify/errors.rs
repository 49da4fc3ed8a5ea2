//! Twilio's error codes and its error envelope, which the SDKs raise as their own exception.
use serde_json::{json, Value};

/// Twilio's error codes this API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 20001, 400: a required parameter is missing.
    MissingParameter,
    /// 20003, 401: wrong or missing credentials.
    Authenticate,
    /// 20004, 405: method not allowed on the resource.
    MethodNotAllowed,
    /// 20404, 404: no such resource (or no pending verification to check).
    NotFound,
    /// 20429, 429: too many requests.
    TooManyRequests,
    /// 60200, 400: invalid parameter.
    InvalidParameter,
    /// 60202, 429: max check attempts reached.
    MaxCheckAttempts,
    /// 60203, 429: max send attempts reached.
    MaxSendAttempts,
    /// 60207, 400: the service has the most rate limits it may have.
    RateLimitsFull,
    /// 60208, 400: the service has a rate limit of this unique name.
    RateLimitNameTaken,
    /// 60209, 400: a unique name of a form Twilio refuses.
    RateLimitNameFormat,
    /// 60210, 400: the rate limit has the most buckets it may have.
    BucketsFull,
    /// 60211, 400: the rate limit has a bucket of this interval.
    BucketIntervalTaken,
    /// 60223, 400: the delivery channel is disabled on this deployment.
    ChannelDisabled,
    /// 60410, 403: the fraud guard blocked the number's prefix, its country's cap or rate.
    FraudBlocked,
    /// 60605, 403: the account's geo permissions do not allow the number's country.
    GeoPermission,
}

impl ErrorCode {
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::MissingParameter => 20001,
            ErrorCode::Authenticate => 20003,
            ErrorCode::MethodNotAllowed => 20004,
            ErrorCode::NotFound => 20404,
            ErrorCode::TooManyRequests => 20429,
            ErrorCode::InvalidParameter => 60200,
            ErrorCode::MaxCheckAttempts => 60202,
            ErrorCode::MaxSendAttempts => 60203,
            ErrorCode::RateLimitsFull => 60207,
            ErrorCode::RateLimitNameTaken => 60208,
            ErrorCode::RateLimitNameFormat => 60209,
            ErrorCode::BucketsFull => 60210,
            ErrorCode::BucketIntervalTaken => 60211,
            ErrorCode::ChannelDisabled => 60223,
            ErrorCode::FraudBlocked => 60410,
            ErrorCode::GeoPermission => 60605,
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MissingParameter
            | ErrorCode::InvalidParameter
            | ErrorCode::ChannelDisabled
            | ErrorCode::RateLimitsFull
            | ErrorCode::RateLimitNameTaken
            | ErrorCode::RateLimitNameFormat
            | ErrorCode::BucketsFull
            | ErrorCode::BucketIntervalTaken => 400,
            ErrorCode::Authenticate => 401,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::FraudBlocked | ErrorCode::GeoPermission => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::TooManyRequests
            | ErrorCode::MaxCheckAttempts
            | ErrorCode::MaxSendAttempts => 429,
        }
    }

    /// The Twilio code for an otpedge error: a fraud guard refusal by its reason (60605 for
    /// `geo`, 60410 for the others), a refused rate limit or bucket change by its reason
    /// (`domain::verify_limits::Refusal`), else `for_otpedge`.
    pub fn for_error(code: &str, reason: Option<&str>) -> Option<ErrorCode> {
        match (code, reason) {
            ("2207", Some("geo")) => Some(ErrorCode::GeoPermission),
            ("2207", _) => Some(ErrorCode::FraudBlocked),
            ("2004", Some("rate_limits_full")) => Some(ErrorCode::RateLimitsFull),
            ("2004", Some("rate_limit_name_taken")) => Some(ErrorCode::RateLimitNameTaken),
            ("2004", Some("rate_limit_name_format")) => Some(ErrorCode::RateLimitNameFormat),
            ("2004", Some("buckets_full")) => Some(ErrorCode::BucketsFull),
            ("2004", Some("bucket_interval_taken")) => Some(ErrorCode::BucketIntervalTaken),
            _ => ErrorCode::for_otpedge(code),
        }
    }

    /// The Twilio code for an otpedge error code, where Twilio has one. Others keep
    /// otpedge's number (README "Error codes") and HTTP status in Twilio's envelope.
    pub fn for_otpedge(code: &str) -> Option<ErrorCode> {
        Some(match code {
            // A restricted key without the needed scope: 20003 at HTTP 403, as Twilio does.
            "1136" | "2410" => ErrorCode::Authenticate,
            "2001" | "2008" => ErrorCode::NotFound,
            "2002" => ErrorCode::MethodNotAllowed,
            "2006" => ErrorCode::TooManyRequests,
            "2201" | "2202" => ErrorCode::MaxSendAttempts,
            "2206" => ErrorCode::MaxCheckAttempts,
            "1515" => ErrorCode::ChannelDisabled,
            "1523" | "1623" | "1631" | "1632" | "2003" | "2004" | "2015" => {
                ErrorCode::InvalidParameter
            }
            _ => return None,
        })
    }
}

/// Twilio's error envelope, which the SDKs turn into their exception (`RestException` in
/// Node, `TwilioRestException` in Python): `code`, `message`, `more_info`, `status`.
pub fn error_body(code: u32, status: u16, message: &str) -> Value {
    let more_info = (code >= 20_000).then(|| format!("https://www.twilio.com/docs/errors/{code}"));
    json!({"code": code, "message": message, "more_info": more_info, "status": status})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::verify_limits::Refusal;

    #[test]
    fn error_codes_and_envelope() {
        for (code, number, status) in [
            (ErrorCode::Authenticate, 20003, 401),
            (ErrorCode::NotFound, 20404, 404),
            (ErrorCode::MaxCheckAttempts, 60202, 429),
            (ErrorCode::MaxSendAttempts, 60203, 429),
            (ErrorCode::InvalidParameter, 60200, 400),
            (ErrorCode::GeoPermission, 60605, 403),
            (ErrorCode::FraudBlocked, 60410, 403),
        ] {
            assert_eq!((code.code(), code.status()), (number, status), "{code:?}");
        }
        for (otpedge, twilio) in [
            ("1136", ErrorCode::Authenticate),
            ("2201", ErrorCode::MaxSendAttempts),
            ("2202", ErrorCode::MaxSendAttempts),
            ("2008", ErrorCode::NotFound),
        ] {
            assert_eq!(ErrorCode::for_otpedge(otpedge), Some(twilio), "{otpedge}");
        }
        assert_eq!(
            ErrorCode::for_error("2207", Some("geo")),
            Some(ErrorCode::GeoPermission)
        );
        assert_eq!(
            ErrorCode::for_error("2207", Some("velocity")),
            Some(ErrorCode::FraudBlocked)
        );
        for (refusal, code) in [
            (Refusal::TooManyRateLimits, 60207),
            (Refusal::NameTaken, 60208),
            (Refusal::NameFormat, 60209),
            (Refusal::TooManyBuckets, 60210),
            (Refusal::IntervalTaken, 60211),
        ] {
            let e = refusal.error();
            let twilio = ErrorCode::for_error(e.code.number(), e.reason);
            assert_eq!(twilio.map(|c| (c.code(), c.status())), Some((code, 400)));
        }
        assert_eq!(
            ErrorCode::for_error("2006", None),
            Some(ErrorCode::TooManyRequests),
            "a spent rate-limit bucket is 20429"
        );
        assert_eq!(
            ErrorCode::for_otpedge("2007"),
            None,
            "insufficient balance keeps otpedge's code"
        );
        let body = error_body(
            20404,
            404,
            "The requested resource /Services/VAx was not found",
        );
        assert_eq!(body["code"], 20404);
        assert_eq!(body["status"], 404);
        assert_eq!(
            body["more_info"],
            "https://www.twilio.com/docs/errors/20404"
        );
        assert_eq!(
            error_body(2007, 402, "Insufficient balance")["more_info"],
            Value::Null
        );
        // Not RFC 9457 (no `type`/`title`), so the Node SDK raises RestException.
        assert!(body.get("type").is_none() && body.get("title").is_none());
    }
}
