//! Tests of the streaming RDB parser on files built here byte by byte:
//! opcodes, version rules, checksums, truncation and bit flips at every
//! offset, records larger than the buffer, and reads that come in dribbles;
//! and a file Valkey 9.1 wrote with function libraries.

use super::*;
use crate::persist::codec::{write_len, write_string};
use crate::persist::crc64;
use crate::persist::functions_dump::fixtures::{valkey_order, LIB2, MYLIB, RDB};

fn opts() -> Options {
    Options {
        limits: Limits::valkey_defaults(),
        databases: 16,
        check_crc: true,
        relaxed: false,
    }
}

/// A file: header, the body as given, EOF and the CRC-64 of it all.
fn file(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut f = header.to_vec();
    f.extend_from_slice(body);
    f.push(OP_EOF);
    let crc = crc64(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

fn aux(out: &mut Vec<u8>, k: &str, v: &str) {
    out.push(OP_AUX);
    write_string(out, k.as_bytes(), false);
    write_string(out, v.as_bytes(), false);
}

fn string_key(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    out.push(object::TYPE_STRING);
    write_string(out, k, false);
    write_string(out, v, true);
}

fn function(out: &mut Vec<u8>, code: &[u8]) {
    out.push(OP_FUNCTION2);
    write_string(out, code, true);
}

/// A body with aux fields, two function libraries, two dbs, every per-key
/// opcode.
fn sample_body() -> Vec<u8> {
    let mut b = Vec::new();
    aux(&mut b, "redis-ver", "7.2.0");
    aux(&mut b, "used-mem", "1048576");
    function(&mut b, LIB2);
    function(&mut b, MYLIB);
    b.push(OP_SELECTDB);
    write_len(&mut b, 0);
    b.push(OP_RESIZEDB);
    write_len(&mut b, 3);
    write_len(&mut b, 1);
    string_key(&mut b, b"a", b"1");
    b.push(OP_EXPIRETIME_MS);
    b.extend_from_slice(&4102444800000i64.to_le_bytes());
    string_key(&mut b, b"ttl", &[b'x'; 100]);
    b.push(OP_FREQ);
    b.push(7);
    b.push(OP_IDLE);
    write_len(&mut b, 99);
    b.push(object::TYPE_SET_INTSET);
    write_string(&mut b, b"k", false);
    write_string(
        &mut b,
        &crate::persist::compact::intset_blob(&[1, 2, 3]),
        false,
    );
    b.push(OP_SLOT_INFO);
    for n in [1, 2, 3] {
        write_len(&mut b, n);
    }
    b.push(OP_SELECTDB);
    write_len(&mut b, 5);
    b.push(OP_EXPIRETIME);
    b.extend_from_slice(&2_000_000_000i32.to_le_bytes());
    string_key(&mut b, b"secs", b"v");
    b
}

struct Seen {
    db: usize,
    key: Vec<u8>,
    value: Option<Value>,
    expire: Option<i64>,
    freq: Option<u8>,
    idle: Option<u64>,
    hint: Option<u64>,
}

fn read_all<R: Read>(r: R, size: u64, o: Options) -> Result<(Vec<Seen>, RdbReader<R>)> {
    let mut rd = RdbReader::new(r, size, "test.rdb", o)?;
    let mut out = Vec::new();
    while let Some(rec) = rd.next_key()? {
        out.push(Seen {
            db: rec.db,
            key: rec.key.to_vec(),
            value: rec.value,
            expire: rec.expire_ms,
            freq: rec.freq,
            idle: rec.idle,
            hint: rec.size_hint,
        });
    }
    Ok((out, rd))
}

fn parse(f: &[u8], o: Options) -> Result<Vec<Seen>> {
    read_all(f, f.len() as u64, o).map(|x| x.0)
}

#[test]
fn reads_records_and_opcodes() {
    let f = file(b"REDIS0011", &sample_body());
    let (seen, rd) = read_all(&f[..], f.len() as u64, opts()).unwrap();
    assert_eq!(rd.checksum, Some(Checksum::Ok));
    assert_eq!(rd.used_mem.load(Ordering::Relaxed), 1048576);
    assert_eq!(rd.progress.load(Ordering::Relaxed), f.len() as u64);
    assert_eq!(rd.aux.len(), 2);
    assert_eq!((rd.keys_read, rd.expires), (4, 2));
    // The libraries, at their opcodes' offsets (after the two AUX fields).
    let libs: Vec<(u64, &[u8])> = rd.functions.iter().map(|(at, c)| (*at, &c[..])).collect();
    let mut head = b"REDIS0011".to_vec();
    aux(&mut head, "redis-ver", "7.2.0");
    aux(&mut head, "used-mem", "1048576");
    let first = head.len() as u64;
    let mut lib2 = Vec::new();
    write_string(&mut lib2, LIB2, true);
    assert!(lib2.len() < LIB2.len(), "stored compressed");
    assert_eq!(
        libs,
        [(first, LIB2), (first + 1 + lib2.len() as u64, MYLIB)]
    );
    assert_eq!(f[first as usize], OP_FUNCTION2);
    let keys: Vec<_> = seen.iter().map(|s| (s.db, s.key.clone())).collect();
    assert_eq!(
        keys,
        [
            (0, b"a".to_vec()),
            (0, b"ttl".to_vec()),
            (0, b"k".to_vec()),
            (5, b"secs".to_vec())
        ]
    );
    assert_eq!(
        seen[0].value,
        Some(Value::Str(crate::keyspace::Str::Int(1)))
    );
    // RESIZEDB's hint comes with the next key only.
    assert_eq!((seen[0].hint, seen[1].hint), (Some(3), None));
    assert_eq!(seen[1].expire, Some(4102444800000));
    assert_eq!(
        seen[1].value.as_ref().map(|v| v.type_name()),
        Some("string")
    );
    assert_eq!((seen[2].freq, seen[2].idle), (Some(7), Some(99)));
    assert_eq!(seen[2].value.as_ref().map(|v| v.type_name()), Some("set"));
    // Per-key opcodes do not carry over to the next key.
    assert_eq!((seen[3].freq, seen[3].idle), (None, None));
    assert_eq!(seen[3].expire, Some(2_000_000_000_000));
}

#[test]
fn checksum_rules() {
    let mut f = file(b"REDIS0011", &sample_body());
    let n = f.len();
    // Stored 0: saved without a checksum, not checked.
    f[n - 8..].fill(0);
    let (_, rd) = read_all(&f[..], n as u64, opts()).unwrap();
    assert_eq!(rd.checksum, Some(Checksum::Disabled));
    // A wrong one is refused, unless checking is off.
    f[n - 8] = 1;
    let e = parse(&f, opts()).err().unwrap();
    assert_eq!(
        (e.failure, e.what.as_str()),
        (Failure::Checksum, "RDB CRC error")
    );
    assert_eq!(e.offset, n as u64 - 8);
    let o = Options {
        check_crc: false,
        ..opts()
    };
    let (_, rd) = read_all(&f[..], n as u64, o).unwrap();
    assert_eq!(rd.checksum, Some(Checksum::NotChecked));
    // Before version 5 there is no checksum at all.
    let mut old = b"REDIS0004".to_vec();
    string_key(&mut old, b"k", b"v");
    old.push(OP_EOF);
    let (seen, rd) = read_all(&old[..], old.len() as u64, opts()).unwrap();
    assert_eq!((seen.len(), rd.checksum), (1, Some(Checksum::NotChecked)));
}

#[test]
fn version_rules() {
    let body = sample_body();
    for h in [
        &b"REDIS0001"[..],
        b"REDIS0009",
        b"REDIS0010",
        b"REDIS0011",
        b"VALKEY080",
    ] {
        assert!(parse(&file(h, &body), opts()).is_ok(), "{h:?}");
    }
    let relaxed = Options {
        relaxed: true,
        ..opts()
    };
    for h in [
        &b"REDIS0013"[..],
        b"REDIS0000",
        b"VALKEY011",
        b"REDIS0080",
        b"VALKEY081",
        b"REDIS0x11",
    ] {
        let e = parse(&file(h, &body), opts()).err().unwrap();
        assert_eq!(e.failure, Failure::Refused, "{h:?}");
        assert!(e.what.starts_with("Can't handle RDB format version"), "{e}");
    }
    assert_eq!(
        parse(&file(b"REDIS0013", &body), opts())
            .err()
            .unwrap()
            .what,
        "Can't handle RDB format version 13"
    );
    // Redis 7.4's version 12 loads in either mode (its own types do not).
    assert!(parse(&file(b"REDIS0012", &body), opts()).is_ok());
    // Relaxed: later versions and a future Valkey version load.
    assert!(parse(&file(b"REDIS0012", &body), relaxed).is_ok());
    assert!(parse(&file(b"REDIS0013", &body), relaxed).is_ok());
    assert!(parse(&file(b"VALKEY081", &body), relaxed).is_ok());
    assert!(parse(&file(b"VALKEY011", &body), relaxed).is_err());
    let e = parse(&file(b"RADIS0011", &body), opts()).err().unwrap();
    assert_eq!(e.what, "Wrong signature trying to load DB from file");
    // A type the forks use differently is refused in a REDIS file...
    let mut b = Vec::new();
    b.push(object::TYPE_HASH_2);
    write_string(&mut b, b"k", false);
    let e = parse(&file(b"REDIS0012", &b), relaxed).err().unwrap();
    assert_eq!(e.failure, Failure::Refused);
    assert_eq!(
        e.what,
        "Can't handle foreign type or opcode 22 in RDB with version 12"
    );
    // ... and in a VALKEY file it is Valkey's hash with field TTLs: one
    // field "f" = "v" expiring at 1900000000000 ms.
    write_len(&mut b, 1);
    write_string(&mut b, b"f", false);
    write_string(&mut b, b"v", false);
    b.extend_from_slice(&1_900_000_000_000i64.to_le_bytes());
    let seen = parse(&file(b"VALKEY080", &b), opts()).unwrap();
    assert_eq!(seen.len(), 1);
}

#[test]
fn refusals_name_what_and_where() {
    // Too many dbs.
    let mut b = vec![OP_SELECTDB];
    write_len(&mut b, 16);
    let e = parse(&file(b"REDIS0011", &b), opts()).err().unwrap();
    assert_eq!((e.failure, e.offset), (Failure::TooManyDbs, 9));
    // Module AUX data and functions.
    let e = parse(&file(b"REDIS0011", &[OP_MODULE_AUX, 1, 2, 0]), opts())
        .err()
        .unwrap();
    assert_eq!(e.failure, Failure::Unsupported);
    assert!(e.what.contains("AUX module data"), "{e}");
    let e = parse(&file(b"REDIS0011", &[OP_FUNCTION_PRE_GA, 1, b'x']), opts())
        .err()
        .unwrap();
    assert_eq!((e.failure, e.offset), (Failure::Unsupported, 9));
    assert_eq!(e.what, "Pre-release function format not supported.");
    // An unknown opcode; a corrupt value, with its key and type.
    let e = parse(&file(b"REDIS0011", &[8]), opts()).err().unwrap();
    assert_eq!((e.failure, e.offset), (Failure::Corrupt, 9));
    let mut b = vec![object::TYPE_HASH_ZIPLIST];
    write_string(&mut b, b"key1", false);
    write_string(&mut b, b"not a ziplist", false);
    let e = parse(&file(b"REDIS0011", &b), opts()).err().unwrap();
    assert_eq!(e.failure, Failure::Corrupt);
    assert!(
        e.what.contains("Hash ziplist integrity check failed"),
        "{e}"
    );
    assert_eq!(e.key.as_deref(), Some(&b"key1"[..]));
    assert_eq!(e.rdb_type, Some(13));
    assert_eq!(type_name(13), "hash-ziplist");
    assert_eq!(
        e.to_string(),
        format!("test.rdb: at offset {}: {}", e.offset, e.what)
    );
}

#[test]
fn broken_function_libraries_name_file_and_offset() {
    // Announced longer than the file: truncated, at the string.
    let mut b = vec![OP_FUNCTION2];
    write_len(&mut b, 1000);
    b.extend_from_slice(b"#!lua name=x");
    let e = parse(&file(b"REDIS0011", &b), opts()).err().unwrap();
    assert_eq!((e.failure, e.offset), (Failure::Truncated, 10), "{e}");
    assert!(e.what.starts_with("Unexpected EOF reading RDB file"), "{e}");
    assert_eq!(e.doing, "read-functions");
    assert!(e.to_string().starts_with("test.rdb: at offset 10: "), "{e}");
    // A length encoding that does not exist, and a string encoding.
    let e = parse(&file(b"REDIS0011", &[OP_FUNCTION2, 0x82, 0]), opts())
        .err()
        .unwrap();
    assert_eq!((e.failure, e.offset), (Failure::Corrupt, 10), "{e}");
    assert!(e.what.contains("unknown length encoding 0x82"), "{e}");
    let e = parse(&file(b"REDIS0011", &[OP_FUNCTION2, 0xc9, 0]), opts())
        .err()
        .unwrap();
    assert_eq!((e.failure, e.offset), (Failure::Corrupt, 10), "{e}");
    // LZF data that does not decompress to its announced length.
    let e = parse(
        &file(b"REDIS0011", &[OP_FUNCTION2, 0xc3, 2, 10, 0x01, b'a']),
        opts(),
    )
    .err()
    .unwrap();
    assert_eq!((e.failure, e.offset), (Failure::Corrupt, 10), "{e}");
    assert_eq!(e.doing, "read-functions");
}

/// tests/data/functions/valkey-9.1-functions.rdb: written by Valkey 9.1.2
/// (SAVE) holding lib2 and mylib, and keys k1 and l in db 0, k2 in db 2
/// (made by tests/data/functions/make_fixtures.py).
#[test]
fn a_valkey_file_with_functions() {
    let f = RDB;
    let (seen, rd) = read_all(f, f.len() as u64, opts()).unwrap();
    assert_eq!(rd.checksum, Some(Checksum::Ok));
    let codes: Vec<&[u8]> = rd.functions.iter().map(|(_, c)| &c[..]).collect();
    assert_eq!(codes, valkey_order());
    // Right after the AUX fields (aof-base the last), before SELECTDB.
    let after_aux = f
        .windows(12)
        .position(|w| w == b"\xfa\x08aof-base\xc0\x00")
        .unwrap()
        + 12;
    assert_eq!(rd.functions[0].0, after_aux as u64);
    let keys: Vec<_> = seen.iter().map(|s| (s.db, s.key.clone())).collect();
    assert_eq!(
        keys,
        [(0, b"k1".to_vec()), (0, b"l".to_vec()), (2, b"k2".to_vec())]
    );
}

#[test]
fn empty_collections_are_skipped() {
    let mut b = Vec::new();
    for t in [
        object::TYPE_SET,
        object::TYPE_LIST,
        object::TYPE_ZSET_2,
        object::TYPE_HASH,
    ] {
        b.push(t);
        write_string(&mut b, format!("empty{t}").as_bytes(), false);
        write_len(&mut b, 0);
    }
    string_key(&mut b, b"k", b"v");
    let seen = parse(&file(b"REDIS0011", &b), opts()).unwrap();
    assert_eq!(seen.len(), 5);
    assert!(seen[..4].iter().all(|s| s.value.is_none()));
    assert!(seen[4].value.is_some());
}

#[test]
fn every_truncation_is_reported_as_such() {
    let f = file(b"REDIS0011", &sample_body());
    for cut in 0..f.len() {
        let e = parse(&f[..cut], opts())
            .err()
            .expect("a truncated file fails");
        if cut >= 9 {
            assert_eq!(e.failure, Failure::Truncated, "cut at {cut}: {e}");
            assert!(e.what.starts_with("Unexpected EOF reading RDB file"), "{e}");
            assert!(e.offset <= cut as u64, "cut at {cut}: {e}");
        }
        // The file as announced by its metadata, but shorter on disk.
        let e = read_all(&f[..cut], f.len() as u64, opts()).err().unwrap();
        assert!(
            matches!(e.failure, Failure::Truncated | Failure::Refused),
            "{e}"
        );
    }
}

#[test]
fn bit_flips_never_panic() {
    let f = file(b"VALKEY080", &sample_body());
    for i in 0..f.len() {
        for bit in [0x01, 0x10, 0x80] {
            let mut g = f.clone();
            g[i] ^= bit;
            // With the checksum on, no flip past the header goes unnoticed.
            if i >= 9 {
                assert!(parse(&g, opts()).is_err(), "flip at {i}");
            }
            let _ = parse(
                &g,
                Options {
                    check_crc: false,
                    ..opts()
                },
            );
        }
    }
}

/// Reads at most 3 bytes at a time.
struct Dribble<'a>(&'a [u8]);

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(3).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn large_records_and_short_reads() {
    let mut b = Vec::new();
    // Larger than the first chunk: the buffer grows for it.
    let big: Vec<u8> = (0..3 * CHUNK).map(|i| (i * 31 % 251) as u8).collect();
    string_key(&mut b, b"big", &big);
    let mut list = vec![object::TYPE_LIST];
    write_string(&mut list, b"list", false);
    write_len(&mut list, 50_000);
    for i in 0..50_000 {
        write_string(&mut list, format!("element-{i}").as_bytes(), false);
    }
    b.extend_from_slice(&list);
    for i in 0..1000 {
        string_key(&mut b, format!("k{i}").as_bytes(), b"v");
    }
    let f = file(b"REDIS0011", &b);
    let (seen, rd) = read_all(&f[..], f.len() as u64, opts()).unwrap();
    assert_eq!(seen.len(), 1002);
    assert_eq!(rd.checksum, Some(Checksum::Ok));
    match &seen[0].value {
        Some(Value::Str(s)) => assert_eq!(s.to_bytes(), big),
        _ => panic!("not a string"),
    }
    match &seen[1].value {
        Some(Value::List(l)) => assert_eq!(l.len(), 50_000),
        _ => panic!("not a list"),
    }
    // The buffer never held much more than the largest record.
    assert!(rd.src.buf.len() <= f.len(), "{}", rd.src.buf.len());
    // The same through 3-byte reads.
    let (seen, rd) = read_all(Dribble(&f), f.len() as u64, opts()).unwrap();
    assert_eq!((seen.len(), rd.checksum), (1002, Some(Checksum::Ok)));
}

#[test]
fn announced_sizes_past_the_file_are_truncation() {
    // A string of 2^40 bytes, a list of 2^60 items: refused from their
    // headers, nothing sized from them.
    let mut b = vec![object::TYPE_STRING];
    write_string(&mut b, b"k", false);
    write_len(&mut b, 1 << 40);
    let e = parse(&file(b"REDIS0011", &b), opts()).err().unwrap();
    assert_eq!(e.failure, Failure::Truncated, "{e}");
    let mut b = vec![object::TYPE_LIST];
    write_string(&mut b, b"k", false);
    write_len(&mut b, 1 << 60);
    let e = parse(&file(b"REDIS0011", &b), opts()).err().unwrap();
    assert_eq!(e.failure, Failure::Truncated, "{e}");
    assert_eq!(e.key.as_deref(), Some(&b"k"[..]));
}

#[test]
fn empty_value_errors_are_recognised() {
    let lim = opts().limits;
    for v in [
        &b"\x02\x00"[..],
        b"\x01\x00",
        b"\x04\x00",
        b"\x05\x00",
        b"\x0e\x00",
    ] {
        let mut r = Reader::new(v);
        let t = object::read_type(&mut r).unwrap();
        let e = read_value(&mut r, t, &lim).err().unwrap();
        assert!(is_empty_value(&e), "{v:?}: {e}");
    }
    let mut r = Reader::new(b"\x0b\x00");
    let t = object::read_type(&mut r).unwrap();
    assert!(!is_empty_value(&read_value(&mut r, t, &lim).err().unwrap()));
}

#[test]
fn info_fields_follow_valkeys_formulas() {
    let p = LoadProgress {
        start_unix: 1000,
        total_bytes: 657877,
        loaded_bytes: std::sync::Arc::new(80893.into()),
        rdb_used_mem: std::sync::Arc::new(4089368.into()),
    };
    let f = p.info_fields(1001);
    assert_eq!(f[4], ("loading_loaded_perc", "12.30".into()));
    assert_eq!(f[5], ("loading_eta_seconds", "7".into()));
    assert_eq!(f[2], ("loading_rdb_used_mem", "4089368".into()));
    // Nothing elapsed yet: a fake 1 second, as Valkey says.
    assert_eq!(p.info_fields(1000)[5].1, "1");
}
