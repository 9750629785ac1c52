//! Main-thread state shared by all commands, and the context a handler gets.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::client::{Client, Clients};
use crate::commands::CommandSpec;
use crate::config::Config;
use crate::keyspace::Db;
use crate::net::message::{ClientId, Garbage};
use crate::net::NetLimits;
use crate::resp::ReplyBuf;
use crate::util::rng::Rng;

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
    pub lazyfree_pending: u64,
    pub lazyfreed_objects: u64,
    pub expired_stale_perc: f64,
    pub evicted_clients: u64,
    pub io_threaded_reads: u64,
    pub io_threaded_writes: u64,
}

impl Stats {
    pub fn count_error(&mut self, code: &str) {
        self.total_error_replies += 1;
        if let Some(e) = self.errors.iter_mut().find(|(c, _)| c == code) {
            e.1 += 1;
        } else if self.errors.len() < 128 {
            // Valkey caps distinct error codes tracked too.
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
            self.next = (self.next + 1) % self.samples.len();
            self.filled = (self.filled + 1).min(self.samples.len());
        }
        self.last = Some((now, cur.0, cur.1, cur.2));
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

/// One slow log entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    pub time: i64,
    pub usec: u64,
    pub argv: Vec<Bytes>,
    pub addr: String,
    pub name: Vec<u8>,
}

/// What a blocked command replies when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP2) / `_` (RESP3): BLPOP, BLMPOP, BZPOPMIN, BZMPOP.
    NullArray,
    /// `$-1` (RESP2) / `_` (RESP3): BLMOVE, BRPOPLPUSH.
    Null,
}

/// A handler's request to block its client (see `Ctx::block`).
#[derive(Debug)]
pub struct BlockRequest {
    pub keys: Vec<Bytes>,
    /// None: wait forever (timeout 0).
    pub deadline: Option<Instant>,
    pub timeout_reply: TimeoutReply,
}

/// Switches DEBUG flips (Valkey's `active_expire_enabled`, `pause_cron`).
#[derive(Clone, Copy, Debug)]
pub struct DebugSwitches {
    /// DEBUG SET-ACTIVE-EXPIRE: the cron removes expired keys.
    pub active_expire: bool,
    /// DEBUG PAUSE-CRON: the cron does nothing at all.
    pub pause_cron: bool,
}

