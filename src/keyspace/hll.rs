//! HyperLogLog in Redis's own string representation, byte for byte.
//!
//! An HLL is a string value: a 16-byte header (`HYLL`, the encoding byte,
//! three unused bytes, the cached cardinality as 8 little-endian bytes whose
//! top bit marks it stale), then the 16,384 registers either *dense* (6 bits
//! each, packed from the low bit up: 12,288 bytes) or *sparse* (run-length
//! opcodes: `00xxxxxx` ZERO of 1-64 registers, `01xxxxxx yyyyyyyy` XZERO of
//! 1-16,384, `1vvvvvxx` VAL of 1-4 registers of value 1-32). Elements hash
//! with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
//! the run of zeros above them (plus one) is its candidate value. Counting
//! uses Otmar Ertl's estimator over the register histogram (Redis 5+).
//!
//! Every edit follows Valkey's code path step for step (where a sparse
//! opcode splits, which neighbours merge, when it turns dense), so the bytes
//! are Valkey's: a value DUMPed from Valkey counts the same here and ours in
//! Valkey. A string any client can SET is checked: every read is bounded,
//! and a sparse encoding whose runs do not add up to 16,384 is `Corrupt`.
//! Valkey's C strings end in a NUL that its sparse code reads (an XZERO as
//! the last byte takes its low byte from it) and, on such broken input, may
//! even overwrite: `Editor` keeps that byte explicitly while it edits, and
//! readers see 0 past the end. (Where Valkey leaves a byte written there
//! for later commands to read, ferrokey does not keep it past the command:
//! only a client-made value ending in a cut-off XZERO can tell.)
//!
//! Nothing here knows about replies or the keyspace: `commands::hll` is the
//! RESP side.

use std::sync::atomic::{AtomicBool, Ordering};

/// Header bytes before the registers.
pub const HDR_SIZE: usize = 16;
/// Registers (2^14): the low 14 bits of the hash pick one.
pub const REGISTERS: usize = 1 << 14;
const P: u32 = 14;
/// Hash bits left for the run of zeros.
const Q: usize = 64 - P as usize;
/// Bytes of the packed 6-bit registers.
pub const DENSE_REGS: usize = REGISTERS * 6 / 8;
/// A dense HLL's exact length.
pub const DENSE_SIZE: usize = HDR_SIZE + DENSE_REGS;
/// The encoding byte's values.
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const SEED: u64 = 0xadc8_3b19;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln 2, the estimator's constant for m → ∞.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A sparse encoding whose runs overflow or fall short of 16,384
/// registers (Valkey's "Corrupted HLL object detected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// A register histogram: how many registers hold each value (64 slots, so
/// any 6-bit value, sane or not, has one).
pub type Histogram = [u32; 64];

/// MurmurHash2, 64-bit version, reading words little-endian.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of its `0...01`
/// pattern (1 to 51).
#[inline]
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, 1 + rest.trailing_zeros() as u8)
}

// ------------------------------------------------------------ header ----

/// Valkey's isHLLObjectOrReply test on a string's bytes: the magic, a
/// known encoding, and a dense one of exactly the dense size.
pub fn is_hll(b: &[u8]) -> bool {
    b.len() >= HDR_SIZE
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// The cached cardinality, when it is not marked stale.
pub fn cached(b: &[u8]) -> Option<u64> {
    let card: [u8; 8] = b.get(8..16)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

pub fn set_cached(b: &mut [u8], card: u64) {
    if let Some(c) = b.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale (its top bit; the rest stays).
pub fn invalidate(b: &mut [u8]) {
    if let Some(c) = b.get_mut(15) {
        *c |= 0x80;
    }
}

/// A new, empty HLL: sparse, one XZERO of 16,384, cached cardinality 0.
pub fn empty() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2 + 1);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    push_xzero(&mut v, XZERO_MAX_LEN);
    v
}

// ------------------------------------------------------------- dense ----

#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let bit = i * 6;
    let (byte, fb) = (bit / 8, bit & 7);
    let b0 = regs[byte] as u32;
    // The last register ends inside its byte: the next one (past the end)
    // contributes nothing.
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

#[inline]
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let bit = i * 6;
    let (byte, fb) = (bit / 8, bit & 7);
    let v = (val & 63) as u32;
    regs[byte] &= !(63u32 << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        let fb8 = 8 - fb;
        *b1 &= !(63u32 >> fb8) as u8;
        *b1 |= (v >> fb8) as u8;
    }
}

