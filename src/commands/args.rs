//! Argument parsing shared by the command families, with Valkey's errors.

use crate::error::{CmdError, NOT_FLOAT, NOT_INTEGER};
use crate::util::num::{parse_f64, parse_i64, parse_long_double};

/// A strict i64 (`ERR value is not an integer or out of range`).
pub fn int(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(CmdError::from(NOT_INTEGER))
}

/// An i64 with a custom error.
pub fn int_or(a: &[u8], err: &'static str) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(CmdError::from(err))
}

/// A non-negative integer (`ERR value is out of range, must be positive`).
pub fn positive(a: &[u8]) -> Result<i64, CmdError> {
    let n = int(a)?;
    if n < 0 {
        return Err("ERR value is out of range, must be positive".into());
    }
    Ok(n)
}

/// A float (`ERR value is not a valid float`).
pub fn float(a: &[u8]) -> Result<f64, CmdError> {
    parse_f64(a).ok_or(CmdError::from(NOT_FLOAT))
}

/// A blocking timeout in seconds (float allowed): None for 0 (forever),
/// with Valkey's errors for negative, malformed and huge values.
pub fn timeout(a: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    use crate::error::{TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, TIMEOUT_OUT_OF_RANGE};
    let secs = parse_long_double(a).ok_or(CmdError::from(TIMEOUT_NOT_FLOAT))?;
    if secs < 0.0 {
        return Err(TIMEOUT_NEGATIVE.into());
    }
    // Valkey keeps timeouts as milliseconds in a signed 64-bit number
    // (infinity, or a long double past f64's range, is out of it).
    let ms = secs * 1000.0;
    if ms.is_infinite() || ms > (i64::MAX / 2) as f64 {
        return Err(TIMEOUT_OUT_OF_RANGE.into());
    }
    if ms == 0.0 {
        return Ok(None);
    }
    Ok(Some(std::time::Duration::from_micros((ms * 1000.0) as u64)))
}

/// Case-insensitive match of an argument against an ASCII keyword.
#[inline]
pub fn is(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

/// A SCAN cursor as Valkey parses it: a strict integer that must not be
/// negative, or else what C's strtoull accepts (leading spaces, a sign,
/// leading zeros; a `-` wraps around) as long as it does not overflow.
pub fn scan_cursor(a: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(a) {
        return u64::try_from(n).ok();
    }
    let mut s = a;
    while let [c, rest @ ..] = s {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            s = rest;
        } else {
            break;
        }
    }
    let neg = match s.first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Which SCAN-family command is parsing its options.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Keys,
    Hash,
    Set,
    ZSet,
}

/// The options of SCAN, HSCAN, SSCAN and ZSCAN.
pub struct ScanOpts<'a> {
    pub count: i64,
    /// None also for a lone `*`, which matches everything (the empty
    /// string too, which the glob matcher would not).
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE filter, a valid type name.
    pub type_filter: Option<&'a [u8]>,
    pub novalues: bool,
    pub noscores: bool,
}

/// Type names SCAN TYPE accepts.
const SCAN_TYPE_NAMES: &[&str] = &["string", "list", "set", "zset", "hash", "stream"];

/// Parses `argv[start..]` as `[MATCH pattern] [COUNT count] ...` with the
/// errors Valkey gives each command for the others' options.
pub fn scan_opts(
    argv: &[bytes::Bytes],
    start: usize,
    kind: ScanKind,
) -> Result<ScanOpts<'_>, CmdError> {
    use crate::error::{NOSCORES_NOT_ZSCAN, NOVALUES_NOT_HSCAN, SYNTAX};
    let mut o = ScanOpts {
        count: 10,
        pattern: None,
        type_filter: None,
        novalues: false,
        noscores: false,
    };
    let mut j = start;
    while j < argv.len() {
        let a = &argv[j];
        let has_value = j + 1 < argv.len();
        if is(a, "count") && has_value {
            o.count = int(&argv[j + 1])?;
            if o.count < 1 {
                return Err(SYNTAX.into());
            }
            j += 2;
        } else if is(a, "match") && has_value {
            o.pattern = Some(&argv[j + 1]);
            j += 2;
        } else if is(a, "type") && has_value && kind == ScanKind::Keys {
            let t = &argv[j + 1];
            if !SCAN_TYPE_NAMES.iter().any(|n| is(t, n)) {
                return Err(CmdError::owned(format!(
                    "ERR unknown type name '{}'",
                    String::from_utf8_lossy(t)
                )));
            }
            o.type_filter = Some(t);
            j += 2;
        } else if is(a, "novalues") {
            if kind != ScanKind::Hash {
                return Err(NOVALUES_NOT_HSCAN.into());
            }
            o.novalues = true;
            j += 1;
        } else if is(a, "noscores") {
            if kind != ScanKind::ZSet {
                return Err(NOSCORES_NOT_ZSCAN.into());
            }
            o.noscores = true;
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
    }
    o.pattern = o.pattern.filter(|p| *p != b"*");
    Ok(o)
}

#[cfg(test)]
mod tests {

    #[test]
    fn timeouts_read_as_strtold_does() {
        use std::time::Duration;
        let ok = |a: &str| timeout(a.as_bytes()).map_err(|e| e.0.to_string());
        // Valkey 9.1's replies for the same arguments.
        assert_eq!(ok("0x10"), Ok(Some(Duration::from_secs(16))));
        assert_eq!(ok("0x1p3"), Ok(Some(Duration::from_secs(8))));
        assert_eq!(ok("0x.8"), Ok(Some(Duration::from_millis(500))));
        assert_eq!(ok("1e-400"), Ok(None));
        assert_eq!(ok("-0"), Ok(None));
        for out in ["0x7FFFFFFFFFFFFF", "inf", "1.5e400", "+infinity"] {
            assert_eq!(ok(out), Err("ERR timeout is out of range".into()), "{out}");
        }
        for bad in ["nan", " 1", "1 ", "0x", "0xg", "0x1p", "1e", "", "abc"] {
            assert_eq!(
                ok(bad),
                Err("ERR timeout is not a float or out of range".into()),
                "{bad:?}"
            );
        }
        assert_eq!(ok("-1"), Err("ERR timeout is negative".into()));
        assert_eq!(ok("-inf"), Err("ERR timeout is negative".into()));
    }

    use super::*;

    #[test]
    fn ints() {
        assert_eq!(int(b"-5").unwrap(), -5);
        assert_eq!(int(b"x").unwrap_err().0, NOT_INTEGER);
        assert!(positive(b"-1").is_err());
    }
}
