//! The main event loop, for both thread layouts:
//!
//! ```text
//! io-threads 1:  poll(listeners + sockets) → read/parse → batch → write
//! io-threads N:  poll(listeners + waker) → drain N-1 rings → batch → rings
//! ```
//! With IO threads, the main thread sleeps in `epoll_wait` until a ring
//! producer wakes it (only if it announced sleep), a connection arrives, or
//! the cron is due.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UnixStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::batch::Executor;
use super::lazyfree::LazyFreer;
use super::load::LoadMonitor;
use super::{cron, Outbox};
use crate::config::Config;
use crate::error::MAX_CLIENTS;
use crate::net::conn::Conn;
use crate::net::io_thread::IoThread;
use crate::net::listener::{Accepted, Listener};
use crate::net::message::{Garbage, LimitBroken, ToIo, ToMain};
use crate::net::stream::{PeerAddr, Stream};
use crate::net::{ConnSet, NetLimits, FIRST_CONN_TOKEN};
use crate::ring::Parker;
use crate::state::State;
use crate::state::{Client, Clients};

pub(super) const WAKER: Token = Token(FIRST_CONN_TOKEN - 1);
pub(super) const SIGNAL: Token = Token(FIRST_CONN_TOKEN - 2);
/// Listener i uses Token(i); at most this many bind addresses (and the
/// Unix socket).
const MAX_LISTENERS: usize = FIRST_CONN_TOKEN - 2;

const PROTECTED_MODE_MSG: &str = "-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers, you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting from the same host the server is running, however MAKE SURE the server is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Where the IO of clients happens: the main thread's own connections, and
/// the IO threads (none at `io-threads 1`), of which `active` get clients.
pub(super) struct Io {
    pub(super) local: ConnSet,
    threads: Vec<IoThread>,
    /// Wakes the main thread (IO threads only).
    parker: Option<Arc<Parker>>,
    /// Per thread (index = outbox index): messages the ring had no room for.
    pending: Vec<VecDeque<ToIo>>,
    /// Frees values at `io-threads 1`; IO threads do it otherwise.
    freer: Option<LazyFreer>,
    next_free: usize,
    /// IO threads that new and rebalanced clients go to (0: main does all IO).
    active: usize,
    load: LoadMonitor,
}

impl Io {
    /// The thread a client should live on with `active` IO threads.
    fn home(&self, id: u64) -> usize {
        if self.active == 0 {
            0
        } else {
            1 + (id as usize % self.active)
        }
    }
}

/// What clients are served through: the poll, the listening sockets, the
/// IO side and the messages it sent. Shared with the busy pump
/// (`exec::busy`), which serves clients from inside a script that runs
/// long, while the loop itself is inside the batch that runs the script.
pub(super) struct Net {
    pub(super) poll: Poll,
    pub(super) listeners: Vec<Listener>,
    pub(super) io: Io,
    pub(super) inbox: Vec<ToMain>,
    next_id: u64,
    /// A signal's wake-up came while the pump polled: the loop reads it.
    pub(super) signal_pending: bool,
}

pub struct MainLoop {
    net: Rc<RefCell<Net>>,
    signals: UnixStream,
    /// SIGTERM, SIGINT received (set by the handlers, read here).
    got_signal: [Arc<AtomicBool>; 2],
    state: State,
    clients: Clients,
    exec: Executor,
    outbox: Outbox,
    closed: Vec<u64>,
    /// Clients killed while moving between threads (see the kill loop).
    kill_on_release: hashbrown::HashSet<u64>,
    /// The RDB file loading at startup, if any.
    loader: Option<super::loading::Loader>,
}

