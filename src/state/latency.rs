//! The latency monitor: a time series of latency spikes per event, as
//! LATENCY LATEST / HISTORY / GRAPH / DOCTOR / RESET report them.
//!
//! A spike is a duration at or above `latency-monitor-threshold` (ms; 0
//! turns the monitor off). Each event keeps the last 160 seconds that had
//! a spike, one sample per second holding that second's worst, plus the
//! all-time maximum, sum and count since the event's last reset. Events are
//! created on their first spike and listed in that order.
//!
//! Events recorded (Valkey's names, for the parts this server has):
//! `command` and `fast-command` (a command's run, by its FAST flag),
//! `command-unblocking` (serving a client woken from BLPOP & co.), and
//! `expire-cycle` (the cron's active expiry).

/// Samples kept per event.
pub const HISTORY_LEN: usize = 160;

/// A command without the FAST flag.
pub const COMMAND: &str = "command";
/// A command with the FAST flag.
pub const FAST_COMMAND: &str = "fast-command";
/// Re-running a blocked command once a key it waits on is ready.
pub const COMMAND_UNBLOCKING: &str = "command-unblocking";
/// One run of the cron's active expiry.
pub const EXPIRE_CYCLE: &str = "expire-cycle";

/// One second's worst spike. `time` 0 marks an unused slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds.
    pub time: i64,
    pub ms: u64,
}

/// What LATENCY DOCTOR says about one event's samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeriesStats {
    pub samples: u64,
    pub avg: u64,
    pub min: u64,
    pub max: u64,
    /// Mean absolute deviation from `avg`.
    pub mad: u64,
    /// Seconds from the oldest sample to now (at least 1).
    pub period: i64,
}

/// One event's samples, in a ring, and its all-time figures.
#[derive(Debug)]
pub struct Series {
    ring: [Sample; HISTORY_LEN],
    /// Where the next new second goes.
    next: usize,
    pub max: u64,
    pub sum: u64,
    pub count: u64,
}

impl Default for Series {
    fn default() -> Self {
        Series {
            ring: [Sample::default(); HISTORY_LEN],
            next: 0,
            max: 0,
            sum: 0,
            count: 0,
        }
    }
}

impl Series {
    /// Adds a spike of `ms` at Unix second `time`: a second that already
    /// has a sample keeps the larger one.
    pub fn add(&mut self, time: i64, ms: u64) {
        self.max = self.max.max(ms);
        self.sum = self.sum.saturating_add(ms);
        self.count += 1;
        let prev = (self.next + HISTORY_LEN - 1) % HISTORY_LEN;
        if self.ring[prev].time == time {
            self.ring[prev].ms = self.ring[prev].ms.max(ms);
            return;
        }
        self.ring[self.next] = Sample { time, ms };
        self.next = (self.next + 1) % HISTORY_LEN;
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..HISTORY_LEN)
            .map(|j| self.ring[(self.next + j) % HISTORY_LEN])
            .filter(|s| s.time != 0)
    }

    /// The newest sample.
    pub fn latest(&self) -> Sample {
        self.ring[(self.next + HISTORY_LEN - 1) % HISTORY_LEN]
    }

    /// Average, spread and period of the samples, `now` in Unix seconds.
    pub fn stats(&self, now: i64) -> SeriesStats {
        let mut st = SeriesStats::default();
        let mut sum = 0u64;
        let mut oldest = i64::MAX;
        for s in self.samples() {
            if st.samples == 0 {
                st.min = s.ms;
                st.max = s.ms;
            } else {
                st.min = st.min.min(s.ms);
                st.max = st.max.max(s.ms);
            }
            st.samples += 1;
            sum += s.ms;
            oldest = oldest.min(s.time);
        }
        if st.samples == 0 {
            return st;
        }
        st.avg = sum / st.samples;
        st.period = (now - oldest).max(1);
        let dev: u64 = self.samples().map(|s| s.ms.abs_diff(st.avg)).sum();
        st.mad = dev / st.samples;
        st
    }
}

/// Every event's series, in the order they first spiked.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    events: Vec<(&'static str, Box<Series>)>,
}

