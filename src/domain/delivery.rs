//! Wire formats of the real delivery providers, pure so they are tested natively: Twilio's
//! form-encoded Messages/Calls requests and its callback signature, TwiML that reads a code
//! aloud, Meta WhatsApp Cloud API template messages, and how each provider's answer is judged.
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn form_decode(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + every POST parameter's name and
/// value, sorted by name)).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    let mut data = String::from(url);
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(mut mac) => {
            mac.update(data.as_bytes());
            B64.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// TwiML that reads `code` digit by digit, twice, so a listener can write it down.
pub fn twiml_say_digits(intro: &str, code: &str) -> String {
    let digits: Vec<String> = code
        .chars()
        .filter(char::is_ascii_digit)
        .map(String::from)
        .collect();
    let spoken = xml_escape(&format!("{intro} {}.", digits.join(", ")));
    format!("<Response><Say>{spoken}</Say><Pause length=\"1\"/><Say>{spoken}</Say></Response>")
}

/// A WhatsApp Cloud API authentication-template message carrying `code` (the body parameter
/// and the copy-code button both need it).
pub fn whatsapp_template(
    to_e164: &str,
    template: &str,
    language: &str,
    code: &str,
) -> serde_json::Value {
    serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_e164.trim_start_matches('+'),
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": code}]},
                {
                    "type": "button", "sub_type": "url", "index": "0",
                    "parameters": [{"type": "text", "text": code}],
                }
            ]
        }
    })
}

/// What a provider's answer means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted; the provider's id for it.
    Sent(String),
    /// Worth another try (timeout, 429, 5xx).
    Retry(String),
    /// Definitely not sent; the provider's error code kept.
    Failed { code: String, message: String },
}

fn json_str(v: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i)?,
            Err(_) => cur.get(*p)?,
        };
    }
    match cur {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn judge(
    status: u16,
    body: &str,
    id_path: &[&str],
    code_path: &[&str],
    message_path: &[&str],
) -> Verdict {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    match status {
        200..=299 => match json_str(&v, id_path) {
            Some(id) => Verdict::Sent(id),
            None => Verdict::Retry(format!("HTTP {status} without a message id")),
        },
        429 | 500..=599 => Verdict::Retry(format!("HTTP {status}")),
        _ => Verdict::Failed {
            code: json_str(&v, code_path).unwrap_or_else(|| format!("http_{status}")),
            message: json_str(&v, message_path).unwrap_or_else(|| format!("HTTP {status}")),
        },
    }
}

/// Twilio answers `{"sid": …}` or `{"code": 21211, "message": …}`.
pub fn judge_twilio(status: u16, body: &str) -> Verdict {
    judge(status, body, &["sid"], &["code"], &["message"])
}

/// Meta answers `{"messages":[{"id": …}]}` or `{"error":{"code": 131026, "message": …}}`.
pub fn judge_whatsapp(status: u16, body: &str) -> Verdict {
    judge(
        status,
        body,
        &["messages", "0", "id"],
        &["error", "code"],
        &["error", "message"],
    )
}

/// Twilio's message statuses (status callback `MessageStatus`) → ours.
pub fn twilio_status(status: &str) -> Option<&'static str> {
    match status {
        "queued" | "accepted" | "scheduled" | "sending" => Some("queued"),
        "sent" | "delivered" | "read" => Some("sent"),
        "failed" | "undelivered" | "canceled" => Some("failed"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_signature_matches_twilios_documented_example() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            twilio_signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
    }

    #[test]
    fn forms_round_trip() {
        let body = form_encode(&[
            ("To", "+14155550100"),
            ("Body", "Your code is 123456 & more"),
        ]);
        assert_eq!(body, "To=%2B14155550100&Body=Your+code+is+123456+%26+more");
        assert_eq!(
            form_decode(body.as_bytes())[1],
            ("Body".to_string(), "Your code is 123456 & more".to_string())
        );
    }

    #[test]
    fn twiml_reads_digits_and_escapes() {
        let t = twiml_say_digits("Your <code> is", "4821");
        assert_eq!(
            t,
            "<Response><Say>Your &lt;code&gt; is 4, 8, 2, 1.</Say><Pause \
            length=\"1\"/><Say>Your &lt;code&gt; is 4, 8, 2, 1.</Say></Response>"
        );
    }

    #[test]
    fn whatsapp_template_carries_the_code() {
        let v = whatsapp_template("+14155550100", "otp_code", "en_US", "123456");
        assert_eq!(v["to"], "14155550100");
        assert_eq!(
            v["template"]["components"][0]["parameters"][0]["text"],
            "123456"
        );
        assert_eq!(v["template"]["language"]["code"], "en_US");
    }

    fn failed(code: &str, message: &str) -> Verdict {
        Verdict::Failed {
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn judges_provider_answers() {
        type Judge = fn(u16, &str) -> Verdict;
        let cases: [(Judge, u16, &str, Verdict); 5] = [
            (
                judge_twilio,
                201,
                r#"{"sid":"SM123","status":"queued"}"#,
                Verdict::Sent("SM123".into()),
            ),
            (
                judge_twilio,
                400,
                r#"{"code":21211,"message":"Invalid 'To' Phone Number"}"#,
                failed("21211", "Invalid 'To' Phone Number"),
            ),
            (
                judge_twilio,
                401,
                "not json",
                failed("http_401", "HTTP 401"),
            ),
            (
                judge_whatsapp,
                200,
                r#"{"messages":[{"id":"wamid.X"}]}"#,
                Verdict::Sent("wamid.X".into()),
            ),
            (
                judge_whatsapp,
                400,
                r#"{"error":{"code":131026,"message":"Message undeliverable"}}"#,
                failed("131026", "Message undeliverable"),
            ),
        ];
        for (judge, status, body, verdict) in cases {
            assert_eq!(judge(status, body), verdict, "{status} {body}");
        }
        assert!(matches!(judge_twilio(503, ""), Verdict::Retry(_)));
        assert!(matches!(judge_twilio(429, "{}"), Verdict::Retry(_)));
        assert_eq!(twilio_status("delivered"), Some("sent"));
        assert_eq!(twilio_status("undelivered"), Some("failed"));
        assert_eq!(twilio_status("weird"), None);
    }
}
