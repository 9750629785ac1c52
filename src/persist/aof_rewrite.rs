//! An AOF rewrite's BASE file, written on the save writer thread from the
//! same snapshot records as an RDB file (`rdb_write` hands a rewrite here):
//!
//! - `write_base`: the temp file (`temp-rewriteaof-<pid>.aof` in `dir`),
//!   synced and renamed to the name the main thread gave
//!   (`temp-rewriteaof-bg-<pid>.aof`), which it then renames to the new
//!   BASE; log lines as Valkey's rewriteAppendOnlyFile.
//! - `write_commands`: with `aof-use-rdb-preamble no`, the dataset as
//!   commands (Valkey's rewriteAppendOnlyFileRio): per key SET, RPUSH,
//!   SADD, ZADD or HMSET, at most 64 items per command
//!   (AOF_REWRITE_ITEMS_PER_CMD), then PEXPIREAT for a key with a TTL, a
//!   SELECT whenever the db changes, and with `aof-timestamp-enabled` a
//!   `#TS:` annotation first, then a `FUNCTION LOAD` per function library
//!   (Valkey's rewriteFunctions) before any key.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::Ordering;

#[cfg(test)]
use bytes::Bytes;

use super::aof_write::{encode_select, encode_timestamp};
use super::rdb_write::{big_items, each_record, fsync_dir, Item, Kind, Outcome, SaveSpec, Shared};
use super::save_sink::{FlatSource, FlatValue};
use crate::keyspace::list::Elem;
use crate::keyspace::snapshot::BigKind;
use crate::keyspace::Value;
use crate::util::num::{format_double, push_int};
use crate::util::strerror;

/// Items per command in a rewritten BASE.
pub const ITEMS_PER_CMD: usize = 64;

/// Writes the BASE of `kind` to `dir`/`spec.filename` through a temp file.
pub(super) fn write_base(
    spec: &SaveSpec,
    kind: Kind,
    src: &FlatSource,
    shared: &Shared,
) -> Outcome {
    let tmp_name = format!("temp-rewriteaof-{}.aof", std::process::id());
    let tmp = spec.dir.join(&tmp_name);
    let file = match File::create(&tmp) {
        Ok(f) => f,
        Err(e) => {
            shared.failed.store(true, Ordering::Relaxed);
            tracing::warn!(
                "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {}",
                strerror(&e)
            );
            return Outcome::Failed;
        }
    };
    let written = match super::rdb_write::write_records(spec, kind, file, src, shared) {
        Ok(Some(w)) => w,
        Ok(None) => {
            let _ = std::fs::remove_file(&tmp);
            return Outcome::Cancelled;
        }
        Err(e) => {
            shared.failed.store(true, Ordering::Relaxed);
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(
                "Write error writing append only file on disk: {}",
                strerror(&e)
            );
            return Outcome::Failed;
        }
    };
    let dest = spec.dir.join(&spec.filename);
    if let Err(e) = std::fs::rename(&tmp, &dest).and_then(|()| fsync_dir(&dest)) {
        tracing::warn!(
            "Error moving temp append only file on the final destination: {}",
            strerror(&e)
        );
        let _ = std::fs::remove_file(&tmp);
        return Outcome::Failed;
    }
    if spec.filename.starts_with("temp-") {
        // A background rewrite's (the start-up BASE is logged by its caller).
        tracing::info!(
            "Successfully created the temporary AOF base file {}",
            spec.filename
        );
    }
    written
}

