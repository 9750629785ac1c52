//! A counting global allocator: `System`, plus a live byte count for INFO
//! `used_memory` and MEMORY commands.
//!
//! Every allocation and free adjusts a counter, so the counter must not
//! become a point of contention between the main thread and the IO threads
//! (which allocate and free replies and lazily freed values all the time).
//! The count is therefore split into cache-line padded shards. The first
//! `SHARDS` threads to allocate each own one shard for good and are its
//! only writer, so they update it with a plain load and store: a locked
//! read-modify-write costs about 20 cycles, and a script run alone
//! allocates and frees some 40 times. Threads after those share one more
//! shard, updated atomically. A shard can go negative (memory allocated on
//! one thread and freed on another): only the sum means anything.
//!
//! The peak is not tracked per allocation (that would need a shared
//! compare-and-swap on every call): `update_peak` folds the current total
//! into it. INFO calls it when it runs; a peak reached and left between
//! two INFO calls is therefore missed (the cron could call it too).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// Number of owned shards: more than the threads a server runs at once
/// (main, up to 15 IO threads, the lazy freer, a save or rewrite), with
/// room for the short-lived threads a long life spawns.
const SHARDS: usize = 64;
/// The shard every thread past the first `SHARDS` shares.
const SHARED: usize = SHARDS;

/// One counter per cache line pair (128 bytes: adjacent-line prefetching
/// on x86 pulls lines in pairs), so two threads never share a line.
#[repr(align(128))]
struct Shard(AtomicI64);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Shard = Shard(AtomicI64::new(0));
static COUNTS: [Shard; SHARDS + 1] = [ZERO; SHARDS + 1];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A const initializer and a type without Drop: reading it never
    // allocates and stays valid while the thread is torn down.
    static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Adds `delta` to the calling thread's shard.
#[inline]
fn count(delta: i64) {
    let i = MY_SHARD
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_SHARD.fetch_add(1, Ordering::Relaxed).min(SHARED);
                s.set(i);
            }
            i
        })
        .unwrap_or(SHARED);
    let c = &COUNTS[i].0;
    if i == SHARED {
        c.fetch_add(delta, Ordering::Relaxed);
    } else {
        // This thread is the shard's only writer (`NEXT_SHARD` hands each
        // index out once): no update can be lost between the two steps.
        c.store(
            c.load(Ordering::Relaxed).wrapping_add(delta),
            Ordering::Relaxed,
        );
    }
}

/// The global allocator: `System` with byte counting.
pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (hence from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds
        // `realloc`'s contract for `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Bytes currently allocated through the global allocator.
pub fn allocated() -> usize {
    let sum: i64 = COUNTS.iter().map(|s| s.0.load(Ordering::Relaxed)).sum();
    sum.max(0) as usize
}

/// Folds the current total into the peak and returns `(current, peak)`.
pub fn update_peak() -> (usize, usize) {
    let now = allocated();
    let before = PEAK.fetch_max(now, Ordering::Relaxed);
    (now, before.max(now))
}

/// Gives free heap pages back to the system. glibc keeps what was freed
/// inside its arenas (only the top of the main heap shrinks by itself), so
/// after a burst of connections or large replies the process would keep
/// that RSS forever; jemalloc, Valkey's allocator, purges such pages in the
/// background. It walks every arena's free lists: call it off the main
/// thread, and only after a real drop in use (`TrimPolicy`).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only inspects and releases free chunks under the
    // arenas' own locks; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Fixes glibc's thresholds for returning memory. By default glibc raises
/// its mmap threshold (up to 32 MiB) each time a large block is freed, and
/// its trim threshold to twice that: after one burst of large replies, up to
/// 64 MiB of freed memory per arena stays resident for good, where
/// `malloc_trim` cannot reach it (the free top of a thread's arena). Fixed
/// values keep blocks of 1 MiB and more in their own mappings (returned on
/// free) and let a free top over 1 MiB shrink. Called once at startup.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
    }
}

/// Decides when freed memory is worth giving back: when the live total has
/// fallen by a tenth (and at least 1 MiB) from the highest total seen since
/// the last release, or when the server has gone quiet for a while after
/// being busy (what a burst fragmented is returned once it is over). Steady
/// churn on a busy server never triggers it; load going away does.
#[derive(Debug, Default)]
pub struct TrimPolicy {
    high: usize,
    /// Activity since the last release.
    dirty: bool,
    quiet_ticks: u32,
    /// Held (`hold`) since the last release: only quiet releases.
    quiet_only: bool,
}

impl TrimPolicy {
    const MIN_DROP: usize = 1 << 20;

    /// Called every cron tick with the live total, whether anything
    /// happened since the last tick, and how many quiet ticks make "quiet"
    /// (a second's worth). True when it is time to release.
    pub fn should_release(&mut self, used: usize, active: bool, quiet_after: u32) -> bool {
        self.high = self.high.max(used);
        if active {
            self.dirty = true;
            self.quiet_ticks = 0;
        } else {
            self.quiet_ticks = self.quiet_ticks.saturating_add(1);
        }
        let drop = self.high - used;
        let fell = !self.quiet_only && drop >= Self::MIN_DROP && drop >= self.high / 10;
        let went_quiet = self.dirty && self.quiet_ticks >= quiet_after.max(1);
        if fell || went_quiet {
            self.high = used;
            self.dirty = false;
            self.quiet_only = false;
            return true;
        }
        false
    }

