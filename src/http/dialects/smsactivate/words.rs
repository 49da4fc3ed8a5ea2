//! The protocol's error words, and the word for each application error that has one.
use crate::domain::error::Code;
use crate::domain::money::Money;

/// The protocol's error words (and the two status words that double as refusals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    NoKey,
    BadKey,
    BadAction,
    BadService,
    NoNumbers,
    NoBalance,
    /// The cheapest number available costs this much.
    WrongMaxPrice(Money),
    NoActivation,
    BadStatus,
    EarlyCancelDenied,
    /// The activation was cancelled or expired (refunded).
    StatusCancel,
    /// A server-side failure (D1 unavailable, …); never a reaction to input.
    ErrorSql,
    // Rent.
    NoIdRent,
    InvalidPhone,
    IncorrectStatus,
    CantCancel,
    AlreadyFinish,
    InvalidTime,
    StatusWaitCode,
    StatusFinish,
}

impl Word {
    pub fn text(&self) -> String {
        let s = match self {
            Word::NoKey => "NO_KEY",
            Word::BadKey => "BAD_KEY",
            Word::BadAction => "BAD_ACTION",
            Word::BadService => "BAD_SERVICE",
            Word::NoNumbers => "NO_NUMBERS",
            Word::NoBalance => "NO_BALANCE",
            Word::WrongMaxPrice(min) => {
                return format!("WRONG_MAX_PRICE:{}", min.to_decimal_string())
            }
            Word::NoActivation => "NO_ACTIVATION",
            Word::BadStatus => "BAD_STATUS",
            Word::EarlyCancelDenied => "EARLY_CANCEL_DENIED",
            Word::StatusCancel => "STATUS_CANCEL",
            Word::ErrorSql => "ERROR_SQL",
            Word::NoIdRent => "NO_ID_RENT",
            Word::InvalidPhone => "INVALID_PHONE",
            Word::IncorrectStatus => "INCORECT_STATUS", // sic: the protocol's spelling
            Word::CantCancel => "CANT_CANCEL",
            Word::AlreadyFinish => "ALREADY_FINISH",
            Word::InvalidTime => "INVALID_TIME",
            Word::StatusWaitCode => "STATUS_WAIT_CODE",
            Word::StatusFinish => "STATUS_FINISH",
        };
        s.to_owned()
    }
}

/// The protocol word for an application error, where the protocol has one (`None`: not a
/// reaction to the request — the front door answers it, e.g. a 500 `ERROR_SQL`). `rent`:
/// the error of a rent action, where "not found" is `INVALID_PHONE`.
pub fn word_for(code: Code, rent: bool) -> Option<Word> {
    Some(match code {
        // A key without the action's scope: the protocol's word for a key that may not act.
        Code::Unauthorized | Code::InsufficientScope => Word::BadKey,
        Code::InsufficientFunds => Word::NoBalance,
        // An account awaiting the operator's approval may not pay yet (README "Accounts and
        // keys"); the protocol has no word for it, and `NO_BALANCE` is what a client shows.
        Code::NotApproved => Word::NoBalance,
        // A spend cap refused the charge: to the client, as good as an empty wallet.
        Code::SpendCapReached => Word::NoBalance,
        // sms-activate's country list is fixed: a country, operator or offer we do not
        // serve simply has no numbers.
        Code::NoNumbers | Code::NotOffered | Code::UnknownCountry | Code::UnknownOperator => {
            Word::NoNumbers
        }
        Code::UnknownService => Word::BadService,
        Code::NotFound if rent => Word::InvalidPhone,
        Code::NotFound => Word::NoActivation,
        Code::CancelTooEarly => Word::EarlyCancelDenied,
        Code::SmsAlreadyReceived | Code::NoSmsYet | Code::ActivationEnded => Word::BadStatus,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::dialects::smsactivate::answers::{error, Wire};

    #[test]
    fn words() {
        assert_eq!(
            Word::WrongMaxPrice(Money::parse_decimal("0.05").unwrap()).text(),
            "WRONG_MAX_PRICE:0.05"
        );
        assert_eq!(Word::IncorrectStatus.text(), "INCORECT_STATUS");
        assert_eq!(
            error(&Word::NoBalance, false),
            Wire::Text("NO_BALANCE".into())
        );
        assert_eq!(
            error(&Word::NoNumbers, true).body(),
            r#"{"message":"NO_NUMBERS","status":"error"}"#
        );
        assert_eq!(
            Wire::Text("x".into()).content_type(),
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn app_errors_as_words() {
        assert_eq!(
            word_for(Code::InsufficientFunds, false),
            Some(Word::NoBalance)
        );
        assert_eq!(word_for(Code::UnknownCountry, false), Some(Word::NoNumbers));
        assert_eq!(word_for(Code::NotOffered, true), Some(Word::NoNumbers));
        assert_eq!(
            word_for(Code::UnknownService, false),
            Some(Word::BadService)
        );
        assert_eq!(word_for(Code::NotFound, false), Some(Word::NoActivation));
        assert_eq!(word_for(Code::NotFound, true), Some(Word::InvalidPhone));
        assert_eq!(
            word_for(Code::CancelTooEarly, false),
            Some(Word::EarlyCancelDenied)
        );
        assert_eq!(word_for(Code::NoSmsYet, false), Some(Word::BadStatus));
        assert_eq!(word_for(Code::Unauthorized, false), Some(Word::BadKey));
        assert_eq!(word_for(Code::Internal, false), None);
        assert_eq!(word_for(Code::RateLimited, false), None);
    }
}
