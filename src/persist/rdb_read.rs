//! A streaming RDB file parser: the header (`REDIS0001`..`REDIS0012`,
//! Valkey 9's `VALKEY080`), the opcodes (SELECTDB, RESIZEDB, EXPIRETIME
//! and EXPIRETIME_MS, AUX, FREQ, IDLE, SLOT_INFO, FUNCTION2, EOF), every
//! key's value through `object::read_value`, and the CRC-64 after EOF.
//!
//! Function libraries (FUNCTION2: one RDB string, the library's source
//! code, `#!lua name=<lib>` first) are not records: like the AUX fields
//! they are gathered in `RdbReader::functions`, with their offsets, for
//! the loader to hand over once the whole file has parsed (see
//! `exec::loading::load_function_libraries`). The pre-release format
//! (FUNCTION_PRE_GA) is refused, as Valkey does.
//!
//! The file is read in chunks into one buffer. Before a key is decoded its
//! extent is found by walking the length headers of its serialization
//! (string bodies are skipped, not read), so the buffer grows only for a
//! record larger than it, and never past the bytes the file really has: a
//! length announcing more than that is a truncated file, found before any
//! allocation. A failure names the file, the byte offset, what was being
//! read and what was expected there (`LoadError`); Valkey's wording is
//! kept for the lines tools look for ("RDB CRC error", "Unexpected EOF
//! reading RDB file", "integrity check failed").
//!
//! Version rules are Valkey 9.1's: `REDIS` files up to version 11 and
//! `VALKEY` files from 80; versions 12 to 79 (Redis 7.4 on, other forks)
//! only with `rdb-version-check relaxed`, and then only with the value
//! types that existed before the formats split. A `REDIS` file may never
//! hold a type or opcode in 22..=243, which the forks use differently.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::codec::Reader;
use super::object::{self, is_object_type, read_value, Limits};
use super::{is_foreign_version, version_accepted, FOREIGN_TYPE_MIN};
use crate::keyspace::Value;

pub const OP_SLOT_IMPORT: u8 = 243;
pub const OP_SLOT_INFO: u8 = 244;
pub const OP_FUNCTION2: u8 = 245;
pub const OP_FUNCTION_PRE_GA: u8 = 246;
pub const OP_MODULE_AUX: u8 = 247;
pub const OP_IDLE: u8 = 248;
pub const OP_FREQ: u8 = 249;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_EXPIRETIME: u8 = 253;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;

/// The last type or opcode a `REDIS` file may not hold (see the module doc).
const FOREIGN_TYPE_MAX: u8 = 243;

/// The first chunk read; the buffer doubles for larger records.
const CHUNK: usize = 1 << 20;

/// Slice-by-16 tables: the checksum runs over every byte of the file.
const CRC: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// Why a file was not loaded, which decides how it is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Refused before any data (signature, version, a foreign type): Valkey
    /// logs the reason and "Fatal error loading the DB".
    Refused,
    /// The file ends before the data it announces.
    Truncated,
    /// The data is inconsistent (an invalid length, encoding or value).
    Corrupt,
    /// The CRC-64 after EOF does not match the file.
    Checksum,
    /// Valid data ferrokey cannot hold yet (modules, functions).
    Unsupported,
    /// The file selects a db number past `databases`.
    TooManyDbs,
    /// The file could not be read.
    Io,
}

/// A failed load: where, doing what, and what was expected.
#[derive(Clone, Debug)]
pub struct LoadError {
    pub file: String,
    pub offset: u64,
    pub what: String,
    pub failure: Failure,
    /// Valkey's check-rdb step names ("read-object-value", "check-sum"...).
    pub doing: &'static str,
    /// The key whose value was being read, if any.
    pub key: Option<Vec<u8>>,
    pub rdb_type: Option<u8>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: at offset {}: {}", self.file, self.offset, self.what)
    }
}

impl std::error::Error for LoadError {}

pub type Result<T> = std::result::Result<T, LoadError>;

