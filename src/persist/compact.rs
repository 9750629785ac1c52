//! The packed encodings stored as one RDB string: intset, listpack,
//! ziplist (RDB 8 and older) and zipmap (RDB 3 and older). Each parser
//! checks the header against the blob's size, every entry's encoding,
//! length and (for listpack and ziplist) its back length against the bytes
//! it stands in, the end marker, and the announced count; entries are
//! returned borrowed from the blob. Errors carry the offset in the blob.

use super::{Error, Result};
use crate::keyspace::list::Elem;

fn err(at: usize, what: impl Into<String>) -> Error {
    Error::new(at, what)
}

/// `n` bytes at `at`, or an error naming `what`.
fn slice<'a>(b: &'a [u8], at: usize, n: usize, what: &str) -> Result<&'a [u8]> {
    at.checked_add(n)
        .and_then(|end| b.get(at..end))
        .ok_or_else(|| err(at, format!("{what} past the end of the blob")))
}

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Sign-extends the low `bits` bits of `v`.
fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

// ---------------------------------------------------------------------------
// intset

/// The members of an intset: a 4-byte width (2, 4 or 8), a 4-byte count,
/// then the members, strictly ascending.
pub fn intset(b: &[u8]) -> Result<Vec<i64>> {
    let head = slice(b, 0, 8, "intset header")?;
    let width = le(&head[..4]);
    let count = le(&head[4..8]);
    if !matches!(width, 2 | 4 | 8) {
        return Err(err(0, format!("intset width {width}")));
    }
    if count == 0 {
        return Err(err(4, "an empty intset"));
    }
    if count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(b.len() as u64) {
        return Err(err(4, "intset count does not match its size"));
    }
    let w = width as usize;
    let mut out = Vec::with_capacity(count as usize);
    for (i, chunk) in b[8..].chunks_exact(w).enumerate() {
        let v = sext(le(chunk), (w * 8) as u32);
        if out.last().is_some_and(|&p| p >= v) {
            return Err(err(8 + i * w, "intset members out of order"));
        }
        out.push(v);
    }
    Ok(out)
}

