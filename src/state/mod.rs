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
pub mod lazyfree;
pub mod monitor;
pub mod pause;
pub mod pubsub;
pub mod script_run;
pub mod slowlog;
pub mod stats;
pub mod tracking;
pub mod watch;

use std::sync::Arc;
use std::time::Instant;

pub use blocking::{BlockRequest, Blocking, TimeoutReply};
pub use client::{Client, Clients, ReplyMode};
pub use effects::{Effects, Event, Propagated, NO_DB};
pub use slowlog::{SlowEntry, SlowLog};
pub use stats::{CmdId, CmdStat, Rates, Stats};
pub use watch::Watches;

use bytes::Bytes;

use crate::config::{notify, Config};
use crate::keyspace::db::Logged;
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
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call `noscript`
    /// commands (a test facility).
    pub allow_noscript: bool,
}

impl Default for DebugSwitches {
    fn default() -> Self {
        DebugSwitches {
            active_expire: true,
            pause_cron: false,
            allow_noscript: false,
        }
    }
}

/// Where a command runs from, which decides what its flags allow and
/// whether it may block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client's own request.
    Client,
    /// A command queued by MULTI, run by EXEC.
    Multi,
    /// `server.call` from a script.
    Script,
    /// A command replayed from the append-only file at startup (Valkey's
    /// AOF fake client).
    AofLoad,
}

/// Runs one more command from inside a command (EXEC's queue, later a
/// script): the call path, given to handlers by `exec::call` so that
/// `commands` need not import `exec`. The reply goes to the `ReplyBuf`.
/// The call path for a nested call: the command's id when the caller
/// resolved it already (a script's `server.call`), else None.
pub type NestedCall = fn(
    &mut State,
    &mut Clients,
    usize,
    &[bytes::Bytes],
    Option<usize>,
    &mut crate::resp::ReplyBuf,
    i64,
    Origin,
);

/// What the server is doing that limits which commands may run (see
/// `exec::call`): loading a dataset, or serving as a replica whose link
/// to its primary is down with `replica-serve-stale-data no`.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(8))]
pub struct ServerMode {
    pub loading: bool,
    pub stale: bool,
    /// `maxmemory` is set: writes are refused over it (kept in step with
    /// the config by `State::config_changed`).
    pub limited: bool,
    /// Some client runs MONITOR: its own commands are checked (a monitor
    /// may not touch the keyspace).
    pub monitored: bool,
    /// `min-replicas-to-write` and `min-replicas-max-lag` are both set:
    /// with no replica connected (ferrokey has none), writes are refused
    /// (Valkey's checkGoodReplicasStatus).
    pub min_replicas: bool,
    /// Writes are refused with MISCONF: the last background save failed,
    /// with save points and `stop-writes-on-bgsave-error` (kept in step by
    /// `commands::save::update_write_gate`).
    pub disk_error: bool,
    /// A script runs past `busy-reply-threshold` and other clients are
    /// served meanwhile: only `allow-busy` commands run
    /// (`state::script_run`).
    pub busy: bool,
    /// Room for more flags: `is_normal` reads all eight bytes as one word.
    _spare: [bool; 1],
}

impl ServerMode {
    /// Not loading, not stale, no memory limit, no monitor, no replicas
    /// asked for: the call path skips the checks these need.
    #[inline]
    pub fn is_normal(&self) -> bool {
        // The flags side by side (repr C), read as one word.
        let bytes = [
            self.loading as u8,
            self.stale as u8,
            self.limited as u8,
            self.monitored as u8,
            self.min_replicas as u8,
            self.disk_error as u8,
            self.busy as u8,
            self._spare[0] as u8,
        ];
        u64::from_ne_bytes(bytes) == 0
    }
}

