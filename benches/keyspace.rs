//! Keyspace get/set on a 1 M key `Db`, one command at a time vs batches of
//! 16 whose keys are first walked by `exec::prefetch::prefetch_keys` (bucket
//! slot → chain node → value data, one step per key in turn), the way the
//! batch executor does. Each iteration runs 16 commands on random keys, so
//! the figures compare directly; the gain is the overlap of cache misses.
//!
//! Run: `cargo bench --bench keyspace -- --quick`
//! `FERROKEY_BENCH_KEYS=10000000` sets another key count (default 1 M): the
//! gain grows once the keyspace no longer fits the last level cache.

use std::sync::Arc;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ferrokey::config::Config;
use ferrokey::exec::prefetch::{prefetch_keys, KeyRef};
use ferrokey::keyspace::{now_ms, Access, Str, StrRef, Value};
use ferrokey::net::NetLimits;
use ferrokey::state::State;
use ferrokey::util::rng::Rng;

const BATCH: usize = 16;
/// Random keys visited, in order: far more than one measurement touches
/// twice within the cache's reach, small enough to build quickly.
const SEQ_LEN: usize = 1 << 20;
/// Value size: over the 22 bytes stored inline, so the value has heap data
/// and the prefetch walk has all three steps.
const VALUE_LEN: usize = 64;

type Key = [u8; 16];

fn key(i: usize) -> Key {
    let mut k = [0u8; 16];
    k.copy_from_slice(format!("key:{i:012}").as_bytes());
    k
}

fn value(i: usize) -> Value {
    let mut v = [b'v'; VALUE_LEN];
    v[..12].copy_from_slice(format!("{i:012}").as_bytes());
    Value::Str(Str::from_bytes(&v))
}

struct Fixture {
    state: State,
    /// The keys to visit, in visiting order and stored contiguously, as the
    /// parsed arguments of a batch would be: reading them costs no misses.
    seq: Vec<Key>,
    pos: usize,
    now: i64,
}

impl Fixture {
    fn new(keys: usize) -> Self {
        let mut state = State::new(
            Config::default(),
            Arc::new(NetLimits::new(512 << 20, 1 << 30)),
            ferrokey::commands::CMD_TABLE.specs.len(),
        );
        let now = now_ms();
        let db = &mut state.dbs[0];
        for i in 0..keys {
            db.set(&key(i), value(i), false, now);
        }
        // Finish any incremental resize so every lookup sees one table.
        db.rehash_for(Duration::from_secs(60));
        assert_eq!(db.len(), keys);
        let mut rng = Rng::new(0x5eed);
        let seq = (0..SEQ_LEN).map(|_| key(rng.below(keys))).collect();
        Fixture {
            state,
            seq,
            pos: 0,
            now,
        }
    }
}

/// The next `BATCH` keys of the sequence, wrapping around.
fn next_batch<'a>(seq: &'a [Key], pos: &mut usize) -> &'a [Key] {
    if *pos + BATCH > seq.len() {
        *pos = 0;
    }
    *pos += BATCH;
    &seq[*pos - BATCH..*pos]
}

/// Runs `op` on `keys` in groups of `group`, prefetching each group first
/// when `prefetch` is set.
fn run(
    state: &mut State,
    keys: &[Key],
    group: usize,
    prefetch: bool,
    mut op: impl FnMut(&mut State, &Key),
) {
    for g in keys.chunks(group) {
        if prefetch {
            let mut refs: [KeyRef<'_>; BATCH] = std::array::from_fn(|_| KeyRef { db: 0, key: &[] });
            for (r, k) in refs.iter_mut().zip(g) {
                r.key = k;
            }
            black_box(prefetch_keys(state, &refs[..g.len()]));
        }
        for k in g {
            op(state, k);
        }
    }
}

fn bench(c: &mut Criterion) {
    let keys = std::env::var("FERROKEY_BENCH_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000usize);
    let mut fx = Fixture::new(keys);
    let mut out = Vec::with_capacity(BATCH * (VALUE_LEN + 16));

    let variants = [
        ("batch_1", 1, false),
        ("batch_1_prefetch", 1, true),
        ("batch_16", BATCH, false),
        ("batch_16_prefetch", BATCH, true),
    ];

    let mut g = c.benchmark_group(format!("get_{keys}_keys"));
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, group, prefetch) in variants {
        g.bench_function(name, |b| {
            b.iter(|| {
                let Fixture {
                    state,
                    seq,
                    pos,
                    now,
                } = &mut fx;
                let now = *now;
                let keys = next_batch(seq, pos);
                out.clear();
                // As GET does: find the value and copy it into the reply.
                run(state, keys, group, prefetch, |st, k| {
                    if let Some(StrRef::Bytes(s)) = st.dbs[0]
                        .lookup(k, now, Access::READ)
                        .and_then(|e| e.str_ref())
                    {
                        out.extend_from_slice(s);
                    }
                });
                assert_eq!(out.len(), BATCH * VALUE_LEN);
            })
        });
    }
    g.finish();

    let new_value = [b'w'; VALUE_LEN];
    let mut g = c.benchmark_group(format!("set_{keys}_keys"));
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, group, prefetch) in variants {
        g.bench_function(name, |b| {
            b.iter(|| {
                let Fixture {
                    state,
                    seq,
                    pos,
                    now,
                } = &mut fx;
                let now = *now;
                let keys = next_batch(seq, pos);
                // Overwrites an existing key: the size stays at `keys`.
                run(state, keys, group, prefetch, |st, k| {
                    st.dbs[0].set(k, Value::Str(Str::from_bytes(&new_value)), false, now);
                });
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    // Short runs: the machine is shared.
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);