/// Raises register `i` to `count`; true when it changed.
#[inline]
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

/// PFADD of one element to a dense HLL (`b` passed `is_hll` and is
/// dense): true when its register rose. The cached cardinality is the
/// caller's to invalidate. The editor's work without the editor, for the
/// common case of PFADD to a dense key.
#[inline]
pub fn dense_add(b: &mut [u8], ele: &[u8]) -> bool {
    let (index, count) = pattern(ele);
    match b.get_mut(HDR_SIZE..) {
        Some(regs) => dense_set(regs, index, count),
        None => false,
    }
}

/// Four registers from three packed bytes.
#[inline(always)]
fn unpack4(b: &[u8]) -> [u8; 4] {
    let w = b[0] as u32 | (b[1] as u32) << 8 | (b[2] as u32) << 16;
    [
        (w & 63) as u8,
        (w >> 6 & 63) as u8,
        (w >> 12 & 63) as u8,
        (w >> 18 & 63) as u8,
    ]
}

fn dense_histogram(regs: &[u8], h: &mut Histogram) {
    for c in regs.chunks_exact(3) {
        for r in unpack4(c) {
            h[r as usize] += 1;
        }
    }
}

/// Whether the vector merge may be used (PFDEBUG SIMD ON|OFF).
pub static SIMD: AtomicBool = AtomicBool::new(true);

/// True when merges use the AVX2 path: allowed and supported.
pub fn simd_in_use() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        SIMD.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `max[i] = max(max[i], register i)` over a dense register array.
fn dense_merge(max: &mut [u8; REGISTERS], regs: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if regs.len() == DENSE_REGS && simd_in_use() {
        // SAFETY: AVX2 is available (checked at run time) and `regs` has
        // the dense length the function reads within.
        unsafe { dense_merge_avx2(max, regs) };
        return;
    }
    dense_merge_scalar(max, regs, 0, REGISTERS);
}

/// The plain merge of registers `from..to` (multiples of 4).
fn dense_merge_scalar(max: &mut [u8; REGISTERS], regs: &[u8], from: usize, to: usize) {
    let regs = &regs[from / 4 * 3..to / 4 * 3];
    for (m, c) in max[from..to].chunks_exact_mut(4).zip(regs.chunks_exact(3)) {
        for (m, r) in m.iter_mut().zip(unpack4(c)) {
            *m = (*m).max(r);
        }
    }
}

/// The merge 32 registers (24 bytes) a step, from register 8 on: one
/// 32-byte load starts 4 bytes before the step's bytes, so that each
/// 128-bit half holds 12 of them (16 registers); a shuffle spreads each 3
/// bytes over a 32-bit lane, shifts and masks put the four 6-bit fields in
/// the lane's four bytes, then a byte-wise max. The first 8 registers (no
/// 4 bytes before them) and the last 24 (a load would pass the end) go the
/// plain way.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dense_merge_avx2(max: &mut [u8; REGISTERS], regs: &[u8]) {
    use std::arch::x86_64::*;
    dense_merge_scalar(max, regs, 0, 8);
    let spread = _mm256_setr_epi8(
        4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1, 13, 14, 15, -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7,
        8, -1, 9, 10, 11, -1,
    );
    let m0 = _mm256_set1_epi32(0x3f);
    let m1 = _mm256_set1_epi32(0x3f00);
    let m2 = _mm256_set1_epi32(0x3f_0000);
    let m3 = _mm256_set1_epi32(0x3f00_0000);
    let steps = REGISTERS / 32 - 1;
    for i in 0..steps {
        // SAFETY: the load reads bytes 2+i*24 .. 34+i*24 <= 12,274 of the
        // 12,288 in `regs`; the store writes max[8+i*32 .. 40+i*32].
        let x = _mm256_loadu_si256(regs.as_ptr().add(2 + i * 24) as *const __m256i);
        let x = _mm256_shuffle_epi8(x, spread);
        let a = _mm256_or_si256(
            _mm256_and_si256(x, m0),
            _mm256_and_si256(_mm256_slli_epi32::<2>(x), m1),
        );
        let b = _mm256_or_si256(
            _mm256_and_si256(_mm256_slli_epi32::<4>(x), m2),
            _mm256_and_si256(_mm256_slli_epi32::<6>(x), m3),
        );
        let dst = max.as_mut_ptr().add(8 + i * 32) as *mut __m256i;
        _mm256_storeu_si256(
            dst,
            _mm256_max_epu8(_mm256_loadu_si256(dst), _mm256_or_si256(a, b)),
        );
    }
    dense_merge_scalar(max, regs, 8 + steps * 32, REGISTERS);
}

