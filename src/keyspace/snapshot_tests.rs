//! Snapshot tests: the records equal the keyspace image at the start, each
//! key exactly once, whatever writes, expiries, renames, moves, flushes,
//! SWAPDBs and resizes happen while it runs; memory held stays bounded.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::keyspace::db::{Access, Free};
use crate::keyspace::list::List;
use crate::keyspace::value::Str;
use crate::util::rng::Rng;

/// A value compared by content (a string's encoding may change).
#[derive(Debug, Clone, PartialEq)]
enum Norm {
    Str(Vec<u8>),
    Other(String),
}

fn norm(v: &Value) -> Norm {
    match v {
        Value::Str(s) => Norm::Str(s.to_bytes().into_owned()),
        other => Norm::Other(format!("{other:?}")),
    }
}

type Image = HashMap<(usize, Vec<u8>), (Norm, i64)>;

/// Every entry physically present, expired or not, by db.
fn image(dbs: &[Db]) -> Image {
    let mut m = Image::new();
    for (i, db) in dbs.iter().enumerate() {
        for e in db.table().iter() {
            m.insert((i, e.key().to_vec()), (norm(&e.value()), e.expire()));
        }
    }
    m
}

/// Collects records; fails on a key reported twice.
#[derive(Default)]
struct Collect {
    got: Image,
    dups: Vec<(usize, Vec<u8>)>,
    /// Accept only this many records per `ready` window, to exercise
    /// back-pressure; 0 for unlimited.
    window: usize,
    in_window: usize,
    big: Assembler,
}

impl SnapshotSink for Collect {
    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        Some(&mut self.big.buf)
    }
    fn big_part(&mut self, id: u64, start: usize, _: u64) {
        self.in_window += 1;
        self.big.part(id, start);
    }
    fn big_done(&mut self, d: BigDone<'_>) {
        let v = self.big.done(&d);
        self.entry(Record {
            db: d.db,
            key: d.key,
            value: &v,
            expire_ms: d.expire_ms,
        });
    }
    fn big_dropped(&mut self, id: u64) {
        self.big.dropped(id);
    }
    fn entry(&mut self, r: Record<'_>) {
        self.in_window += 1;
        let k = (r.db, r.key.to_vec());
        if self
            .got
            .insert(k.clone(), (norm(r.value), r.expire_ms))
            .is_some()
        {
            self.dups.push(k);
        }
    }
    fn ready(&mut self) -> bool {
        self.window == 0 || self.in_window < self.window
    }
}

fn s(v: &str) -> Value {
    Value::Str(Str::from_bytes(v.as_bytes()))
}

fn random_value(rng: &mut Rng, step: usize) -> Value {
    match rng.below(5) {
        0 => Value::Str(Str::Int(step as i64)),
        1 => s(&format!("v{step}")),
        2 => s(&format!("{step}-{}", "x".repeat(40))),
        3 => {
            let mut l = List::new();
            l.push_args(false, &[format!("e{step}"), "b".into()], -2);
            Value::List(Box::new(l))
        }
        _ => s(&"y".repeat(100 + step % 50)),
    }
}