impl LatencyMonitor {
    /// Records `usec` for `event` if it reaches `threshold_ms` (0: off).
    #[inline]
    pub fn record(&mut self, threshold_ms: u64, event: &'static str, usec: u64) {
        if threshold_ms == 0 || usec < threshold_ms.saturating_mul(1000) {
            return;
        }
        self.add(event, unix_secs(), usec / 1000);
    }

    /// Adds a spike unconditionally, at Unix second `time`.
    pub fn add(&mut self, event: &'static str, time: i64, ms: u64) {
        match self.events.iter_mut().find(|(e, _)| *e == event) {
            Some((_, s)) => s.add(time, ms),
            None => {
                let mut s = Box::<Series>::default();
                s.add(time, ms);
                self.events.push((event, s));
            }
        }
    }

    /// The series named exactly `name` (case matters, as in Valkey).
    pub fn get(&self, name: &[u8]) -> Option<(&'static str, &Series)> {
        self.events
            .iter()
            .find(|(e, _)| e.as_bytes() == name)
            .map(|(e, s)| (*e, &**s))
    }

    /// Forgets the events named `name` in any case, or all of them;
    /// returns how many were dropped.
    pub fn reset(&mut self, name: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match name {
            None => self.events.clear(),
            Some(n) => self
                .events
                .retain(|(e, _)| !e.as_bytes().eq_ignore_ascii_case(n)),
        }
        before - self.events.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Series)> {
        self.events.iter().map(|(e, s)| (*e, &**s))
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// The wall clock in Unix seconds (sample times are wall-clock, as in Valkey).
pub fn unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_second_keeps_the_worst() {
        let mut s = Series::default();
        s.add(100, 5);
        s.add(100, 9);
        s.add(100, 3);
        s.add(101, 2);
        let v: Vec<Sample> = s.samples().collect();
        assert_eq!(
            v,
            vec![Sample { time: 100, ms: 9 }, Sample { time: 101, ms: 2 }]
        );
        assert_eq!(s.latest(), Sample { time: 101, ms: 2 });
        // All-time figures count every spike, merged or not.
        assert_eq!((s.max, s.sum, s.count), (9, 19, 4));
    }

    #[test]
    fn keeps_the_last_160_seconds() {
        let mut s = Series::default();
        for t in 1..=200 {
            s.add(t, t as u64);
        }
        let v: Vec<Sample> = s.samples().collect();
        assert_eq!(v.len(), HISTORY_LEN);
        assert_eq!(v[0].time, 41);
        assert_eq!(v[HISTORY_LEN - 1].time, 200);
        assert!(v.windows(2).all(|w| w[0].time < w[1].time));
        assert_eq!(s.max, 200);
        assert_eq!(s.count, 200);
    }

    #[test]
    fn stats_as_doctor_reports_them() {
        let mut s = Series::default();
        s.add(10, 100);
        s.add(12, 200);
        s.add(15, 600);
        let st = s.stats(20);
        assert_eq!(st.samples, 3);
        assert_eq!((st.min, st.max, st.avg), (100, 600, 300));
        // |300-100| + |300-200| + |300-600| = 600, over 3.
        assert_eq!(st.mad, 200);
        assert_eq!(st.period, 10);
        // A spike this very second still spans one second.
        assert_eq!(s.stats(10).period, 1);
        assert_eq!(Series::default().stats(5), SeriesStats::default());
    }

    #[test]
    fn threshold_and_reset() {
        let mut m = LatencyMonitor::default();
        m.record(0, COMMAND, 10_000_000);
        assert!(m.is_empty(), "threshold 0 records nothing");
        m.record(5, COMMAND, 4_999);
        assert!(m.is_empty());
        m.record(5, COMMAND, 5_000);
        m.record(5, FAST_COMMAND, 7_900);
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(b"command").map(|(_, s)| s.latest().ms), Some(5));
        assert_eq!(m.get(b"fast-command").map(|(_, s)| s.max), Some(7));
        assert!(m.get(b"COMMAND").is_none(), "lookups are exact");
        let order: Vec<&str> = m.iter().map(|(e, _)| e).collect();
        assert_eq!(order, vec!["command", "fast-command"]);
        assert_eq!(m.reset(Some(b"nosuch")), 0);
        assert_eq!(m.reset(Some(b"COMMAND")), 1, "reset ignores case");
        assert_eq!(m.reset(None), 1);
        assert!(m.is_empty());
    }
}
