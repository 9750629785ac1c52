//! Doubles as Valkey prints them: its `fpconv_dtoa`, Florian Loitsch's
//! Grisu2 over 64-bit "do-it-yourself" floats. Grisu2 is fast and always
//! reads back to the same double, but is not always the shortest form (it
//! may give one digit more, `45.177051476553864`), so replies only match
//! Valkey's byte for byte when the same digit generation, the same cached
//! powers of ten and the same output rules are used. This module is that:
//! digits, then fpconv's choice of plain (`0.000015`, `120000`) or exponent
//! notation (`1.5e-7`, `1e+20`, `2.5e-308`).

/// 10^k for k = -348, -340, ..., 340: a 64-bit significand with its top bit
/// set, rounded to nearest, and the binary exponent (10^k ~ frac * 2^exp).
const POWERS: [(u64, i32); 87] = [
    (0xfa8fd5a0081c0288, -1220),
    (0xbaaee17fa23ebf76, -1193),
    (0x8b16fb203055ac76, -1166),
    (0xcf42894a5dce35ea, -1140),
    (0x9a6bb0aa55653b2d, -1113),
    (0xe61acf033d1a45df, -1087),
    (0xab70fe17c79ac6ca, -1060),
    (0xff77b1fcbebcdc4f, -1034),
    (0xbe5691ef416bd60c, -1007),
    (0x8dd01fad907ffc3c, -980),
    (0xd3515c2831559a83, -954),
    (0x9d71ac8fada6c9b5, -927),
    (0xea9c227723ee8bcb, -901),
    (0xaecc49914078536d, -874),
    (0x823c12795db6ce57, -847),
    (0xc21094364dfb5637, -821),
    (0x9096ea6f3848984f, -794),
    (0xd77485cb25823ac7, -768),
    (0xa086cfcd97bf97f4, -741),
    (0xef340a98172aace5, -715),
    (0xb23867fb2a35b28e, -688),
    (0x84c8d4dfd2c63f3b, -661),
    (0xc5dd44271ad3cdba, -635),
    (0x936b9fcebb25c996, -608),
    (0xdbac6c247d62a584, -582),
    (0xa3ab66580d5fdaf6, -555),
    (0xf3e2f893dec3f126, -529),
    (0xb5b5ada8aaff80b8, -502),
    (0x87625f056c7c4a8b, -475),
    (0xc9bcff6034c13053, -449),
    (0x964e858c91ba2655, -422),
    (0xdff9772470297ebd, -396),
    (0xa6dfbd9fb8e5b88f, -369),
    (0xf8a95fcf88747d94, -343),
    (0xb94470938fa89bcf, -316),
    (0x8a08f0f8bf0f156b, -289),
    (0xcdb02555653131b6, -263),
    (0x993fe2c6d07b7fac, -236),
    (0xe45c10c42a2b3b06, -210),
    (0xaa242499697392d3, -183),
    (0xfd87b5f28300ca0e, -157),
    (0xbce5086492111aeb, -130),
    (0x8cbccc096f5088cc, -103),
    (0xd1b71758e219652c, -77),
    (0x9c40000000000000, -50),
    (0xe8d4a51000000000, -24),
    (0xad78ebc5ac620000, 3),
    (0x813f3978f8940984, 30),
    (0xc097ce7bc90715b3, 56),
    (0x8f7e32ce7bea5c70, 83),
    (0xd5d238a4abe98068, 109),
    (0x9f4f2726179a2245, 136),
    (0xed63a231d4c4fb27, 162),
    (0xb0de65388cc8ada8, 189),
    (0x83c7088e1aab65db, 216),
    (0xc45d1df942711d9a, 242),
    (0x924d692ca61be758, 269),
    (0xda01ee641a708dea, 295),
    (0xa26da3999aef774a, 322),
    (0xf209787bb47d6b85, 348),
    (0xb454e4a179dd1877, 375),
    (0x865b86925b9bc5c2, 402),
    (0xc83553c5c8965d3d, 428),
    (0x952ab45cfa97a0b3, 455),
    (0xde469fbd99a05fe3, 481),
    (0xa59bc234db398c25, 508),
    (0xf6c69a72a3989f5c, 534),
    (0xb7dcbf5354e9bece, 561),
    (0x88fcf317f22241e2, 588),
    (0xcc20ce9bd35c78a5, 614),
    (0x98165af37b2153df, 641),
    (0xe2a0b5dc971f303a, 667),
    (0xa8d9d1535ce3b396, 694),
    (0xfb9b7cd9a4a7443c, 720),
    (0xbb764c4ca7a44410, 747),
    (0x8bab8eefb6409c1a, 774),
    (0xd01fef10a657842c, 800),
    (0x9b10a4e5e9913129, 827),
    (0xe7109bfba19c0c9d, 853),
    (0xac2820d9623bf429, 880),
    (0x80444b5e7aa7cf85, 907),
    (0xbf21e44003acdd2d, 933),
    (0x8e679c2f5e44ff8f, 960),
    (0xd433179d9c8cb841, 986),
    (0x9e19db92b4e31ba9, 1013),
    (0xeb96bf6ebadf77d9, 1039),
    (0xaf87023b9bf0ee6b, 1066),
];
const FIRST_POWER: i32 = -348;
const POWER_STEP: i32 = 8;
/// Window the scaled upper boundary's exponent must land in, so that its
/// integral part fits 32 bits and the fraction keeps enough bits.
const EXP_MIN: i32 = -60;
const EXP_MAX: i32 = -32;

