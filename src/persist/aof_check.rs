//! `ferrokey-check-aof`: Valkey's `valkey-check-aof`, with its arguments,
//! output lines and exit codes (the suite's AOF tests match them).
//!
//! It checks an old-style single AOF (RESP, or an RDB preamble followed by
//! RESP) or a multi-part AOF through its manifest (the BASE, then each
//! INCR file). The RESP pass is the checker's own validation, kept apart
//! from the server's loader: it reads the file the way the C tool does
//! (`fgets` of a 128-byte line buffer for `*N` / `$N`, `fread` of each
//! bulk and its CRLF) because its messages and counters depend on it: the
//! byte offset in `0x%16llx: ...` errors, `ok_up_to` (the start of the
//! first record that failed, or of the open MULTI), and `ok_up_to_line`,
//! a line counter that runs on across all files of a multi-part AOF and
//! counts only RESP lines (not `#` annotations). `--fix` truncates the
//! last file to `ok_up_to` after a `y` on stdin; `--truncate-to-timestamp`
//! truncates the last file at the first `#TS:` annotation past the time.
//!
//! The RDB preamble (and an RDB BASE) goes through our own RDB parser
//! (`rdb_read`), with check-rdb's report lines around it. One deliberate
//! difference from Valkey 9.1.2: its check-aof only recognizes `REDIS`
//! files as RDB and reports its own `VALKEY080` bases as a RESP format
//! error (and `--fix` would empty them); we recognize both signatures, as
//! Valkey's loader does (valkey-io/valkey#4739).
//!
//! The input is any file: nothing is sized from a length read in it (a
//! bulk's bytes are counted while skipped, never buffered), and no read
//! can panic.

use crate::util::num;
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::time::SystemTime;

use super::aof_manifest::Manifest;
use super::codec::Reader;
use super::object::Limits;
use super::rdb_read::{self, Checksum, Failure, Options, RdbReader};
use crate::keyspace::hash::Limits as HashLimits;
use crate::keyspace::set::Limits as SetLimits;
use crate::keyspace::zset::Limits as ZSetLimits;

/// How one file's check ended (Valkey's AOF_CHECK_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Empty,
    Truncated,
    TimestampTruncated,
}

/// The tool stops with this exit code (Valkey calls `exit`).
#[derive(Debug, PartialEq, Eq)]
pub struct Exit(pub i32);

type Res<T> = Result<T, Exit>;

/// Valkey's annotation line buffer (AOF_ANNOTATION_LINE_MAX_LEN).
const ANNOTATION_MAX: usize = 1024;
/// The longest manifest line `fileIsManifest` reads.
const MANIFEST_MAX_LINE: usize = 1024;
/// Linux's PATH_MAX.
const PATH_MAX: usize = 4096;
/// The longest stretch of RDB opcodes re-read to report AUX and SELECTDB.
const OPCODE_WINDOW: u64 = 1 << 20;

/// A buffered reader that tracks its file offset and C stdio's EOF flag.
pub struct Input<R> {
    r: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    /// A read ran into the end of the file (`feof`).
    eof: bool,
}

