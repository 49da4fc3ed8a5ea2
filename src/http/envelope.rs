//! Front doors and their error envelopes. Each front door (a family of paths that one
//! client protocol speaks) renders an `AppError` its own way: status, content type and
//! body. The pipeline asks `for_path` which envelope a request's path answers in — before
//! routing too, so a 404 or a 429 already speaks the protocol of its path.
//!
//! A new front door adds an `Envelope` implementation and one line in `FRONT_DOORS`; a
//! text protocol that answers every error with status 200 (sms-activate) or a JSON shape of
//! its own (Twilio) needs nothing else here.
use super::error::status;
use super::reply::{Reply, JSON, TEXT};
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
        if let Some(reason) = e.reason {
            error["reason"] = json!(reason);
        }
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

/// sms-activate's `handler_api.php`. Its dialect answers protocol errors itself
/// (HTTP 200 and the protocol's word, JSON for rent actions); what reaches the front door is
/// plain text too, never a JSON envelope: a server-side failure is a 500 `ERROR_SQL` (clients
/// retry 5xx), the rate limit a 429 `TOO_MANY_REQUESTS` (with `Retry-After`), another method
/// a 405 `BAD_ACTION`, a body over 64 KiB a 413 `ERROR_SQL`; anything else a 200 with its
/// protocol word, else `ERROR_SQL` (sms-activate's "a parameter has an invalid value").
pub struct SmsActivate;

impl Envelope for SmsActivate {
    fn content_type(&self) -> &'static str {
        TEXT
    }

    fn error(&self, e: &AppError, _cx: &ErrorContext<'_>) -> Reply {
        use crate::http::dialects::smsactivate::words::{word_for, Word};
        let (code, text) = match e.code {
            Code::RateLimited => (429, "TOO_MANY_REQUESTS".to_owned()),
            Code::MethodNotAllowed | Code::RouteNotFound => {
                (status(e.code), Word::BadAction.text())
            }
            Code::PayloadTooLarge => (413, Word::ErrorSql.text()),
            Code::Internal => (500, Word::ErrorSql.text()),
            _ => (
                200,
                word_for(e.code, false).unwrap_or(Word::ErrorSql).text(),
            ),
        };
        Reply::text(code, text)
    }
}

/// sms-activate's handler: its route, its front door, and the one path where an API key is
/// read from the query string (`api_key`).
pub const SMS_ACTIVATE_PATH: &str = "/stubs/handler_api.php";

/// Twilio's envelope (`/v2/`, Twilio Verify): `{"code","message","more_info","status"}`,
/// which the Twilio SDKs raise as their own exception. Twilio's code where it has one (at
/// the same HTTP status: 20003, 20404, 60202, 60203, …), else otpedge's number. A 401 also
/// carries `WWW-Authenticate: Basic`, as Twilio's does.
pub struct Twilio;

impl Envelope for Twilio {
    fn error(&self, e: &AppError, cx: &ErrorContext<'_>) -> Reply {
        use super::dialects::twilio_verify::{error_body, ErrorCode};
        let status = status(e.code);
        let (code, message) = match ErrorCode::for_error(e.code.number(), e.reason) {
            Some(ErrorCode::Authenticate) if e.code == Code::Unauthorized => {
                (20003, "Authenticate".to_owned())
            }
            Some(ErrorCode::NotFound) => {
                let resource = cx.path.strip_prefix("/v2").unwrap_or(cx.path);
                let m = format!("The requested resource {resource} was not found");
                (ErrorCode::NotFound.code(), m)
            }
            Some(code) => (code.code(), e.message.clone()),
            None => (e.code.number().parse().unwrap_or(2000), e.message.clone()),
        };
        let reply = Reply::json(status, &error_body(code, status, &message));
        if status == 401 {
            reply.with_header("WWW-Authenticate", "Basic realm=\"Twilio API\"".to_owned())
        } else {
            reply
        }
    }
}

/// Vonage's envelope (`/v2/verify`): RFC 7807 problems with Vonage's types and titles
/// (`dialects::vonage::problems`).
pub struct Vonage;

