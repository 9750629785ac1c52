//! Memory access amortization: before a batch runs, walk every key's path
//! through the keyspace (bucket line → entry block → value data) one step per
//! key in turn, issuing a prefetch at each step. The cache misses of the
//! batch's keys then overlap instead of being paid one after another.

use crate::state::State;

/// Hints the CPU to load the cache line at `p`. Never faults.
#[inline(always)]
pub fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint; it does not dereference in a way that can
    // fault or be observed, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Most keys tracked per batch; further keys are simply not prefetched.
pub const MAX_KEYS: usize = 64;

/// A key to prefetch: its db and bytes.
pub struct KeyRef<'a> {
    pub db: usize,
    pub key: &'a [u8],
}

/// Runs the three prefetch steps over all keys. Returns how many keys it
/// worked on (for tests and stats).
pub fn prefetch_keys(state: &State, keys: &[KeyRef<'_>]) -> usize {
    let keys = &keys[..keys.len().min(MAX_KEYS)];
    let mut hashes = [0u64; MAX_KEYS];
    for (i, k) in keys.iter().enumerate() {
        let db = &state.dbs[k.db];
        if db.is_empty() {
            continue;
        }
        hashes[i] = db.hash(k.key);
        if let Some(p) = db.bucket_addr(hashes[i]) {
            prefetch(p);
        }
    }
    for (i, k) in keys.iter().enumerate() {
        if let Some(p) = state.dbs[k.db].entry_addr(hashes[i]) {
            // A small entry's block (48 bytes) may straddle two lines.
            prefetch(p);
            prefetch(p.wrapping_add(47));
        }
    }
    for (i, k) in keys.iter().enumerate() {
        if let Some(p) = state.dbs[k.db].value_addr(hashes[i]) {
            prefetch(p);
        }
    }
    keys.len()
}
