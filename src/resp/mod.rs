//! RESP, the wire protocol, with no knowledge of sockets or the keyspace.
//!
//! `parser` turns request bytes (multibulk or inline) into argument vectors;
//! `reply` encodes replies in RESP2 or RESP3 into a byte buffer.

pub mod parser;
pub mod reply;

pub use parser::{Argv, Limits, Parser, ProtocolError};
pub use reply::ReplyBuf;
