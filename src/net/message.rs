//! Messages between the main thread and the IO threads, carried by the
//! `ring`s: small, typed, and owned. They belong to `net` because they carry
//! its connections; `exec` sends and receives them on the main side.

use super::conn::Conn;
use crate::resp::{Argv, Encoded, ProtocolError};

/// Client ids are unique for the life of the process (as `CLIENT ID`).
pub type ClientId = u64;

/// Something whose memory is released by dropping it on an IO thread.
pub type Garbage = Box<dyn Send>;

/// IO thread → main thread.
pub enum ToMain {
    /// Commands parsed from one client's input, in order. When `error` is
    /// set the input after them was malformed: reply to the commands, then
    /// the error, then close. No further `Commands` come for this client
    /// until main answers with `Reply { done: true }`.
    Commands {
        client: ClientId,
        cmds: Vec<Argv>,
        error: Option<ProtocolError>,
        /// Bytes read from the socket since the previous batch (INFO stats).
        input_bytes: u64,
    },
    /// The peer closed its side while a batch is in flight (main drops the
    /// client if that batch is blocked; otherwise the reply ends it).
    HangUp { client: ClientId },
    /// The connection is gone; nothing more comes from this client.
    /// `limit`: it was closed for breaking that limit (INFO stats).
    Closed {
        client: ClientId,
        limit: Option<LimitBroken>,
    },
    /// The connection, handed back after `ToIo::Release` (IO threads are
    /// being deactivated, or the client moves to another thread).
    Released(Box<Conn>),
}

/// A client limit whose breach closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitBroken {
    /// `client-query-buffer-limit`.
    QueryBuffer,
    /// `client-output-buffer-limit`.
    OutputBuffer,
}

/// The part of a batch sent back unrun (see `ToIo::Reply::rest`).
pub struct Unrun {
    pub cmds: Vec<Argv>,
    pub error: Option<ProtocolError>,
}

/// Main thread → IO thread.
pub enum ToIo {
    /// A connection for this thread to serve from now on: new, or moved
    /// here with whatever it had buffered.
    Adopt(Box<Conn>),
    /// Hand this connection back (`ToMain::Released`) as soon as it has no
    /// batch in flight; meanwhile parse nothing more from it.
    Release { client: ClientId },
    /// Reply bytes. `done` ends the client's in-flight batch (more input may
    /// be parsed); `close` closes the connection once written; `authenticated`
    /// tells the parser which request limits apply.
    Reply {
        client: ClientId,
        data: Encoded,
        done: bool,
        close: bool,
        authenticated: bool,
        /// With `done`: commands of the batch that did not run because its
        /// replies reached the output bound, and the protocol error that
        /// followed them. The connection sends them again once its output
        /// has drained, so a client that does not read cannot make the
        /// server build replies without limit.
        rest: Option<Box<Unrun>>,
    },
    /// Published messages (Pub/Sub), shared by every client listed.
    Push(Box<PushBatch>),
    /// The client became (`on`) or stopped being a pub/sub client: its
    /// output limit is `client-output-buffer-limit pubsub` while on.
    PubSubClient { client: ClientId, on: bool },
    /// Close now without writing pending output (`CLIENT KILL`, `timeout`).
    Kill { client: ClientId },
    /// Drop this here, off the main thread (lazy free).
    Free(Garbage),
    /// Flush what can be flushed and exit.
    Shutdown,
}

/// Messages for several clients of one thread, encoded once per protocol:
/// `clients[0]` read `data[0]` (RESP2), `clients[1]` read `data[1]` (RESP3).
/// The thread shares each buffer among its clients without copying it.
pub struct PushBatch {
    pub clients: [Vec<ClientId>; 2],
    pub data: [Vec<u8>; 2],
}