/// Applies one random write (of any kind the keyspace has) at `now`.
fn random_write(dbs: &mut [Db], rng: &mut Rng, step: usize, now: i64, keys: usize) {
    let d = rng.below(dbs.len());
    let key = format!("k{}", rng.below(keys)).into_bytes();
    let db = &mut dbs[d];
    match rng.below(20) {
        0..=3 => {
            let v = random_value(rng, step);
            db.set(&key, v, rng.below(2) == 0, now);
        }
        4..=5 => {
            // A new key (the table grows, resizes start).
            let k = format!("n{step}").into_bytes();
            if db.lookup(&k, now, Access::WRITE).is_none() {
                db.add(&k, random_value(rng, step), now);
            }
        }
        6..=7 => {
            let free = if rng.below(2) == 0 {
                Free::Sync
            } else {
                Free::Async
            };
            db.delete(&key, now, free);
        }
        8..=9 => {
            // Changed in place: APPEND, RPUSH.
            if let Some(e) = db.lookup(&key, now, Access::WRITE) {
                match e.value_mut() {
                    Value::Str(st) => st.make_growable().extend_from_slice(b"+"),
                    Value::List(l) => l.push_args(false, &[b"p"], -2),
                    _ => {}
                }
            }
        }
        10 => {
            // INCR-like: replace in place through a write lookup.
            if let Some(e) = db.lookup(&key, now, Access::WRITE) {
                drop(e.replace_value(Value::Str(Str::Int(-(step as i64)))));
            }
        }
        11 => {
            // Expire soon (some in the past: lazily or actively expired).
            let when = now + rng.below(200) as i64 - 50;
            db.set_expire(&key, when.max(1));
        }
        12 => {
            db.persist(&key);
        }
        13 => {
            // Expiry paths: a read lookup, SCAN, the active cycle.
            db.lookup(&key, now, Access::READ);
            db.scan(rng.below(64) as u64, now, |_| {});
            crate::keyspace::expire::active_cycle(db, now, Duration::from_micros(50));
        }
        14 => {
            // RENAME within the db.
            let dst = format!("k{}", rng.below(keys)).into_bytes();
            if dst != key && db.lookup(&key, now, Access::PEEK).is_some() {
                db.delete(&dst, now, Free::Sync);
                if let Some(e) = db.take_entry(&key, now) {
                    db.insert_entry(&dst, e, now);
                }
            }
        }
        15 => {
            // MOVE to another db.
            let o = rng.below(dbs.len());
            if o != d && dbs[o].lookup(&key, now, Access::PEEK).is_none() {
                if let Some(e) = dbs[d].take_entry(&key, now) {
                    dbs[o].insert_entry(&key, e, now);
                }
            }
        }
        16 => {
            if rng.below(8) == 0 {
                // FLUSHDB; the old tables are freed by the caller.
                drop(db.flush());
            }
        }
        17 => {
            if rng.below(4) == 0 {
                let o = rng.below(dbs.len());
                if o != d {
                    let (a, b) = if d < o { (d, o) } else { (o, d) };
                    let (x, y) = dbs.split_at_mut(b);
                    x[a].swap_contents(&mut y[0]);
                }
            }
        }
        18 => {
            // Mass deletion: the table shrinks.
            if rng.below(16) == 0 {
                let ks: Vec<Vec<u8>> = db.table().iter().map(|e| e.key().to_vec()).collect();
                for k in ks.iter().step_by(2) {
                    db.delete(k, now, Free::Sync);
                }
            }
        }
        _ => {
            db.rehash_for(Duration::from_micros(1 + rng.below(20) as u64));
        }
    }
}

fn fill(dbs: &mut [Db], rng: &mut Rng, keys: usize, now: i64) {
    for (i, db) in dbs.iter_mut().enumerate() {
        for k in 0..keys {
            if rng.below(3) != 0 {
                let key = format!("k{k}");
                db.set(key.as_bytes(), random_value(rng, k + i), false, now);
                if rng.below(5) == 0 {
                    db.set_expire(key.as_bytes(), now + rng.below(400) as i64 - 100);
                }
            }
        }
    }
}