/// Whether `config` asks for good replicas before a write (both
/// `min-replicas-to-write` and `min-replicas-max-lag` non-zero).
fn min_replicas_armed(config: &Config) -> bool {
    let set = |name| {
        config
            .extra
            .get(name)
            .is_some_and(|v| v.parse::<i64>().is_ok_and(|n| n > 0))
    };
    set("min-replicas-to-write") && set("min-replicas-max-lag")
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
    /// INFO's lazy-free counts, kept by the garbage as it is freed.
    pub lazyfree: Arc<lazyfree::LazyfreeCounters>,
    /// A keyspace snapshot in progress (`exec::snapshot` steps it).
    pub snapshot: Option<crate::keyspace::snapshot::Background>,
    /// Saves: the running background save, how the last ones went.
    pub save: crate::persist::save_state::SaveState,
    /// When freed heap memory is given back to the system (cron).
    pub trim: crate::alloc::TrimPolicy,
    /// Commands and connections counted at the last cron tick.
    pub trim_activity: u64,
    pub shutdown: Option<ShutdownMode>,
    pub slowlog: SlowLog,
    /// Latency spikes per event (`latency-monitor-threshold`).
    pub latency: latency::LatencyMonitor,
    /// Changes since the last save (INFO `rdb_changes_since_last_save`).
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
    /// WATCHed keys.
    pub watches: Watches,
    /// CLIENT PAUSE.
    pub pause: pause::Pause,
    /// Keep the modified keys for a test to read (`exec::Harness`).
    pub keep_modified: bool,
    /// Pub/Sub subscriptions and messages on their way out.
    pub pubsub: pubsub::PubSub,
    /// MONITOR clients and the lines on their way to them.
    pub monitors: monitor::Monitors,
    /// Sockets bound by CONFIG SET port, for the main loop to serve from
    /// instead of its listeners.
    pub new_listeners: Option<Listeners>,
    /// Client-side caching: who may cache which keys.
    pub tracking: tracking::Tracking,
    /// MIGRATE's connections by "host:port": the socket, the db last
    /// SELECTed on it (None: unknown) and its last use
    /// (`commands::migrate`; the cron closes those idle for 10 s).
    pub migrate_sockets:
        std::collections::HashMap<Vec<u8>, (std::net::TcpStream, Option<i64>, Instant)>,
    /// RDB loads: the one running (INFO `loading_*`), the last one's counts.
    pub rdb_load: crate::persist::rdb_read::LoadStatus,
    /// The AOF's manifest: read at startup by the AOF loader (None when no
    /// multi-part AOF existed), then kept up to date by the AOF writer.
    pub aof_manifest: Option<crate::persist::aof_manifest::Manifest>,
    /// The AOF writer and rewrite state (`commands::aof`, `exec::aof`).
    pub aof: crate::persist::aof_write::Aof,
    /// The Lua engine and script cache, made on first use (EVAL, SCRIPT).
    pub scripting: Option<Box<crate::script::engine::Engine>>,
    /// The running command's error was counted already (a script that
    /// ended with a command's error): the call path counts a failed call
    /// but not the error again.
    pub error_counted: bool,
    /// The error this command returns is a script's own (its code chosen
    /// by the script): counted as a custom error (`count_custom_error`).
    pub error_custom: bool,
    /// The running script declared `allow-oom`: its writes are not refused
    /// over `maxmemory`.
    pub script_allow_oom: bool,
    /// What INFO shows of the script engine while a script has it out.
    pub scripting_seen: ScriptingSeen,
    /// The function libraries (FUNCTION LOAD), made on first use.
    pub functions: Option<Box<crate::script::library::Libraries>>,
    /// Libraries and functions loaded, kept while the libraries are out
    /// running a function (FUNCTION STATS is served meanwhile).
    pub functions_counts: (usize, usize),
    /// The script running now (EVAL, FCALL), for SCRIPT/FUNCTION KILL and
    /// the busy replies.
    pub script_run: Option<script_run::RunningScript>,
    /// Serves other clients while a script runs long (set by the main loop).
    pub pump: Option<std::rc::Rc<dyn script_run::Pump>>,
    /// The replies a batch built before the script it runs now (per IO
    /// thread, as `exec::Outbox`): sent first if the script times out.
    pub early_out: Vec<Vec<crate::net::message::ToIo>>,
}

/// The script engine's INFO figures, as of when a script took it out.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScriptingSeen {
    pub lua_memory: usize,
    pub scripts_memory: usize,
    pub scripts: usize,
    pub evicted: u64,
}

