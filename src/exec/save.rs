//! The main loop's side of saving (the logic is `commands::save`): after
//! each turn's snapshot step, notice a background save that ended; from
//! cron, the `save` schedule; on SIGTERM/SIGINT, the final save Valkey
//! makes before exiting (`shutdown-on-sigterm`/`shutdown-on-sigint` flags
//! honoured), and staying up when it fails.

use std::time::Duration;

use crate::commands::save;
use crate::state::{ShutdownMode, State};

/// One turn's snapshot step (`exec::snapshot`), then the save's status.
pub fn tick(state: &mut State) {
    if state.snapshot.is_some() {
        let cpu = thread_cpu();
        let done = super::snapshot::tick(state);
        let took = thread_cpu().saturating_sub(cpu);
        let save = &mut state.save;
        save.step_cpu_max = save.step_cpu_max.max(took);
        save.steps_over_1ms += u64::from(took > Duration::from_millis(1));
        if let Some(st) = done {
            // How the save weighed on the main thread (loglevel verbose):
            // wall time includes what the OS gave other processes, CPU
            // time is the step's own.
            tracing::debug!(
                "Snapshot done: {} keys ({} saved before a write), {} steps, longest step {} us (wall), {} us (CPU), {} steps over 1 ms of CPU, peak saved images {} bytes",
                st.records,
                st.saved_records,
                st.steps,
                st.longest_step.as_micros(),
                save.step_cpu_max.as_micros(),
                save.steps_over_1ms,
                st.peak_saved_bytes
            );
            save.step_cpu_max = Duration::ZERO;
            save.steps_over_1ms = 0;
        }
    }
    if state.save.running.is_some() {
        save::poll(state);
    }
}

/// From cron: finished saves and the schedule.
pub fn cron(state: &mut State) {
    // DEBUG PAUSE-CRON stops all of Valkey's cron, saves included.
    if !state.debug.pause_cron {
        save::cron(state);
    }
}

/// The walk is waiting for the writer thread: the loop need not spin.
pub fn waiting_for_writer(state: &State) -> bool {
    save::writer_lagging(state)
}

/// A SIGTERM (`term`) or SIGINT asks for a shutdown.
pub fn on_signal(state: &mut State, term: bool) {
    state.save.signal = Some(if term { "SIGTERM" } else { "SIGINT" });
    state.shutdown = Some(ShutdownMode::Default);
}

/// Before the loop exits: the final save a signal's shutdown makes. False
/// when it failed without `force`: the server stays up, as Valkey.
pub fn before_exit(state: &mut State) -> bool {
    let Some(signal) = state.save.signal.take() else {
        // SHUTDOWN saved (or not) in its handler.
        return true;
    };
    let directive = if signal == "SIGTERM" {
        "shutdown-on-sigterm"
    } else {
        "shutdown-on-sigint"
    };
    let flags = state
        .config
        .extra
        .get(directive)
        .cloned()
        .unwrap_or_default();
    let has = |w: &str| flags.split_whitespace().any(|f| f.eq_ignore_ascii_case(w));
    if save::before_exit(state, has("save"), has("nosave"), has("force")) {
        return true;
    }
    tracing::warn!(
        "{signal} received but errors trying to shut down the server, check the logs for more information"
    );
    state.shutdown = None;
    false
}

/// CPU time of this thread (the main thread's own work in a step).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exec::Harness;

    fn harness(name: &str, save: &str) -> (Harness, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("ferrokey-exec-save-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            dir: dir.display().to_string(),
            save: save.to_string(),
            ..Config::default()
        };
        (Harness::new(config), dir)
    }

    #[test]
    fn flushall_with_save_points_saves_and_still_propagates() {
        let (mut h, dir) = harness("flushall", "3600 1");
        let c = h.add_client();
        h.run_str(c, &["SET", "k", "v"]);
        h.take_propagated();
        // With nothing changed since the save: FLUSHALL must still go out,
        // once.
        assert_eq!(h.run_str(c, &["SAVE"]), b"+OK\r\n");
        assert_eq!(h.state.dirty, 0);
        assert_eq!(h.run_str(c, &["FLUSHALL"]), b"+OK\r\n");
        assert_eq!(h.state.dirty, 0, "the save zeroes the change count");
        let p = h.take_propagated();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(&p[0].argv[0][..], b"FLUSHALL");
        assert!(dir.join("dump.rdb").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_schedule_waits_for_enough_changes_and_retries_late_after_a_failure() {
        let (mut h, dir) = harness("cron", "1 2");
        let c = h.add_client();
        h.run_str(c, &["SET", "a", "1"]);
        // The points count seconds since the last save: make it old.
        h.state.save.lastsave -= 10;
        cron(&mut h.state);
        assert!(h.state.save.running.is_none(), "1 change of 2");
        h.run_str(c, &["SET", "b", "1"]);
        // A failed save a moment ago holds the schedule back.
        h.state.save.last_bgsave_ok = false;
        h.state.save.last_bgsave_try = crate::keyspace::now_ms() / 1000;
        cron(&mut h.state);
        assert!(h.state.save.running.is_none(), "retry delay");
        h.state.save.last_bgsave_try -= crate::persist::save_state::BGSAVE_RETRY_DELAY + 1;
        cron(&mut h.state);
        assert!(h.state.save.running.is_some(), "due");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while h.state.save.running.is_some() {
            assert!(std::time::Instant::now() < deadline);
            tick(&mut h.state);
            save::poll(&mut h.state);
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(h.state.save.last_bgsave_ok);
        assert_eq!(h.state.dirty, 0);
        assert!(dir.join("dump.rdb").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
