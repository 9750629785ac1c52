//! BGREWRITEAOF and the AOF logic the rest of the server shares (the
//! writer is `persist::aof_write`, the main loop's hooks `exec::aof`):
//! opening the INCR file at startup, feeding the propagation stream to the
//! writer, starting a rewrite (a forkless snapshot into the RDB writer
//! thread, writing the new BASE) and installing its result, turning the
//! AOF on and off (CONFIG SET appendonly), and automatic rewrites.
//!
//! Valkey's behaviour and words (aof.c): the replies, the log lines, the
//! manifest transitions. A rewrite opens a new INCR file for the writes
//! that follow its start; when the BASE is written, the manifest names the
//! new BASE and that INCR file, and the files it replaced are deleted.
//!
//! A command that starts a rewrite or stops the AOF runs before the stream
//! of its turn is written: it records where in the stream it happened
//! (`Aof::actions`), and the main loop switches files at exactly that
//! point (`flush_turn`), so each write lands on the right side.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::flags::*;
use super::meta::{Doc, Group};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::CmdResult;
use crate::keyspace::snapshot::{Background, Progress};
use crate::persist::aof_manifest::{self, Manifest};
use crate::persist::aof_write::{
    self, Action, AofState, Fatal, FlushOpts, FsyncPolicy, Rewrite, RewriteDone,
};
use crate::persist::rdb_write::{self, Kind, Outcome};
use crate::state::State;
use crate::util::strerror;

const IN_PROGRESS: &str = "ERR Background append only file rewriting already in progress";
const CANT_REWRITE: &str =
    "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";
/// Consecutive failed rewrites from which automatic ones are spaced out
/// (AOF_REWRITE_LIMITE_THRESHOLD), and the longest delay, in minutes.
const LIMIT_THRESHOLD: u64 = 3;
const LIMIT_MAX_MINUTES: u64 = 60;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "bgrewriteaof",
    arity: 1,
    flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
    keys: KeySpec::NONE,
    handler: bgrewriteaof,
    subcommands: &[],
    doc: &Doc {
        summary: "Rewrites the append-only file in the background.",
        complexity: "O(1)",
        ..Doc::new(Group::Server, "1.0.0", 0)
    },
}];

fn bgrewriteaof(ctx: &mut Ctx) -> CmdResult {
    // NOSCRIPT: not a client's own call means inside EXEC.
    let in_exec = !ctx.may_block();
    let st = ctx.admin().state;
    if st.aof.rewrite.is_some() {
        return Err(IN_PROGRESS.into());
    }
    if in_exec || st.save.running.is_some() || st.snapshot.is_some() {
        st.aof.rewrite_scheduled = true;
        // Asked for by hand: the failure limit does not hold it back.
        st.aof.rewrite_failures = 0;
        ctx.out
            .simple("Background append only file rewriting scheduled");
        return Ok(());
    }
    if start_rewrite(st) {
        ctx.out
            .simple("Background append only file rewriting started");
        Ok(())
    } else {
        Err(CANT_REWRITE.into())
    }
}

// ---------------------------------------------------------------------------
// Configuration

fn extra<'a>(st: &'a State, name: &str, default: &'a str) -> &'a str {
    st.config.extra.get(name).map_or(default, String::as_str)
}

fn yes(st: &State, name: &str, default: bool) -> bool {
    st.config
        .extra
        .get(name)
        .map_or(default, |v| v.eq_ignore_ascii_case("yes"))
}

pub fn fsync_policy(st: &State) -> FsyncPolicy {
    FsyncPolicy::parse(extra(st, "appendfsync", "everysec"))
}

pub fn aof_filename(st: &State) -> String {
    extra(st, "appendfilename", "appendonly.aof").to_string()
}

/// `dir`/`appenddirname`.
pub fn aof_dir(st: &State) -> PathBuf {
    aof_write::aof_dir(&st.config.dir, extra(st, "appenddirname", "appendonlydir"))
}

fn root_dir(st: &State) -> PathBuf {
    if st.config.dir.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(&st.config.dir)
    }
}

fn timestamp(st: &State) -> Option<i64> {
    yes(st, "aof-timestamp-enabled", false).then(|| crate::keyspace::now_ms() / 1000)
}

// ---------------------------------------------------------------------------
// Start-up

