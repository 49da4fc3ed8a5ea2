//! Property tests (proptest, native `cargo test`) for every parser and rule that reads client
//! input: no panic on any input, and the invariant each one promises. The route table and
//! URL splitting have theirs next to `resolve` (src/http/routes.rs), request bodies next to
//! their parser (src/http/body.rs).
use crate::domain::idempotency::{self, Decision, Record};
use crate::domain::money::{Money, MAX_OPERATION};
use crate::domain::pagination::Page;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::sms::{extract_code, is_fresh, parse_signature, signed_by};
use crate::domain::template::Template;
use crate::domain::{crypto, text, time, webhook};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// A result a property expects to be `Ok`; an error fails the case (with its value) instead
/// of panicking.
pub(crate) fn ok<T, E: std::fmt::Debug>(result: Result<T, E>) -> Result<T, TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("unexpected error: {e:?}")))
}

pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1000,
        ..ProptestConfig::default()
    }
}

/// Strings that mix what parsers care about with anything at all.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => "[-+0-9 .()a-z{}_=,\u{0}\u{202e}]{0,40}",
        1 => Just(String::new()),
        1 => "\u{0}[a-z]{0,10}",
    ]
}

// ---------------------------------------------------------------- phone numbers
proptest! {
    #![proptest_config(config())]

    #[test]
    fn phone_parse_never_panics(input in hostile()) {
        for plus in [PlusSign::Required, PlusSign::Optional] {
            if let Ok(p) = Phone::parse(&input, plus) {
                let digits = p.digits();
                prop_assert!(p.e164().starts_with('+'));
                prop_assert!((8..=15).contains(&digits.len()) && !digits.starts_with('0'));
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                // Normal form is a fixed point, with or without the '+'.
                prop_assert_eq!(Phone::parse(p.e164(), PlusSign::Required), Ok(p.clone()));
                prop_assert_eq!(Phone::parse(digits, PlusSign::Optional), Ok(p.clone()));
                if let Some(c) = p.country() {
                    prop_assert!(
                        c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()),
                        "{}",
                        c,
                    );
                }
            }
        }
    }

    /// A valid number with any separator or decimal part is refused, never read as another
    /// number.
    #[test]
    fn phone_with_anything_but_digits_is_refused(
        digits in "[1-9][0-9]{7,14}",
        at in 0usize..15,
        sep in prop_oneof![
            Just(" "), Just("-"), Just("."), Just("("), Just(")"), Just(".0"), Just("e1")
        ],
    ) {
        let cut = at.min(digits.len());
        let (a, b) = digits.split_at(cut);
        for pasted in [format!("+{a}{sep}{b}"), format!("{a}{sep}{b}")] {
            prop_assert!(Phone::parse(&pasted, PlusSign::Optional).is_err(), "{}", pasted);
            prop_assert!(Phone::parse(&pasted, PlusSign::Required).is_err(), "{}", pasted);
        }
        prop_assert_eq!(
            Phone::parse(&digits, PlusSign::Required),
            Err(crate::domain::phone::PhoneError::MissingPlus),
        );
    }

    /// The country is the one of the longest calling code: every +1 number has one.
    #[test]
    fn phone_country(rest in "[2-9][0-9]{9}") {
        let p = ok(Phone::parse(&format!("+1{rest}"), PlusSign::Required))?;
        prop_assert!(p.country().is_some());
    }
}

