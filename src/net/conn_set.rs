//! The connections one thread polls, and how socket events and replies move
//! them along: read → parse → `ToMain::Commands`, then `ToIo::Reply` → write.
//! Connections can also move between threads (`adopt` / `release`) when the
//! main thread changes how many IO threads are active.

use std::sync::Arc;

use hashbrown::HashMap;
use mio::{Interest, Registry, Token};

use super::conn::{CloseReason, Conn};
use super::message::{ClientId, LimitBroken, PushBatch, ToIo, ToMain};
use super::{NetLimits, FIRST_CONN_TOKEN};
use crate::resp::reply::SharedBytes;
use crate::resp::Encoded;

pub struct ConnSet {
    /// Boxed: an empty slot costs a pointer, and connections move between
    /// threads without copying.
    slots: Vec<Option<Box<Conn>>>,
    free: Vec<usize>,
    by_id: HashMap<ClientId, usize>,
    limits: Arc<NetLimits>,
}

impl ConnSet {
    pub fn new(limits: Arc<NetLimits>) -> Self {
        ConnSet {
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            limits,
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn contains(&self, client: ClientId) -> bool {
        self.by_id.contains_key(&client)
    }

    /// Starts serving a new connection.
    pub fn attach(
        &mut self,
        registry: &Registry,
        client: ClientId,
        stream: super::stream::Stream,
        out: &mut Vec<ToMain>,
    ) {
        self.adopt(registry, Box::new(Conn::new(client, stream)), out);
    }

    /// Starts serving a connection, new or moved from another thread; input
    /// it had buffered is parsed right away.
    pub fn adopt(&mut self, registry: &Registry, mut conn: Box<Conn>, out: &mut Vec<ToMain>) {
        let client = conn.id;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        conn.releasing = false;
        // A FIN that came while the connection was between threads was
        // announced to the old poll: drain to EOF once on arrival.
        conn.drain_to_eof = true;
        let interest = if conn.pending_output() > 0 {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        conn.want_write = conn.pending_output() > 0;
        if registry
            .register(&mut conn.stream, Token(slot + FIRST_CONN_TOKEN), interest)
            .is_err()
        {
            self.free.push(slot);
            out.push(ToMain::Closed {
                client,
                limit: None,
            });
            return;
        }
        self.slots[slot] = Some(conn);
        self.by_id.insert(client, slot);
        // Data that arrived before the move (or before registration) is not
        // announced again by the edge-triggered poll: read and parse now.
        if let Some(c) = self.slots[slot].as_mut() {
            if let Err(e) = c.read_all(&self.limits) {
                self.close_for(registry, slot, out, e.limit());
                return;
            }
        }
        self.advance(registry, slot, out);
    }

    /// Takes a connection out of this set (it moves to another thread), if
    /// it has no batch in flight.
    pub fn detach(&mut self, registry: &Registry, client: ClientId) -> Option<Box<Conn>> {
        let slot = *self.by_id.get(&client)?;
        if !self.slots[slot].as_ref()?.can_move() {
            return None;
        }
        let mut conn = self.slots[slot].take()?;
        let _ = registry.deregister(&mut conn.stream);
        self.by_id.remove(&client);
        self.free.push(slot);
        self.shrink();
        Some(conn)
    }

    fn shrink(&mut self) {
        crate::slab::shrink_tail(&mut self.slots, &mut self.free, self.by_id.len());
        crate::slab::shrink_map(&mut self.by_id);
    }

    fn close(&mut self, registry: &Registry, slot: usize, out: &mut Vec<ToMain>) {
        self.close_for(registry, slot, out, None);
    }

    /// Closes a connection, telling main which limit it broke, if any.
    fn close_for(
        &mut self,
        registry: &Registry,
        slot: usize,
        out: &mut Vec<ToMain>,
        limit: Option<LimitBroken>,
    ) {
        if let Some(mut conn) = self.slots.get_mut(slot).and_then(Option::take) {
            let _ = registry.deregister(&mut conn.stream);
            self.by_id.remove(&conn.id);
            self.free.push(slot);
            out.push(ToMain::Closed {
                client: conn.id,
                limit,
            });
            self.shrink();
        }
    }

    /// Handles a poll event for a connection token.
    pub fn on_event(
        &mut self,
        registry: &Registry,
        token: Token,
        event: &mio::event::Event,
        out: &mut Vec<ToMain>,
    ) {
        let Some(slot) = token.0.checked_sub(FIRST_CONN_TOKEN) else {
            return;
        };
        let Some(conn) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let mut failed = false;
        let mut limit = None;
        if event.is_writable() && conn.pending_output() > 0 {
            failed |= Self::write_out(registry, conn, slot).is_err();
        }
        if event.is_read_closed() || event.is_error() {
            conn.drain_to_eof = true;
        }
        if !failed && (event.is_readable() || event.is_read_closed() || event.is_error()) {
            match conn.read_all(&self.limits) {
                Ok(()) => {}
                Err(CloseReason::QueryBufferLimit) => {
                    tracing::warn!(
                        client = conn.id,
                        "closing client that reached max query buffer length"
                    );
                    limit = Some(LimitBroken::QueryBuffer);
                    failed = true;
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            self.close_for(registry, slot, out, limit);
            return;
        }
        if conn.hangup_to_report() {
            out.push(ToMain::HangUp { client: conn.id });
        }
        self.advance(registry, slot, out);
    }

    /// Sends the next batch if one is ready, hands the connection back if
    /// asked to, or closes a finished connection.
    fn advance(&mut self, registry: &Registry, slot: usize, out: &mut Vec<ToMain>) {
        // Bounded: each turn reads or parses something; the bound only
        // guards against a state where neither makes progress.
        for _ in 0..64 {
            let Some(conn) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            if conn.releasing {
                if conn.can_move() {
                    let id = conn.id;
                    if let Some(c) = self.detach(registry, id) {
                        out.push(ToMain::Released(c));
                    }
                }
                return;
            }
            if let Some((cmds, error)) = conn.next_batch(&self.limits) {
                let input_bytes = std::mem::take(&mut conn.read_bytes);
                out.push(ToMain::Commands {
                    client: conn.id,
                    cmds,
                    error,
                    input_bytes,
                });
                // The EOF may have been read with these commands.
                if conn.hangup_to_report() {
                    out.push(ToMain::HangUp { client: conn.id });
                }
                return;
            }
            // Input consumed: read what was left in the socket, then parse again.
            if conn.read_paused && !conn.in_flight && !conn.close_when_flushed {
                conn.read_paused = false;
                if let Err(e) = conn.read_all(&self.limits) {
                    self.close_for(registry, slot, out, e.limit());
                    return;
                }
                if !conn.read_paused || conn.pending_output() == 0 {
                    continue;
                }
            }
            if conn.finished() || (conn.close_when_flushed && conn.pending_output() == 0) {
                self.close(registry, slot, out);
            }
            return;
        }
    }

    fn write_out(registry: &Registry, conn: &mut Conn, slot: usize) -> Result<(), CloseReason> {
        let done = conn.flush()?;
        if done == conn.want_write {
            // Interest must change: all written (drop WRITABLE) or blocked (add it).
            let interest = if done {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            registry
                .reregister(&mut conn.stream, Token(slot + FIRST_CONN_TOKEN), interest)
                .map_err(|_| CloseReason::Error)?;
            conn.want_write = !done;
        }
        Ok(())
    }

    /// Applies a message from the main thread.
    pub fn apply(&mut self, registry: &Registry, msg: ToIo, out: &mut Vec<ToMain>) {
        match msg {
            ToIo::Adopt(conn) => self.adopt(registry, conn, out),
            ToIo::Release { client } => {
                let Some(&slot) = self.by_id.get(&client) else {
                    return;
                };
                if let Some(conn) = self.slots[slot].as_mut() {
                    conn.releasing = true;
                }
                self.advance(registry, slot, out);
            }
            ToIo::Reply {
                client,
                data,
                done,
                close,
                authenticated,
                rest,
            } => {
                let Some(&slot) = self.by_id.get(&client) else {
                    return;
                };
                let Some(conn) = self.slots[slot].as_mut() else {
                    return;
                };
                conn.queue_output(data);
                conn.authenticated = authenticated;
                if let Some(rest) = rest {
                    conn.requeue(rest);
                }
                if conn.over_output_limit(&self.limits) {
                    tracing::warn!(
                        client,
                        "closing client for overcoming of output buffer limits"
                    );
                    self.close_for(registry, slot, out, Some(LimitBroken::OutputBuffer));
                    return;
                }
                if done {
                    conn.in_flight = false;
                }
                if close {
                    conn.close_when_flushed = true;
                }
                if Self::write_out(registry, conn, slot).is_err() {
                    self.close(registry, slot, out);
                    return;
                }
                self.advance(registry, slot, out);
            }
            ToIo::Push(batch) => self.push(registry, *batch, out),
            ToIo::PubSubClient { client, on } => {
                if let Some(conn) = self
                    .by_id
                    .get(&client)
                    .and_then(|&s| self.slots[s].as_mut())
                {
                    conn.pubsub = on;
                }
            }
            ToIo::Kill { client } => {
                if let Some(&slot) = self.by_id.get(&client) {
                    self.close(registry, slot, out);
                }
            }
            ToIo::Free(garbage) => drop(garbage),
            ToIo::Shutdown => {}
        }
    }

    /// Queues published messages for their subscribers: one buffer per
    /// protocol, shared by reference (never copied per client), each
    /// client's output limit counting all of it.
    fn push(&mut self, registry: &Registry, batch: PushBatch, out: &mut Vec<ToMain>) {
        let PushBatch { clients, data } = batch;
        for (ids, data) in clients.iter().zip(data) {
            if ids.is_empty() {
                continue;
            }
            let shared = SharedBytes::Vec(Arc::new(data));
            for client in ids {
                let Some(&slot) = self.by_id.get(client) else {
                    continue;
                };
                let Some(conn) = self.slots[slot].as_mut() else {
                    continue;
                };
                conn.queue_output(Encoded {
                    bytes: Vec::new(),
                    shared: vec![(0, shared.clone())],
                });
                if conn.over_output_limit(&self.limits) {
                    tracing::warn!(
                        client,
                        "closing client for overcoming of output buffer limits"
                    );
                    self.close_for(registry, slot, out, Some(LimitBroken::OutputBuffer));
                    continue;
                }
                if Self::write_out(registry, conn, slot).is_err() {
                    self.close(registry, slot, out);
                    continue;
                }
                if conn.close_when_flushed && conn.pending_output() == 0 {
                    self.close(registry, slot, out);
                }
            }
        }
    }

    /// Writes what can be written without waiting, then closes everything.
    pub fn shutdown(&mut self, registry: &Registry, out: &mut Vec<ToMain>) {
        // Closing shrinks the slot vector: walk it from the end.
        for slot in (0..self.slots.len()).rev() {
            if let Some(conn) = self.slots.get_mut(slot).and_then(Option::as_mut) {
                let _ = conn.flush();
            }
            self.close(registry, slot, out);
        }
    }
}
