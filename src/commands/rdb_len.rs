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
use crate::persist::compact::intset_blob;
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
        Value::Stream(s) => {
            // The record less its type byte.
            let mut out = Vec::new();
            crate::persist::stream::write_stream(&mut out, s, compress);
            out.len() - 1
        }
    }
}

/// Length of `input` compressed by `lzf_compress` into at most `out_len`
/// bytes; None when it does not fit (as lzf_compress returns 0). The RDB
/// writer's compressor, so the length is what a save would write.
fn lzf_compressed_len(input: &[u8], out_len: usize) -> Option<usize> {
    crate::persist::lzf::compress(input, out_len).map(|c| c.len())
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