impl<R: Read> Input<R> {
    pub fn new(r: R, pos: u64) -> Self {
        Input {
            r,
            buf: vec![0u8; 64 * 1024].into_boxed_slice(),
            start: 0,
            end: 0,
            pos,
            eof: false,
        }
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Refills an empty buffer; false at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        if self.start < self.end {
            return Ok(true);
        }
        self.start = 0;
        self.end = 0;
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next byte, not consumed (the C tool's `fgets(buf, 2)` and
    /// `fseek(-1)`, which also clears the EOF flag).
    fn peek(&mut self) -> io::Result<Option<u8>> {
        if !self.fill()? {
            self.eof = true;
            return Ok(None);
        }
        self.eof = false;
        Ok(Some(self.buf[self.start]))
    }

    /// C's `fgets(dst, dst.len())`: up to `dst.len() - 1` bytes through a
    /// newline, then a NUL. None when the file had no byte left.
    fn fgets(&mut self, dst: &mut [u8]) -> io::Result<Option<usize>> {
        let room = dst.len().saturating_sub(1);
        let mut n = 0;
        while n < room {
            if !self.fill()? {
                self.eof = true;
                break;
            }
            let avail = &self.buf[self.start..self.end];
            let want = avail.len().min(room - n);
            let take = match memchr::memchr(b'\n', &avail[..want]) {
                Some(i) => i + 1,
                None => want,
            };
            dst[n..n + take].copy_from_slice(&avail[..take]);
            n += take;
            self.start += take;
            self.pos += take as u64;
            if dst[n - 1] == b'\n' {
                break;
            }
        }
        if let Some(nul) = dst.get_mut(n) {
            *nul = 0;
        }
        Ok((n > 0).then_some(n))
    }

    /// Reads `n` bytes without keeping them (a bulk string): how many the
    /// file had, the first bytes (up to `head.len()`) and the last two.
    fn skip(&mut self, n: u64, head: &mut [u8]) -> io::Result<(u64, [u8; 2])> {
        let mut got = 0u64;
        let mut last = [0u8; 2];
        while got < n {
            if !self.fill()? {
                self.eof = true;
                break;
            }
            let avail = &self.buf[self.start..self.end];
            let take = (avail.len() as u64).min(n - got) as usize;
            let chunk = &avail[..take];
            if (got as usize) < head.len() {
                let from = got as usize;
                let k = (head.len() - from).min(take);
                head[from..from + k].copy_from_slice(&chunk[..k]);
            }
            match take {
                0 => {}
                1 => last = [last[1], chunk[0]],
                _ => last = [chunk[take - 2], chunk[take - 1]],
            }
            got += take as u64;
            self.start += take;
            self.pos += take as u64;
        }
        Ok((got, last))
    }
}

/// The checker's state, global in the C tool: the running line counter,
/// the last error and its offset, and the line buffer `readLong` reuses
/// (its stale bytes show in "Expected \r\n, got: .." for a cut line).
pub struct Checker<'a> {
    out: &'a mut dyn Write,
    stdin: &'a mut dyn BufRead,
    to_timestamp: i64,
    line: i64,
    error: Vec<u8>,
    epos: u64,
    line_buf: [u8; 128],
    /// How log lines give the time (`Tool::log_time`).
    log_time: fn(SystemTime) -> String,
}

/// Where the RESP pass stopped.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// Bytes that are whole records (Valkey's `pos`).
    pub ok_up_to: u64,
    /// `--truncate-to-timestamp` found an annotation past the time here.
    pub truncate_at: Option<u64>,
}

/// What validating a byte string found (for tests and the fuzz target).
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub ok_up_to: u64,
    pub line: i64,
    pub error: String,
    pub truncate_at: Option<u64>,
    pub exit: Option<i32>,
}

/// Validates an AOF held in memory with the checker's RESP pass (no RDB
/// preamble), as the last file, printing nothing.
pub fn validate(data: &[u8], to_timestamp: i64) -> Report {
    validate_reader(data, to_timestamp)
}

/// `validate` on the bytes `r` hands out.
pub fn validate_reader<R: Read>(r: R, to_timestamp: i64) -> Report {
    let mut sink = io::sink();
    let mut stdin = io::empty();
    let mut c = Checker::new(&mut sink, &mut stdin, to_timestamp);
    let mut input = Input::new(r, 0);
    let res = c.scan(&mut input, b"mem", b"mem", true);
    let (ok_up_to, truncate_at, exit) = match res {
        Ok(s) => (s.ok_up_to, s.truncate_at, None),
        Err(Exit(code)) => (0, None, Some(code)),
    };
    Report {
        ok_up_to,
        line: c.line,
        error: String::from_utf8_lossy(&c.error).into_owned(),
        truncate_at,
        exit,
    }
}

/// The bytes of a C string: up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// `%02x` of a C `char` (signed here: 0x80 and up print as ffffff80).
fn hex_char(b: u8) -> String {
    format!("{:02x}", b as i8 as i32 as u32)
}

/// glibc's `dirname`.
pub fn dirname(path: &[u8]) -> Vec<u8> {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    match path[..end].iter().rposition(|&b| b == b'/') {
        None => b".".to_vec(),
        Some(mut i) => {
            while i > 0 && path[i - 1] == b'/' {
                i -= 1;
            }
            if i == 0 {
                // "/x" -> "/", "//x" -> "//" (glibc keeps a leading pair).
                let slashes = path.iter().take_while(|&&b| b == b'/').count();
                if slashes == 2 {
                    b"//".to_vec()
                } else {
                    b"/".to_vec()
                }
            } else {
                path[..i].to_vec()
            }
        }
    }
}

fn os_err(e: &io::Error) -> String {
    crate::util::strerror(e)
}

impl<'a> Checker<'a> {
    pub fn new(out: &'a mut dyn Write, stdin: &'a mut dyn BufRead, to_timestamp: i64) -> Self {
        Checker {
            out,
            stdin,
            to_timestamp,
            line: 1,
            error: Vec::new(),
            epos: 0,
            line_buf: [0u8; 128],
            log_time: unix_time,
        }
    }

