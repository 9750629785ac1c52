//! The RDB primitives: lengths (1, 2, 5 or 9 bytes), strings (raw, as an
//! 8/16/32-bit integer, or LZF-compressed), doubles (binary, or the old
//! length-prefixed text form), and the bounds-checked `Reader` that reads
//! them back.

use std::borrow::Cow;

use super::lzf;
use super::{Error, Result};
use crate::util::num::{parse_f64, parse_i64, push_int};

const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
const ENCVAL: u8 = 3;
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

// ---------------------------------------------------------------------------
// Writing

/// `rdbSaveLen`.
pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8 | (LEN_6BIT << 6));
    } else if n < 1 << 14 {
        out.push((n >> 8) as u8 | (LEN_14BIT << 6));
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbEncodeInteger`: the integer in the smallest of the three encodings
/// that holds it; false when none does.
fn write_int_encoded(out: &mut Vec<u8>, v: i64) -> bool {
    let tag = |enc: u8| (ENCVAL << 6) | enc;
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[tag(ENC_INT8), b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(tag(ENC_INT16));
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(tag(ENC_INT32));
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// `rdbSaveLongLongAsStringObject`: an integer value, integer-encoded when
/// it fits 32 bits, else as its decimal digits.
pub fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !write_int_encoded(out, v) {
        let mut digits = Vec::with_capacity(20);
        push_int(&mut digits, v);
        write_len(out, digits.len() as u64);
        out.extend_from_slice(&digits);
    }
}

/// `rdbSaveRawString`: short canonical integers integer-encoded; with
/// `compress`, strings over 20 bytes LZF-compressed when that saves at
/// least 4 bytes; else length and bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = parse_i64(s) {
            if write_int_encoded(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push((ENCVAL << 6) | ENC_LZF);
            write_len(out, c.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `rdbSaveBinaryDoubleValue`: 8 bytes, little-endian.
pub fn write_binary_double(out: &mut Vec<u8>, d: f64) {
    out.extend_from_slice(&d.to_le_bytes());
}

// ---------------------------------------------------------------------------
// Reading

/// A length field: a count, or the tag of a specially encoded string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

/// Reads RDB data from a byte slice; every read is bounds-checked and a
/// failure says where it happened and what was expected.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Added to positions in errors (where this slice sits in a file).
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Offset of the next byte.
    pub fn pos(&self) -> usize {
        self.base + self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// An error at the current offset.
    pub fn err(&self, what: impl Into<String>) -> Error {
        Error::new(self.pos(), what)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(self.err(format!(
                "{what}: {n} bytes announced, {} left",
                self.remaining()
            )));
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn byte(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64, what)?);
        Ok(a)
    }

    /// A length field (`rdbLoadLenByRef`).
    pub fn len_field(&mut self) -> Result<Len> {
        let b = self.byte("a length")?;
        match b >> 6 {
            0 => Ok(Len::Plain(u64::from(b & 0x3f))),
            1 => {
                let low = self.byte("a 14-bit length")?;
                Ok(Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(low)))
            }
            3 => Ok(Len::Encoded(b & 0x3f)),
            _ => match b {
                LEN_32BIT => Ok(Len::Plain(u64::from(u32::from_be_bytes(
                    self.array("a 32-bit length")?,
                )))),
                LEN_64BIT => Ok(Len::Plain(u64::from_be_bytes(
                    self.array("a 64-bit length")?,
                ))),
                _ => Err(Error::new(
                    self.pos() - 1,
                    format!("unknown length encoding 0x{b:02x}"),
                )),
            },
        }
    }

    /// A plain length (a count or a size), never an encoded string tag.
    pub fn length(&mut self, what: &str) -> Result<u64> {
        match self.len_field()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(Error::new(
                self.pos() - 1,
                format!("{what}: a length expected, found a string encoding"),
            )),
        }
    }

    /// A count of items each taking at least `min_bytes` bytes: refused
    /// when more than the remaining bytes could hold.
    pub fn count(&mut self, what: &str, min_bytes: u64) -> Result<usize> {
        let at = self.pos();
        let n = self.length(what)?;
        if n.saturating_mul(min_bytes.max(1)) > self.remaining() as u64 {
            return Err(Error::new(
                at,
                format!(
                    "{what}: {n} items announced, {} bytes left",
                    self.remaining()
                ),
            ));
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let at = self.pos();
        match self.len_field()? {
            Len::Plain(n) => Ok(Cow::Borrowed(self.take(n, "a string")?)),
            Len::Encoded(ENC_INT8) => {
                let v = self.byte("an 8-bit integer")? as i8;
                Ok(Cow::Owned(decimal(i64::from(v))))
            }
            Len::Encoded(ENC_INT16) => {
                let v = i16::from_le_bytes(self.array("a 16-bit integer")?);
                Ok(Cow::Owned(decimal(i64::from(v))))
            }
            Len::Encoded(ENC_INT32) => {
                let v = i32::from_le_bytes(self.array("a 32-bit integer")?);
                Ok(Cow::Owned(decimal(i64::from(v))))
            }
            Len::Encoded(ENC_LZF) => {
                let clen = self.length("an LZF compressed length")?;
                let len = self.length("an LZF original length")?;
                let data = self.take(clen, "LZF data")?;
                let len = usize::try_from(len).map_err(|_| Error::new(at, "LZF length"))?;
                if len == 0 {
                    return Err(Error::new(at, "an LZF string of length 0"));
                }
                lzf::decompress(data, len)
                    .map(Cow::Owned)
                    .map_err(|e| Error::new(at, e))
            }
            Len::Encoded(e) => Err(Error::new(at, format!("unknown string encoding {e}"))),
        }
    }

    /// `rdbLoadBinaryDoubleValue`.
    pub fn binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array("a binary double")?))
    }

    /// `rdbLoadDoubleValue`: the old text form (253 NaN, 254 +inf, 255
    /// -inf, else a length byte and the digits).
    pub fn text_double(&mut self) -> Result<f64> {
        let at = self.pos();
        match self.byte("a double")? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let digits = self.take(u64::from(n), "a double's digits")?;
                parse_f64(digits).ok_or_else(|| Error::new(at, "an invalid double"))
            }
        }
    }

    /// `rdbLoadMillisecondTime` / `rdbLoadTime`-style little-endian words.
    pub fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array("a 64-bit value")?))
    }
}

fn decimal(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    push_int(&mut out, v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip_len(n: u64, bytes: usize) {
        let mut out = Vec::new();
        write_len(&mut out, n);
        assert_eq!(out.len(), bytes, "{n}");
        let mut r = Reader::new(&out);
        assert_eq!(r.length("n"), Ok(n));
        assert!(r.is_empty());
    }

    #[test]
    fn lengths() {
        round_trip_len(0, 1);
        round_trip_len(63, 1);
        round_trip_len(64, 2);
        round_trip_len(16383, 2);
        round_trip_len(16384, 5);
        round_trip_len(u64::from(u32::MAX), 5);
        round_trip_len(u64::from(u32::MAX) + 1, 9);
        round_trip_len(u64::MAX, 9);
        // Unknown tag, truncated forms.
        assert!(Reader::new(b"\x82").len_field().is_err());
        assert!(Reader::new(b"\x40").len_field().is_err());
        assert!(Reader::new(b"\x80\x00\x00").len_field().is_err());
        assert!(Reader::new(b"").len_field().is_err());
    }

    fn string_round_trip(s: &[u8], compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, s, compress);
        let mut r = Reader::new(&out);
        assert_eq!(r.string().unwrap().as_ref(), s);
        assert!(r.is_empty());
        out
    }

    #[test]
    fn strings() {
        // Integer encodings as Valkey writes them.
        assert_eq!(string_round_trip(b"12", true), b"\xc0\x0c");
        assert_eq!(string_round_trip(b"-129", true), b"\xc1\x7f\xff");
        assert_eq!(string_round_trip(b"70000", true), b"\xc2\x70\x11\x01\x00");
        // Not canonical, or too long for an integer encoding: raw.
        assert_eq!(string_round_trip(b"012", true), b"\x03012");
        assert_eq!(string_round_trip(b"4294967296", true), b"\x0a4294967296");
        assert_eq!(string_round_trip(b"hello", true), b"\x05hello");
        // Compressed (Valkey 9.1's DUMP of 100 × 'a').
        let out = string_round_trip(&[b'a'; 100], true);
        assert_eq!(out, b"\xc3\x09\x40\x64\x01aa\xe0\x57\x00\x01aa");
        assert_eq!(string_round_trip(&[b'a'; 100], false).len(), 102);
        let mut ints = Vec::new();
        write_int_string(&mut ints, i64::MIN);
        assert_eq!(
            Reader::new(&ints).string().unwrap().as_ref(),
            b"-9223372036854775808"
        );
    }

    #[test]
    fn corrupt_strings() {
        // Longer than the input; LZF with a bad announced length; unknown
        // encodings; a huge length never allocated.
        assert!(Reader::new(b"\x05hell").string().is_err());
        assert!(Reader::new(b"\xc3\x09\x40\x65\x01aa\xe0\x57\x00\x01aa")
            .string()
            .is_err());
        assert!(Reader::new(b"\xc3\x01\x00a").string().is_err());
        assert!(Reader::new(b"\xc4").string().is_err());
        assert!(Reader::new(b"\xc1\x01").string().is_err());
        assert!(Reader::new(b"\x81\xff\xff\xff\xff\xff\xff\xff\xff")
            .string()
            .is_err());
        assert!(
            Reader::new(b"\xc3\x01\x81\xff\xff\xff\xff\xff\xff\xff\xff\x00")
                .string()
                .is_err()
        );
        let mut r = Reader::new(b"\x80\x00\x01\x00\x00");
        assert!(r.count("items", 1).is_err());
    }

    #[test]
    fn doubles() {
        let mut out = Vec::new();
        write_binary_double(&mut out, 1.5);
        assert_eq!(Reader::new(&out).binary_double(), Ok(1.5));
        assert_eq!(Reader::new(b"\x031.5").text_double(), Ok(1.5));
        assert_eq!(Reader::new(b"\xfe").text_double(), Ok(f64::INFINITY));
        assert!(Reader::new(b"\xfd").text_double().unwrap().is_nan());
        assert!(Reader::new(b"\x03abc").text_double().is_err());
        assert!(Reader::new(b"\x05").text_double().is_err());
    }
}
