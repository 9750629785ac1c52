//! The writer's layout, read back with the codec's `Reader`.

use super::*;
use crate::keyspace::list::{Elem, List};
use crate::keyspace::{Str, Value};
use crate::persist::codec::Reader;
use crate::persist::object::{read_type, read_value, Limits};

fn limits() -> Limits {
    Limits::valkey_defaults()
}

/// What a file holds: aux fields, (db, key, value, expire) in file order,
/// the RESIZEDB hints, and the stored checksum.
#[derive(Default, Debug)]
struct Parsed {
    aux: Vec<(String, String)>,
    /// Function libraries, and how many keys or SELECTDBs preceded each.
    functions: Vec<(Vec<u8>, usize)>,
    keys: Vec<(usize, Vec<u8>, Value, i64)>,
    resize: Vec<(usize, u64, u64)>,
    selects: usize,
    crc: u64,
}

fn parse(file: &[u8]) -> Parsed {
    assert_eq!(&file[..9], b"REDIS0011");
    let body_end = file.len() - 8;
    let mut r = Reader::new(&file[9..body_end]);
    let mut p = Parsed::default();
    let mut db = usize::MAX;
    let mut expire = 0;
    loop {
        let op = r.byte("opcode").unwrap();
        match op {
            OP_AUX => {
                let k = r.string().unwrap();
                let v = r.string().unwrap();
                p.aux.push((
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ));
            }
            OP_FUNCTION2 => {
                let code = r.string().unwrap().into_owned();
                p.functions.push((code, p.keys.len() + p.selects));
            }
            OP_SELECTDB => {
                db = r.length("db").unwrap() as usize;
                p.selects += 1;
            }
            OP_RESIZEDB => {
                let a = r.length("keys").unwrap();
                let b = r.length("expires").unwrap();
                p.resize.push((db, a, b));
            }
            OP_EXPIRETIME_MS => expire = r.u64_le().unwrap() as i64,
            OP_EOF => break,
            t => {
                let byte = [t];
                let t = read_type(&mut Reader::new(&byte)).unwrap();
                let key = r.string().unwrap().into_owned();
                let v = read_value(&mut r, t, &limits()).unwrap();
                p.keys.push((db, key, v, std::mem::take(&mut expire)));
            }
        }
    }
    assert!(r.is_empty(), "bytes after EOF");
    p.crc = u64::from_le_bytes(file[body_end..].try_into().unwrap());
    p
}

fn aux() -> Aux {
    Aux {
        redis_ver: "7.2.4".into(),
        ctime: 1_700_000_000,
        used_mem: 123_456,
        functions: Vec::new(),
        valkey_080: false,
    }
}

fn s(b: &[u8]) -> Value {
    Value::Str(Str::from_bytes(b))
}

#[test]
fn header_aux_records_and_checksum() {
    let mut enc = Encoder::new(Vec::new(), true, true, vec![(2, 1), (0, 0), (1, 0)]);
    enc.header(&aux()).unwrap();
    let long = vec![b'a'; 500];
    let mut list = List::new();
    for i in 0..5 {
        list.push_elem(false, Elem::of(format!("e{i}").as_bytes()), -2);
    }
    enc.record(0, b"k1", &s(b"v1"), 0).unwrap();
    enc.record(2, b"k3", &s(b"12345"), 0).unwrap();
    // A saved image of db 0 coming after db 2's keys.
    enc.record(0, b"k2", &s(&long), 1_800_000_000_123).unwrap();
    enc.record(2, b"k4", &Value::List(Box::new(list)), 0)
        .unwrap();
    let file = enc.finish().unwrap();
    let p = parse(&file);
    let names: Vec<&str> = p.aux.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"]
    );
    assert_eq!(p.aux[0].1, "7.2.4");
    assert_eq!(p.aux[1].1, "64");
    assert_eq!(p.aux[2].1, "1700000000");
    assert_eq!(p.aux[3].1, "123456");
    assert_eq!(p.aux[4].1, "0");
    // RESIZEDB once per db, with the counts at the start.
    assert_eq!(p.resize, [(0, 2, 1), (2, 1, 0)]);
    assert_eq!(p.selects, 4, "a SELECTDB at each change of db");
    let got: Vec<(usize, &[u8], i64)> = p
        .keys
        .iter()
        .map(|(db, k, _, e)| (*db, k.as_slice(), *e))
        .collect();
    assert_eq!(
        got,
        [
            (0, &b"k1"[..], 0),
            (2, b"k3", 0),
            (0, b"k2", 1_800_000_000_123),
            (2, b"k4", 0)
        ]
    );
    assert_eq!(p.keys[2].2, s(&long));
    assert!(
        file.len() < 200,
        "the long value is compressed: {}",
        file.len()
    );
    match &p.keys[3].2 {
        Value::List(l) => assert_eq!(l.len(), 5),
        v => panic!("{v:?}"),
    }
    assert_eq!(p.crc, crate::persist::crc64(&file[..file.len() - 8]));
}

