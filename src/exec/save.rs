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