/// What the parser needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub limits: Limits,
    pub databases: usize,
    /// `rdbchecksum yes` and checksums not skipped by DEBUG.
    pub check_crc: bool,
    /// `rdb-version-check relaxed`.
    pub relaxed: bool,
}

/// One key read from the file.
pub struct Record<'a> {
    pub db: usize,
    pub key: Cow<'a, [u8]>,
    /// None: an empty collection, which Valkey skips (an old bug wrote some).
    pub value: Option<Value>,
    /// Absolute Unix time in ms, if the key has one.
    pub expire_ms: Option<i64>,
    /// FREQ and IDLE opcodes before the key (LFU counter, idle seconds).
    pub freq: Option<u8>,
    pub idle: Option<u64>,
    /// A RESIZEDB hint read just before this key: how many keys its db
    /// will hold (bounded by what the rest of the file can hold).
    pub size_hint: Option<u64>,
}

/// What INFO shows of loads: the one running, and the last one's counts.
#[derive(Debug, Default)]
pub struct LoadStatus {
    pub in_progress: Option<LoadProgress>,
    /// INFO `rdb_last_load_keys_loaded` (counted as keys go in).
    pub keys_loaded: u64,
    /// INFO `rdb_last_load_keys_expired`.
    pub keys_expired: u64,
}

/// A load in progress (INFO `loading_*`).
#[derive(Debug)]
pub struct LoadProgress {
    pub start_unix: i64,
    pub total_bytes: u64,
    /// Updated by the parser as it goes.
    pub loaded_bytes: Arc<AtomicU64>,
    pub rdb_used_mem: Arc<AtomicU64>,
}

impl LoadProgress {
    /// INFO's `loading_*` fields while a load runs (Valkey's formulas).
    pub fn info_fields(&self, now_unix: i64) -> [(&'static str, String); 6] {
        let p = self;
        let loaded = p.loaded_bytes.load(Ordering::Relaxed);
        let total = p.total_bytes;
        let perc = if total == 0 {
            0.0
        } else {
            loaded as f64 / total as f64 * 100.0
        };
        let elapsed = (now_unix - p.start_unix).max(0) as u64;
        let eta = if elapsed == 0 || loaded == 0 {
            1
        } else {
            elapsed.saturating_mul(total.saturating_sub(loaded)) / loaded
        };
        [
            ("loading_start_time", p.start_unix.to_string()),
            ("loading_total_bytes", total.to_string()),
            (
                "loading_rdb_used_mem",
                p.rdb_used_mem.load(Ordering::Relaxed).to_string(),
            ),
            ("loading_loaded_bytes", loaded.to_string()),
            ("loading_loaded_perc", format!("{perc:.2}")),
            ("loading_eta_seconds", eta.to_string()),
        ]
    }
}

/// Where a record's key is: in the buffer, or decoded (integer, LZF).
enum KeyRef {
    Range(usize, usize),
    Owned(Vec<u8>),
}

/// How the checksum after EOF turned out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// Matched.
    Ok,
    /// Stored as 0: the file was saved with `rdbchecksum no`.
    Disabled,
    /// Not checked (`rdbchecksum no`, or a version before 5 has none).
    NotChecked,
}

/// The buffered file: `buf[start..end]` is read and not yet consumed;
/// `buf[hashed..start]` is consumed but not yet in the checksum.
struct Source<R> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    hashed: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// The file's size: no read can go past it.
    size: u64,
    crc: Option<crc::Digest<'static, u64, crc::Table<16>>>,
}

