//! Criterion benchmarks of the pure functions on otpedge's request paths.
use criterion::{criterion_group, criterion_main, Criterion};
use otpedge::domain::crypto::{hmac_sha256, sha256_hex};
use otpedge::domain::money::Money;
use otpedge::domain::phone::{Phone, PlusSign};
use otpedge::http::routes::resolve;
use std::hint::black_box;

fn hot_paths(c: &mut Criterion) {
    c.bench_function("phone parse (E.164 with formatting)", |b| b.iter(|| Phone::parse(black_box("+1 (415) 555-0100"), PlusSign::Required)));
    c.bench_function("money parse \"0.0075\"", |b| b.iter(|| Money::parse_decimal(black_box("0.0075"))));
    c.bench_function("api key hash (SHA-256 hex)", |b| b.iter(|| sha256_hex(black_box(b"AbCdEfGhIjKlMnOpQrStUvWxYz012345"))));
    c.bench_function("code HMAC-SHA256", |b| b.iter(|| hmac_sha256(black_box(b"server-secret-0123456789abcdef"), black_box(b"otp_5Qk2AbCdEfGh:123456"))));
    c.bench_function("route resolve /v1/activation/{id}/status", |b| b.iter(|| resolve(black_box("GET"), black_box("/v1/activation/act_5Qk2AbCdEfGhIjKlMnOpQr/status"))));
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