use crate::persist::functions_dump::fixtures::{valkey_order, LIB2, RDB};

/// `aux()` with both libraries, in the order Valkey wrote them.
fn aux_with_functions() -> Aux {
    Aux {
        functions: valkey_order()
            .into_iter()
            .map(bytes::Bytes::from_static)
            .collect(),
        ..aux()
    }
}

#[test]
fn function_libraries_follow_the_aux_fields() {
    let mut enc = Encoder::new(Vec::new(), true, true, vec![(1, 0), (0, 0), (1, 0)]);
    enc.header(&aux_with_functions()).unwrap();
    enc.record(0, b"k1", &s(b"v1"), 0).unwrap();
    enc.record(2, b"k2", &s(b"v2"), 0).unwrap();
    let file = enc.finish().unwrap();
    let p = parse(&file);
    assert_eq!(p.aux.len(), 5);
    let want: Vec<(Vec<u8>, usize)> = valkey_order().iter().map(|c| (c.to_vec(), 0)).collect();
    assert_eq!(p.functions, want, "both before the first SELECTDB");
    assert_eq!(p.keys.len(), 2);
    assert_eq!(p.crc, crate::persist::crc64(&file[..file.len() - 8]));
    // The records are the bytes Valkey 9.1 wrote for the same libraries,
    // between its AUX fields and its first SELECTDB (LZF-compressed lib2).
    let section = |f: &[u8]| {
        let tail = b"\xfa\x08aof-base\xc0\x00";
        let from = f.windows(tail.len()).position(|w| w == tail).unwrap() + tail.len();
        let to = from + f[from..].iter().position(|&b| b == OP_SELECTDB).unwrap();
        f[from..to].to_vec()
    };
    let ours = section(&file);
    assert_eq!(ours, section(RDB));
    assert_eq!(ours[0], OP_FUNCTION2);
    // And the file reads back with its libraries.
    let opts = crate::persist::rdb_read::Options {
        limits: limits(),
        databases: 16,
        check_crc: true,
        relaxed: false,
    };
    let mut rd =
        crate::persist::rdb_read::RdbReader::new(&file[..], file.len() as u64, "t", opts).unwrap();
    let mut keys = 0;
    while rd.next_key().unwrap().is_some() {
        keys += 1;
    }
    let codes: Vec<&[u8]> = rd.functions.iter().map(|(_, c)| &c[..]).collect();
    assert_eq!((keys, codes), (2, valkey_order()));
}

#[test]
fn no_functions_no_bytes() {
    // Without libraries the file is magic, the five AUX fields, EOF, CRC.
    let mut enc = Encoder::new(Vec::new(), true, true, vec![(0, 0)]);
    enc.header(&aux()).unwrap();
    let file = enc.finish().unwrap();
    let mut want = b"REDIS0011".to_vec();
    for (k, v) in [
        ("redis-ver", "7.2.4"),
        ("redis-bits", "64"),
        ("ctime", "1700000000"),
        ("used-mem", "123456"),
        ("aof-base", "0"),
    ] {
        want.push(OP_AUX);
        write_string(&mut want, k.as_bytes(), true);
        write_string(&mut want, v.as_bytes(), true);
    }
    want.push(OP_EOF);
    want.extend_from_slice(&crate::persist::crc64(&want).to_le_bytes());
    assert_eq!(file, want);
    // Uncompressed: the code is stored as it is.
    let mut enc = Encoder::new(Vec::new(), false, true, vec![(0, 0)]);
    enc.header(&aux_with_functions()).unwrap();
    let file = enc.finish().unwrap();
    assert!(file.windows(LIB2.len()).any(|w| w == LIB2));
    assert_eq!(parse(&file).functions.len(), 2);
}

#[test]
fn no_checksum_and_no_compression() {
    let mut enc = Encoder::new(Vec::new(), false, false, vec![(1, 0)]);
    enc.header(&aux()).unwrap();
    let long = vec![b'a'; 500];
    enc.record(0, b"k", &s(&long), 0).unwrap();
    let file = enc.finish().unwrap();
    assert!(file.len() > 500, "stored raw");
    let p = parse(&file);
    assert_eq!(p.crc, 0);
    assert_eq!(p.keys[0].2, s(&long));
}

