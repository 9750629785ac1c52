//! Consumer groups of a stream (XGROUP, XREADGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM, XINFO GROUPS/CONSUMERS): owned and filled in by the
//! consumer-group work (branch h-cgroup). The stream core only carries
//! `Stream::groups: Option<Box<Groups>>` as the hook for it.

/// The groups of one stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups {}
