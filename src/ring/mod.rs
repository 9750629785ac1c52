//! The only contract between threads: fixed-size rings and the messages on them.
//!
//! Each IO thread has two rings, one per direction, each with exactly one
//! producer and one consumer. A consumer that is about to sleep says so in its
//! `Parker`; a producer wakes it (one `mio::Waker` write) only then, so a busy
//! consumer is never woken per message. A full ring is not an error: `push`
//! hands the message back and the producer does the work itself or keeps it
//! for a retry after draining its own ring.

pub mod message;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

pub use message::{ToIo, ToMain};

/// Slots per ring, as in Valkey.
pub const RING_SLOTS: usize = 2048;

/// A bounded single-producer single-consumer queue.
pub struct Ring<T> {
    q: ArrayQueue<T>,
}

impl<T> Ring<T> {
    pub fn new() -> Arc<Self> {
        Self::with_capacity(RING_SLOTS)
    }

    pub fn with_capacity(n: usize) -> Arc<Self> {
        Arc::new(Ring {
            q: ArrayQueue::new(n),
        })
    }

    /// Enqueues `v`, or gives it back when the ring is full.
    #[inline]
    pub fn push(&self, v: T) -> Result<(), T> {
        self.q.push(v)
    }

    #[inline]
    pub fn pop(&self) -> Option<T> {
        self.q.pop()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    pub fn len(&self) -> usize {
        self.q.len()
    }
}

/// How a consumer thread is woken from its `mio::Poll`.
pub struct Parker {
    waker: mio::Waker,
    sleeping: AtomicBool,
}

impl Parker {
    pub fn new(waker: mio::Waker) -> Arc<Self> {
        Arc::new(Parker {
            waker,
            sleeping: AtomicBool::new(false),
        })
    }

    /// Consumer: announce an intended sleep. The caller must check its rings
    /// once more after this and call `awake` instead of sleeping if any has
    /// work, so that a push racing with the announcement is never missed.
    #[inline]
    pub fn prepare_sleep(&self) {
        self.sleeping.store(true, Ordering::SeqCst);
    }

    /// Consumer: back from (or gave up) sleeping.
    #[inline]
    pub fn awake(&self) {
        self.sleeping.store(false, Ordering::Relaxed);
    }

    /// Producer: after a push, wake the consumer if it may be asleep.
    #[inline]
    pub fn notify(&self) {
        if self.sleeping.load(Ordering::SeqCst) && self.sleeping.swap(false, Ordering::SeqCst) {
            // A failed wake only delays the consumer until its next timeout.
            let _ = self.waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn full_ring_gives_the_item_back() {
        let r = Ring::with_capacity(2);
        assert!(r.push(1).is_ok());
        assert!(r.push(2).is_ok());
        assert_eq!(r.push(3), Err(3));
        assert_eq!(r.pop(), Some(1));
        assert!(r.push(3).is_ok());
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn concurrent_producer_consumer_keeps_order() {
        let r: Arc<Ring<u64>> = Ring::new();
        let n = 200_000u64;
        let p = r.clone();
        let producer = thread::spawn(move || {
            for i in 0..n {
                let mut v = i;
                loop {
                    match p.push(v) {
                        Ok(()) => break,
                        Err(back) => {
                            v = back;
                            std::hint::spin_loop();
                        }
                    }
                }
            }
        });
        let mut expect = 0;
        while expect < n {
            if let Some(v) = r.pop() {
                assert_eq!(v, expect);
                expect += 1;
            } else {
                thread::yield_now();
            }
        }
        producer.join().unwrap();
        assert!(r.is_empty());
    }

    #[test]
    fn parker_wakes_a_sleeping_poll() {
        let mut poll = mio::Poll::new().unwrap();
        let waker = mio::Waker::new(poll.registry(), mio::Token(7)).unwrap();
        let parker = Parker::new(waker);
        parker.prepare_sleep();
        let p2 = parker.clone();
        let t = thread::spawn(move || p2.notify());
        let mut events = mio::Events::with_capacity(4);
        poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))
            .unwrap();
        t.join().unwrap();
        assert!(events.iter().any(|e| e.token() == mio::Token(7)));
    }
}
