//! RESP, the wire protocol, with no knowledge of sockets or the keyspace.
//!
//! `parser` turns request bytes (multibulk or inline) into argument vectors
//! (`argv`, which also caches emptied ones for reuse);
//! `reply` encodes replies in RESP2 or RESP3 into a byte buffer.

pub mod argv;
pub mod parser;
pub mod reply;

pub use argv::Argv;
pub use parser::{Limits, Parser, ProtocolError};
pub use reply::{Encoded, ReplyBuf};
