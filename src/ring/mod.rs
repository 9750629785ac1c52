//! The only channel between threads: fixed-size single-producer,
//! single-consumer rings, and the `Parker` that wakes a sleeping consumer.
//! Generic over what they carry (`net::message` between the main thread and
//! the IO threads), so the ring imports nothing of ours.
//!
//! Each IO thread has two rings, one per direction, each with exactly one
//! producer and one consumer. A consumer that is about to sleep says so in its
//! `Parker`; a producer wakes it (one `mio::Waker` write) only then, so a busy
//! consumer is never woken per message. A full ring is not an error: `push`
//! hands the message back and the producer does the work itself or keeps it
//! for a retry after draining its own ring.
//!
//! # The ring
//!
//! A dedicated single-producer single-consumer ring rather than a general
//! MPMC queue (crossbeam's `ArrayQueue`, used before): a push or a pop is
//! plain loads and stores, with no locked read-modify-write, and each side
//! reads the other side's cache line only when its cached copy of the other
//! index says the ring looks full (producer) or empty (consumer). The ring
//! bench (`benches/ring.rs`) measured both.
//!
//! Why it is correct, without a model checker:
//!
//! - `tail` counts pushes and is stored only by the producer; `head` counts
//!   pops and is stored only by the consumer. Both only grow (wrapping), and
//!   `0 <= tail - head <= cap` always holds: the producer stores `tail + 1`
//!   only after seeing `tail - head < cap`, and `head` can only have grown
//!   since; the consumer stores `head + 1` only after seeing `head < tail`.
//! - Slot `i & mask` is written by the producer only while `i - head < cap`
//!   (it is free: its previous value was popped), and read by the consumer
//!   only while `head <= i < tail` (it is full). Those ranges never overlap
//!   for the same slot at the same time, so no slot is read and written at
//!   once.
//! - Publication: the producer writes the slot, then stores `tail` with
//!   Release; the consumer loads `tail` with Acquire before reading the slot,
//!   so it sees the write. Symmetrically the consumer moves the value out,
//!   then stores `head` with Release; the producer loads `head` with Acquire
//!   before overwriting that slot, so the read happens before the overwrite.
//! - The cached copies (`Side::cached`) are only ever behind the real index,
//!   so they make a side see "full" or "empty" too early, never too late.
//! - One producer and one consumer: each side is claimed by the first
//!   thread that uses it and checked on every call (a thread-local token
//!   compared with the owner, no read-modify-write), so a second thread
//!   pushing or popping panics instead of racing. That is a programming
//!   error, not something input from the network can cause. A side is freed
//!   when its thread exits (a thread-local destructor stores 0 with Release;
//!   the next claim's Acquire makes everything the old owner did visible to
//!   the new one), so a role can pass to a new thread, never to two at once.
//! - A consumer going to sleep and a producer pushing at that moment: see
//!   `Parker`, which fences so that one of them sees the other.

use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Slots per ring, as in Valkey.
pub const RING_SLOTS: usize = 2048;

/// Keeps the producer's and the consumer's fields on separate cache lines
/// (128: adjacent-line prefetch pairs 64-byte lines on x86).
#[repr(align(128))]
struct Padded<T>(T);

/// One end of the ring.
struct Side {
    /// Pushes (producer) or pops (consumer) so far; stored only by this side.
    pos: AtomicUsize,
    /// This side's last reading of the other side's `pos`. Touched only by
    /// the owning thread.
    cached: Cell<usize>,
    /// Token of the thread acting as this side; 0 while free. Shared with
    /// that thread's `Claims`, which frees it when the thread exits.
    owner: Arc<AtomicUsize>,
}