impl<R: Read> Source<R> {
    fn pos(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Bytes the file has from the consumed position on.
    fn left(&self) -> u64 {
        self.size.saturating_sub(self.pos())
    }

    /// Makes `n` bytes from `start` available; false if the file ends first.
    #[inline]
    fn have(&mut self, n: u64) -> io::Result<bool> {
        if (self.end - self.start) as u64 >= n {
            return Ok(true);
        }
        self.fill(n)
    }

    #[cold]
    fn fill(&mut self, n: u64) -> io::Result<bool> {
        if n > self.left() {
            return Ok(false);
        }
        let n = n as usize;
        // Fold what was consumed into the checksum, then drop it.
        self.hash_consumed();
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
            self.hashed = 0;
        }
        if self.buf.len() > CHUNK && n <= CHUNK && self.end <= CHUNK {
            // A large record is behind us: give its room back.
            self.buf.truncate(CHUNK);
            self.buf.shrink_to_fit();
        }
        if self.buf.len() < n {
            // Grow by doubling, but never past what the file still holds.
            let want = n.max(self.buf.len() * 2).max(CHUNK);
            let cap = usize::try_from(self.left()).unwrap_or(usize::MAX);
            self.buf.resize(want.min(cap).max(n), 0);
        }
        while self.end < n {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn hash_consumed(&mut self) {
        if let Some(d) = &mut self.crc {
            d.update(&self.buf[self.hashed..self.start]);
        }
        self.hashed = self.start;
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.start += n;
    }

    #[inline]
    fn at(&self, off: u64) -> u8 {
        self.buf[self.start + off as usize]
    }
}

/// Reads an RDB file record by record.
pub struct RdbReader<R> {
    src: Source<R>,
    file: String,
    opts: Options,
    pub version: u16,
    pub valkey_magic: bool,
    db: usize,
    /// AUX fields in file order, with their offsets.
    pub aux: Vec<(u64, String, String)>,
    /// `used-mem` from the AUX fields (INFO loading_rdb_used_mem).
    pub used_mem: Arc<AtomicU64>,
    /// Bytes consumed so far (INFO loading_loaded_bytes), shared.
    pub progress: Arc<AtomicU64>,
    /// Function libraries (FUNCTION2) in file order: each one's code and
    /// the offset of its opcode (for an error naming it).
    pub functions: Vec<(u64, Bytes)>,
    pub keys_read: u64,
    pub expires: u64,
    pub checksum: Option<Checksum>,
    doing: &'static str,
    size_hint: Option<u64>,
}

/// Reads the file's first bytes: did it start with a known signature?
pub fn has_signature(head: &[u8]) -> bool {
    head.starts_with(b"REDIS0") || head.starts_with(b"VALKEY")
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the header of `r`, a file of `size` bytes named
    /// `file` in messages.
    pub fn new(r: R, size: u64, file: &str, opts: Options) -> Result<Self> {
        let mut me = RdbReader {
            src: Source {
                r,
                buf: Vec::new(),
                start: 0,
                end: 0,
                hashed: 0,
                base: 0,
                size,
                crc: opts.check_crc.then(|| CRC.digest()),
            },
            file: file.to_string(),
            opts,
            version: 0,
            valkey_magic: false,
            db: 0,
            aux: Vec::new(),
            used_mem: Arc::default(),
            progress: Arc::default(),
            functions: Vec::new(),
            keys_read: 0,
            expires: 0,
            checksum: None,
            doing: "start",
            size_hint: None,
        };
        me.need(9, "the 9-byte signature and version")?;
        let head: [u8; 9] = std::array::from_fn(|i| me.src.at(i as u64));
        let valkey = head.starts_with(b"VALKEY");
        if !head.starts_with(b"REDIS0") && !valkey {
            return Err(me.refused(0, "Wrong signature trying to load DB from file"));
        }
        let digits = &head[6..];
        let version = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        // Redis 7.4's version 12 loads whatever `rdb-version-check` says (the
        // types it shares with Valkey; its own are refused per key): a file
        // is what a user migrating from Redis brings, unlike a DUMP payload.
        let redis_7_4 = !valkey && version == 12;
        let accepted = (version_accepted(version, opts.relaxed) || redis_7_4)
            && if valkey {
                !is_foreign_version(version) && version > 11
            } else {
                version < 80
            };
        if !accepted {
            return Err(me.refused(
                6,
                format!("Can't handle RDB format version {}", atoi(digits)),
            ));
        }
        me.version = version;
        me.valkey_magic = valkey;
        me.src.consume(9);
        Ok(me)
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// Offset of the next byte to read.
    pub fn pos(&self) -> u64 {
        self.src.pos()
    }

    fn error(&self, at: u64, failure: Failure, what: impl Into<String>) -> LoadError {
        LoadError {
            file: self.file.clone(),
            offset: at,
            what: what.into(),
            failure,
            doing: self.doing,
            key: None,
            rdb_type: None,
        }
    }

    fn refused(&self, at: u64, what: impl Into<String>) -> LoadError {
        self.error(at, Failure::Refused, what)
    }

    fn io_error(&self, e: io::Error) -> LoadError {
        self.error(self.pos(), Failure::Io, format!("reading the file: {e}"))
    }

    fn eof(&self, n: u64, what: &str) -> LoadError {
        self.error(
            self.pos(),
            Failure::Truncated,
            format!(
                "Unexpected EOF reading RDB file: {what} needs {n} bytes at offset {}, the file has {} left",
                self.pos(),
                self.src.left()
            ),
        )
    }

    /// Makes `n` bytes available, or says the file is truncated.
    #[inline]
    fn need(&mut self, n: u64, what: &str) -> Result<()> {
        match self.src.have(n) {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.eof(n, what)),
            Err(e) => Err(self.io_error(e)),
        }
    }

    fn byte(&mut self, what: &str) -> Result<u8> {
        self.need(1, what)?;
        let b = self.src.at(0);
        self.src.consume(1);
        Ok(b)
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        self.need(N as u64, what)?;
        let a = std::array::from_fn(|i| self.src.at(i as u64));
        self.src.consume(N);
        Ok(a)
    }

    /// A plain length at `off` from the consumed position: (value, end).
    fn len_at(&mut self, off: u64, what: &str) -> Result<(u64, u64)> {
        self.need(off + 1, what)?;
        let b = self.src.at(off);
        match b >> 6 {
            0 => Ok((u64::from(b & 0x3f), off + 1)),
            1 => {
                self.need(off + 2, what)?;
                let v = (u64::from(b & 0x3f) << 8) | u64::from(self.src.at(off + 1));
                Ok((v, off + 2))
            }
            _ if b == 0x80 => {
                self.need(off + 5, what)?;
                let v = (1..5).fold(0u64, |a, i| a << 8 | u64::from(self.src.at(off + i)));
                Ok((v, off + 5))
            }
            _ if b == 0x81 => {
                self.need(off + 9, what)?;
                let v = (1..9).fold(0u64, |a, i| a << 8 | u64::from(self.src.at(off + i)));
                Ok((v, off + 9))
            }
            _ => Err(self.error(
                self.pos() + off,
                Failure::Corrupt,
                format!("{what}: unknown length encoding 0x{b:02x}"),
            )),
        }
    }

    /// A length, consumed.
    fn len(&mut self, what: &str) -> Result<u64> {
        let (v, end) = self.len_at(0, what)?;
        self.src.consume(end as usize);
        Ok(v)
    }

    /// The end of a string (any encoding) starting at `off`; its body is
    /// not read.
    fn skip_string(&mut self, off: u64) -> Result<u64> {
        self.need(off + 1, "a string")?;
        let b = self.src.at(off);
        if b >> 6 != 3 {
            let (n, body) = self.len_at(off, "a string length")?;
            return self.past(body, n, "a string");
        }
        match b & 0x3f {
            0 => Ok(off + 2),
            1 => Ok(off + 3),
            2 => Ok(off + 5),
            3 => {
                let (clen, o) = self.len_at(off + 1, "an LZF compressed length")?;
                let (_, o) = self.len_at(o, "an LZF original length")?;
                self.past(o, clen, "LZF data")
            }
            e => Err(self.error(
                self.pos() + off,
                Failure::Corrupt,
                format!("unknown string encoding {e}"),
            )),
        }
    }

    /// `off + n`, if the file holds that many bytes.
    fn past(&self, off: u64, n: u64, what: &str) -> Result<u64> {
        match off.checked_add(n) {
            Some(end) if end <= self.src.left() => Ok(end),
            _ => Err(self.eof(n, what)),
        }
    }

    /// A count of items at `off`, each at least `min` bytes: refused if
    /// the file cannot hold them.
    fn count_at(&mut self, off: u64, min: u64, what: &str) -> Result<(u64, u64)> {
        let (n, o) = self.len_at(off, what)?;
        self.past(o, n.saturating_mul(min), what)?;
        Ok((n, o))
    }

    /// The end of a value of type `t` starting at `off`, found from its
    /// length headers; None for types `read_value` refuses outright.
    fn skip_value(&mut self, t: u8, off: u64) -> Result<Option<u64>> {
        use object::*;
        let mut o = off;
        match t {
            TYPE_STRING | TYPE_HASH_ZIPMAP | TYPE_LIST_ZIPLIST | TYPE_SET_INTSET
            | TYPE_ZSET_ZIPLIST | TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK | TYPE_ZSET_LISTPACK
            | TYPE_SET_LISTPACK => o = self.skip_string(o)?,
            TYPE_LIST | TYPE_SET | TYPE_LIST_QUICKLIST => {
                let (n, p) = self.count_at(o, 1, "a collection size")?;
                o = p;
                for _ in 0..n {
                    o = self.skip_string(o)?;
                }
            }
            TYPE_HASH => {
                let (n, p) = self.count_at(o, 2, "a hash size")?;
                o = p;
                for _ in 0..n * 2 {
                    o = self.skip_string(o)?;
                }
            }
            TYPE_HASH_2 => {
                let (n, p) = self.count_at(o, 10, "a hash size")?;
                o = p;
                for _ in 0..n {
                    o = self.skip_string(o)?;
                    o = self.skip_string(o)?;
                    o = self.past(o, 8, "a field expire time")?;
                }
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let min = if t == TYPE_ZSET { 2 } else { 9 };
                let (n, p) = self.count_at(o, min, "a sorted set size")?;
                o = p;
                for _ in 0..n {
                    o = self.skip_string(o)?;
                    if t == TYPE_ZSET_2 {
                        o = self.past(o, 8, "a binary double")?;
                    } else {
                        self.need(o + 1, "a double")?;
                        let b = self.src.at(o);
                        o =
                            self.past(o + 1, if b >= 253 { 0 } else { u64::from(b) }, "a double")?;
                    }
                }
            }
            TYPE_LIST_QUICKLIST_2 => {
                let (n, p) = self.count_at(o, 2, "a quicklist node count")?;
                o = p;
                for _ in 0..n {
                    let (_, p) = self.len_at(o, "a quicklist node container")?;
                    o = self.skip_string(p)?;
                }
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
                o = self.skip_stream(t, o)?;
            }
            _ => return Ok(None),
        }
        Ok(Some(o))
    }

    /// The end of a stream record (persist::stream's layout) at `off`.
    fn skip_stream(&mut self, t: u8, off: u64) -> Result<u64> {
        use object::{TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3};
        let v2 = t >= TYPE_STREAM_LISTPACKS_2;
        let (n, mut o) = self.count_at(off, 2, "a stream node count")?;
        for _ in 0..n * 2 {
            o = self.skip_string(o)?;
        }
        // Length, last ID; first ID, max deleted ID, entries added.
        for _ in 0..if v2 { 8 } else { 3 } {
            o = self.len_at(o, "a stream counter")?.1;
        }
        let (groups, p) = self.count_at(o, 3, "a stream group count")?;
        o = p;
        for _ in 0..groups {
            o = self.skip_string(o)?;
            for _ in 0..if v2 { 3 } else { 2 } {
                o = self.len_at(o, "a stream group counter")?.1;
            }
            let (pel, p) = self.count_at(o, 25, "a stream PEL size")?;
            o = p;
            for _ in 0..pel {
                o = self.past(o, 24, "a stream PEL entry")?;
                o = self.len_at(o, "a delivery count")?.1;
            }
            let (consumers, p) = self.count_at(o, 10, "a stream consumer count")?;
            o = p;
            for _ in 0..consumers {
                o = self.skip_string(o)?;
                let times = if t >= TYPE_STREAM_LISTPACKS_3 { 16 } else { 8 };
                o = self.past(o, times, "a consumer's times")?;
                let (ids, p) = self.count_at(o, 16, "a consumer PEL size")?;
                o = self.past(p, ids * 16, "a consumer PEL")?;
            }
        }
        Ok(o)
    }

    /// The next key, or None after EOF and the checksum.
    pub fn next_key(&mut self) -> Result<Option<Record<'_>>> {
        let (mut expire, mut freq, mut idle) = (None, None, None);
        loop {
            if self.checksum.is_some() {
                return Ok(None);
            }
            self.progress.store(self.pos(), Ordering::Relaxed);
            self.doing = "read-type";
            let at = self.pos();
            let t = self.byte("a type or opcode")?;
            if !self.valkey_magic && (FOREIGN_TYPE_MIN..=FOREIGN_TYPE_MAX).contains(&t) {
                return Err(self.refused(
                    at,
                    format!(
                        "Can't handle foreign type or opcode {t} in RDB with version {}",
                        self.version
                    ),
                ));
            }
            match t {
                OP_EXPIRETIME => {
                    self.doing = "read-expire";
                    let s = i32::from_le_bytes(self.bytes("an expire time")?);
                    expire = Some(i64::from(s) * 1000);
                }
                OP_EXPIRETIME_MS => {
                    self.doing = "read-expire";
                    expire = Some(i64::from_le_bytes(self.bytes("an expire time")?));
                }
                OP_FREQ => freq = Some(self.byte("an LFU frequency")?),
                OP_IDLE => idle = Some(self.len("an LRU idle time")?),
                OP_EOF => {
                    self.finish()?;
                    return Ok(None);
                }
                OP_SELECTDB => {
                    self.doing = "read-len";
                    let id = self.len("a db number")?;
                    if id >= self.opts.databases as u64 {
                        return Err(self.error(
                            at,
                            Failure::TooManyDbs,
                            format!(
                                "FATAL: Data file was created with a Valkey server configured to handle more than {} databases. Exiting\n",
                                self.opts.databases
                            ),
                        ));
                    }
                    self.db = id as usize;
                }
                OP_RESIZEDB => {
                    self.doing = "read-len";
                    let keys = self.len("a db size hint")?;
                    self.len("an expires size hint")?;
                    // A key takes at least 3 bytes: a hint past that is
                    // not believed.
                    self.size_hint = Some(keys.min(self.src.left() / 3));
                }
                OP_SLOT_INFO => {
                    self.doing = "read-len";
                    for what in ["a slot id", "a slot size", "a slot expires size"] {
                        self.len(what)?;
                    }
                }
                OP_AUX => {
                    self.doing = "read-aux";
                    self.aux_field(at)?;
                }
                OP_MODULE_AUX => {
                    self.doing = "read-module-aux";
                    let id = self.len("a module id")?;
                    return Err(self.error(
                        at,
                        Failure::Unsupported,
                        format!(
                            "The RDB file contains AUX module data I can't load: no matching module '{}'",
                            object::module_type_name(id)
                        ),
                    ));
                }
                OP_FUNCTION_PRE_GA => {
                    return Err(self.error(
                        at,
                        Failure::Unsupported,
                        "Pre-release function format not supported.",
                    ));
                }
                OP_FUNCTION2 => {
                    self.doing = "read-functions";
                    self.function_library(at)?;
                }
                OP_SLOT_IMPORT => {
                    return Err(self.error(
                        at,
                        Failure::Unsupported,
                        "the file holds a slot import state (cluster mode), which ferrokey does not support",
                    ));
                }
                t if is_object_type(t) => {
                    if expire.is_some() {
                        self.expires += 1;
                    }
                    return self.record(t, expire, freq, idle);
                }
                t => {
                    return Err(self.error(
                        at,
                        Failure::Corrupt,
                        format!("Unknown type or opcode {t} when loading DB"),
                    ));
                }
            }
        }
    }

    fn record(
        &mut self,
        t: u8,
        expire_ms: Option<i64>,
        freq: Option<u8>,
        idle: Option<u64>,
    ) -> Result<Option<Record<'_>>> {
        let at = self.pos();
        self.doing = "read-key";
        let key_end = self.skip_string(0)?;
        self.need(key_end, "a key")?;
        self.doing = "read-object-value";
        let end = match self.skip_value(t, key_end) {
            Ok(Some(end)) => {
                self.need(end, "a key and its value")?;
                Some(end)
            }
            // Types read_value refuses: a few bytes are enough for its error.
            Ok(None) => {
                let want = (key_end + 16).min(self.src.left());
                self.need(want, "a value")?;
                None
            }
            Err(mut e) => {
                e.key = self.key_at(key_end);
                e.rdb_type = Some(t);
                return Err(e);
            }
        };
        let len = end.unwrap_or((self.src.end - self.src.start) as u64) as usize;
        let slice = &self.src.buf[self.src.start..self.src.start + len];
        let mut r = Reader::new(slice);
        // A raw key ends where its string does: keep its range, not a copy.
        let key = match r.string() {
            Ok(Cow::Borrowed(b)) => KeyRef::Range(key_end as usize - b.len(), key_end as usize),
            Ok(Cow::Owned(v)) => KeyRef::Owned(v),
            Err(e) => return Err(self.error(at + e.offset as u64, Failure::Corrupt, e.what)),
        };
        let value = match read_value(&mut r, t, &self.opts.limits) {
            Ok(v) => Some(v),
            Err(e) if is_empty_value(&e) => None,
            Err(e) => {
                let failure = if end.is_some() {
                    Failure::Corrupt
                } else {
                    Failure::Unsupported
                };
                let mut err = self.error(at + e.offset as u64, failure, e.what);
                err.key = self.key_at(key_end);
                err.rdb_type = Some(t);
                return Err(err);
            }
        };
        if Some(r.pos() as u64) != end {
            return Err(self.error(
                at + r.pos() as u64,
                Failure::Corrupt,
                "a value that ends before its announced size",
            ));
        }
        self.keys_read += 1;
        let from = self.src.start;
        self.src.consume(len);
        let key = match key {
            KeyRef::Range(a, b) => Cow::Borrowed(&self.src.buf[from + a..from + b]),
            KeyRef::Owned(v) => Cow::Owned(v),
        };
        Ok(Some(Record {
            db: self.db,
            key,
            value,
            expire_ms,
            freq,
            idle,
            size_hint: self.size_hint.take(),
        }))
    }

