//! Unit tests of the HLL representation, against bytes and counts captured
//! from Valkey 9.1 (`PFADD` of `e0`, `e1`, ... in batches of 100, then
//! `GET` and `PFCOUNT`; values compared by length and FNV-1a 64 digest).

use super::*;

fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// PFADD of e0..e{n-1}, 100 per command, with `max` sparse bytes.
fn filled(n: usize, max: usize) -> Vec<u8> {
    let mut v = empty();
    for start in (0..n).step_by(100) {
        let mut ed = Editor::new(&mut v);
        let mut updated = false;
        for j in start..n.min(start + 100) {
            updated |= ed.add(format!("e{j}").as_bytes(), max).unwrap();
        }
        // A new key counts as updated in PFADD.
        if updated || start == 0 {
            ed.invalidate();
        }
    }
    v
}

/// PFCOUNT: the cache, or a count written into it.
fn pfcount(v: &mut [u8]) -> u64 {
    if let Some(c) = cached(v) {
        return c;
    }
    let c = count(v).unwrap();
    set_cached(v, c);
    c
}

#[test]
fn murmur_and_pattern() {
    // The empty string has no words and no tail.
    assert_eq!(murmur64a(b"", 0), 0);
    let (i, c) = pattern(b"a");
    assert!(i < REGISTERS && (1..=51).contains(&c));
}