impl Envelope for Vonage {
    fn content_type(&self) -> &'static str {
        super::dialects::vonage::problems::PROBLEM_JSON
    }

    fn error(&self, e: &AppError, _cx: &ErrorContext<'_>) -> Reply {
        use super::dialects::vonage::problems::{error_body, problem_reply};
        let instance = crate::domain::ids::new_uuid().unwrap_or_default();
        let (status, body) = error_body(e, &instance);
        problem_reply(status, &body)
    }
}

/// 5sim's `/v1/user/*` and `/v1/guest/*`: errors are lower-case plain text, with 5sim's
/// words and statuses (`http::dialects::fivesim::errors`); JSON answers carry a bare
/// `application/json`.
pub struct FiveSim;

impl Envelope for FiveSim {
    fn content_type(&self) -> &'static str {
        super::reply::JSON_BARE
    }

    fn error(&self, e: &AppError, _cx: &ErrorContext<'_>) -> Reply {
        let (status, word) = super::dialects::fivesim::errors::word_for(e.code);
        Reply::text(status, word)
    }
}

/// Prelude's envelope (`/v2/verification…`): `{"code","message","type","request_id"}`,
/// Prelude's code for the condition where it has one (`dialects::prelude::errors`).
pub struct Prelude;

impl Envelope for Prelude {
    fn error(&self, e: &AppError, _cx: &ErrorContext<'_>) -> Reply {
        use super::dialects::prelude::errors::{error_body, prelude_code};
        let status = status(e.code);
        let request_id = crate::domain::ids::new_uuid().unwrap_or_default();
        let body = error_body(status, prelude_code(e.code), &e.message, None, &request_id);
        Reply::json(status, &body)
    }
}

/// Path prefix → front door; the first match wins, `House` answers the rest. A prefix
/// ending in `/` takes every path under it; another takes itself and the paths under it.
static FRONT_DOORS: &[(&str, &dyn Envelope)] = &[
    (SMS_ACTIVATE_PATH, &SmsActivate),
    (super::dialects::prelude::PATH_PREFIX, &Prelude),
    ("/v2/verify", &Vonage),
    ("/v2/", &Twilio),
    ("/api/public/", &NumberOtp),
    ("/api/internal/", &NumberOtp),
    ("/api/user/", &NumberOtp),
    ("/v1/user/", &FiveSim),
    ("/v1/guest/", &FiveSim),
];