/// One snapshot under random writes; returns its stats and how many of
/// its steps began with a table in the middle of a resize.
fn run(seed: u64, keys: usize, writes_per_step: usize, window: usize) -> (SnapshotStats, usize) {
    let mut rng = Rng::new(seed);
    let mut dbs: Vec<Db> = (0..3).map(Db::new).collect();
    let mut now = 1_000_000;
    fill(&mut dbs, &mut rng, keys, now);
    // Start in the middle of a resize sometimes.
    for _ in 0..rng.below(keys / 4 + 1) {
        let k = format!("g{}", rng.below(1 << 30));
        dbs[0].set(k.as_bytes(), s("g"), false, now);
    }
    let start_image = image(&dbs);
    let mut snap = Snapshot::start(&mut dbs).expect("no snapshot running");
    assert!(Snapshot::start(&mut dbs).is_none(), "one at a time");
    let mut sink = Collect {
        window,
        ..Collect::default()
    };
    let mut step = 0;
    let mut mid_resize = 0;
    loop {
        for _ in 0..writes_per_step {
            random_write(&mut dbs, &mut rng, step, now, keys);
            step += 1;
        }
        now += rng.below(3) as i64;
        sink.in_window = 0;
        if dbs.iter().any(|d| d.table().is_rehashing()) {
            mid_resize += 1;
        }
        if snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::Done {
            break;
        }
        assert!(step < 50_000_000, "the snapshot ends");
    }
    assert!(!running(&dbs));
    assert!(
        sink.dups.is_empty(),
        "reported twice: {:?}",
        &sink.dups[..1]
    );
    for (k, v) in &start_image {
        assert_eq!(sink.got.get(k), Some(v), "key {k:?} (seed {seed})");
    }
    assert_eq!(
        sink.got.len(),
        start_image.len(),
        "no extra keys (seed {seed})"
    );
    // The next snapshot sees the keyspace as it is now.
    let now_image = image(&dbs);
    let mut again = Snapshot::start(&mut dbs).expect("finished");
    let mut sink2 = Collect::default();
    while again.step(&mut dbs, &mut sink2, Duration::from_millis(5)) == Progress::More {}
    assert!(sink2.dups.is_empty());
    assert_eq!(sink2.got, now_image, "second snapshot (seed {seed})");
    (snap.stats, mid_resize)
}

#[test]
fn snapshot_equals_the_start_image_under_random_writes() {
    let mut mid_resize = 0;
    for seed in 1..=12 {
        let (stats, resizing) = run(seed, 600, 1 + seed as usize % 4, 0);
        assert!(stats.saved_records > 0, "writes met unsaved keys");
        mid_resize += resizing;
    }
    assert!(
        mid_resize > 20,
        "resizes ran during snapshots: {mid_resize}"
    );
}

#[test]
fn snapshot_survives_back_pressure_and_heavy_writes() {
    for seed in 20..=24 {
        run(seed, 300, 20, 3);
    }
}

#[test]
fn flushall_and_swapdb_mid_snapshot_report_keys_under_their_first_db() {
    let mut dbs: Vec<Db> = (0..2).map(Db::new).collect();
    for i in 0..200 {
        dbs[0].set(format!("a{i}").as_bytes(), s("A"), false, 0);
        dbs[1].set(format!("b{i}").as_bytes(), s("B"), false, 0);
    }
    let start = image(&dbs);
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    let mut sink = Collect {
        window: 5,
        ..Collect::default()
    };
    assert_eq!(
        snap.step(&mut dbs, &mut sink, Duration::ZERO),
        Progress::More
    );
    let (x, y) = dbs.split_at_mut(1);
    x[0].swap_contents(&mut y[0]);
    dbs[1].set(b"a3", s("changed"), false, 0);
    dbs[0].set(b"new", s("N"), false, 0);
    for db in dbs.iter_mut() {
        drop(db.flush());
    }
    dbs[0].set(b"a1", s("after flush"), false, 0);
    assert!(
        dbs[0].snapshot_held().1 > 0,
        "flushed keys held until walked"
    );
    loop {
        sink.in_window = 0;
        if snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::Done {
            break;
        }
    }
    assert!(sink.dups.is_empty());
    assert_eq!(sink.got, start);
    let spent: usize = dbs
        .iter_mut()
        .filter_map(|d| d.take_snapshot_spent())
        .map(|v| v.len())
        .sum();
    assert_eq!(spent, 2, "flushed tables handed back to be freed");
}

