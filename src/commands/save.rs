//! SAVE and BGSAVE, and the save logic the rest of the server shares:
//! starting a background save (a forkless snapshot feeding the RDB writer
//! thread, `persist::rdb_write`), saving synchronously (SAVE, SHUTDOWN,
//! FLUSHALL with save points), noticing when a background save ends, the
//! `save` schedule checked from cron, and `stop-writes-on-bgsave-error`.
//!
//! Valkey's behaviour and words throughout (rdb.c, server.c): the replies,
//! the log lines tools wait for, `dirty` reduced by what a background save
//! covered, a failed background save retried by the schedule only after
//! `BGSAVE_RETRY_DELAY` seconds. The main loop steps the snapshot
//! (`exec::snapshot`) and calls `poll` and `cron` here.

use std::time::{Duration, Instant};

use super::flags::*;
use super::meta::{arg, Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{CmdResult, SYNTAX};
use crate::keyspace::snapshot::{Background, Progress};
use crate::persist::rdb_write::{self, Aux, Outcome, SaveSpec};
use crate::persist::save_state::{save_points, Running, BGSAVE_RETRY_DELAY};
use crate::state::State;

pub const MISCONF_ERR: &str = "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Valkey logs for details about the RDB error.";
const IN_PROGRESS: &str = "ERR Background save already in progress";
const OTHER_CHILD: &str = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
const NOTHING_TO_CANCEL: &str = "ERR Background saving is currently not in progress or scheduled";
/// Valkey's `shared.err`: a failed save says no more.
const BARE_ERR: &str = "ERR";

/// Main-thread time one step of a synchronous save may take before it
/// looks whether the writer keeps up.
const SYNC_STEP: Duration = Duration::from_millis(50);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "save",
        arity: 1,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        keys: KeySpec::NONE,
        handler: save,
        subcommands: &[],
        doc: &Doc {
            summary: "Writes the dataset to the RDB file, blocking the server until done.",
            complexity: "O(N), N keys in all databases.",
            ..Doc::new(Group::Server, "1.0.0", 0)
        },
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        keys: KeySpec::NONE,
        handler: bgsave,
        subcommands: &[],
        doc: &Doc {
            summary: "Writes the dataset to the RDB file in the background.",
            complexity: "O(1)",
            args: &[arg::oneof(
                "operation",
                &[
                    arg::pure("schedule", "SCHEDULE").since("3.2.2"),
                    arg::pure("cancel", "CANCEL").since("8.1.0"),
                ],
            )
            .optional()],
            history: &[
                ("3.2.2", "The SCHEDULE option."),
                ("8.1.0", "The CANCEL option."),
            ],
            ..Doc::new(Group::Server, "1.0.0", 0)
        },
    },
];

fn save(ctx: &mut Ctx) -> CmdResult {
    let state = ctx.admin().state;
    if state.save.running.is_some() {
        return Err(IN_PROGRESS.into());
    }
    state.save.saves += 1;
    let saved = save_sync(state);
    // Zeroing the change count is not a change to propagate.
    ctx.prevent_propagation();
    if saved {
        ctx.out.ok();
        Ok(())
    } else {
        Err(BARE_ERR.into())
    }
}

fn bgsave(ctx: &mut Ctx) -> CmdResult {
    // SCHEDULE (or EXEC) waits for a running AOF rewrite; without it
    // BGSAVE is refused then, as Valkey's.
    let schedule = ctx.argv.len() == 2 && ctx.argv[1].eq_ignore_ascii_case(b"schedule");
    let cancel = match ctx.argv.len() {
        1 => false,
        2 if schedule => false,
        2 if ctx.argv[1].eq_ignore_ascii_case(b"cancel") => true,
        _ => return Err(SYNTAX.into()),
    };
    // BGSAVE is NOSCRIPT: not a client's own call means inside EXEC,
    // where Valkey schedules it instead.
    let in_exec = !ctx.may_block();
    let state = ctx.admin().state;
    if cancel {
        if cancel_running(state) {
            ctx.out.simple("Background saving cancelled");
        } else if state.save.scheduled {
            state.save.scheduled = false;
            ctx.out.simple("Scheduled background saving cancelled");
        } else {
            return Err(NOTHING_TO_CANCEL.into());
        }
        return Ok(());
    }
    if state.save.running.is_some() {
        return Err(IN_PROGRESS.into());
    }
    if state.aof.rewrite.is_some() && !in_exec && !schedule {
        return Err(OTHER_CHILD.into());
    }
    if in_exec || state.aof.rewrite.is_some() {
        state.save.scheduled = true;
        ctx.out.simple("Background saving scheduled");
        return Ok(());
    }
    if start_background(state) {
        ctx.out.simple("Background saving started");
        Ok(())
    } else {
        Err(BARE_ERR.into())
    }
}

// ---------------------------------------------------------------------------
// The save logic

fn unix_secs() -> i64 {
    crate::keyspace::now_ms() / 1000
}

fn yes(state: &State, name: &str, default: bool) -> bool {
    state
        .config
        .extra
        .get(name)
        .map_or(default, |v| v.eq_ignore_ascii_case("yes"))
}

