//! Criterion benchmarks of the pure functions on otpedge's request paths.
use criterion::{criterion_group, criterion_main, Criterion};
use otpedge::domain::crypto::{hmac_sha256, sha256_hex};
use otpedge::domain::money::Money;
use otpedge::domain::otp::{code_mac, generate, matches};
use otpedge::domain::phone::{Phone, PlusSign};
use otpedge::domain::sms::extract_code;
use otpedge::domain::template::Template;
use otpedge::http::routes::resolve;
use std::hint::black_box;

const SECRET: &str = "server-secret-0123456789abcdef";
const SESSION: &str = "otp_5Qk2AbCdEfGhIjKlMnOpQr";

const TELEGRAM_SMS: &str = "Telegram code: 48213. You can also tap on this link to log in: \
    https://t.me/login/48213 Do not give this code to anyone.";
const TEMPLATE: &str = "Hi {name}, your {app} verification code is {code}. It expires in \
    {minutes} minutes. {{not a var}}";

fn hot_paths(c: &mut Criterion) {
    // OTP send: a fresh code and its MAC; verify: the MAC of the input, compared in constant time.
    c.bench_function("otp code generate (6 digits) + HMAC-SHA256", |b| {
        b.iter(|| {
            generate(black_box(6))
                .map(|code| code_mac(black_box(SECRET), black_box(SESSION), &code))
        })
    });
    let stored = code_mac(SECRET, SESSION, "123456");
    c.bench_function("otp verify: HMAC + constant-time compare", |b| {
        b.iter(|| {
            matches(
                black_box(SECRET),
                black_box(SESSION),
                black_box("123457"),
                black_box(&stored),
            )
        })
    });
    c.bench_function("code HMAC-SHA256 (raw)", |b| {
        b.iter(|| {
            hmac_sha256(
                black_box(SECRET.as_bytes()),
                black_box(b"otp_5Qk2AbCdEfGh:123456"),
            )
        })
    });
    c.bench_function("api key hash (SHA-256 hex)", |b| {
        b.iter(|| sha256_hex(black_box(b"AbCdEfGhIjKlMnOpQrStUvWxYz012345")))
    });
    c.bench_function("phone parse (E.164)", |b| {
        b.iter(|| Phone::parse(black_box("+14155550100"), PlusSign::Required))
    });
    c.bench_function("phone parse + country (no plus, PK)", |b| {
        b.iter(|| {
            Phone::parse(black_box("923001234567"), PlusSign::Optional)
                .map(|p| p.country().map(str::len))
        })
    });
    c.bench_function("code extraction from SMS (Telegram text)", |b| {
        b.iter(|| extract_code(black_box(TELEGRAM_SMS)))
    });
    c.bench_function("code extraction from SMS (dashed, 6 digits)", |b| {
        b.iter(|| {
            extract_code(black_box(
                "Your WhatsApp code 123-456. Don't share this code with others",
            ))
        })
    });
    let template = Template::parse(TEMPLATE).ok();
    let mut vars = serde_json::Map::new();
    vars.insert("name".into(), serde_json::json!("Ana"));
    vars.insert("app".into(), serde_json::json!("Acme"));
    vars.insert("minutes".into(), serde_json::json!(5));
    c.bench_function("template render (4 variables)", |b| {
        b.iter(|| {
            template
                .as_ref()
                .map(|t| t.render(black_box(Some("123456")), black_box(&vars)))
        })
    });
    c.bench_function("template parse + render", |b| {
        b.iter(|| {
            Template::parse(black_box("Your {app} code is {code}"))
                .map(|t| t.render(Some("123456"), &vars))
        })
    });
    c.bench_function("money parse \"0.0075\"", |b| {
        b.iter(|| Money::parse_decimal(black_box("0.0075")))
    });
    c.bench_function("route resolve /v1/activation/{id}/status", |b| {
        b.iter(|| {
            resolve(
                black_box("GET"),
                black_box("/v1/activation/act_5Qk2AbCdEfGhIjKlMnOpQr/status"),
            )
        })
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