const FRAC_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
const EXP_MASK: u64 = 0x7FF0_0000_0000_0000;
const HIDDEN_BIT: u64 = 0x0010_0000_0000_0000;
const EXP_BIAS: i32 = 1023 + 52;

/// Room for the longest form: sign, up to MAX_DIGITS digits and plain
/// notation's 7 trailing zeros (25 bytes seen at most).
pub const MAX_LEN: usize = 32;

/// Room for the digits Grisu2 produces (at most 17 seen over 30 M random
/// doubles; fpconv's buffer holds 18); generation stops if it ever needs more.
const MAX_DIGITS: usize = 20;

/// `frac * 2^exp`.
#[derive(Clone, Copy)]
struct Fp {
    frac: u64,
    exp: i32,
}

/// Appends `d` exactly as Valkey's `fpconv_dtoa` writes it: `nan`, `inf`,
/// `0` with the sign bit's `-`, else Grisu2's digits in fpconv's layout.
pub fn push_dtoa(out: &mut Vec<u8>, d: f64) {
    let mut buf = [0u8; MAX_LEN];
    let n = dtoa(d, &mut buf);
    out.extend_from_slice(&buf[..n]);
}

/// Writes `d` as `fpconv_dtoa` does into `buf`; returns the length.
pub fn dtoa(d: f64, buf: &mut [u8; MAX_LEN]) -> usize {
    let bits = d.to_bits();
    let neg = bits >> 63 != 0;
    let mut len = 0;
    if neg {
        buf[0] = b'-';
        len = 1;
    }
    let special: &[u8] = if d == 0.0 {
        b"0"
    } else if bits & EXP_MASK == EXP_MASK {
        if bits & FRAC_MASK != 0 {
            b"nan"
        } else {
            b"inf"
        }
    } else {
        b""
    };
    if !special.is_empty() {
        buf[len..len + special.len()].copy_from_slice(special);
        return len + special.len();
    }
    let mut digits = [0u8; MAX_DIGITS];
    let (ndigits, k) = grisu2(bits, &mut digits);
    len + emit(&digits[..ndigits], k, neg, &mut buf[len..])
}

/// The double's digits and decimal exponent: value ~ digits * 10^k.
/// `bits` is a finite, non-zero double.
fn grisu2(bits: u64, digits: &mut [u8; MAX_DIGITS]) -> (usize, i32) {
    let biased = ((bits & EXP_MASK) >> 52) as i32;
    let w = if biased != 0 {
        Fp {
            frac: (bits & FRAC_MASK) + HIDDEN_BIT,
            exp: biased - EXP_BIAS,
        }
    } else {
        Fp {
            frac: bits & FRAC_MASK,
            exp: 1 - EXP_BIAS,
        }
    };
    let (lower, upper) = boundaries(w);
    let w = normalize(w);
    let (cached, k) = cached_pow10(upper.exp);
    let w = multiply(w, cached);
    let mut upper = multiply(upper, cached);
    let mut lower = multiply(lower, cached);
    // Shrink the interval by one unit each side: the products are rounded,
    // and a digit string on the edge might not read back.
    lower.frac = lower.frac.wrapping_add(1);
    upper.frac = upper.frac.wrapping_sub(1);
    let mut dec_exp = -k;
    let n = generate_digits(w, upper, lower, digits, &mut dec_exp);
    (n, dec_exp)
}

/// Shifts the significand up until its top bit is set.
fn normalize(fp: Fp) -> Fp {
    let shift = fp.frac.leading_zeros() & 63;
    Fp {
        frac: fp.frac << shift,
        exp: fp.exp - shift as i32,
    }
}

/// The halfway points to the neighbouring doubles, both with the upper one's
/// (normalized) exponent. Below a power of two the lower neighbour is half as
/// far away.
fn boundaries(fp: Fp) -> (Fp, Fp) {
    let upper = normalize(Fp {
        frac: (fp.frac << 1) + 1,
        exp: fp.exp - 1,
    });
    let lower_shift = if fp.frac == HIDDEN_BIT { 2 } else { 1 };
    let lower_exp = fp.exp - lower_shift;
    let align = ((lower_exp - upper.exp) as u32) & 63;
    let lower = Fp {
        frac: ((fp.frac << lower_shift) - 1) << align,
        exp: upper.exp,
    };
    (lower, upper)
}

/// The cached power of ten that brings `exp` into [EXP_MIN, EXP_MAX] after
/// multiplying, and its decimal exponent.
fn cached_pow10(exp: i32) -> (Fp, i32) {
    const LOG10_2: f64 = 0.30102999566398114;
    // An estimate, corrected below by at most a step or two.
    let approx = (f64::from(-(exp + POWERS.len() as i32)) * LOG10_2) as i32;
    let mut idx = ((approx - FIRST_POWER) / POWER_STEP).clamp(0, POWERS.len() as i32 - 1);
    for _ in 0..POWERS.len() {
        let scaled = exp + POWERS[idx as usize].1 + 64;
        if scaled < EXP_MIN && (idx as usize) < POWERS.len() - 1 {
            idx += 1;
        } else if scaled > EXP_MAX && idx > 0 {
            idx -= 1;
        } else {
            break;
        }
    }
    let (frac, pexp) = POWERS[idx as usize];
    (Fp { frac, exp: pexp }, FIRST_POWER + idx * POWER_STEP)
}