/// `dir`/`dbfilename`: the file saves write and loads read.
pub fn rdb_path(state: &State) -> std::path::PathBuf {
    std::path::Path::new(&rdb_dir(state)).join(&state.config.dbfilename)
}

fn rdb_dir(state: &State) -> String {
    if state.config.dir.is_empty() {
        ".".to_string()
    } else {
        state.config.dir.clone()
    }
}

/// Where and how to write, and what the header says, as of now.
pub(super) fn spec_of(state: &State) -> SaveSpec {
    let dir = rdb_dir(state);
    let key_delay_us = key_delay(state);
    SaveSpec {
        dir: dir.into(),
        filename: state.config.dbfilename.clone(),
        compress: yes(state, "rdbcompression", true),
        checksum: yes(state, "rdbchecksum", true),
        key_delay_us,
        aux: Aux {
            redis_ver: crate::REDIS_COMPAT_VERSION.to_string(),
            ctime: unix_secs(),
            used_mem: crate::alloc::allocated() as u64,
            // The function libraries, by their code.
            functions: state.functions.as_ref().map_or(Vec::new(), |l| l.codes()),
            // Hashes with field TTLs are saved as type 22 (RDB 80).
            valkey_080: state.dbs.iter().any(|d| !d.hfe.is_empty()),
        },
        sizes: state
            .dbs
            .iter()
            .map(|d| (d.len() as u64, d.expires_len() as u64))
            .collect(),
    }
}

