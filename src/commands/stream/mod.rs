//! Stream commands: XADD, XRANGE/XREVRANGE, XLEN, XDEL, XTRIM, XSETID,
//! XREAD and XINFO STREAM, over `keyspace::stream`. Consumer-group
//! commands live with the consumer-group code.

// ---- consumer groups (branch h-cgroup) ----
pub mod cg_access;
pub mod cg_rows;
pub mod cg_util;
pub mod claim;
pub mod groups;
pub mod info_groups;
pub mod readgroup;
// ---- end of consumer groups ----

use super::digest::mix_digest;
use crate::keyspace::stream::{elem_bytes, Stream, StreamId};

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
