//! Blocked clients, in one place: who waits, on which keys, until when,
//! with which command, and the rest of its pipeline (the suspended job).
//!
//! A handler that finds nothing to serve asks to block (`request`); the
//! batch executor then registers the client (`block`), which makes it a
//! waiter on each key at once, so a push later in the same batch finds it.
//! Commands that add to a key a client waits on mark it ready
//! (`signal_ready`); the executor retries the waiters of ready keys in the
//! order they blocked, and takes a client out (`unblock`) when it is
//! served, times out, is unblocked by CLIENT UNBLOCK, killed or gone.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;

use super::stats::CmdId;
use crate::net::message::ClientId;
use crate::resp::{Argv, ProtocolError, ReplyBuf};

/// What a blocked command replies when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP2) / `_` (RESP3): BLPOP, BLMPOP, BZPOPMIN, BZMPOP.
    NullArray,
    /// `$-1` (RESP2) / `_` (RESP3): BLMOVE, BRPOPLPUSH.
    Null,
    /// `:0`: WAIT, no replica acknowledged.
    NoReplicaAcks,
    /// `*2 :0 :0`: WAITAOF, no local fsync and no replica acknowledged.
    NoAofAcks,
}

impl TimeoutReply {
    pub fn write(self, out: &mut ReplyBuf) {
        match self {
            TimeoutReply::NullArray => out.null_array(),
            TimeoutReply::Null => out.null(),
            TimeoutReply::NoReplicaAcks => out.int(0),
            TimeoutReply::NoAofAcks => {
                out.array(2);
                out.int(0);
                out.int(0);
            }
        }
    }
}

/// A handler's request to block its client (see `commands::Ctx::block`).
#[derive(Debug)]
pub struct BlockRequest {
    pub keys: Vec<Bytes>,
    /// None: wait forever (timeout 0).
    pub deadline: Option<Instant>,
    pub timeout_reply: TimeoutReply,
    /// The arguments to retry with instead of the command's own (XREAD
    /// resolves `$` to the stream's last ID when it blocks).
    pub retry_argv: Option<Vec<Bytes>>,
}

/// A client's pipeline, suspended while it is blocked: the commands after
/// the blocked one, the replies not sent yet, and the protocol error that
/// ended its input, if any.
pub struct Suspended {
    pub slot: usize,
    pub cmds: VecDeque<Argv>,
    pub out: ReplyBuf,
    pub error: Option<ProtocolError>,
}

/// One blocked client.
pub struct Wait {
    pub db: usize,
    pub keys: Vec<Bytes>,
    pub deadline: Option<Instant>,
    pub timeout_reply: TimeoutReply,
    /// The blocked command, run again when a key is ready.
    pub argv: Argv,
    pub cmd: CmdId,
    /// Its run time so far, in ns: statistics count it once, when it
    /// completes (served, timed out or unblocked).
    pub nsec: u64,
    /// Set once the executor has put the rest of the batch aside (the
    /// client blocked earlier in the same batch until then).
    pub job: Option<Suspended>,
}

#[derive(Default)]
pub struct Blocking {
    waits: HashMap<ClientId, Wait>,
    /// Waiters on each (db, key), first come first served.
    queues: HashMap<(usize, Bytes), VecDeque<ClientId>>,
    /// Keys with waiters that a command just made servable.
    ready: Vec<(usize, Bytes)>,
    /// CLIENT UNBLOCK requests: (client, reply with an error).
    unblocks: Vec<(ClientId, bool)>,
    /// Set by the handler that asked to block, taken by the executor.
    request: Option<BlockRequest>,
    /// Run time of the command that asked to block (set with `request`).
    request_nsec: u64,
    /// Earlier run time of the blocked command being retried, counted
    /// when the retry completes it.
    carried_nsec: u64,
}

