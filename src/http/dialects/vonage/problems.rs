//! Vonage's errors: RFC 7807 problem details (`application/problem+json`,
//! `{type, title, detail, instance}`), with Vonage's own types and titles. Pure.
use crate::domain::error::{AppError, Code};
use crate::domain::vonage_jwt::JwtError;
use crate::http::reply::Reply;
use serde_json::{json, Value};

pub const PROBLEM_JSON: &str = "application/problem+json";
const ERRORS: &str = "https://www.developer.vonage.com/api-errors";

/// One of Vonage's problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    InvalidCode,
    NotFound,
    /// Concurrent verifications to the same number, or the request already done.
    Conflict,
    AlreadyDone,
    NoEvents,
    /// Too many wrong codes: the workflow is over.
    TooManyAttempts,
    Expired,
    InvalidParams,
    Throttled,
    Unauthorized,
    JwtExpired,
    LowBalance,
    Forbidden,
    FraudCheck,
    MethodNotAllowed,
    Internal,
}

/// Each problem's status, type (after the errors page), title and default detail.
#[rustfmt::skip]
const PARTS: [(Problem, u16, &str, &str, &str); 16] = [
    (Problem::InvalidCode, 400, "/verify#invalid-code", "Invalid Code",
        "The code you provided does not match the expected value."),
    (Problem::NotFound, 404, "#not-found", "Not Found",
        "Request was not found or it has been verified already."),
    (Problem::Conflict, 409, "/verify#conflict", "Conflict",
        "Concurrent verifications to the same number are not allowed."),
    (Problem::AlreadyDone, 409, "/verify#conflict", "Conflict",
        "This request has already been completed."),
    (Problem::NoEvents, 409, "/verify#no-events", "Conflict",
        "There are no more events left to trigger."),
    (Problem::TooManyAttempts, 410, "/verify#expired", "Invalid Code",
        "An incorrect code has been provided too many times. Workflow terminated."),
    (Problem::Expired, 410, "/verify#expired", "Gone",
        "The request has expired."),
    (Problem::InvalidParams, 422, "#invalid-params", "Invalid params",
        "The value of one or more parameters is invalid."),
    (Problem::Throttled, 429, "#throttled", "Rate Limit Hit",
        "Please wait, then retry your request."),
    (Problem::Unauthorized, 401, "#unauthorized", "Unauthorized",
        "You did not provide correct credentials."),
    (Problem::JwtExpired, 401, "#jwt-expired", "Unauthorized",
        "The JWT provided has expired."),
    (Problem::LowBalance, 402, "#low-balance", "Low balance",
        "This request could not be performed due to your account balance being low."),
    (Problem::Forbidden, 403, "#forbidden", "Forbidden",
        "Your account does not have permission to perform this action."),
    (Problem::FraudCheck, 403, "/verify#fraud-check", "Forbidden",
        "The request was blocked by the fraud check."),
    (Problem::MethodNotAllowed, 405, "#method-not-allowed", "Method Not Allowed",
        "This method is not allowed on this path."),
    (Problem::Internal, 500, "#internal-error", "Internal Error",
        "An error occurred processing this request."),
];

impl Problem {
    fn parts(self) -> (u16, &'static str, &'static str, &'static str) {
        let found = PARTS.iter().find(|p| p.0 == self);
        found.map_or((500, "#internal-error", "Internal Error", ""), |p| {
            (p.1, p.2, p.3, p.4)
        })
    }

    pub fn status(self) -> u16 {
        self.parts().0
    }

    /// The problem's body (`detail`: ours, else Vonage's default wording).
    pub fn body(self, detail: Option<&str>, instance: &str) -> Value {
        let (_, kind, title, default) = self.parts();
        json!({
            "type": format!("{ERRORS}{kind}"),
            "title": title,
            "detail": detail.unwrap_or(default),
            "instance": instance,
        })
    }

