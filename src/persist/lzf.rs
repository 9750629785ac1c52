//! liblzf's format (RDB string encoding 3): a compressor that writes what
//! Valkey's `lzf_compress` writes (16-bit hash table, "very fast" mode,
//! table empty at each call) and a decompressor that checks every run and
//! back reference against the input and the announced output length.
//!
//! The format: a control byte below 32 starts a run of `ctrl + 1` literal
//! bytes; otherwise its top 3 bits are a length (7: one more length byte
//! follows, added) and its low 5 bits the high bits of an offset whose low
//! byte follows; the reference copies `len + 2` bytes from `offset + 1`
//! bytes back in the output, overlapping allowed.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// The most output one input byte can stand for (a 3-byte reference of
/// 264 bytes): bounds a claimed length before anything is allocated.
pub const MAX_RATIO: usize = 88;

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// `input` compressed, if that takes at most `max_out` bytes (None, as
/// `lzf_compress` returns 0, when it does not, or for empty input).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || max_out == 0 {
        return None;
    }
    // Zeroing a 256 KiB table per call cost more than compressing a short
    // value (an RDB save compresses every value over 20 bytes): each
    // thread keeps one, and each call's entries are offset by a base past
    // every earlier call's, so older entries read as empty, exactly as in
    // a zeroed table.
    HTAB.with(|t| {
        let mut t = t.borrow_mut();
        let (htab, base) = &mut *t;
        if htab.is_empty() || u64::from(*base) + in_len as u64 + 2 > u64::from(u32::MAX) {
            *htab = vec![0u32; HSIZE];
            *base = 0;
        }
        let out = compress_with(input, max_out, htab, *base);
        *base += in_len as u32 + 1;
        out
    })
}

