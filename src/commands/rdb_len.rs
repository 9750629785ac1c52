//! How many bytes Valkey's RDB format would take for a value: DEBUG
//! OBJECT's `serializedlength` (Valkey's `rdbSavedObjectLen`: the value's
//! payload, without the type byte and the key).
//!
//! ferrokey writes no RDB files yet, so this follows Valkey's `rdbSave*`
//! functions step by step on the value as it is stored: lengths in 1, 2, 5
//! or 9 bytes; strings as 8/16/32-bit integers when canonical and short,
//! LZF-compressed when longer than 20 bytes and compression saves at least
//! 4 bytes (`rdbcompression yes`, Valkey's default; `no` stores them raw);
//! listpack, intset and quicklist encodings as their blobs; hashtable and
//! skiplist encodings element by element. The LZF step is liblzf's
//! `lzf_compress` (as Valkey builds it) run with a zeroed hash table;
//! Valkey's table starts with whatever an earlier call left on the stack,
//! which can on rare inputs find a different match and so a length a few
//! bytes off.

use crate::keyspace::list::{listpack_blob, Elem};
use crate::keyspace::set::Member;
use crate::keyspace::{Entry, Value};
use crate::util::num::parse_i64;

/// `rdbSaveLen`.
fn len_len(n: usize) -> usize {
    if n < 1 << 6 {
        1
    } else if n < 1 << 14 {
        2
    } else if n <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// `rdbEncodeInteger`: bytes of an integer-encoded string, if it fits.
fn int_encoded(v: i64) -> Option<usize> {
    if (-(1 << 7)..1 << 7).contains(&v) {
        Some(2)
    } else if (-(1 << 15)..1 << 15).contains(&v) {
        Some(3)
    } else if (-(1i64 << 31)..1i64 << 31).contains(&v) {
        Some(5)
    } else {
        None
    }
}

/// `rdbSaveLongLongAsStringObject`.
fn int_string(v: i64) -> usize {
    int_encoded(v).unwrap_or_else(|| {
        let n = v.to_string().len();
        len_len(n) + n
    })
}

/// `rdbSaveRawString`.
fn raw_string(s: &[u8], compress: bool) -> usize {
    if s.len() <= 11 {
        if let Some(n) = parse_i64(s).and_then(int_encoded) {
            return n;
        }
    }
    if compress && s.len() > 20 {
        if let Some(n) = lzf_string(s) {
            return n;
        }
    }
    len_len(s.len()) + s.len()
}

/// `rdbSaveLzfStringObject`: type byte, compressed and original lengths,
/// the compressed bytes; None when LZF does not save 4 bytes.
fn lzf_string(s: &[u8]) -> Option<usize> {
    if s.len() <= 4 {
        return None;
    }
    let c = lzf_compressed_len(s, s.len() - 4)?;
    Some(1 + len_len(c) + len_len(s.len()) + c)
}

/// The value's serialized length.
pub fn serialized_len(e: &Entry, compress: bool) -> usize {
    if let Some(s) = e.str_ref() {
        return match s {
            crate::keyspace::value::StrRef::Int(n) => int_string(n),
            crate::keyspace::value::StrRef::Bytes(b) => raw_string(b, compress),
            crate::keyspace::value::StrRef::Shared(b) => raw_string(b, compress),
            crate::keyspace::value::StrRef::SharedVec(b) => raw_string(b, compress),
        };
    }
    let v = e.value();
    let v: &Value = &v;
    match v {
        Value::Str(s) => match s.as_str_ref() {
            crate::keyspace::value::StrRef::Int(n) => int_string(n),
            crate::keyspace::value::StrRef::Bytes(b) => raw_string(b, compress),
            crate::keyspace::value::StrRef::Shared(b) => raw_string(b, compress),
            crate::keyspace::value::StrRef::SharedVec(b) => raw_string(b, compress),
        },
        Value::List(l) => {
            // A listpack-encoded list is saved as a quicklist of one node.
            let nodes = l.rdb_nodes();
            len_len(nodes.len())
                + nodes
                    .iter()
                    .map(|(_, bytes)| 1 + raw_string(bytes, compress))
                    .sum::<usize>()
        }
        Value::Hash(h) => {
            if h.encoding() == "listpack" {
                let items: Vec<&[u8]> = h.iter().flat_map(|(k, v)| [k, v]).collect();
                raw_string(&listpack_blob(items.into_iter().map(Elem::of)), compress)
            } else {
                len_len(h.len())
                    + h.iter()
                        .map(|(k, v)| raw_string(k, compress) + raw_string(v, compress))
                        .sum::<usize>()
            }
        }
        Value::Set(s) => match s.encoding() {
            "intset" => {
                let ints: Vec<i64> = s
                    .members()
                    .filter_map(|m| match m {
                        Member::Int(n) => Some(n),
                        Member::Bytes(b) => parse_i64(b),
                    })
                    .collect();
                raw_string(&intset_blob(&ints), compress)
            }
            "listpack" => {
                let owned: Vec<Vec<u8>> = s.members().map(|m| m.to_bytes().into_owned()).collect();
                raw_string(&listpack_blob(owned.iter().map(|b| Elem::of(b))), compress)
            }
            _ => {
                len_len(s.len())
                    + s.members()
                        .map(|m| raw_string(&m.to_bytes(), compress))
                        .sum::<usize>()
            }
        },
        Value::ZSet(z) => {
            if z.encoding() == "listpack" {
                // Scores are stored as Valkey formats them (d2string).
                let owned: Vec<(Vec<u8>, Vec<u8>)> = z
                    .iter()
                    .map(|(m, sc)| (m.to_vec(), crate::util::num::format_double(sc).into_bytes()))
                    .collect();
                let elems = owned.iter().flat_map(|(m, sc)| [Elem::of(m), Elem::of(sc)]);
                raw_string(&listpack_blob(elems), compress)
            } else {
                // Member then the score as a binary double.
                len_len(z.len())
                    + z.iter()
                        .map(|(m, _)| raw_string(m, compress) + 8)
                        .sum::<usize>()
            }
        }
    }
}

/// Valkey's intset: encoding width, length, then the sorted members.
fn intset_blob(ints: &[i64]) -> Vec<u8> {
    let width: usize = if ints
        .iter()
        .all(|&n| (i16::MIN as i64..=i16::MAX as i64).contains(&n))
    {
        2
    } else if ints
        .iter()
        .all(|&n| (i32::MIN as i64..=i32::MAX as i64).contains(&n))
    {
        4
    } else {
        8
    };
    let mut sorted = ints.to_vec();
    sorted.sort_unstable();
    let mut out = Vec::with_capacity(8 + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for n in sorted {
        out.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    out
}

// ---- LZF (liblzf 3.6 `lzf_compress`, HLOG 16, VERY_FAST, as Valkey) ----

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Length of `input` compressed by `lzf_compress` into at most `out_len`
/// bytes; None when it does not fit (as lzf_compress returns 0).
fn lzf_compressed_len(input: &[u8], out_len: usize) -> Option<usize> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    // Positions + 1 (0: empty slot, never a match as `ref > in_data` fails).
    let mut htab = vec![0u32; HSIZE];
    // `op` is the output length so far (a literal run's header byte is
    // counted when the run starts); `lit` the current run's length.
    let mut op: usize = 1;
    let mut lit: usize = 0;
    let mut ip: usize = 0;
    let frst = |p: usize| (u32::from(input[p]) << 8) | u32::from(input[p + 1]);
    let next = |v: u32, p: usize| (v << 8) | u32::from(input[p + 2]);
    if in_len < 2 {
        // Only literals.
        return finish_literals(input, ip, op, lit, out_len);
    }
    let mut hval = frst(ip);
    while ip + 2 < in_len {
        hval = next(hval, ip);
        let slot = idx(hval);
        let r = htab[slot] as usize; // position + 1 of the earlier occurrence
        htab[slot] = ip as u32 + 1;
        let found = r > 1 && {
            let rf = r - 1;
            rf < ip
                && ip - rf - 1 < MAX_OFF
                && input[rf + 2] == input[ip + 2]
                && input[rf] == input[ip]
                && input[rf + 1] == input[ip + 1]
        };
        if found {
            let rf = r - 1;
            let mut len: usize = 2;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            // Output check: a back reference takes up to 3 bytes plus the
            // next literal header.
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            // Close the literal run (its header byte is already counted);
            // an empty run is undone.
            if lit == 0 {
                op -= 1;
            }
            let mut broke = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[rf + len] != input[ip + len] {
                        broke = true;
                        break;
                    }
                }
            }
            if !broke {
                loop {
                    len += 1;
                    if !(len < maxlen && input[rf + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            op += if len < 7 { 1 } else { 2 };
            op += 1; // low byte of the offset
            lit = 0;
            op += 1; // next literal run header
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            // VERY_FAST: hash the two positions before the new `ip`.
            ip -= 2;
            hval = frst(ip);
            hval = next(hval, ip);
            htab[idx(hval)] = ip as u32 + 1;
            ip += 1;
            hval = next(hval, ip);
            htab[idx(hval)] = ip as u32 + 1;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    finish_literals(input, ip, op, lit, out_len)
}

/// The trailing literals of `lzf_compress`, then the final run header.
fn finish_literals(
    input: &[u8],
    mut ip: usize,
    mut op: usize,
    mut lit: usize,
    out_len: usize,
) -> Option<usize> {
    while ip < input.len() {
        lit += 1;
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            lit = 0;
            op += 1;
        }
    }
    if lit == 0 {
        op -= 1;
    }
    if op > out_len {
        return None;
    }
    Some(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_like_valkey() {
        // Checked against Valkey 9.1's DEBUG OBJECT serializedlength.
        assert_eq!(int_string(100), 2);
        assert_eq!(int_string(12345), 3);
        assert_eq!(raw_string(b"hello", true), 6);
        // 100 × 'a' compresses to 10 bytes: 1 + 1 + 1 + 10.
        assert_eq!(raw_string(&[b'a'; 100], true), 13);
        assert_eq!(raw_string(&[b'a'; 100], false), 102);
        // RPUSH l a b c: one node, container byte, 16-byte listpack.
        let blob = listpack_blob([Elem::of(b"a"), Elem::of(b"b"), Elem::of(b"c")]);
        assert_eq!(blob.len(), 16);
        assert_eq!(1 + 1 + raw_string(&blob, true), 19);
        // SADD st 1 2 3: intset of 16-bit members, 14 bytes.
        assert_eq!(raw_string(&intset_blob(&[1, 2, 3]), true), 15);
        // HSET h a 1: listpack of 2 entries.
        let blob = listpack_blob([Elem::of(b"a"), Elem::of(b"1")]);
        assert_eq!(raw_string(&blob, true), 13);
    }

    #[test]
    fn lzf_is_bounded_and_deterministic() {
        let text: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        let a = lzf_compressed_len(&text, text.len() - 4);
        assert_eq!(a, lzf_compressed_len(&text, text.len() - 4));
        // Incompressible data does not fit in len - 4.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(lzf_compressed_len(&noise, noise.len() - 4), None);
        assert_eq!(lzf_compressed_len(b"", 10), None);
    }
}