    /// A tick in which the server frees a backlog on the main thread (the
    /// active expiry of a million fields): no release now, and the memory
    /// that backlog frees goes back only once the server is quiet. The
    /// release walks the allocator's free lists under its lock, which the
    /// main thread's next allocation would wait for: 10-30 ms in the middle
    /// of a clear that is otherwise cut into 1 ms slices.
    pub fn hold(&mut self, used: usize) {
        self.high = self.high.max(used);
        self.dirty = true;
        self.quiet_ticks = 0;
        self.quiet_only = true;
    }
}

/// Starts the peak again from the current total (CONFIG RESETSTAT).
pub fn reset_peak() {
    PEAK.store(allocated(), Ordering::Relaxed);
}

/// The highest total seen by `update_peak`.
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    // These tests allocate tens of MB each: run them one at a time so one's
    // block does not show up in another's measurement.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn counts_allocations_and_frees() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // Other tests allocate concurrently in this process: use a block far
        // larger than their noise and compare with a margin.
        const BIG: usize = 64 << 20;
        const SLACK: usize = 8 << 20;
        let before = allocated();
        let v = vec![1u8; BIG];
        let during = allocated();
        assert!(during + SLACK >= before + BIG, "{before} -> {during}");
        let (_, peak) = update_peak();
        assert!(peak >= during.min(before + BIG - SLACK));
        drop(v);
        let after = allocated();
        assert!(after + BIG <= during + SLACK, "{during} -> {after}");
    }

    #[test]
    fn frees_on_another_thread_balance() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        const BIG: usize = 32 << 20;
        const SLACK: usize = 8 << 20;
        // The count is global and other tests of this binary allocate at
        // the same time: one attempt of five without their noise shows the
        // balance (a free on another thread never counted stays counted).
        let mut seen = Vec::new();
        for _ in 0..5 {
            let before = allocated();
            let v = vec![2u8; BIG];
            std::thread::spawn(move || drop(v)).join().unwrap();
            let after = allocated();
            if after <= before + SLACK {
                return;
            }
            seen.push((before, after));
        }
        panic!("never balanced: {seen:?}");
    }

    #[test]
    fn many_threads_churning_balance() {
        // More threads than owned shards, all allocating and freeing at
        // once: the owned shards' plain updates and the shared shard's
        // atomic ones must not lose a byte between them.
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        const SLACK: usize = 8 << 20;
        let before = allocated();
        let threads: Vec<_> = (0..SHARDS + 8)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0..2_000 {
                        kept.push(vec![t as u8; 4096 + i % 64]);
                        if kept.len() > 16 {
                            kept.swap_remove(i % 16);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let after = allocated();
        // 72 threads x 2,000 blocks of 4 KB is 590 MB churned: a lost update
        // per thousand would leave megabytes behind.
        assert!(
            after <= before + SLACK && before <= after + SLACK,
            "{before} -> {after}"
        );
    }

    #[test]
    fn realloc_is_counted() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        const BIG: usize = 32 << 20;
        const SLACK: usize = 8 << 20;
        let mut v: Vec<u8> = Vec::with_capacity(16);
        v.push(1);
        let before = allocated();
        v.reserve_exact(BIG);
        let after = allocated();
        assert!(after + SLACK >= before + BIG, "{before} -> {after}");
    }
}

#[cfg(test)]
mod trim_tests {
    use super::TrimPolicy;

    #[test]
    fn releases_after_a_real_drop_only() {
        let mut p = TrimPolicy::default();
        let mb = 1 << 20;
        // Growth and small dips on a busy server: nothing to give back.
        for used in [10 * mb, 50 * mb, 49 * mb, 60 * mb, 57 * mb] {
            assert!(!p.should_release(used, true, 10), "{used}");
        }
        // A tenth of the high mark gone: release, once.
        assert!(p.should_release(50 * mb, true, 10));
        assert!(!p.should_release(50 * mb, true, 10));
        // Measured from the new mark.
        assert!(!p.should_release(46 * mb, true, 10));
        assert!(p.should_release(44 * mb, true, 10));
        // Tiny heaps: a tenth is not enough without a whole MiB.
        let mut p = TrimPolicy::default();
        assert!(!p.should_release(4 * mb, true, 10));
        assert!(!p.should_release(3 * mb + mb / 2, true, 10));
        assert!(p.should_release(3 * mb, true, 10));
    }

    #[test]
    fn a_held_drop_is_released_only_when_quiet() {
        let mut p = TrimPolicy::default();
        let mb = 1 << 20;
        assert!(!p.should_release(100 * mb, true, 3));
        // A backlog frees half the heap over a few ticks.
        p.hold(80 * mb);
        p.hold(50 * mb);
        // Over, but clients keep the server busy: nothing yet.
        for _ in 0..10 {
            assert!(!p.should_release(50 * mb, true, 3));
        }
        // Quiet: one release.
        assert!(!p.should_release(50 * mb, false, 3));
        assert!(!p.should_release(50 * mb, false, 3));
        assert!(p.should_release(50 * mb, false, 3));
        // Then drops release as before.
        assert!(!p.should_release(50 * mb, true, 3));
        assert!(p.should_release(40 * mb, true, 3));
    }

    #[test]
    fn releases_once_when_the_server_goes_quiet() {
        let mut p = TrimPolicy::default();
        assert!(!p.should_release(1000, true, 3));
        assert!(!p.should_release(1000, false, 3));
        assert!(!p.should_release(1000, false, 3));
        assert!(p.should_release(1000, false, 3));
        // Quiet and nothing happened since: no more releases.
        for _ in 0..10 {
            assert!(!p.should_release(1000, false, 3));
        }
        // Activity again, then quiet again: one more.
        assert!(!p.should_release(1000, true, 3));
        assert!(!p.should_release(1000, false, 3));
        assert!(!p.should_release(1000, false, 3));
        assert!(p.should_release(1000, false, 3));
    }
}