// ---------------------------------------------------------------- money
proptest! {
    #![proptest_config(config())]

    #[test]
    fn money_parse_never_panics(input in hostile()) {
        if let Ok(m) = Money::parse_decimal(&input) {
            prop_assert!(m.minor() >= 0 && m.minor() <= MAX_OPERATION.minor());
        }
        let _ = Money::parse_json(&Value::String(input));
    }

    /// `Money::parse(render(m)) == m`, for the decimal string and for the JSON number.
    #[test]
    fn money_round_trips(minor in 0..=MAX_OPERATION.minor()) {
        let m = Money::from_minor(minor);
        let text = m.to_decimal_string();
        prop_assert_eq!(Money::parse_decimal(&text), Ok(m), "{}", text);
        let number = ok(serde_json::to_string(&m.as_f64()))?;
        let value: Value = ok(serde_json::from_str(&number))?;
        prop_assert_eq!(Money::parse_json(&value), Ok(m), "{}", number);
        prop_assert_eq!(Money::parse_json(&json!(text)), Ok(m));
        prop_assert_eq!(m.credits(), minor / 100);
    }

    /// Negative amounts render with a sign (ledger debits) and never parse as a top-up.
    #[test]
    fn money_negative_renders_but_is_refused(minor in 1..=MAX_OPERATION.minor()) {
        let text = Money::from_minor(-minor).to_decimal_string();
        prop_assert!(text.starts_with('-'));
        prop_assert!(Money::parse_decimal(&text).is_err());
    }

    /// More than 4 significant decimals, or more than the maximum, is refused, never rounded.
    #[test]
    fn money_refuses_precision_it_cannot_hold(whole in 0u32..1000, frac in "[0-9]{4}[1-9]") {
        let precise = format!("{whole}.{frac}");
        let huge = format!("{}.00", MAX_OPERATION.minor() / 10_000 + 1 + i64::from(whole));
        prop_assert!(Money::parse_decimal(&precise).is_err());
        prop_assert!(Money::parse_decimal(&huge).is_err());
    }
}

// ---------------------------------------------------------------- SMS codes and signatures
proptest! {
    #![proptest_config(config())]

    /// A found code is 4–8 digits that appear in the text in that order.
    #[test]
    fn sms_code_extraction_never_panics(text in hostile()) {
        if let Some(code) = extract_code(&text) {
            prop_assert!(
                (4..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()),
                "{}",
                code,
            );
            let mut rest = text.chars().filter(char::is_ascii_digit);
            prop_assert!(code.chars().all(|c| rest.any(|d| d == c)), "{} not in {}", code, text);
        }
    }

    #[test]
    fn sms_code_is_found_in_words(
        before in "[A-Za-z :]{0,30}",
        code in "[0-9]{4,8}",
        after in "[A-Za-z .]{0,30}",
    ) {
        let text = format!("{before} {code} {after}");
        prop_assert_eq!(extract_code(&text), Some(code));
    }

    #[test]
    fn signature_header_never_panics(
        header in hostile(),
        now_ms in any::<i64>(),
        t in any::<i64>(),
    ) {
        if let Ok(sig) = parse_signature(&header) {
            prop_assert!(!sig.macs.is_empty() && sig.macs.iter().all(|m| m.len() == 32));
            let _ = is_fresh(&sig, now_ms);
        }
        let sig = ok(parse_signature(&format!("t={t},v1={}", "ab".repeat(32))))?;
        let _ = is_fresh(&sig, now_ms);
    }

    /// A header made the documented way verifies for that secret and body only, and only
    /// within the tolerance.
    #[test]
    fn signature_round_trip(
        secret in "[ -~]{1,40}",
        body in any::<Vec<u8>>(),
        other in any::<Vec<u8>>(),
        t in 0i64..4_000_000_000,
        skew in -600i64..600,
    ) {
        let mut message = format!("{t}.").into_bytes();
        message.extend_from_slice(&body);
        let mac = crypto::to_hex(&crypto::hmac_sha256(secret.as_bytes(), &message));
        let header = format!("t={t}, v1={}, v0=ignored", mac);
        let sig = ok(parse_signature(&header))?;
        prop_assert_eq!(sig.timestamp, t);
        prop_assert!(signed_by(&sig, secret.as_bytes(), &body));
        prop_assert_eq!(signed_by(&sig, secret.as_bytes(), &other), other == body);
        let wrong = format!("{secret}x");
        prop_assert!(!signed_by(&sig, wrong.as_bytes(), &body));
        prop_assert_eq!(is_fresh(&sig, (t + skew) * 1000), skew.abs() <= 300);
    }
}

