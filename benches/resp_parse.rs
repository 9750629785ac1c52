//! RESP request parsing through `ferrokey::resp::Parser`: one GET, a
//! pipeline of 16 SETs, a 1 MB bulk (whole, and arriving in 64 KB reads),
//! and inputs fed one byte at a time or split in two at every byte, the
//! worst cases of the incremental parser's saved state.
//!
//! Run: `cargo bench --bench resp_parse -- --quick`

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ferrokey::resp::{Limits, Parser};
use std::time::Duration;

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Parses every command in `buf`; returns how many there were.
#[inline]
fn parse_all(p: &mut Parser, buf: &mut BytesMut, lim: &Limits) -> usize {
    let mut n = 0;
    while let Ok(Some(argv)) = p.parse(buf, lim) {
        black_box(&argv);
        n += 1;
    }
    n
}

fn inputs() -> (Vec<u8>, Vec<u8>) {
    let get = encode(&[b"GET", b"key:000000001234"]);
    let mut sets = Vec::new();
    for i in 0..16 {
        let k = format!("key:{i:012}");
        sets.extend(encode(&[b"SET", k.as_bytes(), b"xxx"]));
    }
    (get, sets)
}

fn whole(c: &mut Criterion) {
    let lim = Limits::default();
    let (get, sets) = inputs();
    let mut g = c.benchmark_group("parse");

    g.throughput(Throughput::Elements(1));
    g.bench_function("one_get", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&get[..]),
            |buf| assert_eq!(parse_all(&mut Parser::new(), buf, &lim), 1),
            BatchSize::SmallInput,
        )
    });

    g.throughput(Throughput::Elements(16));
    g.bench_function("pipeline_16_sets", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&sets[..]),
            |buf| assert_eq!(parse_all(&mut Parser::new(), buf, &lim), 16),
            BatchSize::SmallInput,
        )
    });

    let big = encode(&[b"SET", b"k", &vec![b'v'; 1024 * 1024]]);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("bulk_1mb", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&big[..]),
            |buf| assert_eq!(parse_all(&mut Parser::new(), buf, &lim), 1),
            BatchSize::LargeInput,
        )
    });
    // As a connection sees it: 64 KB reads appended to the buffer, a parse
    // attempt after each (the copy stands in for the socket read).
    g.bench_function("bulk_1mb_in_64k_reads", |b| {
        b.iter(|| {
            let mut p = Parser::new();
            let mut buf = BytesMut::with_capacity(64 * 1024);
            let mut n = 0;
            for chunk in big.chunks(64 * 1024) {
                buf.extend_from_slice(chunk);
                n += parse_all(&mut p, &mut buf, &lim);
            }
            assert_eq!(n, 1);
        })
    });
    g.finish();
}

fn split(c: &mut Criterion) {
    let lim = Limits::default();
    let (get, sets) = inputs();
    let mut g = c.benchmark_group("parse_split");

    for (name, input, cmds) in [("one_get", &get, 1), ("pipeline_16_sets", &sets, 16)] {
        // Fed one byte at a time: a parse attempt per byte.
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(format!("{name}_byte_at_a_time"), |b| {
            b.iter(|| {
                let mut p = Parser::new();
                let mut buf = BytesMut::with_capacity(input.len());
                let mut n = 0;
                for byte in input.iter() {
                    buf.extend_from_slice(std::slice::from_ref(byte));
                    n += parse_all(&mut p, &mut buf, &lim);
                }
                assert_eq!(n, cmds);
            })
        });
        // Split in two reads at every possible byte: one iteration parses
        // the input `len` times.
        g.throughput(Throughput::Elements(input.len() as u64));
        g.bench_function(format!("{name}_split_at_every_byte"), |b| {
            b.iter(|| {
                for at in 0..input.len() {
                    let mut p = Parser::new();
                    let mut buf = BytesMut::from(&input[..at]);
                    let mut n = parse_all(&mut p, &mut buf, &lim);
                    buf.extend_from_slice(&input[at..]);
                    n += parse_all(&mut p, &mut buf, &lim);
                    assert_eq!(n, cmds);
                }
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
    targets = whole, split
}
criterion_main!(benches);