/// Valkey's aofOpenIfNeededOnServerStart, once loading is over: the AOF
/// directory, a BASE of the dataset when there is neither BASE nor INCR,
/// the last INCR file opened for appending (or a new one), the manifest
/// persisted. Err: the log lines were written, the server must exit.
pub fn open_on_server_start(st: &mut State) -> Result<(), Fatal> {
    if !st.config.appendonly {
        return Ok(());
    }
    let dir = aof_dir(st);
    let name = aof_filename(st);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            strerror(&e)
        );
        return Err(Fatal);
    }
    let mut m = match st.aof_manifest.take() {
        Some(m) => m,
        None => match aof_manifest::load(&dir, &name) {
            Ok(Some(m)) => m,
            Ok(None) => Manifest::default(),
            // Never written over: the loader reports it (and exits) too.
            Err(aof_manifest::LoadError::Io(line)) => {
                tracing::warn!("{line}");
                return Err(Fatal);
            }
            Err(aof_manifest::LoadError::Format(e)) => {
                for line in e.log_lines() {
                    tracing::warn!("{line}");
                }
                return Err(Fatal);
            }
        },
    };
    let incr_existed = !m.incr.is_empty();
    // What was there before (what loading read): INFO's sizes start there.
    let loaded_size = total_size(&dir, &m);
    if m.base.is_none() && !incr_existed {
        let preamble = yes(st, "aof-use-rdb-preamble", true);
        let base = m.new_base(&name, preamble).display();
        let rel = PathBuf::from(extra(st, "appenddirname", "appendonlydir")).join(&base);
        if !write_base_sync(st, rel.to_string_lossy().into_owned(), preamble) {
            return Err(Fatal);
        }
        tracing::info!("Creating AOF base file {base} on server start");
    }
    let incr = m.last_incr_or_new(&name).clone();
    let path = incr.path(&dir);
    let file = match aof_write::open_append(&path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(
                "Can't open the append-only file {}: {}",
                path.display(),
                strerror(&e)
            );
            return Err(Fatal);
        }
    };
    if let Err(line) = aof_manifest::persist(&dir, &name, &mut m) {
        tracing::warn!("{line}");
        return Err(Fatal);
    }
    let size = aof_write::file_size(&path);
    if let Err(e) = st.aof.switch_file(file, incr.display(), size) {
        tracing::warn!("Can't start the AOF fsync thread: {}", strerror(&e));
        return Err(Fatal);
    }
    st.aof.current_size = loaded_size;
    st.aof.rewrite_base_size = loaded_size;
    st.aof.state = AofState::On;
    st.aof_manifest = Some(m);
    st.set_propagating(true);
    if incr_existed {
        tracing::info!("Opening AOF incr file {} on server start", incr.display());
    } else {
        tracing::info!("Creating AOF incr file {} on server start", incr.display());
    }
    Ok(())
}

/// Bytes of the BASE and INCR files.
fn total_size(dir: &std::path::Path, m: &Manifest) -> u64 {
    m.files_to_load()
        .map(|f| aof_write::file_size(&f.path(dir)))
        .sum()
}

fn base_kind(st: &State, preamble: bool) -> Kind {
    if preamble {
        Kind::AofBaseRdb
    } else {
        Kind::AofBaseCommands {
            timestamps: yes(st, "aof-timestamp-enabled", false),
        }
    }
}