#[test]
fn memory_held_is_bounded_by_the_keys_changed() {
    // 20,000 keys; 200 distinct keys are overwritten again and again while
    // the snapshot runs: what it holds is at most those 200 images, never
    // a copy of the keyspace.
    let mut db = vec![Db::new(0)];
    let value = "v".repeat(100);
    for i in 0..20_000 {
        db[0].set(format!("k{i}").as_bytes(), s(&value), false, 0);
    }
    let mut snap = Snapshot::start(&mut db).unwrap();
    let mut sink = Collect::default();
    let mut peak = 0;
    let mut round = 0;
    loop {
        for j in 0..50 {
            let k = format!("k{}", (round * 50 + j) % 200 * 97);
            db[0].set(k.as_bytes(), s(&format!("{round}")), false, 0);
            peak = peak.max(db[0].snapshot_held().0);
        }
        round += 1;
        if snap.step(&mut db, &mut sink, Duration::ZERO) == Progress::Done {
            break;
        }
    }
    let one = std::mem::size_of::<Saved>() + 6 + 100;
    assert!(peak > 0, "images were saved");
    assert!(peak <= 200 * one, "peak {peak} over 200 images of {one}");
    assert!(snap.stats.saved_records <= 200);
    assert_eq!(sink.got.len(), 20_000);
    assert!(sink
        .got
        .values()
        .all(|(v, _)| *v == Norm::Str(value.clone().into_bytes())));
}

#[test]
fn channel_sink_is_bounded_and_delivers_everything() {
    let mut db = vec![Db::new(0)];
    for i in 0..5_000 {
        db[0].set(format!("k{i}").as_bytes(), s(&"z".repeat(50)), false, 0);
    }
    let (mut sink, rx) = ChannelSink::new(2, 4096);
    let mut snap = Snapshot::start(&mut db).unwrap();
    // Nobody reads: the snapshot stops once two batches and one more are
    // buffered, then resumes as the consumer takes them.
    for _ in 0..10 {
        assert_eq!(
            snap.step(&mut db, &mut sink, Duration::ZERO),
            Progress::More
        );
    }
    // A step stops at the first bucket after the batch is full.
    let held = sink.pending_bytes();
    assert!(held <= 4096 + 2048, "batch bounded: {held}");
    assert!(
        snap.stats.records <= 3 * 60,
        "stalled at three batches: {}",
        snap.stats.records
    );
    let mut got = 0;
    let mut batches = 0;
    loop {
        let done = snap.step(&mut db, &mut sink, Duration::from_millis(1)) == Progress::Done;
        for b in rx.try_iter() {
            assert!(b.iter().map(OwnedRecord::bytes).sum::<usize>() < 4096 + 2048);
            got += b.len();
            batches += 1;
        }
        if done && sink.flush() {
            break;
        }
    }
    got += rx.try_iter().map(|b| b.len()).sum::<usize>();
    assert_eq!(got, 5_000);
    assert!(batches > 2);
}

#[test]
fn abandoned_snapshot_is_finished_with_discard_before_another_starts() {
    let mut db = vec![Db::new(0)];
    for i in 0..1_000 {
        db[0].set(format!("k{i}").as_bytes(), s("v"), false, 0);
    }
    let mut snap = Snapshot::start(&mut db).unwrap();
    snap.step(&mut db, &mut Collect::default(), Duration::ZERO);
    db[0].set(b"k1", s("w"), false, 0);
    assert!(Snapshot::start(&mut db).is_none());
    while snap.step(&mut db, &mut Discard, Duration::ZERO) == Progress::More {}
    let want = image(&db);
    let mut next = Snapshot::start(&mut db).unwrap();
    let mut sink = Collect::default();
    while next.step(&mut db, &mut sink, Duration::ZERO) == Progress::More {}
    assert_eq!(sink.got, want);
}

#[test]
fn entries_keep_their_mark_through_rebuilds() {
    let mut db = vec![Db::new(0)];
    db[0].set(b"a", s("short"), false, 0);
    db[0].set(b"b", Value::Str(Str::Int(7)), false, 0);
    let mut snap = Snapshot::start(&mut db).unwrap();
    // Writes that rebuild the entry's block: a new expire slot, a change
    // of kind, an embedded string made a stored value.
    db[0].set_expire(b"a", 99_999);
    db[0].set(b"a", s(&"L".repeat(64)), true, 0);
    if let Some(e) = db[0].lookup(b"b", 0, Access::WRITE) {
        if let Value::Str(st) = e.value_mut() {
            st.make_growable().push(b'1');
        }
    }
    db[0].set_expire(b"b", 5);
    let mut sink = Collect::default();
    while snap.step(&mut db, &mut sink, Duration::ZERO) == Progress::More {}
    assert_eq!(sink.got.len(), 2);
    assert_eq!(
        sink.got[&(0, b"a".to_vec())],
        (Norm::Str(b"short".to_vec()), 0)
    );
    assert_eq!(sink.got[&(0, b"b".to_vec())], (Norm::Str(b"7".to_vec()), 0));
}

