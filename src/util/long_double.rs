//! Valkey's INCRBYFLOAT arithmetic, reproduced exactly.
//!
//! Valkey parses both operands with `strtold`, adds them as x87 80-bit
//! `long double`s (64-bit mantissa) and prints the sum with `%.17Lf`, trailing
//! zeros trimmed. `f64` cannot reproduce that (`0.1 + 0.2`, or
//! `18446744073709551615 + 0`, print differently), so this module does the
//! same three steps in software: correctly rounded decimal (and hex) parsing,
//! a correctly rounded addition (round half to even, subnormals included), and
//! an exact decimal print. Exponents reach the long double's (about 1e±4932).
//!
//! Limits: this is Valkey as built for x86-64, where `long double` is the x87
//! format; a Valkey built where it is 64-bit (or 128-bit, as on aarch64
//! Linux) prints differently in the last digits. Inputs are capped at 5 KiB
//! as in Valkey, which bounds the big-number work of one call (well under a
//! millisecond for the longest inputs).

/// Largest binary exponent of a finite value's leading bit.
const MAX_LEAD: i32 = 16383;
/// Weight of the smallest subnormal: 2^-16445.
const MIN_LSB: i32 = -16445;
/// `MAX_LONG_DOUBLE_CHARS`: longer inputs are rejected by Valkey.
pub const MAX_CHARS: usize = 5 * 1024;
/// Decimal exponents beyond this are out of range whatever the digits.
const EXP_CLAMP: i64 = 1_000_000;

/// A finite value: (-1)^neg × mant × 2^exp (`mant` need not be normalized).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ld {
    pub neg: bool,
    pub mant: u64,
    pub exp: i32,
}

/// What `strtold` accepted: a finite value or an infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    Finite(Ld),
    Inf,
}

impl Ld {
    pub const ZERO: Ld = Ld {
        neg: false,
        mant: 0,
        exp: 0,
    };

    /// Exact, as C's `(long double)` of a `long long`.
    pub fn from_i64(n: i64) -> Ld {
        Ld {
            neg: n < 0,
            mant: n.unsigned_abs(),
            exp: 0,
        }
    }
}

fn bits64(m: u64) -> i32 {
    64 - m.leading_zeros() as i32
}

fn bits128(m: u128) -> i32 {
    128 - m.leading_zeros() as i32
}

/// Rounds (-1)^neg × r × 2^e0 to the long double grid, ties to even.
/// When `r` carries a sticky bit it is bit 0, with bit 0 of the exact part
/// known to be zero, so the rounding point (always ≥ 60 bits up in that
/// case) never meets a value that only looks like a tie. None: overflow.
fn round(neg: bool, r: u128, e0: i32) -> Option<Ld> {
    if r == 0 {
        return Some(Ld {
            neg,
            mant: 0,
            exp: 0,
        });
    }
    let lead = e0 + bits128(r) - 1;
    let lsb = (lead - 63).max(MIN_LSB);
    let shift = lsb - e0;
    let (m, mut exp) = if shift <= 0 {
        // Exact: at most 64 bits once shifted up (lsb ≥ lead - 63).
        ((r << (-shift) as u32) as u64, lsb)
    } else if shift > 128 {
        (0u64, lsb)
    } else {
        let (q, rem) = if shift == 128 {
            (0u128, r)
        } else {
            (r >> shift, r & ((1u128 << shift) - 1))
        };
        let half = 1u128 << (shift - 1);
        let up = rem > half || (rem == half && q & 1 == 1);
        let q = q + up as u128;
        // q ≤ 2^64: at most one carry out of the 64-bit mantissa.
        if q >> 64 != 0 {
            ((q >> 1) as u64, lsb + 1)
        } else {
            (q as u64, lsb)
        }
    };
    if m == 0 {
        exp = 0;
    } else if exp + bits64(m) - 1 > MAX_LEAD {
        return None;
    }
    Some(Ld { neg, mant: m, exp })
}

