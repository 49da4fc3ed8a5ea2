//! Rate-limit glue: per-isolate counters (`domain::ratelimit`) seeded from and written back
//! to KV. The write happens after the response (`wait_until`) and its failure is ignored,
//! so a throttled KV write never fails the request it counts. A product request counts per
//! key (and IP) once this isolate has found its key live (`accounts::proven`); before that
//! its bucket stays in memory (no KV read or write for a token nobody knows), and while its
//! IP's requests with refused credentials (401) are past the limit, it is refused at once.
use super::server::Ctx;
use crate::app::accounts;
use crate::domain::crypto::sha256_hex;
use crate::domain::ratelimit::{counter_key, window_start, Counters, Decision, Group};
use std::cell::RefCell;
use std::collections::HashMap;
use worker::console_warn;

thread_local! {
    static COUNTERS: RefCell<Counters> = RefCell::new(Counters::default());
    /// Subjects this isolate has hashed (most requests come from a few callers).
    static SUBJECTS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Subjects remembered per isolate before the memo starts over.
const SUBJECTS_KEPT: usize = 4096;

/// Counters live for this long in KV: the window plus KV's minimum TTL margin.
const COUNTER_TTL_SECS: u64 = 120;

fn limit(ctx: &Ctx, group: Group) -> u32 {
    let c = &ctx.app.config;
    match group {
        Group::Public => c.rate_limit_public,
        Group::Product => c.rate_limit_product,
        Group::Auth => c.rate_limit_auth,
        Group::Admin => c.rate_limit_admin,
    }
}

/// Whom a group counts: the key hash + IP for product routes, the IP otherwise. Hashed, so
/// KV never holds an address or a key hash in the clear.
fn subject(ctx: &Ctx, group: Group) -> String {
    let raw = match (group, ctx.key_hash()) {
        (Group::Product, Some(hash)) => format!("{hash}|{}", ctx.ip),
        _ => ctx.ip.clone(),
    };
    hashed(raw)
}

/// A subject as KV holds it: hashed, so KV never holds an address or a key hash in the clear.
fn hashed(raw: String) -> String {
    SUBJECTS.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some(h) = memo.get(&raw) {
            return h.clone();
        }
        let mut h = sha256_hex(raw.as_bytes());
        h.truncate(32);
        if memo.len() >= SUBJECTS_KEPT {
            memo.clear();
        }
        memo.insert(raw, h.clone());
        h
    })
}

/// The counter of requests from this IP whose credential was refused.
fn refused_key(ctx: &Ctx) -> String {
    let subject = hashed(format!("refused|{}", ctx.ip));
    counter_key(Group::Product, &subject, window_start(ctx.app.now_ms))
}

/// After the answer: a product request whose credential was refused (401) counts against
/// its IP, so that tokens nobody knows share one bucket however many there are.
pub fn count_refused(ctx: &Ctx) {
    let (key, limit) = (refused_key(ctx), limit(ctx, Group::Product));
    COUNTERS.with(|c| c.borrow_mut().hit(&key, 0, limit, ctx.app.now_ms));
}

pub async fn check(ctx: &Ctx, group: Group) -> Decision {
    let unproven = group == Group::Product && ctx.key_hash().is_some_and(|h| !accounts::proven(h));
    if unproven {
        let (key, limit) = (refused_key(ctx), limit(ctx, group));
        let refused = COUNTERS.with(|c| c.borrow().exhausted(&key, limit, ctx.app.now_ms));
        if let Some(refused) = refused {
            return refused;
        }
    }
    let key = counter_key(group, &subject(ctx, group), window_start(ctx.app.now_ms));
    // The KV binding is looked up only when KV is used (once per window, ≤ 1/s per key).
    let mut base = 0;
    if !unproven && COUNTERS.with(|c| c.borrow().needs_base(&key)) {
        if let Ok(kv) = ctx.app.env.kv("RATE_LIMITS") {
            match kv.get(&key).text().await {
                Ok(v) => base = v.and_then(|v| v.parse().ok()).unwrap_or(0),
                Err(e) => console_warn!("rate counter read failed: {e}"),
            }
        }
    }
    let (decision, flush) = COUNTERS.with(|c| {
        c.borrow_mut()
            .hit(&key, base, limit(ctx, group), ctx.app.now_ms)
    });
    let flush = flush.filter(|_| !unproven);
    if let (Some(value), Ok(kv)) = (flush, ctx.app.env.kv("RATE_LIMITS")) {
        ctx.app.later(async move {
            let put = match kv.put(&key, value.to_string()) {
                Ok(builder) => builder.expiration_ttl(COUNTER_TTL_SECS).execute().await,
                Err(e) => Err(e),
            };
            if let Err(e) = put {
                console_warn!("rate counter write skipped: {e}");
            }
        });
    }
    decision
}