impl MainLoop {
    /// Takes the listening sockets, spawns IO threads, and gets ready to
    /// serve.
    pub fn new(config: Config, mut listeners: Vec<Listener>) -> io::Result<MainLoop> {
        let poll = Poll::new()?;
        if listeners.len() > MAX_LISTENERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "too many bind addresses",
            ));
        }
        for (i, l) in listeners.iter_mut().enumerate() {
            poll.registry().register(l, Token(i), Interest::READABLE)?;
        }
        let (sig_reader, sig_writer) = std::os::unix::net::UnixStream::pair()?;
        sig_reader.set_nonblocking(true)?;
        sig_writer.set_nonblocking(true)?;
        let mut signals = UnixStream::from_std(sig_reader);
        // The pipe wakes the poll; the flags say which signal came (Valkey
        // names it in the log line tools wait for).
        let got_term = Arc::new(AtomicBool::new(false));
        let got_int = Arc::new(AtomicBool::new(false));
        for (sig, flag) in [
            (signal_hook::consts::SIGTERM, &got_term),
            (signal_hook::consts::SIGINT, &got_int),
        ] {
            signal_hook::flag::register(sig, Arc::clone(flag))?;
            let w = sig_writer.try_clone()?;
            signal_hook::low_level::pipe::register(sig, w)?;
        }
        poll.registry()
            .register(&mut signals, SIGNAL, Interest::READABLE)?;
        let limits = Arc::new(NetLimits::new(
            config.proto_max_bulk_len,
            config.client_query_buffer_limit,
        ));
        let n = config.io_threads.max(1);
        let mut io = Io {
            local: ConnSet::new(limits.clone()),
            threads: Vec::new(),
            parker: None,
            pending: (0..n).map(|_| VecDeque::new()).collect(),
            freer: None,
            next_free: 0,
            active: 0,
            load: LoadMonitor::default(),
        };
        if n == 1 {
            io.freer = Some(LazyFreer::spawn()?);
        } else {
            let parker = Parker::new(Waker::new(poll.registry(), WAKER)?);
            for i in 1..n {
                io.threads
                    .push(IoThread::spawn(i, limits.clone(), parker.clone())?);
            }
            io.parker = Some(parker);
            if config.events_per_io_thread == 0 {
                io.active = io.threads.len();
            }
        }
        // From here on a `save` value (CONFIG SET) replaces the points.
        crate::config::directives::config_loaded();
        super::loading::register_reload();
        let mut state = State::new(config, limits, crate::commands::CMD_TABLE.specs.len());
        state.tcp_port = listeners
            .iter()
            .find_map(Listener::tcp_addr)
            .map_or(0, |a| a.port());
        state.io_threads_active = io.active;
        let net = Rc::new(RefCell::new(Net {
            poll,
            listeners,
            io,
            inbox: Vec::new(),
            next_id: 1,
            signal_pending: false,
        }));
        state.pump = Some(Rc::new(super::busy::BusyPump::new(net.clone(), n)));
        Ok(MainLoop {
            net,
            signals,
            got_signal: [got_term, got_int],
            state,
            clients: Clients::default(),
            exec: Executor::default(),
            outbox: Outbox::new(n),
            closed: Vec::new(),
            kill_on_release: Default::default(),
            loader: None,
        })
    }

    /// Loads the RDB file, if there is one, while serving (`ready`: the
    /// lines logged once it is loaded); serves until SIGTERM/SIGINT or
    /// SHUTDOWN.
    pub fn run(mut self, ready: Vec<&'static str>) -> io::Result<()> {
        // With the AOF on, the ready lines wait until its files are open:
        // tools wait for them, then look at the files.
        let (ready, mut aof_ready) = if self.state.config.appendonly {
            (Vec::new(), ready)
        } else {
            (ready, Vec::new())
        };
        self.loader = super::loading::start(&mut self.state, ready)?;
        if self.loader.is_none() {
            super::aof::on_server_start(&mut self.state, &mut aof_ready);
        }
        let mut events = Events::with_capacity(1024);
        let mut next_cron = Instant::now();
        // The field expiry's next slice between cron ticks (cron.rs).
        let mut field_slice: Option<Instant> = None;
        // When the cycle in progress woke from the poll, and the commands
        // processed then (INFO's event-loop metrics).
        let mut cycle: Option<(Instant, u64)> = None;
        loop {
            let now = Instant::now();
            if let Some((woke, cmds)) = cycle.take() {
                // (CONFIG RESETSTAT may have zeroed the count meanwhile.)
                let ran = self.state.stats.commands_processed.saturating_sub(cmds);
                self.state.stats.end_cycle(now - woke, ran);
            }
            let mut wake_at = field_slice.map_or(next_cron, |t| t.min(next_cron));
            if let Some(d) = self.state.blocking.next_deadline() {
                wake_at = wake_at.min(d);
            }
            if let Some(end) = self.exec.pause_deadline(&self.state) {
                let left = end.saturating_sub(crate::keyspace::now_ms()).max(0) as u64;
                wake_at = wake_at.min(now + Duration::from_millis(left));
            }
            let mut timeout = wake_at.saturating_duration_since(now);
            {
                let net = &mut *self.net.borrow_mut();
                if !net.inbox.is_empty() || !self.exec.is_empty() || self.state.blocking.has_ready()
                {
                    timeout = Duration::ZERO;
                } else if self.state.snapshot.is_some() {
                    // A save's walk goes on between commands, unless it waits
                    // for its writer thread.
                    timeout = if super::save::waiting_for_writer(&self.state) {
                        timeout.min(Duration::from_millis(1))
                    } else {
                        Duration::ZERO
                    };
                }
                if net.io.pending.iter().any(|p| !p.is_empty()) {
                    timeout = timeout.min(Duration::from_millis(1));
                }
                if let Some(l) = &self.loader {
                    timeout = timeout.min(l.poll_timeout());
                }
                if let Some(parker) = &net.io.parker {
                    parker.prepare_sleep();
                    if net.io.threads.iter().any(|t| !t.to_main.is_empty()) {
                        timeout = Duration::ZERO;
                    }
                }
                let r = net.poll.poll(&mut events, Some(timeout));
                cycle = Some((Instant::now(), self.state.stats.commands_processed));
                if let Some(parker) = &net.io.parker {
                    parker.awake();
                }
                if let Err(e) = r {
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
                net.io.load.count_poll(events.iter().count());
                for ev in events.iter() {
                    match ev.token() {
                        WAKER => {}
                        SIGNAL => net.signal_pending = true,
                        Token(i) if i < net.listeners.len() => {
                            net.accept(i, &mut self.state, &mut self.clients, &mut self.outbox)
                        }
                        t => net
                            .io
                            .local
                            .on_event(net.poll.registry(), t, ev, &mut net.inbox),
                    }
                }
                net.drain_rings();
            }
            self.take_signal();
            self.handle_inbox();
            self.exec.expire_blocked(&mut self.state, &mut self.clients);
            self.exec
                .run(&mut self.state, &mut self.clients, &mut self.outbox);
            // (A script that ran long served clients meanwhile.)
            self.take_signal();
            super::save::tick(&mut self.state);
            super::aof::tick(&mut self.state);
            if let Some(l) = self.loader.as_mut() {
                if l.step(&mut self.state)? {
                    self.loader = None;
                    super::aof::on_server_start(&mut self.state, &mut aof_ready);
                }
            }
            if let Some(new) = self.state.new_listeners.take() {
                self.replace_listeners(new);
            }
            for id in std::mem::take(&mut self.state.kills) {
                if let Some(c) = self.clients.by_id(id) {
                    self.outbox.send(c.io_thread, ToIo::Kill { client: id });
                    if c.migrating {
                        // The Kill may reach the old thread after the
                        // connection left it: close it when it arrives here.
                        self.kill_on_release.insert(id);
                    }
                }
            }
            for id in self.closed.drain(..) {
                if let Some(mut c) = self.clients.remove(id) {
                    self.state.unwatch_all(&mut c);
                    self.state.tracking_off(&mut c);
                }
                self.state.pubsub.forget(id);
                self.state.forget_monitor(id);
            }
            let cron_start = Instant::now();
            if cron_start >= next_cron {
                let blocking = std::mem::take(&mut self.state.blocking);
                field_slice = cron::run(&mut self.state, &self.clients, &|id| {
                    blocking.is_blocked(id)
                });
                self.state.blocking = blocking;
                super::save::cron(&mut self.state);
                super::aof::cron(&mut self.state);
                // Keys the active expiry removed fail their watchers' EXEC.
                self.state.touch_watched(&mut self.clients, 0, None);
                // CONFIG SET may have changed what the IO side enforces.
                self.state.net_limits.sync(&self.state.config);
                self.adjust_io_threads();
                let cron_end = Instant::now();
                self.state.stats.el_cron_ns += (cron_end - cron_start).as_nanos() as u64;
                next_cron =
                    cron_end + Duration::from_millis(1000 / self.state.config.hz.max(1) as u64);
            } else if field_slice.is_some_and(|t| cron_start >= t) {
                field_slice = cron::field_slice(&mut self.state);
                self.state.touch_watched(&mut self.clients, 0, None);
            }
            // Keyspace notifications of the cron's expiry, and of blocked
            // clients served at the end of a batch.
            self.state.publish_events();
            self.state.collect_db_garbage();
            self.free_garbage();
            // Client-side caching: BCAST invalidations, the table's limit.
            self.state.tracking_before_sleep(&mut self.clients);
            // Messages published outside a batch (server events from cron).
            if self.state.pubsub.has_pending() {
                let n = self.state.pubsub.flush(
                    &mut self.clients,
                    &mut [],
                    &mut self.outbox.per_thread,
                );
                self.state.stats.net_output_bytes += n;
            }
            // The turn's writes reach the AOF before any of its replies
            // leave (`appendfsync always`: written and synced).
            super::aof::before_replies(&mut self.state);
            self.flush_outbox();
            if self.state.shutdown.is_some() && super::save::before_exit(&mut self.state) {
                return self.shutdown();
            }
        }
    }

    /// Handles a signal whose wake-up the poll (or the busy pump) saw.
    fn take_signal(&mut self) {
        if !std::mem::take(&mut self.net.borrow_mut().signal_pending) {
            return;
        }
        let mut buf = [0u8; 64];
        let _ = io::Read::read(&mut self.signals, &mut buf);
        let term = self.got_signal[0].swap(false, Ordering::Relaxed);
        let int = self.got_signal[1].swap(false, Ordering::Relaxed);
        if self.loader.is_some() {
            // Nothing is saved while a load runs (Valkey's
            // wording; the dbs are not installed yet).
            tracing::warn!("Received shutdown signal during loading, scheduling shutdown.");
            self.state.shutdown = Some(crate::state::ShutdownMode::NoSave);
            return;
        }
        if term {
            tracing::warn!("Received SIGTERM scheduling shutdown...");
        }
        if int {
            tracing::warn!("Received SIGINT scheduling shutdown...");
        }
        super::save::on_signal(&mut self.state, term);
    }

    /// CONFIG SET port: serves from the sockets it bound; the old ones
    /// close (connections made through them stay).
    fn replace_listeners(&mut self, mut new: crate::state::Listeners) {
        let net = &mut *self.net.borrow_mut();
        // The TCP ones are replaced; the Unix socket stays.
        for l in net.listeners.iter_mut() {
            let _ = net.poll.registry().deregister(l);
        }
        new.extend(
            std::mem::take(&mut net.listeners)
                .into_iter()
                .filter(|l| l.tcp_addr().is_none()),
        );
        new.truncate(MAX_LISTENERS);
        for (i, l) in new.iter_mut().enumerate() {
            if let Err(e) = net
                .poll
                .registry()
                .register(l, Token(i), Interest::READABLE)
            {
                tracing::warn!("Listening on the new port: {e}");
            }
        }
        net.listeners = new;
        self.state.tcp_port = net
            .listeners
            .iter()
            .find_map(Listener::tcp_addr)
            .map_or(0, |a| a.port());
    }

    fn handle_inbox(&mut self) {
        let net = &mut *self.net.borrow_mut();
        let mut inbox = std::mem::take(&mut net.inbox);
        for msg in inbox.drain(..) {
            match msg {
                ToMain::Commands {
                    client,
                    cmds,
                    error,
                    input_bytes,
                } => {
                    count_input(&mut self.state, &mut self.clients, client, input_bytes);
                    self.exec.push(&self.clients, client, cmds, error);
                }
                ToMain::HangUp { client } => {
                    // A blocked client that hung up must not take the next
                    // element pushed for it; its connection is closed.
                    let postponed = self.exec.forget_postponed(client, &mut self.state);
                    if postponed || self.state.blocking.is_blocked(client) {
                        self.state.blocking.unblock(client);
                        if let Some(c) = self.clients.by_id(client) {
                            self.outbox.send(c.io_thread, ToIo::Kill { client });
                        }
                    } else if let Some(slot) = self.clients.slot_of(client) {
                        // Its batch has not run yet (or is running).
                        self.clients.at_mut(slot).hung_up = true;
                    }
                }
                ToMain::Closed { client, limit } => {
                    match limit {
                        Some(LimitBroken::QueryBuffer) => {
                            self.state.stats.qbuf_limit_disconnections += 1
                        }
                        Some(LimitBroken::OutputBuffer) => {
                            self.state.stats.obuf_limit_disconnections += 1
                        }
                        None => {}
                    }
                    self.kill_on_release.remove(&client);
                    self.state.blocking.unblock(client);
                    self.exec.forget_postponed(client, &mut self.state);
                    self.closed.push(client);
                }
                ToMain::Released(conn) => {
                    let id = conn.id;
                    if self.kill_on_release.remove(&id) {
                        drop(conn); // closes the socket
                        self.state.blocking.unblock(id);
                        self.closed.push(id);
                        continue;
                    }
                    let home = net.io.home(id);
                    let Some(slot) = self.clients.slot_of(id) else {
                        continue;
                    };
                    let c = self.clients.at_mut(slot);
                    c.migrating = false;
                    c.io_thread = home;
                    let mut conn = conn;
                    conn.pubsub = c.is_pubsub();
                    if let Some(stashed) = self.state.pubsub.take_stashed(id) {
                        conn.queue_output(stashed);
                    }
                    if let Some(lines) = self.state.monitors.take_stashed(id) {
                        conn.queue_output(lines);
                    }
                    if home == 0 {
                        // Adopting may parse buffered commands into `net.inbox`.
                        net.io
                            .local
                            .adopt(net.poll.registry(), conn, &mut net.inbox);
                    } else {
                        self.outbox.send(home, ToIo::Adopt(conn));
                    }
                }
            }
        }
        // Keep the allocation; anything adoption produced is handled next turn.
        if net.inbox.is_empty() {
            net.inbox = inbox;
        }
    }

    /// Follows the load: changes how many IO threads get clients, and moves
    /// clients whose home changed.
    fn adjust_io_threads(&mut self) {
        let net = &mut *self.net.borrow_mut();
        let io = &mut net.io;
        if io.threads.is_empty() {
            return;
        }
        if self.state.config.events_per_io_thread == 0 {
            io.active = io.threads.len();
        } else if let Some(sample) = io.load.sample() {
            let cpus = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
            let want = super::load::desired_active(
                io.threads.len(),
                io.active,
                cpus,
                self.state.config.events_per_io_thread,
                &sample,
            );
            if want != io.active {
                tracing::debug!(
                    ?sample,
                    from = io.active,
                    to = want,
                    "changing active IO threads"
                );
                io.active = want;
            }
        }
        // Move clients whose home changed; in-flight ones wait for the next tick.
        let moves: Vec<(u64, usize, usize)> = self
            .clients
            .iter()
            .filter(|c| !c.migrating && c.io_thread != io.home(c.id))
            .map(|c| (c.id, c.io_thread, io.home(c.id)))
            .collect();
        for (id, from, to) in moves {
            let Some(slot) = self.clients.slot_of(id) else {
                continue;
            };
            if from == 0 {
                if let Some(conn) = io.local.detach(net.poll.registry(), id) {
                    self.clients.at_mut(slot).io_thread = to;
                    self.outbox.send(to, ToIo::Adopt(conn));
                }
            } else {
                self.clients.at_mut(slot).migrating = true;
                self.outbox.send(from, ToIo::Release { client: id });
            }
        }
        // INFO io_threads_active: IO threads count as active while any of
        // them still serves a client, so 0 means every client is back here.
        let serving = self.clients.iter().any(|c| c.io_thread != 0 || c.migrating);
        self.state.io_threads_active = io.active.max(usize::from(serving));
    }

    fn free_garbage(&mut self) {
        if self.state.garbage.is_empty() {
            return;
        }
        let garbage: Vec<Garbage> = std::mem::take(&mut self.state.garbage);
        let net = &mut *self.net.borrow_mut();
        let io = &mut net.io;
        if let Some(freer) = &io.freer {
            for g in garbage {
                freer.free(g);
            }
            return;
        }
        let n = io.threads.len();
        for g in garbage {
            io.next_free = (io.next_free + 1) % n;
            self.outbox.send(1 + io.next_free, ToIo::Free(g));
        }
    }

    fn flush_outbox(&mut self) {
        self.net
            .borrow_mut()
            .flush(&mut self.outbox, &mut self.state);
    }

    fn shutdown(mut self) -> io::Result<()> {
        self.net.borrow_mut().shutdown(&mut self.state);
        Ok(())
    }
}