impl Side {
    fn new() -> Self {
        Side {
            pos: AtomicUsize::new(0),
            cached: Cell::new(0),
            owner: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Checks that the calling thread holds this side, claiming it if it is
    /// free; panics if another thread holds it (see the module doc).
    #[inline]
    fn enter(&self, role: &str) {
        let me = thread_token();
        // Only the holder stores its own token, so a Relaxed load equal to
        // `me` is exact: no other thread can have taken the side since.
        if self.owner.load(Ordering::Relaxed) != me {
            self.claim(me, role);
        }
    }

    #[cold]
    fn claim(&self, me: usize, role: &str) {
        // Acquire: pairs with the Release of the previous holder's exit.
        if self
            .owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            panic!("Ring: second {role} thread; a ring has one producer and one consumer");
        }
        // If this thread's destructors are already running the side stays
        // claimed for good: never unsound, only less flexible.
        let _ = CLAIMS.try_with(|c| {
            let mut c = c.borrow_mut();
            c.token = me;
            // Forget sides whose ring is gone.
            c.held.retain(|o| Arc::strong_count(o) > 1);
            c.held.push(self.owner.clone());
        });
    }
}

/// The ring sides a thread holds, freed when the thread exits.
struct Claims {
    token: usize,
    held: Vec<Arc<AtomicUsize>>,
}

impl Drop for Claims {
    fn drop(&mut self) {
        for o in &self.held {
            // Release: this thread's ring operations happen before the next
            // holder's claim. A failure means the side was never ours.
            let _ = o.compare_exchange(self.token, 0, Ordering::Release, Ordering::Relaxed);
        }
    }
}

thread_local! {
    static CLAIMS: std::cell::RefCell<Claims> = const {
        std::cell::RefCell::new(Claims { token: 0, held: Vec::new() })
    };
}

/// A number unique to the calling thread for the life of the process
/// (never 0, never reused, unlike thread-local addresses).
#[inline]
fn thread_token() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    thread_local! {
        static TOKEN: Cell<usize> = const { Cell::new(0) };
    }
    TOKEN.with(|t| {
        let v = t.get();
        if v != 0 {
            return v;
        }
        let v = NEXT.fetch_add(1, Ordering::Relaxed);
        t.set(v);
        v
    })
}

/// A bounded single-producer single-consumer queue.
pub struct Ring<T> {
    prod: Padded<Side>,
    cons: Padded<Side>,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    /// `slots.len() - 1`; the slot count is a power of two.
    mask: usize,
    /// Items the ring holds when full (at most `slots.len()`).
    cap: usize,
}

