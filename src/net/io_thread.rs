//! An IO thread: its own `mio::Poll` over the connections it was given.
//!
//! ```text
//!   main ──ring to_io──► [drain: attach / reply / kill / free] ─┐
//!                                                               ▼
//!   sockets ──► poll ──► read ─► parse ─► ToMain ──ring to_main──► main
//! ```
//! When there is nothing to do the thread blocks in `epoll_wait` and costs
//! no CPU; the main thread wakes it through its `Parker` only if it may be
//! asleep. A full `to_main` ring keeps messages here until there is room.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::{Events, Poll, Token, Waker};

use super::message::{ToIo, ToMain};
use super::{ConnSet, NetLimits};
use crate::ring::{Parker, Ring};

const WAKER: Token = Token(0);

/// The main thread's handle on one IO thread.
pub struct IoThread {
    pub to_io: Arc<Ring<ToIo>>,
    pub to_main: Arc<Ring<ToMain>>,
    /// Wakes the IO thread.
    pub parker: Arc<Parker>,
    pub join: Option<JoinHandle<()>>,
}

impl IoThread {
    /// Starts IO thread `index`; `main_parker` wakes the main thread.
    pub fn spawn(
        index: usize,
        limits: Arc<NetLimits>,
        main_parker: Arc<Parker>,
    ) -> io::Result<IoThread> {
        let poll = Poll::new()?;
        let parker = Parker::new(Waker::new(poll.registry(), WAKER)?);
        let to_io = Ring::new();
        let to_main = Ring::new();
        let worker = Worker {
            poll,
            conns: ConnSet::new(limits),
            to_io: to_io.clone(),
            to_main: to_main.clone(),
            parker: parker.clone(),
            main_parker,
            pending: VecDeque::new(),
            out: Vec::new(),
        };
        let join = std::thread::Builder::new()
            .name(format!("io_thd_{index}"))
            .spawn(move || worker.run())?;
        Ok(IoThread {
            to_io,
            to_main,
            parker,
            join: Some(join),
        })
    }
}

struct Worker {
    poll: Poll,
    conns: ConnSet,
    to_io: Arc<Ring<ToIo>>,
    to_main: Arc<Ring<ToMain>>,
    parker: Arc<Parker>,
    main_parker: Arc<Parker>,
    /// Messages that did not fit in the ring.
    pending: VecDeque<ToMain>,
    out: Vec<ToMain>,
}

impl Worker {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            while let Some(msg) = self.to_io.pop() {
                if let ToIo::Shutdown = msg {
                    self.conns.shutdown(self.poll.registry(), &mut self.out);
                    self.send_out();
                    return;
                }
                self.conns.apply(self.poll.registry(), msg, &mut self.out);
            }
            self.send_out();
            let timeout = if !self.pending.is_empty() {
                // Main is behind: retry soon rather than sleep.
                Some(Duration::from_millis(1))
            } else {
                self.parker.prepare_sleep();
                if self.to_io.is_empty() {
                    None
                } else {
                    Some(Duration::ZERO)
                }
            };
            let r = self.poll.poll(&mut events, timeout);
            self.parker.awake();
            if let Err(e) = r {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!("IO thread poll failed: {e}");
                    return;
                }
            }
            for ev in events.iter() {
                if ev.token() != WAKER {
                    self.conns
                        .on_event(self.poll.registry(), ev.token(), ev, &mut self.out);
                }
            }
        }
    }

    /// Moves outgoing messages into the ring and wakes main once.
    fn send_out(&mut self) {
        self.pending.extend(self.out.drain(..));
        let mut sent = false;
        while let Some(msg) = self.pending.pop_front() {
            match self.to_main.push(msg) {
                Ok(()) => sent = true,
                Err(msg) => {
                    self.pending.push_front(msg);
                    break;
                }
            }
        }
        if sent {
            self.main_parker.notify();
        }
    }
}