#[test]
fn an_empty_keyspace_is_header_eof_and_crc() {
    let mut enc = Encoder::new(Vec::new(), true, true, vec![(0, 0); 16]);
    enc.header(&aux()).unwrap();
    let file = enc.finish().unwrap();
    let p = parse(&file);
    assert!(p.keys.is_empty() && p.selects == 0);
    assert_eq!(p.crc, crate::persist::crc64(&file[..file.len() - 8]));
}

fn spec(dir: &Path) -> SaveSpec {
    SaveSpec {
        dir: dir.to_path_buf(),
        filename: "out.rdb".into(),
        compress: true,
        checksum: true,
        key_delay_us: 0,
        aux: aux(),
        sizes: vec![(100, 0)],
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrokey-rdbw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_thread_writes_the_file_atomically() {
    let dir = temp_dir("ok");
    let (job, mut sink) = spawn(spec(&dir)).unwrap();
    for i in 0..100 {
        let k = format!("key:{i}");
        let v = s(format!("value {i}").as_bytes());
        while !sink.ready() {
            std::thread::yield_now();
        }
        sink.entry(Record {
            db: 0,
            key: k.as_bytes(),
            value: &v,
            expire_ms: 0,
        });
    }
    while !sink.finish() {
        std::thread::yield_now();
    }
    drop(sink);
    assert_eq!(
        job.join(),
        Outcome::Saved {
            keys: 100,
            bytes: std::fs::metadata(dir.join("out.rdb")).unwrap().len()
        }
    );
    let p = parse(&std::fs::read(dir.join("out.rdb")).unwrap());
    assert_eq!(p.keys.len(), 100);
    assert!(!dir.join(temp_name()).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cancelled_save_leaves_no_file() {
    let dir = temp_dir("cancel");
    let mut sp = spec(&dir);
    sp.key_delay_us = 1000;
    let (job, mut sink) = spawn(sp).unwrap();
    let v = s(b"x");
    for i in 0..50 {
        sink.entry(Record {
            db: 0,
            key: format!("k{i}").as_bytes(),
            value: &v,
            expire_ms: 0,
        });
    }
    sink.finish();
    job.cancel();
    // Cancelled: the sink takes (and drops) anything at once.
    assert!(sink.ready() && sink.finish());
    drop(sink);
    assert_eq!(job.join(), Outcome::Cancelled);
    assert!(!dir.join("out.rdb").exists());
    assert!(!dir.join(temp_name()).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_dir_fails_and_the_sink_drops_records() {
    let dir = temp_dir("gone");
    std::fs::remove_dir_all(&dir).unwrap();
    let (job, mut sink) = spawn(spec(&dir)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !job.is_finished() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let v = s(b"x");
    sink.entry(Record {
        db: 0,
        key: b"k",
        value: &v,
        expire_ms: 0,
    });
    assert!(sink.ready() && sink.finish());
    assert_eq!(job.join(), Outcome::Failed);
}

#[test]
fn strerror_drops_the_os_error_number() {
    let e = io::Error::from_raw_os_error(2);
    assert_eq!(strerror(&e), "No such file or directory");
}

fn read_back(out: &[u8]) -> Value {
    let mut r = Reader::new(&out[1..]);
    let t = read_type(&mut Reader::new(&out[..1])).unwrap();
    let v = read_value(&mut r, t, &limits()).unwrap();
    assert!(r.is_empty());
    v
}

#[test]
fn big_values_from_parts_drop_repeats_and_split_lists() {
    use crate::keyspace::snapshot::frame;
    // A set scanned across a rehash: "b" twice, 3 members at the start.
    let mut p = Partial::default();
    for m in ["a", "b", "c", "b"] {
        frame::put(&mut p.bytes, m.as_bytes());
    }
    frame::put_int(&mut p.bytes, -7);
    p.count = 5;
    let mut out = Vec::new();
    write_big(&mut out, BigKind::Set, 4, &p, true);
    assert_eq!(out[0], TYPE_SET);
    assert_eq!(
        read_back(&out).content(),
        r#"set [[45, 55], [97], [98], [99]]"#
    );
    // A hash and a sorted set, exactly `len` elements.
    let mut p = Partial::default();
    let mut q = Partial::default();
    for i in 0..300 {
        frame::put(&mut p.bytes, format!("f{i}").as_bytes());
        frame::put(&mut p.bytes, format!("v{i}").as_bytes());
        frame::put(&mut q.bytes, format!("m{i}").as_bytes());
        frame::put_score(&mut q.bytes, i as f64 / 3.0);
    }
    frame::put(&mut p.bytes, b"f7");
    frame::put(&mut p.bytes, b"v7");
    (p.count, q.count) = (301, 300);
    let mut out = Vec::new();
    write_big(&mut out, BigKind::Hash, 300, &p, false);
    assert_eq!(out[0], TYPE_HASH);
    let Value::Hash(h) = read_back(&out) else {
        panic!("a hash")
    };
    assert_eq!((h.len(), h.get(b"f7")), (300, Some(&b"v7"[..])));
    out.clear();
    write_big(&mut out, BigKind::ZSet, 300, &q, true);
    assert_eq!(out[0], TYPE_ZSET_2);
    let Value::ZSet(z) = read_back(&out) else {
        panic!("a zset")
    };
    assert_eq!((z.len(), z.score(b"m299")), (300, Some(299.0 / 3.0)));
    // A list: in order, 8 KiB nodes, a 20 KiB element alone in its own.
    let mut want = List::new();
    let mut p = Partial::default();
    let huge = vec![b'h'; 20_000];
    for i in 0..3000 {
        let e = if i == 1500 {
            huge.clone()
        } else {
            format!("e{i}").into_bytes()
        };
        frame::put(&mut p.bytes, &e);
        want.push_elem(false, Elem::of(&e), -2);
        p.count += 1;
    }
    out.clear();
    write_big(&mut out, BigKind::List, 3000, &p, true);
    assert_eq!(out[0], TYPE_LIST_QUICKLIST_2);
    let mut r = Reader::new(&out[1..]);
    let nodes = r.length("nodes").unwrap();
    assert!(nodes >= 5, "8 KiB nodes: {nodes}");
    let got = read_back(&out);
    assert_eq!(got.content(), Value::List(Box::new(want)).content());
}

#[test]
fn a_snapshot_with_big_values_saves_them_whole_or_as_written() {
    use crate::keyspace::snapshot::{Progress, Snapshot};
    use crate::keyspace::{hash::Hash, set, set::Set, zset, zset::ZSet, Db, Free};
    let dir = temp_dir("big");
    let mut dbs = vec![Db::new(0)];
    let slim = set::Limits {
        max_intset_entries: 0,
        max_listpack_entries: 0,
        max_listpack_value: 0,
    };
    let hlim = crate::keyspace::hash::Limits {
        max_entries: 0,
        max_value: 0,
    };
    let zlim = zset::Limits::new(0, 0);
    for k in 0..3 {
        let (mut l, mut st, mut h, mut z) = (
            List::new(),
            Set::new_hashtable(),
            Hash::new(),
            ZSet::default(),
        );
        for i in 0..2000 {
            let m = format!("m{i}");
            l.push_args(false, &[m.as_bytes()], -2);
            st.add(if i % 3 == 0 { b"12345" } else { m.as_bytes() }, &slim);
            h.set(m.as_bytes(), format!("v{i}").as_bytes(), hlim);
            z.set(m.as_bytes(), i as f64, zlim);
        }
        dbs[0].set(
            format!("l{k}").as_bytes(),
            Value::List(Box::new(l)),
            false,
            0,
        );
        dbs[0].set(
            format!("s{k}").as_bytes(),
            Value::Set(Box::new(st)),
            false,
            0,
        );
        dbs[0].set(format!("h{k}").as_bytes(), Value::Hash(h), false, 0);
        dbs[0].set(
            format!("z{k}").as_bytes(),
            Value::ZSet(Box::new(z)),
            false,
            0,
        );
    }
    dbs[0].set_expire(b"z1", 5_000_000_000_000);
    let mut want: Vec<(Vec<u8>, String, i64)> = dbs[0]
        .table()
        .iter()
        .map(|e| (e.key().to_vec(), e.value().content(), e.expire()))
        .collect();
    let mut sp = spec(&dir);
    sp.sizes = vec![(12, 1)];
    let (job, mut sink) = spawn(sp).unwrap();
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    let mut steps = 0;
    while snap.step(&mut dbs, &mut sink, std::time::Duration::ZERO) == Progress::More {
        steps += 1;
        if steps == 40 {
            // Mid-copy: one big value deleted (saved as it was), whatever
            // copy is under way dropped.
            assert!(dbs[0].delete(b"h2", 0, Free::Sync));
        }
        std::thread::yield_now();
    }
    assert!(steps > 40);
    while !sink.finish() {
        std::thread::yield_now();
    }
    drop(sink);
    assert!(matches!(job.join(), Outcome::Saved { keys: 12, .. }));
    let p = parse(&std::fs::read(dir.join("out.rdb")).unwrap());
    let mut got: Vec<(Vec<u8>, String, i64)> = p
        .keys
        .iter()
        .map(|(db, k, v, exp)| {
            assert_eq!(*db, 0);
            (k.clone(), v.content(), *exp)
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}
