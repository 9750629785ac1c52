//! Periodic work on the main thread, `hz` times a second: active expiry
//! (timed for the latency monitor's `expire-cycle`), incremental rehashing
//! while idle, closing idle clients (`timeout`), and giving freed memory
//! back to the system after load drops. Each part is
//! time-boxed so the event loop never stalls on it.

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

pub fn run(state: &mut State, clients: &Clients, in_flight: &dyn Fn(u64) -> bool) {
    // DEBUG PAUSE-CRON 1: nothing periodic runs, as in Valkey.
    if state.debug.pause_cron {
        return;
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
    expired_any |= expire_fields(state, active_expire, budget.saturating_sub(start.elapsed()));
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
    if state
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
}

/// Most one cron tick spends removing expired hash fields: small, so that
/// even a million fields due at once never stall the main thread for long
/// (they go over the following ticks).
const FIELD_EXPIRE_BUDGET: Duration = Duration::from_millis(3);

/// The active expiry of hash fields (`keyspace::hash_ttl`), and its
/// effects: per hash, `hexpired` and an HDEL of the fields; a hash left
/// empty also gets `del` and goes out as HDEL plus UNLINK (DEL with
/// `lazyfree-lazy-expire no`) in one MULTI/EXEC, as Valkey's. True if it
/// looked at anything.
fn expire_fields(state: &mut State, active: bool, left: Duration) -> bool {
    use crate::config::notify;
    use crate::state::effects::NO_DB;
    use bytes::Bytes;
    if !active || state.dbs.iter().all(|db| db.hfe.is_empty()) {
        return false;
    }
    let now = crate::keyspace::now_ms();
    let wanted = state.effects.wanted();
    let budget = left.min(FIELD_EXPIRE_BUDGET);
    let start = Instant::now();
    for db in state.dbs.iter_mut() {
        if db.hfe.is_empty() {
            continue;
        }
        let left = budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        db.hfe.set_logging(wanted);
        crate::keyspace::hash_ttl::active_field_cycle(db, now, left);
    }
    if !wanted {
        return true;
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
    true
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