/// The records as commands into `out`; None when cancelled.
pub(super) fn write_commands(
    out: io::BufWriter<File>,
    timestamps: bool,
    functions: &[bytes::Bytes],
    src: &FlatSource,
    shared: &Shared,
) -> io::Result<Option<Outcome>> {
    let mut enc = CommandEncoder::new(out);
    if timestamps {
        encode_timestamp(&mut enc.buf, crate::keyspace::now_ms() / 1000);
    }
    for code in functions {
        enc.function_load(code)?;
    }
    let keys = each_record(src, shared, |r, key, bytes, big| {
        match (&r.value, big) {
            (FlatValue::Int(n), _) => {
                let mut v = Vec::new();
                push_int(&mut v, *n);
                enc.string(r.db, key, &v, r.expire_ms)?
            }
            (FlatValue::Bytes(start, end), _) => {
                enc.string(r.db, key, &bytes[*start..*end], r.expire_ms)?
            }
            (FlatValue::Other(v), _) => enc.value(r.db, key, v, r.expire_ms)?,
            (FlatValue::BigDone { kind, len, .. }, Some(p)) => {
                let items = big_items(*kind, *len, &p);
                if items.is_empty() {
                    // Never (a big value has elements): no command would
                    // make an empty key anyway.
                    return Ok(false);
                }
                enc.big(r.db, key, *kind, &items, r.expire_ms)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let Some(keys) = keys else {
        return Ok(None);
    };
    let out = enc.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(Some(Outcome::Saved { keys, bytes }))
}

/// Lays keys out as commands into `W`.
pub struct CommandEncoder<W: Write> {
    out: W,
    pub buf: Vec<u8>,
    db: Option<usize>,
}

const CHUNK: usize = 256 * 1024;

impl<W: Write> CommandEncoder<W> {
    pub fn new(out: W) -> Self {
        CommandEncoder {
            out,
            buf: Vec::with_capacity(CHUNK + 1024),
            db: None,
        }
    }

    fn select(&mut self, db: usize) {
        if self.db != Some(db) {
            encode_select(&mut self.buf, db);
            self.db = Some(db);
        }
    }

    fn bulk(&mut self, b: &[u8]) {
        self.buf.push(b'$');
        push_int(&mut self.buf, b.len() as i64);
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn head(&mut self, n: usize, cmd: &[u8], key: &[u8]) {
        self.buf.push(b'*');
        push_int(&mut self.buf, n as i64);
        self.buf.extend_from_slice(b"\r\n");
        self.bulk(cmd);
        self.bulk(key);
    }

    /// One command of any arguments.
    fn command(&mut self, args: &[&[u8]]) {
        self.buf.push(b'*');
        push_int(&mut self.buf, args.len() as i64);
        self.buf.extend_from_slice(b"\r\n");
        for a in args {
            self.bulk(a);
        }
    }

    /// `FUNCTION LOAD <code>`: a library, as rewriteFunctions writes it.
    pub fn function_load(&mut self, code: &[u8]) -> io::Result<()> {
        self.head(3, b"FUNCTION", b"LOAD");
        self.bulk(code);
        self.spill(false)
    }

    fn expire(&mut self, key: &[u8], expire_ms: i64) -> io::Result<()> {
        if expire_ms != 0 {
            self.head(3, b"PEXPIREAT", key);
            let mut v = Vec::new();
            push_int(&mut v, expire_ms);
            self.bulk(&v);
        }
        self.spill(false)
    }

    /// A string key: SET.
    pub fn string(&mut self, db: usize, key: &[u8], v: &[u8], expire_ms: i64) -> io::Result<()> {
        self.select(db);
        self.head(3, b"SET", key);
        self.bulk(v);
        self.expire(key, expire_ms)
    }

    /// `items` (each `per` arguments) as commands of at most
    /// `ITEMS_PER_CMD` items.
    fn batched<'a>(
        &mut self,
        cmd: &[u8],
        key: &[u8],
        count: usize,
        per: usize,
        items: impl Iterator<Item = Vec<std::borrow::Cow<'a, [u8]>>>,
    ) -> io::Result<()> {
        let mut left = count;
        let mut in_cmd = 0;
        for item in items {
            if in_cmd == 0 {
                let n = left.min(ITEMS_PER_CMD);
                self.head(2 + n * per, cmd, key);
                in_cmd = n;
            }
            for a in &item {
                self.bulk(a);
            }
            in_cmd -= 1;
            left = left.saturating_sub(1);
            if in_cmd == 0 {
                self.spill(false)?;
            }
        }
        Ok(())
    }

    /// Any value.
    pub fn value(&mut self, db: usize, key: &[u8], v: &Value, expire_ms: i64) -> io::Result<()> {
        use std::borrow::Cow;
        self.select(db);
        match v {
            Value::Str(s) => {
                let b = s.to_bytes();
                return self.string(db, key, &b, expire_ms);
            }
            Value::List(l) => {
                let items = l.iter().map(|e| {
                    vec![match e {
                        Elem::Int(n) => Cow::Owned(n.to_string().into_bytes()),
                        Elem::Bytes(b) => Cow::Borrowed(b),
                    }]
                });
                self.batched(b"RPUSH", key, l.len(), 1, items)?;
            }
            Value::Set(s) => {
                let items = s.members().map(|m| {
                    vec![match m {
                        crate::keyspace::set::Member::Int(n) => {
                            Cow::Owned(n.to_string().into_bytes())
                        }
                        crate::keyspace::set::Member::Bytes(b) => Cow::Borrowed(b),
                    }]
                });
                self.batched(b"SADD", key, s.len(), 1, items)?;
            }
            Value::ZSet(z) => {
                let items = z.iter().map(|(m, sc)| {
                    vec![Cow::Owned(format_double(sc).into_bytes()), Cow::Borrowed(m)]
                });
                self.batched(b"ZADD", key, z.len(), 2, items)?;
            }
            Value::Hash(h) if h.has_volatile_fields() => self.volatile_hash(key, h)?,
            Value::Hash(h) => {
                let items = h
                    .iter()
                    .map(|(f, v)| vec![Cow::Borrowed(f), Cow::Borrowed(v)]);
                self.batched(b"HMSET", key, h.len(), 2, items)?;
            }
            Value::Stream(s) => {
                super::stream::aof_commands(key, s, |args| self.command(args));
                self.spill(false)?;
            }
        }
        self.expire(key, expire_ms)
    }

    /// A hash with field TTLs, as Valkey 9 rewrites it: the fields without
    /// a TTL in HMSETs, then each field with one as `HSETEX key PXAT ms
    /// FIELDS 1 field value`.
    fn volatile_hash(&mut self, key: &[u8], h: &crate::keyspace::hash::Hash) -> io::Result<()> {
        use std::borrow::Cow;
        let plain = h.len() - h.volatile_count();
        if plain > 0 {
            let items = h
                .iter()
                .filter(|(f, _)| h.field_expiry(f).flatten().is_none())
                .map(|(f, v)| vec![Cow::Borrowed(f), Cow::Borrowed(v)]);
            self.batched(b"HMSET", key, plain, 2, items)?;
        }
        for (f, when) in h.field_ttls() {
            let Some(v) = h.get(f) else { continue };
            self.head(8, b"HSETEX", key);
            self.bulk(b"PXAT");
            let mut ms = Vec::new();
            push_int(&mut ms, when);
            self.bulk(&ms);
            self.bulk(b"FIELDS");
            self.bulk(b"1");
            self.bulk(f);
            self.bulk(v);
            self.spill(false)?;
        }
        Ok(())
    }

    /// A big value copied in parts (`rdb_write::big_items`).
    fn big(
        &mut self,
        db: usize,
        key: &[u8],
        kind: BigKind,
        items: &[Item<'_>],
        expire_ms: i64,
    ) -> io::Result<()> {
        use std::borrow::Cow;
        self.select(db);
        let (cmd, per): (&[u8], usize) = match kind {
            BigKind::List => (b"RPUSH", 1),
            BigKind::Set => (b"SADD", 1),
            BigKind::Hash => (b"HMSET", 2),
            BigKind::ZSet => (b"ZADD", 2),
        };
        let args = items.iter().map(|i| match i {
            Item::One(m) => vec![Cow::Borrowed(*m)],
            Item::Pair(f, v) => vec![Cow::Borrowed(*f), Cow::Borrowed(*v)],
            Item::Scored(m, sc) => vec![
                Cow::Owned(format_double(*sc).into_bytes()),
                Cow::Borrowed(*m),
            ],
        });
        self.batched(cmd, key, items.len(), per, args)?;
        self.expire(key, expire_ms)
    }

    fn spill(&mut self, force: bool) -> io::Result<()> {
        if self.buf.len() >= CHUNK || (force && !self.buf.is_empty()) {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.spill(true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The commands of one value, for tests: `argv`s as they would be read
/// back.
#[cfg(test)]
fn parse_commands(mut b: &[u8]) -> Vec<Vec<Bytes>> {
    let mut out = Vec::new();
    let line = |b: &mut &[u8]| -> Vec<u8> {
        let i = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let l = b[..i].to_vec();
        *b = &b[i + 2..];
        l
    };
    while !b.is_empty() {
        let head = line(&mut b);
        if head.starts_with(b"#") {
            continue;
        }
        let n: usize = std::str::from_utf8(&head[1..]).unwrap().parse().unwrap();
        let mut argv = Vec::new();
        for _ in 0..n {
            let l = line(&mut b);
            let len: usize = std::str::from_utf8(&l[1..]).unwrap().parse().unwrap();
            argv.push(Bytes::copy_from_slice(&b[..len]));
            b = &b[len + 2..];
        }
        out.push(argv);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::rdb_write::Partial;

    fn words(c: &[Bytes]) -> Vec<String> {
        c.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn values_become_batched_commands_with_select_and_pexpireat() {
        let mut enc = CommandEncoder::new(Vec::new());
        enc.string(0, b"s", b"v", 0).unwrap();
        let mut list = crate::keyspace::list::List::new();
        let items: Vec<String> = (0..130).map(|i| i.to_string()).collect();
        list.push_args(false, &items, -2);
        enc.value(2, b"l", &Value::List(Box::new(list)), 1234)
            .unwrap();
        let out = enc.finish().unwrap();
        let cmds = parse_commands(&out);
        let w: Vec<Vec<String>> = cmds.iter().map(|c| words(c)).collect();
        assert_eq!(w[0], ["SELECT", "0"]);
        assert_eq!(w[1], ["SET", "s", "v"]);
        assert_eq!(w[2], ["SELECT", "2"]);
        assert_eq!(w[3].len(), 2 + 64);
        assert_eq!(&w[3][..3], ["RPUSH", "l", "0"]);
        assert_eq!(w[4].len(), 2 + 64);
        assert_eq!(w[5], ["RPUSH", "l", "128", "129"]);
        assert_eq!(w[6], ["PEXPIREAT", "l", "1234"]);
        assert_eq!(w.len(), 7);
    }

    #[test]
    fn function_libraries_are_function_loads_before_the_keys() {
        let mut enc = CommandEncoder::new(Vec::new());
        enc.function_load(b"#!lua name=a\nreturn").unwrap();
        enc.string(0, b"s", b"v", 0).unwrap();
        let out = enc.finish().unwrap();
        assert!(out.starts_with(
            b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$19\r\n#!lua name=a\nreturn\r\n*2\r\n$6\r\nSELECT"
        ));
        let w: Vec<Vec<String>> = parse_commands(&out).iter().map(|c| words(c)).collect();
        assert_eq!(w[0], ["FUNCTION", "LOAD", "#!lua name=a\nreturn"]);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn big_values_from_parts_become_commands_without_repeats() {
        use crate::keyspace::snapshot::frame;
        // A set scanned across a rehash: "b" twice, 3 members at the start.
        let mut p = Partial::default();
        for m in ["a", "b", "c", "b"] {
            frame::put(&mut p.bytes, m.as_bytes());
        }
        p.count = 4;
        let mut enc = CommandEncoder::new(Vec::new());
        let items = big_items(BigKind::Set, 3, &p);
        enc.big(1, b"s", BigKind::Set, &items, 99).unwrap();
        // A zset of 100 members: two ZADDs, score first.
        let mut q = Partial::default();
        for i in 0..100 {
            frame::put(&mut q.bytes, format!("m{i}").as_bytes());
            frame::put_score(&mut q.bytes, i as f64 / 2.0);
        }
        q.count = 100;
        let items = big_items(BigKind::ZSet, 100, &q);
        enc.big(1, b"z", BigKind::ZSet, &items, 0).unwrap();
        let w: Vec<Vec<String>> = parse_commands(&enc.finish().unwrap())
            .iter()
            .map(|c| words(c))
            .collect();
        assert_eq!(w[0], ["SELECT", "1"]);
        assert_eq!(w[1], ["SADD", "s", "a", "b", "c"]);
        assert_eq!(w[2], ["PEXPIREAT", "s", "99"]);
        assert_eq!(w[3].len(), 2 + 64 * 2);
        assert_eq!(&w[3][..4], ["ZADD", "z", "0", "m0"]);
        assert_eq!(w[4].len(), 2 + 36 * 2);
        assert_eq!(&w[4][w[4].len() - 2..], ["49.5", "m99"]);
        assert_eq!(w.len(), 5);
    }
}
