//! The fraud guard object's Twilio Verify rate-limit counters (`domain::verify_limits`):
//! stored under `r:{key}` next to the guard's other state, loaded with it, and pruned by
//! the object's alarm, at most `PRUNE_BATCH` ended windows a pass, due when the earliest
//! window held ends.
use super::fraud_guard::{json, key, FraudGuard};
use crate::clock::now_ms;
use crate::domain::json;
use crate::domain::verify_limits::{Counter, Counters, PRUNE_BATCH};
use serde_json::{Map, Value};
use worker::{ListOptions, Result};

/// The storage kind of a counter.
const KIND: char = 'r';
/// Keys one storage delete takes.
const DELETE_CHUNK: usize = 128;

/// Adds the changed counters to the values a decision writes; when the earliest of them
/// ends (none: nothing changed).
pub(super) fn stage(values: &mut Map<String, Value>, changed: &[(String, Counter)]) -> Option<i64> {
    for (name, c) in changed {
        values.insert(key(KIND, name), json(c));
    }
    changed.iter().map(|(_, c)| c.until_ms).min()
}

impl FraudGuard {
    /// Makes sure the alarm is due by `at` (the end of a window just opened).
    pub(super) async fn prune_by(&self, at: Option<i64>) -> Result<()> {
        let Some(at) = at else {
            return Ok(());
        };
        if self.alarm_at.get().is_some_and(|due| due <= at) {
            return Ok(());
        }
        self.alarm_at.set(Some(at));
        self.state.storage().set_alarm((at - now_ms()).max(0)).await
    }

    /// The counters held: those in memory once the object loaded its state, else read from
    /// storage.
    async fn held(&self) -> Result<Option<Counters>> {
        if self.loaded.get() {
            return Ok(None);
        }
        let prefix = format!("{KIND}:");
        let options = ListOptions::new().prefix(&prefix);
        let stored = self.state.storage().list_with_options(options).await?;
        let mut counters = Counters::default();
        stored.for_each(&mut |value, k| {
            let (Some(k), Some(v)) = (k.as_string(), value.as_string()) else {
                return;
            };
            if let (Some(name), Ok(c)) = (k.strip_prefix(&prefix), json::read(&v)) {
                counters.map.insert(name.to_owned(), c);
            }
        });
        Ok(Some(counters))
    }

    /// One pass: removes up to `PRUNE_BATCH` ended windows, then sets the alarm again when
    /// counters remain (at once when ended ones remain).
    pub(super) async fn prune_counters(&self) -> Result<()> {
        self.alarm_at.set(None);
        let now = now_ms();
        let (gone, next) = match self.held().await? {
            // Loaded meanwhile: memory holds the counters.
            Some(mut stored) if !self.loaded.get() => {
                (stored.prune(now, PRUNE_BATCH), stored.next_end())
            }
            _ => {
                let mut counters = self.counters.borrow_mut();
                (counters.prune(now, PRUNE_BATCH), counters.next_end())
            }
        };
        let keys: Vec<String> = gone.iter().map(|name| key(KIND, name)).collect();
        for chunk in keys.chunks(DELETE_CHUNK) {
            self.state.storage().delete_multiple(chunk.to_vec()).await?;
        }
        self.prune_by(next.map(|at| at.max(now))).await
    }
}