/// Writes the dataset as a BASE at `rel` (relative to `dir`), the main
/// thread stepping the snapshot (rewriteAppendOnlyFile at start-up).
fn write_base_sync(st: &mut State, rel: String, preamble: bool) -> bool {
    super::save::finish_abandoned(st);
    let mut spec = super::save::spec_of(st);
    spec.filename = rel;
    let (job, sink) = match rdb_write::spawn_kind(spec, base_kind(st, preamble)) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!("Can't write the AOF base: thread: {}", strerror(&e));
            return false;
        }
    };
    if let Some(mut bg) = Background::start(&mut st.dbs, Box::new(sink)) {
        while bg.step(&mut st.dbs, Duration::from_millis(50)) == Progress::More {
            if job.lagging() {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }
    matches!(job.join(), Outcome::Saved { .. })
}

// ---------------------------------------------------------------------------
// Each turn

/// The propagation stream of the turn into the AOF buffer, with the file
/// switches commands asked for at their place in it, then one write (and
/// with `always` one fsync): called before any reply of the turn leaves.
/// Err: the server must exit (`always` could not make it durable).
pub fn flush_turn(st: &mut State) -> Result<(), Fatal> {
    let mut stream = std::mem::take(&mut st.effects.stream);
    let actions = std::mem::take(&mut st.aof.actions);
    let ts = timestamp(st);
    let mut done = 0;
    for (at, action) in actions {
        let at = at.min(stream.len());
        feed(st, &stream[done..at], ts);
        done = at;
        match action {
            Action::OpenIncr => open_new_incr(st),
            Action::Stop => stop_now(st),
        }
    }
    feed(st, &stream[done..], ts);
    stream.clear();
    if st.effects.stream.is_empty() {
        st.effects.stream = stream;
    }
    let r = flush(st, false);
    signal_waitaof(st);
    r
}

/// The blocked key WAITAOF waits on (a write to a user key of that name
/// only makes it look again).
pub const WAITAOF_KEY: &[u8] = b"\0ferrokey:waitaof";

/// The AOF offset that covers every write run so far: all fed, plus the
/// turn's stream not fed yet (its first byte: buffers are written and
/// synced whole, so that one synced means all of it is).
pub fn write_offset(st: &State) -> u64 {
    st.aof.fed + u64::from(!st.effects.stream.is_empty())
}

/// Wakes the WAITAOF clients whose offset is now synced.
fn signal_waitaof(st: &mut State) {
    if st.aof.waitaof.is_empty() {
        return;
    }
    let State { aof, blocking, .. } = st;
    // Those no longer blocked (timed out, gone) are forgotten.
    aof.waitaof.retain(|id, _| blocking.is_blocked(*id));
    let synced = aof.fsynced();
    for (target, db) in aof.waitaof.values() {
        if *target <= synced {
            blocking.signal_ready(*db, WAITAOF_KEY);
        }
    }
}

fn feed(st: &mut State, part: &[crate::state::Propagated], ts: Option<i64>) {
    // While turning on, writes are kept only once the rewrite runs.
    let keep = match st.aof.state {
        AofState::On => true,
        AofState::WaitRewrite => st.aof.rewrite.is_some() && st.aof.has_file(),
        AofState::Off => false,
    };
    if keep {
        for p in part {
            st.aof.feed(p.db, &p.argv, ts);
        }
    }
}

/// Writes the buffer (`force`: even while a background fsync runs).
pub fn flush(st: &mut State, force: bool) -> Result<(), Fatal> {
    let opts = FlushOpts {
        policy: fsync_policy(st),
        force,
        skip_fsync: yes(st, "no-appendfsync-on-rewrite", false)
            && (st.aof.rewrite.is_some() || st.save.running.is_some()),
    };
    let r = st.aof.flush(opts);
    // MISCONF follows the write status (only recomputed when it changes).
    let failing = st.aof.disk_error().is_some();
    if failing != st.mode.disk_error {
        super::save::update_write_gate(st);
    }
    r
}

// ---------------------------------------------------------------------------
// Rewrites

/// rewriteAppendOnlyFileBackground: the snapshot writing the new BASE to
/// a temp file, and (at this point of the stream) a new INCR file for the
/// writes that follow. False when it could not start (logged).
pub fn start_rewrite(st: &mut State) -> bool {
    if st.aof.rewrite.is_some() || st.save.running.is_some() || st.snapshot.is_some() {
        return false;
    }
    let dir = aof_dir(st);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            strerror(&e)
        );
        st.aof.last_bgrewrite_ok = false;
        return false;
    }
    let preamble = yes(st, "aof-use-rdb-preamble", true);
    let pid = std::process::id();
    let temp = format!("temp-rewriteaof-bg-{pid}.aof");
    let mut spec = super::save::spec_of(st);
    spec.filename = temp.clone();
    let (job, sink) = match rdb_write::spawn_kind(spec, base_kind(st, preamble)) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(
                "Can't rewrite append only file in background: thread: {}",
                strerror(&e)
            );
            st.aof.last_bgrewrite_ok = false;
            return false;
        }
    };
    let t = Instant::now();
    st.snapshot = Background::start(&mut st.dbs, Box::new(sink));
    st.stats.count_background_start(t.elapsed());
    if st.snapshot.is_none() {
        job.cancel();
        return false;
    }
    // The writes from here on go to the new INCR file.
    let at = st.effects.stream.len();
    st.aof.actions.push((at, Action::OpenIncr));
    st.aof.rewrites += 1;
    st.aof.rewrite = Some(Rewrite {
        job,
        started: Instant::now(),
        temp,
        preamble,
        incr_opened: None,
    });
    tracing::info!(
        "Background append only file rewriting started by pid {}",
        std::process::id()
    );
    true
}

