//! Valkey's listpack byte format, as stream nodes hold it: a 4-byte total
//! size, a 2-byte element count (65535: "count them"), the elements, the
//! 0xff end byte. Each element is an encoding byte (small integer, integer
//! of 13/16/24/32/64 bits, or string of 6/12/32-bit length), its data, and
//! a back length (the element's size written backwards in 7-bit groups)
//! so it can be walked in both directions.
//!
//! Nodes keep these exact bytes in memory, so the RDB (and DUMP) image of
//! a node is the node itself, in both directions. Readers here trust the
//! bytes: nodes are only built by `push_*` or checked on load by
//! `persist::compact::listpack` plus `node::validate`, so a malformed byte
//! never gets here; reads still never index out of bounds unchecked in a
//! way that could panic on good data.

use crate::keyspace::list::Elem;
use crate::util::num::parse_i64;

pub const HEADER: usize = 6;
pub const EOF: u8 = 0xff;

/// An empty listpack (header and end byte) with room for `cap` bytes.
pub fn new(cap: usize) -> Vec<u8> {
    let mut lp = Vec::with_capacity(cap.max(HEADER + 1));
    lp.extend_from_slice(&[(HEADER + 1) as u8, 0, 0, 0, 0, 0, EOF]);
    lp
}

/// Bytes the encoding and data of `n` take (no back length).
pub fn int_size(n: i64) -> usize {
    match n {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    }
}

fn str_size(len: usize) -> usize {
    if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    }
}

