//! Front doors and their error envelopes. Each front door (a family of paths that one
//! client protocol speaks) renders an `AppError` its own way: status, content type and
//! body. The pipeline asks `for_path` which envelope a request's path answers in — before
//! routing too, so a 404 or a 429 already speaks the protocol of its path.
//!
//! A new front door adds an `Envelope` implementation and one line in `FRONT_DOORS`; a
//! text protocol that answers every error with status 200 (sms-activate) or a JSON shape of
//! its own (Twilio) needs nothing else here.
use super::error::status;
use super::reply::{Reply, JSON};
use crate::domain::error::{AppError, Code};
use crate::domain::time::{rfc3339, sql_datetime};
use serde_json::json;

/// The request an error answers, as envelopes may quote it.
pub struct ErrorContext<'a> {
    pub path: &'a str,
    pub method: &'a str,
    pub now_ms: i64,
}

pub trait Envelope: Sync {
    /// The content type of this front door's answers (replays use it too).
    fn content_type(&self) -> &'static str {
        JSON
    }

    /// The error answer. `Retry-After` (from `e.retry_after`) and `Allow` (405) are added
    /// by the pipeline.
    fn error(&self, e: &AppError, cx: &ErrorContext<'_>) -> Reply;
}

/// GetOTP's envelope, otpedge's default (`/v1`, `/admin`, `/api/verify/`, unknown paths):
/// `{"errors":[{timestamp,path,method,status,message,code}]}`. A refused OTP send also
/// says when the next one is allowed (`resend_available_at`).
pub struct House;

impl Envelope for House {
    fn error(&self, e: &AppError, cx: &ErrorContext<'_>) -> Reply {
        let mut error = json!({
            "timestamp": sql_datetime(cx.now_ms),
            "path": cx.path,
            "method": cx.method,
            "status": status(e.code),
            "message": e.message,
            "code": e.code.number(),
        });
        if matches!(e.code, Code::ResendTooSoon | Code::SendLimitReached) {
            let wait_secs = e.retry_after.unwrap_or(1);
            let at = cx.now_ms + i64::try_from(wait_secs).unwrap_or(0) * 1000;
            error["resend_available_at"] = json!(rfc3339(at));
        }
        Reply::json(status(e.code), &json!({ "errors": [error] }))
    }
}

/// NumberOTP's envelope (`/api/public`, `/api/internal`, `/api/user`):
/// `{"success":false,"error","code"}`.
pub struct NumberOtp;

impl Envelope for NumberOtp {
    fn error(&self, e: &AppError, _cx: &ErrorContext<'_>) -> Reply {
        let body = json!({"success": false, "error": e.message, "code": e.code.number()});
        Reply::json(status(e.code), &body)
    }
}

/// Path prefix → front door; the first match wins, `House` answers the rest.
static FRONT_DOORS: &[(&str, &dyn Envelope)] = &[
    ("/api/public/", &NumberOtp),
    ("/api/internal/", &NumberOtp),
    ("/api/user/", &NumberOtp),
];

/// The envelope a path answers in.
pub fn for_path(path: &str) -> &'static dyn Envelope {
    FRONT_DOORS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map_or(&House, |(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::reply::TEXT;

    /// The body of `e` as the front door of `path` renders it.
    fn body(e: &AppError, path: &str, method: &str, now_ms: i64) -> String {
        for_path(path)
            .error(
                e,
                &ErrorContext {
                    path,
                    method,
                    now_ms,
                },
            )
            .body
    }

    #[test]
    fn house_envelope_matches_getotp() {
        let body = body(
            &AppError::unauthorized(),
            "/api/verify/",
            "POST",
            1_755_475_200_000,
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            json!({"errors":[{"timestamp":"2025-08-18 \
                00:00:00","path":"/api/verify/","method":"POST","status":401,"message":"User Not \
                Authorized","code":"1136"}]})
        );
    }

    #[test]
    fn numberotp_envelope() {
        let body = body(
            &AppError::of(Code::InsufficientFunds),
            "/api/internal/rent",
            "POST",
            0,
        );
        assert_eq!(
            body,
            r#"{"code":"2007","error":"Insufficient balance","success":false}"#
        );
    }

    #[test]
    fn internal_detail_is_not_rendered() {
        let e = AppError::internal("D1_ERROR: secret detail");
        assert_eq!(status(e.code), 500);
        assert!(!body(&e, "/", "GET", 0).contains("secret"));
    }

    #[test]
    fn refused_sends_say_when_the_next_is_allowed() {
        let e = AppError::of(Code::ResendTooSoon).with_retry_after(30);
        let v: serde_json::Value =
            serde_json::from_str(&body(&e, "/v1/otp/send", "POST", 1_755_475_200_000)).unwrap();
        assert_eq!(
            v["errors"][0]["resend_available_at"],
            "2025-08-18T00:00:30Z"
        );
        assert_eq!(v["errors"][0]["status"], 429);
    }

    /// A text protocol that answers every error with status 200 and a word (the shape of
    /// sms-activate's `handler_api.php`) is one `Envelope` implementation.
    struct Words;

    impl Envelope for Words {
        fn content_type(&self) -> &'static str {
            TEXT
        }

        fn error(&self, e: &AppError, _cx: &ErrorContext<'_>) -> Reply {
            let word = match e.code {
                Code::InsufficientFunds => "NO_BALANCE",
                Code::Unauthorized => "BAD_KEY",
                _ => "ERROR_SQL",
            };
            Reply::text(200, word)
        }
    }

    #[test]
    fn a_front_door_chooses_status_content_type_and_body() {
        let cx = ErrorContext {
            path: "/stubs/handler_api.php",
            method: "GET",
            now_ms: 0,
        };
        let reply = Words.error(&AppError::of(Code::InsufficientFunds), &cx);
        assert_eq!(
            (reply.status, reply.content_type, reply.body.as_str()),
            (200, TEXT, "NO_BALANCE")
        );
        assert_eq!(Words.content_type(), TEXT);
    }

    #[test]
    fn dialect_by_path() {
        let is_numberotp =
            |p: &str| body(&AppError::unauthorized(), p, "GET", 0).contains("success");
        assert!(is_numberotp("/api/internal/balance"));
        assert!(!is_numberotp("/api/verify/"));
        assert!(!is_numberotp("/v1/balance"));
        assert!(!is_numberotp("/admin/accounts"));
    }
}
