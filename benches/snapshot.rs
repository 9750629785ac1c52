//! A forkless snapshot of a large keyspace under overwrite load: the
//! longest main-thread step, the snapshot's duration and the memory it
//! holds, with a consumer thread draining the records as an RDB writer
//! would.
//!
//! Run: `cargo bench --bench snapshot` (3 M keys of 100-byte values;
//! `FERROKEY_BENCH_KEYS=1000000` for another count,
//! `FERROKEY_BENCH_STEP_US=500` for another step budget).

use std::time::{Duration, Instant};

use ferrokey::keyspace::snapshot::{ChannelSink, Progress, Snapshot};
use ferrokey::keyspace::{Db, Str, Value};
use ferrokey::util::rng::Rng;

fn value(i: usize, len: usize) -> Value {
    let mut v = vec![b'v'; len];
    let tag = format!("{i:012}");
    v[..12].copy_from_slice(tag.as_bytes());
    Value::Str(Str::from_bytes(&v))
}

/// CPU time of this thread: a step's own work, without the time the OS
/// gave other processes (this machine is shared).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100];
    println!(
        "{name}: p50 {:?}, p99 {:?}, max {:?}, {} of {} over 1 ms",
        pct(50),
        pct(99),
        pct(100),
        times
            .iter()
            .filter(|t| **t > Duration::from_millis(1))
            .count(),
        times.len()
    );
}

fn main() {
    let keys: usize = std::env::var("FERROKEY_BENCH_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3_000_000);
    let mut dbs = vec![Db::new(0)];
    let t = Instant::now();
    for i in 0..keys {
        dbs[0].set(format!("key:{i:012}").as_bytes(), value(i, 100), false, 0);
    }
    while dbs[0].table().is_rehashing() {
        dbs[0].rehash_for(Duration::from_millis(10));
    }
    println!("{keys} keys filled in {:?}", t.elapsed());

    // The consumer: counts records and bytes, as the RDB encoder would
    // serialize them.
    let (mut sink, rx) = ChannelSink::new(64, 64 * 1024);
    let consumer = std::thread::spawn(move || {
        let (mut n, mut bytes) = (0u64, 0u64);
        for batch in rx {
            for r in batch {
                n += 1;
                bytes += r.key.len() as u64 + r.value.heap_bytes() as u64;
            }
        }
        (n, bytes)
    });

    // The same write batches with no snapshot: what this machine's noise
    // alone does to the longest batch.
    let mut rng = Rng::new(2);
    let mut longest_alone = Duration::ZERO;
    for _ in 0..2000 {
        let b = Instant::now();
        for _ in 0..256 {
            let i = rng.below(keys);
            dbs[0].set(format!("key:{i:012}").as_bytes(), value(i, 100), false, 0);
        }
        longest_alone = longest_alone.max(b.elapsed());
    }
    println!("no snapshot: longest 256-write batch {longest_alone:?}");

    let mut rng = Rng::new(1);
    let t = Instant::now();
    let mut snap = Snapshot::start(&mut dbs).expect("none running");
    let started = t.elapsed();
    let mut writes = 0u64;
    let mut longest_write = Duration::ZERO;
    let mut longest_batch = Duration::ZERO;
    let budget = Duration::from_micros(
        std::env::var("FERROKEY_BENCH_STEP_US")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(500),
    );
    let mut step_times = Vec::new();
    let mut step_cpu = Vec::new();
    // Like an event-loop turn: a batch of 256 overwrites on random keys
    // (redis-benchmark -r keys), then a 1 ms snapshot step.
    loop {
        let b = Instant::now();
        for _ in 0..256 {
            let i = rng.below(keys);
            let w = Instant::now();
            dbs[0].set(
                format!("key:{i:012}").as_bytes(),
                value(i + 1, 100),
                false,
                0,
            );
            longest_write = longest_write.max(w.elapsed());
            writes += 1;
        }
        longest_batch = longest_batch.max(b.elapsed());
        let (st, cpu) = (Instant::now(), thread_cpu());
        let done = snap.step(&mut dbs, &mut sink, budget) == Progress::Done;
        step_times.push(st.elapsed());
        step_cpu.push(thread_cpu() - cpu);
        dbs[0].garbage.clear();
        if done && sink.flush() {
            break;
        }
    }
    let took = t.elapsed();
    drop(sink);
    let (n, bytes) = consumer.join().expect("consumer");
    let s = snap.stats;
    println!(
        "snapshot: start {started:?}, done in {took:?}, {} steps, longest step {:?}",
        s.steps, s.longest_step
    );
    println!(
        "records {n} ({} saved before a write), {:.1} MB of keys and values",
        s.saved_records,
        bytes as f64 / 1e6
    );
    println!(
        "overwrites during it: {writes}, longest overwrite {longest_write:?}, longest 256-write batch {longest_batch:?}"
    );
    println!(
        "peak bytes of saved images: {:.1} KB",
        s.peak_saved_bytes as f64 / 1e3
    );
    summary(&format!("steps ({budget:?} budget), wall"), step_times);
    summary("steps, thread CPU time", step_cpu);
    assert_eq!(n, keys as u64, "every key once");
}