    /// Prints bytes (a failed write to stdout is ignored, as printf's is).
    fn say(&mut self, parts: &[&[u8]]) {
        for p in parts {
            let _ = self.out.write_all(p);
        }
    }

    fn sayln(&mut self, s: &str) {
        self.say(&[s.as_bytes(), b"\n"]);
    }

    /// Valkey's ERROR macro: the offset, then the message (each cut at
    /// the C buffers' sizes).
    fn set_error(&mut self, msg: &[u8]) {
        let msg = &msg[..msg.len().min(1023)];
        let mut e = format!("0x{:>16x}: ", self.epos).into_bytes();
        e.extend_from_slice(msg);
        e.truncate(1043);
        self.error = e;
    }

    fn consume_newline(&mut self, b0: u8, b1: u8) -> bool {
        if b0 != b'\r' || b1 != b'\n' {
            let msg = format!("Expected \\r\\n, got: {}{}", hex_char(b0), hex_char(b1));
            self.set_error(msg.as_bytes());
            return false;
        }
        self.line += 1;
        true
    }

    /// `*N` or `$N`; None when the file ended or the line is malformed.
    fn read_long<R: Read>(
        &mut self,
        src: &mut Input<R>,
        prefix: u8,
        name: &[u8],
    ) -> Res<Option<i64>> {
        self.epos = src.pos();
        let mut buf = self.line_buf;
        let got = src
            .fgets(&mut buf)
            .map_err(|e| self.read_failed(name, &e))?;
        self.line_buf = buf;
        if got.is_none() {
            return Ok(None);
        }
        if buf[0] != prefix {
            let mut msg = format!("Expected prefix '{}', got: '", prefix as char).into_bytes();
            msg.push(buf[0]);
            msg.push(b'\'');
            self.set_error(&msg);
            return Ok(None);
        }
        let (v, end, _) = num::strtol(c_str(&buf[1..]));
        let at = 1 + end;
        let b0 = buf.get(at).copied().unwrap_or(0);
        let b1 = buf.get(at + 1).copied().unwrap_or(0);
        Ok(self.consume_newline(b0, b1).then_some(v))
    }

    fn read_failed(&mut self, name: &[u8], _e: &io::Error) -> Exit {
        self.say(&[b"Failed to read from AOF ", name, b", aborting...\n"]);
        Exit(1)
    }

    /// One `$N` bulk; with `head`, its first bytes for the MULTI / EXEC
    /// test. False when the record is broken.
    fn read_string<R: Read>(
        &mut self,
        src: &mut Input<R>,
        head: &mut [u8; 8],
        name: &[u8],
    ) -> Res<bool> {
        let len = match self.read_long(src, b'$', name)? {
            Some(n) => n,
            None => return Ok(false),
        };
        if !(0..=i64::MAX - 2).contains(&len) {
            let msg = format!(
                "Expected to read string of {len} bytes, which is not in the suitable range"
            );
            self.set_error(msg.as_bytes());
            return Ok(false);
        }
        let want = len as u64 + 2;
        self.epos = src.pos();
        *head = [0u8; 8];
        let (got, last) = src
            .skip(want, head)
            .map_err(|e| self.read_failed(name, &e))?;
        if got != want {
            let msg = format!("Expected to read {want} bytes, got {got} bytes");
            self.set_error(msg.as_bytes());
            return Ok(false);
        }
        // The C string ends where the bulk does (its CRLF is cut off).
        if let Some(rest) = head.get_mut(len as usize..) {
            rest.fill(0);
        }
        Ok(self.consume_newline(last[0], last[1]))
    }

