//! Fixed-window rate limiting (60 s windows aligned to the epoch).
//!
//! Counting is approximate by design (KV holds approximate rate counters):
//! each isolate counts its own hits in memory, seeded once per window from the KV value
//! other isolates wrote, and writes its running total back at most once per second per
//! key. No request waits on a KV write, and a refused write only makes the count
//! approximate. In one isolate (local dev, tests) the count is exact.
use std::collections::HashMap;

pub const WINDOW_SECS: u64 = 60;
/// An isolate writes one counter key back to KV at most this often.
pub const FLUSH_INTERVAL_MS: i64 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// No key: `/api/public/*`, unknown routes. Keyed per IP.
    Public,
    /// API-key routes (and sms-activate's `/stubs/handler_api.php`). Keyed per API-key hash + IP.
    Product,
    /// Dashboard login, `/api/v1/auth/*`. Keyed per IP.
    Auth,
    /// Operator routes, `/admin/*`. Keyed per IP.
    Admin,
}

impl Group {
    pub fn for_path(path: &str) -> Group {
        // A prefix counts with or without its trailing slash (`/api/verify` is
        // `/api/verify/`, as the route table reads it), never as part of a longer segment.
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/api/v1/auth") {
            Group::Auth
        } else if under("/admin") {
            Group::Admin
        } else if under("/v1")
            || under("/api/internal")
            || under("/api/user")
            || under("/api/verify")
            // sms-activate's handler (the key is in its query string).
            || path == "/stubs/handler_api.php"
            // Twilio Verify's v2 API.
            || under("/v2")
        {
            Group::Product
        } else {
            Group::Public
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Group::Public => "public",
            Group::Product => "product",
            Group::Auth => "auth",
            Group::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds at which the window resets.
    pub reset: u64,
    /// Seconds until a refused client may try again (≥ 1).
    pub retry_after: u64,
}

pub fn window_start(now_ms: i64) -> u64 {
    let secs = u64::try_from(now_ms.max(0) / 1000).unwrap_or(0);
    secs - secs % WINDOW_SECS
}

/// The KV key of one counter: group, subject (already hashed) and window.
pub fn counter_key(group: Group, subject: &str, window: u64) -> String {
    format!("rl:{}:{subject}:{window}", group.name())
}

/// The answer to a hit past the limit: none left until the window's end.
fn refusal(limit: u32, now_ms: i64) -> Decision {
    let reset = window_start(now_ms) + WINDOW_SECS;
    let now_secs = u64::try_from(now_ms.max(0) / 1000).unwrap_or(0);
    Decision {
        allowed: false,
        limit,
        remaining: 0,
        reset,
        retry_after: reset.saturating_sub(now_secs).max(1),
    }
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    /// What other isolates had counted when this isolate first saw the key.
    base: u32,
    /// Hits this isolate admitted.
    local: u32,
    last_flush_ms: Option<i64>,
}

/// One isolate's counters for the current window.
#[derive(Debug, Default)]
pub struct Counters {
    window: u64,
    map: HashMap<String, Counter>,
}

impl Counters {
    /// Whether the KV value must be read before `hit` (first sight of the key in this window).
    pub fn needs_base(&self, key: &str) -> bool {
        !self.map.contains_key(key)
    }

    /// Records a hit against `limit`. Returns the decision and, when it is time to write the
    /// counter back to KV, the value to write.
    /// The refusal a hit on `key` would answer now, without counting anything (None: a hit
    /// would be allowed).
    pub fn exhausted(&self, key: &str, limit: u32, now_ms: i64) -> Option<Decision> {
        let window = window_start(now_ms);
        let counter = self.map.get(key).filter(|_| window == self.window)?;
        (counter.base.saturating_add(counter.local) >= limit).then(|| refusal(limit, now_ms))
    }

    pub fn hit(
        &mut self,
        key: &str,
        base: u32,
        limit: u32,
        now_ms: i64,
    ) -> (Decision, Option<u32>) {
        let window = window_start(now_ms);
        if window != self.window {
            // Old windows' keys can never be hit again: drop them so memory stays bounded.
            self.map.clear();
            self.window = window;
        }
        let counter = self.map.entry(key.to_owned()).or_insert(Counter {
            base,
            local: 0,
            last_flush_ms: None,
        });
        let reset = window + WINDOW_SECS;
        let used = counter.base.saturating_add(counter.local);
        if used >= limit {
            return (refusal(limit, now_ms), None);
        }
        counter.local += 1;
        let used = used + 1;
        let flush = match counter.last_flush_ms {
            Some(t) if now_ms - t < FLUSH_INTERVAL_MS => None,
            _ => {
                counter.last_flush_ms = Some(now_ms);
                Some(used)
            }
        };
        (
            Decision {
                allowed: true,
                limit,
                remaining: limit - used,
                reset,
                retry_after: 0,
            },
            flush,
        )
    }
}

/// Paces a recurring write: up to `burst` may start at once, then one per `every_ms` while
/// the demand lasts (a token bucket as a "theoretical arrival time"). An OTP-session object
/// paces its D1 mirrors with it: an idle object mirrors at once, a busy one writes a batch
/// at most every `every_ms`, so the database's write load per object is bounded whatever the
/// check rate.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pacer {
    /// When the next write would be due if all earlier ones kept the pace.
    due_at: i64,
}

