//! The channel between a save's snapshot walk (main thread) and the RDB
//! writer thread, built so that the main thread makes no allocation per key.
//!
//! A record's key and, for a string value, its bytes are copied into one
//! byte buffer per batch; other values (and strings large enough to be
//! shared by reference) are cloned. A big aggregate's parts are framed
//! element bytes in that same buffer (the snapshot appends them there), so
//! its million elements cost the main thread no allocation and the writer
//! no free into the main thread's malloc arena (with copies built as
//! `Value`s, the writer freed each one's million chunks there and the main
//! thread's next large allocation consolidated them: INFOs of 0.1-0.37 s
//! during a save of four 1 M-element values, perf showing
//! `malloc_consolidate`). Batches go to the writer over a bounded channel
//! and come back emptied for reuse. Per-key copies allocated on the
//! main thread and freed on the writer thread made the two threads contend
//! for the allocator's main arena: single SETs waited 1-7 ms on its lock
//! during a save (measured with SLOWLOG under redis-benchmark), and an
//! allocation the size of a batch made it consolidate every chunk the writer
//! had freed (steps of 3 ms of CPU). With this channel neither happens.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TrySendError};

use crate::keyspace::snapshot::{BigDone, BigKind, Record, SnapshotSink};
use crate::keyspace::{StrRef, Value};

/// Strings from this length on are cloned, not copied: they are shared by
/// reference (`StrRef::Shared`), so the clone is a reference count.
const SHARE_FROM: usize = 16 * 1024;

/// A record's value in a batch.
pub enum FlatValue {
    /// An integer-encoded string.
    Int(i64),
    /// A string's bytes: `bytes[start..end]` of the batch.
    Bytes(usize, usize),
    /// Anything else, cloned.
    Other(Value),
    /// `count` elements of big copy `id`: `bytes[start..end]`, framed as
    /// `snapshot::frame` lays them out (the record's key is empty).
    BigPart {
        id: u64,
        start: usize,
        end: usize,
        count: u64,
    },
    /// Every part of copy `id` came: the record's key holds this value.
    BigDone { id: u64, kind: BigKind, len: u64 },
    /// Copy `id` was abandoned: its parts are to be forgotten.
    BigDropped { id: u64 },
}

/// One record of a batch; the key is `bytes[key.0..key.1]`.
pub struct FlatRecord {
    pub db: usize,
    pub key: (usize, usize),
    pub expire_ms: i64,
    pub value: FlatValue,
}

/// Records laid end to end, refilled after the writer emptied them.
#[derive(Default)]
pub struct FlatBatch {
    pub bytes: Vec<u8>,
    pub records: Vec<FlatRecord>,
    /// Heap bytes of the cloned values.
    other_bytes: usize,
}

impl FlatBatch {
    fn size(&self) -> usize {
        self.bytes.len() + self.records.len() * std::mem::size_of::<FlatRecord>() + self.other_bytes
    }

    /// The records, taken out one by one, and the bytes they point into.
    pub fn drain(&mut self) -> (&[u8], std::vec::Drain<'_, FlatRecord>) {
        (&self.bytes, self.records.drain(..))
    }

    /// Empties the batch for reuse, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.records.clear();
        self.other_bytes = 0;
    }

    fn push_bytes(&mut self, b: &[u8]) -> (usize, usize) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(b);
        (start, self.bytes.len())
    }
}

/// The main thread's end: a `SnapshotSink` filling batches of at most
/// `limit` bytes, with at most `capacity` waiting for the writer.
pub struct FlatSink {
    tx: SyncSender<FlatBatch>,
    spare: Receiver<FlatBatch>,
    batch: FlatBatch,
    limit: usize,
    /// The writer is gone: records are dropped.
    closed: bool,
}

/// The writer's end: full batches in, emptied batches back.
pub struct FlatSource {
    pub batches: Receiver<FlatBatch>,
    pub recycle: Sender<FlatBatch>,
}

impl FlatSink {
    pub fn new(capacity: usize, limit: usize) -> (FlatSink, FlatSource) {
        let (tx, batches) = sync_channel(capacity);
        let (recycle, spare) = channel();
        let sink = FlatSink {
            tx,
            spare,
            batch: FlatBatch::default(),
            limit: limit.max(1),
            closed: false,
        };
        (sink, FlatSource { batches, recycle })
    }

    /// Sends the batch being filled if the channel has room; true if
    /// nothing is left waiting.
    fn flush(&mut self) -> bool {
        if self.batch.records.is_empty() || self.closed {
            self.batch.clear();
            return true;
        }
        let next = self.spare.try_recv().unwrap_or_default();
        match self.tx.try_send(std::mem::replace(&mut self.batch, next)) {
            Ok(()) => true,
            Err(TrySendError::Full(b)) => {
                self.batch = b;
                false
            }
            Err(TrySendError::Disconnected(_)) => {
                self.closed = true;
                self.batch.clear();
                true
            }
        }
    }
}

impl FlatSink {
    fn push_big(&mut self, db: usize, key: (usize, usize), expire_ms: i64, value: FlatValue) {
        if self.closed {
            return;
        }
        self.batch.records.push(FlatRecord {
            db,
            key,
            expire_ms,
            value,
        });
        if self.batch.size() >= self.limit {
            self.flush();
        }
    }
}

