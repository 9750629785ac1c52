//! The bit-level work of the bitmap commands, on plain byte slices: counting
//! set bits, finding the first set or clear bit, combining strings, and
//! reading or writing an integer at any bit offset. Bit 0 is the most
//! significant bit of the first byte, as in Valkey.
//!
//! Counting runs the same loop compiled for the best instruction set the
//! CPU has (AVX-512 VPOPCNTDQ, AVX2, POPCNT), chosen at run time: LLVM
//! vectorizes `count_ones` over words for each. On a 1 MB string that is
//! about 12 µs with VPOPCNTDQ against 22 µs with AVX2's nibble lookup (what
//! Valkey uses) and 67 µs for the plain x86-64 baseline.

/// Set bits in `b`.
pub fn popcount(b: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if b.len() >= 64 {
            if std::is_x86_feature_detected!("avx512vpopcntdq") {
                // SAFETY: the CPU has the features this copy was built for.
                return unsafe { popcount_avx512(b) };
            }
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { popcount_avx2(b) };
            }
        }
        if std::is_x86_feature_detected!("popcnt") {
            // SAFETY: as above.
            return unsafe { popcount_popcnt(b) };
        }
    }
    popcount_words(b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
unsafe fn popcount_avx512(b: &[u8]) -> u64 {
    popcount_words(b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn popcount_avx2(b: &[u8]) -> u64 {
    popcount_words(b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn popcount_popcnt(b: &[u8]) -> u64 {
    popcount_words(b)
}

/// The counting loop, inlined into each of the copies above.
#[inline(always)]
fn popcount_words(b: &[u8]) -> u64 {
    let mut words = b.chunks_exact(8);
    let mut n = 0u64;
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        n += u64::from_ne_bytes(a).count_ones() as u64;
    }
    for &x in words.remainder() {
        n += x.count_ones() as u64;
    }
    n
}

/// Valkey's `serverBitpos`: the position of the first bit equal to `bit`
/// in `b`. Looking for 0 and finding none gives `8 * len` (the string is
/// taken as zero-padded on the right); looking for 1 and finding none, -1.
pub fn bitpos(b: &[u8], bit: bool) -> i64 {
    // Runs of uninteresting bytes are skipped 32 bytes at a time, then a
    // word at a time.
    let skip = if bit { 0u64 } else { u64::MAX };
    let word = |c: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        u64::from_be_bytes(a)
    };
    let mut at = 0usize;
    let mut blocks = b.chunks_exact(32);
    for blk in &mut blocks {
        let (w0, w1, w2, w3) = (
            word(&blk[..8]),
            word(&blk[8..16]),
            word(&blk[16..24]),
            word(&blk[24..]),
        );
        let all = if bit {
            w0 | w1 | w2 | w3 == 0
        } else {
            w0 & w1 & w2 & w3 == u64::MAX
        };
        if !all {
            break;
        }
        at += 32;
    }
    let mut words = b[at..].chunks_exact(8);
    for w in &mut words {
        let w = word(w);
        if w != skip {
            let lead = if bit { w } else { !w }.leading_zeros();
            return (at as i64) * 8 + lead as i64;
        }
        at += 8;
    }
    for &x in &b[at..] {
        if x as u64 != skip & 0xff {
            let lead = if bit { x } else { !x }.leading_zeros();
            return (at as i64) * 8 + lead as i64;
        }
        at += 1;
    }
    if bit {
        -1
    } else {
        (b.len() as i64) * 8
    }
}

/// The BITOP operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    And,
    Or,
    Xor,
    Not,
}

/// Folds source number `i` (`src`) into `acc`, the result of the sources
/// before it (empty before the first). Missing bytes count as zeros, so
/// `acc` grows to the longest source; under AND the bytes past a source's
/// end become 0. The byte loops compile to vector instructions.
pub fn fold(op: Op, acc: &mut Vec<u8>, src: &[u8], first: bool) {
    if first {
        acc.clear();
        acc.extend_from_slice(src);
        if op == Op::Not {
            for x in acc.iter_mut() {
                *x = !*x;
            }
        }
        return;
    }
    let common = acc.len().min(src.len());
    match op {
        Op::And => {
            for (a, s) in acc[..common].iter_mut().zip(&src[..common]) {
                *a &= *s;
            }
            acc[common..].fill(0);
        }
        Op::Or | Op::Not => {
            for (a, s) in acc[..common].iter_mut().zip(&src[..common]) {
                *a |= *s;
            }
        }
        Op::Xor => {
            for (a, s) in acc[..common].iter_mut().zip(&src[..common]) {
                *a ^= *s;
            }
        }
    }
    if src.len() > acc.len() {
        match op {
            Op::And => acc.resize(src.len(), 0),
            _ => acc.extend_from_slice(&src[common..]),
        }
    }
}

/// Up to 9 bytes of `b` from byte `at`, zero-padded, as the high 72 bits
/// of a u128 (first byte most significant): any field of up to 64 bits
/// starting in byte `at` lies inside.
#[inline]
fn window(b: &[u8], at: usize) -> u128 {
    let mut a = [0u8; 16];
    if at < b.len() {
        let n = (b.len() - at).min(9);
        a[..n].copy_from_slice(&b[at..at + n]);
    }
    u128::from_be_bytes(a)
}

/// The `bits`-wide (1..=64) unsigned field at bit `offset`; bits past the
/// end of `b` read as 0.
pub fn get_unsigned(b: &[u8], offset: u64, bits: u32) -> u64 {
    let at = offset >> 3;
    if at >= b.len() as u64 {
        return 0;
    }
    let shift = (offset & 7) as u32;
    let w = window(b, at as usize);
    let v = (w >> (128 - shift - bits)) as u64;
    if bits == 64 {
        v
    } else {
        v & ((1u64 << bits) - 1)
    }
}

/// The field as a two's complement signed integer.
pub fn get_signed(b: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(b, offset, bits);
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` of `value` at bit `offset`; `b` must reach the
/// field's last bit.
pub fn set_field(b: &mut [u8], offset: u64, bits: u32, value: u64) {
    let at = (offset >> 3) as usize;
    let shift = (offset & 7) as u32;
    let n = (shift + bits).div_ceil(8) as usize;
    let mut w = window(b, at);
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let pos = 128 - shift - bits;
    w = (w & !((mask as u128) << pos)) | (((value & mask) as u128) << pos);
    b[at..at + n].copy_from_slice(&w.to_be_bytes()[..n]);
}

/// BITFIELD's overflow behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Valkey's checkUnsignedBitfieldOverflow: None when `value + incr` fits
/// `bits` unsigned bits, else the value to store instead (wrapped or
/// saturated; unused under FAIL). The arithmetic is Valkey's, wrapping
/// where C wraps, so out-of-range SET values behave the same.
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = 0u64.wrapping_sub(value) as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => max,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => 0,
        })
    } else {
        None
    }
}

/// Valkey's checkSignedBitfieldOverflow, as `unsigned_overflow`.
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => max,
        })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => min,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bit(b: &[u8], i: usize) -> bool {
        b[i / 8] & (0x80 >> (i % 8)) != 0
    }

    /// Bytes from a tiny xorshift, so the tests need no crate.
    fn noise(n: usize, seed: u64, density: u32) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                if (s % 100) < density as u64 {
                    (s >> 24) as u8
                } else if density > 50 {
                    0xff
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn popcount_matches_bit_by_bit() {
        for len in [0, 1, 7, 8, 9, 31, 63, 64, 65, 200, 1000, 4099] {
            let b = noise(len, len as u64 + 3, 60);
            let naive = (0..len * 8).filter(|&i| bit(&b, i)).count() as u64;
            assert_eq!(popcount(&b), naive, "len {len}");
            assert_eq!(popcount_words(&b), naive);
        }
    }

    #[test]
    fn bitpos_matches_bit_by_bit() {
        for len in [0, 1, 3, 8, 17, 32, 33, 64, 100, 257] {
            for density in [0, 5, 95, 100] {
                for want in [false, true] {
                    let b = noise(len, len as u64 * 7 + density as u64, density);
                    let naive = (0..len * 8)
                        .find(|&i| bit(&b, i) == want)
                        .map(|i| i as i64)
                        .unwrap_or(if want { -1 } else { len as i64 * 8 });
                    assert_eq!(bitpos(&b, want), naive, "len {len} d {density} {want}");
                }
            }
        }
        let mut b = vec![0u8; 100];
        b[77] = 0x10;
        assert_eq!(bitpos(&b, true), 77 * 8 + 3);
        let mut b = vec![0xffu8; 100];
        b[99] = 0xfe;
        assert_eq!(bitpos(&b, false), 99 * 8 + 7);
    }

    #[test]
    fn fold_is_bytewise_with_zero_padding() {
        let srcs: [&[u8]; 3] = [b"\xff\x0f\xaa", b"\xf0", b"\x01\x02\x03\x04\x05"];
        for op in [Op::And, Op::Or, Op::Xor] {
            let mut acc = Vec::new();
            for (i, s) in srcs.iter().enumerate() {
                fold(op, &mut acc, s, i == 0);
            }
            let expect: Vec<u8> = (0..5)
                .map(|j| {
                    let get = |s: &[u8]| s.get(j).copied().unwrap_or(0);
                    let (a, b, c) = (get(srcs[0]), get(srcs[1]), get(srcs[2]));
                    match op {
                        Op::And => a & b & c,
                        Op::Or => a | b | c,
                        _ => a ^ b ^ c,
                    }
                })
                .collect();
            assert_eq!(acc, expect, "{op:?}");
        }
        let mut acc = Vec::new();
        fold(Op::Not, &mut acc, b"\x0f\xff", true);
        assert_eq!(acc, b"\xf0\x00");
    }

    #[test]
    fn fields_round_trip_at_every_alignment() {
        // The example from Valkey's comment: u5 23 at offset 7.
        let mut b = vec![0u8; 2];
        set_field(&mut b, 7, 5, 23);
        assert_eq!(b, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&b, 7, 5), 23);
        for bits in 1..=64u32 {
            for offset in 0..16u64 {
                let mut b = noise(12, bits as u64 * 31 + offset, 60);
                let before = b.clone();
                let v = 0xdead_beef_cafe_f00du64.rotate_left(bits + offset as u32);
                set_field(&mut b, offset, bits, v);
                let mask = if bits == 64 {
                    u64::MAX
                } else {
                    (1 << bits) - 1
                };
                assert_eq!(get_unsigned(&b, offset, bits), v & mask);
                // Bits outside the field are untouched.
                for i in 0..96 {
                    if (i as u64) < offset || i as u64 >= offset + bits as u64 {
                        assert_eq!(bit(&b, i), bit(&before, i));
                    }
                }
            }
        }
        assert_eq!(get_signed(&[0xff], 0, 8), -1);
        assert_eq!(get_signed(&[0x80], 0, 1), -1);
        assert_eq!(get_signed(&[0x7f], 0, 8), 127);
        assert_eq!(get_signed(&[0xff; 8], 0, 64), -1);
        // Past the end reads zeros.
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_unsigned(&[0xff], 9, 8), 0);
    }

    #[test]
    fn overflow_rules() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, 10, 8, Wrap), None);
        // A negative SET value on an unsigned field is "too large".
        assert_eq!(unsigned_overflow(-1i64 as u64, 0, 8, Sat), Some(255));
        assert_eq!(unsigned_overflow(-1i64 as u64, 0, 8, Wrap), Some(255));
        assert_eq!(signed_overflow(127, 1, 8, Wrap), Some(-128));
        assert_eq!(signed_overflow(127, 1, 8, Sat), Some(127));
        assert_eq!(signed_overflow(-128, -1, 8, Sat), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Wrap), Some(127));
        assert_eq!(signed_overflow(100, -200, 8, Wrap), None);
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(-1, i64::MIN, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(0, i64::MIN, 64, Sat), None);
        assert_eq!(signed_overflow(1000, 0, 8, Sat), Some(127));
        assert_eq!(signed_overflow(1000, 0, 8, Wrap), Some(-24));
    }
}
