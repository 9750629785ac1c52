//! The AOF command reader (what startup loading runs on every BASE and
//! INCR file) on arbitrary bytes: each command comes out whole with an end
//! offset inside the file and after the previous one, or the reading stops
//! with a truncation or a format error at an offset inside the file; never
//! a panic, and never a buffer sized past the input.
//!
//! Input: byte 0 is the read size (short reads exercise the buffer's
//! refills), the rest is the file.

#![no_main]

use std::io::Read;

use ferrokey::persist::aof_read::{AofReader, ReadError};
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
    let [step, file @ ..] = data else {
        return;
    };
    let size = file.len() as u64;
    let src = Chunks {
        data: file,
        step: usize::from(*step).max(1),
    };
    let mut rd = AofReader::new(src, 0, size);
    let mut last_end = 0;
    loop {
        match rd.next_command() {
            Ok(Some(c)) => {
                assert!(!c.argv.is_empty());
                assert!(c.end > last_end && c.end <= size);
                let bytes: usize = c.argv.iter().map(|a| a.len()).sum();
                assert!(bytes as u64 <= c.end - last_end);
                last_end = c.end;
            }
            Ok(None) => break,
            Err(ReadError::Format(at)) => {
                assert!(at >= last_end && at < size);
                break;
            }
            Err(ReadError::Truncated) => break,
            Err(ReadError::Io(e)) => panic!("{e}"),
        }
    }
    assert!(rd.offset() <= size);
});