/// The envelope a path answers in.
pub fn for_path(path: &str) -> &'static dyn Envelope {
    let fits = |prefix: &str| match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    };
    FRONT_DOORS
        .iter()
        .find(|(prefix, _)| fits(prefix))
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
    fn sms_activate_front_door_answers_plain_text() {
        let cx = |path| ErrorContext {
            path,
            method: "GET",
            now_ms: 0,
        };
        let door = for_path("/stubs/handler_api.php");
        let limited = door.error(
            &AppError::of(Code::RateLimited),
            &cx("/stubs/handler_api.php"),
        );
        assert_eq!(
            (limited.status, limited.body.as_str()),
            (429, "TOO_MANY_REQUESTS")
        );
        assert_eq!(limited.content_type, TEXT);
        let failed = door.error(
            &AppError::internal("D1 down"),
            &cx("/stubs/handler_api.php"),
        );
        assert_eq!((failed.status, failed.body.as_str()), (500, "ERROR_SQL"));
        let broke = door.error(
            &AppError::of(Code::InsufficientFunds),
            &cx("/stubs/handler_api.php"),
        );
        assert_eq!((broke.status, broke.body.as_str()), (200, "NO_BALANCE"));
        let method = door.error(
            &AppError::of(Code::MethodNotAllowed),
            &cx("/stubs/handler_api.php"),
        );
        assert_eq!((method.status, method.body.as_str()), (405, "BAD_ACTION"));
        assert_eq!(door.content_type(), TEXT);
    }

    #[test]
    fn vonage_answers_under_v2_verify_only() {
        let cx = ErrorContext {
            path: "/v2/verify/x",
            method: "POST",
            now_ms: 0,
        };
        for path in [
            "/v2/verify",
            "/v2/verify/abc",
            "/v2/verify/abc/next_workflow",
        ] {
            let reply = for_path(path).error(&AppError::unauthorized(), &cx);
            assert_eq!(reply.content_type, "application/problem+json", "{path}");
            assert_eq!(reply.status, 401);
        }
        for path in ["/v2/verification", "/v2/verifyx", "/v2/Services"] {
            let reply = for_path(path).error(&AppError::unauthorized(), &cx);
            assert_ne!(reply.content_type, "application/problem+json", "{path}");
        }
    }

    #[test]
    fn fivesim_envelope_speaks_plain_lower_case_words() {
        let cx = ErrorContext {
            path: "/v1/user/buy/activation/usa/any/telegram",
            method: "GET",
            now_ms: 0,
        };
        let door = for_path(cx.path);
        let answer = |code| {
            let r = door.error(&AppError::of(code), &cx);
            (r.status, r.content_type, r.body)
        };
        assert_eq!(
            answer(Code::NoNumbers),
            (200, TEXT, "no free phones".into())
        );
        assert_eq!(answer(Code::Unauthorized).0, 401);
        assert_eq!(answer(Code::RateLimited).0, 429);
        assert_eq!(door.content_type(), "application/json");
        assert_eq!(
            for_path("/v1/guest/prices").content_type(),
            "application/json"
        );
        assert_eq!(for_path("/v1/balance").content_type(), JSON);
    }

    #[test]
    fn twilio_envelope() {
        let v = |e: &AppError, path: &str| -> serde_json::Value {
            serde_json::from_str(&body(e, path, "POST", 0)).unwrap()
        };
        let unauthorized = v(&AppError::unauthorized(), "/v2/Services");
        assert_eq!(
            unauthorized,
            json!({"code": 20003, "message": "Authenticate", "status": 401,
                   "more_info": "https://www.twilio.com/docs/errors/20003"})
        );
        let missing = v(
            &AppError::not_found("verification"),
            "/v2/Services/VA1/VerificationCheck",
        );
        assert_eq!(missing["code"], 20404);
        assert_eq!(
            missing["message"],
            "The requested resource /Services/VA1/VerificationCheck was not found"
        );
        assert_eq!(
            v(&AppError::of(Code::CheckAttemptsSpent), "/v2/x")["code"],
            60202
        );
        assert_eq!(
            v(&AppError::of(Code::SendLimitReached), "/v2/x")["status"],
            429
        );
        assert_eq!(
            v(&AppError::of(Code::SendLimitReached), "/v2/x")["code"],
            60203
        );
        let poor = v(&AppError::of(Code::InsufficientFunds), "/v2/x");
        assert_eq!(
            (poor["code"].clone(), poor["status"].clone()),
            (json!(2007), json!(402))
        );
        assert_eq!(poor["more_info"], serde_json::Value::Null);
        let e = AppError::unauthorized();
        let cx = ErrorContext {
            path: "/v2/Services",
            method: "GET",
            now_ms: 0,
        };
        let reply = for_path("/v2/Services").error(&e, &cx);
        assert!(reply
            .headers
            .iter()
            .any(|(n, v)| *n == "WWW-Authenticate" && v.starts_with("Basic")));
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

    #[test]
    fn fraud_refusals_carry_their_reason_and_twilio_codes() {
        let e = AppError::blocked("low_conversion", "blocked");
        let v: serde_json::Value =
            serde_json::from_str(&body(&e, "/v1/otp/send", "POST", 0)).unwrap();
        assert_eq!(v["errors"][0]["reason"], "low_conversion");
        assert_eq!(
            (
                v["errors"][0]["code"].clone(),
                v["errors"][0]["status"].clone()
            ),
            ("2207".into(), 403.into())
        );
        let twilio = |reason| {
            let e = AppError::blocked(reason, "blocked");
            let v: serde_json::Value =
                serde_json::from_str(&body(&e, "/v2/Services/VA1/Verifications", "POST", 0))
                    .unwrap();
            (v["code"].as_u64(), v["status"].as_u64())
        };
        assert_eq!(twilio("geo"), (Some(60605), Some(403)));
        assert_eq!(twilio("velocity"), (Some(60410), Some(403)));
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
