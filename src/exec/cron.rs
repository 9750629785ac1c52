//! Periodic work on the main thread, `hz` times a second: active expiry
//! (timed for the latency monitor's `expire-cycle`), incremental rehashing
//! while idle, closing idle clients (`timeout`), and giving freed memory
//! back to the system after load drops. Each part is
//! time-boxed so the event loop never stalls on it.
//!
//! The active expiry of hash fields runs in short slices (`FIELD_SLICE`):
//! one each tick, and while a slice leaves due fields behind, more between
//! ticks (`field_slice`, called by the event loop), like Valkey's fast
//! expire cycles but never longer than a millisecond or so.

use std::time::{Duration, Instant};

use crate::keyspace::expire::active_cycle;
use crate::state::latency;
use crate::state::Clients;
use crate::state::State;

/// Share of each cron period that active expiry may use (Valkey: 25%).
const EXPIRE_TIME_PCT: u32 = 25;
/// Commands plus connections in one cron tick that still count as quiet
/// when deciding to give freed memory back (see `alloc::TrimPolicy`).
const QUIET_OPS: u64 = 16;

/// One tick. Returns when the field cycle wants its next slice, if it
/// left due fields behind (see `field_slice`).
pub fn run(
    state: &mut State,
    clients: &Clients,
    in_flight: &dyn Fn(u64) -> bool,
) -> Option<Instant> {
    // DEBUG PAUSE-CRON 1: nothing periodic runs, as in Valkey.
    if state.debug.pause_cron {
        return None;
    }
    let period = Duration::from_millis(1000 / state.config.hz.max(1) as u64);
    let budget = period * EXPIRE_TIME_PCT / 100;
    let now = crate::keyspace::now_ms();
    let start = Instant::now();
    let ndbs = state.dbs.len();
    let mut expired_any = false;
    // DEBUG SET-ACTIVE-EXPIRE 0: only lookups expire keys.
    // CLIENT PAUSE pauses expiry too.
    let active_expire = state.debug.active_expire && !state.pause.is_active();
    for db in state.dbs.iter_mut().filter(|_| active_expire) {
        if db.expires_len() > 0 {
            let left = budget.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            expired_any = true;
            active_cycle(
                db,
                now,
                left / ndbs.max(1) as u32 + Duration::from_micros(100),
            );
        }
    }
    state.propagate_expired();
    let fields = expire_fields(state, active_expire, budget.saturating_sub(start.elapsed()));
    expired_any |= fields.is_some();
    if expired_any {
        // The whole cycle is one main-thread stall (Valkey samples the
        // same span as the cycle goes; the second's worst is what stays).
        let usec = start.elapsed().as_micros() as u64;
        let threshold = state.config.latency_monitor_threshold;
        state.latency.record(threshold, latency::EXPIRE_CYCLE, usec);
    }
    // `activerehashing no` leaves resizes to the lookups that step them.
    let rehash = state
        .config
        .extra
        .get("activerehashing")
        .map(String::as_str)
        != Some("no");
    for db in state.dbs.iter_mut().filter(|_| rehash) {
        db.rehash_for(Duration::from_millis(1));
    }
    state.collect_db_garbage();
    let (used, _) = crate::alloc::update_peak();
    // A monitor polling INFO is no load: a tick with a handful of commands
    // and connections still counts as quiet.
    let activity = state.stats.commands_processed + state.stats.connections_received;
    // (Wrapping: CONFIG RESETSTAT may have zeroed the counters.)
    let active =
        activity.wrapping_sub(std::mem::replace(&mut state.trim_activity, activity)) > QUIET_OPS;
    if fields == Some(true) {
        state.trim.hold(used);
    } else if state
        .trim
        .should_release(used, active, state.config.hz.max(1))
    {
        // Dropped off the main thread like any lazily freed value.
        state.garbage.push(Box::new(ReleaseFreeMemory));
    }
    state.rates.sample(&state.stats);
    crate::commands::migrate::close_idle_sockets(&mut state.migrate_sockets);
    if state.config.timeout > 0 {
        let idle = Duration::from_secs(state.config.timeout);
        for c in clients.iter() {
            // Monitors are replicas to Valkey, and subscribers wait for
            // messages: neither is timed out.
            if !in_flight(c.id)
                && !c.monitor
                && !c.subscribed
                && c.last_interaction.elapsed() > idle
            {
                state.kills.push(c.id);
            }
        }
    }
    fields.and_then(|more| more.then(|| Instant::now() + FIELD_SLICE_GAP))
}

/// Longest slice of the active expiry of hash fields (Valkey's fast
/// cycle's 1 ms): even a million fields due at once stall the main thread
/// no longer than this (plus one hash's visit) at a time.
const FIELD_SLICE: Duration = Duration::from_millis(1);
/// Pause after a slice that left due fields behind: one slice every 2 ms
/// at most, half the main thread while a backlog lasts (Valkey's fast
/// cycles: 1 ms, not again within 2 ms of the last one's start).
const FIELD_SLICE_GAP: Duration = Duration::from_millis(1);

/// A slice of the field cycle between cron ticks, when the last one left
/// due fields behind (`run` or this returned a time, now passed). Returns
/// when the next slice is wanted, if any. Runs what `run` would: nothing
/// with the cron paused, active expiry off or clients paused.
pub fn field_slice(state: &mut State) -> Option<Instant> {
    if state.debug.pause_cron {
        return None;
    }
    let active = state.debug.active_expire && !state.pause.is_active();
    let start = Instant::now();
    let more = expire_fields(state, active, FIELD_SLICE)?;
    let usec = start.elapsed().as_micros() as u64;
    let threshold = state.config.latency_monitor_threshold;
    state.latency.record(threshold, latency::EXPIRE_CYCLE, usec);
    more.then(|| Instant::now() + FIELD_SLICE_GAP)
}

