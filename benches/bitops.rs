//! The bitmap kernels on a 1 MB string: BITCOUNT's popcount (dispatched to
//! the best instruction set the CPU has) beside the plain baseline loop,
//! BITPOS's scan for a bit at the very end, and a BITOP AND fold.
//!
//! Run: `cargo bench --bench bitops -- --quick`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ferrokey::commands::bitops::kernels::{bitpos, fold, popcount, Op};

const MB: usize = 1 << 20;

/// Pseudo-random bytes (xorshift), so nothing is all zeros.
fn noise(n: usize) -> Vec<u8> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// The portable loop, without a target feature: what x86-64's baseline
/// compiles `count_ones` over words to.
fn popcount_baseline(b: &[u8]) -> u64 {
    let mut words = b.chunks_exact(8);
    let mut n = 0u64;
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        n += u64::from_ne_bytes(a).count_ones() as u64;
    }
    n + words
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>()
}

fn kernels(c: &mut Criterion) {
    let data = noise(MB);
    let mut g = c.benchmark_group("bitmap_1mb");
    g.throughput(Throughput::Bytes(MB as u64));
    g.bench_function("popcount_dispatched", |b| {
        b.iter(|| popcount(black_box(&data)))
    });
    g.bench_function("popcount_baseline", |b| {
        b.iter(|| popcount_baseline(black_box(&data)))
    });
    let mut zeros = vec![0u8; MB];
    zeros[MB - 1] = 1;
    g.bench_function("bitpos_1_at_end", |b| {
        b.iter(|| bitpos(black_box(&zeros), true))
    });
    let other = noise(MB / 2);
    let mut acc = Vec::with_capacity(MB);
    g.bench_function("bitop_and_two_sources", |b| {
        b.iter(|| {
            fold(Op::And, &mut acc, black_box(&data), true);
            fold(Op::And, &mut acc, black_box(&other), false);
            acc.len()
        })
    });
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