/// The upper 64 bits of the 128-bit product, rounded half up.
fn multiply(a: Fp, b: Fp) -> Fp {
    let p = u128::from(a.frac) * u128::from(b.frac) + (1u128 << 63);
    Fp {
        frac: (p >> 64) as u64,
        exp: a.exp + b.exp + 64,
    }
}

/// Grisu2's digit generation: digits of the upper boundary until the rest
/// falls inside the interval, then the last digit weeded towards `w`.
/// Adds the number of dropped positions to `dec_exp`.
fn generate_digits(
    w: Fp,
    upper: Fp,
    lower: Fp,
    digits: &mut [u8; MAX_DIGITS],
    dec_exp: &mut i32,
) -> usize {
    let wfrac = upper.frac.wrapping_sub(w.frac);
    let mut delta = upper.frac.wrapping_sub(lower.frac);
    // EXP_MIN..=EXP_MAX: the binary point sits 32 to 60 bits in.
    let shift = (upper.exp.unsigned_abs()).clamp(32, 60);
    let one = 1u64 << shift;
    let mut part1 = upper.frac >> shift;
    let mut part2 = upper.frac & (one - 1);
    let mut n = 0;
    let mut kappa = 10;
    let mut div = 1_000_000_000u64;
    // The integral part (below 2^32): ten digit positions.
    while kappa > 0 {
        let digit = part1 / div;
        if (digit != 0 || n != 0) && n < MAX_DIGITS {
            digits[n] = b'0' + digit as u8;
            n += 1;
        }
        part1 -= digit * div;
        kappa -= 1;
        let rest = (part1 << shift) + part2;
        if rest <= delta {
            *dec_exp += kappa;
            round_digit(&mut digits[..n], delta, rest, div << shift, wfrac);
            return n;
        }
        div /= 10;
    }
    // The fraction, a digit at a time; `unit` scales w's distance alike.
    let mut unit = 10u64;
    loop {
        part2 = part2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        let digit = part2 >> shift;
        // (Past 30 places zeros count too, so a broken interval still ends.)
        if digit != 0 || n != 0 || kappa < -30 {
            if n == MAX_DIGITS {
                *dec_exp += kappa + 1;
                return n;
            }
            digits[n] = b'0' + digit as u8;
            n += 1;
        }
        part2 &= one - 1;
        if part2 < delta {
            *dec_exp += kappa;
            round_digit(
                &mut digits[..n],
                delta,
                part2,
                one,
                wfrac.wrapping_mul(unit),
            );
            return n;
        }
        unit = unit.wrapping_mul(10);
    }
}

/// Lowers the last digit while that brings the number closer to `w` (at
/// `frac` below the upper boundary) and stays inside the interval.
fn round_digit(digits: &mut [u8], delta: u64, mut rest: u64, kappa: u64, frac: u64) {
    let Some(last) = digits.last_mut() else {
        return;
    };
    while rest < frac
        && delta.wrapping_sub(rest) >= kappa
        && (rest.wrapping_add(kappa) < frac
            || frac.wrapping_sub(rest) > rest.wrapping_add(kappa).wrapping_sub(frac))
    {
        *last = last.wrapping_sub(1);
        rest = rest.wrapping_add(kappa);
    }
}