#[test]
fn small_sparse_values_are_valkeys() {
    let mut v = filled(1, 3000);
    assert_eq!(v, hex("48594c4c0100000000000000000000804525807ad8"));
    assert_eq!(pfcount(&mut v), 1);
    assert_eq!(v, hex("48594c4c0100000001000000000000004525807ad8"));
    let mut v = filled(10, 3000);
    assert_eq!(pfcount(&mut v), 10);
    assert_eq!(
        v,
        hex("48594c4c010000000a00000000000000452580472e844fc9804412844a5184430d844103844eb984408880406a8441b1")
    );
    assert_eq!(decode(&empty()), "Z:16384");
    let abc = hex("48594c4c01000000000000000000008060f38050b1844bfb80425a");
    assert_eq!(decode(&abc), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
    let mut v = empty();
    let mut ed = Editor::new(&mut v);
    for e in [b"a", b"b", b"c"] {
        assert!(ed.add(e, 3000).unwrap());
    }
    assert!(!ed.add(b"a", 3000).unwrap());
    drop(ed);
    assert_eq!(v, abc);
}

#[test]
fn sequences_match_valkey() {
    // (n, length, digest before PFCOUNT, count, digest after)
    let cases: &[(usize, usize, u64, u64, u64)] = &[
        (1, 21, 0xfffb6faeff77f7cd, 1, 0x546d16fdfd2c805a),
        (10, 48, 0x4afcb65d27f7d346, 10, 0xd06c25fbeaa23420),
        (100, 285, 0xb8de76dab4a4065e, 100, 0x40dec5e3b1513cfa),
        (200, 513, 0xf158567683abd43d, 200, 0xcf220b3b377acfd5),
        (500, 1068, 0xae6801a053be0586, 506, 0x4785b546f1b4a8cb),
        (1000, 1906, 0x5935de0232806824, 1008, 0x4ded8ea0046b668d),
        (2000, 12304, 0x1b5576fa1f6b8092, 2000, 0xdd4d26f186b57d33),
        (5000, 12304, 0x805246753a1cdada, 4968, 0x9219c5a2921db657),
        (
            100000,
            12304,
            0xafbf1713dc5ba3c8,
            100853,
            0xfd1fc23694773e63,
        ),
    ];
    for &(n, len, before, card, after) in cases {
        let mut v = filled(n, 3000);
        assert_eq!((v.len(), fnv(&v)), (len, before), "n={n}");
        assert_eq!(pfcount(&mut v), card, "n={n}");
        assert_eq!(fnv(&v), after, "n={n}");
    }
    // hll-sparse-max-bytes 100: dense after a few dozen elements.
    let mut v = filled(60, 100);
    assert_eq!((v.len(), fnv(&v)), (12304, 0x9c9e2dda3eb62112));
    assert_eq!(pfcount(&mut v), 60);
}

#[test]
fn merges_match_valkey() {
    let h100 = filled(100, 3000);
    let h200 = filled(200, 3000);
    let h1000 = filled(1000, 3000);
    let h5000 = filled(5000, 3000);
    let mut max = [0u8; REGISTERS];
    for h in [&h100, &h200, &h5000] {
        merge(&mut max, h).unwrap();
    }
    assert_eq!(count_raw(&max), 4968);
    // PFMERGE m3 h1000 onto an HLL of x and y: sparse target.
    let mut m3 = empty();
    let mut ed = Editor::new(&mut m3);
    ed.add(b"x", 3000).unwrap();
    ed.add(b"y", 3000).unwrap();
    ed.invalidate();
    drop(ed);
    let mut max = [0u8; REGISTERS];
    merge(&mut max, &m3).unwrap();
    merge(&mut max, &h1000).unwrap();
    let mut ed = Editor::new(&mut m3);
    for (j, &m) in max.iter().enumerate() {
        if m != 0 {
            ed.set(j, m, 3000).unwrap();
        }
    }
    ed.invalidate();
    drop(ed);
    assert_eq!((m3.len(), fnv(&m3)), (1910, 0x5f553dd217fe82b0));
    // Dense target: every register written.
    let mut max = [0u8; REGISTERS];
    merge(&mut max, &h100).unwrap();
    merge(&mut max, &h5000).unwrap();
    let mut m2 = empty();
    let mut ed = Editor::new(&mut m2);
    assert!(ed.to_dense().unwrap());
    ed.compress(&max);
    ed.invalidate();
    drop(ed);
    assert_eq!((m2.len(), fnv(&m2)), (12304, 0x805246753a1cdada));
}

#[test]
fn dense_and_sparse_agree_and_registers_round_trip() {
    let sparse = filled(300, 3000);
    let mut dense = sparse.clone();
    assert!(Editor::new(&mut dense).to_dense().unwrap());
    assert_eq!(dense.len(), DENSE_SIZE);
    assert_eq!(count(&sparse), count(&dense));
    let regs = dense_registers(&dense).unwrap();
    let mut max = [0u8; REGISTERS];
    merge(&mut max, &sparse).unwrap();
    assert_eq!(regs, max);
    let mut packed = dense.clone();
    Editor::new(&mut packed).compress(&regs);
    assert_eq!(packed, dense);
}

#[test]
fn corrupt_sparse_is_detected_never_read_past() {
    let good = filled(50, 3000);
    // Runs that fall short, overflow, or are cut off.
    let mut short = good.clone();
    short.pop();
    assert_eq!(count(&short), Err(Corrupt));
    let mut long = good.clone();
    long.extend_from_slice(b"hello");
    assert_eq!(count(&long), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge(&mut max, &long), Err(Corrupt));
    // A header alone: no opcode covers any register.
    let mut bare = good[..HDR_SIZE].to_vec();
    assert_eq!(Editor::new(&mut bare).add(b"a", 3000), Err(Corrupt));
    assert_eq!(bare.len(), HDR_SIZE);
    // An XZERO as the last byte reads its low byte from the terminator:
    // 255 ZERO registers (z:64 x3, z:63) then 0x7f = XZERO of 16129.
    let mut t = good[..HDR_SIZE].to_vec();
    t.extend_from_slice(&[63, 63, 63, 62, 0x7f]);
    assert!(count(&t).is_ok());
    assert_eq!(decode(&t), "z:64 z:64 z:64 z:63 Z:16129");
    let mut ed = Editor::new(&mut t);
    let _ = ed.add(b"a", 3000);
    drop(ed);
    // Every byte value in every place of a sparse HLL: no panic.
    for pos in HDR_SIZE..good.len() {
        for b in [0u8, 0x3f, 0x40, 0x7f, 0x80, 0xff] {
            let mut v = good.clone();
            v[pos] = b;
            let _ = count(&v);
            let _ = decode(&v);
            let mut ed = Editor::new(&mut v);
            for e in 0..20 {
                let _ = ed.add(format!("x{e}").as_bytes(), 3000);
            }
        }
    }
}

#[test]
fn header_checks() {
    assert!(is_hll(&empty()));
    assert!(!is_hll(b"HYLL"));
    let mut d = vec![0u8; DENSE_SIZE];
    d[..4].copy_from_slice(b"HYLL");
    assert!(is_hll(&d));
    d.push(0);
    assert!(!is_hll(&d));
    let mut bad = empty();
    bad[4] = 2;
    assert!(!is_hll(&bad));
    assert_eq!(cached(&empty()), Some(0));
    let mut e = empty();
    invalidate(&mut e);
    assert_eq!(cached(&e), None);
}

#[test]
fn estimator_edges() {
    let mut h = [0u32; 64];
    h[0] = REGISTERS as u32;
    assert_eq!(estimate(&h), 0);
    let mut h = [0u32; 64];
    h[51] = REGISTERS as u32;
    // Every register at its maximum: the estimate is finite.
    assert!(estimate(&h) > 0);
}

#[test]
fn selftest_passes() {
    let mut rng = crate::util::rng::Rng::new(7);
    assert_eq!(selftest(|| (rng.next_u64() >> 33) as u32, 3000), Ok(()));
}

#[test]
fn vector_and_plain_merges_agree() {
    let mut rng = crate::util::rng::Rng::new(11);
    for _ in 0..20 {
        let regs: Vec<u8> = (0..DENSE_REGS).map(|_| rng.next_u64() as u8).collect();
        let start: Vec<u8> = (0..REGISTERS)
            .map(|_| (rng.next_u64() % 64) as u8)
            .collect();
        let mut a: [u8; REGISTERS] = start.clone().try_into().unwrap();
        let mut b = a;
        dense_merge(&mut a, &regs);
        dense_merge_scalar(&mut b, &regs, 0, REGISTERS);
        assert_eq!(a, b);
        for (i, &m) in b.iter().enumerate() {
            assert_eq!(m, start[i].max(dense_get(&regs, i)));
        }
    }
}

/// hllSparseSet's step 1 one opcode at a time, as Valkey writes it: what
/// `sparse_find`'s eight-at-a-time walk must agree with.
fn sparse_find_plain(v: &[u8], end: usize, index: usize) -> Option<Found> {
    let (mut p, mut first, mut span, mut prev) = (HDR_SIZE, 0usize, 0usize, None);
    while p < end {
        let b = v[p];
        let mut oplen = 1;
        span = if is_zero(b) {
            (b & 0x3f) as usize + 1
        } else if is_val(b) {
            val_len(b)
        } else {
            oplen = 2;
            (((b & 0x3f) as usize) << 8 | v[p + 1] as usize) + 1
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    (span != 0 && p < end).then_some(Found {
        p,
        first,
        span,
        prev,
    })
}

#[test]
fn fast_sparse_walk_finds_what_the_plain_one_does() {
    let mut rng = crate::util::rng::Rng::new(5);
    let mut values: Vec<Vec<u8>> = [0, 1, 10, 100, 500, 1000, 1500]
        .iter()
        .map(|&n| filled(n, 3000))
        .collect();
    // Broken ones: random opcodes (XZEROs included), runs short or over.
    for len in [1, 7, 8, 9, 40, 300] {
        for _ in 0..20 {
            let mut v = empty()[..HDR_SIZE].to_vec();
            v.extend((0..len).map(|_| rng.next_u64() as u8));
            values.push(v);
        }
    }
    for mut v in values {
        v.push(0); // the terminator, as the editor holds it
        let end = v.len() - 1;
        for index in (0..REGISTERS).step_by(7).chain([REGISTERS - 1]) {
            assert_eq!(
                sparse_find(&v, end, index),
                sparse_find_plain(&v, end, index),
                "index {index} of {v:?}"
            );
        }
    }
}