/// `rdb-key-save-delay` now.
fn key_delay(state: &State) -> i64 {
    state
        .config
        .extra
        .get("rdb-key-save-delay")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Keeps the call path's MISCONF flag in step with the save state and the
/// configuration (after a save ends, after CONFIG SET).
pub fn update_write_gate(state: &mut State) {
    state.mode.disk_error = state.save.refuses_writes(
        yes(state, "stop-writes-on-bgsave-error", true),
        &state.config.save,
    ) || state.aof.disk_error().is_some();
}

/// A snapshot whose save was cancelled or failed may still be walking (it
/// must finish its marks before another starts): runs it to its end now,
/// its records dropped.
pub(super) fn finish_abandoned(state: &mut State) {
    let State { snapshot, dbs, .. } = state;
    if let Some(bg) = snapshot.as_mut() {
        while bg.step(dbs, SYNC_STEP) == Progress::More {}
        *snapshot = None;
    }
}

/// Starts a background save: the snapshot (stepped by the main loop) and
/// the writer thread. Logs as Valkey; false if it could not start.
pub fn start_background(state: &mut State) -> bool {
    // An AOF rewrite's snapshot must not be cut short.
    if state.save.running.is_some() || state.aof.rewrite.is_some() {
        return false;
    }
    finish_abandoned(state);
    state.save.dirty_before = state.dirty;
    state.save.last_bgsave_try = unix_secs();
    state.save.saves += 1;
    let spec = spec_of(state);
    let keys_total = spec.sizes.iter().map(|s| s.0).sum();
    let (job, sink) = match rdb_write::spawn(spec) {
        Ok(x) => x,
        Err(e) => {
            state.save.last_bgsave_ok = false;
            tracing::warn!(
                "Can't save in background: thread: {}",
                rdb_write::strerror(&e)
            );
            update_write_gate(state);
            return false;
        }
    };
    let t = Instant::now();
    state.snapshot = Background::start(&mut state.dbs, Box::new(sink));
    state.stats.count_background_start(t.elapsed());
    state.save.running = Some(Running {
        job,
        started: Instant::now(),
        keys_total,
    });
    tracing::info!("Background saving started");
    true
}

/// SAVE: the whole snapshot now, the main thread stepping it while the
/// writer thread writes; true once the file is in place. A background save
/// must not be running.
pub fn save_sync(state: &mut State) -> bool {
    finish_abandoned(state);
    let (job, sink) = match rdb_write::spawn(spec_of(state)) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!("Failed saving the DB: {}", rdb_write::strerror(&e));
            return false;
        }
    };
    if let Some(mut bg) = Background::start(&mut state.dbs, Box::new(sink)) {
        while bg.step(&mut state.dbs, SYNC_STEP) == Progress::More {
            if job.lagging() {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        // Dropping the sink tells the writer it has everything.
    }
    match job.join() {
        Outcome::Saved { .. } => {
            state.dirty = 0;
            state.save.lastsave = unix_secs();
            state.save.last_bgsave_ok = true;
            update_write_gate(state);
            true
        }
        Outcome::Failed | Outcome::Cancelled => false,
    }
}

/// Stops the running background save (its temp file is removed); false
/// when none runs.
pub fn cancel_running(state: &mut State) -> bool {
    let Some(r) = &state.save.running else {
        return false;
    };
    tracing::info!("Background saving will be aborted due to user request");
    r.job.cancel();
    true
}

/// Stops the running background save and waits for its writer to be gone
/// (it removes its temp file, whose name the next save uses).
pub(super) fn stop_running(state: &mut State) {
    if let Some(r) = &state.save.running {
        r.job.cancel();
        r.job.wait();
        poll(state);
    }
}

/// Records how a finished background save went, once its writer is done.
pub fn poll(state: &mut State) {
    let Some(r) = &state.save.running else {
        return;
    };
    if !r.job.is_finished() {
        return;
    }
    let Some(r) = state.save.running.take() else {
        return;
    };
    let secs = r.started.elapsed().as_secs() as i64;
    match r.job.join() {
        Outcome::Saved { .. } => {
            tracing::info!("Background saving terminated with success");
            state.dirty = state.dirty.saturating_sub(state.save.dirty_before);
            state.save.lastsave = unix_secs();
            state.save.last_bgsave_ok = true;
        }
        Outcome::Failed => {
            tracing::warn!("Background saving error");
            state.save.last_bgsave_ok = false;
        }
        Outcome::Cancelled => {
            // Valkey's words for its child killed by SIGUSR1; the status
            // stays as it was.
            tracing::warn!("Background saving terminated by signal 10");
        }
    }
    state.save.last_bgsave_secs = secs;
    update_write_gate(state);
}

/// The `save` schedule and BGSAVE SCHEDULE, from cron (Valkey's
/// serverCron): a point is due when it has seen enough changes and more
/// than its seconds passed since the last save; after a failure, not
/// before `BGSAVE_RETRY_DELAY` seconds.
pub fn cron(state: &mut State) {
    poll(state);
    if state.rdb_load.in_progress.is_some() {
        // The dbs stay empty until a load installs them: saving now would
        // overwrite the file being loaded with nothing.
        return;
    }
    if let Some(r) = &state.save.running {
        // Tests slow a save down, then let it finish by setting it to 0.
        r.job.set_key_delay(key_delay(state));
        return;
    }
    let now = unix_secs();
    let may_retry =
        now - state.save.last_bgsave_try > BGSAVE_RETRY_DELAY || state.save.last_bgsave_ok;
    if !may_retry {
        return;
    }
    let since = now - state.save.lastsave;
    let due = save_points(&state.config.save)
        .into_iter()
        .find(|&(secs, changes)| state.dirty >= changes && since > secs);
    if let Some((secs, changes)) = due {
        tracing::info!("{changes} changes in {secs} seconds. Saving...");
        start_background(state);
        return;
    }
    if state.save.scheduled && start_background(state) {
        state.save.scheduled = false;
    }
}

/// FLUSHALL: a running background save is stopped (its file would hold
/// the data just flushed), and with save points the empty dataset is saved
/// at once, as Valkey's flushAllDataAndResetRDB. True when it saved.
pub fn after_flushall(state: &mut State) -> bool {
    stop_running(state);
    !save_points(&state.config.save).is_empty() && save_sync(state)
}

/// Before exiting (SHUTDOWN, SIGTERM, SIGINT), as Valkey's
/// prepareForShutdown: a running background save is stopped, and the
/// dataset saved when asked to (`save`) or when save points are configured
/// and `nosave` was not given. False when that save failed without
/// `force`: the server must not exit.
pub fn before_exit(state: &mut State, save: bool, nosave: bool, force: bool) -> bool {
    if state.save.running.is_some() {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        stop_running(state);
    }
    if state.aof.state == crate::persist::aof_write::AofState::WaitRewrite
        && state.aof.rewrite.is_some()
    {
        // The AOF was just turned on and its first BASE is not written:
        // exiting now would leave an AOF without the dataset.
        if !force {
            tracing::warn!("Writing initial AOF, can't exit.");
            return false;
        }
        tracing::warn!("Writing initial AOF. Exit anyway.");
    }
    if state.rdb_load.in_progress.is_some() {
        // Never save a dataset that is still loading (it is not installed
        // yet): Valkey's prepareForShutdown turns SAVE into NOSAVE here.
        return true;
    }
    let points = !save_points(&state.config.save).is_empty();
    if !((points && !nosave) || save) {
        return true;
    }
    tracing::info!("Saving the final RDB snapshot before exiting.");
    if save_sync(state) {
        return true;
    }
    if force {
        tracing::warn!("Error trying to save the DB. Exit anyway.");
        true
    } else {
        tracing::warn!("Error trying to save the DB, can't exit.");
        false
    }
}

/// INFO `current_save_keys_processed` and `current_save_keys_total`.
pub fn current_save_keys(state: &State) -> (u64, u64) {
    match &state.save.running {
        Some(r) => (r.job.processed(), r.keys_total),
        None => (0, 0),
    }
}

/// Seconds the running background save has taken; -1 when none runs.
pub fn current_bgsave_secs(state: &State) -> i64 {
    state
        .save
        .running
        .as_ref()
        .map_or(-1, |r| r.started.elapsed().as_secs() as i64)
}

/// The walk waits for the writer: the main loop may sleep a little.
pub fn writer_lagging(state: &State) -> bool {
    state.save.running.as_ref().is_some_and(|r| r.job.lagging())
}