/// Size of the back length for an element of `n` bytes.
pub fn backlen_size(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// Whole size (with back length) `e` takes in a listpack.
pub fn elem_size(e: Elem<'_>) -> usize {
    let n = match e {
        Elem::Int(v) => int_size(v),
        Elem::Bytes(b) => str_size(b.len()),
    };
    n + backlen_size(n)
}

/// Appends the encoding and data of `e`, then its back length.
fn encode(out: &mut Vec<u8>, e: Elem<'_>) {
    let start = out.len();
    match e {
        Elem::Int(v) => match int_size(v) {
            1 => out.push(v as u8),
            2 => {
                let u = (v as u16) & 0x1fff;
                out.push(0xc0 | (u >> 8) as u8);
                out.push(u as u8);
            }
            3 => {
                out.push(0xf1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            4 => {
                out.push(0xf2);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            5 => {
                out.push(0xf3);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                out.push(0xf4);
                out.extend_from_slice(&v.to_le_bytes());
            }
        },
        Elem::Bytes(b) => {
            let len = b.len();
            if len < 64 {
                out.push(0x80 | len as u8);
            } else if len < 4096 {
                out.push(0xe0 | (len >> 8) as u8);
                out.push(len as u8);
            } else {
                out.push(0xf0);
                out.extend_from_slice(&(len as u32).to_le_bytes());
            }
            out.extend_from_slice(b);
        }
    }
    let l = out.len() - start;
    // Highest 7 bits first; every byte but the first flagged with bit 7.
    match backlen_size(l) {
        1 => out.push(l as u8),
        n => {
            for i in (0..n).rev() {
                let b = ((l >> (7 * i)) & 127) as u8;
                out.push(if i == n - 1 { b } else { b | 128 });
            }
        }
    }
}

/// How Valkey's `lpAppend` stores `b`: strict integers as integers.
#[inline]
pub fn elem_of(b: &[u8]) -> Elem<'_> {
    match parse_i64(b) {
        Some(n) => Elem::Int(n),
        None => Elem::Bytes(b),
    }
}

fn set_header(lp: &mut [u8], total: usize, count: usize) {
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    lp[..4].copy_from_slice(&total.to_le_bytes());
    lp[4..6].copy_from_slice(&(count as u16).to_le_bytes());
}

/// The element count in the header (65535: unknown).
fn header_count(lp: &[u8]) -> usize {
    usize::from(u16::from_le_bytes([lp[4], lp[5]]))
}

/// Appends elements before the end byte, keeping the header exact.
pub fn append<'a>(lp: &mut Vec<u8>, elems: impl IntoIterator<Item = Elem<'a>>) {
    lp.pop();
    let mut added = 0;
    for e in elems {
        encode(lp, e);
        added += 1;
    }
    lp.push(EOF);
    let count = header_count(lp);
    // Once unknown (65535), the count stays unknown, as in Valkey.
    let count = if count == 65535 {
        65535
    } else {
        (count + added).min(65535)
    };
    let total = lp.len();
    set_header(lp, total, count);
}

/// The element at `p` and the offset of the next one (or of the end byte).
#[inline]
pub fn get(lp: &[u8], p: usize) -> (Elem<'_>, usize) {
    let c = lp[p];
    let le = |n: usize| -> u64 {
        lp[p + 1..p + 1 + n]
            .iter()
            .rev()
            .fold(0u64, |a, &b| (a << 8) | u64::from(b))
    };
    let sext = |v: u64, bits: u32| -> i64 { ((v << (64 - bits)) as i64) >> (64 - bits) };
    let (e, n) = if c & 0x80 == 0 {
        (Elem::Int(i64::from(c)), 1)
    } else if c & 0xc0 == 0x80 {
        let len = usize::from(c & 0x3f);
        (Elem::Bytes(&lp[p + 1..p + 1 + len]), 1 + len)
    } else if c & 0xe0 == 0xc0 {
        let v = (u64::from(c & 0x1f) << 8) | u64::from(lp[p + 1]);
        (Elem::Int(sext(v, 13)), 2)
    } else if c & 0xf0 == 0xe0 {
        let len = (usize::from(c & 0x0f) << 8) | usize::from(lp[p + 1]);
        (Elem::Bytes(&lp[p + 2..p + 2 + len]), 2 + len)
    } else {
        match c {
            0xf0 => {
                let len = le(4) as usize;
                (Elem::Bytes(&lp[p + 5..p + 5 + len]), 5 + len)
            }
            0xf1 => (Elem::Int(sext(le(2), 16)), 3),
            0xf2 => (Elem::Int(sext(le(3), 24)), 4),
            0xf3 => (Elem::Int(sext(le(4), 32)), 5),
            _ => (Elem::Int(le(8) as i64), 9),
        }
    };
    (e, p + n + backlen_size(n))
}

/// The integer at `p` (0 if it is a string, which validated nodes never
/// hold where an integer is expected) and the next offset.
#[inline]
pub fn get_int(lp: &[u8], p: usize) -> (i64, usize) {
    match get(lp, p) {
        (Elem::Int(n), next) => (n, next),
        (Elem::Bytes(b), next) => (parse_i64(b).unwrap_or(0), next),
    }
}

/// Offset of the element before the one at `p` (`p` may be the end byte).
pub fn prev(lp: &[u8], p: usize) -> usize {
    let mut i = p - 1;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = lp[i];
        len |= usize::from(b & 127) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
        i -= 1;
    }
    i - len
}

/// Offset of the first element.
pub fn first() -> usize {
    HEADER
}

/// True when `p` is the end byte.
#[inline]
pub fn is_end(lp: &[u8], p: usize) -> bool {
    lp[p] == EOF
}

/// Replaces the integer at `p` by `v`, moving what follows when the new
/// encoding is of another size. Returns the offset of the next element.
pub fn replace_int(lp: &mut Vec<u8>, p: usize, v: i64) -> usize {
    let (_, next) = get(lp, p);
    let mut enc = Vec::with_capacity(10);
    encode(&mut enc, Elem::Int(v));
    let new_next = p + enc.len();
    lp.splice(p..next, enc);
    let count = header_count(lp);
    let total = lp.len();
    set_header(lp, total, count);
    new_next
}

/// Total bytes, as in the header.
#[inline]
pub fn bytes(lp: &[u8]) -> usize {
    lp.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::compact;

    #[test]
    fn round_trips_through_the_rdb_parser() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32769,
            8388607,
            -8388609,
            i32::MAX as i64,
            i32::MAX as i64 + 1,
            i64::MIN,
            i64::MAX,
        ];
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let mut lp = new(0);
        append(&mut lp, ints.iter().map(|&n| Elem::Int(n)));
        append(
            &mut lp,
            [
                Elem::Bytes(b"abc"),
                Elem::Bytes(&mid),
                Elem::Bytes(&long),
                Elem::Bytes(b""),
            ],
        );
        let parsed = compact::listpack(&lp).expect("valid listpack");
        let mut want: Vec<Elem> = ints.iter().map(|&n| Elem::Int(n)).collect();
        want.extend([
            Elem::Bytes(b"abc"),
            Elem::Bytes(&mid),
            Elem::Bytes(&long),
            Elem::Bytes(b""),
        ]);
        assert_eq!(parsed, want);
        // Walk forwards and backwards.
        let mut p = first();
        let mut offsets = vec![];
        while !is_end(&lp, p) {
            offsets.push(p);
            let (e, next) = get(&lp, p);
            assert_eq!(e, want[offsets.len() - 1]);
            assert_eq!(next - p, elem_size(e));
            p = next;
        }
        for &o in offsets.iter().rev() {
            p = prev(&lp, p);
            assert_eq!(p, o);
        }
        // Replacing with a wider integer moves the rest.
        let at = offsets[1];
        replace_int(&mut lp, at, 1 << 40);
        let parsed = compact::listpack(&lp).expect("valid after replace");
        assert_eq!(parsed[1], Elem::Int(1 << 40));
        assert_eq!(parsed[2], Elem::Int(128));
    }

    #[test]
    fn strings_that_are_integers_are_stored_as_integers() {
        assert_eq!(elem_of(b"123"), Elem::Int(123));
        assert_eq!(elem_of(b"0123"), Elem::Bytes(b"0123"));
    }
}
