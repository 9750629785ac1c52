//! Valkey's lazy-free counters (INFO `lazyfree_pending_objects` and
//! `lazyfreed_objects`): objects handed to another thread to be freed,
//! counted pending when handed over and freed once that thread has dropped
//! them. Which thread drops them (the lazy freer at `io-threads 1`, an IO
//! thread otherwise, or the main thread when the freer's ring is full) does
//! not matter: the count travels with the object (`Counted`).
//!
//! Only what Valkey counts is counted: a value deleted asynchronously
//! (UNLINK, the lazyfree-lazy-* deletions) whose free effort is above
//! `LAZYFREE_THRESHOLD` (`keyspace::Db::garbage`). Other garbage leaves the
//! main thread too, uncounted, since Valkey frees it in place.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::net::message::Garbage;

#[derive(Debug, Default)]
pub struct LazyfreeCounters {
    pending: AtomicU64,
    freed: AtomicU64,
}

impl LazyfreeCounters {
    /// Objects handed over and not freed yet.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// Objects freed since the start or the last CONFIG RESETSTAT.
    pub fn freed(&self) -> u64 {
        self.freed.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT: the freed count restarts; pending ones stay.
    pub fn reset_freed(&self) {
        self.freed.store(0, Ordering::Relaxed);
    }

    /// `value`, counted as `objects` pending until it is dropped.
    pub fn wrap<T: Send + 'static>(self: &Arc<Self>, value: T, objects: u64) -> Garbage {
        self.pending.fetch_add(objects, Ordering::Relaxed);
        Box::new(Counted {
            value: Some(value),
            objects,
            counters: self.clone(),
        })
    }
}

/// A value on its way to be freed; dropping it frees the value first, then
/// moves its count from pending to freed (so a test that waits for nothing
/// pending finds the memory released).
struct Counted<T> {
    value: Option<T>,
    objects: u64,
    counters: Arc<LazyfreeCounters>,
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        drop(self.value.take());
        let c = &self.counters;
        c.pending.fetch_sub(self.objects, Ordering::Relaxed);
        c.freed.fetch_add(self.objects, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_until_dropped_on_any_thread() {
        let c = Arc::new(LazyfreeCounters::default());
        let a = c.wrap(vec![1u8; 100], 1);
        let b = c.wrap(String::from("x"), 3);
        assert_eq!((c.pending(), c.freed()), (4, 0));
        drop(a);
        assert_eq!((c.pending(), c.freed()), (3, 1));
        std::thread::spawn(move || drop(b)).join().unwrap();
        assert_eq!((c.pending(), c.freed()), (0, 4));
        c.reset_freed();
        assert_eq!((c.pending(), c.freed()), (0, 0));
    }
}
