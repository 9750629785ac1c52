//! Server counters: per-command statistics (INFO commandstats), totals
//! (INFO stats) and the recent rates INFO reports as `instantaneous_*`.

use std::time::{Duration, Instant};

/// A command's index in the command table (`commands::CMD_TABLE.specs`),
/// which per-command counters are indexed by.
pub type CmdId = usize;

/// Per-command counters (INFO commandstats).
#[derive(Clone, Copy, Debug, Default)]
pub struct CmdStat {
    pub calls: u64,
    /// Total time in the handler, in ns: most calls take under a
    /// microsecond, so whole µs per call would sum to about zero.
    pub nsec: u64,
    pub rejected: u64,
    pub failed: u64,
}

impl CmdStat {
    /// Counts one call that ran `nsec` nanoseconds.
    #[inline]
    pub fn record(&mut self, nsec: u64) {
        self.calls += 1;
        self.nsec += nsec;
    }

    /// INFO's `usec`: whole microseconds of the precise total.
    pub fn usec(&self) -> u64 {
        self.nsec / 1000
    }

    /// INFO's `usec_per_call`: the mean from the precise total.
    pub fn usec_per_call(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.nsec as f64 / 1000.0 / self.calls as f64
        }
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    /// INFO `total_forks` / `latest_fork_usec`: background snapshots started
    /// (BGSAVE, an AOF rewrite: what forks a child in Valkey; SAVE does
    /// not), and how long the last one took to start, in microseconds.
    pub background_starts: u64,
    pub latest_start_usec: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub commands_processed: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    /// Indexed by `CmdId`.
    pub commands: Vec<CmdStat>,
    /// Per-command latency distributions (`latency-tracking`).
    pub histograms: super::histogram::CommandHistograms,
    /// Error code (`ERR`, `WRONGTYPE`, ...) → count, in first-seen order.
    pub errors: Vec<(String, u64)>,
    pub total_error_replies: u64,
    pub expired_stale_perc: f64,
    pub evicted_clients: u64,
    pub io_threaded_reads: u64,
    pub io_threaded_writes: u64,
    /// Clients closed for breaking `client-query-buffer-limit` and
    /// `client-output-buffer-limit`.
    pub qbuf_limit_disconnections: u64,
    pub obuf_limit_disconnections: u64,
    /// The main event loop (INFO stats `eventloop_*` and INFO debug):
    /// cycles (one poll and the work after it), their total and longest
    /// duration, the time spent in the cron, and the most commands one
    /// cycle ran.
    pub el_cycles: u64,
    pub el_duration_ns: u64,
    pub el_duration_max_ns: u64,
    pub el_cron_ns: u64,
    pub el_cmds_per_cycle_max: u64,
}

impl Stats {
    /// Counts one event-loop cycle that took `took` and ran `cmds` commands.
    #[inline]
    pub fn end_cycle(&mut self, took: Duration, cmds: u64) {
        let ns = took.as_nanos() as u64;
        self.el_cycles += 1;
        self.el_duration_ns += ns;
        self.el_duration_max_ns = self.el_duration_max_ns.max(ns);
        self.el_cmds_per_cycle_max = self.el_cmds_per_cycle_max.max(cmds);
    }

    /// Time in commands (INFO `eventloop_duration_cmd_sum`), in µs: the sum
    /// of what INFO commandstats records, so it costs the call path nothing.
    /// A background snapshot started, taking `took` to start.
    pub fn count_background_start(&mut self, took: Duration) {
        self.background_starts += 1;
        self.latest_start_usec = took.as_micros() as u64;
    }

    pub fn cmd_duration_usec(&self) -> u64 {
        self.commands.iter().map(|c| c.nsec).sum::<u64>() / 1000
    }

    pub fn count_error(&mut self, code: &str) {
        self.total_error_replies += 1;
        self.count_code(code);
    }

    /// An error whose code its sender chose (a script's own error reply):
    /// once `ERRORSTATS_LIMIT` codes are tracked, a new one counts as
    /// `ERRORSTATS_OVERFLOW`, as Valkey keeps scripts from growing the
    /// table without end. Server errors are always tracked by their code.
    pub fn count_custom_error(&mut self, code: &str) {
        const ERRORSTATS_LIMIT: usize = 128;
        self.total_error_replies += 1;
        if self.errors.len() >= ERRORSTATS_LIMIT && !self.errors.iter().any(|(c, _)| c == code) {
            self.count_code("ERRORSTATS_OVERFLOW");
        } else {
            self.count_code(code);
        }
    }

    fn count_code(&mut self, code: &str) {
        if let Some(e) = self.errors.iter_mut().find(|(c, _)| c == code) {
            e.1 += 1;
        } else {
            self.errors.push((code.to_string(), 1));
        }
    }
}