/// Packs one byte per register into dense registers (all overwritten).
fn dense_compress(regs: &mut [u8], max: &[u8; REGISTERS]) {
    for (c, m) in regs.chunks_exact_mut(3).zip(max.chunks_exact(4)) {
        let w = (m[0] & 63) as u32
            | ((m[1] & 63) as u32) << 6
            | ((m[2] & 63) as u32) << 12
            | ((m[3] & 63) as u32) << 18;
        c[0] = w as u8;
        c[1] = (w >> 8) as u8;
        c[2] = (w >> 16) as u8;
    }
}

// ------------------------------------------------------------ sparse ----

#[inline]
fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
#[inline]
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
#[inline]
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
#[inline]
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
#[inline]
fn val_len(b: u8) -> usize {
    (b & 3) as usize + 1
}
#[inline]
fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2 | (len as u8 - 1)) | 0x80
}
fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push((l >> 8) as u8 | 0x40);
    v.push(l as u8);
}

/// Walks sparse opcodes (`data` is what follows the header; `term` the
/// byte after it, which an XZERO in last place reads), calling `f(first,
/// run, value)` for each run; Corrupt unless the runs cover exactly 16,384
/// registers. A run that would overflow stops the walk before `f` sees it.
#[inline]
fn walk_sparse(data: &[u8], term: u8, mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let (mut p, mut idx) = (0, 0usize);
    while p < data.len() {
        let b = data[p];
        let (run, val, oplen) = if is_zero(b) {
            ((b & 0x3f) as usize + 1, 0, 1)
        } else if is_xzero(b) {
            let lo = data.get(p + 1).copied().unwrap_or(term) as usize;
            ((((b & 0x3f) as usize) << 8 | lo) + 1, 0, 2)
        } else {
            (val_len(b), val_value(b), 1)
        };
        if idx + run > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, run, val);
        idx += run;
        p += oplen;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Where `sparse_find` stopped: the opcode at `p` covers registers
/// `first..first + span`; `prev` is the opcode before it.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    p: usize,
    first: usize,
    span: usize,
    prev: Option<usize>,
}

/// Step 1 of hllSparseSet: the opcode of a sparse HLL (`v[HDR_SIZE..end]`,
/// `v[end]` the terminator) that covers register `index`; None if none
/// does before `end` (Corrupt). Valkey walks one opcode a step, and that
/// walk was most of a sparse PFADD's time; here runs of eight 1-byte
/// opcodes (ZEROs and VALs, nearly all of a sparse HLL past a few hundred
/// elements) are summed in one step, and only XZEROs and the last few
/// opcodes are taken one by one. The opcode found is the same.
#[inline]
fn sparse_find(v: &[u8], end: usize, index: usize) -> Option<Found> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LANES16: u64 = 0x00ff_00ff_00ff_00ff;
    let (mut p, mut first, mut prev) = (HDR_SIZE, 0usize, None);
    loop {
        // Eight 1-byte opcodes at a time; then `steps` opcodes one by one:
        // up to the XZERO that stopped the fast walk, or up to the register
        // (it is in the next eight), or to the end.
        let mut steps = usize::MAX;
        while p + 8 <= end {
            let mut word = [0u8; 8];
            word.copy_from_slice(&v[p..p + 8]);
            let w = u64::from_le_bytes(word);
            // Bytes `01xxxxxx`: XZEROs, two bytes long.
            let xzero = w & !(w >> 1) & (0x40 * ONES);
            if xzero != 0 {
                steps = xzero.trailing_zeros() as usize / 8 + 1;
                break;
            }
            // Each byte's run: ZERO `00xxxxxx` 1-64, VAL `1vvvvvxx` 1-4;
            // their sum (at most 512) by bytes into 16-bit lanes, then lanes.
            let is_val = (w >> 7) & ONES;
            let runs = (w & ((0x3f * ONES) ^ (is_val * 0x3c))) + ONES;
            let pairs = (runs & LANES16) + ((runs >> 8) & LANES16);
            let sum = (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize;
            if index < first + sum {
                steps = 8;
                break;
            }
            prev = Some(p + 7);
            p += 8;
            first += sum;
        }
        while steps > 0 {
            if p >= end {
                return None;
            }
            steps -= 1;
            let b = v[p];
            let mut oplen = 1;
            let span = if is_zero(b) {
                (b & 0x3f) as usize + 1
            } else if is_val(b) {
                val_len(b)
            } else {
                oplen = 2;
                // p + 1 <= end: the terminator at worst.
                (((b & 0x3f) as usize) << 8 | v[p + 1] as usize) + 1
            };
            if index < first + span {
                return Some(Found {
                    p,
                    first,
                    span,
                    prev,
                });
            }
            prev = Some(p);
            p += oplen;
            first += span;
        }
    }
}