/// An intset holding `ints` (sorted here), in the narrowest width.
pub fn intset_blob(ints: &[i64]) -> Vec<u8> {
    let fits = |lo: i64, hi: i64| ints.iter().all(|n| (lo..=hi).contains(n));
    let width: usize = if fits(i16::MIN.into(), i16::MAX.into()) {
        2
    } else if fits(i32::MIN.into(), i32::MAX.into()) {
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

// ---------------------------------------------------------------------------
// listpack

const LP_HEADER: usize = 6;
const LP_EOF: u8 = 0xff;

/// Bytes of a listpack back length for an entry of `n` bytes.
fn backlen_size(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// The entries of a listpack: a 4-byte total size, a 2-byte count (65535:
/// not kept), the entries, the 0xff end byte.
pub fn listpack(b: &[u8]) -> Result<Vec<Elem<'_>>> {
    let head = slice(b, 0, LP_HEADER, "listpack header")?;
    if le(&head[..4]) != b.len() as u64 {
        return Err(err(0, "listpack size does not match its blob"));
    }
    let count = le(&head[4..6]) as usize;
    let mut out = Vec::with_capacity(count.min(b.len()));
    let mut p = LP_HEADER;
    loop {
        let Some(&c) = b.get(p) else {
            return Err(err(p, "listpack without its end byte"));
        };
        if c == LP_EOF {
            if p + 1 != b.len() {
                return Err(err(p, "bytes after the listpack end"));
            }
            break;
        }
        let (elem, size) = lp_entry(b, p)?;
        let bl = backlen_size(size);
        let back = slice(b, p + size, bl, "listpack back length")?;
        // Written backwards: the first byte holds the highest 7 bits, the
        // others are flagged with bit 7.
        let mut v: u64 = 0;
        for (i, &x) in back.iter().enumerate() {
            if (i == 0) != (x & 0x80 == 0) {
                return Err(err(p + size, "listpack back length malformed"));
            }
            v = (v << 7) | u64::from(x & 0x7f);
        }
        if v != size as u64 {
            return Err(err(
                p + size,
                "listpack back length does not match its entry",
            ));
        }
        out.push(elem);
        p += size + bl;
    }
    if count != 65535 && count != out.len() {
        return Err(err(4, "listpack count does not match its entries"));
    }
    Ok(out)
}

/// One listpack entry at `p`: the element, and its size without the back
/// length.
fn lp_entry(b: &[u8], p: usize) -> Result<(Elem<'_>, usize)> {
    let c = b[p];
    let int = |n: usize, bits: u32| -> Result<(Elem<'_>, usize)> {
        let v = le(slice(b, p + 1, n, "listpack integer")?);
        Ok((Elem::Int(sext(v, bits)), 1 + n))
    };
    let string = |hdr: usize, len: usize| -> Result<(Elem<'_>, usize)> {
        let s = slice(b, p + hdr, len, "listpack string")?;
        Ok((Elem::Bytes(s), hdr + len))
    };
    if c & 0x80 == 0 {
        Ok((Elem::Int(i64::from(c & 0x7f)), 1))
    } else if c & 0xc0 == 0x80 {
        string(1, usize::from(c & 0x3f))
    } else if c & 0xe0 == 0xc0 {
        let lo = *b
            .get(p + 1)
            .ok_or_else(|| err(p, "listpack integer cut short"))?;
        let v = (u64::from(c & 0x1f) << 8) | u64::from(lo);
        Ok((Elem::Int(sext(v, 13)), 2))
    } else if c & 0xf0 == 0xe0 {
        let lo = *b
            .get(p + 1)
            .ok_or_else(|| err(p, "listpack length cut short"))?;
        string(2, (usize::from(c & 0x0f) << 8) | usize::from(lo))
    } else {
        match c {
            0xf0 => {
                let n = le(slice(b, p + 1, 4, "listpack length")?) as usize;
                string(5, n)
            }
            0xf1 => int(2, 16),
            0xf2 => int(3, 24),
            0xf3 => int(4, 32),
            0xf4 => int(8, 64),
            _ => Err(err(p, format!("listpack entry encoding 0x{c:02x}"))),
        }
    }
}

// ---------------------------------------------------------------------------
// ziplist

const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xff;

/// The entries of a ziplist: 4-byte total size, 4-byte offset of the last
/// entry, 2-byte count (65535: not kept), the entries (previous entry's
/// size, encoding, data), the 0xff end byte.
pub fn ziplist(b: &[u8]) -> Result<Vec<Elem<'_>>> {
    let head = slice(b, 0, ZL_HEADER, "ziplist header")?;
    if le(&head[..4]) != b.len() as u64 {
        return Err(err(0, "ziplist size does not match its blob"));
    }
    let tail = le(&head[4..8]) as usize;
    let count = le(&head[8..10]) as usize;
    let mut out = Vec::with_capacity(count.min(b.len()));
    let mut p = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last_start = ZL_HEADER;
    loop {
        let Some(&c) = b.get(p) else {
            return Err(err(p, "ziplist without its end byte"));
        };
        if c == ZL_END {
            if p + 1 != b.len() {
                return Err(err(p, "bytes after the ziplist end"));
            }
            break;
        }
        let (prevlen, plen) = if c < 254 {
            (usize::from(c), 1)
        } else if c == 254 {
            (
                le(slice(b, p + 1, 4, "ziplist previous length")?) as usize,
                5,
            )
        } else {
            return Err(err(p, "ziplist previous length"));
        };
        if prevlen != prev_size {
            return Err(err(p, "ziplist previous length does not match"));
        }
        let e = p + plen;
        let enc = *b.get(e).ok_or_else(|| err(e, "ziplist entry cut short"))?;
        let (elem, body) = match enc >> 6 {
            0 => {
                let n = usize::from(enc & 0x3f);
                (Elem::Bytes(slice(b, e + 1, n, "ziplist string")?), 1 + n)
            }
            1 => {
                let lo = *b
                    .get(e + 1)
                    .ok_or_else(|| err(e, "ziplist length cut short"))?;
                let n = (usize::from(enc & 0x3f) << 8) | usize::from(lo);
                (Elem::Bytes(slice(b, e + 2, n, "ziplist string")?), 2 + n)
            }
            2 => {
                if enc != 0x80 {
                    return Err(err(e, "ziplist string encoding"));
                }
                let l = slice(b, e + 1, 4, "ziplist length")?;
                let n = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
                (Elem::Bytes(slice(b, e + 5, n, "ziplist string")?), 5 + n)
            }
            _ => {
                let int = |n: usize, bits: u32| -> Result<(Elem<'_>, usize)> {
                    let v = le(slice(b, e + 1, n, "ziplist integer")?);
                    Ok((Elem::Int(sext(v, bits)), 1 + n))
                };
                match enc {
                    0xc0 => int(2, 16)?,
                    0xd0 => int(4, 32)?,
                    0xe0 => int(8, 64)?,
                    0xf0 => int(3, 24)?,
                    0xfe => int(1, 8)?,
                    0xf1..=0xfd => (Elem::Int(i64::from(enc & 0x0f) - 1), 1),
                    _ => return Err(err(e, format!("ziplist entry encoding 0x{enc:02x}"))),
                }
            }
        };
        last_start = p;
        prev_size = plen + body;
        out.push(elem);
        p += prev_size;
    }
    if !out.is_empty() && tail != last_start || out.is_empty() && tail != ZL_HEADER {
        return Err(err(4, "ziplist tail offset does not match"));
    }
    if count != 65535 && count != out.len() {
        return Err(err(8, "ziplist count does not match its entries"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// zipmap

/// The (field, value) pairs of a zipmap: a count byte (254 or more: not
/// kept), then pairs of length-prefixed field and value (the value
/// followed by a byte counting unused bytes after it), then 0xff.
pub fn zipmap(b: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    if b.is_empty() {
        return Err(err(0, "an empty zipmap"));
    }
    let count = usize::from(b[0]);
    let mut p = 1;
    let mut out = Vec::new();
    // A zipmap length: one byte below 254, or 254 and 4 bytes.
    let len_at = |p: usize| -> Result<Option<(usize, usize)>> {
        match b.get(p) {
            None => Err(err(p, "zipmap without its end byte")),
            Some(&255) => Ok(None),
            Some(&254) => Ok(Some((le(slice(b, p + 1, 4, "zipmap length")?) as usize, 5))),
            Some(&n) => Ok(Some((usize::from(n), 1))),
        }
    };
    loop {
        let Some((klen, kl)) = len_at(p)? else {
            if p + 1 != b.len() {
                return Err(err(p, "bytes after the zipmap end"));
            }
            break;
        };
        let key = slice(b, p + kl, klen, "zipmap field")?;
        p += kl + klen;
        let Some((vlen, vl)) = len_at(p)? else {
            return Err(err(p, "zipmap field without a value"));
        };
        p += vl;
        let free = usize::from(*b.get(p).ok_or_else(|| err(p, "zipmap free byte"))?);
        p += 1;
        let value = slice(b, p, vlen, "zipmap value")?;
        slice(b, p + vlen, free, "zipmap free space")?;
        p += vlen + free;
        out.push((key, value));
    }
    if count < 254 && count != out.len() {
        return Err(err(0, "zipmap count does not match its entries"));
    }
    if out.is_empty() {
        return Err(err(0, "an empty zipmap"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::list::listpack_blob;

    #[test]
    fn intsets() {
        for ints in [vec![1, 2, 3], vec![-70000, 5], vec![i64::MIN, 0, i64::MAX]] {
            let b = intset_blob(&ints);
            assert_eq!(intset(&b).unwrap(), ints);
        }
        // Captured from Valkey 9.1 (SADD s 1 2 3, DUMP): width 2, count 3.
        let b = b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00";
        assert_eq!(intset(b).unwrap(), vec![1, 2, 3]);
        // Bad width, count/size mismatch, order, empty, huge count.
        assert!(intset(b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00").is_err());
        assert!(intset(&b[..13]).is_err());
        assert!(intset(b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00").is_err());
        assert!(intset(b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00").is_err());
        assert!(intset(b"\x02\x00\x00\x00\x00\x00\x00\x00").is_err());
        assert!(intset(b"\x08\x00\x00\x00\xff\xff\xff\xff").is_err());
        assert!(intset(b"\x02\x00").is_err());
    }

    #[test]
    fn listpacks() {
        let big = vec![b'x'; 5000];
        let elems = [
            Elem::Int(0),
            Elem::Int(127),
            Elem::Int(-1),
            Elem::Int(4095),
            Elem::Int(-4096),
            Elem::Int(40000),
            Elem::Int(-8_000_000),
            Elem::Int(1 << 40),
            Elem::Int(i64::MIN),
            Elem::Bytes(b"a"),
            Elem::Bytes(&[b'y'; 100]),
            Elem::Bytes(&big),
            Elem::Bytes(b""),
        ];
        let b = listpack_blob(elems);
        assert_eq!(listpack(&b).unwrap(), elems);
        // Captured from Valkey 9.1 (RPUSH l a b 1).
        let v = b"\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff";
        assert_eq!(
            listpack(v).unwrap(),
            [Elem::Bytes(b"a"), Elem::Bytes(b"b"), Elem::Int(1)]
        );
        // Every truncation and every single-byte change is an error or
        // parses to something else; none panics.
        for i in 0..v.len() {
            assert!(listpack(&v[..i]).is_err());
            for x in [0u8, 0x7f, 0x80, 0xf0, 0xff] {
                let mut c = v.to_vec();
                c[i] = x;
                let _ = listpack(&c);
            }
        }
        let mut bad = v.to_vec();
        bad[4] = 2; // count
        assert!(listpack(&bad).is_err());
        bad = v.to_vec();
        bad[8] = 3; // back length
        assert!(listpack(&bad).is_err());
        bad = v.to_vec();
        bad[12] = 0xf5; // unknown encoding
        assert!(listpack(&bad).is_err());
        // A string length far past the blob.
        assert!(listpack(b"\x0c\x00\x00\x00\x01\x00\xf0\xff\xff\xff\x7f\xff").is_err());
    }

    /// A ziplist from (prevlen-free) encoded entries.
    fn zl(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = ZL_HEADER;
        for e in entries {
            last = ZL_HEADER + body.len();
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(254);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let total = ZL_HEADER + body.len() + 1;
        let mut out = Vec::new();
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&(last as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(ZL_END);
        out
    }

    #[test]
    fn ziplists() {
        let long = [&[0x41u8, 0x2c][..], &[b'z'; 300][..]].concat();
        let b = zl(&[
            b"\x03abc",
            b"\xf1",
            b"\xfd",
            b"\xfe\x80",
            b"\xc0\x00\x80",
            b"\xf0\x00\x00\x80",
            b"\xd0\x00\x00\x00\x80",
            b"\xe0\x00\x00\x00\x00\x00\x00\x00\x80",
            &long,
            b"\x80\x00\x00\x00\x01q",
        ]);
        assert_eq!(
            ziplist(&b).unwrap(),
            [
                Elem::Bytes(b"abc"),
                Elem::Int(0),
                Elem::Int(12),
                Elem::Int(-128),
                Elem::Int(-32768),
                Elem::Int(-(1 << 23)),
                Elem::Int(i64::from(i32::MIN)),
                Elem::Int(i64::MIN),
                Elem::Bytes(&[b'z'; 300]),
                Elem::Bytes(b"q"),
            ]
        );
        assert!(ziplist(&zl(&[])).unwrap().is_empty());
        for i in 0..b.len() {
            assert!(ziplist(&b[..i]).is_err());
        }
        let mut bad = b.clone();
        bad[4] ^= 1; // tail
        assert!(ziplist(&bad).is_err());
        bad = b.clone();
        bad[15] = 9; // second entry's prevlen
        assert!(ziplist(&bad).is_err());
        bad = b.clone();
        bad[8] = 3; // count
        assert!(ziplist(&bad).is_err());
        assert!(ziplist(&zl(&[b"\x90"])).is_err());
    }

    #[test]
    fn zipmaps() {
        // {"foo": "bar", "hello": "world"} with a free byte on "bar".
        let b = b"\x02\x03foo\x03\x01barX\x05hello\x05\x00world\xff";
        assert_eq!(
            zipmap(b).unwrap(),
            [(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]
        );
        for i in 0..b.len() {
            assert!(zipmap(&b[..i]).is_err());
        }
        let mut bad = b.to_vec();
        bad[0] = 3;
        assert!(zipmap(&bad).is_err());
        assert!(zipmap(b"\x01\x03foo\xff").is_err());
        assert!(zipmap(b"\x01\xfe\xff\xff\xff\x7f").is_err());
    }
}