/// Recent request and network rates (INFO `instantaneous_*`): the cron
/// samples the counters every tick and the fields average the last 16
/// samples, as Valkey does.
#[derive(Debug, Default)]
pub struct Rates {
    next: usize,
    filled: usize,
    samples: [(f64, f64, f64); 16],
    last: Option<(Instant, u64, u64, u64)>,
    /// Event-loop cycles per second, and µs per cycle, per sample.
    el_samples: [(f64, f64); 16],
    el_last: (u64, u64),
}

impl Rates {
    pub fn sample(&mut self, stats: &Stats) {
        let now = Instant::now();
        let cur = (
            stats.commands_processed,
            stats.net_input_bytes,
            stats.net_output_bytes,
        );
        if let Some((t, c, i, o)) = self.last {
            let dt = now.duration_since(t).as_secs_f64();
            if dt <= 0.0 {
                return;
            }
            self.samples[self.next] = (
                cur.0.saturating_sub(c) as f64 / dt,
                cur.1.saturating_sub(i) as f64 / dt / 1024.0,
                cur.2.saturating_sub(o) as f64 / dt / 1024.0,
            );
            let cycles = stats.el_cycles.saturating_sub(self.el_last.0);
            let ns = stats.el_duration_ns.saturating_sub(self.el_last.1);
            let per_cycle_us = if cycles == 0 {
                0.0
            } else {
                ns as f64 / 1000.0 / cycles as f64
            };
            self.el_samples[self.next] = (cycles as f64 / dt, per_cycle_us);
            self.next = (self.next + 1) % self.samples.len();
            self.filled = (self.filled + 1).min(self.samples.len());
        }
        self.last = Some((now, cur.0, cur.1, cur.2));
        self.el_last = (stats.el_cycles, stats.el_duration_ns);
    }

    /// (event-loop cycles per second, µs per cycle), as INFO's
    /// `instantaneous_eventloop_*`.
    pub fn eventloop(&self) -> (u64, u64) {
        if self.filled == 0 {
            return (0, 0);
        }
        let n = self.filled as f64;
        let sum = self.el_samples[..self.filled]
            .iter()
            .fold((0.0, 0.0), |a, s| (a.0 + s.0, a.1 + s.1));
        ((sum.0 / n) as u64, (sum.1 / n) as u64)
    }

    /// (ops/sec, input KB/s, output KB/s).
    pub fn current(&self) -> (u64, f64, f64) {
        if self.filled == 0 {
            return (0, 0.0, 0.0);
        }
        let n = self.filled as f64;
        let sum = self.samples[..self.filled]
            .iter()
            .fold((0.0, 0.0, 0.0), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
        ((sum.0 / n).round() as u64, sum.1 / n, sum.2 / n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_microsecond_calls_add_up() {
        // 10,000 calls of 300 ns: 3 ms in all, 0.3 µs each. Summing whole
        // µs per call gave 0.
        let mut c = CmdStat::default();
        for _ in 0..10_000 {
            c.record(300);
        }
        assert_eq!(c.calls, 10_000);
        assert_eq!(c.usec(), 3000);
        assert!((c.usec_per_call() - 0.3).abs() < 1e-9);
        let mut slow = CmdStat::default();
        for _ in 0..3 {
            slow.record(10_250_000);
        }
        assert_eq!(slow.usec(), 30_750);
        assert!((slow.usec_per_call() - 10_250.0).abs() < 1e-6);
        assert_eq!(CmdStat::default().usec_per_call(), 0.0);
    }

    #[test]
    fn event_loop_cycles_and_their_rates() {
        let mut st = Stats::default();
        st.end_cycle(Duration::from_micros(30), 2);
        st.end_cycle(Duration::from_micros(10), 5);
        assert_eq!(st.el_cycles, 2);
        assert_eq!(st.el_duration_ns, 40_000);
        assert_eq!(st.el_duration_max_ns, 30_000);
        assert_eq!(st.el_cmds_per_cycle_max, 5);
        let mut r = Rates::default();
        assert_eq!(r.eventloop(), (0, 0));
        r.sample(&st);
        // No cycle between two samples: a zero sample, not a division by 0.
        r.sample(&st);
        assert_eq!(r.eventloop(), (0, 0));
        for _ in 0..4 {
            st.end_cycle(Duration::from_micros(50), 1);
        }
        // Let at least 5 ms pass since the last sample, so the rate has
        // an upper bound.
        let since = Instant::now();
        while since.elapsed() < Duration::from_millis(5) {
            std::hint::spin_loop();
        }
        r.sample(&st);
        let (per_sec, usec) = r.eventloop();
        // Two samples averaged: (0 + 50) / 2 µs per cycle; 4 cycles in
        // at least 5 ms is at most 800 a second, halved.
        assert_eq!(usec, 25);
        assert!(per_sec > 0 && per_sec <= 400, "{per_sec}");
    }
}
