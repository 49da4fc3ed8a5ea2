//! Vonage Verify v2 status callbacks, signed as Vonage signs them: `Authorization: Bearer` a
//! JWT (HS256) under the application's signature secret, whose claims carry `iat`, a `jti`,
//! `iss: "Vonage"`, the `payload_hash` (SHA-256, hex, of the body as sent), the `api_key`
//! (the account) and the `application_id`. The secret is generated at registration, shown
//! once, and stored sealed under a key derived from the server key and the application's
//! id. Also the `event` callback's body (the `summary` is rendered by the statement that
//! decides it, `store::vonage`). Pure.
use super::crypto::{derived_key, from_hex, hmac_sha256, open, seal, sha256_hex, to_hex};
use super::time::rfc3339;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// The signer recorded with a callback event: `vonage:<application id>`.
pub const SIGNER_PREFIX: &str = "vonage:";

/// The signer of an application's callbacks.
pub fn signer(application_id: &str) -> String {
    format!("{SIGNER_PREFIX}{application_id}")
}

/// The application a recorded signer names, if it is a Vonage one.
pub fn signer_application(signer: &str) -> Option<&str> {
    signer
        .strip_prefix(SIGNER_PREFIX)
        .filter(|id| !id.is_empty())
}

/// A signature secret from 32 random bytes: 64 hex characters (Vonage's secrets are at least
/// 32 characters of letters and digits).
pub fn new_secret(random: &[u8; 32]) -> String {
    to_hex(random)
}

fn sealing_key(server_key: &str, application_id: &str) -> [u8; 32] {
    derived_key(server_key, "vonage-signature-secret", application_id, 1)
}

/// The secret as stored (hex of the sealed bytes; never the secret in the clear).
pub fn seal_secret(server_key: &str, application_id: &str, secret: &str) -> String {
    to_hex(&seal(
        &sealing_key(server_key, application_id),
        secret.as_bytes(),
    ))
}

/// The secret `seal_secret` sealed; `None` under another key or application, or altered.
pub fn open_secret(server_key: &str, application_id: &str, sealed: &str) -> Option<String> {
    let bytes = open(&sealing_key(server_key, application_id), &from_hex(sealed)?)?;
    String::from_utf8(bytes).ok()
}

/// Who signs a callback: the application, under its signature secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub application_id: String,
    pub secret: String,
}

/// The `Authorization` header's token for `body`, sent to the account `api_key`: issued at
/// `iat_s` (seconds) with the unique `jti`.
pub fn token(s: &Signer, (api_key, jti, iat_s): (&str, &str, i64), body: &str) -> String {
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let claims = json!({
        "iat": iat_s,
        "jti": jti,
        "iss": "Vonage",
        "payload_hash": sha256_hex(body.as_bytes()),
        "api_key": api_key,
        "application_id": s.application_id,
    });
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let signed = format!("{}.{}", part(&header), part(&claims));
    let mac = hmac_sha256(s.secret.as_bytes(), signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// What an `event` callback reports of one message of the workflow.
pub struct StepEvent<'a> {
    pub request_id: &'a str,
    pub channel: &'a str,
    /// `sent`: handed to the channel; `failed`: refused before it went out.
    pub status: &'a str,
    pub at_ms: i64,
}

/// The `event` callback's body (its `client_ref` is added from the request by the statement
/// that records it).
pub fn event_body(e: &StepEvent<'_>) -> Value {
    json!({
        "request_id": e.request_id,
        "triggered_at": rfc3339(e.at_ms),
        "type": "event",
        "channel": e.channel,
        "status": e.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(secret: &str, body: &str) -> String {
        let signer = Signer {
            application_id: "app-1".into(),
            secret: secret.into(),
        };
        token(&signer, ("acc_1", "j-1", 1_700_000_000), body)
    }

    #[test]
    fn a_token_is_hs256_over_its_parts_with_the_bodys_hash() {
        let body = r#"{"request_id":"r","status":"completed"}"#;
        let t = signed("s3cret", body);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
        };
        assert_eq!(decode(parts[0])["alg"], "HS256");
        let claims = decode(parts[1]);
        assert_eq!(claims["payload_hash"], sha256_hex(body.as_bytes()));
        assert_eq!(
            (
                &claims["iss"],
                &claims["api_key"],
                &claims["application_id"]
            ),
            (&json!("Vonage"), &json!("acc_1"), &json!("app-1"))
        );
        assert_eq!(
            (&claims["iat"], &claims["jti"]),
            (&json!(1_700_000_000), &json!("j-1"))
        );
        let mac = hmac_sha256(b"s3cret", format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap(), mac.to_vec());
        assert_ne!(t, signed("other", body));
        assert_ne!(t, signed("s3cret", "{}"));
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_application_and_key() {
        let secret = new_secret(&[7; 32]);
        assert_eq!(secret.len(), 64);
        let sealed = seal_secret("server", "app-1", &secret);
        assert!(!sealed.contains(&secret));
        assert_eq!(
            open_secret("server", "app-1", &sealed),
            Some(secret.clone())
        );
        assert_eq!(open_secret("server", "app-2", &sealed), None);
        assert_eq!(open_secret("other", "app-1", &sealed), None);
        assert_eq!(open_secret("server", "app-1", "zz"), None);
    }

    #[test]
    fn a_signer_names_its_application() {
        assert_eq!(signer("app-1"), "vonage:app-1");
        assert_eq!(signer_application("vonage:app-1"), Some("app-1"));
        assert_eq!(signer_application("vonage:"), None);
        assert_eq!(signer_application("whsec"), None);
        let e = event_body(&StepEvent {
            request_id: "r",
            channel: "voice",
            status: "sent",
            at_ms: 0,
        });
        assert_eq!(e["type"], "event");
        assert_eq!(e["triggered_at"], "1970-01-01T00:00:00Z");
    }
}
