//! How busy the main thread and the machine are, from /proc, to decide how
//! many IO threads should be active.
//!
//! More threads only help when the main thread is saturated and a core is
//! free to run them; on a machine whose cores are already busy (say, with
//! the benchmark client) extra threads just steal time from each other, so
//! the policy looks at both.

use std::time::Instant;

/// CPU use over the last window, in cores (1.0 = one core fully busy).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadSample {
    pub main_thread: f64,
    pub process: f64,
    pub idle_cores: f64,
    /// Ready events per main-loop poll (Valkey's measure of IO load).
    pub events_per_poll: f64,
}

pub struct LoadMonitor {
    last: Option<(Instant, u64, u64, u64, u64)>,
    ticks_per_sec: f64,
    polls: u64,
    events: u64,
}

impl Default for LoadMonitor {
    fn default() -> Self {
        // USER_HZ is 100 on every Linux ABI we run on.
        LoadMonitor {
            last: None,
            ticks_per_sec: 100.0,
            polls: 0,
            events: 0,
        }
    }
}

/// utime + stime, in clock ticks, from a /proc/.../stat file.
fn stat_cpu_ticks(path: &str) -> Option<u64> {
    let s = std::fs::read_to_string(path).ok()?;
    // The command name may contain spaces: fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the full line, utime 14, stime 15.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// (idle, total) ticks over all CPUs, from /proc/stat.
fn system_ticks() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let line = s.lines().next()?;
    let nums: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let idle = nums.get(3)? + nums.get(4).copied().unwrap_or(0);
    Some((idle, nums.iter().sum()))
}

impl LoadMonitor {
    /// Counts one main-loop poll that returned `events` ready events.
    #[inline]
    pub fn count_poll(&mut self, events: usize) {
        self.polls += 1;
        self.events += events as u64;
    }

    /// Call from the main thread. Returns a sample once at least 500 ms
    /// have passed since the previous one (tick resolution is 10 ms).
    pub fn sample(&mut self) -> Option<LoadSample> {
        let now = Instant::now();
        let main = stat_cpu_ticks("/proc/thread-self/stat")?;
        let proc_ = stat_cpu_ticks("/proc/self/stat")?;
        let (idle, total) = system_ticks()?;
        let Some((t0, m0, p0, i0, tot0)) = self.last else {
            self.last = Some((now, main, proc_, idle, total));
            return None;
        };
        let wall = now.duration_since(t0).as_secs_f64();
        if wall < 0.5 {
            return None;
        }
        self.last = Some((now, main, proc_, idle, total));
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1) as f64;
        let dtot = total.saturating_sub(tot0).max(1) as f64;
        let events_per_poll = self.events as f64 / self.polls.max(1) as f64;
        self.polls = 0;
        self.events = 0;
        Some(LoadSample {
            events_per_poll,
            main_thread: main.saturating_sub(m0) as f64 / self.ticks_per_sec / wall,
            process: proc_.saturating_sub(p0) as f64 / self.ticks_per_sec / wall,
            idle_cores: idle.saturating_sub(i0) as f64 / dtot * cpus,
        })
    }
}

/// The policy: how many IO threads to run next, given how many exist, how
/// many run now, the machine's cores, `events-per-io-thread` and the last
/// sample. One more thread needs enough ready events to share out (as in
/// Valkey), a saturated main thread, and a free core to run on.
pub fn desired_active(
    threads: usize,
    active: usize,
    cpus: usize,
    events_per_thread: usize,
    s: &LoadSample,
) -> usize {
    // Never more threads (main included) than cores.
    let max = threads.min(cpus.saturating_sub(1));
    let enough_events = s.events_per_poll >= (events_per_thread * (active + 1)) as f64;
    if active < max && enough_events && s.main_thread > 0.85 && s.idle_cores >= 0.5 {
        return active + 1;
    }
    if active > 0 && s.main_thread < 0.3 && s.process < 0.5 * (active as f64 + 1.0) {
        return active - 1;
    }
    active.min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_needs_a_busy_main_thread_and_a_free_core() {
        let busy = LoadSample {
            main_thread: 0.95,
            process: 0.95,
            idle_cores: 0.9,
            events_per_poll: 20.0,
        };
        assert_eq!(desired_active(3, 0, 4, 2, &busy), 1);
        assert_eq!(desired_active(3, 2, 4, 2, &busy), 3);
        assert_eq!(desired_active(3, 3, 4, 2, &busy), 3);
        // Two cores: at most one IO thread beside the main thread.
        assert_eq!(desired_active(3, 1, 2, 2, &busy), 1);
        let no_free_core = LoadSample {
            idle_cores: 0.1,
            ..busy
        };
        assert_eq!(desired_active(3, 0, 4, 2, &no_free_core), 0);
        // Few ready events per poll: one deep pipeline gains nothing from threads.
        let few_events = LoadSample {
            events_per_poll: 1.0,
            ..busy
        };
        assert_eq!(desired_active(3, 0, 4, 2, &few_events), 0);
        let idle = LoadSample {
            main_thread: 0.01,
            process: 0.02,
            idle_cores: 1.9,
            events_per_poll: 0.5,
        };
        assert_eq!(desired_active(3, 2, 4, 2, &idle), 1);
        assert_eq!(desired_active(3, 0, 4, 2, &idle), 0);
    }

    #[test]
    fn samples_read_proc() {
        let mut m = LoadMonitor::default();
        assert!(m.sample().is_none());
        m.last = m
            .last
            .map(|(t, a, b, c, d)| (t - std::time::Duration::from_secs(1), a, b, c, d));
        let s = m.sample().expect("second sample after the window");
        assert!(s.main_thread >= 0.0 && s.idle_cores >= 0.0);
    }
}
