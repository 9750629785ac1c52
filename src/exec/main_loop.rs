//! The main event loop, for both thread layouts:
//!
//! ```text
//! io-threads 1:  poll(listeners + sockets) → read/parse → batch → write
//! io-threads N:  poll(listeners + waker) → drain N-1 rings → batch → rings
//! ```
//! With IO threads, the main thread sleeps in `epoll_wait` until a ring
//! producer wakes it (only if it announced sleep), a connection arrives, or
//! the cron is due.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UnixStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::batch::Executor;
use super::client::{Client, Clients};
use super::lazyfree::LazyFreer;
use super::state::State;
use super::{cron, Outbox};
use crate::config::Config;
use crate::error::MAX_CLIENTS;
use crate::net::io_thread::IoThread;
use crate::net::{listener, ConnSet, NetLimits, FIRST_CONN_TOKEN};
use crate::ring::message::{Garbage, ToIo, ToMain};
use crate::ring::Parker;

const WAKER: Token = Token(FIRST_CONN_TOKEN - 1);
const SIGNAL: Token = Token(FIRST_CONN_TOKEN - 2);
/// Listener i uses Token(i); at most this many bind addresses.
const MAX_LISTENERS: usize = FIRST_CONN_TOKEN - 2;

const PROTECTED_MODE_MSG: &str = "-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers, you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting from the same host the server is running, however MAKE SURE the server is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Where the IO of clients happens.
enum Io {
    /// `io-threads 1`: this thread's own connections.
    Local { conns: ConnSet, freer: LazyFreer },
    Threads {
        threads: Vec<IoThread>,
        parker: Arc<Parker>,
        pending: Vec<VecDeque<ToIo>>,
        next_free: usize,
    },
}

pub struct Server {
    poll: Poll,
    listeners: Vec<(mio::net::TcpListener, std::net::SocketAddr)>,
    signals: UnixStream,
    state: State,
    clients: Clients,
    exec: Executor,
    outbox: Outbox,
    io: Io,
    inbox: Vec<ToMain>,
    closed: Vec<u64>,
    next_id: u64,
}

