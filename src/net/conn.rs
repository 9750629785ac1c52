//! One client connection: its socket, input buffer, parser and pending output.
//!
//! A connection has at most one batch of commands in flight to the main
//! thread. While it waits for the reply it keeps reading (the socket is
//! edge-triggered and must be drained) but does not parse: that is what keeps
//! per-client order, and what lets the query buffer limit act as backpressure.

use std::collections::VecDeque;
use std::io::{self, Write};

use bytes::BytesMut;

use super::message::{ClientId, Unrun};
use super::stream::Stream;
use super::NetLimits;
use crate::resp::{Argv, Encoded, Limits, Parser, ProtocolError};

/// Most commands sent to main in one message; the rest wait for the reply,
/// so one deep pipeline cannot starve other clients.
const MAX_CMDS_PER_BATCH: usize = 1024;
/// Stop parsing new commands while this much output is unsent (the client is
/// not reading its replies); reading continues up to the query buffer limit.
/// The main thread also stops running one batch's commands once their
/// replies reach this size, so no batch builds more than this at a time.
pub const OUTPUT_PAUSE: usize = 4 * 1024 * 1024;
/// Stop reading a socket with this much unparsed input (unless the parser
/// needs more for one bulk) until the main thread has consumed some: a fast
/// pipeline then waits in the kernel (TCP backpressure) instead of filling
/// the query buffer past its limit, as Valkey's read-then-parse loop does.
const READ_PAUSE: usize = 256 * 1024;
const READ_MIN: usize = 4 * 1024;
/// Valkey's fixed per-client reply buffer (PROTO_REPLY_CHUNK_BYTES), which
/// output limits do not count.
const REPLY_BUF: usize = 16 * 1024;
const READ_MAX: usize = 64 * 1024;

/// Why a connection must close now.
#[derive(Debug, PartialEq, Eq)]
pub enum CloseReason {
    PeerClosed,
    Error,
    QueryBufferLimit,
}

impl CloseReason {
    /// The client limit this close is for, if any (INFO stats count them).
    pub fn limit(&self) -> Option<super::message::LimitBroken> {
        (*self == CloseReason::QueryBufferLimit).then_some(super::message::LimitBroken::QueryBuffer)
    }
}

pub struct Conn {
    pub id: ClientId,
    pub stream: Stream,
    rbuf: BytesMut,
    parser: Parser,
    out: VecDeque<Encoded>,
    out_pos: usize,
    out_bytes: usize,
    /// A batch is with the main thread.
    pub in_flight: bool,
    /// Close once the output is written (QUIT, protocol error, CLIENT KILL of self).
    pub close_when_flushed: bool,
    /// The peer shut its side, or the input was malformed: parse no more
    /// than what is already buffered (nothing at all after a protocol error).
    eof: bool,
    /// The main thread was told the peer hung up during an in-flight batch.
    pub hangup_reported: bool,
    input_poisoned: bool,
    pub authenticated: bool,
    /// WRITABLE interest is registered.
    pub want_write: bool,
    /// Asked to move to another thread: send no new batch.
    pub releasing: bool,
    /// Reading stopped with data possibly left in the socket (READ_PAUSE,
    /// or output backed up): resume once input is consumed.
    pub read_paused: bool,
    /// Bytes read and not yet reported to main.
    pub read_bytes: u64,
    /// The poll reported the peer's FIN (EPOLLRDHUP) or this connection just
    /// arrived on this thread: read until EOF or EAGAIN instead of trusting a
    /// short read. Edge-triggered epoll reports the FIN once, together with
    /// any data that came with it; a short read that returned the data and
    /// left the FIN unread would never hear of it again.
    pub drain_to_eof: bool,
    /// Commands of the last batch that main sent back unrun (its output
    /// bound was reached): the next batch, once the output has drained.
    unrun: Option<Box<Unrun>>,
    /// Subscribed to something: `client-output-buffer-limit pubsub` applies.
    pub pubsub: bool,
    /// Since when the output has been over the soft limit.
    soft_limit_since: Option<std::time::Instant>,
    read_size: usize,
}

