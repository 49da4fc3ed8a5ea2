//! The one clock: every read of the current time goes through `now_ms`, so a test can move
//! time for the whole isolate (`advance`) instead of waiting for it.
use std::sync::atomic::{AtomicI64, Ordering};

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, as the runtime sees them, plus any test offset.
pub fn now_ms() -> i64 {
    system_ms().saturating_add(OFFSET_MS.load(Ordering::Relaxed))
}

/// Moves this isolate's clock forward (or back) by `ms`; returns the new offset.
pub fn advance(ms: i64) -> i64 {
    OFFSET_MS
        .fetch_add(ms, Ordering::Relaxed)
        .saturating_add(ms)
}

#[cfg(target_arch = "wasm32")]
fn system_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

#[cfg(not(target_arch = "wasm32"))]
fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_every_later_read() {
        let before = now_ms();
        let offset = advance(3_600_000);
        let after = now_ms();
        advance(-3_600_000);
        assert!(offset >= 3_600_000);
        assert!(after - before >= 3_600_000);
        assert!(now_ms() - before < 3_600_000);
    }
}
