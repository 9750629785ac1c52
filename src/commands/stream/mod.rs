//! Stream commands: XADD, XTRIM, XDEL, XSETID (`add`), XRANGE, XREVRANGE,
//! XLEN, XREAD (`read`) and XINFO STREAM / HELP (`info`), over
//! `keyspace::stream`. Consumer-group commands live with the
//! consumer-group code.

mod add;
mod info;
mod read;
mod rows;

pub use info::{radix_tree_nodes, reply_entry};
pub use rows::COMMANDS;

use super::digest::mix_digest;
use crate::error::{CmdError, WRONGTYPE};
use crate::keyspace::stream::{elem_bytes, Stream, StreamId};
use crate::keyspace::{Access, Db, Value};

/// A stream borrowed for reading.
pub type StreamRef<'a> = &'a Stream;

/// The stream at `key` for writing (no hit/miss accounting): Ok(None) if
/// missing, WRONGTYPE if another type.
pub fn stream_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'a mut Stream>, CmdError> {
    match db.lookup(key, now, Access::WRITE).map(|e| e.value_mut()) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

/// The stream at `key` for reading (counts a hit or a miss).
pub fn stream_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'a Stream>, CmdError> {
    match db
        .lookup(key, now, Access::READ)
        .map(|e| e.value())
        .map(|v| v.stored())
    {
        None => Ok(None),
        Some(Some(Value::Stream(s))) => Ok(Some(s)),
        Some(_) => Err(WRONGTYPE.into()),
    }
}

/// DEBUG DIGEST's part for a stream (Valkey's `xorObjectDigest`): each
/// entry's `<ms>.<seq>`, then its fields and values, mixed in order.
pub fn digest(d: &mut [u8; 20], s: &Stream) {
    for e in s.range(StreamId::MIN, StreamId::MAX, false) {
        mix_digest(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
        for (f, v) in e.fields() {
            mix_digest(d, &elem_bytes(f));
            mix_digest(d, &elem_bytes(v));
        }
    }
}
