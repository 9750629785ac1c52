//! The slow log: the latest commands that ran at least
//! `slowlog-log-slower-than` µs, newest first (SLOWLOG GET).

use std::collections::VecDeque;

use bytes::Bytes;

/// One slow log entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    pub time: i64,
    pub usec: u64,
    pub argv: Vec<Bytes>,
    pub addr: String,
    pub name: Vec<u8>,
}

#[derive(Default)]
pub struct SlowLog {
    /// Newest first.
    pub entries: VecDeque<SlowEntry>,
    /// The id the next entry gets (ids are never reused, even after RESET).
    pub next_id: u64,
}

impl SlowLog {
    /// Adds an entry (its id is assigned here), keeping at most `max`.
    pub fn push(&mut self, mut entry: SlowEntry, max: usize) {
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max);
    }
}
