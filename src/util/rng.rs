//! The server's pseudo-random numbers: sampling for SRANDMEMBER, SPOP,
//! RANDOMKEY, eviction and the LFU counter. Fast and seedable; not for
//! secrets.

/// A small fast PRNG (xorshift64*) for random sampling; not for secrets.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform-ish in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

impl Default for Rng {
    fn default() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        Rng::new(seed ^ (&seed as *const u64 as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_sequence_and_below_stays_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for n in 1..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert!(b.below(n) < n);
            a.below(n);
        }
        // An even seed is made odd: xorshift from 0 would stay at 0.
        assert_ne!(Rng::new(0).next_u64(), 0);
    }
}
