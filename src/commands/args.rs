//! Argument parsing shared by the command families, with Valkey's errors.

use crate::error::{CmdError, NOT_FLOAT, NOT_INTEGER};
use crate::resp::parser::parse_i64;

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

/// A float as Valkey's `string2d`/`strtold` accept it: decimal or exponent
/// forms, `inf`/`-inf`/`+inf`; no NaN, no spaces, no empty string.
pub fn parse_f64(a: &[u8]) -> Option<f64> {
    if a.is_empty() || a.len() > 5000 {
        return None;
    }
    if a[0].is_ascii_whitespace() || a[a.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(a).ok()?;
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts "nan", "inf" spellings we handled, and rejects hex;
            // strtod would accept hex floats, which no client sends.
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            let v = s.parse::<f64>().ok()?;
            // strtod's ERANGE, which Valkey refuses: overflow to infinity,
            // or a non-zero mantissa underflowing to zero.
            if v.is_infinite() {
                return None;
            }
            let mantissa = lower.split('e').next().unwrap_or("");
            if v == 0.0 && mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c)) {
                return None;
            }
            v
        }
    };
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// A float (`ERR value is not a valid float`).
pub fn float(a: &[u8]) -> Result<f64, CmdError> {
    parse_f64(a).ok_or(CmdError::from(NOT_FLOAT))
}

/// A blocking timeout in seconds (float allowed): None for 0 (forever),
/// with Valkey's errors for negative, malformed and huge values.
pub fn timeout(a: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    use crate::error::{TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, TIMEOUT_OUT_OF_RANGE};
    let secs = parse_f64(a)
        .filter(|v| v.is_finite())
        .ok_or(CmdError::from(TIMEOUT_NOT_FLOAT))?;
    if secs < 0.0 {
        return Err(TIMEOUT_NEGATIVE.into());
    }
    // Valkey keeps timeouts as milliseconds in a signed 64-bit number.
    let ms = secs * 1000.0;
    if ms > (i64::MAX / 2) as f64 {
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
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"abc"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"0e-400"), Some(0.0));
    }

    #[test]
    fn ints() {
        assert_eq!(int(b"-5").unwrap(), -5);
        assert_eq!(int(b"x").unwrap_err().0, NOT_INTEGER);
        assert!(positive(b"-1").is_err());
    }
}