    /// One multibulk record (Valkey's processRESP).
    fn process_resp<R: Read>(
        &mut self,
        src: &mut Input<R>,
        filepath: &[u8],
        multi: &mut i32,
    ) -> Res<bool> {
        let argc = match self.read_long(src, b'*', filepath)? {
            Some(n) => n,
            None => return Ok(false),
        };
        let mut head = [0u8; 8];
        for i in 0..argc.max(0) {
            if !self.read_string(src, &mut head, filepath)? {
                return Ok(false);
            }
            if i != 0 {
                continue;
            }
            // The bulk is a C string there: it ends at a NUL (or its CRLF).
            let word = c_str(&head);
            if word.eq_ignore_ascii_case(b"multi") {
                let was = *multi;
                *multi += 1;
                if was != 0 {
                    self.unexpected(b"Unexpected MULTI in AOF ", filepath);
                    return Ok(false);
                }
            } else if word.eq_ignore_ascii_case(b"exec") {
                *multi -= 1;
                if *multi != 0 {
                    self.unexpected(b"Unexpected EXEC in AOF ", filepath);
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn unexpected(&mut self, what: &[u8], filepath: &[u8]) {
        let mut msg = what.to_vec();
        msg.extend_from_slice(c_str(filepath));
        self.set_error(&msg);
    }

    /// A `#` line (Valkey's processAnnotations): skipped, or with
    /// `--truncate-to-timestamp` the place to cut. Some(offset) to cut.
    fn process_annotation<R: Read>(
        &mut self,
        src: &mut Input<R>,
        filepath: &[u8],
        last_file: bool,
    ) -> Res<Option<u64>> {
        self.epos = src.pos();
        let mut buf = [0u8; ANNOTATION_MAX];
        let got = src.fgets(&mut buf).map_err(|_| Exit(1));
        let n = match got {
            Ok(Some(n)) => n,
            _ => {
                self.say(&[
                    b"Failed to read annotations from AOF ",
                    filepath,
                    b", aborting...\n",
                ]);
                return Err(Exit(1));
            }
        };
        let line = &buf[..n];
        if self.to_timestamp == 0 || !line.starts_with(b"#TS:") {
            return Ok(None);
        }
        let digits = c_str(&line[4..]);
        let (ts, end, overflow) = num::strtol(digits);
        if overflow || digits.get(end) != Some(&b'\r') {
            self.sayln("Invalid timestamp annotation");
            return Err(Exit(1));
        }
        if ts <= self.to_timestamp {
            return Ok(None);
        }
        let to = self.to_timestamp;
        if self.epos == 0 {
            let msg = format!(" has nothing before timestamp {to}, aborting...\n");
            self.say(&[b"AOF ", filepath, msg.as_bytes()]);
            return Err(Exit(1));
        }
        if !last_file {
            let msg = format!(
                " to timestamp {to} to offset {} because it is not the last file.\n",
                self.epos
            );
            self.say(&[b"Failed to truncate AOF ", filepath, msg.as_bytes()]);
            self.sayln(
                "If you insist, please delete all files after this file according to the manifest \
                 file and delete the corresponding records in manifest file manually. Then re-run valkey-check-aof.",
            );
            return Err(Exit(1));
        }
        Ok(Some(self.epos))
    }

    /// The RESP pass over `src` up to its end or the first broken record;
    /// prints the error line, if any.
    pub fn scan<R: Read>(
        &mut self,
        src: &mut Input<R>,
        filename: &[u8],
        filepath: &[u8],
        last_file: bool,
    ) -> Res<Scan> {
        let mut multi = 0i32;
        let mut pos = src.pos();
        loop {
            if multi == 0 {
                pos = src.pos();
            }
            let b = match src.peek() {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => return Err(self.read_failed(filename, &e)),
            };
            if b == b'#' {
                if let Some(at) = self.process_annotation(src, filepath, last_file)? {
                    return Ok(Scan {
                        ok_up_to: pos,
                        truncate_at: Some(at),
                    });
                }
            } else if b == b'*' {
                if !self.process_resp(src, filepath, &mut multi)? {
                    break;
                }
            } else {
                self.say(&[b"AOF ", filename, b" format error\n"]);
                break;
            }
        }
        if src.eof && multi != 0 && self.error.is_empty() {
            self.set_error(b"Reached EOF before reading EXEC for MULTI");
        }
        Ok(Scan {
            ok_up_to: pos,
            truncate_at: None,
        })
    }
}

/// The check-rdb report of an RDB preamble: counters and where the last
/// opcode walk stopped.
#[derive(Clone, Copy)]
struct RdbTally {
    keys: u64,
    expires: u64,
    already_expired: u64,
    /// Function libraries read.
    functions: u64,
    walked: u64,
}

impl<'a> Checker<'a> {
    fn rdb_info(&mut self, offset: u64, msg: &[u8]) {
        let head = format!("[offset {offset}] ");
        self.say(&[head.as_bytes(), msg, b"\n"]);
    }

    fn rdb_generic_info(&mut self, t: &RdbTally) {
        self.sayln(&format!("[info] {} keys read", t.keys));
        self.sayln(&format!("[info] {} expires", t.expires));
        self.sayln(&format!("[info] {} already expired", t.already_expired));
        self.sayln(&format!("[info] {} functions", t.functions));
    }

    /// Re-reads the opcodes in `file[from..to)` that precede a key (or the
    /// EOF opcode) to print check-rdb's AUX FIELD and Selecting DB ID lines
    /// at their offsets. The bytes were already accepted by `RdbReader`;
    /// this walk stops at the first thing that is not such an opcode.
    fn walk_opcodes(&mut self, file: &File, from: u64, to: u64) {
        let len = to.saturating_sub(from).min(OPCODE_WINDOW) as usize;
        let mut buf = vec![0u8; len];
        if file.read_exact_at(&mut buf, from).is_err() {
            return;
        }
        let mut r = Reader::new(&buf);
        let at = |r: &Reader| from + r.pos() as u64;
        while let Ok(op) = r.byte("an opcode") {
            let ok = match op {
                rdb_read::OP_AUX => match (r.string(), r.string()) {
                    (Ok(k), Ok(v)) => {
                        let mut msg = b"AUX FIELD ".to_vec();
                        msg.extend_from_slice(c_str(&k));
                        msg.extend_from_slice(b" = '");
                        msg.extend_from_slice(c_str(&v));
                        msg.push(b'\'');
                        self.rdb_info(at(&r), &msg);
                        true
                    }
                    _ => false,
                },
                rdb_read::OP_SELECTDB => match r.length("a db number") {
                    Ok(id) => {
                        self.rdb_info(at(&r), format!("Selecting DB ID {id}").as_bytes());
                        true
                    }
                    Err(_) => false,
                },
                rdb_read::OP_RESIZEDB => r.length("").and_then(|_| r.length("")).is_ok(),
                rdb_read::OP_SLOT_INFO => (0..3).all(|_| r.length("").is_ok()),
                rdb_read::OP_EXPIRETIME => r.take(4, "").is_ok(),
                rdb_read::OP_EXPIRETIME_MS => r.take(8, "").is_ok(),
                rdb_read::OP_FREQ => r.take(1, "").is_ok(),
                rdb_read::OP_IDLE => r.length("").is_ok(),
                rdb_read::OP_FUNCTION2 => r.string().is_ok(),
                _ => false,
            };
            if !ok {
                break;
            }
        }
    }

    /// Checks the RDB at the start of `file` as check-rdb does, printing
    /// its report; the offset where the RDB ends, or None if it is broken.
    fn check_rdb(&mut self, file: &File, filepath: &[u8], size: u64) -> Option<u64> {
        self.say(&[b"[offset 0] Checking RDB file ", filepath, b"\n"]);
        let opts = Options {
            // Valkey's default encoding limits (they only pick encodings).
            limits: Limits {
                list_fill: -2,
                set: SetLimits {
                    max_intset_entries: 512,
                    max_listpack_entries: 128,
                    max_listpack_value: 64,
                },
                hash: HashLimits {
                    max_entries: 128,
                    max_value: 64,
                },
                zset: ZSetLimits::new(128, 64),
            },
            // check-rdb takes any db number and version, and says when a
            // version needs `rdb-version-check relaxed`.
            databases: usize::MAX,
            check_crc: true,
            relaxed: true,
        };
        let name = String::from_utf8_lossy(filepath).into_owned();
        let mut t = RdbTally {
            keys: 0,
            expires: 0,
            already_expired: 0,
            functions: 0,
            walked: 9,
        };
        let mut rd = match RdbReader::new(file, size, &name, opts) {
            Ok(rd) => rd,
            Err(e) => {
                self.rdb_error(&e, &t, size);
                return None;
            }
        };
        let version = rd.version;
        let needs_relaxed =
            version > super::VALKEY_RDB_VERSION || super::is_foreign_version(version);
        if version > super::VALKEY_RDB_VERSION {
            self.rdb_info(
                9,
                format!("Future RDB version {version} detected").as_bytes(),
            );
        } else if super::is_foreign_version(version) {
            self.rdb_info(
                9,
                format!("Foreign RDB version {version} detected").as_bytes(),
            );
        }
        let now = crate::keyspace::now_ms();
        loop {
            match rd.next_key() {
                Ok(Some(rec)) => {
                    let expire = rec.expire_ms;
                    let end = rd.pos();
                    t.functions = rd.functions.len() as u64;
                    self.walk_opcodes(file, t.walked, end);
                    t.walked = end;
                    t.keys += 1;
                    if let Some(ms) = expire {
                        t.expires += 1;
                        if ms < now {
                            t.already_expired += 1;
                        }
                    }
                }
                Ok(None) => {
                    t.functions = rd.functions.len() as u64;
                    break;
                }
                Err(e) => {
                    t.functions = rd.functions.len() as u64;
                    self.walk_opcodes(file, t.walked, e.offset.min(size));
                    self.rdb_error(&e, &t, size);
                    return None;
                }
            }
        }
        let end = rd.pos();
        self.walk_opcodes(file, t.walked, end);
        match rd.checksum {
            Some(Checksum::Ok) => self.rdb_info(end, b"Checksum OK"),
            Some(Checksum::Disabled) => self.rdb_info(
                end,
                b"RDB file was saved with checksum disabled: no check performed.",
            ),
            _ => {}
        }
        self.rdb_info(end, b"Check RDB returned error code 0 (0 means success)");
        if needs_relaxed {
            self.rdb_info(
                end,
                b"\\o/ RDB looks OK, but loading requires config 'rdb-version-check relaxed'",
            );
        } else {
            self.rdb_info(end, b"\\o/ RDB looks OK! \\o/");
        }
        self.rdb_generic_info(&t);
        Some(end)
    }

    /// check-rdb's error report.
    fn rdb_error(&mut self, e: &rdb_read::LoadError, t: &RdbTally, size: u64) {
        // check-rdb's offset is what it had read: the whole checksum, or
        // up to the end of a truncated file (our reader stops where the
        // record that does not fit starts); a key read counts even when
        // its value then fails.
        let (msg, offset) = match e.failure {
            Failure::Truncated => ("Unexpected EOF reading RDB file".to_string(), size),
            Failure::Checksum => ("RDB CRC error".to_string(), e.offset + 8),
            _ => (e.what.trim_end().to_string(), e.offset),
        };
        let t = &RdbTally {
            keys: t.keys + u64::from(e.key.is_some()),
            ..*t
        };
        self.sayln("--- RDB ERROR DETECTED ---");
        self.rdb_info(offset, msg.as_bytes());
        self.sayln(&format!("[additional info] While doing: {}", e.doing));
        if let Some(k) = &e.key {
            self.say(&[b"[additional info] Reading key '", c_str(k), b"'\n"]);
        }
        if let Some(ty) = e.rdb_type {
            let line = format!(
                "[additional info] Reading type {ty} ({})",
                rdb_read::type_name(ty)
            );
            self.sayln(&line);
        }
        self.rdb_generic_info(t);
        self.rdb_info(offset, b"Check RDB returned error code 1 (0 means success)");
    }

    /// Checks one file (Valkey's checkSingleAof): an old-style AOF, or a
    /// BASE or INCR file of a multi-part AOF.
    pub fn check_single(
        &mut self,
        filename: &[u8],
        filepath: &[u8],
        last_file: bool,
        fix: bool,
        preamble: bool,
    ) -> Res<Verdict> {
        let path = OsStr::from_bytes(filepath);
        let mut file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) => {
                let msg = format!(": {}, aborting...\n", os_err(&e));
                self.say(&[b"Cannot open file ", filepath, msg.as_bytes()]);
                return Err(Exit(1));
            }
        };
        let size = match file.metadata() {
            Ok(m) => m.len(),
            Err(_) => {
                self.say(&[b"Cannot stat file: ", filename, b", aborting...\n"]);
                return Err(Exit(1));
            }
        };
        if size == 0 {
            return Ok(Verdict::Empty);
        }
        let mut start = 0;
        if preamble {
            match self.check_rdb(&file, filepath, size) {
                Some(end) => {
                    self.sayln("RDB preamble is OK, proceeding with AOF tail...");
                    start = end;
                }
                None => {
                    self.sayln("RDB preamble of AOF file is not sane, aborting.");
                    return Err(Exit(1));
                }
            }
        }
        if let Err(e) = file.seek(SeekFrom::Start(start)) {
            return Err(self.read_failed(filename, &e));
        }
        let scan = {
            let mut input = Input::new(&mut file, start);
            self.scan(&mut input, filename, filepath, last_file)?
        };
        if let Some(at) = scan.truncate_at {
            if file.set_len(at).is_err() {
                let msg = format!(" to timestamp {}\n", self.to_timestamp);
                self.say(&[b"Failed to truncate AOF ", filepath, msg.as_bytes()]);
                return Err(Exit(1));
            }
            return Ok(Verdict::TimestampTruncated);
        }
        if !self.error.is_empty() {
            let e = self.error.clone();
            self.say(&[c_str(&e), b"\n"]);
        }
        let pos = scan.ok_up_to;
        let diff = size as i64 - pos as i64;
        if diff == 0 && self.to_timestamp != 0 {
            let msg = format!(" to timestamp {}\n", self.to_timestamp);
            self.say(&[b"Truncate nothing in AOF ", filename, msg.as_bytes()]);
            return Ok(Verdict::Ok);
        }
        let msg = format!(
            ", size={size}, ok_up_to={pos}, ok_up_to_line={}, diff={diff}\n",
            self.line
        );
        self.say(&[b"AOF analyzed: filename=", filename, msg.as_bytes()]);
        if diff <= 0 {
            return Ok(Verdict::Ok);
        }
        if !fix {
            self.say(&[
                b"AOF ",
                filename,
                b" is not valid. Use the --fix option to try fixing it.\n",
            ]);
            return Err(Exit(1));
        }
        if !last_file {
            self.say(&[
                b"Failed to truncate AOF ",
                filename,
                b" because it is not the last file\n",
            ]);
            return Err(Exit(1));
        }
        let msg = format!(" from {size} bytes, with {diff} bytes, to {pos} bytes\n");
        self.say(&[b"This will shrink the AOF ", filename, msg.as_bytes()]);
        self.say(&[b"Continue? [y/N]: "]);
        let _ = self.out.flush();
        let answer = match self.stdin.fill_buf() {
            Ok(b) => b.first().copied(),
            Err(_) => None,
        };
        if answer.is_some() {
            self.stdin.consume(1);
        }
        if !matches!(answer, Some(b'y' | b'Y')) {
            self.sayln("Aborting...");
            return Err(Exit(1));
        }
        if file.set_len(pos).is_err() {
            self.say(&[b"Failed to truncate AOF ", filename, b"\n"]);
            return Err(Exit(1));
        }
        Ok(Verdict::Truncated)
    }

    fn print_verdict(&mut self, v: Verdict, name: &[u8], kind: &str) {
        let kind = kind.as_bytes();
        match v {
            Verdict::Ok => self.say(&[kind, b" ", name, b" is valid\n"]),
            Verdict::Empty => self.say(&[kind, b" ", name, b" is empty\n"]),
            Verdict::TimestampTruncated => {
                let msg = format!(" to timestamp {}\n", self.to_timestamp);
                self.say(&[b"Successfully truncated AOF ", name, msg.as_bytes()]);
            }
            Verdict::Truncated => self.say(&[b"Successfully truncated AOF ", name, b"\n"]),
        }
    }

    /// A warning line in Valkey's log layout (the manifest loader's
    /// errors reach stdout that way in the C tool).
    fn log_warning(&mut self, msg: &str) {
        let line = format!(
            "{}:M {} # {msg}\n",
            std::process::id(),
            (self.log_time)(SystemTime::now())
        );
        self.say(&[line.as_bytes()]);
    }

    /// Valkey's fileIsManifest: only comments and `file` lines until the
    /// first other line, and at least one `file` line.
    fn file_is_manifest(&mut self, filepath: &[u8]) -> Res<bool> {
        let f = self.open_for_probe(filepath)?;
        let size = self.probe_size(&f, filepath)?;
        if size == 0 {
            return Ok(false);
        }
        let mut input = Input::new(f, 0);
        let mut buf = [0u8; MANIFEST_MAX_LINE + 1];
        let mut is_manifest = false;
        loop {
            match input.fgets(&mut buf) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    self.say(&[b"Cannot read file: ", filepath, b"\n"]);
                    return Err(Exit(1));
                }
            }
            if buf[0] == b'#' {
                continue;
            }
            if buf.starts_with(b"file") {
                is_manifest = true;
            } else {
                break;
            }
        }
        Ok(is_manifest)
    }

