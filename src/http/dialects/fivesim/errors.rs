//! 5sim's error answers: plain lower-case words, most with HTTP 400, `no free phones` with
//! HTTP 200 (5sim's own quirk, which its clients expect), a missing order 404, a bad key 401
//! and the rate limit 429. Pure: tested natively.
use crate::domain::error::Code;
use crate::http::error::status;

/// The status and word 5sim answers an application error with.
pub fn word_for(code: Code) -> (u16, &'static str) {
    match code {
        Code::NoNumbers | Code::NotOffered | Code::PriceAboveMax => (200, "no free phones"),
        // An account awaiting approval or over a spend cap may not pay: to the client, as
        // good as an empty wallet.
        Code::InsufficientFunds | Code::NotApproved | Code::SpendCapReached => {
            (400, "not enough user balance")
        }
        Code::UnknownCountry => (400, "bad country"),
        Code::UnknownOperator => (400, "bad operator"),
        Code::UnknownService => (400, "no product"),
        Code::NotFound => (404, "order not found"),
        Code::SmsAlreadyReceived => (400, "order has sms"),
        Code::NoSmsYet => (400, "order no sms"),
        Code::ActivationEnded => (400, "order expired"),
        Code::CancelTooEarly => (400, "you need to wait time"),
        Code::Unauthorized => (401, "unauthorized"),
        Code::InsufficientScope => (403, "forbidden"),
        Code::RateLimited => (429, "too many requests"),
        Code::RouteNotFound => (404, "not found"),
        Code::MethodNotAllowed => (405, "method not allowed"),
        Code::PayloadTooLarge => (413, "request too large"),
        other => match status(other) {
            s if s >= 500 => (500, "internal error"),
            s => (s, "bad request"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_statuses() {
        assert_eq!(word_for(Code::NoNumbers), (200, "no free phones"));
        assert_eq!(word_for(Code::PriceAboveMax), (200, "no free phones"));
        assert_eq!(
            word_for(Code::InsufficientFunds),
            (400, "not enough user balance")
        );
        assert_eq!(word_for(Code::UnknownCountry), (400, "bad country"));
        assert_eq!(word_for(Code::UnknownOperator), (400, "bad operator"));
        assert_eq!(word_for(Code::UnknownService), (400, "no product"));
        assert_eq!(word_for(Code::NotFound), (404, "order not found"));
        assert_eq!(word_for(Code::SmsAlreadyReceived), (400, "order has sms"));
        assert_eq!(word_for(Code::NoSmsYet), (400, "order no sms"));
        assert_eq!(word_for(Code::Unauthorized).0, 401);
        assert_eq!(word_for(Code::RateLimited).0, 429);
        assert_eq!(word_for(Code::Internal), (500, "internal error"));
        assert_eq!(word_for(Code::InvalidRequest), (400, "bad request"));
    }
}
