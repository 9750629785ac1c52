//! DEBUG DIGEST and DIGEST-VALUE: Valkey's SHA-1 signatures of the dataset
//! and of single values, computed the same way (`xorObjectDigest`,
//! `computeDatasetDigest` in Valkey's debug.c) so the hex strings equal
//! Valkey's for the same data. Unordered collections (sets, hashes, sorted
//! sets, the keys of a db) xor their elements' digests; lists mix them in
//! order. A hash field's TTL is not part of it (Valkey 9.1's digest of a
//! hash is the same with or without them), but a field whose TTL has
//! passed and that the active expiry has not removed yet is left out, as
//! Valkey's hash iterator skips it.

use crate::keyspace::{Entry, Value};
use crate::util::num::format_double;

/// SHA-1 of `data` (FIPS 180-1).
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// `xorDigest`: digest ^= SHA1(data).
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// `mixDigest`: digest = SHA1(digest ^ SHA1(data)).
pub(crate) fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(digest);
}

/// `xorObjectDigest`: mixes the type, the value and whether it expires;
/// `now` tells which hash fields are still there.
pub fn object_digest(digest: &mut [u8; 20], e: &Entry, now: i64) {
    let view = e.value();
    let v: &Value = &view;
    let type_code: u32 = match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix_digest(digest, &type_code.to_be_bytes());
    match v {
        Value::Str(s) => {
            // Integers as their decimal text, as Valkey's digest reads them.
            mix_digest(digest, &s.as_str_ref().to_bytes());
        }
        Value::List(l) => {
            for x in l.iter() {
                mix_digest(digest, &x.to_vec());
            }
        }
        Value::Set(s) => {
            for m in s.members() {
                xor_digest(digest, &m.to_bytes());
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, m);
                mix_digest(&mut ele, format_double(score).as_bytes());
                xor_digest(digest, &ele);
            }
        }
        Value::Hash(h) => {
            for (f, val) in h.iter_live(now) {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, f);
                mix_digest(&mut ele, val);
                xor_digest(digest, &ele);
            }
        }
        Value::Stream(s) => crate::commands::stream::digest(digest, s),
    }
    if e.expire() != 0 {
        xor_digest(digest, b"!!expire!!");
    }
}

/// One key's contribution to the dataset digest: its name, then its value.
pub fn key_digest(key: &[u8], e: &Entry, now: i64) -> [u8; 20] {
    let mut d = [0u8; 20];
    mix_digest(&mut d, key);
    object_digest(&mut d, e, now);
    d
}

/// `computeDatasetDigest` for the dbs given as (id, key digests).
pub fn dataset_digest(dbs: impl IntoIterator<Item = (usize, Vec<[u8; 20]>)>) -> [u8; 20] {
    let mut fin = [0u8; 20];
    for (id, keys) in dbs {
        if keys.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(id as u32).to_be_bytes());
        for k in keys {
            // Valkey xors in the SHA-1 of each key's digest (xorDigest).
            xor_digest(&mut fin, &k);
        }
    }
    fin
}

pub fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_answers() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 1000])),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn empty_dataset_is_zero() {
        assert_eq!(hex(&dataset_digest([(0, Vec::new())])), "0".repeat(40));
    }
}