// ---------------------------------------------------------------- templates
/// A template body built from literal text (braces escaped) and placeholders.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Var(String),
}

fn parts() -> impl Strategy<Value = Vec<Part>> {
    proptest::collection::vec(
        prop_oneof![
            "\\PC{1,12}".prop_map(Part::Text),
            "[A-Za-z0-9_]{1,10}".prop_map(Part::Var)
        ],
        1..8,
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn template_parse_and_render_never_panic(
        body in hostile(),
        vars in proptest::collection::btree_map("[a-z_]{1,6}", any::<String>(), 0..4),
        code in proptest::option::of("[0-9]{4,8}"),
    ) {
        if let Ok(t) = Template::parse(&body) {
            let vars: Map<String, Value> =
                vars.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let _ = t.render(code.as_deref(), &vars);
        }
    }

    /// parse(render-able body) names exactly its placeholders, and rendering fills them in
    /// order with the literal text (escaped braces come out single).
    #[test]
    fn template_round_trip(parts in parts(), code in "[0-9]{4,8}") {
        let mut body = String::new();
        let mut expected = String::new();
        let mut names = std::collections::BTreeSet::new();
        let value = |n: &str| if n == "code" { code.clone() } else { format!("<{n}>") };
        for p in &parts {
            match p {
                Part::Text(t) => {
                    body.push_str(&t.replace('{', "{{").replace('}', "}}"));
                    expected.push_str(t);
                }
                Part::Var(n) => {
                    body.push_str(&format!("{{{n}}}"));
                    expected.push_str(&value(n));
                    names.insert(n.clone());
                }
            }
        }
        prop_assume!(!body.trim().is_empty());
        let t = ok(Template::parse(&body))?;
        prop_assert_eq!(
            t.variables().into_iter().map(str::to_owned).collect::<std::collections::BTreeSet<_>>(),
            names.clone(),
        );
        let vars: Map<String, Value> =
            names.iter().filter(|n| *n != "code").map(|n| (n.clone(), json!(value(n)))).collect();
        prop_assert_eq!(t.render(t.has_code().then_some(code.as_str()), &vars), Ok(expected));
        // A variable the template does not use is refused, never ignored.
        let mut extra = vars.clone();
        extra.insert("zz_not_used_zz".into(), json!("x"));
        prop_assert!(t.render(Some(&code), &extra).is_err());
    }
}

// ---------------------------------------------------------------- Idempotency-Key
proptest! {
    #![proptest_config(config())]

    #[test]
    fn idempotency_key_rule(key in hostile()) {
        let valid =
            (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b));
        prop_assert_eq!(idempotency::validate_key(&key).is_ok(), valid);
    }

    #[test]
    fn idempotency_key_printable(key in "[!-~]{1,255}") {
        prop_assert!(idempotency::validate_key(&key).is_ok());
    }

    /// Two requests share a fingerprint only when method, path and body are all equal; a
    /// record replays only its own request.
    #[test]
    fn idempotency_fingerprint(
        a in ("GET|POST|PUT", "/[a-z/]{0,12}", any::<Vec<u8>>()),
        b in ("GET|POST|PUT", "/[a-z/]{0,12}", any::<Vec<u8>>()),
    ) {
        let fa = idempotency::fingerprint(&a.0, &a.1, &a.2);
        let fb = idempotency::fingerprint(&b.0, &b.1, &b.2);
        prop_assert_eq!(fa == fb, a == b);
        let record =
            Record {
                fingerprint: fa.clone(),
                created_at_ms: 0,
                response: Some((200, "{}".into())),
            };
        let expected =
            if a == b {
                Decision::Replay { status: 200, body: "{}".into() }
            } else {
                Decision::Mismatch
            };
        prop_assert_eq!(idempotency::decide(&record, &fb), expected);
    }
}