/// openNewIncrAofForAppend: a new INCR file listed in the manifest (or,
/// while turning on, the temp INCR file), the old one synced and closed.
fn open_new_incr(st: &mut State) {
    // Whatever the old file still owes is written first.
    if flush(st, true).is_err() {
        std::process::exit(1);
    }
    if st.aof.rewrite.is_none() {
        return;
    }
    if !st.aof.is_on() {
        // Nothing is appended: the rewrite only writes a BASE.
        mark_incr_opened(st);
        return;
    }
    let dir = aof_dir(st);
    let name = aof_filename(st);
    let opened = if st.aof.state == AofState::WaitRewrite {
        let temp = aof_manifest::temp_incr_name(&name);
        aof_write::open_truncate(&dir.join(&temp)).map(|f| (f, temp))
    } else {
        let mut m = st.aof_manifest.clone().unwrap_or_default();
        let incr = m.new_incr(&name).clone();
        let path = incr.path(&dir);
        match aof_write::open_append(&path) {
            Ok(f) => match aof_manifest::persist(&dir, &name, &mut m) {
                Ok(()) => {
                    st.aof_manifest = Some(m);
                    Ok((f, incr.display()))
                }
                Err(line) => {
                    tracing::warn!("{line}");
                    let _ = std::fs::remove_file(&path);
                    Err(std::io::Error::other(line))
                }
            },
            Err(e) => {
                tracing::warn!(
                    "Can't open the append-only file {}: {}",
                    path.display(),
                    strerror(&e)
                );
                Err(e)
            }
        }
    };
    match opened {
        Ok((file, fname)) => {
            if st.aof.state == AofState::On {
                tracing::info!("Creating AOF incr file {fname} on background rewrite");
            }
            if st.aof.switch_file(file, fname, 0).is_ok() {
                mark_incr_opened(st);
                return;
            }
            fail_rewrite_start(st);
        }
        Err(_) => fail_rewrite_start(st),
    }
}

fn mark_incr_opened(st: &mut State) {
    if let Some(r) = st.aof.rewrite.as_mut() {
        r.incr_opened = Some(true);
    }
}

/// The new INCR file could not be opened: the rewrite is abandoned.
fn fail_rewrite_start(st: &mut State) {
    if let Some(r) = st.aof.rewrite.as_mut() {
        r.job.cancel();
        r.incr_opened = Some(false);
    }
}

/// Notices a finished rewrite and installs its BASE
/// (backgroundRewriteDoneHandler); from each turn.
pub fn poll_rewrite(st: &mut State) {
    let Some(r) = &st.aof.rewrite else {
        return;
    };
    // Not before its INCR file is settled (the end of the turn it began).
    if !r.job.is_finished() || r.incr_opened.is_none() {
        return;
    }
    let Some(r) = st.aof.rewrite.take() else {
        return;
    };
    let secs = r.started.elapsed().as_secs() as i64;
    st.aof.last_rewrite_secs = secs;
    let root = root_dir(st);
    let temp_path = root.join(&r.temp);
    let (outcome, r) = r.finish();
    let ok = matches!(outcome, Outcome::Saved { .. }) && r.incr_opened == Some(true);
    if !ok {
        let _ = std::fs::remove_file(&temp_path);
        if outcome == Outcome::Cancelled && r.incr_opened == Some(true) {
            tracing::warn!("Background AOF rewrite terminated by signal 10");
        } else {
            tracing::warn!("Background AOF rewrite terminated with error");
            st.aof.last_bgrewrite_ok = false;
            st.aof.rewrite_failures += 1;
        }
        retry_turning_on(st);
        return;
    }
    tracing::info!("Background AOF rewrite terminated with success");
    if install_rewrite(st, &r, &temp_path) {
        st.aof.last_bgrewrite_ok = true;
        st.aof.rewrite_failures = 0;
        tracing::info!("Background AOF rewrite finished successfully");
        if st.aof.state == AofState::WaitRewrite {
            st.aof.state = AofState::On;
        }
    } else {
        let _ = std::fs::remove_file(&temp_path);
        st.aof.last_bgrewrite_ok = false;
        st.aof.rewrite_failures += 1;
        retry_turning_on(st);
    }
}