impl Net {
    /// Accepts the connections waiting on listener `i`.
    pub(super) fn accept(
        &mut self,
        i: usize,
        state: &mut State,
        clients: &mut Clients,
        outbox: &mut Outbox,
    ) {
        loop {
            let keepalive = state.config.tcp_keepalive;
            let Accepted {
                stream,
                addr,
                laddr,
            } = match self.listeners[i].accept(keepalive) {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!("Accepting client connection: {e}");
                    return;
                }
            };
            state.stats.connections_received += 1;
            let cfg = &state.config;
            if clients.len() as u64 >= cfg.maxclients {
                state.stats.rejected_connections += 1;
                reject(stream, &format!("-{MAX_CLIENTS}\r\n"));
                continue;
            }
            if matches!(&addr, PeerAddr::Tcp(a) if protected_mode_refuses(cfg, a)) {
                state.stats.rejected_connections += 1;
                reject(stream, PROTECTED_MODE_MSG);
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            let authenticated = cfg.requirepass.is_none();
            let home = self.io.home(id);
            let mut client = Client::with_addrs(id, addr, laddr, home, authenticated);
            client.fd = std::os::fd::AsRawFd::as_raw_fd(&std::os::fd::AsFd::as_fd(&stream));
            clients.insert(client);
            let mut conn = Box::new(Conn::new(id, stream));
            // The IO side parses with pre-auth limits until told otherwise.
            conn.authenticated = authenticated;
            if home == 0 {
                self.io
                    .local
                    .adopt(self.poll.registry(), conn, &mut self.inbox);
            } else {
                outbox.send(home, ToIo::Adopt(conn));
            }
        }
    }

