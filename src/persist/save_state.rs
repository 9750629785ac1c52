//! What the server remembers about its saves (INFO persistence, LASTSAVE,
//! the `save` schedule, `stop-writes-on-bgsave-error`): the running
//! background save's writer, and how the last ones went. The logic that
//! starts and finishes saves is `commands::save`; this is its state, kept
//! in `State::save`.

use std::time::Instant;

use super::rdb_write::SaveJob;

/// Valkey's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, the
/// schedule waits this many seconds before trying again.
pub const BGSAVE_RETRY_DELAY: i64 = 5;

/// A background save in progress.
pub struct Running {
    pub job: SaveJob,
    pub started: Instant,
    /// Keys in every db when it started (`current_save_keys_total`).
    pub keys_total: u64,
}

pub struct SaveState {
    pub running: Option<Running>,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: i64,
    /// Unix seconds of the last background save attempt.
    pub last_bgsave_try: i64,
    pub last_bgsave_ok: bool,
    /// Seconds the last background save took; -1 before the first.
    pub last_bgsave_secs: i64,
    /// Saves attempted (INFO `rdb_saves`).
    pub saves: u64,
    /// `dirty` when the running background save started: what it covers.
    pub dirty_before: u64,
    /// BGSAVE SCHEDULE (or BGSAVE in a transaction): start at the next
    /// chance.
    pub scheduled: bool,
    /// Which signal asked for the shutdown under way, if one did.
    pub signal: Option<&'static str>,
    /// The running snapshot's steps: the most main-thread CPU time one
    /// took, and how many took over 1 ms of it (logged at the end).
    pub step_cpu_max: std::time::Duration,
    pub steps_over_1ms: u64,
}

impl SaveState {
    /// `started`: Unix seconds at startup, the dataset's "last save".
    pub fn new(started: i64) -> Self {
        SaveState {
            running: None,
            lastsave: started,
            last_bgsave_try: 0,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            saves: 0,
            dirty_before: 0,
            scheduled: false,
            signal: None,
            step_cpu_max: std::time::Duration::ZERO,
            steps_over_1ms: 0,
        }
    }

    /// Whether writes are refused (MISCONF): `stop-writes-on-bgsave-error`
    /// on, save points configured, and the last background save failed.
    pub fn refuses_writes(&self, stop_writes_on_error: bool, save_points: &str) -> bool {
        stop_writes_on_error && !save_points.trim().is_empty() && !self.last_bgsave_ok
    }
}

/// The `save` directive's points as (seconds, changes); nothing for
/// malformed text (the directive's setter has already refused it).
pub fn save_points(text: &str) -> Vec<(i64, u64)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .chunks_exact(2)
        .filter_map(|p| Some((p[0].parse().ok()?, p[1].parse().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_misconf() {
        assert_eq!(
            save_points("3600 1 300 100 60 10000"),
            [(3600, 1), (300, 100), (60, 10000)]
        );
        assert!(save_points("").is_empty());
        let mut s = SaveState::new(5);
        assert!(!s.refuses_writes(true, "3600 1"));
        s.last_bgsave_ok = false;
        assert!(s.refuses_writes(true, "3600 1"));
        assert!(!s.refuses_writes(false, "3600 1"));
        assert!(!s.refuses_writes(true, ""));
    }
}
