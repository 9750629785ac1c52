//! The RDB file parser (what startup loading runs on `dump.rdb`) on
//! arbitrary bytes: every record either decodes or the file is refused
//! with an error naming an offset inside it; never a panic, and never a
//! buffer sized past the input. The CRC is off half the time, so inputs
//! without a valid checksum still reach the records.
//!
//! Input: byte 0 picks the options (checksum, relaxed versions, small
//! encoding limits), byte 1 the read size (short reads exercise the
//! buffer's refills), the rest is the file.

#![no_main]

use std::io::Read;

use ferrokey::keyspace::hash::Limits as HashLimits;
use ferrokey::keyspace::set::Limits as SetLimits;
use ferrokey::keyspace::zset::Limits as ZSetLimits;
use ferrokey::persist::object::Limits;
use ferrokey::persist::rdb_read::{Options, RdbReader};
use libfuzzer_sys::fuzz_target;

/// Hands out at most `step` bytes per read.
struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, step, file @ ..] = data else {
        return;
    };
    let small = pick & 4 != 0;
    let n = if small { 2 } else { 128 };
    let opts = Options {
        limits: Limits {
            list_fill: if small { 2 } else { -2 },
            set: SetLimits {
                max_intset_entries: if small { 2 } else { 512 },
                max_listpack_entries: n,
                max_listpack_value: if small { 4 } else { 64 },
            },
            hash: HashLimits {
                max_entries: n as u64,
                max_value: if small { 4 } else { 64 },
            },
            zset: ZSetLimits::new(n as u64, if small { 4 } else { 64 }),
        },
        databases: 16,
        check_crc: pick & 1 != 0,
        relaxed: pick & 2 != 0,
    };
    let src = Chunks {
        data: file,
        step: usize::from(*step).max(1),
    };
    let size = file.len() as u64;
    let mut rd = match RdbReader::new(src, size, "fuzz.rdb", opts) {
        Ok(rd) => rd,
        Err(e) => {
            assert!(e.offset <= size);
            return;
        }
    };
    loop {
        match rd.next_key() {
            Ok(Some(rec)) => assert!(rec.db < 16),
            Ok(None) => break,
            Err(e) => {
                assert!(e.offset <= size, "{e}");
                break;
            }
        }
    }
    assert!(rd.pos() <= size);
});