impl Server {
    /// Binds, spawns IO threads, and gets ready to serve.
    pub fn new(config: Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut listeners = listener::bind_all(&config.bind, config.port)?;
        if listeners.len() > MAX_LISTENERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "too many bind addresses",
            ));
        }
        for (i, (l, _)) in listeners.iter_mut().enumerate() {
            poll.registry().register(l, Token(i), Interest::READABLE)?;
        }
        let (sig_reader, sig_writer) = std::os::unix::net::UnixStream::pair()?;
        sig_reader.set_nonblocking(true)?;
        sig_writer.set_nonblocking(true)?;
        let mut signals = UnixStream::from_std(sig_reader);
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            let w = sig_writer.try_clone()?;
            signal_hook::low_level::pipe::register(sig, w)?;
        }
        poll.registry()
            .register(&mut signals, SIGNAL, Interest::READABLE)?;
        let limits = Arc::new(NetLimits::new(
            config.proto_max_bulk_len,
            config.client_query_buffer_limit,
        ));
        let n = config.io_threads;
        let io = if n <= 1 {
            Io::Local {
                conns: ConnSet::new(limits.clone()),
                freer: LazyFreer::spawn()?,
            }
        } else {
            let parker = Parker::new(Waker::new(poll.registry(), WAKER)?);
            let mut threads = Vec::new();
            for i in 1..n {
                threads.push(IoThread::spawn(i, limits.clone(), parker.clone())?);
            }
            Io::Threads {
                pending: (0..n).map(|_| VecDeque::new()).collect(),
                threads,
                parker,
                next_free: 0,
            }
        };
        let mut state = State::new(config, limits);
        if let Some((_, addr)) = listeners.first() {
            state.tcp_port = addr.port();
        }
        state.io_threads_active = n.saturating_sub(1);
        Ok(Server {
            poll,
            listeners,
            signals,
            state,
            clients: Clients::default(),
            exec: Executor::default(),
            outbox: Outbox::new(n),
            io,
            inbox: Vec::new(),
            closed: Vec::new(),
            next_id: 1,
        })
    }

    pub fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.listeners.iter().map(|(_, a)| *a).collect()
    }

    /// Serves until SIGTERM/SIGINT or SHUTDOWN.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let period = Duration::from_millis(1000 / self.state.config.hz.max(1) as u64);
        let mut next_cron = Instant::now() + period;
        loop {
            let now = Instant::now();
            let mut timeout = next_cron.saturating_duration_since(now);
            if !self.inbox.is_empty() || !self.exec.is_empty() {
                timeout = Duration::ZERO;
            }
            if let Io::Threads {
                threads,
                parker,
                pending,
                ..
            } = &self.io
            {
                if pending.iter().any(|p| !p.is_empty()) {
                    timeout = timeout.min(Duration::from_millis(1));
                }
                parker.prepare_sleep();
                if threads.iter().any(|t| !t.to_main.is_empty()) {
                    timeout = Duration::ZERO;
                }
            }
            let r = self.poll.poll(&mut events, Some(timeout));
            if let Io::Threads { parker, .. } = &self.io {
                parker.awake();
            }
            if let Err(e) = r {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    SIGNAL => {
                        let mut buf = [0u8; 64];
                        let _ = io::Read::read(&mut self.signals, &mut buf);
                        tracing::warn!("Received SIGTERM or SIGINT, scheduling shutdown...");
                        self.state.shutdown = Some(super::state::ShutdownMode::Default);
                    }
                    Token(i) if i < self.listeners.len() => self.accept(i),
                    t => {
                        if let Io::Local { conns, .. } = &mut self.io {
                            conns.on_event(self.poll.registry(), t, ev, &mut self.inbox);
                        }
                    }
                }
            }
            self.drain_rings();
            self.handle_inbox();
            self.exec
                .run(&mut self.state, &mut self.clients, &mut self.outbox);
            for id in std::mem::take(&mut self.state.kills) {
                if let Some(c) = self.clients.by_id(id) {
                    self.outbox.send(c.io_thread, ToIo::Kill { client: id });
                }
            }
            for id in self.closed.drain(..) {
                self.clients.remove(id);
            }
            if Instant::now() >= next_cron {
                cron::run(&mut self.state, &self.clients, &|_| false);
                next_cron = Instant::now()
                    + Duration::from_millis(1000 / self.state.config.hz.max(1) as u64);
            }
            self.state.collect_db_garbage();
            self.free_garbage();
            self.flush_outbox();
            if self.state.shutdown.is_some() {
                return self.shutdown();
            }
        }
    }

    fn accept(&mut self, i: usize) {
        loop {
            let (stream, addr) = match self.listeners[i].0.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!("Accepting client connection: {e}");
                    return;
                }
            };
            self.state.stats.connections_received += 1;
            let cfg = &self.state.config;
            if self.clients.len() >= cfg.maxclients {
                self.state.stats.rejected_connections += 1;
                reject(stream, &format!("-{MAX_CLIENTS}\r\n"));
                continue;
            }
            if cfg.protected_mode && cfg.requirepass.is_none() && !addr.ip().is_loopback() {
                self.state.stats.rejected_connections += 1;
                reject(stream, PROTECTED_MODE_MSG);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let laddr = stream.local_addr().unwrap_or(self.listeners[i].1);
            let id = self.next_id;
            self.next_id += 1;
            let authenticated = cfg.requirepass.is_none();
            match &mut self.io {
                Io::Local { conns, .. } => {
                    self.clients
                        .insert(Client::new(id, addr, laddr, 0, authenticated));
                    conns.attach(self.poll.registry(), id, stream, &mut self.inbox);
                    if !authenticated {
                        // The IO side parses with pre-auth limits until told otherwise.
                        conns.apply(
                            self.poll.registry(),
                            ToIo::Reply {
                                client: id,
                                data: Vec::new(),
                                done: false,
                                close: false,
                                authenticated,
                            },
                            &mut self.inbox,
                        );
                    }
                }
                Io::Threads { threads, .. } => {
                    let t = 1 + (id as usize % threads.len());
                    self.clients
                        .insert(Client::new(id, addr, laddr, t, authenticated));
                    self.outbox.send(t, ToIo::Attach { client: id, stream });
                    if !authenticated {
                        self.outbox.send(
                            t,
                            ToIo::Reply {
                                client: id,
                                data: Vec::new(),
                                done: false,
                                close: false,
                                authenticated,
                            },
                        );
                    }
                }
            }
        }
    }

    fn drain_rings(&mut self) {
        let Io::Threads { threads, .. } = &self.io else {
            return;
        };
        // Round robin, a bounded number per ring per turn, so one busy IO
        // thread cannot starve the others' clients.
        loop {
            let mut any = false;
            for t in threads {
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

    fn handle_inbox(&mut self) {
        for msg in self.inbox.drain(..) {
            match msg {
                ToMain::Commands {
                    client,
                    cmds,
                    error,
                } => {
                    if let Io::Threads { .. } = self.io {
                        self.state.stats.io_threaded_reads += 1;
                    }
                    self.exec.push(&self.clients, client, cmds, error);
                }
                ToMain::Closed { client } => self.closed.push(client),
            }
        }
    }

    fn free_garbage(&mut self) {
        if self.state.garbage.is_empty() {
            return;
        }
        let garbage: Vec<Garbage> = std::mem::take(&mut self.state.garbage);
        match &mut self.io {
            Io::Local { freer, .. } => {
                for g in garbage {
                    freer.free(g);
                }
            }
            Io::Threads {
                threads, next_free, ..
            } => {
                for g in garbage {
                    *next_free = (*next_free + 1) % threads.len();
                    self.outbox.send(1 + *next_free, ToIo::Free(g));
                }
            }
        }
    }

    fn flush_outbox(&mut self) {
        match &mut self.io {
            Io::Local { conns, .. } => {
                for msg in self.outbox.per_thread[0].drain(..) {
                    conns.apply(self.poll.registry(), msg, &mut self.inbox);
                }
            }
            Io::Threads {
                threads, pending, ..
            } => {
                for (k, t) in threads.iter().enumerate() {
                    let q = &mut pending[k + 1];
                    q.extend(self.outbox.per_thread[k + 1].drain(..));
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
                        self.state.stats.io_threaded_writes += 1;
                        t.parker.notify();
                    }
                }
            }
        }
    }

    fn shutdown(mut self) -> io::Result<()> {
        tracing::warn!("User requested shutdown...");
        match &mut self.io {
            Io::Local { conns, freer } => {
                conns.shutdown(self.poll.registry(), &mut self.inbox);
                freer.shutdown();
            }
            Io::Threads { threads, .. } => {
                for t in threads.iter_mut() {
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
                for t in threads.iter_mut() {
                    if let Some(j) = t.join.take() {
                        let _ = j.join();
                    }
                }
            }
        }
        tracing::warn!("ferrokey is now ready to exit, bye bye...");
        Ok(())
    }
}

/// Best-effort error line to a client we will not serve, then close.
fn reject(mut stream: mio::net::TcpStream, msg: &str) {
    let _ = stream.write(msg.as_bytes());
}
