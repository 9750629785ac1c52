//! Reading the commands of an append-only file (the RESP part of a BASE or
//! INCR file, or of an old single-file AOF after its RDB preamble), as
//! Valkey's loadSingleAppendOnlyFile reads them.
//!
//! Valkey reads with `fgets` into a 1,024-byte buffer, so the rules are
//! line rules and are kept here byte for byte: a line is at most 1,023
//! bytes (a longer one is read as several), a line starting with `#` is an
//! annotation (`#TS:` timestamps) and skipped, a command is `*<argc>`
//! (C's `atoi`, at least 1) then per argument `$<len>` (`strtol`), `len`
//! bytes and two more bytes that are discarded unchecked. Anything else is
//! a format error; running out of file inside a command is a truncation,
//! which the loader may repair by cutting the file at the end of the last
//! whole command (`Command::end`).
//!
//! Memory stays bounded by the file: an argument's length is checked
//! against what the file still holds before anything is allocated for it
//! (a length past the end is a truncation, as Valkey's `fread` finds), and
//! the argument vector grows as arguments actually arrive, whatever count
//! `*<argc>` announced. Nothing on file data panics.

use std::io::{self, Read};

use bytes::Bytes;

/// Valkey's AOF_ANNOTATION_LINE_MAX_LEN: the `fgets` buffer, so lines are
/// read at most 1,023 bytes at a time.
pub const LINE_MAX: usize = 1024;
/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;
/// Arguments reserved ahead of their arrival.
const ARGV_RESERVE: usize = 64;

/// One command read, with the file offset just after it.
#[derive(Debug, PartialEq, Eq)]
pub struct Command {
    pub argv: Vec<Bytes>,
    pub end: u64,
}

/// Why the reading stopped before a clean end of file.
#[derive(Debug)]
pub enum ReadError {
    /// The file ends inside a command (Valkey's unexpected EOF).
    Truncated,
    /// Not the AOF format (Valkey's "Bad file format"), at this offset.
    Format(u64),
    /// The file could not be read.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads commands from `r`, whose first byte is at file offset `offset`.
pub struct AofReader<R> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    /// Bytes the file holds from `pos` on, as far as known (its size at
    /// open); lengths past it are truncations without allocating.
    size: u64,
    eof: bool,
}

impl<R: Read> AofReader<R> {
    /// A reader of a file of `size` bytes, positioned at `offset`.
    pub fn new(r: R, offset: u64, size: u64) -> Self {
        AofReader {
            r,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            pos: offset,
            size,
            eof: false,
        }
    }

    /// The file offset of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// Reads more into the buffer; false at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Only a line or a small tail is ever kept across a fill.
            self.buf.resize(self.buf.len() + CHUNK, 0);
        }
        loop {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// `fgets`: up to and including a newline, at most LINE_MAX - 1
    /// bytes; None at the end of the file with nothing read. The line is
    /// `buf[start..start + len]`, consumed.
    fn line(&mut self) -> io::Result<Option<(usize, usize)>> {
        loop {
            let avail = &self.buf[self.start..self.end];
            let limit = avail.len().min(LINE_MAX - 1);
            if let Some(i) = avail[..limit].iter().position(|&b| b == b'\n') {
                let at = self.start;
                self.consume(i + 1);
                return Ok(Some((at, i + 1)));
            }
            if limit == LINE_MAX - 1 {
                let at = self.start;
                self.consume(limit);
                return Ok(Some((at, limit)));
            }
            if !self.fill()? {
                let n = self.end - self.start;
                if n == 0 {
                    return Ok(None);
                }
                let at = self.start;
                self.consume(n);
                return Ok(Some((at, n)));
            }
        }
    }

    /// Reads exactly `n` bytes into `out` (appending); false if the file
    /// ends first (what was there is consumed).
    fn exact(&mut self, n: usize, out: Option<&mut Vec<u8>>) -> io::Result<bool> {
        let mut out = out;
        let mut left = n;
        while left > 0 {
            if self.start == self.end && !self.fill()? {
                return Ok(false);
            }
            let k = left.min(self.end - self.start);
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&self.buf[self.start..self.start + k]);
            }
            self.consume(k);
            left -= k;
        }
        Ok(true)
    }

    /// The next command; None at a clean end of file (between commands).
    pub fn next_command(&mut self) -> Result<Option<Command>, ReadError> {
        let argc = loop {
            let Some((at, len)) = self.line()? else {
                return Ok(None);
            };
            let line = &self.buf[at..at + len];
            match line[0] {
                b'#' => continue,
                b'*' => {}
                _ => return Err(ReadError::Format(self.pos - len as u64)),
            }
            if len == 1 {
                // "*" and then the end of the file.
                return Err(ReadError::Truncated);
            }
            let argc = strtol(&line[1..]) as i32;
            if argc < 1 {
                return Err(ReadError::Format(self.pos - len as u64));
            }
            break argc as usize;
        };
        let mut argv = Vec::with_capacity(argc.min(ARGV_RESERVE));
        for _ in 0..argc {
            let Some((at, len)) = self.line()? else {
                return Err(ReadError::Truncated);
            };
            let line = &self.buf[at..at + len];
            if line[0] != b'$' {
                return Err(ReadError::Format(self.pos - len as u64));
            }
            let n = strtol(&line[1..]);
            // Valkey would try to allocate a negative length as a huge one.
            let Ok(n) = u64::try_from(n) else {
                return Err(ReadError::Format(self.pos - len as u64));
            };
            let left = self.size.saturating_sub(self.pos);
            if n > left {
                return Err(ReadError::Truncated);
            }
            let n = n as usize;
            let mut arg = Vec::with_capacity(n);
            if !self.exact(n, Some(&mut arg))? || !self.exact(2, None)? {
                return Err(ReadError::Truncated);
            }
            argv.push(Bytes::from(arg));
        }
        Ok(Some(Command {
            argv,
            end: self.pos,
        }))
    }
}