/// TCP listening sockets (CONFIG SET port/bind).
pub type Listeners = Vec<crate::net::listener::Listener>;

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
        let mut effects = Effects::default();
        effects.set_notify(config.notify_keyspace_events);
        let mut state = State {
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
            lazyfree: Arc::default(),
            snapshot: None,
            save: crate::persist::save_state::SaveState::new(crate::keyspace::now_ms() / 1000),
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
            effects,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            run_id,
            replid,
            debug: DebugSwitches::default(),
            mode: ServerMode {
                limited: config.maxmemory != 0,
                min_replicas: min_replicas_armed(&config),
                ..ServerMode::default()
            },
            watches: Watches::default(),
            pause: pause::Pause::default(),
            keep_modified: false,
            pubsub: Default::default(),
            monitors: Default::default(),
            new_listeners: None,
            tracking: Default::default(),
            migrate_sockets: Default::default(),
            rdb_load: Default::default(),
            aof_manifest: None,
            aof: Default::default(),
            scripting: None,
            scripting_seen: Default::default(),
            error_counted: false,
            error_custom: false,
            script_allow_oom: false,
            functions: None,
            functions_counts: (0, 0),
            script_run: None,
            pump: None,
            early_out: Vec::new(),
            config,
        };
        state.apply_tracking_config();
        state.log_expired();
        state
    }

    /// A fresh random replication id.
    pub fn new_replid(&mut self) -> String {
        hex40(&mut self.rng)
    }

    /// Brings what is derived from the configuration up to date (after
    /// CONFIG SET).
    pub fn config_changed(&mut self) {
        self.mode.limited = self.config.maxmemory != 0;
        self.mode.min_replicas = min_replicas_armed(&self.config);
        self.mode.disk_error = self.save.refuses_writes(
            self.config
                .extra
                .get("stop-writes-on-bgsave-error")
                .map(String::as_str)
                != Some("no"),
            &self.config.save,
        ) || self.aof.disk_error().is_some();
        self.apply_notify_config();
        self.apply_tracking_config();
    }

    /// Publishes the keyspace notifications collected so far on their
    /// `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` channels.
    pub fn publish_events(&mut self) {
        if self.effects.events.is_empty() {
            return;
        }
        let flags = self.config.notify_keyspace_events;
        for ev in std::mem::take(&mut self.effects.events) {
            for (channel, message) in ev.messages(flags) {
                self.pubsub.publish(&channel, &message);
            }
        }
    }

    /// Keys stop (or resume) expiring with a client pause.
    pub fn set_expire_paused(&mut self, on: bool) {
        for db in &mut self.dbs {
            db.set_expire_paused(on);
        }
    }

    /// Turns the propagation stream on or off.
    pub fn set_propagating(&mut self, on: bool) {
        self.effects.listen(on, self.effects.tracking_keys());
        self.log_expired();
    }

    /// Keeps the modified keys for a test to read, or stops.
    pub fn set_track_keys(&mut self, on: bool) {
        self.keep_modified = on;
        self.sync_key_tracking();
    }

    /// Modified keys are collected while a test keeps them or any client
    /// WATCHes a key; call after watches change.
    pub fn sync_key_tracking(&mut self) {
        let on = self.keep_modified
            || !self.watches.is_empty()
            || self.tracking.client_count() > 0
            || self.blocking.wants_changes();
        if on != self.effects.tracking_keys() {
            self.effects.listen(self.effects.propagating(), on);
            self.log_expired();
        }
    }

    /// Applies the keys modified since `from` (by the client `current`;
    /// None for the server itself) to the watchers (their transactions
    /// fail) and to client-side caching (invalidations), then forgets them
    /// unless a test keeps them.
    #[inline]
    pub fn touch_watched(&mut self, clients: &mut Clients, from: usize, current: Option<ClientId>) {
        if self.effects.modified.len() <= from {
            return;
        }
        if self.tracking.client_count() > 0 {
            self.invalidate_tracked(clients, from, current);
        }
        if self.blocking.wants_changes() {
            for (db, key) in &self.effects.modified[from..] {
                self.blocking.key_changed(*db, key);
            }
        } else if self.watches.is_empty() && self.tracking.client_count() == 0 {
            // The last waiter that wanted changes has gone.
            self.sync_key_tracking();
        }
        if !self.watches.is_empty() {
            for (db, key) in &self.effects.modified[from..] {
                if let Some(db) = self.dbs.get(*db) {
                    self.watches.touch(clients, db, key);
                }
            }
            self.sync_key_tracking();
        }
        if !self.keep_modified {
            self.effects.modified.truncate(from);
        }
    }

    /// Drops every watch of `c` (disconnect, RESET, UNWATCH, EXEC).
    pub fn unwatch_all(&mut self, c: &mut Client) {
        if !c.watched.is_empty() {
            self.watches.unwatch_all(c);
            self.sync_key_tracking();
        }
    }

    /// Applies `notify-keyspace-events` (at start and after CONFIG SET).
    pub fn apply_notify_config(&mut self) {
        self.effects.set_notify(self.config.notify_keyspace_events);
        self.log_expired();
    }

    /// While effects are wanted, the dbs log the keys they find expired:
    /// those are modified keys, go out as deletions, and are `expired`
    /// events.
    fn log_expired(&mut self) {
        let on = self.effects.wanted();
        let misses = self.effects.notifying(notify::KEY_MISS);
        for db in &mut self.dbs {
            db.log_expired(on);
            db.log_misses(misses);
        }
    }

    /// Records the keys the dbs found expired since the last call: as
    /// `expired` events, as modified, and propagated as `UNLINK` with
    /// `lazyfree-lazy-expire yes` (else `DEL`), as Valkey's
    /// deleteExpiredKeyAndPropagate; and the read lookups that missed, as
    /// `keymiss` events.
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
            for (why, key) in db.take_logged() {
                if why == Logged::Missed {
                    self.effects.notify(id, notify::KEY_MISS, "keymiss", &key);
                    continue;
                }
                self.effects.notify(id, notify::EXPIRED, "expired", &key);
                if self.tracking.client_count() > 0 {
                    // Expired, not changed by the client running: BCAST
                    // NOLOOP clients are told even about their own reads.
                    self.tracking.expired_at(self.effects.modified.len());
                }
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
                for (v, counted) in db.garbage.drain(..) {
                    let g = if counted {
                        self.lazyfree.wrap(v, 1)
                    } else {
                        Box::new(v)
                    };
                    self.garbage.push(g);
                }
            }
            if let Some(tables) = db.take_retired() {
                self.garbage.push(Box::new(tables));
            }
            if let Some(tables) = db.take_snapshot_spent() {
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
