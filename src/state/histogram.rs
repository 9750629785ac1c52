//! Per-command latency histograms, for LATENCY HISTOGRAM and INFO
//! latencystats.
//!
//! Valkey keeps one HDR histogram per command: nanoseconds from 1 ns to
//! 1 s at two significant decimal digits. We keep the same counter layout,
//! so both the power-of-two report and the percentiles come out as the same
//! numbers Valkey prints for the same durations. The layout: 23 buckets,
//! one per power of two, each split into 128 sub-buckets (the first into
//! 256), so a value's counter is found with a leading-zeros count and a
//! shift. A command's 3072 counters are allocated on its first call; after
//! that, recording is an index computation and two increments.

use std::fmt;

use super::stats::CmdId;

/// log2 of half the sub-buckets per bucket.
const SUB_HALF_MAG: u32 = 7;
const SUB_HALF: usize = 1 << SUB_HALF_MAG;
/// Enough buckets for 1 s in nanoseconds (256 << 22 > 1e9).
const BUCKETS: usize = 23;
const COUNTS_LEN: usize = (BUCKETS + 1) * SUB_HALF;

/// The range Valkey records (ns); durations outside are clamped into it.
pub const MIN_NS: u64 = 1;
pub const MAX_NS: u64 = 1_000_000_000;

/// The first reporting level of LATENCY HISTOGRAM (ns); each next one doubles.
const FIRST_LEVEL_NS: u64 = 1024;

/// The bucket (power of two) a value falls in.
#[inline]
fn bucket_of(v: u64) -> u32 {
    // Values below 256 share bucket 0, at unit resolution.
    63 - (v | (2 * SUB_HALF as u64 - 1)).leading_zeros() - SUB_HALF_MAG
}

#[inline]
fn index_of(v: u64) -> usize {
    let b = bucket_of(v);
    ((b as usize + 1) << SUB_HALF_MAG) + (v >> b) as usize - SUB_HALF
}

/// The smallest value counted at `idx`.
fn value_at(idx: usize) -> u64 {
    let mut bucket = (idx >> SUB_HALF_MAG) as i64 - 1;
    let mut sub = (idx & (SUB_HALF - 1)) as u64 + SUB_HALF as u64;
    if bucket < 0 {
        sub -= SUB_HALF as u64;
        bucket = 0;
    }
    sub << bucket
}

/// The smallest value sharing `v`'s counter.
fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_of(v);
    (v >> b) << b
}

/// The largest value sharing `v`'s counter.
fn highest_equivalent(v: u64) -> u64 {
    lowest_equivalent(v) + (1 << bucket_of(v)) - 1
}

/// One command's latency distribution.
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Histogram {{ total: {} }}", self.total)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; COUNTS_LEN].into_boxed_slice(),
            total: 0,
        }
    }
}

impl Histogram {
    /// Counts one call that took `usec` microseconds.
    #[inline]
    pub fn record_usec(&mut self, usec: u64) {
        let ns = usec.saturating_mul(1000).clamp(MIN_NS, MAX_NS);
        self.counts[index_of(ns)] += 1;
        self.total += 1;
    }

    /// Calls recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// LATENCY HISTOGRAM's `histogram_usec`: at each power of two from
    /// 1024 ns, (the level's inclusive upper bound in µs, calls at or below
    /// it), only where the count grew since the previous level. Calls
    /// above the last level inside the range (about 541 ms) are reported
    /// at the top of the range (1073741 µs), as Valkey's iterator does.
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let (mut cum, mut prev, mut idx) = (0u64, 0u64, 0usize);
        let mut level = FIRST_LEVEL_NS;
        while cum < self.total && idx < COUNTS_LEN {
            while idx < COUNTS_LEN && value_at(idx) <= level {
                cum += self.counts[idx];
                idx += 1;
            }
            // Past the last counter, the bound is that counter's top.
            let top = if idx < COUNTS_LEN {
                level
            } else {
                value_at(COUNTS_LEN - 1)
            };
            if cum > prev {
                out.push((highest_equivalent(top) / 1000, cum));
                prev = cum;
            }
            level = level.saturating_mul(2);
        }
        out
    }

    /// The latency (ns) at or below which `percentile`% of the calls fall,
    /// as the top of its counter's range (the bottom for percentile 0).
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let wanted = (((p / 100.0) * self.total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut cum = 0u64;
        for (idx, &c) in self.counts.iter().enumerate() {
            cum += c;
            if cum >= wanted {
                let v = value_at(idx);
                return if percentile == 0.0 {
                    lowest_equivalent(v)
                } else {
                    highest_equivalent(v)
                };
            }
        }
        0
    }
}