    /// The key at the consumed position, for an error report.
    fn key_at(&self, key_end: u64) -> Option<Vec<u8>> {
        let avail = self.src.end - self.src.start;
        let slice = &self.src.buf[self.src.start..self.src.start + (key_end as usize).min(avail)];
        Reader::new(slice).string().ok().map(|k| k.to_vec())
    }

    /// FUNCTION2's payload: one string, the library's code.
    fn function_library(&mut self, at: u64) -> Result<()> {
        let end = self.skip_string(0)?;
        self.need(end, "a function library")?;
        let slice = &self.src.buf[self.src.start..self.src.start + end as usize];
        let code = match Reader::new(slice).string() {
            Ok(c) => Bytes::copy_from_slice(&c),
            Err(e) => return Err(self.error(at + 1 + e.offset as u64, Failure::Corrupt, e.what)),
        };
        self.src.consume(end as usize);
        self.functions.push((at, code));
        Ok(())
    }

    fn aux_field(&mut self, at: u64) -> Result<()> {
        let k_end = self.skip_string(0)?;
        let end = self.skip_string(k_end)?;
        self.need(end, "an AUX field")?;
        let slice = &self.src.buf[self.src.start..self.src.start + end as usize];
        let mut r = Reader::new(slice);
        let (name, value) = match (r.string(), r.string()) {
            (Ok(k), Ok(v)) => (
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            ),
            (Err(e), _) | (_, Err(e)) => {
                return Err(self.error(at + 1 + e.offset as u64, Failure::Corrupt, e.what));
            }
        };
        self.src.consume(end as usize);
        self.log_aux(&name, &value);
        self.aux.push((at, name, value));
        Ok(())
    }