/// `a + b` rounded as the x87 does; None when it overflows.
pub fn add(a: Ld, b: Ld) -> Option<Ld> {
    if a.mant == 0 {
        return Some(if b.mant == 0 {
            // IEEE: -0 + -0 = -0, any other sum of zeros is +0.
            Ld {
                neg: a.neg && b.neg,
                ..Ld::ZERO
            }
        } else {
            b
        });
    }
    if b.mant == 0 {
        return Some(a);
    }
    let lead = |x: &Ld| x.exp + bits64(x.mant) - 1;
    let (x, y) = if lead(&a) >= lead(&b) { (a, b) } else { (b, a) };
    // x as a 125-bit number: bit 0 stays free for y's sticky bit.
    let sx = 125 - bits64(x.mant);
    let ex0 = x.exp - sx;
    let xv = (x.mant as u128) << sx;
    let d = y.exp - ex0;
    let yv = if d >= 1 {
        // y's leading bit is at most x's: fits in 125 bits.
        (y.mant as u128) << d
    } else {
        let drop = (1 - d) as u32;
        let (kept, lost) = if drop >= 64 {
            (0u64, y.mant != 0)
        } else {
            (y.mant >> drop, y.mant & ((1u64 << drop) - 1) != 0)
        };
        ((kept as u128) << 1) | lost as u128
    };
    let (neg, r) = if x.neg == y.neg {
        (x.neg, xv + yv)
    } else if xv >= yv {
        (x.neg, xv - yv)
    } else {
        (y.neg, yv - xv)
    };
    if r == 0 {
        return Some(Ld::ZERO);
    }
    round(neg, r, ex0)
}

/// Parses as Valkey's `string2ld`: the whole input must be one `strtold`
/// number (decimal or hex, `inf`/`infinity`), no leading space, no NaN,
/// and no overflow or underflow to zero. None means "not a valid float".
pub fn parse(s: &[u8]) -> Option<Parsed> {
    if s.is_empty() || s.len() >= MAX_CHARS {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Parsed::Inf);
    }
    let v = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex(neg, &body[2..])
    } else {
        parse_dec(neg, body)
    }?;
    Some(Parsed::Finite(v))
}

/// Splits `digits [. digits]` off the front; returns (int, frac, rest).
fn mantissa(s: &[u8], hex: bool) -> Option<(&[u8], &[u8], &[u8])> {
    let is_digit = |c: &u8| {
        if hex {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_digit()
        }
    };
    let n_int = s.iter().take_while(|c| is_digit(c)).count();
    let (int, rest) = s.split_at(n_int);
    let (frac, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let n = after.iter().take_while(|c| is_digit(c)).count();
            after.split_at(n)
        }
        _ => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    Some((int, frac, rest))
}

/// An exponent suffix `[+-]digits` filling all of `s`, clamped.
fn exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        v = (v * 10 + (c - b'0') as i64).min(EXP_CLAMP);
    }
    Some(if neg { -v } else { v })
}

fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
    let (int, frac, rest) = mantissa(s, false)?;
    let e10 = match rest.split_first() {
        None => 0,
        Some((c, after)) if c | 0x20 == b'e' => exponent(after)?,
        Some(_) => return None,
    };
    // All digits as one integer D with value = D × 10^e.
    let all: Vec<u8> = int.iter().chain(frac).copied().collect();
    let first = all.iter().position(|&c| c != b'0');
    let Some(first) = first else {
        return Some(Ld { neg, ..Ld::ZERO });
    };
    let last = all.iter().rposition(|&c| c != b'0').unwrap_or(first);
    let digits = &all[first..=last];
    let e = e10 - frac.len() as i64 + (all.len() - 1 - last) as i64;
    let n = digits.len() as i64;
    // 10^(n-1+e) ≤ value < 10^(n+e); LDBL_MAX ≈ 1.19e4932, and half the
    // smallest subnormal ≈ 1.8e-4951.
    if n - 1 + e >= 4933 || n + e <= -4951 {
        return None;
    }
    let d = Big::from_digits(digits, 10);
    let v = if e >= 0 {
        let mut d = d;
        d.mul_pow10(e as u32);
        round_big(neg, &d, 0)?
    } else {
        let mut den = Big::from_u64(1);
        den.mul_pow10((-e) as u32);
        round_ratio(neg, &d, &den)?
    };
    // Underflow to zero is an ERANGE that Valkey rejects.
    (v.mant != 0).then_some(v)
}

fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
    let (int, frac, rest) = mantissa(s, true)?;
    let e2 = match rest.split_first() {
        None => 0,
        Some((c, after)) if c | 0x20 == b'p' => exponent(after)?,
        Some(_) => return None,
    };
    let all: Vec<u8> = int.iter().chain(frac).copied().collect();
    let Some(first) = all.iter().position(|&c| c != b'0') else {
        return Some(Ld { neg, ..Ld::ZERO });
    };
    let h = Big::from_digits(&all[first..], 16);
    let e = e2 - 4 * frac.len() as i64;
    let lead = e + h.bit_len() as i64 - 1;
    if lead > MAX_LEAD as i64 || lead < MIN_LSB as i64 - 2 {
        return None;
    }
    let v = round_big(neg, &h, e as i32)?;
    (v.mant != 0).then_some(v)
}

/// Rounds (-1)^neg × n × 2^e2.
fn round_big(neg: bool, n: &Big, e2: i32) -> Option<Ld> {
    let len = n.bit_len() as i32;
    if len <= 126 {
        return round(neg, n.bits_from(0), e2);
    }
    let drop = (len - 125) as u32;
    let sticky = n.any_below(drop);
    let r = (n.bits_from(drop) << 1) | sticky as u128;
    round(neg, r, e2 + drop as i32 - 1)
}

/// Rounds (-1)^neg × num / den (both non-zero).
fn round_ratio(neg: bool, num: &Big, den: &Big) -> Option<Ld> {
    // Scale so the quotient has 67 or 68 bits: enough above the 64 kept
    // for rounding, with the remainder as a sticky bit.
    let t = den.bit_len() as i64 + 67 - num.bit_len() as i64;
    let (mut rem, mut sub) = if t >= 0 {
        (num.shl(t as u32), den.shl(67))
    } else {
        (num.clone(), den.shl((67 - t) as u32))
    };
    let mut q: u128 = 0;
    for i in (0..68).rev() {
        if rem.ge(&sub) {
            rem.sub_assign(&sub);
            q |= 1u128 << i;
        }
        sub.shr1();
    }
    let r = (q << 1) | !rem.is_zero() as u128;
    round(neg, r, (-t - 1) as i32)
}

/// `%.17Lf` with trailing zeros (and a bare point) removed, and "-0"
/// turned into "0": the text INCRBYFLOAT stores and replies.
pub fn format(x: Ld) -> String {
    let mut digits = if x.exp >= 0 {
        Big::from_u64(x.mant).shl(x.exp as u32).into_decimal()
    } else {
        // The value × 10^17, rounded half to even, as printf does.
        let p = x.mant as u128 * 100_000_000_000_000_000u128;
        let k = (-x.exp) as u32;
        let q = if k >= 128 {
            0 // p < 2^121: below half of 2^k
        } else {
            let q = p >> k;
            let rem = p & ((1u128 << k) - 1);
            let half = 1u128 << (k - 1);
            q + (rem > half || (rem == half && q & 1 == 1)) as u128
        };
        let mut s = q.to_string();
        if s.len() < 18 {
            s.insert_str(0, &"0".repeat(18 - s.len()));
        }
        let point = s.len() - 17;
        let frac = s[point..].trim_end_matches('0').to_string();
        s.truncate(point);
        if !frac.is_empty() {
            s.push('.');
            s.push_str(&frac);
        }
        s
    };
    if x.neg && digits != "0" {
        digits.insert(0, '-');
    }
    digits
}