    /// Whether the file starts with an RDB signature (an RDB-preamble AOF
    /// or an RDB BASE).
    fn file_is_rdb(&mut self, filepath: &[u8]) -> Res<bool> {
        let mut f = self.open_for_probe(filepath)?;
        let size = self.probe_size(&f, filepath)?;
        if size < 8 {
            return Ok(false);
        }
        let mut sig = [0u8; 6];
        let got = f.read_exact(&mut sig).is_ok();
        Ok(got && (sig.starts_with(b"REDIS") || &sig == b"VALKEY"))
    }

    fn open_for_probe(&mut self, filepath: &[u8]) -> Res<File> {
        File::open(OsStr::from_bytes(filepath)).map_err(|e| {
            let msg = format!(": {}\n", os_err(&e));
            self.say(&[b"Cannot open file ", filepath, msg.as_bytes()]);
            Exit(1)
        })
    }

    fn probe_size(&mut self, f: &File, filepath: &[u8]) -> Res<u64> {
        f.metadata().map(|m| m.len()).map_err(|_| {
            self.say(&[b"Cannot stat file: ", filepath, b"\n"]);
            Exit(1)
        })
    }

    /// Valkey's checkMultiPartAof: the manifest, the BASE, each INCR file;
    /// only the last file may be truncated.
    fn check_multi_part(&mut self, dirpath: &[u8], manifest_path: &[u8], fix: bool) -> Res<()> {
        self.sayln("Start checking Multi Part AOF");
        let text = match std::fs::read(OsStr::from_bytes(manifest_path)) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {}",
                    String::from_utf8_lossy(manifest_path),
                    os_err(&e)
                );
                self.log_warning(&msg);
                return Err(Exit(1));
            }
        };
        let m = match Manifest::parse(&text) {
            Ok(m) => m,
            Err(e) => {
                for l in e.log_lines() {
                    self.log_warning(&l);
                }
                return Err(Exit(1));
            }
        };
        let total = usize::from(m.base.is_some()) + m.incr.len();
        let mut num = 0;
        let path_of = |name: &[u8]| {
            let mut p = dirpath.to_vec();
            p.push(b'/');
            p.extend_from_slice(name);
            p
        };
        if let Some(base) = &m.base {
            let path = path_of(&base.name);
            num += 1;
            let preamble = self.file_is_rdb(&path)?;
            self.sayln(&format!(
                "Start to check BASE AOF ({} format).",
                if preamble { "RDB" } else { "RESP" }
            ));
            let v = self.check_single(&base.name, &path, num == total, fix, preamble)?;
            self.print_verdict(v, &base.name, "BASE AOF");
        }
        if !m.incr.is_empty() {
            self.sayln("Start to check INCR files.");
            for f in &m.incr {
                let path = path_of(&f.name);
                num += 1;
                let v = self.check_single(&f.name, &path, num == total, fix, false)?;
                self.print_verdict(v, &f.name, "INCR AOF");
            }
        }
        self.sayln("All AOF files and manifest are valid");
        Ok(())
    }

    fn check_old_style(&mut self, filepath: &[u8], fix: bool, preamble: bool) -> Res<()> {
        self.sayln("Start checking Old-Style AOF");
        let v = self.check_single(filepath, filepath, true, fix, preamble)?;
        self.print_verdict(v, filepath, "AOF");
        Ok(())
    }
}