impl Default for DebugSwitches {
    fn default() -> Self {
        DebugSwitches {
            active_expire: true,
            pause_cron: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownMode {
    Default,
    NoSave,
    Save,
}

pub struct State {
    pub config: Config,
    pub dbs: Vec<Db>,
    pub stats: Stats,
    pub started: Instant,
    pub started_unix_ms: i64,
    pub rng: Rng,
    pub net_limits: Arc<NetLimits>,
    /// Clients to close after this batch (CLIENT KILL, timeouts).
    pub kills: Vec<ClientId>,
    /// Large values and flushed tables to free off the main thread.
    pub garbage: Vec<Garbage>,
    /// When freed heap memory is given back to the system (cron).
    pub trim: crate::alloc::TrimPolicy,
    /// Commands and connections counted at the last cron tick.
    pub trim_activity: u64,
    pub shutdown: Option<ShutdownMode>,
    pub slowlog: std::collections::VecDeque<SlowEntry>,
    pub slowlog_next_id: u64,
    /// Latency spikes per event (`latency-monitor-threshold`).
    pub latency: super::latency::LatencyMonitor,
    /// Changes since start (there is no persistence, so never reset).
    pub dirty: u64,
    /// The port actually listened on.
    pub tcp_port: u16,
    pub io_threads_active: usize,
    pub rates: Rates,
    /// Set by a handler that found nothing to serve and wants to wait.
    pub block_request: Option<BlockRequest>,
    /// Blocked clients waiting on each (db, key), first come first served.
    pub waiters: hashbrown::HashMap<(usize, Bytes), std::collections::VecDeque<ClientId>>,
    /// Keys with waiters that a command just made servable.
    pub ready_keys: Vec<(usize, Bytes)>,
    /// Clients blocked right now (INFO blocked_clients, CLIENT UNBLOCK).
    pub blocked: hashbrown::HashSet<ClientId>,
    /// CLIENT UNBLOCK requests: (client, reply with an error instead of a timeout).
    pub unblock: Vec<(ClientId, bool)>,
    /// The binary and its arguments, for INFO.
    pub executable: String,
    pub run_id: String,
    /// The replication id (INFO master_replid; DEBUG CHANGE-REPL-ID).
    pub replid: String,
    pub debug: DebugSwitches,
}

impl State {
    pub fn new(config: Config, net_limits: Arc<NetLimits>) -> Self {
        let lfu = config.lfu_policy();
        let dbs = (0..config.databases)
            .map(|i| {
                let mut db = Db::new(i);
                db.lfu = lfu;
                db
            })
            .collect();
        let mut rng = Rng::default();
        let run_id = hex40(&mut rng);
        let replid = hex40(&mut rng);
        State {
            dbs,
            stats: Stats {
                commands: vec![CmdStat::default(); crate::commands::CMD_TABLE.specs.len()],
                ..Default::default()
            },
            started: Instant::now(),
            started_unix_ms: crate::keyspace::now_ms(),
            rng,
            net_limits,
            kills: Vec::new(),
            garbage: Vec::new(),
            trim: crate::alloc::TrimPolicy::default(),
            trim_activity: 0,
            shutdown: None,
            slowlog: Default::default(),
            slowlog_next_id: 0,
            latency: Default::default(),
            dirty: 0,
            tcp_port: config.port,
            io_threads_active: 0,
            rates: Rates::default(),
            block_request: None,
            waiters: Default::default(),
            ready_keys: Vec::new(),
            blocked: Default::default(),
            unblock: Vec::new(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            run_id,
            replid,
            debug: DebugSwitches::default(),
            config,
        }
    }

    /// A fresh random replication id.
    pub fn new_replid(&mut self) -> String {
        hex40(&mut self.rng)
    }

    /// Moves values queued by the dbs (and their old tables) into the
    /// garbage list.
    pub fn collect_db_garbage(&mut self) {
        for db in &mut self.dbs {
            if !db.garbage.is_empty() {
                for v in db.garbage.drain(..) {
                    self.garbage.push(Box::new(v));
                }
            }
            if let Some(tables) = db.take_retired() {
                self.garbage.push(Box::new(tables));
            }
        }
    }
}

/// 40 random hex digits (run id, replication id).
fn hex40(rng: &mut Rng) -> String {
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
        .collect()
}

/// What a command handler sees.
pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub clients: &'a mut Clients,
    /// The calling client's slot in `clients`.
    pub me: usize,
    pub argv: &'a [Bytes],
    pub out: &'a mut ReplyBuf,
    /// Time of this batch, Unix ms (one clock read per batch, as Valkey).
    pub now: i64,
    pub cmd: &'static CommandSpec,
}

impl Ctx<'_> {
    #[inline]
    pub fn client(&mut self) -> &mut Client {
        self.clients.at_mut(self.me)
    }

    #[inline]
    pub fn client_ref(&self) -> &Client {
        self.clients.at(self.me)
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut crate::keyspace::Db {
        let i = self.clients.at(self.me).db;
        &mut self.state.dbs[i]
    }

    /// The selected database and the reply buffer together, so a value
    /// can be replied straight from where it is stored.
    #[inline]
    pub fn db_and_out(&mut self) -> (&mut crate::keyspace::Db, &mut ReplyBuf) {
        let i = self.clients.at(self.me).db;
        (&mut self.state.dbs[i], self.out)
    }

    #[inline]
    pub fn arg(&self, i: usize) -> &[u8] {
        &self.argv[i]
    }

    /// Blocks the calling client until one of `keys` is signalled ready
    /// (`signal_ready`), `timeout` passes (None: forever), or CLIENT
    /// UNBLOCK. The handler must return `Ok(())` right after, having replied
    /// nothing; it is called again with the same arguments when a key is
    /// ready, and may block again.
    pub fn block(
        &mut self,
        keys: &[Bytes],
        timeout: Option<std::time::Duration>,
        timeout_reply: TimeoutReply,
    ) {
        self.state.block_request = Some(BlockRequest {
            keys: keys.to_vec(),
            deadline: timeout.map(|t| Instant::now() + t),
            timeout_reply,
        });
    }

    /// Tells blocked clients that `key` (in the selected db) may now serve
    /// them: call after adding elements to a list or sorted set, or after
    /// creating one under `key` (RENAME, COPY, MOVE, SORT STORE, ...).
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.clients.at(self.me).db;
        self.signal_ready_in(db, key);
    }

    /// `signal_ready` for another db (MOVE, COPY DB, SWAPDB).
    pub fn signal_ready_in(&mut self, db: usize, key: &[u8]) {
        if self.state.waiters.is_empty() {
            return;
        }
        let k = (db, Bytes::copy_from_slice(key));
        if self.state.waiters.contains_key(&k) && !self.state.ready_keys.contains(&k) {
            self.state.ready_keys.push(k);
        }
    }

    /// Marks the keyspace changed (INFO `rdb_changes_since_last_save`).
    #[inline]
    pub fn dirty(&mut self, n: u64) {
        self.state.dirty += n;
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
}
