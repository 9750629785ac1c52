//! Number text conversions the cjson C code gets from libc: printf's `%.Ng`
//! for encoding and glibc's `strtod` for decoding, reproduced exactly
//! (rounding, exponent form, hex floats, inf/nan spellings and NaN payloads).

/// printf's `%.<precision>g`, as glibc writes it (`util::num::format_g`).
pub(crate) fn format_g(out: &mut Vec<u8>, n: f64, precision: usize) {
    out.extend_from_slice(crate::util::num::format_g(n, precision).as_bytes());
}

/// glibc's `strtod` (C locale) on the NUL-terminated view of `s` from
/// `start`: the value and where it stopped, or None when nothing converts.
/// Accepts a sign, decimal and hex (`0x1.8p3`) forms, "inf"/"infinity" and
/// "nan" with an optional "(payload)", all case-insensitively.
pub(crate) fn strtod(s: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let ci = |i: usize, lit: &[u8]| {
        s.get(i..i + lit.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(lit))
    };
    let mut p = start;
    let negative = match at(p) {
        b'-' => {
            p += 1;
            true
        }
        b'+' => {
            p += 1;
            false
        }
        _ => false,
    };
    let signed = |v: f64| if negative { -v } else { v };
    if ci(p, b"inf") {
        p += if ci(p + 3, b"inity") { 8 } else { 3 };
        return Some((signed(f64::INFINITY), p));
    }
    if ci(p, b"nan") {
        p += 3;
        let mut nan = f64::NAN;
        if at(p) == b'(' {
            let mut q = p + 1;
            while at(q).is_ascii_alphanumeric() || at(q) == b'_' {
                q += 1;
            }
            if at(q) == b')' {
                if let Some(payload) = nan_payload(&s[p + 1..q]) {
                    nan = f64::from_bits(0x7ff8_0000_0000_0000 | payload);
                }
                p = q + 1;
            }
        }
        return Some((signed(nan), p));
    }
    if at(p) == b'0' && (at(p + 1) | 0x20) == b'x' {
        let q = p + 2;
        if at(q).is_ascii_hexdigit() || (at(q) == b'.' && at(q + 1).is_ascii_hexdigit()) {
            let (v, end) = hex_float(s, q);
            return Some((signed(v), end));
        }
        // Just the "0".
        return Some((signed(0.0), p + 1));
    }
    let mut text = String::new();
    let int_start = p;
    while at(p).is_ascii_digit() {
        p += 1;
    }
    let mut digits = p - int_start;
    text.push_str(std::str::from_utf8(&s[int_start..p]).unwrap_or("0"));
    if text.is_empty() {
        text.push('0');
    }
    if at(p) == b'.' {
        let frac_start = p + 1;
        let mut q = frac_start;
        while at(q).is_ascii_digit() {
            q += 1;
        }
        if q > frac_start || digits > 0 {
            digits += q - frac_start;
            text.push('.');
            text.push_str(std::str::from_utf8(&s[frac_start..q]).unwrap_or(""));
            text.push('0');
            p = q;
        }
    }
    if digits == 0 {
        return None;
    }
    if at(p) | 0x20 == b'e' {
        let mut q = p + 1;
        if matches!(at(q), b'+' | b'-') {
            q += 1;
        }
        if at(q).is_ascii_digit() {
            let exp_start = p + 1;
            while at(q).is_ascii_digit() {
                q += 1;
            }
            text.push('e');
            text.push_str(std::str::from_utf8(&s[exp_start..q]).unwrap_or("0"));
            p = q;
        }
    }
    let value: f64 = text.parse().unwrap_or(0.0);
    Some((signed(value), p))
}

/// glibc reads "nan(chars)" chars with strtoull base 0; a full parse sets
/// the low 51 mantissa bits, a zero payload keeps the default NaN.
fn nan_payload(chars: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(chars).ok()?;
    let value = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()?
    } else if text.len() > 1 && text.starts_with('0') {
        u64::from_str_radix(&text[1..], 8).ok()?
    } else {
        text.parse::<u64>().ok()?
    };
    let payload = value & ((1 << 51) - 1);
    (payload != 0).then_some(payload)
}

/// A hex float's digits from `p` (after "0x"): the value rounded to nearest
/// even like glibc, and the end.
fn hex_float(s: &[u8], mut p: usize) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut mantissa: u64 = 0;
    let mut sticky = false;
    // Binary exponent adjustment for digits kept (fraction) or dropped (integer).
    let mut exp2: i64 = 0;
    let mut take = |digit: u32, fraction: bool, mantissa: &mut u64, exp2: &mut i64| {
        if *mantissa >> 60 == 0 {
            *mantissa = *mantissa << 4 | digit as u64;
            if fraction {
                *exp2 -= 4;
            }
        } else {
            sticky |= digit != 0;
            if !fraction {
                *exp2 += 4;
            }
        }
    };
    while let Some(d) = (at(p) as char).to_digit(16) {
        take(d, false, &mut mantissa, &mut exp2);
        p += 1;
    }
    if at(p) == b'.' {
        p += 1;
        while let Some(d) = (at(p) as char).to_digit(16) {
            take(d, true, &mut mantissa, &mut exp2);
            p += 1;
        }
    }
    if at(p) | 0x20 == b'p' {
        let mut q = p + 1;
        let negative = match at(q) {
            b'-' => {
                q += 1;
                true
            }
            b'+' => {
                q += 1;
                false
            }
            _ => false,
        };
        if at(q).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(q).is_ascii_digit() {
                e = (e * 10 + (at(q) - b'0') as i64).min(1 << 40);
                q += 1;
            }
            exp2 += if negative { -e } else { e };
            p = q;
        }
    }
    (compose_binary(mantissa, sticky, exp2), p)
}

/// `mantissa * 2^exp2` (plus a sticky bit below the mantissa) rounded to the
/// nearest double, ties to even, with subnormals and overflow to infinity.
fn compose_binary(mantissa: u64, sticky: bool, exp2: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let lz = mantissa.leading_zeros() as i64;
    let m = mantissa << lz;
    // value = m * 2^(exp2 - lz), m in [2^63, 2^64): top bit exponent e.
    let e = exp2 - lz + 63;
    if e > 1023 {
        return f64::INFINITY;
    }
    let keep: i64 = if e >= -1022 { 53 } else { 53 - (-1022 - e) };
    if keep <= 0 {
        // Below half the smallest subnormal (or exactly half: ties to 0).
        let half = keep == 0 && (m > 1 << 63 || sticky);
        return if half { f64::from_bits(1) } else { 0.0 };
    }
    let drop = 64 - keep as u32;
    let mut kept = m >> drop;
    let rest = m & ((1u64 << drop) - 1);
    let halfway = 1u64 << (drop - 1);
    if rest > halfway || (rest == halfway && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    // kept * 2^(e - keep + 1), the scale is a power of two >= 2^-1074.
    let scale_exp = e - keep + 1;
    kept as f64 * pow2(scale_exp)
}

fn pow2(e: i64) -> f64 {
    if e >= -1022 {
        if e > 1023 {
            return f64::INFINITY;
        }
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074).max(0))
    }
}