/// The dense form of a sparse HLL (header copied, encoding changed).
fn sparse_to_dense(b: &[u8], term: u8) -> Result<Vec<u8>, Corrupt> {
    let hdr = b.get(..HDR_SIZE).ok_or(Corrupt)?;
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(hdr);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    walk_sparse(&b[HDR_SIZE..], term, |first, run, val| {
        if val != 0 {
            for i in first..first + run {
                dense_put(regs, i, val);
            }
        }
    })?;
    Ok(dense)
}

// ---------------------------------------------------- reading a value ----

/// The register histogram of a valid-looking HLL (see `is_hll`).
pub fn histogram(b: &[u8]) -> Result<Histogram, Corrupt> {
    let mut h = [0u32; 64];
    match b.get(4) {
        Some(&DENSE) if b.len() == DENSE_SIZE => dense_histogram(&b[HDR_SIZE..], &mut h),
        Some(&SPARSE) if b.len() >= HDR_SIZE => walk_sparse(&b[HDR_SIZE..], 0, |_, run, val| {
            h[val as usize] += run as u32
        })?,
        _ => return Err(Corrupt),
    }
    Ok(h)
}

/// The estimated cardinality of an HLL, ignoring its cache.
pub fn count(b: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(b)?))
}

/// Merges an HLL into one-byte-per-register maxima (PFCOUNT of several
/// keys, PFMERGE). A corrupt sparse one may have merged part of its runs.
pub fn merge(max: &mut [u8; REGISTERS], b: &[u8]) -> Result<(), Corrupt> {
    match b.get(4) {
        Some(&DENSE) if b.len() == DENSE_SIZE => {
            dense_merge(max, &b[HDR_SIZE..]);
            Ok(())
        }
        Some(&SPARSE) if b.len() >= HDR_SIZE => {
            walk_sparse(&b[HDR_SIZE..], 0, |first, run, val| {
                for m in &mut max[first..first + run] {
                    *m = (*m).max(val);
                }
            })
        }
        _ => Err(Corrupt),
    }
}

/// The cardinality of one-byte-per-register maxima.
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    // Four tables, taken in turn: runs of equal
    // registers would otherwise make each increment wait for the last
    // one's store. Indexed by the whole byte, so no mask or bounds check
    // (registers are at most 63: the rest stays 0); u16 holds 16,384.
    let mut t = [[0u16; 256]; 4];
    for q in max.chunks_exact(8) {
        t[0][q[0] as usize] += 1;
        t[1][q[1] as usize] += 1;
        t[2][q[2] as usize] += 1;
        t[3][q[3] as usize] += 1;
        t[0][q[4] as usize] += 1;
        t[1][q[5] as usize] += 1;
        t[2][q[6] as usize] += 1;
        t[3][q[7] as usize] += 1;
    }
    let mut h = [0u32; 64];
    for (v, n) in h.iter_mut().enumerate() {
        *n = t.iter().map(|t| t[v] as u32).sum();
    }
    estimate(&h)
}

/// The registers, one per byte (PFDEBUG GETREG on a dense HLL).
pub fn dense_registers(b: &[u8]) -> Option<[u8; REGISTERS]> {
    if b.len() != DENSE_SIZE || b[4] != DENSE {
        return None;
    }
    let mut out = [0u8; REGISTERS];
    dense_merge(&mut out, &b[HDR_SIZE..]);
    Some(out)
}

