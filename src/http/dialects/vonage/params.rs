//! A Vonage Verify v2 request's body, checked (`POST /v2/verify`): Vonage's fields, each
//! refused with its name (422 `invalid-params`). Pure.
use serde::Deserialize;

/// The channels Vonage names; the ones otpedge does not deliver on are refused by name.
const VONAGE_CHANNELS: [&str; 6] = [
    "sms",
    "whatsapp",
    "voice",
    "email",
    "silent_auth",
    "whatsapp_interactive",
];
pub const DEFAULT_TIMEOUT_S: i64 = 300;
pub const DEFAULT_CODE_LENGTH: i64 = 4;
const MAX_BRAND: usize = 16;
const MAX_CLIENT_REF: usize = 40;
const MAX_WORKFLOW: usize = 4;

/// The body (`locale` and fields otpedge does not use are accepted and ignored).
#[derive(Debug, Deserialize)]
pub struct NewRequest {
    pub brand: Option<String>,
    pub workflow: Option<Vec<WorkflowEntry>>,
    pub channel_timeout: Option<i64>,
    pub client_ref: Option<String>,
    pub code_length: Option<i64>,
    pub code: Option<String>,
    pub fraud_check: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct WorkflowEntry {
    pub channel: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
}

/// A request to start, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub brand: String,
    pub client_ref: Option<String>,
    /// Every step's `to` (one number for the whole workflow).
    pub to: String,
    pub from: Option<String>,
    /// The steps' channels, in order (the first is sent at once).
    pub channels: Vec<String>,
    pub channel_timeout: i64,
    pub code_length: usize,
    pub code: Option<String>,
    pub fraud_check: bool,
}

fn bad(name: &str, reason: &str) -> String {
    format!("'{name}' {reason}")
}

/// Checks the body; the error names the parameter at fault.
pub fn start(body: NewRequest) -> Result<Start, String> {
    let brand = body
        .brand
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| bad("brand", "is required"))?;
    if brand.chars().count() > MAX_BRAND {
        return Err(bad("brand", "must be at most 16 characters"));
    }
    let workflow = body.workflow.unwrap_or_default();
    if workflow.is_empty() || workflow.len() > MAX_WORKFLOW {
        return Err(bad("workflow", "must hold 1 to 4 steps"));
    }
    let mut channels = Vec::with_capacity(workflow.len());
    let mut to: Option<String> = None;
    for entry in &workflow {
        let channel = entry
            .channel
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !VONAGE_CHANNELS.contains(&channel.as_str()) {
            return Err(bad(
                "channel",
                "must be one of sms, whatsapp, voice, email, silent_auth, whatsapp_interactive",
            ));
        }
        let step_to = entry
            .to
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| bad("to", "is required"))?;
        if to.as_ref().is_some_and(|t| digits(t) != digits(&step_to)) {
            return Err(bad("to", "must be the same number in every workflow step"));
        }
        to = Some(step_to);
        channels.push(channel);
    }
    let channel_timeout = body.channel_timeout.unwrap_or(DEFAULT_TIMEOUT_S);
    if !(15..=900).contains(&channel_timeout) {
        return Err(bad("channel_timeout", "must be 15 to 900 seconds"));
    }
    let code_length = body.code_length.unwrap_or(DEFAULT_CODE_LENGTH);
    if !(4..=10).contains(&code_length) {
        return Err(bad("code_length", "must be 4 to 10"));
    }
    if let Some(code) = &body.code {
        let ok = (4..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(bad("code", "must be 4 to 10 letters or digits"));
        }
    }
    if body
        .client_ref
        .as_ref()
        .is_some_and(|r| r.len() > MAX_CLIENT_REF)
    {
        return Err(bad("client_ref", "must be at most 40 characters"));
    }
    Ok(Start {
        brand,
        to: to.unwrap_or_default(),
        from: workflow.first().and_then(|w| w.from.clone()),
        channels,
        channel_timeout,
        code_length: usize::try_from(code_length).unwrap_or(4),
        code: body.code,
        fraud_check: body.fraud_check.unwrap_or(true),
        client_ref: body.client_ref,
    })
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> NewRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_workflow_of_one_number_with_vonages_defaults() {
        let s = start(body(
            r#"{"brand":"Acme","workflow":[{"channel":"sms","to":"447700900000"},
                {"channel":"voice","to":"+447700900000"}]}"#,
        ))
        .unwrap();
        assert_eq!(s.channels, vec!["sms", "voice"]);
        assert_eq!(
            (s.channel_timeout, s.code_length, s.fraud_check),
            (300, 4, true)
        );
        assert_eq!(s.to, "+447700900000");
    }

    #[test]
    fn each_bad_field_is_named() {
        let err = |json: &str| start(body(json)).unwrap_err();
        let sms = r#"[{"channel":"sms","to":"447700900000"}]"#;
        assert!(err(&format!(r#"{{"workflow":{sms}}}"#)).starts_with("'brand'"));
        assert!(err(r#"{"brand":"A","workflow":[]}"#).starts_with("'workflow'"));
        assert!(err(r#"{"brand":"A"}"#).starts_with("'workflow'"));
        assert!(
            err(r#"{"brand":"A","workflow":[{"channel":"fax","to":"1"}]}"#)
                .starts_with("'channel'")
        );
        assert!(err(r#"{"brand":"A","workflow":[{"channel":"sms"}]}"#).starts_with("'to'"));
        let two = r#"[{"channel":"sms","to":"1"},{"channel":"voice","to":"2"}]"#;
        assert!(err(&format!(r#"{{"brand":"A","workflow":{two}}}"#)).starts_with("'to'"));
        for (field, value) in [
            ("channel_timeout", "14"),
            ("channel_timeout", "901"),
            ("code_length", "3"),
            ("code_length", "11"),
            ("code", "\"12\""),
            ("code", "\"12-45\""),
        ] {
            let json = format!(r#"{{"brand":"A","workflow":{sms},"{field}":{value}}}"#);
            assert!(
                err(&json).starts_with(&format!("'{field}'")),
                "{field}={value}"
            );
        }
        let long = format!(r#"{{"brand":"{}","workflow":{sms}}}"#, "b".repeat(17));
        assert!(err(&long).starts_with("'brand'"));
    }
}