impl Pacer {
    /// How long the next write waits, from `now_ms` (0: at once); counts the write.
    pub fn wait_ms(&mut self, now_ms: i64, every_ms: i64, burst: i64) -> i64 {
        let due = self.due_at.max(now_ms);
        let go_at = (due - (burst - 1).max(0) * every_ms).max(now_ms);
        self.due_at = due + every_ms;
        go_at - now_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhausted_tells_a_refusal_without_counting() {
        let mut c = Counters::default();
        let now = 1_000_000;
        assert_eq!(c.exhausted("k", 2, now), None);
        c.hit("k", 0, 2, now);
        assert_eq!(c.exhausted("k", 2, now), None);
        c.hit("k", 0, 2, now);
        let refused = c.exhausted("k", 2, now).map(|d| d.allowed);
        assert_eq!(refused, Some(false));
        assert_eq!(c.exhausted("k", 2, now + 60_000), None, "a new window");
        assert!(!c.hit("k", 0, 2, now).0.allowed);
    }

    #[test]
    fn groups_by_path_with_or_without_the_trailing_slash() {
        for (path, group) in [
            ("/api/verify", Group::Product),
            ("/api/verify/", Group::Product),
            ("/api/verify/check", Group::Product),
            ("/api/verifyx", Group::Public),
            ("/admin", Group::Admin),
            ("/administrator", Group::Public),
            ("/api/v1/auth/login", Group::Auth),
            ("/v1", Group::Product),
            ("/api/public/prices", Group::Public),
            ("/healthz", Group::Public),
            ("/v1/balance", Group::Product),
            ("/api/internal/rent", Group::Product),
            ("/admin/accounts", Group::Admin),
            ("/nope", Group::Public),
            ("/stubs/handler_api.php", Group::Product),
        ] {
            assert_eq!(Group::for_path(path), group, "{path}");
        }
    }

    const T0: i64 = 1_700_000_020_000; // 40 s into a window

    #[test]
    fn counts_down_then_refuses_with_retry_after() {
        let mut c = Counters::default();
        let key = counter_key(Group::Product, "abc", window_start(T0));
        for expected_remaining in (0..3).rev() {
            let (d, _) = c.hit(&key, 0, 3, T0);
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
        }
        let (d, flush) = c.hit(&key, 0, 3, T0);
        assert!(!d.allowed);
        assert_eq!(flush, None);
        assert_eq!(d.retry_after, 20);
        assert_eq!(d.reset, 1_700_000_040);
    }

    #[test]
    fn base_from_other_isolates_counts_and_flushes_are_spaced() {
        let mut c = Counters::default();
        let key = "k";
        assert!(c.needs_base(key));
        let (d, flush) = c.hit(key, 5, 10, T0);
        assert_eq!((d.remaining, flush), (4, Some(6)));
        assert!(!c.needs_base(key));
        let (_, flush) = c.hit(key, 0, 10, T0 + 500);
        assert_eq!(flush, None, "second write inside a second is skipped");
        let (_, flush) = c.hit(key, 0, 10, T0 + 1_500);
        assert_eq!(flush, Some(8));
    }

    #[test]
    fn a_new_window_starts_from_zero() {
        let mut c = Counters::default();
        let (d, _) = c.hit("k1", 0, 1, T0);
        assert!(d.allowed);
        assert!(!c.hit("k1", 0, 1, T0).0.allowed);
        let later = T0 + 60_000;
        // A new window drops the old counters, so memory stays bounded.
        assert!(c.hit("k2", 0, 1, later).0.allowed);
        assert!(c.needs_base("k1"));
        assert!(c.hit("k1", 0, 1, later).0.allowed);
    }

    #[test]
    fn a_pacer_lets_a_burst_through_then_spaces_writes_and_recovers_when_idle() {
        let mut p = Pacer::default();
        let waits: Vec<i64> = (0..10).map(|_| p.wait_ms(1_000, 250, 8)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 0, 0, 0, 250, 500]);
        // Writes that kept the pace go at once, one per interval.
        assert_eq!(p.wait_ms(1_500, 250, 8), 250);
        // After a quiet spell the whole burst is available again.
        let later: Vec<i64> = (0..9).map(|_| p.wait_ms(60_000, 250, 8)).collect();
        assert_eq!(later, [0, 0, 0, 0, 0, 0, 0, 0, 250]);
        // A burst of one spaces every write.
        let mut single = Pacer::default();
        assert_eq!(single.wait_ms(5, 100, 1), 0);
        assert_eq!(single.wait_ms(5, 100, 1), 100);
        assert_eq!(single.wait_ms(50, 100, 1), 155);
    }
}