    /// Takes what the IO threads sent into `inbox`.
    pub(super) fn drain_rings(&mut self) {
        // Round robin, a bounded number per ring per turn, so one busy IO
        // thread cannot starve the others' clients.
        loop {
            let mut any = false;
            for t in &self.io.threads {
                for _ in 0..64 {
                    match t.to_main.pop() {
                        Some(m) => {
                            self.inbox.push(m);
                            any = true;
                        }
                        None => break,
                    }
                }
            }
            if !any || self.inbox.len() >= 4096 {
                return;
            }
        }
    }

    /// Hands `outbox`'s messages to the main thread's own connections and
    /// to the IO threads' rings (what a ring has no room for waits in
    /// `pending`, in order). What the batch replied before a script (`State::early_out`) goes
    /// first.
    pub(super) fn flush(&mut self, outbox: &mut Outbox, state: &mut State) {
        for (k, early) in state.early_out.iter_mut().enumerate() {
            if let Some(q) = outbox.per_thread.get_mut(k).filter(|_| !early.is_empty()) {
                early.append(q);
                std::mem::swap(early, q);
            }
        }
        for msg in outbox.per_thread[0].drain(..) {
            self.io
                .local
                .apply(self.poll.registry(), msg, &mut self.inbox);
        }
        for (k, t) in self.io.threads.iter().enumerate() {
            let q = &mut self.io.pending[k + 1];
            q.extend(outbox.per_thread[k + 1].drain(..));
            let mut sent = false;
            while let Some(msg) = q.pop_front() {
                match t.to_io.push(msg) {
                    Ok(()) => sent = true,
                    Err(ToIo::Free(g)) => drop(g), // full ring: free it here
                    Err(msg) => {
                        q.push_front(msg);
                        break;
                    }
                }
            }
            if sent {
                state.stats.io_threaded_writes += 1;
                t.parker.notify();
            }
        }
    }

