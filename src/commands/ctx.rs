//! What a command handler sees: its arguments, its reply, its client, the
//! selected database and a small named set of server services.
//!
//! Handlers never see `State`: the fields here are private, so a handler
//! reaches the server only through the methods below. That keeps what a
//! command may touch visible in one place, and lets the call path account
//! for it (modified keys, propagation, blocking). Admin commands (INFO,
//! CLIENT, CONFIG, DEBUG, ...) get the rest through `admin()`.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::table::CmdId;
use super::CommandSpec;
use crate::config::{notify, Config};
use crate::keyspace::{Access, Db};
use crate::net::message::Garbage;
use crate::resp::ReplyBuf;
use crate::state::pubsub::PubSub;
use crate::state::script_run::ScriptKind;
use crate::state::{
    BlockRequest, Client, Clients, NestedCall, Origin, State, TimeoutReply, Watches,
};
use crate::util::rng::Rng;

pub struct Ctx<'a> {
    pub argv: &'a [Bytes],
    pub out: &'a mut ReplyBuf,
    /// Time of this batch, Unix ms (one clock read per batch, as Valkey).
    pub now: i64,
    pub cmd: &'static CommandSpec,
    srv: &'a mut State,
    clients: &'a mut Clients,
    /// The calling client's slot in `clients`.
    me: usize,
    /// The call path, for commands that run commands (EXEC).
    nested: NestedCall,
    /// Where this command runs from.
    origin: Origin,
}

/// Several services at once, for handlers that need them together (a
/// random pick from a value replied straight from the database).
pub struct Parts<'c> {
    pub db: &'c mut Db,
    pub out: &'c mut ReplyBuf,
    pub rng: &'c mut Rng,
    pub config: &'c Config,
}

/// Every database, with the list of values to free off the main thread
/// (FLUSHALL, SWAPDB, MOVE, COPY ... DB).
pub struct Keyspace<'c> {
    pub dbs: &'c mut [Db],
    pub garbage: &'c mut Vec<Garbage>,
}

/// The view admin commands (INFO, CLIENT, CONFIG, DEBUG, SLOWLOG, LATENCY,
/// MEMORY, SHUTDOWN) work through: the server state and every client.
pub struct Admin<'c> {
    pub state: &'c mut State,
    pub clients: &'c mut Clients,
    /// The calling client's slot.
    pub me: usize,
    pub argv: &'c [Bytes],
    pub out: &'c mut ReplyBuf,
}

