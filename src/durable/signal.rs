//! In-memory wake-ups inside one Durable Object: requests that wait for a change (long-polls,
//! event streams) park here, and the object wakes them all when its state changes. A waiter
//! gives up on its own at its deadline (`wait_for`), so nothing is held past it.
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[derive(Default)]
struct Flag {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// Resolves once `Waiters::wake_all` runs after it was created.
pub struct Wake(Rc<Flag>);

impl Future for Wake {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fired.get() {
            return Poll::Ready(());
        }
        *self.0.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Every request of one object that is waiting for its next change.
#[derive(Default)]
pub struct Waiters(RefCell<Vec<Rc<Flag>>>);

impl Waiters {
    /// A future for the next change. Register BEFORE the last look at the state that decided
    /// to wait is left behind (the object is single-threaded: no change can slip between).
    pub fn next(&self) -> Wake {
        let flag = Rc::new(Flag::default());
        let mut list = self.0.borrow_mut();
        // Drop the ones whose request already gave up (only this list holds them).
        list.retain(|f| Rc::strong_count(f) > 1);
        list.push(flag.clone());
        Wake(flag)
    }

    pub fn wake_all(&self) {
        let list = std::mem::take(&mut *self.0.borrow_mut());
        for flag in list {
            flag.fired.set(true);
            if let Some(w) = flag.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }
}

/// Waits for `wake` or until `timeout` has passed, whichever comes first; true when woken.
pub async fn wait_for(wake: Wake, timeout: Duration) -> bool {
    use futures_util::future::{select, Either};
    let delay = worker::Delay::from(timeout);
    futures_util::pin_mut!(delay);
    matches!(select(wake, delay).await, Either::Left(_))
}
