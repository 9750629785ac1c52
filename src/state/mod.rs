//! Main-thread state: the data every command may read or change, owned by
//! the main thread alone (no locks), below the command handlers.
//!
//! `State` holds the databases, configuration, counters, slow log, latency
//! monitor, the blocked clients (`blocking`) and what commands did
//! (`effects`); `client` holds what the main thread knows of each client.
//! Handlers never see `State` itself: `commands::Ctx` gives them the
//! selected database, their client and a few named services, and admin
//! commands an `Admin` view.

pub mod blocking;
pub mod client;
pub mod effects;
pub mod histogram;
pub mod latency;
pub mod pubsub;
pub mod slowlog;
pub mod stats;

use std::sync::Arc;
use std::time::Instant;

pub use blocking::{BlockRequest, Blocking, TimeoutReply};
pub use client::{Client, Clients, ReplyMode};
pub use effects::{Effects, Propagated};
pub use slowlog::{SlowEntry, SlowLog};
pub use stats::{CmdId, CmdStat, Rates, Stats};

use bytes::Bytes;

use crate::config::Config;
use crate::keyspace::Db;
use crate::net::message::{ClientId, Garbage};
use crate::net::NetLimits;
use crate::util::rng::Rng;

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

/// What the server is doing that limits which commands may run (see
/// `exec::call`): loading a dataset, or serving as a replica whose link
/// to its primary is down with `replica-serve-stale-data no`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerMode {
    pub loading: bool,
    pub stale: bool,
}

impl ServerMode {
    /// Neither loading nor stale: every command may run.
    #[inline]
    pub fn is_normal(&self) -> bool {
        !(self.loading | self.stale)
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
    pub slowlog: SlowLog,
    /// Latency spikes per event (`latency-monitor-threshold`).
    pub latency: latency::LatencyMonitor,
    /// Changes since start (there is no persistence, so never reset).
    pub dirty: u64,
    /// The port actually listened on.
    pub tcp_port: u16,
    pub io_threads_active: usize,
    pub rates: Rates,
    /// Blocked clients: the one owner of who waits on what.
    pub blocking: Blocking,
    /// Keys modified and commands to propagate.
    pub effects: Effects,
    /// The binary and its arguments, for INFO.
    pub executable: String,
    pub run_id: String,
    /// The replication id (INFO master_replid; DEBUG CHANGE-REPL-ID).
    pub replid: String,
    pub debug: DebugSwitches,
    pub mode: ServerMode,
    /// Pub/Sub subscriptions and messages on their way out.
    pub pubsub: pubsub::PubSub,
}

impl State {
    /// `commands`: how many commands and subcommands the table has (the
    /// per-command counters are indexed by their id).
    pub fn new(config: Config, net_limits: Arc<NetLimits>, commands: usize) -> Self {
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
                commands: vec![CmdStat::default(); commands],
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
            slowlog: SlowLog::default(),
            latency: Default::default(),
            dirty: 0,
            tcp_port: config.port,
            io_threads_active: 0,
            rates: Rates::default(),
            blocking: Blocking::default(),
            effects: Effects::default(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            run_id,
            replid,
            debug: DebugSwitches::default(),
            mode: ServerMode::default(),
            pubsub: Default::default(),
            config,
        }
    }

    /// A fresh random replication id.
    pub fn new_replid(&mut self) -> String {
        hex40(&mut self.rng)
    }

    /// Turns the propagation stream on or off.
    pub fn set_propagating(&mut self, on: bool) {
        self.effects.listen(on, self.effects.tracking_keys());
        self.log_expired();
    }

    /// Turns collecting modified keys on or off.
    pub fn set_track_keys(&mut self, on: bool) {
        self.effects.listen(self.effects.propagating(), on);
        self.log_expired();
    }

    /// While effects are wanted, the dbs log the keys they find expired:
    /// those are modified keys, and go out as deletions.
    fn log_expired(&mut self) {
        let on = self.effects.wanted();
        for db in &mut self.dbs {
            db.log_expired(on);
        }
    }

    /// Records the keys the dbs found expired since the last call: as
    /// modified, and propagated as `UNLINK` with `lazyfree-lazy-expire yes`
    /// (else `DEL`), as Valkey's deleteExpiredKeyAndPropagate.
    pub fn propagate_expired(&mut self) {
        if !self.effects.wanted() {
            return;
        }
        let verb = if self.config.lazyfree_lazy_expire {
            Bytes::from_static(b"UNLINK")
        } else {
            Bytes::from_static(b"DEL")
        };
        for db in &mut self.dbs {
            let id = db.id;
            for key in db.take_expired() {
                self.effects.modified(id, &key);
                self.effects.push(id, vec![verb.clone(), key]);
            }
        }
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