/// A little-endian unsigned big integer, just what the conversions need.
#[derive(Clone, Debug)]
struct Big(Vec<u64>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// self = self × m + a.
    fn mul_add(&mut self, m: u64, a: u64) {
        let mut carry = a as u128;
        for limb in &mut self.0 {
            let v = *limb as u128 * m as u128 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            self.0.push(carry as u64);
        }
    }

    /// Digits in base 10 or 16 (ASCII), most significant first.
    fn from_digits(d: &[u8], radix: u64) -> Big {
        let chunk = if radix == 10 { 19 } else { 15 };
        let mut b = Big(Vec::with_capacity(d.len() / 16 + 1));
        for part in d.chunks(chunk) {
            let mut v = 0u64;
            let mut scale = 1u64;
            for &c in part {
                let digit = (c as char).to_digit(radix as u32).unwrap_or(0) as u64;
                v = v * radix + digit;
                scale *= radix;
            }
            b.mul_add(scale, v);
        }
        b.trim();
        b
    }

    fn mul_pow10(&mut self, mut k: u32) {
        while k >= 19 {
            self.mul_add(10_000_000_000_000_000_000, 0);
            k -= 19;
        }
        if k > 0 {
            self.mul_add(10u64.pow(k), 0);
        }
    }

    fn bit_len(&self) -> u32 {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() as u32 * 64 - top.leading_zeros(),
        }
    }

    fn shl(&self, n: u32) -> Big {
        let (limbs, bits) = ((n / 64) as usize, n % 64);
        let mut v = vec![0u64; limbs];
        v.reserve(self.0.len() + 1);
        let mut carry = 0u64;
        for &l in &self.0 {
            if bits == 0 {
                v.push(l);
            } else {
                v.push((l << bits) | carry);
                carry = l >> (64 - bits);
            }
        }
        v.push(carry);
        let mut b = Big(v);
        b.trim();
        b
    }

    fn shr1(&mut self) {
        let mut carry = 0u64;
        for l in self.0.iter_mut().rev() {
            let next = *l & 1;
            *l = (*l >> 1) | (carry << 63);
            carry = next;
        }
        self.trim();
    }

    fn ge(&self, o: &Big) -> bool {
        if self.0.len() != o.0.len() {
            return self.0.len() > o.0.len();
        }
        for (a, b) in self.0.iter().rev().zip(o.0.iter().rev()) {
            if a != b {
                return a > b;
            }
        }
        true
    }

    /// self -= o, with self ≥ o.
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = false;
        for (i, l) in self.0.iter_mut().enumerate() {
            let s = o.0.get(i).copied().unwrap_or(0);
            let (v, b1) = l.overflowing_sub(s);
            let (v, b2) = v.overflowing_sub(borrow as u64);
            *l = v;
            borrow = b1 || b2;
        }
        self.trim();
    }

    /// Any of the bits below `n` set.
    fn any_below(&self, n: u32) -> bool {
        let (limbs, bits) = ((n / 64) as usize, n % 64);
        self.0.iter().take(limbs).any(|&l| l != 0)
            || (bits > 0
                && self
                    .0
                    .get(limbs)
                    .is_some_and(|&l| l & ((1u64 << bits) - 1) != 0))
    }

    /// The 128 bits starting at bit `from`.
    fn bits_from(&self, from: u32) -> u128 {
        let limb = |i: usize| self.0.get(i).copied().unwrap_or(0) as u128;
        let (i, bits) = ((from / 64) as usize, from % 64);
        let lo = limb(i) | (limb(i + 1) << 64);
        if bits == 0 {
            lo
        } else {
            (lo >> bits) | (limb(i + 2) << (128 - bits))
        }
    }

    fn into_decimal(mut self) -> String {
        const CHUNK: u64 = 10_000_000_000_000_000_000;
        let mut parts = Vec::new();
        while !self.is_zero() {
            let mut rem = 0u128;
            for l in self.0.iter_mut().rev() {
                let cur = (rem << 64) | *l as u128;
                *l = (cur / CHUNK as u128) as u64;
                rem = cur % CHUNK as u128;
            }
            self.trim();
            parts.push(rem as u64);
        }
        let mut s = match parts.pop() {
            None => return "0".into(),
            Some(top) => top.to_string(),
        };
        for p in parts.iter().rev() {
            s.push_str(&format!("{p:019}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(s: &str) -> Ld {
        match parse(s.as_bytes()) {
            Some(Parsed::Finite(v)) => v,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn sum(a: &str, b: &str) -> String {
        format(add(fin(a), fin(b)).expect("finite"))
    }

    #[test]
    fn sums_print_like_valkey() {
        // Each expectation is what Valkey 9.1 replied.
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("0", "5.0e3"), "5000");
        assert_eq!(sum("0", "1e20"), "100000000000000000000");
        assert_eq!(sum("18446744073709551615", "0"), "18446744073709551615");
        assert_eq!(sum("1.5", "1.5"), "3");
        assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
        assert_eq!(sum("0", "0x10"), "16");
        assert_eq!(sum("16", "0x1.8p1"), "19");
        assert_eq!(sum("0", "-0.0"), "0");
        assert_eq!(sum("1e-18", "-1e-18"), "0");
        assert_eq!(sum("0", "1e-18"), "0");
        assert_eq!(sum("0", "0.000000000000000005"), "0");
        assert_eq!(sum("0", "0.000000000000000015"), "0.00000000000000002");
        assert_eq!(sum("0", "0.000000000000000025"), "0.00000000000000002");
        assert_eq!(sum("0", "1e-4940"), "0");
        assert_eq!(sum("0", "+.5"), "0.5");
        assert_eq!(sum("0", "5."), "5");
        assert_eq!(sum("3", "-5.25"), "-2.25");
        let big = sum("0", "1e4932");
        assert!(big.starts_with("10000000000000000000060189493879638913238377742545331"));
        assert_eq!(big.len(), 4933);
        assert!(add(fin("1e4932"), fin("1e4932")).is_none());
    }

    #[test]
    fn rejects_what_string2ld_rejects() {
        for bad in [
            "",
            " 1",
            "1 ",
            "abc",
            "1e",
            "1e+",
            ".",
            "-",
            "nan",
            "-nan",
            "0x",
            "0x1p",
            "1e-5000",
            "1e5000",
            "0x1p99999",
            "1.2.3",
            "infx",
            "1\0",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse(b"inf"), Some(Parsed::Inf));
        assert_eq!(parse(b"-Infinity"), Some(Parsed::Inf));
        assert_eq!(parse(&vec![b'1'; MAX_CHARS]), None);
        assert!(parse(&vec![b'1'; MAX_CHARS - 1]).is_none()); // 1e5118: overflow
        let mut long = b"0.".to_vec();
        long.extend(vec![b'1'; 4000]);
        assert!(matches!(parse(&long), Some(Parsed::Finite(_))));
        assert_eq!(parse(b"0e999999999999"), Some(Parsed::Finite(Ld::ZERO)));
    }

    #[test]
    fn rounding_is_exact() {
        // 2^64 + 1 needs 65 bits: ties to even → 2^64.
        assert_eq!(sum("18446744073709551616", "1"), "18446744073709551616");
        assert_eq!(sum("18446744073709551616", "3"), "18446744073709551620");
        assert_eq!(sum("-9223372036854775808", "0"), "-9223372036854775808");
        assert_eq!(format(Ld::from_i64(i64::MIN)), "-9223372036854775808");
        assert_eq!(sum("1", "-0.5"), "0.5");
        assert_eq!(sum("100", "-100"), "0");
    }
}