impl<'a> Ctx<'a> {
    /// Made by the call path for one command of the client in `me`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn new(
        srv: &'a mut State,
        clients: &'a mut Clients,
        me: usize,
        argv: &'a [Bytes],
        out: &'a mut ReplyBuf,
        now: i64,
        cmd: &'static CommandSpec,
        nested: NestedCall,
        origin: Origin,
    ) -> Self {
        Ctx {
            argv,
            out,
            now,
            cmd,
            srv,
            clients,
            me,
            nested,
            origin,
        }
    }

    /// False inside a transaction or script, where nothing can wait: a
    /// blocking command replies as if its timeout passed (the call path
    /// writes that reply when the handler asks to block anyway).
    #[inline]
    pub fn may_block(&self) -> bool {
        self.origin == Origin::Client
    }

    /// The command comes from the AOF (Valkey's mustObeyClient, which
    /// also covers a primary): options it would refuse from a client, as
    /// written by propagation, are taken as they are.
    #[inline]
    pub fn must_obey(&self) -> bool {
        self.origin == Origin::AofLoad
            || self.clients.at(self.me).id == crate::state::client::AOF_CLIENT_ID
    }

    /// Called by a script (`server.call`).
    #[inline]
    pub fn from_script(&self) -> bool {
        self.origin == Origin::Script
    }

    /// Runs `argv` through the call path from `origin`, its reply written
    /// to `out` (EXEC's queued commands).
    pub fn call(&mut self, argv: &[Bytes], origin: Origin) {
        (self.nested)(
            self.srv,
            self.clients,
            self.me,
            argv,
            None,
            self.out,
            self.now,
            origin,
        );
    }

    #[inline]
    pub fn arg(&self, i: usize) -> &[u8] {
        &self.argv[i]
    }

    #[inline]
    pub fn client(&mut self) -> &mut Client {
        self.clients.at_mut(self.me)
    }

    #[inline]
    pub fn client_ref(&self) -> &Client {
        self.clients.at(self.me)
    }

    /// The index of the client's selected database.
    #[inline]
    pub fn db_index(&self) -> usize {
        self.clients.at(self.me).db
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        let i = self.clients.at(self.me).db;
        &mut self.srv.dbs[i]
    }

    /// The selected database and the reply buffer together, so a value
    /// can be replied straight from where it is stored.
    #[inline]
    pub fn db_and_out(&mut self) -> (&mut Db, &mut ReplyBuf) {
        let i = self.clients.at(self.me).db;
        (&mut self.srv.dbs[i], self.out)
    }

    /// The selected database, the reply, the random source and the
    /// configuration, borrowed together.
    #[inline]
    pub fn parts(&mut self) -> Parts<'_> {
        let i = self.clients.at(self.me).db;
        let srv = &mut *self.srv;
        Parts {
            db: &mut srv.dbs[i],
            out: self.out,
            rng: &mut srv.rng,
            config: &srv.config,
        }
    }

    /// How many databases there are (`databases`).
    #[inline]
    pub fn db_count(&self) -> usize {
        self.srv.dbs.len()
    }

    /// Every database (commands across databases).
    pub fn keyspace(&mut self) -> Keyspace<'_> {
        let srv = &mut *self.srv;
        Keyspace {
            dbs: &mut srv.dbs,
            garbage: &mut srv.garbage,
        }
    }

    #[inline]
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.srv.rng
    }

    #[inline]
    pub fn config(&self) -> &Config {
        &self.srv.config
    }

    /// Closes the calling client after this command without writing what
    /// it has not read (its reply passed the output buffer limit).
    pub fn close_now(&mut self) {
        let id = self.clients.at(self.me).id;
        self.srv.kills.push(id);
    }

    /// Drops `value` off the main thread, later.
    pub fn free_later(&mut self, value: Garbage) {
        self.srv.garbage.push(value);
    }

    /// Blocks the calling client until one of `keys` is signalled ready
    /// (`signal_ready`), `timeout` passes (None: forever), or CLIENT
    /// UNBLOCK. The handler must return `Ok(())` right after, having replied
    /// nothing; it is called again with the same arguments when a key is
    /// ready, and may block again.
    pub fn block(&mut self, keys: &[Bytes], timeout: Option<Duration>, reply: TimeoutReply) {
        self.srv.blocking.request(BlockRequest {
            keys: keys.to_vec(),
            deadline: timeout.map(|t| Instant::now() + t),
            timeout_reply: reply,
            wake_on_change: false,
            retry_argv: None,
        });
    }

    /// `block`, retried with `argv` instead of this command's arguments.
    pub fn block_with_argv(
        &mut self,
        keys: &[Bytes],
        timeout: Option<Duration>,
        reply: TimeoutReply,
        argv: Vec<Bytes>,
    ) {
        self.srv.blocking.request(BlockRequest {
            keys: keys.to_vec(),
            deadline: timeout.map(|t| Instant::now() + t),
            timeout_reply: reply,
            wake_on_change: false,
            retry_argv: Some(argv),
        });
    }

    /// `block`, and the command is also run again when one of `keys` is
    /// deleted, replaced or flushed (XREADGROUP: its retry then fails with
    /// NOGROUP or WRONGTYPE, as Valkey's).
    pub fn block_until_changed(
        &mut self,
        keys: &[Bytes],
        timeout: Option<Duration>,
        reply: TimeoutReply,
    ) {
        self.srv.blocking.request(BlockRequest {
            keys: keys.to_vec(),
            deadline: timeout.map(|t| Instant::now() + t),
            timeout_reply: reply,
            wake_on_change: true,
            retry_argv: None,
        });
        // Modified keys are collected while such a waiter exists.
        self.srv.sync_key_tracking();
    }

    /// True when this run is a blocked client's retry (it stays blocked
    /// until the retry serves it).
    pub fn is_blocked_retry(&self) -> bool {
        self.srv.blocking.is_blocked(self.clients.at(self.me).id)
    }

    /// Tells blocked clients that `key` (in the selected db) may now serve
    /// them: call after adding elements to a list or sorted set, or after
    /// creating one under `key` (RENAME, COPY, MOVE, SORT STORE, ...).
    #[inline]
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.clients.at(self.me).db;
        self.srv.blocking.signal_ready(db, key);
    }

    /// `signal_ready` for another db (MOVE, COPY DB).
    #[inline]
    pub fn signal_ready_in(&mut self, db: usize, key: &[u8]) {
        self.srv.blocking.signal_ready(db, key);
    }

    /// `signal_ready` for every key waited on in `db` (SWAPDB).
    pub fn signal_ready_all_in(&mut self, db: usize) {
        for key in self.srv.blocking.keys_in(db) {
            self.srv.blocking.signal_ready(db, &key);
        }
    }

    /// Counts `n` changes to the data (INFO `rdb_changes_since_last_save`);
    /// a command that counted any is propagated.
    #[inline]
    pub fn dirty(&mut self, n: u64) {
        self.srv.dirty += n;
    }

    /// This command changed `key` in the selected db (Valkey's
    /// signalModifiedKey): for WATCH, client tracking and notifications.
    #[inline(always)]
    pub fn modified(&mut self, key: &[u8]) {
        // The flag first: with nobody tracking keys this is one test on
        // every write's path (an outlined call cost SET ~25 instructions).
        if self.srv.effects.tracking_keys() {
            let db = self.clients.at(self.me).db;
            self.srv.effects.modified(db, key);
        }
    }

    /// `modified` for another db (MOVE, COPY DB, SWAPDB, FLUSHALL).
    #[inline]
    pub fn modified_in(&mut self, db: usize, key: &[u8]) {
        self.srv.effects.modified(db, key);
    }

    /// Records keyspace notification `event` of `class` (a `config::notify`
    /// bit) on `key` in the selected db, for the main loop to publish, as
    /// Valkey's notifyKeyspaceEvent, if `notify-keyspace-events` selects the
    /// class: call where Valkey does, after the change.
    #[inline(always)]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        // The flag first: with notifications off this is one test.
        if self.srv.effects.notifying(class) {
            let db = self.clients.at(self.me).db;
            self.notify_event(db, class, event, key);
        }
    }

    /// `notify` for another db (MOVE, COPY DB).
    #[inline]
    pub fn notify_in(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        if self.srv.effects.notifying(class) {
            self.notify_event(db, class, event, key);
        }
    }

    /// True when events of `class` are collected: work done only for a
    /// notification (finding out whether a key is new) is gated on it.
    #[inline(always)]
    pub fn notifying(&self, class: u32) -> bool {
        self.srv.effects.notifying(class)
    }

    /// The `new` event for `key` in the selected db if it does not exist
    /// yet (an expired key is deleted first, with its `expired` event):
    /// call just before a write that may create it. Looks only while `n`
    /// events are collected.
    pub fn notify_if_new(&mut self, key: &[u8]) {
        if self.notifying(notify::NEW) {
            let now = self.now;
            if self.db().lookup(key, now, Access::PEEK).is_none() {
                self.notify(notify::NEW, "new", key);
            }
        }
    }

    #[inline(never)]
    fn notify_event(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        // Keys found expired so far come first, in the order it happened.
        self.srv.propagate_expired();
        self.srv.effects.notify(db, class, event, key);
    }

    /// True while someone consumes the propagation stream: build a
    /// `rewrite` only then.
    #[inline]
    pub fn propagating(&self) -> bool {
        self.srv.effects.propagating()
    }

    /// Propagates `argv` instead of this command's own arguments (Valkey's
    /// rewriteClientCommandVector), if the command changed data.
    pub fn rewrite(&mut self, argv: Vec<Bytes>) {
        if self.srv.effects.propagating() {
            self.srv.effects.rewrite = Some(argv);
        }
    }

    /// Propagates `argv` in `db` now, before this command (Valkey's
    /// alsoPropagate).
    pub fn also_propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        // Keys found expired so far go first, in the order it happened.
        self.srv.propagate_expired();
        self.srv.effects.push(db, argv);
    }

    /// This command changed data but propagates nothing itself.
    /// Runs `argv` through the call path as the client in `slot` (a
    /// script's own client), from `origin`.
    pub fn call_as(
        &mut self,
        slot: usize,
        argv: &[Bytes],
        id: CmdId,
        origin: Origin,
        out: &mut ReplyBuf,
    ) {
        (self.nested)(
            self.srv,
            self.clients,
            slot,
            argv,
            Some(id),
            out,
            self.now,
            origin,
        );
    }

    /// Adds a client that has no connection (a script's client) for the
    /// time of a command; returns its slot.
    pub fn add_internal_client(&mut self, c: Client) -> usize {
        self.clients.insert(c)
    }

    /// Removes a client added by `add_internal_client`.
    pub fn remove_internal_client(&mut self, id: u64) -> Option<Client> {
        self.clients.remove(id)
    }

    /// The client in `slot`.
    pub fn client_at(&mut self, slot: usize) -> &mut Client {
        self.clients.at_mut(slot)
    }

    /// The script engine, taken out of the server state while a script
    /// runs (made on first use); `put_scripting` gives it back.
    pub fn take_scripting(&mut self) -> Result<Box<crate::script::engine::Engine>, String> {
        match self.srv.scripting.take() {
            Some(e) => {
                self.note_scripting(&e);
                Ok(e)
            }
            None => crate::script::engine::Engine::new()
                .map(Box::new)
                .map_err(|e| format!("ERR {e}")),
        }
    }

    /// The running script declared `allow-oom` (or not).
    pub fn set_script_allow_oom(&mut self, allow: bool) {
        self.srv.script_allow_oom = allow;
    }

    /// The error this command returns was counted already: a failed call,
    /// not one more error (a script ended by a command's error).
    pub fn error_already_counted(&mut self) {
        self.srv.error_counted = true;
    }

    /// The error this command returns is the running script's own: its
    /// code is the script's choice (Valkey's ERR_REPLY_FLAG_CUSTOM).
    pub fn error_is_custom(&mut self) {
        self.srv.error_custom = true;
    }

    /// A script's call refused before it ran (unknown command, wrong
    /// arity, not allowed): counted as Valkey's scriptCall counts it.
    pub fn count_script_refusal(&mut self, cmd: Option<crate::commands::table::CmdId>, code: &str) {
        if let Some(id) = cmd {
            self.srv.stats.commands[id].rejected += 1;
        }
        self.srv.stats.count_error(code);
    }

    /// What INFO shows of the engine while it is out (refreshed once a
    /// script is loaded, so an eviction it caused shows).
    pub fn note_scripting(&mut self, e: &crate::script::engine::Engine) {
        self.srv.scripting_seen = crate::state::ScriptingSeen {
            lua_memory: e.memory(),
            scripts_memory: e.scripts_memory(),
            scripts: e.len(),
            evicted: e.evicted,
        };
    }

    pub fn put_scripting(&mut self, e: Box<crate::script::engine::Engine>) {
        self.srv.scripting = Some(e);
    }

    /// The function libraries, taken out of the server state while a
    /// function runs (made on first use); `put_functions` gives them back.
    pub fn take_functions(&mut self) -> Result<Box<crate::script::library::Libraries>, String> {
        match self.srv.functions.take() {
            Some(l) => Ok(l),
            None => crate::script::library::Libraries::new()
                .map(Box::new)
                .map_err(|e| format!("ERR {e}")),
        }
    }

    pub fn put_functions(&mut self, l: Box<crate::script::library::Libraries>) {
        self.srv.functions_counts = (l.libraries().count(), l.function_count());
        self.srv.functions = Some(l);
    }

    /// Libraries and functions loaded (also while a function runs).
    pub fn functions_counts(&self) -> (usize, usize) {
        match &self.srv.functions {
            Some(l) => (l.libraries().count(), l.function_count()),
            None => self.srv.functions_counts,
        }
    }

    /// The wall clock when the running script started, for its own
    /// commands (TIME); None outside a script.
    pub fn script_clock(&self) -> Option<std::time::Duration> {
        if self.origin != Origin::Script {
            return None;
        }
        self.srv.script_run.as_ref().map(|r| r.unix)
    }

    /// The running script, if any: its name, kind and run time so far.
    pub fn running_script(&self) -> Option<(String, Vec<Bytes>, std::time::Duration)> {
        self.srv
            .script_run
            .as_ref()
            .map(|r| (r.name.clone(), r.command.clone(), r.start.elapsed()))
    }

    /// A script starts running for the calling client (EVAL, FCALL): it is
    /// the one SCRIPT KILL and FUNCTION KILL see until `script_ended`.
    pub fn script_started(&mut self, kind: ScriptKind, name: String) {
        let caller = self.clients.at(self.me).id;
        // The command line is copied only if others get to see it (see
        // `script_interrupt`).
        self.srv.script_started(kind, name, caller, Vec::new());
    }

    /// The script started by `script_started` ended, however it ended.
    pub fn script_ended(&mut self) {
        self.srv.script_ended();
    }

    /// The running script is about to call a write command: SCRIPT KILL
    /// can no longer stop it.
    pub fn script_wrote(&mut self) {
        self.srv.script_wrote();
    }

    /// From the running script's hook: past `busy-reply-threshold`, serves
    /// the other clients; Some(error) when the script must end with it.
    pub fn script_interrupt(&mut self) -> Option<String> {
        // Other clients may be served from here on (FUNCTION STATS shows
        // the caller's command line): the running script's is kept now.
        if let Some(r) = self.srv.script_run.as_mut() {
            if r.command.is_empty() {
                r.command = self.argv.to_vec();
            }
        }
        self.srv.script_interrupt(self.clients)
    }

    /// SCRIPT KILL (`by` Eval) and FUNCTION KILL (`by` Function): Ok once
    /// the running script is marked to end, else the error to reply.
    pub fn kill_script(&mut self, by: ScriptKind) -> Result<(), &'static str> {
        self.srv.kill_script(by)
    }

    /// The `-BUSY` error while a script runs past its threshold (SHUTDOWN
    /// without NOSAVE is refused then).
    pub fn busy_error(&self) -> Option<&'static str> {
        self.srv.mode.busy.then(|| self.srv.busy_error())
    }

    /// How long the propagation stream is (a script's `set_repl` drops
    /// what its next commands add).
    pub fn propagation_mark(&self) -> usize {
        self.srv.effects.stream.len()
    }

    /// Drops what was propagated since `mark`.
    pub fn propagation_truncate(&mut self, mark: usize) {
        self.srv.effects.stream.truncate(mark);
    }

    pub fn prevent_propagation(&mut self) {
        if self.srv.effects.propagating() {
            self.srv.effects.prevent = true;
        }
    }

    /// WATCHes `key` in the selected db for the calling client.
    pub fn watch(&mut self, key: &[u8]) {
        let db = self.clients.at(self.me).db;
        let srv = &mut *self.srv;
        srv.watches
            .watch(self.clients.at_mut(self.me), &srv.dbs[db], key, self.now);
        srv.sync_key_tracking();
    }

    /// Drops every watch of the calling client.
    pub fn unwatch_all(&mut self) {
        self.srv.unwatch_all(self.clients.at_mut(self.me));
    }

    /// A key the calling client watched while it was live has expired
    /// since (EXEC then fails).
    pub fn watched_key_expired(&self) -> bool {
        Watches::any_expired_since(self.clients.at(self.me), &self.srv.dbs, self.now)
    }

    /// Every key of db `emptied` is about to change: FLUSHDB and FLUSHALL
    /// (`replaced_with` None), or SWAPDB (the db taking its place). Call
    /// before the change: watchers of keys that change fail their EXEC.
    pub fn db_changing(&mut self, emptied: usize, replaced_with: Option<usize>) {
        let srv = &mut *self.srv;
        srv.blocking.db_changed(emptied);
        if replaced_with.is_none() {
            // Client-side caching: every key is invalid (a null message).
            srv.tracking.flushed();
        }
        if srv.watches.is_empty() {
            return;
        }
        let replaced = replaced_with.and_then(|r| srv.dbs.get(r));
        if let Some(db) = srv.dbs.get(emptied) {
            srv.watches.touch_db(self.clients, db, replaced, self.now);
        }
        srv.sync_key_tracking();
    }

    /// The Pub/Sub registry and the calling client (the pub/sub commands,
    /// RESET).
    pub fn pubsub(&mut self) -> (&mut PubSub, &mut Client) {
        (&mut self.srv.pubsub, self.clients.at_mut(self.me))
    }

    /// Publishes `message` on `channel` (PUBLISH; server events such as
    /// keyspace notifications). Returns how many subscriptions receive it;
    /// they read it after this command's reply.
    pub fn publish(&mut self, channel: &[u8], message: &[u8]) -> usize {
        self.srv.pubsub.publish(channel, message)
    }

    /// The rest of the server, for admin commands.
    pub fn admin(&mut self) -> Admin<'_> {
        Admin {
            state: self.srv,
            clients: self.clients,
            me: self.me,
            argv: self.argv,
            out: self.out,
        }
    }
}