thread_local! {
    /// The hash table and the base of the next call's entries.
    static HTAB: std::cell::RefCell<(Vec<u32>, u32)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// `compress` with a table whose entries at or below `base` are empty;
/// slot values are `base` + input position + 1.
fn compress_with(input: &[u8], max_out: usize, htab: &mut [u32], base: u32) -> Option<Vec<u8>> {
    let in_len = input.len();
    // Slot values are input positions + 1; 0 (empty) never matches,
    // like liblzf's zeroed table whose entries point at the input start.
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(in_len + in_len / 16 + 64));
    // `run` is the index of the current literal run's header byte.
    let mut run = 0usize;
    out.push(0);
    let mut lit: usize = 0;
    let mut ip: usize = 0;
    let frst = |p: usize| (u32::from(input[p]) << 8) | u32::from(input[p + 1]);
    let next = |v: u32, p: usize| (v << 8) | u32::from(input[p + 2]);
    if in_len >= 2 {
        let mut hval = frst(0);
        while ip + 2 < in_len {
            hval = next(hval, ip);
            let slot = idx(hval);
            let r = htab[slot].saturating_sub(base) as usize;
            htab[slot] = base + ip as u32 + 1;
            let matched = r > 1 && {
                let rf = r - 1;
                rf < ip
                    && ip - rf - 1 < MAX_OFF
                    && input[rf + 2] == input[ip + 2]
                    && input[rf] == input[ip]
                    && input[rf + 1] == input[ip + 1]
            };
            if matched {
                let rf = r - 1;
                let off = ip - rf - 1;
                let mut len: usize = 2;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                let op = out.len();
                if op + 3 + 1 >= max_out && op - usize::from(lit == 0) + 3 + 1 >= max_out {
                    return None;
                }
                // Close the literal run; an empty one is undone.
                out[run] = lit.wrapping_sub(1) as u8;
                if lit == 0 {
                    out.pop();
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
                if len < 7 {
                    out.push(((off >> 8) + (len << 5)) as u8);
                } else {
                    out.push(((off >> 8) + (7 << 5)) as u8);
                    out.push((len - 7) as u8);
                }
                out.push(off as u8);
                lit = 0;
                run = out.len();
                out.push(0);
                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }
                ip -= 2;
                hval = frst(ip);
                hval = next(hval, ip);
                htab[idx(hval)] = base + ip as u32 + 1;
                ip += 1;
                hval = next(hval, ip);
                htab[idx(hval)] = base + ip as u32 + 1;
                ip += 1;
            } else {
                if out.len() >= max_out {
                    return None;
                }
                lit += 1;
                out.push(input[ip]);
                ip += 1;
                if lit == MAX_LIT {
                    out[run] = (MAX_LIT - 1) as u8;
                    lit = 0;
                    run = out.len();
                    out.push(0);
                }
            }
        }
    }
    if out.len() + 3 > max_out {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out.push(input[ip]);
        ip += 1;
        if lit == MAX_LIT {
            out[run] = (MAX_LIT - 1) as u8;
            lit = 0;
            run = out.len();
            out.push(0);
        }
    }
    out[run] = lit.wrapping_sub(1) as u8;
    if lit == 0 {
        out.pop();
    }
    if out.len() > max_out {
        return None;
    }
    Some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes.
/// Errors name what was wrong; nothing larger than `MAX_RATIO` times the
/// input is ever reserved.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, &'static str> {
    if out_len > input.len().saturating_mul(MAX_RATIO) {
        return Err("LZF length larger than its compressed data can hold");
    }
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if out.len() + n > out_len {
                return Err("LZF literal run past the announced length");
            }
            let Some(lits) = input.get(ip..ip + n) else {
                return Err("LZF literal run past the input");
            };
            out.extend_from_slice(lits);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let Some(&b) = input.get(ip) else {
                return Err("LZF back reference cut short");
            };
            if len == 7 {
                len += b as usize;
                ip += 1;
            }
            let Some(&low) = input.get(ip) else {
                return Err("LZF back reference cut short");
            };
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low as usize + 1;
            let n = len + 2;
            if out.len() + n > out_len {
                return Err("LZF back reference past the announced length");
            }
            if back > out.len() {
                return Err("LZF back reference before the start");
            }
            let from = out.len() - back;
            for i in 0..n {
                let c = out[from + i];
                out.push(c);
            }
        }
    }
    if out.len() != out_len {
        return Err("LZF data shorter than the announced length");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, mut x: u64) -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn round_trips() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            b"ab".to_vec(),
            b"abc".to_vec(),
            vec![b'a'; 100],
            vec![b'x'; 100_000],
            b"hello hello hello hello hello world world world".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            (0..70_000u32).map(|i| (i / 3 % 7) as u8).collect(),
        ];
        for n in [1, 2, 3, 31, 32, 33, 64, 1000] {
            inputs.push(noise(n, n as u64 + 1));
        }
        for inp in inputs {
            let c = compress(&inp, inp.len() * 2 + 16).expect("fits in twice the input");
            assert_eq!(decompress(&c, inp.len()).as_deref(), Ok(&inp[..]));
        }
    }

    #[test]
    fn matches_valkey_output() {
        // Valkey 9.1: SET k <100 × 'a'>, DUMP: type 0, LZF (0xc3), clen 9,
        // len 100, then these bytes (position 0 is never referenced).
        let c = compress(&[b'a'; 100], 96).unwrap();
        assert_eq!(c, b"\x01aa\xe0\x57\x00\x01aa");
        // Incompressible data does not fit in len - 4; neither does empty.
        let n = noise(1000, 7);
        assert_eq!(compress(&n, n.len() - 4), None);
        assert_eq!(compress(b"", 10), None);
    }

    #[test]
    fn a_reused_table_compresses_as_a_zeroed_one() {
        // Similar inputs one after another: stale entries from earlier
        // calls would find matches a zeroed table does not have.
        for i in 0..300u64 {
            let mut inp = b"prefix-shared-by-all-".repeat(1 + (i % 5) as usize);
            inp.extend(noise(20 + (i % 50) as usize, i + 1));
            inp.extend_from_slice(b"-and-a-shared-suffix-too");
            let fresh = compress_with(&inp, inp.len() + 64, &mut vec![0u32; HSIZE], 0);
            assert_eq!(compress(&inp, inp.len() + 64), fresh, "input {i}");
        }
    }

    #[test]
    fn corrupt_inputs_are_errors() {
        let good = compress(&[b'a'; 100], 96).unwrap();
        // Wrong announced lengths.
        assert!(decompress(&good, 99).is_err());
        assert!(decompress(&good, 101).is_err());
        // A reference before the output start.
        assert!(decompress(b"\x20\x05", 10).is_err());
        // Runs cut short.
        assert!(decompress(b"\x05ab", 6).is_err());
        assert!(decompress(b"\x00a\xe0", 20).is_err());
        assert!(decompress(b"\x00a\x20", 20).is_err());
        // A length no input of this size can produce: refused up front.
        assert!(decompress(b"\x00a", usize::MAX).is_err());
        assert_eq!(decompress(b"", 0), Ok(vec![]));
        // Every truncation of a valid stream fails or is shorter.
        for i in 0..good.len() {
            assert!(decompress(&good[..i], 100).is_err());
        }
    }
}