/// What the binary tells the checker about itself (this module leaves the
/// server's log and version to it).
pub struct Tool {
    pub version: &'static str,
    /// The time as the server's log lines give it.
    pub log_time: fn(SystemTime) -> String,
}

/// Unix seconds and milliseconds, when no log format is given.
fn unix_time(t: SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// The tool's entry point: `args` as `argv` (the program's name first);
/// output goes to `out`, `--fix` reads its answer from `stdin`. Returns
/// the exit code.
pub fn run(tool: &Tool, args: &[OsString], out: &mut dyn Write, stdin: &mut dyn BufRead) -> i32 {
    let argv0 = args
        .first()
        .map(|a| a.as_bytes())
        .unwrap_or(b"ferrokey-check-aof");
    let usage = |out: &mut dyn Write| {
        let _ = out.write_all(b"Usage: ");
        let _ = out.write_all(argv0);
        let _ = out
            .write_all(b" [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n");
        1
    };
    let arg = |i: usize| args.get(i).map(|a| a.as_bytes()).unwrap_or_default();
    let (filepath, fix, to_timestamp) = match args.len() {
        2 if arg(1) == b"-v" || arg(1) == b"--version" => {
            let _ = writeln!(out, "ferrokey-check-aof v={}", tool.version);
            return 0;
        }
        2 => (arg(1), false, 0),
        3 if arg(1) == b"--fix" => (arg(2), true, 0),
        4 if arg(1) == b"--truncate-to-timestamp" => {
            let s = arg(2);
            let (ts, end, overflow) = num::strtol(s);
            if overflow || end != s.len() {
                let _ = out.write_all(b"Invalid timestamp, aborting...\n");
                return 1;
            }
            (arg(3), false, ts)
        }
        _ => return usage(out),
    };
    if filepath.len() > PATH_MAX {
        let _ = out.write_all(b"Error: filepath is too long (exceeds PATH_MAX)\n");
        return usage(out);
    }
    let dirpath = dirname(filepath);
    let mut c = Checker::new(out, stdin, to_timestamp);
    c.log_time = tool.log_time;
    let res = (|| {
        if c.file_is_manifest(filepath)? {
            c.check_multi_part(&dirpath, filepath, fix)
        } else {
            let preamble = c.file_is_rdb(filepath)?;
            c.check_old_style(filepath, fix, preamble)
        }
    })();
    match res {
        Ok(()) => 0,
        Err(Exit(code)) => code,
    }
}

#[cfg(test)]
#[path = "aof_check_tests.rs"]
mod tests;