/// A rewrite that was to turn the AOF on failed: what the temp INCR file
/// holds is dropped (the next rewrite's BASE covers it) and another
/// rewrite is scheduled.
fn retry_turning_on(st: &mut State) {
    if st.aof.state != AofState::WaitRewrite {
        return;
    }
    st.aof.buf.clear();
    let temp = aof_manifest::temp_incr_name(&aof_filename(st));
    tracing::info!("Removing the temp incr aof file {temp} in the background");
    let _ = std::fs::remove_file(aof_dir(st).join(temp));
    st.aof.rewrite_scheduled = true;
}

/// The new BASE renamed into place and the manifest updated; the files it
/// replaced deleted. False when a rename or the manifest failed (logged).
fn install_rewrite(st: &mut State, r: &RewriteDone, temp_path: &std::path::Path) -> bool {
    let dir = aof_dir(st);
    let name = aof_filename(st);
    let mut m = st.aof_manifest.clone().unwrap_or_default();
    let base = m.new_base(&name, r.preamble).clone();
    let base_path = base.path(&dir);
    if let Err(e) = std::fs::rename(temp_path, &base_path) {
        tracing::warn!(
            "Error trying to rename the temporary AOF base file {} into {}: {}",
            r.temp,
            base.display(),
            strerror(&e)
        );
        return false;
    }
    tracing::info!(
        "Successfully renamed the temporary AOF base file {} into {}",
        r.temp,
        base.display()
    );
    if st.aof.state == AofState::WaitRewrite {
        let temp_incr = aof_manifest::temp_incr_name(&name);
        let incr = m.new_incr(&name).clone();
        if let Err(e) = std::fs::rename(dir.join(&temp_incr), incr.path(&dir)) {
            tracing::warn!(
                "Error trying to rename the temporary AOF incr file {temp_incr} into {}: {}",
                incr.display(),
                strerror(&e)
            );
            let _ = std::fs::remove_file(&base_path);
            return false;
        }
        tracing::info!(
            "Successfully renamed the temporary AOF incr file {temp_incr} into {}",
            incr.display()
        );
        st.aof.file_name = incr.display();
    }
    m.mark_rewritten_incr_as_history(st.aof.has_file());
    if let Err(line) = aof_manifest::persist(&dir, &name, &mut m) {
        tracing::warn!("{line}");
        return false;
    }
    if st.aof.is_on() {
        st.aof.current_size = aof_write::file_size(&base_path) + st.aof.last_incr_size;
        st.aof.rewrite_base_size = st.aof.current_size;
    }
    st.aof_manifest = Some(m);
    delete_history(st);
    true
}

/// aofDelHistoryFiles: the HISTORY files deleted and dropped from the
/// manifest, unless `aof-disable-auto-gc yes` (a failure to delete one
/// harms nothing).
pub fn delete_history(st: &mut State) {
    if yes(st, "aof-disable-auto-gc", false) {
        return;
    }
    let dir = aof_dir(st);
    let name = aof_filename(st);
    let Some(m) = st.aof_manifest.as_mut() else {
        return;
    };
    if m.history.is_empty() {
        return;
    }
    for f in m.take_history() {
        tracing::info!(
            "Removing the history file {} in the background",
            f.display()
        );
        let _ = std::fs::remove_file(f.path(&dir));
    }
    if let Err(line) = aof_manifest::persist(&dir, &name, m) {
        tracing::warn!("{line}");
    }
}

/// Stops a running rewrite (its temp file removed): FLUSHALL of the AOF
/// off, shutdown, appendonly no.
pub fn kill_rewrite(st: &mut State) {
    let Some(r) = st.aof.rewrite.take() else {
        return;
    };
    tracing::info!("Killing running AOF rewrite child: {}", std::process::id());
    r.job.cancel();
    r.job.wait();
    let _ = std::fs::remove_file(root_dir(st).join(&r.temp));
    if st.aof.state == AofState::WaitRewrite {
        let temp = aof_manifest::temp_incr_name(&aof_filename(st));
        tracing::info!("Removing the temp incr aof file {temp} in the background");
        let _ = std::fs::remove_file(aof_dir(st).join(temp));
    }
}