/// The active expiry of hash fields (`keyspace::hash_ttl`) for at most
/// `left` (and `FIELD_SLICE`), and its effects: per hash, `hexpired` and
/// an HDEL of the fields; a hash left empty also gets `del` and goes out
/// as HDEL plus UNLINK (DEL with `lazyfree-lazy-expire no`) in one
/// MULTI/EXEC, as Valkey's. None if there was nothing to look at, else
/// whether it left due fields behind.
fn expire_fields(state: &mut State, active: bool, left: Duration) -> Option<bool> {
    use crate::config::notify;
    use crate::state::effects::NO_DB;
    use bytes::Bytes;
    if !active || state.dbs.iter().all(|db| db.hfe.is_empty()) {
        return None;
    }
    let now = crate::keyspace::now_ms();
    let wanted = state.effects.wanted();
    let budget = left.min(FIELD_SLICE);
    let start = Instant::now();
    let mut more = false;
    for db in state.dbs.iter_mut() {
        if db.hfe.is_empty() {
            continue;
        }
        let left = budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            // This db's turn comes with the next slice.
            more = true;
            break;
        }
        db.hfe.set_logging(wanted);
        more |= crate::keyspace::hash_ttl::active_field_cycle(db, now, left).more;
    }
    if !wanted {
        return Some(more);
    }
    let del = crate::commands::propagate::expire_del(state.config.lazyfree_lazy_expire);
    for i in 0..state.dbs.len() {
        let id = state.dbs[i].id;
        for x in state.dbs[i].hfe.take_log() {
            let mut hdel = Vec::with_capacity(x.fields.len() + 2);
            hdel.push(Bytes::from_static(b"HDEL"));
            hdel.push(x.key.clone());
            hdel.extend(x.fields.into_iter().map(|f| Bytes::from(f.into_vec())));
            state.effects.notify(id, notify::HASH, "hexpired", &x.key);
            state.effects.modified(id, &x.key);
            if x.emptied {
                state.effects.notify(id, notify::GENERIC, "del", &x.key);
                state
                    .effects
                    .push(NO_DB, vec![Bytes::from_static(b"MULTI")]);
                state.effects.push(id, hdel);
                state.effects.push(id, vec![del.clone(), x.key]);
                state.effects.push(NO_DB, vec![Bytes::from_static(b"EXEC")]);
            } else {
                state.effects.push(id, hdel);
            }
        }
    }
    Some(more)
}

/// Gives free heap pages back to the system when dropped: sent as garbage,
/// so the walk over the allocator's free lists runs on an IO thread or the
/// lazy-free thread.
struct ReleaseFreeMemory;

impl Drop for ReleaseFreeMemory {
    fn drop(&mut self) {
        crate::alloc::release_free_memory();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exec::harness::Harness;
    use crate::keyspace::hash::{Hash, Limits, Ttl};
    use crate::keyspace::Value;

    /// `hashes` hashes of `fields` fields each, all due long ago.
    fn fill_due(state: &mut State, hashes: usize, fields: usize) {
        let lim = Limits {
            max_entries: 128,
            max_value: 64,
        };
        for i in 0..hashes {
            let mut h = Hash::new();
            for f in 0..fields {
                h.put(format!("f{f}").as_bytes(), b"v", lim, 0, Ttl::At(100));
            }
            state.dbs[0].add(format!("h{i}").as_bytes(), Value::Hash(h), 0);
        }
    }

    #[test]
    fn slices_follow_a_backlog_until_it_is_gone() {
        let mut h = Harness::new(Config::default());
        // 50,000 fields: more than a 1 ms slice removes, even optimized.
        fill_due(&mut h.state, 100, 500);
        let before = Instant::now();
        let next = run(&mut h.state, &h.clients, &|_| false);
        let next = next.expect("the tick's slice left fields behind");
        assert!(next > before, "the next slice waits its gap");
        assert!(h.state.dbs[0].expired_fields > 0);
        let mut slices = 1;
        while field_slice(&mut h.state).is_some() {
            slices += 1;
            assert!(slices < 1_000_000, "the backlog never ends");
        }
        // Nothing left: a slice finds nothing to do.
        assert_eq!(field_slice(&mut h.state), None);
        assert_eq!(h.state.dbs[0].expired_fields, 50_000);
        assert_eq!(h.state.dbs[0].len(), 0);
        assert!(h.state.dbs[0].hfe.is_empty());
    }

    #[test]
    fn no_slice_while_the_cron_is_paused_or_expiry_is_off() {
        let mut h = Harness::new(Config::default());
        fill_due(&mut h.state, 10, 10);
        h.state.debug.pause_cron = true;
        assert_eq!(field_slice(&mut h.state), None);
        assert_eq!(run(&mut h.state, &h.clients, &|_| false), None);
        h.state.debug.pause_cron = false;
        h.state.debug.active_expire = false;
        assert_eq!(field_slice(&mut h.state), None);
        assert_eq!(h.state.dbs[0].expired_fields, 0);
        assert_eq!(h.state.dbs[0].len(), 10);
        h.state.debug.active_expire = true;
        let mut slices = 0;
        while field_slice(&mut h.state).is_some() {
            slices += 1;
            assert!(slices < 10_000, "the backlog never ends");
        }
        assert_eq!(h.state.dbs[0].len(), 0);
    }
}
