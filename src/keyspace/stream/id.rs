//! Stream entry IDs: `<ms>-<seq>`, two unsigned 64-bit numbers, ordered
//! by `ms` then `seq` (the order of their 16-byte big-endian form, which
//! Valkey uses as the radix tree key), and the argument forms commands
//! accept, parsed as Valkey's `streamGenericParseIDOrReply` does.

use std::fmt;

/// Reply for any malformed ID argument.
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID, or None past the last possible one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, or None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The 16-byte big-endian form (radix tree key, RDB node key, PEL).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8; 16]) -> Self {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// `<ms>-<seq>` appended to `out`.
    pub fn write_to(self, out: &mut Vec<u8>) {
        use std::io::Write;
        let _ = write!(out, "{}-{}", self.ms, self.seq);
    }

    pub fn to_bytes(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        self.write_to(&mut v);
        v
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An ID argument as parsed: `seq_given` false for `<ms>-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    pub seq_given: bool,
}

/// Valkey's `string2ull`: a strict integer first, else what `strtoull`
/// accepts in base 10 (leading spaces, a sign, leading zeros; `-n` wraps),
/// without overflow, with at least one digit and nothing after.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(n) = crate::util::num::parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    if i >= s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses an ID argument. `missing_seq` is the sequence of a bare `<ms>`;
/// `strict` refuses the bare `-` and `+`; `allow_seq_star` accepts
/// `<ms>-*` (XADD, XSETID do not all: only XADD passes true).
pub fn parse(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_seq_star: bool,
) -> Result<ParsedId, &'static str> {
    // Valkey copies into a 128-byte C buffer: longer is invalid, and the
    // string ends at its first NUL byte.
    if arg.len() > 127 {
        return Err(INVALID_ID);
    }
    let arg = match arg.iter().position(|&b| b == 0) {
        Some(n) => &arg[..n],
        None => arg,
    };
    if strict && (arg == b"-" || arg == b"+") {
        return Err(INVALID_ID);
    }
    let ok = |id| {
        Ok(ParsedId {
            id,
            seq_given: true,
        })
    };
    if arg == b"-" {
        return ok(StreamId::MIN);
    }
    if arg == b"+" {
        return ok(StreamId::MAX);
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(d) => (&arg[..d], Some(&arg[d + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or(INVALID_ID)?;
    match seq_part {
        None => ok(StreamId::new(ms, missing_seq)),
        Some(b"*") if allow_seq_star => Ok(ParsedId {
            id: StreamId::new(ms, 0),
            seq_given: false,
        }),
        Some(s) => ok(StreamId::new(ms, string2ull(s).ok_or(INVALID_ID)?)),
    }
}

/// A plain ID argument (`-` and `+` allowed): `missing_seq` fills `<ms>`.
pub fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse(arg, missing_seq, false, false).map(|p| p.id)
}

/// A strict ID argument (no `-`/`+`).
pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse(arg, missing_seq, true, false).map(|p| p.id)
}

/// A range bound: `(` before an ID makes it exclusive (then strict).
/// Returns the ID and whether it was exclusive.
pub fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), &'static str> {
    if arg.len() > 1 && arg[0] == b'(' {
        parse_strict(&arg[1..], missing_seq).map(|id| (id, true))
    } else {
        parse_id(arg, missing_seq).map(|id| (id, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        assert_eq!(parse_id(b"-", 0), Ok(StreamId::MIN));
        assert_eq!(parse_id(b"+", 0), Ok(StreamId::MAX));
        assert_eq!(parse_id(b"5", 7), Ok(StreamId::new(5, 7)));
        assert_eq!(parse_id(b"5-3", 7), Ok(StreamId::new(5, 3)));
        assert_eq!(
            parse_id(b"18446744073709551615-18446744073709551615", 0),
            Ok(StreamId::MAX)
        );
        assert_eq!(parse_id(b"18446744073709551616", 0), Err(INVALID_ID));
        assert_eq!(parse_id(b"5-*", 0), Err(INVALID_ID));
        let p = parse(b"5-*", 0, true, true).expect("seq star");
        assert_eq!(p.id, StreamId::new(5, 0));
        assert!(!p.seq_given);
        assert_eq!(parse_strict(b"-", 0), Err(INVALID_ID));
        assert_eq!(parse_id(b"", 0), Err(INVALID_ID));
        assert_eq!(parse_id(b"5-", 0), Err(INVALID_ID));
        assert_eq!(parse_id(b"a", 0), Err(INVALID_ID));
        assert_eq!(parse_id(b"5-3-1", 0), Err(INVALID_ID));
        // strtoull's leniency, as Valkey's string2ull falls back to it.
        assert_eq!(parse_id(b"05", 0), Ok(StreamId::new(5, 0)));
        assert_eq!(parse_id(b"+5", 0), Ok(StreamId::new(5, 0)));
        assert_eq!(parse_interval(b"(5-3", 0), Ok((StreamId::new(5, 3), true)));
        assert_eq!(parse_interval(b"(", 0), Err(INVALID_ID));
        assert_eq!(parse_interval(b"(-", 0), Err(INVALID_ID));
    }

    #[test]
    fn incr_decr_and_bytes() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::MIN.decr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        let id = StreamId::new(0x0102, 0x0304);
        assert_eq!(StreamId::from_be_bytes(&id.to_be_bytes()), id);
        assert!(StreamId::new(1, 5).to_be_bytes() < StreamId::new(2, 0).to_be_bytes());
    }
}