    /// The end: the AOF's last writes, then every connection, IO thread and
    /// listener closed.
    pub(super) fn shutdown(&mut self, state: &mut State) {
        tracing::warn!("User requested shutdown...");
        super::aof::before_exit(state);
        self.io
            .local
            .shutdown(self.poll.registry(), &mut self.inbox);
        if let Some(f) = self.io.freer.as_mut() {
            f.shutdown();
        }
        for t in self.io.threads.iter_mut() {
            // Keep trying: the ring drains as the thread works.
            let mut msg = ToIo::Shutdown;
            loop {
                match t.to_io.push(msg) {
                    Ok(()) => break,
                    Err(m) => {
                        msg = m;
                        t.parker.notify();
                        std::thread::yield_now();
                    }
                }
            }
            t.parker.notify();
        }
        for t in self.io.threads.iter_mut() {
            if let Some(j) = t.join.take() {
                let _ = j.join();
            }
        }
        for l in std::mem::take(&mut self.listeners) {
            l.close();
        }
        tracing::warn!("ferrokey is now ready to exit, bye bye...");
    }
}

/// Input bytes a client sent (INFO, CLIENT LIST tot-net-in).
pub(super) fn count_input(state: &mut State, clients: &mut Clients, client: u64, bytes: u64) {
    state.stats.net_input_bytes += bytes;
    if let Some(slot) = clients.slot_of(client) {
        let c = clients.at_mut(slot);
        c.net_in += bytes;
        if c.io_thread != 0 {
            state.stats.io_threaded_reads += 1;
        }
    }
}

/// Protected mode: with no password set, only loopback clients are served
/// (an IPv4-mapped IPv6 loopback address counts as loopback).
fn protected_mode_refuses(cfg: &Config, addr: &std::net::SocketAddr) -> bool {
    let loopback = match addr.ip() {
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        ip => ip.is_loopback(),
    };
    cfg.protected_mode && cfg.requirepass.is_none() && !loopback
}

/// Best-effort error line to a client we will not serve, then close.
fn reject(mut stream: Stream, msg: &str) {
    let _ = stream.write(msg.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_refuses_only_remote_clients_without_password() {
        let mut cfg = Config::default();
        let remote: std::net::SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let local6: std::net::SocketAddr = "[::1]:5000".parse().unwrap();
        let mapped: std::net::SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert!(protected_mode_refuses(&cfg, &remote));
        assert!(!protected_mode_refuses(&cfg, &local));
        assert!(!protected_mode_refuses(&cfg, &local6));
        assert!(!protected_mode_refuses(&cfg, &mapped));
        cfg.requirepass = Some("pw".into());
        assert!(!protected_mode_refuses(&cfg, &remote));
        cfg.requirepass = None;
        cfg.protected_mode = false;
        assert!(!protected_mode_refuses(&cfg, &remote));
    }
}
