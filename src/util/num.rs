//! Numbers as Valkey reads and writes them: strict integers (`string2ll`),
//! floats as `strtod`/`strtold` accept them, and the decimal forms replies
//! use. Shared by the protocol parser, the keyspace encodings and the
//! commands, so it depends on nothing of ours but its sibling fpconv.

use super::fpconv;

/// Strict decimal integer, as Valkey's string2ll: no spaces, no `+`, no
/// leading zeros, fits in i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
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

/// A number as Valkey's timeouts read it, with C's strtold: decimal or
/// hexadecimal (`0x10`, `0x1p3`), `inf`/`infinity`, no NaN, nothing around
/// it. Long double's range is far wider than f64's: a decimal past f64's
/// range reads as infinity and one below it as 0, which is what a timeout
/// needs of them (out of range, and no wait).
pub fn parse_long_double(a: &[u8]) -> Option<f64> {
    if let Some(v) = parse_f64(a) {
        return Some(v);
    }
    if a.is_empty() || a.len() > 5000 || a[0].is_ascii_whitespace() {
        return None;
    }
    let (neg, body) = match a[0] {
        b'-' => (true, &a[1..]),
        b'+' => (false, &a[1..]),
        _ => (false, a),
    };
    let v = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex_float(&body[2..])?
    } else {
        // Decimal past f64's range: f64 says infinity or 0, strtold a number.
        let s = std::str::from_utf8(body).ok()?;
        let lower = s.to_ascii_lowercase();
        if lower.contains("nan")
            || lower.contains("inf")
            || !lower.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        {
            return None;
        }
        s.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// The digits after `0x` of a C hexadecimal float: `h[.h][p[+-]d]`.
fn parse_hex_float(a: &[u8]) -> Option<f64> {
    let (mant, exp) = match a.iter().position(|&c| c | 0x20 == b'p') {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    let mut v = 0f64;
    let mut scale = 0i32;
    let mut digits = 0;
    let mut seen_dot = false;
    for &c in mant {
        if c == b'.' && !seen_dot {
            seen_dot = true;
            continue;
        }
        let d = (c as char).to_digit(16)?;
        v = v * 16.0 + f64::from(d);
        digits += 1;
        if seen_dot {
            scale -= 4;
        }
    }
    if digits == 0 {
        return None;
    }
    if v == 0.0 {
        return exp.map_or(Some(0.0), |e| {
            std::str::from_utf8(e)
                .ok()?
                .parse::<i64>()
                .ok()
                .map(|_| 0.0)
        });
    }
    if let Some(e) = exp {
        let e = std::str::from_utf8(e).ok()?;
        if e.is_empty() || e.starts_with('+') && e.len() == 1 {
            return None;
        }
        // Clamped: anything past ±100,000 is 0 or infinity either way.
        let e = e.parse::<i64>().ok()?.clamp(-100_000, 100_000);
        scale += e as i32;
    }
    Some(v * 2f64.powi(scale))
}

/// Appends the decimal form of `n`.
#[inline]
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    if (0..10).contains(&n) {
        out.push(b'0' + n as u8);
        return;
    }
    out.extend_from_slice(int_str(n, &mut [0u8; 20]));
}

/// The decimal form of `n`, written at the end of `buf` (20 bytes hold
/// `i64::MIN`).
#[inline]
pub fn int_str(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Number of characters in the decimal form of `n`.
pub fn int_len(n: i64) -> usize {
    let mut len = if n < 0 { 2 } else { 1 };
    let mut v = n.unsigned_abs();
    while v >= 10 {
        v /= 10;
        len += 1;
    }
    len
}

/// Formats a double the way Valkey replies it (ZSCORE, RESP3 doubles), as
/// its d2string: `nan`, `inf`, integral values within ±2^62 (double2ll's
/// range) as integers, others as fpconv_dtoa writes them.
pub fn format_double(d: f64) -> String {
    let mut buf = [0u8; fpconv::MAX_LEN];
    String::from_utf8_lossy(double_str(d, &mut buf)).into_owned()
}

/// `format_double`'s text, written into `buf` (no allocation).
#[inline]
pub fn double_str(d: f64, buf: &mut [u8; fpconv::MAX_LEN]) -> &[u8] {
    if d.is_nan() {
        return b"nan";
    }
    // 2^62: double2ll refuses anything past LLONG_MAX/2.
    const LIM: f64 = 4_611_686_018_427_387_904.0;
    if d == d.trunc() && (-LIM..=LIM).contains(&d) {
        let mut ibuf = [0u8; 20];
        let s = int_str(d as i64, &mut ibuf);
        buf[..s.len()].copy_from_slice(s);
        return &buf[..s.len()];
    }
    let n = fpconv::dtoa(d, buf);
    &buf[..n]
}

/// A double exactly as Valkey's fpconv_dtoa writes it (Grisu2 digits, not
/// always the shortest): `nan`/`-nan`, `inf`/`-inf`, `0`/`-0`, plain
/// notation for moderate exponents, `d.ddde±x` otherwise; no integer
/// shortcut.
pub fn format_shortest(d: f64) -> String {
    let mut buf = [0u8; fpconv::MAX_LEN];
    let n = fpconv::dtoa(d, &mut buf);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// C's `strtol(s, &end, 10)` (and `atoll`): leading whitespace, a sign,
/// digits up to the first other byte. The value (saturated, with overflow
/// flagged) and the index where parsing stopped (0 when no digits, and the
/// value 0).
pub fn strtol(s: &[u8]) -> (i64, usize, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = i;
    let mut v: i64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = i64::from(s[i] - b'0');
        let next = v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        });
        match next {
            Some(x) => v = x,
            None => {
                overflow = true;
                v = if neg { i64::MIN } else { i64::MAX };
            }
        }
        i += 1;
    }
    if i == digits {
        return (0, 0, false);
    }
    (v, i, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_str_writes_every_edge() {
        for n in [0, 7, 10, -1, -10, 1234567, i64::MAX, i64::MIN] {
            assert_eq!(int_str(n, &mut [0u8; 20]), n.to_string().as_bytes());
            let mut v = Vec::new();
            push_int(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
    }

    #[test]
    fn strtol_is_cs() {
        assert_eq!(strtol(b" -12x"), (-12, 4, false));
        assert_eq!(strtol(b"+7"), (7, 2, false));
        assert_eq!(strtol(b"x"), (0, 0, false));
        assert_eq!(strtol(b"-"), (0, 0, false));
        assert_eq!(strtol(b"99999999999999999999"), (i64::MAX, 20, true));
        assert_eq!(strtol(b"-99999999999999999999"), (i64::MIN, 21, true));
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"123"), Some(123));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"0"), Some(0));
    }

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
    fn int_len_counts_sign_and_digits() {
        assert_eq!(int_len(-10), 3);
        assert_eq!(int_len(i64::MIN), 20);
    }

    #[test]
    fn doubles_like_valkey() {
        let cases: &[(f64, &str)] = &[
            (1e20, "1e+20"),
            (0.1, "0.1"),
            (3.0, "3"),
            (1.5e-7, "1.5e-7"),
            (123456789012345678.0, "123456789012345680"),
            (1e18, "1000000000000000000"),
            (1e19, "1e+19"),
            (1.2345e20, "1.2345e+20"),
            (0.000001, "0.000001"),
            (1.2e-6, "1.2e-6"),
            (1.234567125e-4, "1.234567125e-4"),
            (1.5e-5, "0.000015"),
            (-0.0, "0"),
            (2.5, "2.5"),
            (-2.5, "-2.5"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (12345.678, "12345.678"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            // double2ll's range ends at 2^62; past it fpconv's digits.
            (4611686018427387904.0, "4611686018427387904"),
            (-4611686018427387904.0, "-4611686018427387904"),
            (4611686018427388928.0, "4611686018427389000"),
            (9223372036854775808.0, "9223372036854776000"),
            (5803407707014543360.0, "5803407707014543000"),
            // Grisu2, not the shortest form.
            (45.17705147655386, "45.177051476553864"),
            (3.28380242, "3.2838024200000002"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
        ];
        for (d, s) in cases {
            assert_eq!(format_double(*d), *s, "{d}");
        }
    }
}

/// C's `printf("%.{prec}g", d)`: `prec` significant digits, trailing zeros
/// dropped, exponent form when the exponent is below -4 or at least `prec`
/// (scripts format numbers as `%.17g`, cjson as `%.14g`).
pub fn format_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let prec = prec.max(1);
    // "d.ddde±x" with prec significant digits, rounded as printf rounds.
    let sci = format!("{:.*e}", prec - 1, d);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= prec as i32 {
        let mut out = strip(mant);
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
        out
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip(&format!("{:.*}", decimals, d))
    }
}

#[cfg(test)]
mod format_g_tests {
    use super::format_g;

    #[test]
    fn matches_printf_g() {
        // Values checked against C's printf.
        assert_eq!(format_g(1.5, 17), "1.5");
        assert_eq!(format_g(0.1, 17), "0.10000000000000001");
        assert_eq!(format_g(1e20, 17), "1e+20");
        assert_eq!(format_g(123456789012345678.0, 17), "1.2345678901234568e+17");
        assert_eq!(format_g(100.0, 17), "100");
        assert_eq!(format_g(0.0001, 17), "0.0001");
        assert_eq!(format_g(0.00001, 17), "1.0000000000000001e-05");
        assert_eq!(format_g(-2.5, 14), "-2.5");
        assert_eq!(format_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(format_g(f64::INFINITY, 17), "inf");
        assert_eq!(format_g(0.0, 17), "0");
        assert_eq!(format_g(-0.0, 17), "-0");
    }
}