// ---------------------------------------------------------------- pagination
proptest! {
    #![proptest_config(config())]

    #[test]
    fn pagination_never_panics(
        page in proptest::option::of(hostile()),
        limit in proptest::option::of(hostile()),
        total in any::<u32>(),
    ) {
        if let Ok(p) = Page::parse(page.as_deref(), limit.as_deref()) {
            prop_assert!(p.page >= 1 && (1..=100).contains(&p.limit));
            let _ = p.offset();
            let pages = p.total_pages(u64::from(total));
            prop_assert!(pages * u64::from(p.limit) >= u64::from(total));
            prop_assert!(total == 0 || (pages - 1) * u64::from(p.limit) < u64::from(total));
        }
    }

    #[test]
    fn pagination_round_trips(page in 1u32..=1_000_000, limit in 1u32..=100) {
        let p = ok(Page::parse(Some(&page.to_string()), Some(&limit.to_string())))?;
        prop_assert_eq!((p.page, p.limit), (page, limit));
        prop_assert_eq!(p.offset(), u64::from(page - 1) * u64::from(limit));
    }

    /// Out of range is refused, not clamped.
    #[test]
    fn pagination_refuses_out_of_range(
        limit in 101u64..10_000_000_000,
        page in 1_000_001u64..10_000_000_000,
    ) {
        prop_assert!(Page::parse(None, Some(&limit.to_string())).is_err());
        prop_assert!(Page::parse(Some(&page.to_string()), None).is_err());
        prop_assert!(
            Page::parse(Some("0"), None).is_err() && Page::parse(None, Some("0")).is_err(),
        );
    }
}

// ---------------------------------------------------------------- webhook URLs
proptest! {
    #![proptest_config(config())]

    #[test]
    fn webhook_url_never_panics(url in hostile(), allow in any::<bool>()) {
        if webhook::validate_url(&url, allow).is_ok() {
            prop_assert!(
                url.to_ascii_lowercase().starts_with("https://")
                    || (allow && url.to_ascii_lowercase().starts_with("http://")),
            );
        }
        let _ = webhook::validate_url(&format!("https://{url}"), allow);
        let _ = webhook::validate_url(&format!("https://[{url}]:{url}/"), allow);
    }
}

// ---------------------------------------------------------------- times and labels
proptest! {
    #![proptest_config(config())]

    #[test]
    fn rfc3339_never_panics_and_round_trips(
        input in hostile(),
        ms in -62_000_000_000_000i64..253_000_000_000_000,
    ) {
        let _ = time::parse_rfc3339(&input);
        prop_assert_eq!(time::parse_rfc3339(&time::rfc3339(ms)), Some(ms.div_euclid(1000) * 1000));
        prop_assert_eq!(time::parse_rfc3339(&time::rfc3339_millis(ms)), Some(ms));
    }

    /// A label is stored trimmed, 1..=max characters, without a control character.
    #[test]
    fn label_rule(input in hostile(), max in 1usize..300) {
        if let Ok(l) = text::label("name", &input, max) {
            prop_assert!(
                !l.is_empty() && l.chars().count() <= max && !l.chars().any(char::is_control),
            );
            prop_assert_eq!(l.trim(), l.as_str());
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every id we issue could be a session id; nothing longer than a KV key can hold is.
    #[test]
    fn session_ids(input in hostile(), long in 65usize..2000) {
        prop_assert!(
            crate::domain::otp::could_be_session_id(&ok(crate::domain::ids::new_id("otp"))?),
        );
        prop_assert!(
            crate::domain::otp::could_be_session_id(&ok(crate::domain::ids::new_uuid())?),
        );
        prop_assert!(!crate::domain::otp::could_be_session_id(&"a".repeat(long)));
        if crate::domain::otp::could_be_session_id(&input) {
            prop_assert!(input.len() <= 64 && input.len() < 512);
        }
    }
}