#[test]
fn swapdb_between_snapshots_keeps_marks_meaningful() {
    // A db replaced by a fresh one (as a loader might) has the other
    // parity; SWAPDB then moves contents between dbs of different parity.
    let mut dbs: Vec<Db> = (0..2).map(Db::new).collect();
    for i in 0..100 {
        dbs[0].set(format!("a{i}").as_bytes(), s("A"), false, 0);
    }
    let mut first = Snapshot::start(&mut dbs).unwrap();
    while first.step(&mut dbs, &mut Discard, Duration::ZERO) == Progress::More {}
    dbs[1] = Db::new(1);
    dbs[1].set(b"b", s("B"), false, 0);
    let (x, y) = dbs.split_at_mut(1);
    x[0].swap_contents(&mut y[0]);
    let want = image(&dbs);
    assert_eq!(want.len(), 101);
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    let mut sink = Collect::default();
    while snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::More {}
    assert_eq!(sink.got, want);
}

type ContentImage = HashMap<(usize, Vec<u8>), (String, i64)>;

fn content_image(dbs: &[Db]) -> ContentImage {
    let mut m = ContentImage::new();
    for (i, db) in dbs.iter().enumerate() {
        for e in db.table().iter() {
            m.insert((i, e.key().to_vec()), (e.value().content(), e.expire()));
        }
    }
    m
}

#[derive(Default)]
struct ContentCollect {
    got: ContentImage,
    dups: usize,
    /// Big values completed from parts.
    owned: usize,
    big: Assembler,
}

impl SnapshotSink for ContentCollect {
    fn entry(&mut self, r: Record<'_>) {
        let k = (r.db, r.key.to_vec());
        if self
            .got
            .insert(k, (r.value.content(), r.expire_ms))
            .is_some()
        {
            self.dups += 1;
        }
    }
    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        Some(&mut self.big.buf)
    }
    fn big_part(&mut self, id: u64, start: usize, _: u64) {
        self.big.part(id, start);
    }
    fn big_done(&mut self, d: BigDone<'_>) {
        self.owned += 1;
        let v = self.big.done(&d);
        self.entry(Record {
            db: d.db,
            key: d.key,
            value: &v,
            expire_ms: d.expire_ms,
        });
    }
    fn big_dropped(&mut self, id: u64) {
        self.big.dropped(id);
    }
}

/// Big aggregates of every type in `db`, under `prefix`.
fn fill_big(db: &mut Db, prefix: &str, n: usize) {
    use crate::keyspace::{hash::Hash, set, set::Set, zset, zset::ZSet};
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
    let (mut l, mut st, mut h, mut z) = (
        List::new(),
        Set::new_hashtable(),
        Hash::new(),
        ZSet::default(),
    );
    for i in 0..n {
        let m = format!("member-{i}");
        l.push_args(false, &[m.as_bytes()], -2);
        st.add(m.as_bytes(), &slim);
        h.set(m.as_bytes(), format!("v{i}").as_bytes(), hlim);
        z.set(m.as_bytes(), i as f64 / 7.0, zlim);
    }
    db.set(
        format!("{prefix}L").as_bytes(),
        Value::List(Box::new(l)),
        false,
        0,
    );
    db.set(
        format!("{prefix}S").as_bytes(),
        Value::Set(Box::new(st)),
        false,
        0,
    );
    db.set(format!("{prefix}H").as_bytes(), Value::Hash(h), false, 0);
    db.set(
        format!("{prefix}Z").as_bytes(),
        Value::ZSet(Box::new(z)),
        false,
        0,
    );
    db.set_expire(format!("{prefix}Z").as_bytes(), 5_000_000);
}