/// PFDEBUG DECODE's text for a sparse HLL: `z:N` ZERO, `Z:N` XZERO,
/// `v:VALUE,N` VAL, space separated.
pub fn decode(b: &[u8]) -> String {
    let data = b.get(HDR_SIZE..).unwrap_or(&[]);
    let mut s = String::new();
    let mut p = 0;
    while p < data.len() {
        let b = data[p];
        if is_zero(b) {
            s += &format!("z:{} ", (b & 0x3f) as usize + 1);
            p += 1;
        } else if is_xzero(b) {
            let lo = data.get(p + 1).copied().unwrap_or(0) as usize;
            s += &format!("Z:{} ", (((b & 0x3f) as usize) << 8 | lo) + 1);
            p += 2;
        } else {
            s += &format!("v:{},{} ", val_value(b), val_len(b));
            p += 1;
        }
    }
    s.truncate(s.trim_end_matches(' ').len());
    s
}

// --------------------------------------------------------- estimator ----

/// Ertl's sigma(x) (arXiv:1702.01284).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau(x).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality from a register histogram (registers above 51, which
/// no hash produces, are not counted, as in Valkey).
pub fn estimate(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

// ----------------------------------------------------------- editing ----

/// An HLL string being changed by one command. A sparse one carries its
/// C terminator as an extra last byte while the editor lives (Valkey's
/// sparse code reads it, and may write it: see the module header); it is
/// dropped again with the editor.
pub struct Editor<'a> {
    v: &'a mut Vec<u8>,
    term: bool,
}

impl<'a> Editor<'a> {
    /// `v` must pass `is_hll`.
    pub fn new(v: &'a mut Vec<u8>) -> Self {
        let term = v.get(4) == Some(&SPARSE);
        if term {
            v.push(0);
        }
        Editor { v, term }
    }

    /// The bytes (without the terminator).
    pub fn bytes(&self) -> &[u8] {
        &self.v[..self.v.len() - self.term as usize]
    }

    pub fn encoding(&self) -> u8 {
        self.v[4]
    }

    /// PFADD of one element: true when a register rose.
    pub fn add(&mut self, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
        let (index, count) = pattern(ele);
        self.set(index, count, sparse_max)
    }

    /// Raises register `index` to `count`, turning a sparse HLL dense when
    /// the value or the length (`sparse_max` bytes) calls for it.
    pub fn set(&mut self, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
        if self.term {
            self.sparse_set(index, count, sparse_max)
        } else {
            Ok(dense_set(&mut self.v[HDR_SIZE..], index, count))
        }
    }

    /// Turns a sparse HLL dense; true if it was sparse.
    pub fn to_dense(&mut self) -> Result<bool, Corrupt> {
        if !self.term {
            return Ok(false);
        }
        let l = self.v.len() - 1;
        let dense = sparse_to_dense(&self.v[..l], self.v[l])?;
        *self.v = dense;
        self.term = false;
        Ok(true)
    }

    /// Sets every register of a dense HLL from one-byte maxima.
    pub fn compress(&mut self, max: &[u8; REGISTERS]) {
        if !self.term {
            dense_compress(&mut self.v[HDR_SIZE..], max);
        }
    }

    pub fn invalidate(&mut self) {
        invalidate(self.v);
    }

    fn promote(&mut self, index: usize, count: u8) -> Result<bool, Corrupt> {
        self.to_dense()?;
        dense_set(&mut self.v[HDR_SIZE..], index, count);
        Ok(true)
    }

    /// Valkey's greedy growth of a sparse string (+3 bytes rounded up to
    /// double, or +300, never past `sparse_max`), so memory follows it.
    fn reserve(&mut self, sparse_max: usize) {
        let l = self.v.len() - 1;
        let cap = self.v.capacity() - 1;
        if cap < sparse_max && cap - l < 3 {
            let mut want = l + 3;
            want += want.min(300);
            let want = want.min(sparse_max);
            if want > l {
                self.v.reserve_exact(want - l);
            }
        }
    }

