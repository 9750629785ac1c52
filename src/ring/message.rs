//! Messages carried by the rings: small, typed, and owned.

use crate::resp::{Argv, ProtocolError};

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
    },
    /// The connection is gone; nothing more comes from this client.
    Closed { client: ClientId },
}

/// Main thread → IO thread.
pub enum ToIo {
    /// A new connection for this thread to serve.
    Attach {
        client: ClientId,
        stream: mio::net::TcpStream,
    },
    /// Reply bytes. `done` ends the client's in-flight batch (more input may
    /// be parsed); `close` closes the connection once written; `authenticated`
    /// tells the parser which request limits apply.
    Reply {
        client: ClientId,
        data: Vec<u8>,
        done: bool,
        close: bool,
        authenticated: bool,
    },
    /// Close now without writing pending output (`CLIENT KILL`, `timeout`).
    Kill { client: ClientId },
    /// Drop this here, off the main thread (lazy free).
    Free(Garbage),
    /// Flush what can be flushed and exit.
    Shutdown,
}