    /// Logs an AUX field as Valkey does at startup.
    fn log_aux(&mut self, name: &str, value: &str) {
        let num = || value.trim().parse::<i64>().unwrap_or(0);
        if name.starts_with('%') {
            tracing::info!("RDB '{name}': {value}");
        } else if name.eq_ignore_ascii_case("redis-ver") {
            tracing::info!("Loading RDB produced by Redis version {value}");
        } else if name.eq_ignore_ascii_case("valkey-ver") {
            tracing::info!("Loading RDB produced by Valkey version {value}");
        } else if name.eq_ignore_ascii_case("ctime") {
            let now = crate::keyspace::now_ms() / 1000;
            tracing::info!("RDB age {} seconds", (now - num()).max(0));
        } else if name.eq_ignore_ascii_case("used-mem") {
            let mem = num();
            tracing::info!(
                "RDB memory usage when created {:.2} Mb",
                mem as f64 / (1024.0 * 1024.0)
            );
            self.used_mem.store(mem.max(0) as u64, Ordering::Relaxed);
        } else if name.eq_ignore_ascii_case("aof-preamble") {
            if num() != 0 {
                tracing::info!("RDB has an AOF tail");
            }
        } else if name.eq_ignore_ascii_case("aof-base") {
            if num() != 0 {
                tracing::info!("RDB is base AOF");
            }
        } else if ![
            "repl-stream-db",
            "repl-id",
            "repl-offset",
            "lua",
            "redis-bits",
            "slot-info",
        ]
        .iter()
        .any(|k| name.eq_ignore_ascii_case(k))
        {
            tracing::trace!("Unrecognized RDB AUX field: '{name}'");
        }
    }