    /// hllSparseSet: find the opcode covering `index`, split it into at
    /// most three, merge equal neighbouring VALs, or go dense.
    fn sparse_set(&mut self, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
        if count > VAL_MAX_VALUE {
            return self.promote(index, count);
        }
        self.reserve(sparse_max);
        let v = &mut *self.v;
        let end = v.len() - 1;
        // Step 1: the opcode at `p` covers registers first..first+span.
        let Some(Found {
            p,
            first,
            span,
            prev,
        }) = sparse_find(v, end, index)
        else {
            return Err(Corrupt);
        };
        let b = v[p];
        let oldlen = if is_xzero(b) { 2 } else { 1 };
        let next = Some(p + oldlen).filter(|&n| n < end);
        let runlen = if is_zero(b) {
            (b & 0x3f) as usize + 1
        } else if is_xzero(b) {
            span
        } else {
            val_len(b)
        };
        // Step 2: the trivial cases, in place.
        if is_val(b) {
            if val_value(b) >= count {
                return Ok(false);
            }
            if runlen == 1 {
                v[p] = val_op(count, 1);
                self.merge_vals(prev, end);
                return Ok(true);
            }
        }
        if is_zero(b) && runlen == 1 {
            v[p] = val_op(count, 1);
            self.merge_vals(prev, end);
            return Ok(true);
        }
        // The general case: the opcode becomes up to three.
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        if is_val(b) {
            let cur = val_value(b);
            if index != first {
                seq[n] = val_op(cur, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(cur, last - index);
                n += 1;
            }
        } else {
            if index != first {
                push_zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                push_zeros(&mut seq, &mut n, last - index);
            }
        }
        // Step 3: put the sequence in the opcode's place.
        let delta = n as isize - oldlen as isize;
        if delta > 0 && end + delta as usize > sparse_max {
            return self.promote(index, count);
        }
        let new_end = (end as isize + delta) as usize;
        if delta > 0 {
            v.resize(new_end + 1, 0);
        }
        if let Some(nx) = next {
            v.copy_within(nx..end, (nx as isize + delta) as usize);
        }
        v.truncate(new_end + 1);
        v[new_end] = 0;
        // An XZERO cut short by the end writes its last byte over the
        // terminator, as in Valkey.
        v[p..p + n].copy_from_slice(&seq[..n]);
        self.merge_vals(prev, new_end);
        Ok(true)
    }

    /// Step 4 of hllSparseSet: from the opcode before the change, up to
    /// five opcodes on, merge adjacent VALs of equal value that fit one.
    /// Then the cached cardinality is stale.
    fn merge_vals(&mut self, prev: Option<usize>, mut end: usize) {
        let v = &mut *self.v;
        let mut p = prev.unwrap_or(HDR_SIZE);
        let mut scan = 5;
        while p < end && scan > 0 {
            scan -= 1;
            let b = v[p];
            if is_xzero(b) {
                p += 2;
                continue;
            }
            if is_zero(b) {
                p += 1;
                continue;
            }
            if p + 1 < end && is_val(v[p + 1]) {
                let b2 = v[p + 1];
                if val_value(b) == val_value(b2) {
                    let len = val_len(b) + val_len(b2);
                    if len <= VAL_MAX_LEN {
                        v[p + 1] = val_op(val_value(b), len);
                        v.remove(p);
                        end -= 1;
                        v[end] = 0;
                        continue;
                    }
                }
            }
            p += 1;
        }
        invalidate(v);
    }
}

/// A ZERO (up to 64) or XZERO run of `len` registers into `seq` at `n`.
fn push_zeros(seq: &mut [u8; 5], n: &mut usize, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        seq[*n] = (l >> 8) as u8 | 0x40;
        seq[*n + 1] = l as u8;
        *n += 2;
    } else {
        seq[*n] = (len - 1) as u8;
        *n += 1;
    }
}

impl Drop for Editor<'_> {
    fn drop(&mut self) {
        if self.term {
            self.v.pop();
        }
    }
}

// ---------------------------------------------------------- selftest ----

/// PFSELFTEST: registers read back what was written without touching
/// their neighbours, and dense and sparse agree and stay within six
/// standard errors up to 10 M elements. `rand` gives 31-bit values (C's
/// rand()); the error text is Valkey's.
pub fn selftest(mut rand: impl FnMut() -> u32, sparse_max: usize) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_REGS];
    let mut bytes = [0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rand() & 63) as u8;
            *b = r;
            dense_put(&mut regs, i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {got}"
                ));
            }
        }
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut sparse = empty();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand() as u64 | (rand() as u64) << 32;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, count) = pattern(&ele);
        dense_set(&mut dense[HDR_SIZE..], index, count);
        let _ = Editor::new(&mut sparse).set(index, count, sparse_max);
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count_of(&dense);
        if card != count_of(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

fn count_of(b: &[u8]) -> u64 {
    count(b).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "hll_tests.rs"]
mod tests;