impl Conn {
    pub fn new(id: ClientId, stream: Stream) -> Self {
        Conn {
            id,
            stream,
            rbuf: BytesMut::new(),
            parser: Parser::new(),
            out: VecDeque::new(),
            out_pos: 0,
            out_bytes: 0,
            in_flight: false,
            close_when_flushed: false,
            eof: false,
            hangup_reported: false,
            input_poisoned: false,
            authenticated: true,
            want_write: false,
            releasing: false,
            read_paused: false,
            read_bytes: 0,
            drain_to_eof: true,
            unrun: None,
            pubsub: false,
            soft_limit_since: None,
            read_size: READ_MIN,
        }
    }

    /// Reads everything available. Ok even on EOF (see `peer_gone`) so that
    /// commands read before the EOF still run.
    pub fn read_all(&mut self, limits: &NetLimits) -> Result<(), CloseReason> {
        if self.eof {
            return Ok(());
        }
        loop {
            let len = self.rbuf.len();
            if len > limits.query_buf_limit() {
                return Err(CloseReason::QueryBufferLimit);
            }
            let bulk_unfinished = self.parser.bulk_needs() > len;
            if (len >= READ_PAUSE && !bulk_unfinished) || self.out_bytes > OUTPUT_PAUSE {
                self.read_paused = true;
                return Ok(());
            }
            let want = self.read_size;
            self.rbuf.reserve(want);
            // recv into the spare capacity: no zeroing of memory the kernel
            // is about to overwrite (it was 14% of a GET's instructions).
            let spare = &mut self.rbuf.spare_capacity_mut()[..want];
            match socket2::SockRef::from(&self.stream).recv(spare) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    // SAFETY: recv initialized the first `n` bytes of the
                    // spare capacity, and `n <= want <= spare capacity`.
                    unsafe { self.rbuf.set_len(len + n) };
                    self.read_bytes += n as u64;
                    if self.rbuf.len() > limits.query_buf_limit() {
                        return Err(CloseReason::QueryBufferLimit);
                    }
                    if n == want {
                        self.read_size = (want * 2).min(READ_MAX);
                        continue;
                    }
                    if n < want / 4 {
                        self.read_size = (want / 2).max(READ_MIN);
                    }
                    // A short read drained the socket: anything arriving
                    // later raises a new edge, so skip the recv that would
                    // only say EAGAIN (one syscall less per request) -
                    // unless a FIN may be waiting behind the data.
                    if !self.drain_to_eof {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Drained with no FIN behind the data: a later FIN
                    // raises a new edge of its own.
                    self.drain_to_eof = false;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(CloseReason::Error),
            }
        }
    }

    /// The peer closed while a batch is with the main thread: tell main once
    /// (a client blocked in BLPOP must stop waiting; others finish the batch).
    pub fn hangup_to_report(&mut self) -> bool {
        if self.eof && self.in_flight && !self.hangup_reported {
            self.hangup_reported = true;
            return true;
        }
        false
    }

    /// True when the peer has closed and nothing more will be done for it.
    pub fn finished(&self) -> bool {
        (self.eof || self.input_poisoned)
            && !self.in_flight
            && self.out_bytes == 0
            && !self.has_complete_input()
    }

    fn has_complete_input(&self) -> bool {
        self.unrun.is_some() || (!self.input_poisoned && !self.rbuf.is_empty())
    }

    /// Keeps commands main sent back unrun for the next batch.
    pub fn requeue(&mut self, rest: Box<Unrun>) {
        self.unrun = Some(rest);
    }

