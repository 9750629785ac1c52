//! The inter-thread rings: push/pop across two threads (one producer, one
//! consumer, as between an IO thread and the main thread) through
//! `ferrokey::ring::Ring`, the same through a bare crossbeam `ArrayQueue`
//! for comparison, and the single-threaded cost of a push and a pop.
//!
//! Messages are `u64` (the queue's own cost) and `ToIo` (the size the
//! server really moves). A full ring makes the producer wait, an empty one
//! the consumer (spinning briefly, then yielding): both threads are busy for
//! the whole measurement, so the cross-thread figures need two otherwise
//! idle cores to mean much.
//!
//! Run: `cargo bench --bench ring -- --quick`

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use ferrokey::net::message::ToIo;
use ferrokey::ring::{Ring, RING_SLOTS};

/// The two queue types under one interface, so both run the same loops.
trait Queue<T>: Send + Sync {
    fn push(&self, v: T) -> Result<(), T>;
    fn pop(&self) -> Option<T>;
}

impl<T: Send> Queue<T> for Ring<T> {
    #[inline]
    fn push(&self, v: T) -> Result<(), T> {
        Ring::push(self, v)
    }
    #[inline]
    fn pop(&self) -> Option<T> {
        Ring::pop(self)
    }
}

impl<T: Send> Queue<T> for ArrayQueue<T> {
    #[inline]
    fn push(&self, v: T) -> Result<(), T> {
        ArrayQueue::push(self, v)
    }
    #[inline]
    fn pop(&self) -> Option<T> {
        ArrayQueue::pop(self)
    }
}

/// Waits for the other side: spins a little, then gives the core away. On a
/// machine with fewer free cores than busy threads a pure spin measures the
/// scheduler's time slice, not the queue.
#[inline]
fn backoff(spins: &mut u32) {
    if *spins < 64 {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

/// Pushes `n` messages made by `make` from a producer thread and pops them
/// here, checking order with `id`. Returns the time from the first push to
/// the last pop.
fn cross_thread<T, Q>(q: &Arc<Q>, n: u64, make: fn(u64) -> T, id: fn(&T) -> u64) -> Duration
where
    T: Send + 'static,
    Q: Queue<T> + 'static,
{
    let p = q.clone();
    let start = Instant::now();
    let producer = thread::spawn(move || {
        for i in 0..n {
            let mut v = make(i);
            let mut spins = 0;
            while let Err(back) = p.push(v) {
                v = back;
                backoff(&mut spins);
            }
        }
    });
    let mut expect = 0;
    let mut spins = 0;
    while expect < n {
        match q.pop() {
            Some(v) => {
                assert_eq!(id(&v), expect);
                expect += 1;
                spins = 0;
            }
            None => backoff(&mut spins),
        }
    }
    let took = start.elapsed();
    producer.join().expect("producer");
    took
}

fn make_u64(i: u64) -> u64 {
    i
}
fn id_u64(v: &u64) -> u64 {
    *v
}
fn make_toio(i: u64) -> ToIo {
    ToIo::Kill { client: i }
}
fn id_toio(v: &ToIo) -> u64 {
    match v {
        ToIo::Kill { client } => *client,
        _ => u64::MAX,
    }
}

/// Messages per measured run: enough that the thread spawn is noise.
const RUN: u64 = 200_000;

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("cross_thread");
    g.throughput(Throughput::Elements(RUN));
    g.bench_function("ring_u64", |b| {
        let q: Arc<Ring<u64>> = Ring::new();
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| cross_thread(&q, RUN, make_u64, id_u64))
                .sum()
        })
    });
    g.bench_function("arrayqueue_u64", |b| {
        let q = Arc::new(ArrayQueue::<u64>::new(RING_SLOTS));
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| cross_thread(&q, RUN, make_u64, id_u64))
                .sum()
        })
    });
    g.bench_function("ring_toio", |b| {
        let q: Arc<Ring<ToIo>> = Ring::new();
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| cross_thread(&q, RUN, make_toio, id_toio))
                .sum()
        })
    });
    g.bench_function("arrayqueue_toio", |b| {
        let q = Arc::new(ArrayQueue::<ToIo>::new(RING_SLOTS));
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| cross_thread(&q, RUN, make_toio, id_toio))
                .sum()
        })
    });
    g.finish();
}

/// One push then one pop, and 64 pushes then 64 pops, on one thread: the
/// cost left when producer and consumer do not contend for cache lines.
fn one_thread(c: &mut Criterion) {
    fn bench_q<Q: Queue<u64>>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        q: &Q,
    ) {
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("{name}_push_pop_1"), |b| {
            b.iter(|| {
                let _ = q.push(black_box(7));
                black_box(q.pop())
            })
        });
        g.throughput(Throughput::Elements(64));
        g.bench_function(format!("{name}_push_pop_64"), |b| {
            b.iter(|| {
                for i in 0..64 {
                    let _ = q.push(black_box(i));
                }
                for _ in 0..64 {
                    black_box(q.pop());
                }
            })
        });
    }
    let mut g = c.benchmark_group("one_thread");
    bench_q(&mut g, "ring", &*Ring::<u64>::new());
    bench_q(&mut g, "arrayqueue", &ArrayQueue::<u64>::new(RING_SLOTS));
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
    targets = two_threads, one_thread
}
criterion_main!(benches);