    pub fn reply(self, detail: Option<&str>, instance: &str) -> Reply {
        problem_reply(self.status(), &self.body(detail, instance))
    }
}

pub fn problem_reply(status: u16, body: &Value) -> Reply {
    Reply::raw(status, PROBLEM_JSON, body.to_string())
}

/// A refused JWT.
pub fn of_jwt(e: JwtError) -> Problem {
    match e {
        JwtError::Expired => Problem::JwtExpired,
        _ => Problem::Unauthorized,
    }
}

/// The problem an operation's error is (a bad parameter names itself in
/// `invalid_parameters`).
pub fn of_error(e: &AppError) -> Problem {
    match e.code {
        Code::Unauthorized | Code::InvalidSignature => Problem::Unauthorized,
        Code::NotFound | Code::RouteNotFound => Problem::NotFound,
        Code::ResendTooSoon | Code::Conflict | Code::IdempotencyInProgress => Problem::Conflict,
        Code::RateLimited | Code::SendLimitReached => Problem::Throttled,
        Code::CheckAttemptsSpent => Problem::TooManyAttempts,
        Code::InsufficientFunds | Code::SpendCapReached => Problem::LowBalance,
        Code::Forbidden | Code::NotApproved | Code::InsufficientScope => Problem::Forbidden,
        Code::SendBlocked => Problem::FraudCheck,
        Code::MethodNotAllowed => Problem::MethodNotAllowed,
        Code::Internal | Code::DeliveryFailed => Problem::Internal,
        _ => Problem::InvalidParams,
    }
}

/// An error's body; a 422 lists the parameter at fault.
pub fn error_body(e: &AppError, instance: &str) -> (u16, Value) {
    let problem = of_error(e);
    let detail = match problem {
        Problem::Internal => None,
        _ => Some(e.message.as_str()),
    };
    let mut body = problem.body(detail, instance);
    if problem == Problem::InvalidParams {
        body["invalid_parameters"] =
            json!([{ "name": parameter_of(&e.message), "reason": e.message }]);
    }
    (problem.status(), body)
}

/// The parameter a message names (`'name' …`), else `body`.
fn parameter_of(message: &str) -> &str {
    message
        .split('\'')
        .nth(1)
        .filter(|p| !p.is_empty() && p.len() < 40)
        .unwrap_or("body")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_code_is_a_400_problem_with_vonages_type_and_title() {
        let body = Problem::InvalidCode.body(None, "i1");
        assert_eq!(
            body,
            json!({"type": "https://www.developer.vonage.com/api-errors/verify#invalid-code",
                   "title": "Invalid Code",
                   "detail": "The code you provided does not match the expected value.",
                   "instance": "i1"})
        );
        let reply = Problem::TooManyAttempts.reply(None, "i2");
        assert_eq!((reply.status, reply.content_type), (410, PROBLEM_JSON));
    }

    #[test]
    fn errors_map_to_vonages_statuses() {
        let status = |e: AppError| error_body(&e, "i").0;
        assert_eq!(status(AppError::unauthorized()), 401);
        assert_eq!(status(AppError::not_found("session")), 404);
        assert_eq!(status(AppError::of(Code::ResendTooSoon)), 409);
        assert_eq!(status(AppError::of(Code::RateLimited)), 429);
        assert_eq!(status(AppError::of(Code::InsufficientFunds)), 402);
        assert_eq!(status(AppError::internal("secret detail")), 500);
        let (s, body) = error_body(&AppError::invalid("'brand' is required"), "i");
        assert_eq!(s, 422);
        assert_eq!(body["invalid_parameters"][0]["name"], "brand");
        let (_, internal) = error_body(&AppError::internal("secret detail"), "i");
        assert!(!internal.to_string().contains("secret"));
        assert_eq!(of_jwt(JwtError::Expired), Problem::JwtExpired);
        assert_eq!(of_jwt(JwtError::Replayed), Problem::Unauthorized);
    }
}
