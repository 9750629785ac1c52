//! Argument vectors, and a per-thread cache of emptied ones.
//!
//! Every command arrives as a `Vec<Bytes>`. Allocating one per command and
//! freeing it after the command ran was the largest single cost of a
//! pipelined GET after the keyspace itself: batches of 16 allocations then
//! 16 frees overflow glibc's per-thread cache (7 blocks per size) every
//! time. The executor hands emptied vectors back here and the parser takes
//! them again; where the two run on the same thread (`io-threads 1`, or a
//! connection the main thread serves itself) no allocation is left. A
//! vector parsed on an IO thread is recycled into the main thread's cache,
//! which is bounded, so nothing piles up.

use std::cell::RefCell;

use bytes::Bytes;

/// One command: its name and arguments.
pub type Argv = Vec<Bytes>;

/// Vectors kept per thread; more are freed as before.
const CACHED: usize = 1024;
/// Larger vectors (MSET with many keys, say) are not kept.
const MAX_KEPT_CAPACITY: usize = 16;

thread_local! {
    static SPARE: RefCell<Vec<Argv>> = const { RefCell::new(Vec::new()) };
}

/// An empty argument vector with room for `n` arguments.
#[inline]
pub fn with_capacity(n: usize) -> Argv {
    if n <= MAX_KEPT_CAPACITY {
        let spare = SPARE
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
            .ok()
            .flatten();
        if let Some(mut v) = spare {
            v.reserve(n);
            return v;
        }
    }
    Vec::with_capacity(n)
}

/// Gives a used argument vector back (its arguments are dropped now).
#[inline]
pub fn recycle(mut v: Argv) {
    if v.capacity() == 0 || v.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    v.clear();
    let _ = SPARE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < CACHED {
                s.push(v);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_reused_and_bounded() {
        let mut v = with_capacity(2);
        v.push(Bytes::from_static(b"GET"));
        v.push(Bytes::from_static(b"k"));
        let p = v.as_ptr();
        recycle(v);
        let w = with_capacity(2);
        assert!(w.is_empty());
        assert_eq!(w.as_ptr(), p, "the same buffer comes back");
        recycle(w);
        // Reused even when more room is needed (grown in place or moved).
        let x = with_capacity(5);
        assert!(x.is_empty() && x.capacity() >= 5);
        // Big ones are left to the allocator.
        let cached = || SPARE.with(|s| s.borrow().len());
        let before = cached();
        recycle(with_capacity(100));
        assert_eq!(cached(), before);
        recycle(x);
        assert_eq!(cached(), before + 1);
    }
}
