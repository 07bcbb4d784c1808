//! The normal transforms of the draws: Box–Muller (and its truncation at two standard
//! deviations) on this module's own `ln` of a uniform and `sin`/`cos` of a turn — branch-free
//! polynomials that the compiler vectorizes across a draw's blocks (the standard library's
//! `ln` and `sin_cos` are calls it cannot), within 2 ulp of the exact functions
//! (`tests::transforms_are_within_two_ulp`). The same code on every engine, so the normal
//! draws are identical everywhere.

/// `ln 2` split (fdlibm's): the high part ends in 21 zero bits, so `e · LN2_HI` is exact
/// for any exponent `e` of a double.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
/// `ln 2 - LN2_HI`.
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);

/// `ln u` for `u` in `(0, 1]` a normal double (every uniform of a draw is): `u = 2^e m` with
/// `m` in `[√½, √2)`, `ln m = 2 atanh(s)`, `s = (m - 1)/(m + 1)`, `|s| ≤ 0.1716`, its odd
/// series to `s^23` (the next term is below 2^-60 of the result).
#[inline(always)]
pub(super) fn ln_unit(u: f64) -> f64 {
    let bits = u.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // Into [√½, √2): halve the mantissa above √2 (exact), one more in the exponent.
    let big = m > std::f64::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += i64::from(big);
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    // 2 atanh(s) = 2s + 2s·z·(1/3 + z/5 + z²/7 + …), Horner in z.
    let mut p = 1.0 / 23.0;
    for c in [
        1.0 / 21.0,
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
    ] {
        p = p * z + c;
    }
    let ln_m = 2.0 * s + 2.0 * s * z * p;
    let e = e as f64;
    e * LN2_HI + (e * LN2_LO + ln_m)
}

/// `(sin 2πt, cos 2πt)` for `t` in `[0, 1)` a multiple of 2^-52 (a uniform of a draw): the
/// nearest quarter turn `q/4` is taken off exactly, the rest (`|x| ≤ π/4`) goes through the
/// Taylor polynomials of `sin` (to `x^15`) and `cos` (to `x^16`), and the quarter turns
/// rotate the pair.
#[inline(always)]
pub(super) fn sin_cos_turn(t: f64) -> (f64, f64) {
    let q = (t * 4.0).round();
    let x = (t - q * 0.25) * std::f64::consts::TAU;
    let z = x * x;
    let mut sp = -1.0 / 1_307_674_368_000.0; // -1/15!
    for c in
        [1.0 / 6_227_020_800.0, -1.0 / 39_916_800.0, 1.0 / 362_880.0, -1.0 / 5_040.0, 1.0 / 120.0, -1.0 / 6.0]
    {
        sp = sp * z + c;
    }
    let s = x + x * z * sp;
    let mut cp = 1.0 / 20_922_789_888_000.0; // 1/16!
    for c in [
        -1.0 / 87_178_291_200.0,
        1.0 / 479_001_600.0,
        -1.0 / 3_628_800.0,
        1.0 / 40_320.0,
        -1.0 / 720.0,
        1.0 / 24.0,
        -0.5,
    ] {
        cp = cp * z + c;
    }
    let c = 1.0 + z * cp;
    // Rotate by q quarter turns: (sin, cos) of x + qπ/2.
    let q = (q as i64) & 3;
    let (s1, c1) = if q & 1 == 1 { (c, -s) } else { (s, c) };
    if q & 2 == 2 {
        (-s1, -c1)
    } else {
        (s1, c1)
    }
}

/// `e^-2`: the lower end of the uniform a truncated normal's new radius comes from.
const EXP_MINUS_2: f64 = 0.135_335_283_236_612_7;

/// The Box–Muller pair of two uniforms `u1` in `(0, 1]` and `u2` in `[0, 1)`.
#[inline(always)]
pub(super) fn box_muller(u1: f64, u2: f64) -> (f64, f64) {
    let r = (-2.0 * ln_unit(u1)).sqrt();
    let (s, c) = sin_cos_turn(u2);
    (r * c, r * s)
}

/// The Box–Muller pair of `u1` and `u2` truncated at 2 (Theano's MRG `normal(truncate=True)`):
/// an element of magnitude over 2 keeps its angle and takes the radius `sqrt(-2 ln v)`, `v =
/// e^-2 + (1 - e^-2) u` uniform on `[e^-2, 1)` with `u = redraw(k)` in `[0, 1)` (`k` 0 for
/// the cosine element, 1 for the sine one), so it is at most 2 (held there against the
/// rounding of `ln`).
#[inline(always)]
pub(super) fn box_muller_truncated(u1: f64, u2: f64, redraw: impl Fn(usize) -> f64) -> (f64, f64) {
    let r = (-2.0 * ln_unit(u1)).sqrt();
    let (s, c) = sin_cos_turn(u2);
    let fix = |z: f64, trig: f64, k: usize| {
        if z.abs() <= 2.0 {
            z
        } else {
            let v = EXP_MINUS_2 + (1.0 - EXP_MINUS_2) * redraw(k);
            (-2.0 * v.ln()).sqrt().min(2.0) * trig
        }
    };
    (fix(r * c, c, 0), fix(r * s, s, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between `a` and `b` (finite, same sign or zero).
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        let key = |x: f64| {
            let i = x.to_bits() as i64;
            if i < 0 {
                i64::MIN - i
            } else {
                i
            }
        };
        key(a).abs_diff(key(b))
    }

    #[test]
    fn transforms_are_within_two_ulp() {
        // Uniforms of a draw: multiples of 2^-52 over (0, 1], by a fixed-step walk plus
        // the ends and the reduction boundaries.
        let mut worst = (0, 0, 0);
        let mut t = 0u64;
        let step = 0x0000_1234_5678_9abd_u64; // odd: visits well-spread residues
        let mut samples: Vec<u64> = (0..400_000)
            .map(|_| {
                t = (t + step) & ((1 << 52) - 1);
                t
            })
            .collect();
        samples.extend([0, 1, 2, 1 << 50, 1 << 51, 3 << 50, (1 << 52) - 1, (1 << 52) - 2]);
        for &k in &samples {
            let t = k as f64 / (1u64 << 52) as f64;
            let u = 1.0 - t; // (0, 1]
            worst.0 = worst.0.max(ulps(ln_unit(u), u.ln()));
            let (s, c) = sin_cos_turn(t);
            // The reference: the same exact quarter-turn reduction (the one rounding, of
            // `d · 2π`, is shared), the standard library on the rest, the same rotation.
            let q = (t * 4.0).round();
            let (rs, rc) = ((t - q * 0.25) * std::f64::consts::TAU).sin_cos();
            let (es, ec) = match (q as i64) & 3 {
                0 => (rs, rc),
                1 => (rc, -rs),
                2 => (-rs, -rc),
                _ => (-rc, rs),
            };
            worst.1 = worst.1.max(ulps(s, es));
            worst.2 = worst.2.max(ulps(c, ec));
        }
        assert!(worst.0 <= 2, "ln: {} ulp", worst.0);
        assert!(worst.1 <= 2 && worst.2 <= 2, "sin, cos: {} and {} ulp", worst.1, worst.2);
    }
}