    /// After EOF: the checksum (version 5 on), compared unless disabled.
    fn finish(&mut self) -> Result<()> {
        self.doing = "check-sum";
        if self.version < 5 {
            self.checksum = Some(Checksum::NotChecked);
            return Ok(());
        }
        self.src.hash_consumed();
        let expected = self.src.crc.take().map(|d| d.finalize());
        let at = self.pos();
        let stored = u64::from_le_bytes(self.bytes("the 8-byte checksum")?);
        self.progress.store(self.pos(), Ordering::Relaxed);
        self.checksum = Some(match expected {
            None => Checksum::NotChecked,
            Some(_) if stored == 0 => {
                tracing::info!("RDB file was saved with checksum disabled: no check performed.");
                Checksum::Disabled
            }
            Some(x) if x == stored => Checksum::Ok,
            Some(x) => {
                tracing::warn!(
                    "Wrong RDB checksum expected: ({x:x}) but got ({stored:x}). Aborting now."
                );
                return Err(self.error(at, Failure::Checksum, "RDB CRC error"));
            }
        });
        Ok(())
    }
}

/// C's atoi over the version digits, for Valkey's message.
fn atoi(digits: &[u8]) -> i64 {
    digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |a, b| {
            a.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        })
}

/// Whether `read_value` refused a value only for being an empty collection
/// (which a loader skips, as Valkey does since redis#8453's bug wrote some).
pub fn is_empty_value(e: &super::Error) -> bool {
    e.what == "an empty collection" || e.what == "an empty set"
}

/// Valkey's name of a value type (check-rdb's "Reading type N (name)").
pub fn type_name(t: u8) -> &'static str {
    const NAMES: [&str; 23] = [
        "string",
        "list-linked",
        "set-hashtable",
        "zset-v1",
        "hash-hashtable",
        "zset-v2",
        "module-pre-release",
        "module-value",
        "",
        "hash-zipmap",
        "list-ziplist",
        "set-intset",
        "zset-ziplist",
        "hash-ziplist",
        "quicklist",
        "stream",
        "hash-listpack",
        "zset-listpack",
        "quicklist-v2",
        "stream-v2",
        "set-listpack",
        "stream-v3",
        "hash-hashtable-md",
    ];
    NAMES.get(t as usize).copied().unwrap_or("unknown")
}

#[cfg(test)]
#[path = "rdb_read_tests.rs"]
mod tests;