/// From cron: a scheduled rewrite once nothing else runs, the retry of
/// turning on, and automatic rewrites on growth.
pub fn cron(st: &mut State) {
    poll_rewrite(st);
    if st.rdb_load.in_progress.is_some()
        || st.aof.rewrite.is_some()
        || st.save.running.is_some()
        || st.snapshot.is_some()
    {
        return;
    }
    if st.aof.rewrite_scheduled || st.aof.state == AofState::WaitRewrite {
        if rewrite_limited(st) {
            return;
        }
        if start_rewrite(st) {
            st.aof.rewrite_scheduled = false;
        }
        return;
    }
    let pct: u64 = extra(st, "auto-aof-rewrite-percentage", "100")
        .parse()
        .unwrap_or(0);
    let min: u64 = extra(st, "auto-aof-rewrite-min-size", "67108864")
        .parse()
        .unwrap_or(0);
    if st.aof.state != AofState::On || pct == 0 || st.aof.current_size <= min {
        return;
    }
    let base = st.aof.rewrite_base_size.max(1);
    let growth = (st.aof.current_size * 100 / base).saturating_sub(100);
    if growth >= pct && !rewrite_limited(st) {
        tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
        start_rewrite(st);
    }
}

/// aofRewriteLimited: after repeated failures, automatic rewrites wait
/// 1, 2, 4, ... up to 60 minutes between attempts.
fn rewrite_limited(st: &mut State) -> bool {
    if st.aof.rewrite_failures < LIMIT_THRESHOLD {
        return false;
    }
    let now = Instant::now();
    if let Some(next) = st.aof.next_limited_retry {
        if now < next {
            return true;
        }
    }
    let exp = (st.aof.rewrite_failures - LIMIT_THRESHOLD).min(6);
    let minutes = (1u64 << exp).min(LIMIT_MAX_MINUTES);
    st.aof.next_limited_retry = Some(now + Duration::from_secs(minutes * 60));
    tracing::warn!(
        "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {minutes} minutes"
    );
    false
}

// ---------------------------------------------------------------------------
// appendonly yes/no at run time

/// CONFIG SET appendonly: startAppendOnly / stopAppendOnly. Err: Valkey's
/// CONFIG SET error.
pub fn apply_config(st: &mut State, in_exec: bool) -> Result<(), &'static str> {
    // aof-disable-auto-gc no: what was kept goes now.
    delete_history(st);
    if !st.config.appendonly && st.aof.is_on() {
        // Inside EXEC the transaction's unit is still being built (MULTI
        // goes in front of it when it ends): stop after the whole turn, so
        // the file never holds half a transaction.
        let at = if in_exec {
            usize::MAX
        } else {
            st.effects.stream.len()
        };
        st.aof.actions.push((at, Action::Stop));
        return Ok(());
    }
    if !st.config.appendonly || st.aof.is_on() {
        return Ok(());
    }
    st.aof.state = AofState::WaitRewrite;
    st.set_propagating(true);
    if st.save.running.is_some() || (st.snapshot.is_some() && st.aof.rewrite.is_none()) {
        st.aof.rewrite_scheduled = true;
        tracing::info!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
    } else if in_exec {
        st.aof.rewrite_scheduled = true;
        tracing::info!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else {
        if st.aof.rewrite.is_some() {
            tracing::info!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            kill_rewrite(st);
            super::save::finish_abandoned(st);
        }
        if !start_rewrite(st) {
            st.aof.state = AofState::Off;
            st.set_propagating(false);
            tracing::warn!("The server needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return Err("Unable to turn on AOF. Check server logs.");
        }
    }
    Ok(())
}

/// stopAppendOnly, at its place in the stream.
fn stop_now(st: &mut State) {
    if !st.aof.is_on() {
        return;
    }
    let policy = fsync_policy(st);
    st.aof.close(policy);
    st.aof.rewrite_scheduled = false;
    kill_rewrite(st);
    st.set_propagating(false);
    super::save::update_write_gate(st);
}

/// Before exiting: a rewrite killed, the buffer written and the file
/// synced (prepareForShutdown).
pub fn before_exit(st: &mut State) {
    if st.aof.rewrite.is_some() {
        tracing::warn!("There is a child rewriting the AOF. Killing it!");
        kill_rewrite(st);
    }
    if !st.aof.is_on() {
        return;
    }
    tracing::info!("Calling fsync() on the AOF file.");
    let _ = flush_turn(st);
    let _ = flush(st, true);
    st.aof.sync_now();
}
