//! ferrokey-check-aof's RESP validation pass on arbitrary bytes: it never
//! panics, never reports good bytes past the end of the file, and reads the
//! same whether the file arrives whole or a few bytes at a time (its
//! counters and messages may not depend on how reads are cut). Bulk lengths
//! are whatever the input says, up to 2^63: nothing may be sized by them.
//!
//! Input: byte 0 picks `--truncate-to-timestamp` (0: off), byte 1 the read
//! size of the chunked pass, the rest is the file.

#![no_main]

use std::io::Read;

use ferrokey::persist::aof_check::{validate, validate_reader};
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
    let [ts, step, file @ ..] = data else {
        return;
    };
    // Small timestamps, so that `#TS:` lines in the input can exceed them.
    let to_timestamp = i64::from(*ts);
    let whole = validate(file, to_timestamp);
    let size = file.len() as u64;
    assert!(whole.ok_up_to <= size, "{whole:?}");
    if let Some(at) = whole.truncate_at {
        assert!(at > 0 && at < size, "{whole:?}");
        assert_eq!(file[at as usize], b'#');
    }
    assert!(whole.line >= 1);
    assert!(
        whole.error.is_empty() || whole.error.starts_with("0x"),
        "{whole:?}"
    );
    let chunked = validate_reader(
        Chunks {
            data: file,
            step: usize::from(*step).max(1),
        },
        to_timestamp,
    );
    assert_eq!(whole, chunked);
});