/// C's `strtol(s, NULL, 10)` (`util::num::strtol`'s value).
fn strtol(s: &[u8]) -> i64 {
    crate::util::num::strtol(s).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(args: &[&str]) -> Vec<u8> {
        let mut v = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            v.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        v
    }

    /// Every command until the end or an error, with the error.
    fn read_all(data: &[u8]) -> (Vec<Command>, Option<ReadError>) {
        let mut r = AofReader::new(data, 0, data.len() as u64);
        let mut out = Vec::new();
        loop {
            match r.next_command() {
                Ok(Some(c)) => out.push(c),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn names(cmds: &[Command]) -> Vec<String> {
        cmds.iter()
            .map(|c| {
                c.argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn reads_commands_with_their_end_offsets() {
        let mut f = resp(&["SELECT", "0"]);
        let first = f.len() as u64;
        f.extend(resp(&["SET", "k", "v\r\nx"]));
        let (cmds, err) = read_all(&f);
        assert!(err.is_none());
        assert_eq!(names(&cmds), ["SELECT 0", "SET k v\r\nx"]);
        assert_eq!(cmds[0].end, first);
        assert_eq!(cmds[1].end, f.len() as u64);
        // An empty file is no command and no error.
        let (cmds, err) = read_all(b"");
        assert!(cmds.is_empty() && err.is_none());
    }

    #[test]
    fn annotations_are_skipped() {
        let mut f = b"#TS:1628217470\r\n".to_vec();
        f.extend(resp(&["SET", "a", "1"]));
        f.extend_from_slice(b"#TS:1628217471\r\n#TS:1628217472\r\n");
        f.extend(resp(&["SET", "b", "2"]));
        f.extend_from_slice(b"#TS:1628217474\r\n");
        let (cmds, err) = read_all(&f);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(names(&cmds), ["SET a 1", "SET b 2"]);
    }

    #[test]
    fn truncation_at_every_byte_keeps_the_whole_commands() {
        let mut f = resp(&["SET", "foo", "hello"]);
        let ends = [f.len()];
        f.extend(resp(&["MULTI"]));
        let ends = [ends[0], f.len()];
        f.extend(resp(&["INCR", "counter"]));
        let ends = [ends[0], ends[1], f.len()];
        for cut in 0..=f.len() {
            let (cmds, err) = read_all(&f[..cut]);
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(cmds.len(), whole, "cut at {cut}");
            if ends.contains(&cut) || cut == 0 {
                assert!(err.is_none(), "cut at {cut}: {err:?}");
            } else {
                assert!(
                    matches!(err, Some(ReadError::Truncated)),
                    "cut at {cut}: {err:?}"
                );
            }
            if let Some(last) = cmds.last() {
                assert_eq!(last.end as usize, ends[whole - 1]);
            }
        }
    }

    #[test]
    fn a_corrupt_middle_is_a_format_error_at_its_offset() {
        let mut f = resp(&["SET", "foo", "hello"]);
        let bad = f.len() as u64;
        f.extend_from_slice(b"!!!");
        f.extend(resp(&["SET", "foo", "hello"]));
        let (cmds, err) = read_all(&f);
        assert_eq!(cmds.len(), 1);
        assert!(
            matches!(err, Some(ReadError::Format(at)) if at == bad),
            "{err:?}"
        );
        // A bad argument header, a zero or negative count, a negative length.
        for bad in [
            &b"*1\r\n+x\r\n"[..],
            b"*0\r\n",
            b"*-1\r\n",
            b"*\r\n",
            b"*1\r\n$-5\r\nab\r\n",
        ] {
            let (_, err) = read_all(bad);
            assert!(
                matches!(err, Some(ReadError::Format(_))),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn lengths_past_the_end_are_truncations_without_allocating() {
        let (_, err) = read_all(b"*1\r\n$99999999999999\r\nabc");
        assert!(matches!(err, Some(ReadError::Truncated)), "{err:?}");
        let (_, err) = read_all(b"*2147483647\r\n$1\r\na\r\n");
        assert!(matches!(err, Some(ReadError::Truncated)), "{err:?}");
        // The two bytes after an argument are not checked (Valkey's fread).
        let (cmds, err) = read_all(b"*1\r\n$4\r\nPINGxx");
        assert!(err.is_none());
        assert_eq!(names(&cmds), ["PING"]);
    }

    #[test]
    fn long_lines_are_read_in_fgets_pieces() {
        // An annotation longer than the buffer: its rest is read as a
        // line of its own, which is not a command.
        let mut f = vec![b'#'];
        f.extend_from_slice(&[b'x'; LINE_MAX + 10]);
        f.extend_from_slice(b"\r\n");
        let (_, err) = read_all(&f);
        assert!(
            matches!(err, Some(ReadError::Format(at)) if at == (LINE_MAX - 1) as u64),
            "{err:?}"
        );
        // A big argument spans many buffer fills.
        let big = "x".repeat(3 * CHUNK + 7);
        let f = resp(&["SET", "k", &big]);
        let (cmds, err) = read_all(&f);
        assert!(err.is_none());
        assert_eq!(cmds[0].argv[2].len(), big.len());
    }

    #[test]
    fn strtol_is_c_like() {
        assert_eq!(strtol(b"12\r\n"), 12);
        assert_eq!(strtol(b" -3x"), -3);
        assert_eq!(strtol(b"x"), 0);
        assert_eq!(strtol(b"99999999999999999999999"), i64::MAX);
    }
}
