//! The fraud guard object's send and conversion counts (its prefix and country windows):
//! decided and changed in memory, then written to the object's storage after the answer, at
//! most one write per `FLUSH_MS` carrying every window changed meanwhile, each as it is when
//! written. Counts are not money: an object that ends between a change and its write loses
//! that many counts at most, and nothing on a send waits for the write. Blocks, the safe
//! list, the policy and the rate-limit tokens are written before the answer.
use super::fraud_guard::{json, key, FraudGuard};
use crate::domain::fraud::Guard;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;
use worker::{console_error, Delay};

/// How long a changed window waits for others to share its write.
const FLUSH_MS: u64 = 200;
/// The storage kinds of a prefix's and a country's window.
pub(super) const PREFIX: char = 'p';
pub(super) const COUNTRY: char = 'c';

/// The windows changed since the last write, and whether a write is on its way.
#[derive(Default)]
pub(super) struct Dirty {
    keys: RefCell<BTreeSet<(char, String)>>,
    flushing: Cell<bool>,
}

impl FraudGuard {
    /// Notes a changed window (`kind`: `PREFIX` or `COUNTRY`), written by the next flush.
    pub(super) fn count_changed(&self, kind: char, name: &str) {
        self.dirty.keys.borrow_mut().insert((kind, name.to_owned()));
        if self.dirty.flushing.replace(true) {
            return;
        }
        let storage = self.state.storage();
        let (guard, dirty) = (Rc::clone(&self.guard), Rc::clone(&self.dirty));
        self.state.wait_until(async move {
            loop {
                Delay::from(Duration::from_millis(FLUSH_MS)).await;
                let keys = std::mem::take(&mut *dirty.keys.borrow_mut());
                if keys.is_empty() {
                    dirty.flushing.set(false);
                    return;
                }
                let values = current(&guard.borrow(), &keys);
                if let Err(e) = storage.put_multiple(Value::Object(values)).await {
                    console_error!("fraud guard counts not written: {e}");
                }
            }
        });
    }
}

/// The windows named by `keys` as memory holds them now (one dropped meanwhile: none).
fn current(guard: &Guard, keys: &BTreeSet<(char, String)>) -> Map<String, Value> {
    let mut values = Map::new();
    for (kind, name) in keys {
        let windows = match *kind {
            PREFIX => &guard.prefixes,
            _ => &guard.countries,
        };
        if let Some(w) = windows.get(name) {
            values.insert(key(*kind, name), json(w));
        }
    }
    values
}