    /// Parses the next batch of commands if the connection may send one.
    /// Returns the commands and a protocol error that followed them, if any.
    pub fn next_batch(&mut self, limits: &NetLimits) -> Option<(Vec<Argv>, Option<ProtocolError>)> {
        if self.in_flight || self.close_when_flushed || self.out_bytes > OUTPUT_PAUSE {
            return None;
        }
        // Commands main sent back unrun come before anything parsed later.
        if let Some(rest) = self.unrun.take() {
            self.in_flight = true;
            return Some((rest.cmds, rest.error));
        }
        if self.input_poisoned {
            return None;
        }
        let lim = Limits {
            max_bulk_len: limits.max_bulk_len(),
            authenticated: self.authenticated,
        };
        // Room for a typical pipeline up front (each growth is a realloc).
        let mut cmds = Vec::with_capacity(16);
        let mut error = None;
        while cmds.len() < MAX_CMDS_PER_BATCH {
            match self.parser.parse(&mut self.rbuf, &lim) {
                Ok(Some(argv)) => cmds.push(argv),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    self.input_poisoned = true;
                    self.rbuf.clear();
                    break;
                }
            }
            // Before authentication, one command at a time: AUTH changes the
            // limits that apply to the next one.
            if !self.authenticated {
                break;
            }
        }
        if self.eof && !self.parser.in_progress() && error.is_none() {
            // A partial inline line at EOF is discarded, as Valkey does.
            if memchr::memchr(b'\n', &self.rbuf).is_none() {
                self.rbuf.clear();
            }
        }
        if cmds.is_empty() && error.is_none() {
            if self.eof {
                self.rbuf.clear();
            }
            return None;
        }
        self.in_flight = true;
        Some((cmds, error))
    }

    /// May move to another thread now (nothing the main thread is working on).
    pub fn can_move(&self) -> bool {
        !self.in_flight
    }

    pub fn queue_output(&mut self, data: impl Into<Encoded>) {
        let data = data.into();
        let len = data.len();
        if len > 0 {
            self.out_bytes += len;
            self.out.push_back(data);
        } else {
            crate::resp::reply::recycle(data.bytes);
        }
    }

    /// True when the unsent output breaks `client-output-buffer-limit`
    /// (over the hard limit, or over the soft limit for too long). As in
    /// Valkey, the first `REPLY_BUF` bytes do not count: they sit in the
    /// client's fixed reply buffer there, outside the limit.
    pub fn over_output_limit(&mut self, limits: &NetLimits) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let used = self.out_bytes.saturating_sub(REPLY_BUF) as u64;
        let (hard, soft, secs) = if self.pubsub {
            (
                &limits.pubsub_hard,
                &limits.pubsub_soft,
                &limits.pubsub_soft_secs,
            )
        } else {
            (&limits.out_hard, &limits.out_soft, &limits.out_soft_secs)
        };
        let hard = hard.load(Relaxed);
        if hard > 0 && used > hard {
            return true;
        }
        let soft = soft.load(Relaxed);
        if soft > 0 && used > soft {
            let since = *self
                .soft_limit_since
                .get_or_insert_with(std::time::Instant::now);
            return since.elapsed().as_secs() >= secs.load(Relaxed);
        }
        self.soft_limit_since = None;
        false
    }

    pub fn pending_output(&self) -> usize {
        self.out_bytes
    }

    /// Writes as much pending output as the socket takes. Ok(true) when all
    /// of it is written.
    pub fn flush(&mut self) -> Result<bool, CloseReason> {
        while let Some(front) = self.out.front() {
            let result = if self.out.len() == 1 && front.shared.is_empty() {
                self.stream.write(&front.bytes[self.out_pos..])
            } else {
                // Several replies, or values sent by reference: one
                // vectored write of as many pieces as fit.
                let mut slices: [io::IoSlice<'_>; 32] =
                    std::array::from_fn(|_| io::IoSlice::new(&[]));
                let mut n = 0;
                let mut skip = self.out_pos;
                for msg in self.out.iter() {
                    msg.pieces_from(skip, |piece| {
                        slices[n] = io::IoSlice::new(piece);
                        n += 1;
                        n < slices.len()
                    });
                    skip = 0;
                    if n == slices.len() {
                        break;
                    }
                }
                self.stream.write_vectored(&slices[..n])
            };
            match result {
                Ok(0) => return Err(CloseReason::Error),
                Ok(mut n) => {
                    self.out_bytes -= n;
                    while n > 0 {
                        let Some(front) = self.out.front() else { break };
                        let left = front.len().saturating_sub(self.out_pos);
                        if n >= left {
                            n -= left;
                            self.out_pos = 0;
                            if let Some(done) = self.out.pop_front() {
                                crate::resp::reply::recycle(done.bytes);
                            }
                        } else {
                            self.out_pos += n;
                            n = 0;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(CloseReason::Error),
            }
        }
        Ok(true)
    }
}
