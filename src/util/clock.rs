//! A cheap monotonic clock for what the call path times on every command
//! (commandstats, slowlog, latency, a client's idle time): the CPU's
//! time-stamp counter where the kernel itself keeps time with it, as
//! Valkey's monotonic clock does ("X86 TSC" in INFO), and `Instant`
//! elsewhere.
//!
//! Reading the counter is one instruction; `Instant::now` goes through the
//! vDSO's `clock_gettime`, several times the cost, and a command is timed
//! twice (a script's commands too). The counter's rate is measured against
//! `Instant` once, the first time the clock is used (`init` at startup).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A point in time from [`Stamp::now`]; only differences mean anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(u64);

/// How stamps are taken, decided once.
enum Source {
    /// Counter ticks, and nanoseconds per tick as a 32.32 fixed-point
    /// number.
    #[cfg(target_arch = "x86_64")]
    Tsc { ns_per_tick_fp: u64 },
    /// Nanoseconds since this instant.
    Instant(Instant),
}

static SOURCE: OnceLock<Source> = OnceLock::new();

/// Decides the source (and measures the counter's rate) now rather than at
/// the first command: call once at startup.
pub fn init() {
    source();
}

/// What INFO `monotonic_clock` says, in Valkey's words.
pub fn describe() -> String {
    match source() {
        #[cfg(target_arch = "x86_64")]
        Source::Tsc { ns_per_tick_fp } => {
            let ticks_per_us = 1000.0 * (1u64 << 32) as f64 / (*ns_per_tick_fp).max(1) as f64;
            format!("X86 TSC @ {ticks_per_us:.2} ticks/us")
        }
        Source::Instant(_) => "POSIX clock_gettime".to_string(),
    }
}

fn source() -> &'static Source {
    SOURCE.get_or_init(pick)
}

fn pick() -> Source {
    #[cfg(target_arch = "x86_64")]
    if tsc_trusted() {
        if let Some(ns_per_tick_fp) = measure_tsc() {
            return Source::Tsc { ns_per_tick_fp };
        }
    }
    Source::Instant(Instant::now())
}

/// The kernel keeps time with the counter (so it is invariant and the
/// same on every core) and the CPU says its rate is constant.
#[cfg(target_arch = "x86_64")]
fn tsc_trusted() -> bool {
    let cs =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    if cs.map(|s| s.trim() != "tsc").unwrap_or(true) {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return false;
    };
    info.lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| {
            let mut f = l.split_whitespace();
            let (mut constant, mut nonstop) = (false, false);
            for w in &mut f {
                constant |= w == "constant_tsc";
                nonstop |= w == "nonstop_tsc";
            }
            constant && nonstop
        })
}

#[cfg(target_arch = "x86_64")]
fn rdtsc() -> u64 {
    // SAFETY: RDTSC exists on every x86_64 CPU and has no side effects.
    unsafe { std::arch::x86_64::_rdtsc() }
}

/// Nanoseconds per tick (32.32 fixed point), from the counter's advance
/// over 10 ms of `Instant` time. Each end is an `Instant` read between two
/// counter reads close together (retried when the thread was interrupted
/// in between), so a descheduling on a loaded machine cannot skew the rate:
/// a 10 µs one at either end would be 0.1%, and DEBUG SLEEP 0.5 would time
/// at 499 ms.
#[cfg(target_arch = "x86_64")]
fn measure_tsc() -> Option<u64> {
    let (c0, t0) = bracketed();
    let mut t = t0;
    while t.duration_since(t0) < Duration::from_millis(10) {
        std::hint::spin_loop();
        t = Instant::now();
    }
    let (c1, t1) = bracketed();
    let ticks = c1.checked_sub(c0)?;
    let ns = t1.duration_since(t0).as_nanos() as u64;
    if ticks < ns {
        // Under 1 GHz: not a rate worth trusting.
        return None;
    }
    Some(((ns as u128) << 32).checked_div(ticks as u128)? as u64)
}

/// An `Instant` and the counter at the same moment: the midpoint of the
/// tightest pair of counter reads around it out of a few tries.
#[cfg(target_arch = "x86_64")]
fn bracketed() -> (u64, Instant) {
    let mut best: Option<(u64, u64, Instant)> = None;
    for _ in 0..16 {
        let a = rdtsc();
        let t = Instant::now();
        let b = rdtsc();
        let width = b.wrapping_sub(a);
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, a + width / 2, t));
        }
        if width < 1_000 {
            break;
        }
    }
    let (_, c, t) = best.unwrap_or((0, rdtsc(), Instant::now()));
    (c, t)
}

impl Stamp {
    #[inline]
    pub fn now() -> Stamp {
        match source() {
            #[cfg(target_arch = "x86_64")]
            Source::Tsc { .. } => Stamp(rdtsc()),
            Source::Instant(base) => Stamp(base.elapsed().as_nanos() as u64),
        }
    }

    /// Time from `earlier` to `self` (zero if `earlier` is later).
    #[inline]
    pub fn since(self, earlier: Stamp) -> Duration {
        let d = self.0.saturating_sub(earlier.0);
        match source() {
            #[cfg(target_arch = "x86_64")]
            Source::Tsc { ns_per_tick_fp } => {
                Duration::from_nanos(((d as u128 * *ns_per_tick_fp as u128) >> 32) as u64)
            }
            Source::Instant(_) => Duration::from_nanos(d),
        }
    }

    #[inline]
    pub fn elapsed(self) -> Duration {
        Stamp::now().since(self)
    }

    /// This stamp moved back by `d` (tests and DEBUG make clients look
    /// idle); stays at the clock's origin if `d` reaches past it.
    pub fn earlier_by(self, d: Duration) -> Stamp {
        let ticks = match source() {
            #[cfg(target_arch = "x86_64")]
            Source::Tsc { ns_per_tick_fp } => {
                (((d.as_nanos()) << 32) / (*ns_per_tick_fp).max(1) as u128) as u64
            }
            Source::Instant(_) => d.as_nanos() as u64,
        };
        Stamp(self.0.saturating_sub(ticks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_follow_real_time() {
        init();
        // The stamp's interval lies inside the outer pair of instants and
        // contains the inner pair, up to the measured rate's error.
        let a = Instant::now();
        let s = Stamp::now();
        let b = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let c = Instant::now();
        let e = s.elapsed();
        let d = Instant::now();
        let (inner, outer) = (c - b, d - a);
        assert!(e >= inner - inner / 100, "{e:?} < {inner:?}");
        assert!(
            e <= outer + outer / 100 + Duration::from_micros(50),
            "{e:?} > {outer:?}"
        );
        assert!(Stamp::now() >= s);
    }

    #[test]
    fn earlier_by_moves_back_that_much() {
        let s = Stamp::now();
        let back = s.earlier_by(Duration::from_secs(10));
        let d = s.since(back);
        assert!(
            d.abs_diff(Duration::from_secs(10)) < Duration::from_millis(10),
            "{d:?}"
        );
        assert_eq!(back.since(s), Duration::ZERO);
    }
}