/// fpconv's layout of `digits * 10^k` into `out`; returns the length.
/// Plain integers up to 7 trailing zeros past the digits, plain decimals
/// down to 6 places (or when the exponent is small), else `d.ddde±x` with
/// at most 18 digits (17 for a negative number) and no zero padding of the
/// exponent below 100.
fn emit(digits: &[u8], k: i32, neg: bool, out: &mut [u8]) -> usize {
    if digits.is_empty() {
        // Grisu2 always yields a digit for a non-zero double.
        out[0] = b'0';
        return 1;
    }
    let nd = digits.len() as i32;
    let exp = (k + nd - 1).abs();
    if k >= 0 && exp < nd + 7 {
        out[..digits.len()].copy_from_slice(digits);
        let end = digits.len() + k as usize;
        out[digits.len()..end].fill(b'0');
        return end;
    }
    if k < 0 && (k > -7 || exp < 4) {
        let offset = nd + k;
        if offset <= 0 {
            let zeros = (-offset) as usize;
            out[0] = b'0';
            out[1] = b'.';
            out[2..2 + zeros].fill(b'0');
            out[2 + zeros..2 + zeros + digits.len()].copy_from_slice(digits);
            return 2 + zeros + digits.len();
        }
        let offset = offset as usize;
        out[..offset].copy_from_slice(&digits[..offset]);
        out[offset] = b'.';
        out[offset + 1..digits.len() + 1].copy_from_slice(&digits[offset..]);
        return digits.len() + 1;
    }
    // fpconv truncates to what its 24-byte buffer holds; the exponent's sign
    // is then taken with the truncated count, its size with the full one.
    let nd = nd.min(18 - i32::from(neg));
    let digits = &digits[..nd as usize];
    let mut i = 0;
    out[i] = digits[0];
    i += 1;
    if nd > 1 {
        out[i] = b'.';
        i += 1;
        out[i..i + digits.len() - 1].copy_from_slice(&digits[1..]);
        i += digits.len() - 1;
    }
    out[i] = b'e';
    out[i + 1] = if k + nd - 1 < 0 { b'-' } else { b'+' };
    i += 2;
    let mut exp = exp;
    let hundreds = exp / 100;
    if exp > 99 {
        out[i] = b'0' + hundreds as u8;
        i += 1;
        exp -= hundreds * 100;
    }
    if exp > 9 {
        out[i] = b'0' + (exp / 10) as u8;
        i += 1;
        exp %= 10;
    } else if hundreds > 0 {
        out[i] = b'0';
        i += 1;
    }
    out[i] = b'0' + exp as u8;
    i + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(d: f64) -> String {
        let mut v = Vec::new();
        push_dtoa(&mut v, d);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn specials_keep_the_sign_bit() {
        assert_eq!(s(0.0), "0");
        assert_eq!(s(-0.0), "-0");
        assert_eq!(s(f64::INFINITY), "inf");
        assert_eq!(s(f64::NEG_INFINITY), "-inf");
        assert_eq!(s(f64::NAN), "nan");
        assert_eq!(s(-f64::NAN), "-nan");
    }

    #[test]
    fn layouts() {
        assert_eq!(s(1.0), "1");
        assert_eq!(s(-3.0), "-3");
        assert_eq!(s(1e7), "10000000");
        assert_eq!(s(12e7), "120000000");
        assert_eq!(s(1e8), "1e+8");
        assert_eq!(s(1e20), "1e+20");
        assert_eq!(s(1.2345e20), "1.2345e+20");
        assert_eq!(s(123456789012345678.0), "123456789012345680");
        assert_eq!(s(0.1), "0.1");
        assert_eq!(s(0.000001), "0.000001");
        assert_eq!(s(1.5e-5), "0.000015");
        assert_eq!(s(1.2e-6), "1.2e-6");
        assert_eq!(s(1.5e-7), "1.5e-7");
        assert_eq!(s(1.234567125e-4), "1.234567125e-4");
        assert_eq!(s(12345.678), "12345.678");
        assert_eq!(s(-2.5), "-2.5");
        assert_eq!(s(5e-324), "5e-324");
        assert_eq!(s(2.5e-308), "2.5e-308");
        assert_eq!(s(1e100), "1e+100");
        assert_eq!(s(1.5e105), "1.5e+105");
        assert_eq!(s(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(s(f64::MIN_POSITIVE), "2.2250738585072014e-308");
    }

    #[test]
    fn cached_powers_are_rounded_powers_of_ten() {
        // The entries small enough to check exactly in 128 bits.
        for (i, &(frac, exp)) in POWERS.iter().enumerate() {
            let k = FIRST_POWER + i as i32 * POWER_STEP;
            if !(0..=32).contains(&k) {
                continue;
            }
            assert!(frac >> 63 == 1, "10^{k} not normalized");
            let exact = 10u128.pow(k as u32);
            let rounded = if exp >= 0 {
                exact >> exp
            } else {
                exact << (-exp)
            };
            let half = if exp > 0 { (exact >> (exp - 1)) & 1 } else { 0 };
            assert_eq!(u128::from(frac), rounded + half, "10^{k}");
        }
    }

    #[test]
    fn every_output_reads_back() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = f64::from_bits(x);
            if !d.is_finite() {
                continue;
            }
            let text = s(d);
            assert!(text.len() <= 25, "{text}");
            assert_eq!(text.parse::<f64>().ok(), Some(d), "{text}");
        }
    }

    /// Values where Grisu2 differs from the shortest round-trip form, with
    /// what valkey-server 9.1 replies for them (ZADD, then ZSCORE).
    const VALKEY: &[(u64, &str)] = &[
        (0x401bb15a3d314480, "6.9231957970924896"),
        (0xc30ac77739718f8e, "-942208034157041.7"),
        (0x431d55903b0a17fb, "2064213069694462.7"),
        (0x401301819d2391d5, "4.7514709999999996"),
        (0x4300d9864480d936, "592846290688806.7"),
        (0xc3116491cad1b667, "-1223912984964505.7"),
        (0x44766564ba014dd8, "6610152618110011000000"),
        (0x430bb94e19f07706, "975446183120608.7"),
        (0xc3d7484184cf64ae, "-6710651599465921000"),
        (0x43df99583c3de5aa, "9107792409488959000"),
        (0x1fd7e56ae85bb92d, "2.7847769113497302e-155"),
        (0xc22137cb0c9d130e, "-36975248974.537216"),
        (0x800ff80301c72a08, "-2.2207343918524778e-308"),
        (0x400aebc5bfbd44c5, "3.3651232700000002"),
        (0x80003f9cb891a82d, "-3.45561093607918e-310"),
        (0xc3124094ba78466f, "-1284389277143451.7"),
        (0xe643b9075c335807, "-4.1902046816841964e+184"),
        (0x4319a793e91361f7, "1805282032539773.7"),
        (0xeb626b52ef1be731, "-1.8923374065215802e+209"),
        (0xc0163aae9d93abb0, "-5.5573067304020896"),
        (0x431a8dd7f72f609b, "1868577024759846.7"),
        (0x43d0a2abda08a674, "4794837615081279000"),
        (0x431338fd317daba7, "1352671166425833.7"),
        (0xc303d3e5e18a42d6, "-697626105301082.7"),
        (0x6719f108b4d22389, "4.5149510064961647e+188"),
        (0x43d974725d095eb0, "7336866768645439000"),
        (0x4281c8a341d76ac0, "2444178766573.3437"),
        (0x000e8f9920a75300, "2.0249465841327548e-308"),
        (0xc31348fe16a34307, "-1357070174048449.7"),
        (0x0588a7fec8efa920, "5.3059208822347136e-282"),
        (0x4048a89fa8a75397, "49.317372400000004"),
        (0x9a7ea895ed423411, "-4.6177886900833224e-181"),
        (0xc44ae3e024b9bf78, "-992071021076082100000"),
        (0x1aa5a909fcc1fb84, "2.6099804043485352e-180"),
        (0x28da5528551559f8, "6.8434663094759595e-112"),
        (0x800e84310cd1e213, "-2.0187501920202327e-308"),
        (0x3fed2180bd2053bf, "0.9103397077438941"),
        (0xc2dbfb1026452338, "-123060486739084.87"),
        (0xc301a1c4e713de16, "-620367708322754.7"),
        (0x0d3473f3b28aa5bb, "4.6803596298369386e-245"),
        (0x4317edac9625756f, "1683812493385051.7"),
        (0x52233fae4cd98f1f, "4.7864261589006794e+87"),
        (0x431c1467e64c67bf, "1975933956463087.7"),
        (0x3f7f0f42f1474f2d, "0.0075829138699708256"),
        (0x7a52b4cf6adfcedf, "1.6977886618030002e+281"),
        (0xc0048b2b3461309c, "-2.5679534999999998"),
        (0x4185ef4ce5835a4f, "4.6000540689137094e+7"),
        (0xc2d61a94b857f0f8, "-97213680279491.87"),
        (0x43087f514628ac2e, "861923310900613.7"),
        (0x400a453a340367bf, "3.2838024200000002"),
        (0x3fe479ff893bf52c, "0.6398923569064769"),
        (0x4313b62b63004a37, "1387080504578701.7"),
        (0x3a72f52156b209f5, "3.8284447056973276e-27"),
        (0x42d3ceae4d8f1b38, "87113634036844.87"),
        (0x2336f564c88e4c8b, "4.8197757095747164e-139"),
        (0xc31acaf9a3800ef7, "-1885380733305789.7"),
        (0x800ecd90b41a5369, "-2.0586090255782542e-308"),
        (0xc2d46352b785bfb8, "-89667288307454.87"),
        (0x1b3d07ba29320070, "1.7909866989834701e-177"),
        (0xc28648be0ffbf4c0, "-3062710271870.5937"),
        (0x42e309440429518c, "167444134054540.37"),
        (0xc30fbeb6664b099e, "-1116926860943667.7"),
        (0x40c8d8ba27c0f860, "1.2721454338189389e+4"),
        (0x41fc6d645587330e, "7.6308985204499645e+9"),
        (0x3ff664daa14065e8, "1.3996225642098299"),
        (0x41610e7673e7df0a, "8.942515622054595e+6"),
        (0xc2b9fda4f1ed8d30, "-28577184738701.187"),
        (0xa8530146ef9ef978, "-1.9293422322742215e-114"),
        (0x40b8cc47ee4e26d5, "6348.2809800000005"),
        (0x6c12632a46503d03, "3.8688013005035685e+212"),
        (0x21d2e2fcb58028b4, "9.453169948623441e-146"),
        (0x5c69cc1cb2cdb580, "1.5000388800895009e+137"),
        (0xc31d79aa536b73b7, "-2074136693890285.7"),
        (0x430bedd186c9e61e, "982663567064259.7"),
        (0xc308016b3c369846, "-844619940549384.7"),
        (0xc3164a2eab089deb, "-1568503446513530.7"),
        (0xc31ed61b906bc853, "-2169915794190868.7"),
        (0x431b10cf7c4c827f, "1904576925212831.7"),
        (0x42bf591a41e8c370, "34467553077443.437"),
        (0xc315d4b602f53c3b, "-1536213177421582.7"),
        (0x3258358985d03ed6, "3.5918661084745937e-66"),
        (0xc023bb3b4b858f77, "-9.865686760000001"),
        (0xc3146e47adbdaf0f, "-1437688417708995.7"),
        (0xc080fbc1b4bb5e0f, "-543.4695829999999"),
        (0xc30df5b65a603db6, "-1054117234214838.7"),
        (0xc3088f8cce431ebe, "-864154294969303.7"),
        (0x4308a2e3f3480bd6, "866812420489594.7"),
        (0x13ab4f0730d901b3, "6.3374445628799884e-214"),
        (0x431b40ce20853d7b, "1917769606057822.7"),
        (0x3fdf11546c5f082f, "0.48543272574545687"),
        (0x4303ae13ac9a8eee, "692428010115549.7"),
        (0x431a4ad9ec3e4e67, "1850162306585497.7"),
        (0xc0bcb46f04771b79, "-7348.4336618845055"),
        (0x3f3353d7f31b22ac, "2.9491445739585997e-4"),
        (0x4314c23f40755d17, "1460769113593669.7"),
        (0x43021d987706bf06, "637386281244640.7"),
        (0x8009512aec5f3294, "-1.2956968332522573e-308"),
        (0x3e870556dae2c94a, "1.7151874715443502e-7"),
        (0x42d43341873598b8, "88841501070946.87"),
        (0xc30a17c44bd9e8be, "-918060156009751.7"),
        (0xc0719ecb4bf8fcd6, "-281.92463299999997"),
        (0xc31eabbf1c86f48f, "-2158271651757347.7"),
        (0x3af1758df2538e3d, "9.026193387842464e-25"),
        (0x7688b2935017cb66, "9.721209144059751e+262"),
        (0x212f33b78444f774, "7.6256145947270504e-149"),
        (0x1f20ea87cabeef41, "9.625724419655579e-159"),
        (0x3f9bfb90106f7143, "0.027326823237545438"),
        (0x1588ee690500f009, "6.2123756881057134e-205"),
        (0x8511fd5b6ff666b5, "-3.0244572826857644e-284"),
        (0x5abdc00544cbc08a, "1.2888616610545381e+129"),
        (0x4319254887b0716b, "1769466965531738.7"),
        (0x4302cdbc70ce14c6, "661594851361432.7"),
        (0xc31e03408c9b6c7b, "-2111956268276510.7"),
        (0x1df2b98b1b8af918, "2.0322590845074092e-164"),
        (0x42d2417121160878, "80289120671777.87"),
        (0x1fec09e4269bfe88, "6.5350535164165716e-155"),
        (0x4306a3802d05e0de, "796527549266971.7"),
        (0x000975693f2ea4cd, "1.3153853966195278e-308"),
        (0x57f3b16e464a3627, "4.8496700694759304e+115"),
        (0x4053b929577cbe97, "78.89314829999999"),
        (0x4316df5e1fa069ff, "1609511209540223.7"),
        (0x3f024f07b9043c11, "3.4921096018540713e-5"),
        (0x6e7248ebcfa7d1ef, "1.0575189305128169e+224"),
        (0x6a9cc3d2ce85a39e, "3.6074511869319482e+205"),
        (0xc086a79805e5f30e, "-724.9492299999999"),
        (0x3e593acd848c1ebe, "2.3496987719270562e-8"),
        (0x42e1f94e630f16bc, "158099677149365.87"),
        (0x0ea8a52a3cef8a25, "4.7309173186508443e-238"),
        (0xc3090b8ec1bc4fbe, "-881197772671479.7"),
        (0x431a9c6e2e04406b, "1872586606710810.7"),
        (0x1690b1a98a83488c, "5.452342399760259e-200"),
        (0x5c25bd3678e3fa24, "7.900414373059679e+135"),
        (0xc3ede025a0c7f256, "-17222095954901119000"),
        (0x162e6fdbf21bba6e, "7.7662979309412795e-202"),
        (0x440dd3e88df27a6a, "68778148593344004000"),
        (0x4015e46cb4b42739, "5.4730709299999996"),
        (0x407deeeb3461309c, "478.93242299999997"),
        (0xc4d07f41796f9a51, "-311621272592274630000000"),
        (0x430ec61aef3c6c86, "1082758535810448.7"),
        (0x4315832cd664a69b, "1513800777410982.7"),
        (0x000e4d033d2e86a2, "1.9887752803509575e-308"),
        (0xbf05ac5b5c2f2d77, "-4.1338480080445093e-5"),
        (0x5204350ab8022de6, "1.2561884399387769e+87"),
        (0x43e680db1212f1f6, "12972293892216959000"),
        (0xc2e3ea77a0bb4c5c, "-175182002379362.87"),
        (0xb92c7eecea09de60, "-2.7440459685161715e-33"),
        (0x4797b759ccd8323e, "7.881063898018579e+36"),
        (0x4311b9f2db43ef6b, "1247381828991962.7"),
        (0x3e414b780b8d7614, "8.053519061429009e-9"),
        (0x43122a1a9f99b9df, "1278210853990007.7"),
        (0x4236cb0c296da0b8, "97895852397.62781"),
        (0x43167870f83d6733, "1581219021019596.7"),
        (0x430e5a9e83464c8e, "1067985769384337.7"),
        (0xc31d32fcc9e2ae6b, "-2054708906208154.7"),
        (0x3e3831aae578dc29, "5.6331078339703824e-9"),
        (0xef24ba359f3c4d8a, "-2.4551112025162433e+227"),
        (0x800d25145e09967b, "-1.8280152735657176e-308"),
        (0x4305ec46cabb8a0e, "771345413009729.7"),
        (0x1d34305b462d3087, "5.3495213942428175e-168"),
        (0x6b5584f95efde2f0, "1.1054211606651374e+209"),
        (0xc30024fc5cc90ae6, "-568033241801052.7"),
        (0x7d990c4db241b505, "1.0238347043781801e+297"),
        (0x800a969ffae3322d, "-1.4724952768887442e-308"),
        (0x108f8c17c09df24d, "6.5024143864273056e-229"),
        (0xc0213e94ee8f145a, "-8.622230009999999"),
        (0x43eda4a683b0b5aa, "17088121662528639000"),
        (0x40f087877a1872e8, "6.770446730847249e+4"),
        (0x43171b95f7dca05b, "1626063846713366.7"),
        (0x4310b01bb5185e53, "1174308169062292.7"),
        (0x400d13561cc22d8d, "3.6344415900000002"),
        (0xc2d936f46b50b558, "-110895278408405.37"),
        (0xc07827e84050be4f, "-386.49420196094883"),
        (0x3fafb265d9617376, "0.061907942567564087"),
        (0xc31f7774ad1ffc87, "-2214266820624161.7"),
        (0x3ffa6877ee4e26d5, "1.6505050000000001"),
        (0xc2d1f0fe72e6add8, "-78907035065015.37"),
        (0x4307f7cf4bbf628e, "843299270683729.7"),
        (0x86c78ee76b873afc, "-5.3158954854500086e-276"),
        (0x42ece9cf244638fc, "254324225749447.87"),
        (0x188b8d49ff879b89, "1.9324331115897379e-190"),
        (0x430a7544315d909e, "930910642614803.7"),
        (0x70a0dc7cfc4d27b0, "3.3507130321130745e+234"),
        (0xbd9e3390e58c548c, "-6.8670100740204904e-12"),
        (0x721ec25bf93c9aa6, "5.1275723900438263e+241"),
        (0x430945ad36284f26, "889185582254564.7"),
        (0x42ba6eb9c732a930, "29062865564329.187"),
        (0x368578035bcccd94, "4.7006559718470644e-46"),
        (0x983791d892d2e971, "-5.1660312703655965e-192"),
        (0x409d83c811b1d92b, "1888.9453799999999"),
        (0x4311e1db835ea36b, "1258351880546522.7"),
        (0x6155f6e47606c0fb, "7.720003753751353e+160"),
        (0x42b0c46904b0c030, "18435761549504.187"),
        (0xc31b34c7fe532c23, "-1914464485296904.7"),
        (0x43179e1d15662be7, "1661943053650681.7"),
        (0x8aa4b45092a4de7b, "-2.1545442092317008e-257"),
        (0xc0b0f907ee4e26d5, "-4345.0309800000005"),
        (0x415344aec00658fb, "5.0510670003874255e+6"),
        (0x3ece3004dce0006f, "3.5986392736831378e-6"),
        (0x431981b3ed5857ef, "1794871049721339.7"),
        (0x9476fae12a50d1c4, "-4.3687080866079873e-210"),
        (0x800912feb2ff5c31, "-1.2619226726644998e-308"),
        (0x53a2e32425afde77, "7.879485260139879e+94"),
        (0x4301a40578522ece, "620677250565593.7"),
        (0x3a4db98693d97964, "7.5035716586005984e-28"),
        (0xc31ad98c15586bf7, "-1889386267810557.7"),
        (0x4317b706e3f40343, "1668791171612880.7"),
        (0x0fe149796d1a56bd, "3.4796311618374904e-232"),
        (0x4317e0a12d3c3727, "1680226829405641.7"),
        (0x4306ea46f554c7d6, "806254996527354.7"),
        (0x8006ed4053d11c0c, "-9.632849280618665e-309"),
        (0x66719616f890db26, "2.9890386285498023e+185"),
        (0x4304cfd3885d9936, "732250870887206.7"),
        (0x431fb2b0622462bb, "2230548727142574.7"),
        (0x85d547bef985b1db, "-1.4654160188357259e-280"),
        (0xc2d5a59a98a30b18, "-95204029926444.37"),
        (0x4051a474b407032a, "70.56962300000001"),
        (0x44971e67c5f91a77, "27293827271215377000000"),
        (0x41f335362f8837f2, "5.1560701365136585e+9"),
        (0x39b01a8bbb1c98c2, "7.939734449257509e-31"),
        (0xc30912fda53c82d6, "-882219378249818.7"),
        (0x42eeeb27f3945e5c, "271962691379954.87"),
        (0x4314b3b4a951380b, "1456772012592642.7"),
        (0x517c7634fc0167b3, "3.4557342830852912e+84"),
        (0xc3012f3741e12506, "-604623622382752.7"),
        (0xbe96dd0f36541b5a, "-3.4069289818509527e-7"),
        (0x04f51c12ea1f8616, "8.872488055061469e-285"),
        (0x42d08850ef3a6578, "72710637808021.87"),
        (0xc0ed50ce3fb61255, "-6.0038445277248196e+4"),
        (0x0001d17c0e6c607d, "2.528656259903757e-309"),
        (0xc2ebcc02b03ccdac, "-244504259061357.37"),
        (0x4311819fdcfb22bb, "1231899552827566.7"),
        (0x162bf49141797647, "7.1330902509405115e-202"),
        (0x4092832811b1d92b, "1184.7891299999999"),
        (0xc3d4298a9adc833a, "-5811379010131519000"),
        (0xc308b726a887398e, "-869597013141297.7"),
        (0xc2d4c2f27f8b5cf8, "-91310098623859.87"),
        (0xc088a897ee4e26d5, "-789.0741850000001"),
        (0xc01451596348a4b4, "-5.0794425499999996"),
        (0x3e8fd557a07d26cb, "2.3717707641818161e-7"),
        (0xc3040d47a9c3e9fe, "-705512622030143.7"),
        (0xc04f727bc4a1c54f, "-62.894402102460496"),
        (0xc3060e27dbfcf0de, "-776001730616859.7"),
        (0x2f31a9f7d6f3f8c9, "2.3277091334343975e-81"),
        (0xc01414ff347e0bf4, "-5.0205047799999996"),
        (0x40183d56b4c294e5, "6.0599010699999996"),
        (0xc30194fb456c4816, "-618610190813442.7"),
        (0x4307458b581bd9e6, "818798655667004.7"),
        (0x4301f8175b837766, "632231725919980.7"),
        (0x8008fa76ebe81171, "-1.2485970108186898e-308"),
        (0x4082d727fa1a0cf2, "602.8945200000001"),
        (0xc307e47af6a217de, "-840642654913275.7"),
        (0x800d8df93b9af8c2, "-1.8849969411312938e-308"),
        (0xc00cc131a8ef77f2, "-3.5943329999999998"),
        (0x329a003e2e551ca9, "6.1723442711662214e-65"),
        (0x0a8131a171a03c81, "4.4730871071628045e-258"),
        (0xc07899919157abb9, "-393.59803900000003"),
        (0x43138bcaf1c518db, "1375432078345782.7"),
        (0x4309844a8222b346, "897791245440616.7"),
        (0x42e0081d03c0e83c, "141016260544321.87"),
        (0xc0151926eed738b6, "-5.2745625799999996"),
        (0x4314fea64d70c3ef, "1477372437868795.7"),
        (0x405794a69cb75b4c, "94.32266920000001"),
        (0xa00da8d117226328, "-2.7651276611360938e-154"),
        (0x61df54ac30bb10ac, "2.8190870847818505e+163"),
        (0x4311bfe9d7b41a4f, "1249021417817747.7"),
        (0x431bb88f4cde4e8f, "1950687495164835.7"),
        (0xc07eb4da768a1506, "-491.30333570421533"),
        (0x128e0d4a8e51ff12, "2.6603904338603228e-219"),
        (0xc0b370a7ee4e26d5, "-4976.6559800000005"),
        (0x00037102c58c804d, "4.785923241940988e-309"),
        (0xc2b2f14b0b6f9cf0, "-20827555458972.937"),
        (0xc308823a128d66de, "-862323171503323.7"),
        (0x02a92bcdf360eee4, "7.697623423808249e-296"),
        (0x72bf6209ba6d466e, "5.3571081344293543e+244"),
        (0x2874ead3913c9f52, "8.493898775415949e-114"),
        (0x3dbc725a6257548c, "2.5872115341011498e-11"),
        (0x4309f892e652e9d6, "913773028859194.7"),
        (0x229c311ffc8c303a, "5.7797135411420186e-142"),
        (0xc30037939844382e, "-570588335212293.7"),
        (0x43028ea0e091d886, "652921399294736.7"),
        (0xc307f9ce5e5dd4f6, "-843573650766494.7"),
        (0x4310f3acc4bc4417, "1192880746991877.7"),
        (0xc303dc60ede9fcee, "-698791678001053.7"),
        (0xc2d2df20d4ddc398, "-82998151313166.37"),
        (0x431c834880306987, "2006411689859681.7"),
        (0x4040cb6a85afd7ca, "33.589188300000004"),
        (0x1be082df99c5b566, "2.0861801002276512e-174"),
        (0x431c2e6cc94c33d7, "1983086029114613.7"),
        (0xc2e68e5b4a83911c, "-198405382216840.87"),
        (0x4431bebba28aa260, "327338406657226970000"),
        (0x408f03419d2391d5, "992.4070379999999"),
        (0x6e2c709741ddf4e9, "5.1401225461642897e+222"),
        (0xc84549263475edd9, "-1.4486323440682471e+40"),
        (0xc4f9d25faa71649e, "-1.9510379483852279e+24"),
        (0x925cb155736bd2dc, "-3.1750805929791198e-220"),
        (0x43196b55ef01b1c3, "1788722811006064.7"),
        (0x000e190a199dc4b6, "1.9605418315484368e-308"),
        (0x43070f330ed8f4c6, "811329553899160.7"),
        (0xbdd7b882541cf067, "-8.629554451947547e-11"),
        (0x25bac01385807629, "6.1746232073248324e-127"),
        (0xc3da649cbdcf3a84, "-7607269126786650000"),
        (0x43d19f8a07ce1368, "5079541544274207000"),
        (0xc3d6f15dac243262, "-6612822128578890000"),
        (0xc3d704610cb0a0bc, "-6634229079640044000"),
        (0x43d2efb5f209f6a0, "5458037053081682000"),
        (0x43dd8efd6513f9f8, "8519673137445986000"),
        (0x43d93759bc4d6bea, "7268078559819704000"),
        (0x43d6b621c6da47db, "6546130610180550000"),
        (0x43de71a0472e7bd5, "8774842884356527000"),
        (0x43d63bebb54e1286, "6408533025567152000"),
        (0x43d1d673a0b84e82, "5141367511139879000"),
        (0xc3d866b5604214d1, "-7033168518259623000"),
        (0x43da5970e603ab84, "7594691404478943000"),
        (0x43d1c02099607b7b, "5116232549176045000"),
        (0x43d3d5fbe93e85c1, "5717301743819621000"),
        (0x43dbaeafa00efa1b, "7978899147810434000"),
        (0x43d2418335ff2063, "5261907336422854000"),
        (0xc3d4d16dede46260, "-6000404077589660000"),
        (0x43d5db07cdb4ab8d, "6299444299107808000"),
        (0x4310977d029bec71, "1167540699462428.2"),
    ];

    #[test]
    fn matches_valkey_where_grisu2_is_not_shortest() {
        for &(bits, want) in VALKEY {
            let d = f64::from_bits(bits);
            assert_eq!(s(d), want, "{d:e}");
        }
    }
}
