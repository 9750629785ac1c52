//! The main loop's side of the append-only file (the logic is
//! `commands::aof`, the writer `persist::aof_write`):
//!
//! - once loading is over, the INCR file is opened (or the AOF created);
//! - every turn, after all of the turn's commands, cron expiry and blocked
//!   clients served, and before any reply leaves (`MainLoop::flush_outbox`),
//!   the turn's propagation stream is written: under `appendfsync always`
//!   with one write and one fsync for the whole turn (group commit). A
//!   failure there exits the process, as Valkey does, so nothing that is
//!   not on disk is ever acknowledged;
//! - each turn, a finished rewrite is installed; from cron, scheduled and
//!   automatic rewrites;
//! - before exit, the buffer is written and the file synced.

use crate::commands::aof;
use crate::state::State;

/// After loading (or at once when nothing loads): opens the AOF, or exits
/// the process when it cannot (Valkey's aofOpenIfNeededOnServerStart);
/// then logs the `ready` lines held back for it.
pub fn on_server_start(state: &mut State, ready: &mut Vec<&'static str>) {
    if aof::open_on_server_start(state).is_err() {
        std::process::exit(1);
    }
    for line in ready.drain(..) {
        tracing::info!("{line}");
    }
}

/// Before the turn's replies leave: the turn's writes on disk as the fsync
/// policy says.
#[inline]
pub fn before_replies(state: &mut State) {
    if (state.aof.is_on() || !state.aof.actions.is_empty()) && aof::flush_turn(state).is_err() {
        // The reason was logged; exit without acknowledging anything.
        std::process::exit(1);
    }
}

/// After each turn's snapshot step: a rewrite that finished.
#[inline]
pub fn tick(state: &mut State) {
    if state.aof.rewrite.is_some() {
        aof::poll_rewrite(state);
    }
}

/// From cron (not while DEBUG PAUSE-CRON holds it).
pub fn cron(state: &mut State) {
    if !state.debug.pause_cron {
        aof::cron(state);
    }
}

/// Before the process exits.
pub fn before_exit(state: &mut State) {
    aof::before_exit(state);
}