// SAFETY: a `Ring` moves `T`s from one thread to another, so `T: Send` is
// required and sufficient. Shared use from two threads is sound because the
// only unsynchronized state (`Side::cached` and the slots) is accessed as
// the module doc sets out, with each side confined to one thread by
// `Side::enter`.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    pub fn new() -> Arc<Self> {
        Self::with_capacity(RING_SLOTS)
    }

    /// A ring holding up to `n` items (a ring of 0 is always full).
    pub fn with_capacity(n: usize) -> Arc<Self> {
        // A power-of-two slot count turns the index wrap into a mask.
        let size = n.max(1).next_power_of_two();
        let slots = (0..size)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        Arc::new(Ring {
            prod: Padded(Side::new()),
            cons: Padded(Side::new()),
            slots,
            mask: size - 1,
            cap: n,
        })
    }

    /// Enqueues `v`, or gives it back when the ring is full. Producer only.
    #[inline]
    pub fn push(&self, v: T) -> Result<(), T> {
        let p = &self.prod.0;
        p.enter("producer");
        let tail = p.pos.load(Ordering::Relaxed);
        if tail.wrapping_sub(p.cached.get()) >= self.cap {
            // Looks full: read the consumer's real position (Acquire: its
            // reads of the slots it freed happen before our overwrites).
            let head = self.cons.0.pos.load(Ordering::Acquire);
            p.cached.set(head);
            if tail.wrapping_sub(head) >= self.cap {
                return Err(v);
            }
        }
        // SAFETY: `tail - head < cap` so slot `tail` is free: the consumer
        // reads only slots below `tail`, and we are the only producer.
        unsafe { (*self.slots[tail & self.mask].get()).write(v) };
        p.pos.store(tail.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Dequeues the oldest item. Consumer only.
    #[inline]
    pub fn pop(&self) -> Option<T> {
        let c = &self.cons.0;
        c.enter("consumer");
        let head = c.pos.load(Ordering::Relaxed);
        if head == c.cached.get() {
            // Looks empty: read the producer's real position (Acquire: its
            // slot writes happen before our reads).
            let tail = self.prod.0.pos.load(Ordering::Acquire);
            c.cached.set(tail);
            if head == tail {
                return None;
            }
        }
        // SAFETY: `head < tail`, so slot `head` holds a value the producer
        // published (Release/Acquire on `tail`) and will not overwrite until
        // we store `head + 1`; we are the only consumer, so it is read once.
        let v = unsafe { (*self.slots[head & self.mask].get()).assume_init_read() };
        c.pos.store(head.wrapping_add(1), Ordering::Release);
        Some(v)
    }

    /// True when the ring held nothing at the moment of the call (from
    /// either side; a hint for the other side).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items in the ring at about the moment of the call (from either side).
    pub fn len(&self) -> usize {
        // `head` first: `tail` read later can only be larger, so the
        // difference cannot underflow; it can overshoot by the pushes made
        // in between, hence the clamp.
        let head = self.cons.0.pos.load(Ordering::Acquire);
        let tail = self.prod.0.pos.load(Ordering::Acquire);
        tail.wrapping_sub(head).min(self.cap)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: both threads are done with the ring.
        let head = *self.cons.0.pos.get_mut();
        let tail = *self.prod.0.pos.get_mut();
        let mut i = head;
        while i != tail {
            // SAFETY: slots in head..tail hold values never popped.
            unsafe { self.slots[i & self.mask].get_mut().assume_init_drop() };
            i = i.wrapping_add(1);
        }
    }
}

/// How a consumer thread is woken from its `mio::Poll`.
///
/// The consumer stores "sleeping" then reads the rings' positions; the
/// producer stores a ring position then reads "sleeping". At least one of
/// them must see the other's store, or the consumer sleeps on a full ring.
/// Ring positions are Release/Acquire only, which does not order a store
/// before a later load of another location (x86 lets the load pass the
/// store), so both sides put a SeqCst fence between their store and their
/// load: one per sleep and one per wake-up check, not one per message.
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
        fence(Ordering::SeqCst);
    }

    /// Consumer: back from (or gave up) sleeping.
    #[inline]
    pub fn awake(&self) {
        self.sleeping.store(false, Ordering::Relaxed);
    }

    /// Producer: after a push, wake the consumer if it may be asleep.
    #[inline]
    pub fn notify(&self) {
        fence(Ordering::SeqCst);
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

    /// Scales a loop count down under Miri, which runs these tests too
    /// (`cargo +nightly miri test --lib ring::`), many times slower.
    fn iters(n: u64) -> u64 {
        if cfg!(miri) {
            (n / 500).max(50)
        } else {
            n
        }
    }

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
        let n = iters(200_000);
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
    fn matches_a_model_through_many_wraps() {
        // One thread, fill levels going up and down across many laps of the
        // index, checked against a VecDeque; a capacity that is not a power
        // of two, so the ring is full before its slots are.
        let r = Ring::with_capacity(5);
        let mut model = std::collections::VecDeque::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = 0u32;
        for _ in 0..iters(100_000) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if !rng.is_multiple_of(3) {
                let res = r.push(next);
                if model.len() < 5 {
                    assert_eq!(res, Ok(()));
                    model.push_back(next);
                } else {
                    assert_eq!(res, Err(next));
                }
                next += 1;
            } else {
                assert_eq!(r.pop(), model.pop_front());
            }
            assert_eq!(r.len(), model.len());
            assert_eq!(r.is_empty(), model.is_empty());
        }
    }

    #[test]
    fn capacity_zero_is_always_full() {
        let r = Ring::with_capacity(0);
        assert_eq!(r.push(1), Err(1));
        assert_eq!(r.pop(), None);
        assert!(r.is_empty());
    }

    /// Counts drops, to catch a value dropped twice or never.
    struct Tracked(u64, Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn values_left_in_the_ring_are_dropped_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let r = Ring::with_capacity(8);
        for i in 0..5 {
            assert!(r.push(Tracked(i, drops.clone())).is_ok());
        }
        assert_eq!(r.pop().map(|t| t.0), Some(0));
        assert_eq!(r.pop().map(|t| t.0), Some(1));
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        drop(r);
        assert_eq!(drops.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn concurrent_stress_small_ring() {
        // A 3-item ring is full or empty almost all the time, so nearly every
        // push and pop goes through the slow path that reads the other
        // side's position; heap values catch a slot read before its write
        // is visible or read twice.
        let drops = Arc::new(AtomicUsize::new(0));
        let r: Arc<Ring<Tracked>> = Ring::with_capacity(3);
        let n = iters(300_000);
        let (p, d) = (r.clone(), drops.clone());
        let producer = thread::spawn(move || {
            for i in 0..n {
                let mut v = Tracked(i, d.clone());
                loop {
                    match p.push(v) {
                        Ok(()) => break,
                        Err(back) => {
                            v = back;
                            assert!(p.len() <= 3);
                            thread::yield_now();
                        }
                    }
                }
            }
        });
        let mut expect = 0;
        while expect < n {
            match r.pop() {
                Some(v) => {
                    assert_eq!(v.0, expect);
                    expect += 1;
                }
                None => {
                    assert!(r.len() <= 3);
                    thread::yield_now();
                }
            }
        }
        producer.join().unwrap();
        assert!(r.is_empty());
        assert_eq!(r.pop().map(|t| t.0), None);
        assert_eq!(drops.load(Ordering::Relaxed), n as usize);
    }

    #[test]
    fn a_second_producer_or_consumer_thread_panics() {
        let r: Arc<Ring<u8>> = Ring::with_capacity(4);
        assert!(r.push(1).is_ok());
        assert_eq!(r.pop(), Some(1));
        let r2 = r.clone();
        assert!(thread::spawn(move || r2.push(2)).join().is_err());
        let r2 = r.clone();
        assert!(thread::spawn(move || r2.pop()).join().is_err());
        // The rightful threads carry on.
        assert!(r.push(3).is_ok());
        assert_eq!(r.pop(), Some(3));
    }

    #[test]
    fn a_role_passes_to_a_new_thread_once_the_old_one_exits() {
        let r: Arc<Ring<u32>> = Ring::with_capacity(4);
        for i in 0..3 {
            let p = r.clone();
            thread::spawn(move || p.push(i)).join().unwrap().unwrap();
        }
        let c = r.clone();
        let got = thread::spawn(move || (c.pop(), c.pop())).join().unwrap();
        assert_eq!(got, (Some(0), Some(1)));
        assert_eq!(r.pop(), Some(2));
        assert!(r.push(3).is_ok());
        assert_eq!(r.pop(), Some(3));
    }

    #[test]
    fn no_wakeup_is_lost() {
        // The consumer sleeps whenever the ring is empty; the producer
        // pushes one item at a time and notifies. A lost wake-up leaves the
        // consumer asleep on a non-empty ring: the poll timeout is only a
        // guard so that such a bug fails the test instead of hanging it.
        let mut poll = mio::Poll::new().unwrap();
        let parker = Parker::new(mio::Waker::new(poll.registry(), mio::Token(1)).unwrap());
        let r: Arc<Ring<u32>> = Ring::with_capacity(4);
        let n = iters(20_000) as u32;
        let (p, pk) = (r.clone(), parker.clone());
        let producer = thread::spawn(move || {
            for i in 0..n {
                let mut v = i;
                while let Err(back) = p.push(v) {
                    v = back;
                    thread::yield_now();
                }
                pk.notify();
                if i.is_multiple_of(7) {
                    thread::yield_now();
                }
            }
        });
        let mut events = mio::Events::with_capacity(4);
        let mut expect = 0;
        while expect < n {
            while let Some(v) = r.pop() {
                assert_eq!(v, expect);
                expect += 1;
            }
            if expect == n {
                break;
            }
            parker.prepare_sleep();
            if !r.is_empty() {
                parker.awake();
                continue;
            }
            poll.poll(&mut events, Some(std::time::Duration::from_secs(20)))
                .unwrap();
            parker.awake();
            assert!(
                !events.is_empty() || r.is_empty(),
                "slept through a push (item {expect})"
            );
        }
        producer.join().unwrap();
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