#[test]
fn big_values_are_copied_over_steps_and_writes_meanwhile_win() {
    let mut dbs: Vec<Db> = (0..2).map(Db::new).collect();
    for (p, db) in ["a", "b", "c"].iter().zip([0, 0, 1]) {
        fill_big(&mut dbs[db], p, 2000);
    }
    for i in 0..100 {
        dbs[0].set(format!("small{i}").as_bytes(), s("x"), false, 0);
    }
    let start = content_image(&dbs);
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    let mut sink = ContentCollect::default();
    for _ in 0..5 {
        assert_eq!(
            snap.step(&mut dbs, &mut sink, Duration::ZERO),
            Progress::More
        );
    }
    // Writes to big values whose copy may be under way: changed in place,
    // deleted, renamed, expire changed.
    let now = 0;
    if let Some(e) = dbs[0].lookup(b"bS", now, Access::WRITE) {
        if let Value::Set(st) = e.value_mut() {
            let lim = crate::keyspace::set::Limits {
                max_intset_entries: 0,
                max_listpack_entries: 0,
                max_listpack_value: 0,
            };
            st.add(b"added", &lim);
        }
    }
    assert!(dbs[0].delete(b"aH", now, Free::Sync));
    let e = dbs[0].take_entry(b"bL", now).unwrap();
    dbs[0].insert_entry(b"renamed", e, now);
    dbs[0].set_expire(b"aZ", 9_000_000);
    let mut steps = 5;
    while snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::More {
        steps += 1;
        assert!(steps < 1_000_000, "the snapshot ends");
    }
    assert_eq!(sink.dups, 0);
    assert_eq!(sink.got, start);
    assert!(sink.owned > 0, "some big values went through the copy");
    assert!(sink.big.parts.is_empty(), "dropped copies were forgotten");
    assert!(steps > 20, "copies spread over steps: {steps}");
    assert!(!running(&dbs));
}

#[test]
fn big_copies_survive_swapdb_and_flush_mid_copy() {
    let mut dbs: Vec<Db> = (0..2).map(Db::new).collect();
    fill_big(&mut dbs[0], "a", 1500);
    for i in 0..3000 {
        dbs[0].set(format!("small{i}").as_bytes(), s("x"), false, 0);
    }
    fill_big(&mut dbs[1], "b", 1500);
    let start = content_image(&dbs);
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    let mut sink = ContentCollect::default();
    // Until db 0 has a copy under way and its walk is not over: the flush
    // below then meets a big entry in a bucket the walk has passed.
    let mut n = 0;
    while dbs[0].snap.big.is_empty() || dbs[0].snap.walk.wrapped {
        assert_eq!(
            snap.step(&mut dbs, &mut sink, Duration::ZERO),
            Progress::More
        );
        n += 1;
        assert!(n < 100_000);
    }
    let (x, y) = dbs.split_at_mut(1);
    x[0].swap_contents(&mut y[0]);
    snap.step(&mut dbs, &mut sink, Duration::ZERO);
    drop(dbs[1].flush());
    dbs[1].set(b"aL", s("after flush"), false, 0);
    while snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::More {}
    assert_eq!(sink.dups, 0);
    assert_eq!(
        sink.got, start,
        "each key under the db it was in at the start"
    );
    assert!(sink.big.parts.is_empty(), "abandoned copies were dropped");
    assert!(!running(&dbs));
}

/// The events a sink sees for big copies, in order.
#[derive(Default)]
struct Events {
    buf: Vec<u8>,
    /// Per copy: elements in its parts, done (key, len), dropped.
    parts: HashMap<u64, u64>,
    done: HashMap<u64, (Vec<u8>, u64)>,
    dropped: Vec<u64>,
    late: usize,
}