impl Blocking {
    /// How many clients are blocked (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        self.waits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waits.is_empty()
    }

    pub fn is_blocked(&self, client: ClientId) -> bool {
        !self.waits.is_empty() && self.waits.contains_key(&client)
    }

    pub fn get(&self, client: ClientId) -> Option<&Wait> {
        self.waits.get(&client)
    }

    pub fn get_mut(&mut self, client: ClientId) -> Option<&mut Wait> {
        self.waits.get_mut(&client)
    }

    /// A handler asks to block its client.
    pub fn request(&mut self, req: BlockRequest) {
        self.request = Some(req);
    }

    /// True while the command being run has asked to block.
    #[inline]
    pub fn requested(&self) -> bool {
        self.request.is_some()
    }

    /// Adds the run time of the command that asked to block.
    #[inline]
    pub fn add_request_nsec(&mut self, nsec: u64) {
        self.request_nsec += nsec;
    }

    /// The pending request, with the run time it took.
    #[inline]
    pub fn take_request(&mut self) -> Option<(BlockRequest, u64)> {
        let req = self.request.take()?;
        let nsec = std::mem::take(&mut self.request_nsec);
        Some((req, nsec))
    }

    /// Sets the earlier run time of the blocked command about to be retried.
    pub fn carry_nsec(&mut self, nsec: u64) {
        self.carried_nsec = nsec;
    }

    /// The earlier run time of a retried command that completed.
    #[inline]
    pub fn take_carried_nsec(&mut self) -> u64 {
        if self.carried_nsec == 0 {
            return 0;
        }
        std::mem::take(&mut self.carried_nsec)
    }

    /// Registers `client` as blocked on the request's keys in `db`, behind
    /// the clients already waiting on each.
    pub fn block(
        &mut self,
        client: ClientId,
        db: usize,
        req: BlockRequest,
        argv: Argv,
        cmd: CmdId,
        nsec: u64,
    ) {
        let argv = match req.retry_argv {
            Some(a) => a,
            None => argv,
        };
        for k in &req.keys {
            self.queues
                .entry((db, k.clone()))
                .or_default()
                .push_back(client);
        }
        self.waits.insert(
            client,
            Wait {
                db,
                keys: req.keys,
                deadline: req.deadline,
                timeout_reply: req.timeout_reply,
                argv,
                cmd,
                nsec,
                job: None,
            },
        );
    }

    /// Takes `client` out of the blocked state, with what it waited for.
    pub fn unblock(&mut self, client: ClientId) -> Option<Wait> {
        let w = self.waits.remove(&client)?;
        for k in &w.keys {
            let key = (w.db, k.clone());
            if let Some(q) = self.queues.get_mut(&key) {
                q.retain(|c| *c != client);
                if q.is_empty() {
                    self.queues.remove(&key);
                }
            }
        }
        Some(w)
    }

    /// Marks `key` in `db` ready if anyone waits on it.
    #[inline]
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.queues.is_empty() {
            return;
        }
        let k = (db, Bytes::copy_from_slice(key));
        if self.queues.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// True when any client waits on a key in `db` (SWAPDB, FLUSHALL).
    pub fn any_waiting_in(&self, db: usize) -> bool {
        self.queues.keys().any(|(d, _)| *d == db)
    }

    /// The keys waited on in `db`.
    pub fn keys_in(&self, db: usize) -> Vec<Bytes> {
        self.queues
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect()
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub fn take_ready(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.ready)
    }

    /// The clients waiting on `key`, in the order they blocked.
    pub fn waiters(&self, key: &(usize, Bytes)) -> Vec<ClientId> {
        self.queues
            .get(key)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// CLIENT UNBLOCK: `client` stops waiting at the end of this command,
    /// replying an error (`error`) or as if its timeout passed.
    pub fn request_unblock(&mut self, client: ClientId, error: bool) {
        self.unblocks.push((client, error));
    }

    pub fn take_unblocks(&mut self) -> Vec<(ClientId, bool)> {
        std::mem::take(&mut self.unblocks)
    }

    /// The clients whose timeout has passed.
    pub fn due(&self, now: Instant) -> Vec<ClientId> {
        self.waits
            .iter()
            .filter(|(_, w)| w.deadline.is_some_and(|d| d <= now))
            .map(|(c, _)| *c)
            .collect()
    }

    /// The soonest timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waits.values().filter_map(|w| w.deadline).min()
    }

    /// Forgets what nobody will act on (the in-process harness).
    pub fn clear_requests(&mut self) {
        self.request = None;
        self.request_nsec = 0;
        self.ready.clear();
        self.unblocks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(keys: &[&str]) -> BlockRequest {
        BlockRequest {
            keys: keys
                .iter()
                .map(|k| Bytes::copy_from_slice(k.as_bytes()))
                .collect(),
            deadline: None,
            timeout_reply: TimeoutReply::NullArray,
            retry_argv: None,
        }
    }

    #[test]
    fn waiters_in_order_and_gone_after_unblock() {
        let mut b = Blocking::default();
        b.block(7, 0, req(&["a", "b"]), Argv::default(), 0, 10);
        b.block(8, 0, req(&["a"]), Argv::default(), 0, 0);
        b.block(9, 1, req(&["a"]), Argv::default(), 0, 0);
        assert_eq!(b.len(), 3);
        assert!(b.is_blocked(7) && !b.is_blocked(1));
        let a0 = (0, Bytes::from_static(b"a"));
        assert_eq!(b.waiters(&a0), vec![7, 8]);
        b.signal_ready(0, b"a");
        b.signal_ready(0, b"a");
        b.signal_ready(0, b"zzz");
        assert_eq!(b.take_ready(), vec![a0.clone()]);
        let w = b.unblock(7).expect("blocked");
        assert_eq!(w.nsec, 10);
        assert_eq!(b.waiters(&a0), vec![8]);
        assert!(b.waiters(&(0, Bytes::from_static(b"b"))).is_empty());
        assert!(b.any_waiting_in(1) && !b.any_waiting_in(2));
        assert!(b.unblock(7).is_none());
        b.unblock(8);
        b.unblock(9);
        assert!(b.is_empty());
        b.signal_ready(0, b"a");
        assert!(!b.has_ready());
    }
}
