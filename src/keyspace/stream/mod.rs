//! Streams (placeholder until the stream core is merged: only the id the
//! consumer groups need).

pub mod cgroup;

/// A stream entry id: milliseconds and sequence, ordered as Valkey's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };
}