/// Every command's histogram, indexed by `CmdId`; a command that never
/// ran (since start or CONFIG RESETSTAT) has none.
#[derive(Debug, Default)]
pub struct CommandHistograms {
    /// The counters are boxed inside `Histogram`: an unused slot costs 24 bytes.
    per_cmd: Vec<Option<Histogram>>,
}

impl CommandHistograms {
    #[inline]
    pub fn record(&mut self, id: CmdId, usec: u64) {
        if id >= self.per_cmd.len() {
            self.per_cmd.resize_with(id + 1, || None);
        }
        self.per_cmd[id]
            .get_or_insert_with(Histogram::default)
            .record_usec(usec);
    }

    pub fn get(&self, id: CmdId) -> Option<&Histogram> {
        self.per_cmd.get(id).and_then(Option::as_ref)
    }

    /// (command id, histogram) for every command that has one, by id.
    pub fn iter(&self) -> impl Iterator<Item = (CmdId, &Histogram)> {
        self.per_cmd
            .iter()
            .enumerate()
            .filter_map(|(id, h)| h.as_ref().map(|h| (id, h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(usecs: &[u64]) -> Histogram {
        let mut h = Histogram::default();
        for &u in usecs {
            h.record_usec(u);
        }
        h
    }

    #[test]
    fn layout_round_trips() {
        // Every counter's smallest value maps back to it, in order.
        let mut last = 0;
        for idx in 0..COUNTS_LEN {
            let v = value_at(idx);
            assert_eq!(index_of(v), idx, "value {v}");
            assert!(idx == 0 || v > last);
            last = v;
        }
        assert!(index_of(MAX_NS) < COUNTS_LEN);
        assert_eq!(lowest_equivalent(255), 255);
        assert_eq!(highest_equivalent(256), 257);
        // Valkey's own numbers (INFO latencystats of 2 µs, 6 µs calls).
        assert_eq!(highest_equivalent(2000), 2007);
        assert_eq!(highest_equivalent(6000), 6015);
    }

    #[test]
    fn power_of_two_levels_as_valkey_reports_them() {
        // Calls of 3, 7 and 12 µs: one more at each bound 4, 8 and 16 µs
        // (the reply Valkey gave for three SETs: `4 1 8 2 16 3`).
        let h = hist(&[3, 7, 12]);
        assert_eq!(h.cumulative_usec(), vec![(4, 1), (8, 2), (16, 3)]);
        assert_eq!(h.total(), 3);
        // 0 and 1 µs both land under the first level (1031 ns).
        assert_eq!(hist(&[0, 1]).cumulative_usec(), vec![(1, 2)]);
        // A 32 µs level is 33 µs wide at this precision; 4.2 ms as 4227.
        assert_eq!(hist(&[30]).cumulative_usec(), vec![(33, 1)]);
        assert_eq!(hist(&[4200]).cumulative_usec(), vec![(4227, 1)]);
        // Above ~541 ms everything sits at the top of the range, and
        // durations past 1 s are clamped to it (Valkey: 541065 1 1073741 3).
        let h = hist(&[300_000, 700_000, 1_200_000]);
        assert_eq!(h.cumulative_usec(), vec![(541_065, 1), (1_073_741, 3)]);
        assert!(Histogram::default().cumulative_usec().is_empty());
    }

    #[test]
    fn percentiles_as_valkey_reports_them() {
        let h = hist(&[300_000, 700_000, 1_200_000]);
        // Valkey: p50=700448.767, p99=1002438.655, p0=299892.736.
        assert_eq!(h.value_at_percentile(50.0), 700_448_767);
        assert_eq!(h.value_at_percentile(99.0), 1_002_438_655);
        assert_eq!(h.value_at_percentile(100.0), 1_002_438_655);
        assert_eq!(h.value_at_percentile(0.0), 299_892_736);
        assert_eq!(h.value_at_percentile(0.0001), 301_989_887);
        let h = hist(&[6, 6, 12]);
        assert_eq!(h.value_at_percentile(50.0), 6015);
        assert_eq!(h.value_at_percentile(99.0), 12031);
    }

    #[test]
    fn command_histograms_allocate_on_first_call() {
        let mut hs = CommandHistograms::default();
        assert!(hs.get(5).is_none());
        hs.record(5, 10);
        hs.record(5, 10);
        hs.record(2, 1);
        assert_eq!(hs.get(5).map(Histogram::total), Some(2));
        let ids: Vec<CmdId> = hs.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec![2, 5]);
    }
}