impl SnapshotSink for Events {
    fn entry(&mut self, _: Record<'_>) {}
    fn part_buf(&mut self) -> Option<&mut Vec<u8>> {
        Some(&mut self.buf)
    }
    fn big_part(&mut self, id: u64, start: usize, count: u64) {
        // The part's elements are in the buffer from `start`, framed
        // (a zset's scores are not strings: the first frame is one).
        let part = &self.buf[start..];
        assert_eq!(part.is_empty(), count == 0);
        assert!(count == 0 || frame::Reader::new(part).string().is_some());
        self.buf.clear();
        if self.done.contains_key(&id) || self.dropped.contains(&id) {
            self.late += 1;
        }
        *self.parts.entry(id).or_default() += count;
    }
    fn big_done(&mut self, d: BigDone<'_>) {
        assert!(self.done.insert(d.id, (d.key.to_vec(), d.len)).is_none());
    }
    fn big_dropped(&mut self, id: u64) {
        self.dropped.push(id);
    }
}

#[test]
fn big_copies_come_in_parts_and_a_write_drops_its_copy() {
    let mut dbs = vec![Db::new(0)];
    fill_big(&mut dbs[0], "a", 3000);
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    let mut sink = Events::default();
    // Until two copies have had parts: one is done, one under way.
    let mut n = 0;
    while sink.parts.len() < 2 {
        snap.step(&mut dbs, &mut sink, Duration::ZERO);
        n += 1;
        assert!(n < 100_000);
    }
    let under_way = dbs[0].snap.big.last().map(|b| (b.id, b.key.clone()));
    let (id, key) = under_way.expect("a copy under way");
    assert!(!sink.done.contains_key(&id));
    assert!(dbs[0].delete(&key, 0, Free::Sync));
    while snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::More {}
    assert_eq!(sink.dropped, vec![id], "the written key's copy is dropped");
    assert!(!sink.done.contains_key(&id));
    assert_eq!(sink.late, 0, "no part after its copy ended");
    // The four keys, the deleted one from its saved image (in parts too,
    // under a new id): all their elements, each once (no rehash here).
    let mut keys: Vec<&[u8]> = sink.done.values().map(|(k, _)| &k[..]).collect();
    keys.sort();
    assert_eq!(keys, [&b"aH"[..], b"aL", b"aS", b"aZ"]);
    for (id, (key, len)) in &sink.done {
        assert_eq!(*len, 3000, "{key:?}");
        assert_eq!(sink.parts[id], *len, "{key:?}");
    }
}

#[test]
fn a_big_image_saved_by_a_write_goes_in_parts_over_steps() {
    let mut dbs = vec![Db::new(0)];
    fill_big(&mut dbs[0], "a", 3000);
    let start = content_image(&dbs);
    let mut snap = Snapshot::start(&mut dbs).unwrap();
    // Before the walk meets them: each write saves a whole image.
    let now = 0;
    assert!(dbs[0].delete(b"aS", now, Free::Sync));
    if let Some(e) = dbs[0].lookup(b"aL", now, Access::WRITE) {
        if let Value::List(l) = e.value_mut() {
            l.push_args(false, &["more"], -2);
        }
    }
    let mut sink = ContentCollect::default();
    let mut steps = 0;
    while snap.step(&mut dbs, &mut sink, Duration::ZERO) == Progress::More {
        steps += 1;
        assert!(steps < 1_000_000);
    }
    assert!(steps > 20, "images in parts over steps: {steps}");
    assert_eq!(sink.dups, 0);
    assert_eq!(sink.got, start);
    assert_eq!(sink.owned, 4, "all four through parts");
    assert!(sink.big.parts.is_empty());
}

#[test]
fn frames_read_back() {
    let mut out = Vec::new();
    let long = vec![b'x'; 300];
    frame::put(&mut out, b"");
    frame::put(&mut out, &long);
    frame::put_int(&mut out, i64::MIN);
    frame::put_int(&mut out, 0);
    frame::put_int(&mut out, 1234);
    frame::put_score(&mut out, -2.5);
    let mut r = frame::Reader::new(&out);
    assert_eq!(r.string(), Some(&b""[..]));
    assert_eq!(r.string(), Some(&long[..]));
    assert_eq!(r.string(), Some(&b"-9223372036854775808"[..]));
    assert_eq!(r.string(), Some(&b"0"[..]));
    assert_eq!(r.string(), Some(&b"1234"[..]));
    assert_eq!(r.score(), Some(-2.5));
    assert_eq!(r.string(), None);
    // A length past the end is no string.
    assert_eq!(frame::Reader::new(&[5, b'a']).string(), None);
}