impl SnapshotSink for FlatSink {
    fn entry(&mut self, r: Record<'_>) {
        if self.closed {
            return;
        }
        let b = &mut self.batch;
        let key = b.push_bytes(r.key);
        let value = match r.value {
            Value::Str(s) => match s.as_str_ref() {
                StrRef::Int(n) => FlatValue::Int(n),
                StrRef::Bytes(v) => {
                    let (start, end) = b.push_bytes(v);
                    FlatValue::Bytes(start, end)
                }
                x if x.len() < SHARE_FROM => {
                    let (start, end) = b.push_bytes(&s.to_bytes());
                    FlatValue::Bytes(start, end)
                }
                _ => FlatValue::Other(r.value.clone()),
            },
            other => {
                b.other_bytes += other.heap_bytes();
                FlatValue::Other(other.clone())
            }
        };
        b.records.push(FlatRecord {
            db: r.db,
            key,
            expire_ms: r.expire_ms,
            value,
        });
        if self.batch.size() >= self.limit {
            self.flush();
        }
    }

    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        (!self.closed).then_some(&mut self.batch.bytes)
    }

    fn big_part(&mut self, id: u64, start: usize, count: u64) {
        let end = self.batch.bytes.len();
        self.push_big(
            0,
            (end, end),
            0,
            FlatValue::BigPart {
                id,
                start: start.min(end),
                end,
                count,
            },
        );
    }

    fn big_done(&mut self, d: BigDone<'_>) {
        if self.closed {
            return;
        }
        let key = self.batch.push_bytes(d.key);
        self.push_big(
            d.db,
            key,
            d.expire_ms,
            FlatValue::BigDone {
                id: d.id,
                kind: d.kind,
                len: d.len,
            },
        );
    }

    fn big_dropped(&mut self, id: u64) {
        let end = self.batch.bytes.len();
        self.push_big(0, (end, end), 0, FlatValue::BigDropped { id });
    }

    fn ready(&mut self) -> bool {
        self.batch.size() < self.limit || self.flush()
    }

    fn finish(&mut self) -> bool {
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Str;

    fn rec<'a>(db: usize, key: &'a [u8], value: &'a Value) -> Record<'a> {
        Record {
            db,
            key,
            value,
            expire_ms: 7,
        }
    }

    #[test]
    fn batches_carry_keys_and_values_and_come_back_for_reuse() {
        let (mut sink, src) = FlatSink::new(2, 1 << 20);
        let small = Value::Str(Str::from_bytes(b"hello"));
        let int = Value::Str(Str::from_bytes(b"12345"));
        let big = Value::Str(Str::from_bytes(&vec![b'x'; SHARE_FROM + 1]));
        sink.entry(rec(0, b"a", &small));
        sink.entry(rec(3, b"b", &int));
        assert!(sink.finish());
        let mut got = src.batches.try_recv().expect("a batch");
        assert_eq!(got.records.len(), 2);
        let r = &got.records[0];
        assert_eq!(&got.bytes[r.key.0..r.key.1], b"a");
        assert!(matches!(r.value, FlatValue::Bytes(s, e) if &got.bytes[s..e] == b"hello"));
        assert_eq!((got.records[1].db, got.records[1].expire_ms), (3, 7));
        assert!(matches!(got.records[1].value, FlatValue::Int(12345)));
        // Back for reuse: the next batch fills the same buffers.
        got.clear();
        let cap = got.bytes.capacity();
        src.recycle.send(got).unwrap();
        sink.entry(rec(0, b"c", &big));
        sink.entry(rec(0, b"d", &small));
        assert!(sink.finish());
        let got = src.batches.try_recv().expect("a batch");
        assert!(
            matches!(got.records[0].value, FlatValue::Other(_)),
            "shared"
        );
        assert!(got.bytes.capacity() >= cap);
    }

    #[test]
    fn big_parts_go_in_the_batch_bytes_with_their_copy_id() {
        use crate::keyspace::snapshot::frame;
        let (mut sink, src) = FlatSink::new(2, 1 << 20);
        let buf = sink.part_buf().expect("a live sink takes parts");
        let start = buf.len();
        frame::put(buf, b"m1");
        frame::put(buf, b"m2");
        sink.big_part(9, start, 2);
        sink.big_dropped(8);
        sink.big_done(BigDone {
            id: 9,
            db: 1,
            key: b"k",
            kind: BigKind::Set,
            len: 2,
            expire_ms: 5,
        });
        assert!(sink.finish());
        let got = src.batches.try_recv().expect("a batch");
        assert_eq!(got.records.len(), 3);
        let FlatValue::BigPart {
            id: 9,
            start,
            end,
            count: 2,
        } = got.records[0].value
        else {
            panic!("a part")
        };
        let mut r = frame::Reader::new(&got.bytes[start..end]);
        assert_eq!(
            (r.string(), r.string()),
            (Some(&b"m1"[..]), Some(&b"m2"[..]))
        );
        assert!(matches!(
            got.records[1].value,
            FlatValue::BigDropped { id: 8 }
        ));
        let done = &got.records[2];
        assert_eq!(&got.bytes[done.key.0..done.key.1], b"k");
        assert_eq!((done.db, done.expire_ms), (1, 5));
        assert!(matches!(
            done.value,
            FlatValue::BigDone {
                id: 9,
                kind: BigKind::Set,
                len: 2
            }
        ));
    }

    #[test]
    fn a_full_channel_holds_the_batch_until_the_writer_takes_one() {
        let (mut sink, src) = FlatSink::new(1, 1);
        let v = Value::Str(Str::from_bytes(b"v"));
        sink.entry(rec(0, b"k1", &v)); // sent: the channel holds one
        sink.entry(rec(0, b"k2", &v)); // kept: the channel is full
        assert!(!sink.ready());
        assert_eq!(src.batches.try_recv().unwrap().records.len(), 1);
        assert!(sink.ready());
        assert!(sink.finish());
        assert_eq!(src.batches.try_recv().unwrap().records.len(), 1);
        drop(src);
        sink.entry(rec(0, b"k3", &v));
        assert!(sink.finish(), "a gone writer drops records");
    }
}
