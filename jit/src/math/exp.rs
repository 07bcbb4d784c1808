//! The exponential family: `exp`, `expm1`, `sinh`, `cosh`, `tanh`, `sigmoid`, `softplus`.
//!
//! All share one reduction: `k = round(x / ln 2)` by the 1.5·2^52 shifter,
//! `r = x - k·ln2_hi - k·ln2_lo` (Cody-Waite; `ln2_hi` has 32 significant bits, so
//! `k·ln2_hi` is exact even without FMA), `|r| ≤ ln 2 / 2`, and a Taylor polynomial in `r`.

use super::{Algorithm, Cmp, Lanes, LN2_HI, LN2_LO};

const LOG2E: f64 = std::f64::consts::LOG2_E;

/// `Q(r) = (e^r - 1 - r)/r²` on `|r| ≤ ln 2 / 2`: `e^r = 1 + r + r²·Q(r)`. A Chebyshev fit of
/// degree 10 (`jit/tools/fit_coefficients.py`); its error, with the coefficients rounded, is
/// below 0.004·2^-53 of `e^r`.
const EXPM1_Q: [f64; 11] = [
    0.5,
    0.1666666666666667,
    0.04166666666666667,
    0.008333333333326136,
    0.0013888888888883748,
    0.00019841269874820627,
    2.4801587325547743e-05,
    2.7557255400206422e-06,
    2.75572736431103e-07,
    2.5105217004720745e-08,
    2.0914686968086876e-09,
];

/// `1/(first + step·i)!` for `i = 0..N`.
const fn inv_factorials<const N: usize>(first: u64, step: u64) -> [f64; N] {
    let mut c = [0.0; N];
    let mut i = 0;
    while i < N {
        let (mut f, mut k) = (1u64, 2);
        while k <= first + step * i as u64 {
            f *= k;
            k += 1;
        }
        c[i] = 1.0 / f as f64;
        i += 1;
    }
    c
}

/// The reduction of `x` (clamped by the caller: `|x| < 1100` in `f64`, `< 110` in `f32`)
/// with `ln 2 = ln2[0] + ln2[1]` (`ln2[0]` short enough for `k·ln2[0]` to be exact):
/// `(k, r, r_err)` with the integer `k = round(x / ln 2)`, the reduced argument `r`, and
/// `r_err = x - k·ln 2 - r` to first order (the error of the last reduction step).
#[inline(always)]
fn reduce<L: Lanes>(l: &mut L, x: L::F, ln2: [f64; 2]) -> (L::I, L::F, L::F) {
    // r_hi = x - k·ln2_hi is exact (k·ln2_hi is, and Sterbenz).
    let (kd, kf, r_hi) = l.round_reduce(x, LOG2E, ln2[0]);
    let klo = l.mulc(kf, ln2[1]);
    let r = l.sub(r_hi, klo);
    // The error of `r_hi - klo` (Fast2Sum: |r_hi| ≥ |klo|), ignoring the rounding of klo.
    let d = l.sub(r_hi, r);
    let r_err = l.sub(d, klo);
    (l.shifted_int(kd), r, r_err)
}

/// [`reduce`] on `f64` lanes with `ln 2 = LN2_HI + LN2_LO`, the low product folded into the
/// two subtractions (`r = r_hi - k·lo`, `r_err = (r_hi - r) - k·lo`, one rounding each with
/// FMA; without, the same operations as [`reduce`]).
#[inline(always)]
fn reduce_f64<L: Lanes>(l: &mut L, x: L::F) -> (L::I, L::F, L::F) {
    let (kd, kf, r_hi) = l.round_reduce(x, LOG2E, LN2_HI);
    let nlo = l.c(-LN2_LO);
    let r = l.mla(kf, nlo, r_hi);
    let d = l.sub(r_hi, r);
    let r_err = l.mla(kf, nlo, d);
    (l.shifted_int(kd), r, r_err)
}

/// `p · 2^(k + extra)` for an integer `k` (`-1100 < k + extra < 1100` in `f64`, `-150 ≤
/// k + extra ≤ 129` in `f32`), by two powers of two so that results that underflow to
/// subnormals or overflow to inf round right.
#[inline(always)]
fn scale<L: Lanes>(l: &mut L, p: L::F, k: L::I, extra: i64) -> L::F {
    let (s1, s2) = scale_factors(l, k, extra);
    let p = l.mul(p, s1);
    l.mul(p, s2)
}

/// The two powers of two of [`scale`], `2^floor(K/2)` and `2^ceil(K/2)` for `K = k + extra`.
#[inline(always)]
fn scale_factors<L: Lanes>(l: &mut L, k: L::I, extra: i64) -> (L::F, L::F) {
    let f = l.fmt();
    let c = l.ci(2 * (f.bias + 1) + extra);
    let kp = l.iadd(k, c); // K + 2·(bias + 1) > 0
    let kh = l.ushr(kp, 1); // floor(K/2) + bias + 1
    let one = l.ci(1);
    let e1 = l.isub(kh, one); // floor(K/2) + bias
    let t = l.isub(kp, kh);
    let e2 = l.isub(t, one); // ceil(K/2) + bias
    let e1 = l.shl(e1, f.mant);
    let e2 = l.shl(e2, f.mant);
    (l.float(e1), l.float(e2))
}

/// The part of `expm1(r)` beyond `r`, for `|r| ≤ ~0.35`, with `r_err` the error of `r` and
/// `tail` the coefficients of `(e^r - 1 - r)/r²` (evaluated by Horner's rule):
/// `expm1(r) = r + (r²·q(r) + r_err)`.
#[inline(always)]
fn expm1_tail<L: Lanes>(l: &mut L, r: L::F, r_err: L::F, tail: &[f64]) -> L::F {
    let q = l.poly(r, tail);
    let r2 = l.mul(r, r);
    l.mla(r2, q, r_err)
}

/// [`expm1_tail`] of `f64` lanes: [`EXPM1_Q`] evaluated with a short dependency chain.
#[inline(always)]
fn expm1_tail_f64<L: Lanes>(l: &mut L, r: L::F, r_err: L::F) -> L::F {
    let q = l.poly_estrin(r, &EXPM1_Q);
    let r2 = l.mul(r, r);
    l.mla(r2, q, r_err)
}

/// `e^x · 2^extra` (`extra` small), for every `x`; NaN stays NaN: `r = x - k·ln 2` with its
/// rounding error carried, `t = e^r - 1 = r + (r²·Q(r) + r_err)`, and the result
/// `(s1 + t·s1)·s2` with `s1·s2 = 2^(k + extra)` (one rounding for `1 + t`, and the second
/// product exact unless the result is subnormal or overflows).
#[inline(always)]
pub(super) fn exp_scaled<L: Lanes>(l: &mut L, x: L::F, extra: i64) -> L::F {
    let x = l.max_keep_nan(x, -746.0);
    let x = l.min_keep_nan(x, 711.0);
    let (k, r, r_err) = reduce_f64(l, x);
    let w = expm1_tail_f64(l, r, r_err);
    let t = l.add(r, w);
    let (s1, s2) = scale_factors(l, k, extra);
    let y = l.mla(t, s1, s1);
    l.mul(y, s2)
}

/// `exp(x)`.
pub(crate) struct Exp;

impl Algorithm for Exp {
    const F32: bool = true;
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        exp_scaled(l, x, 0)
    }
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        exp_f32(l, x)
    }
}

/// The constants of an `expm1`: `ln 2` in two parts (see [`reduce`]), the coefficients of
/// its tail polynomial (see [`expm1_tail`]; `None`: [`expm1_tail_f64`]'s), the clamp
/// `[lo, hi]` of its argument (below, the result rounds to -1; above, it overflows), and
/// `tiny`, below which `expm1(x) = x`.
struct Expm1Consts {
    ln2: [f64; 2],
    tail: Option<&'static [f64]>,
    lo: f64,
    hi: f64,
    tiny: f64,
}

/// `f64`: 2^-54, and `k = 1024` still fitting the scale.
const EXPM1_F64: Expm1Consts =
    Expm1Consts { ln2: [LN2_HI, LN2_LO], tail: None, lo: -40.0, hi: 709.79, tiny: 5.551_115_123_125_783e-17 };

/// `expm1(x)` for `x` in `[lo, hi]` (not tiny) as an unevaluated sum `hi + lo`:
/// `2^k·expm1(r) + (2^k - 1)`, computed as `2·(2^(k-1)·expm1(r) + (2^(k-1) - ½))` so that
/// the largest `k` does not overflow the scale, with `2^(k-1)·r + (2^(k-1) - ½)` summed
/// exactly (TwoSum) before the small part is added.
#[inline(always)]
fn expm1_dd<L: Lanes>(l: &mut L, x: L::F, e: &Expm1Consts) -> (L::F, L::F) {
    let (k, r, r_err) = reduce(l, x, e.ln2);
    let t = match e.tail {
        Some(tail) => expm1_tail(l, r, r_err, tail),
        None => expm1_tail_f64(l, r, r_err),
    };
    let one = l.ci(1);
    let km1 = l.isub(k, one);
    let s = l.pow2(km1);
    let half = l.c(0.5);
    let sm = l.sub(s, half);
    let sr = l.mul(s, r); // exact: s is a power of two and 2^(k-1)·r is normal
    let (hi, lo) = l.two_sum(sr, sm);
    let lo = l.mla(s, t, lo);
    let y = l.add(hi, lo);
    let d = l.sub(hi, y);
    let d = l.add(d, lo);
    (l.add(y, y), l.add(d, d))
}

/// `expm1(x)` for every `x`, with the constants of its precision.
#[inline(always)]
fn expm1<L: Lanes>(l: &mut L, x: L::F, e: &Expm1Consts) -> L::F {
    let xc = l.max_keep_nan(x, e.lo);
    let xc = l.min_keep_nan(xc, e.hi);
    let (y, _) = expm1_dd(l, xc, e);
    // expm1(x) = x for tiny x (this also keeps the sign of ±0 and avoids a subnormal s·r).
    let a = l.abs(x);
    let tiny = l.cmpc(Cmp::Lt, a, e.tiny);
    let y = l.sel(tiny, x, y);
    l.keep_nan(x, y)
}

/// `expm1(x)`.
pub(crate) struct Expm1;

impl Algorithm for Expm1 {
    const F32: bool = true;
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        expm1(l, x, &EXPM1_F64)
    }
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        expm1(l, x, &EXPM1_F32)
    }
}

/// The odd Taylor series of `sinh` for `|x| < 1`: `x + x³·Σ x^(2i)/(2i+3)!`.
const SINH_TAIL: [f64; 8] = inv_factorials(3, 2);

/// `sinh(x)`: the series for `|x| < 1`, else `h - ¼/h` with `h = e^|x|/2`; the sign of `x`.
pub(crate) struct Sinh;

impl Algorithm for Sinh {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let h = exp_scaled(l, a, -1);
        let quarter = l.c(0.25);
        let q = l.div(quarter, h);
        let big = l.sub(h, q);
        let z = l.mul(a, a);
        let p = l.poly(z, &SINH_TAIL);
        let a3 = l.mul(z, a);
        let small = l.mla(a3, p, a);
        let is_small = l.cmpc(Cmp::Lt, a, 1.0);
        let y = l.sel(is_small, small, big);
        l.copysign(y, x)
    }
}

/// `cosh(x) = h + ¼/h` with `h = e^|x|/2`.
pub(crate) struct Cosh;

impl Algorithm for Cosh {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let h = exp_scaled(l, a, -1);
        let quarter = l.c(0.25);
        let q = l.div(quarter, h);
        l.add(h, q)
    }
}

/// `tanh` on `[0, 0.25]`: `(tanh(a) - a)/a³` as a polynomial in `z = a²`, a Chebyshev fit
/// of degree 7 (`jit/tools/fit_coefficients.py`); its error, with the coefficients rounded,
/// is below 0.011·2^-53 of `tanh(a)`.
const TANH_P: [f64; 8] = [
    -0.3333333333333333,
    0.1333333333333302,
    -0.053968253967195144,
    0.021869488400359696,
    -0.008863226966122328,
    0.0035918341340072982,
    -0.0014502234715960424,
    0.0005336803027405916,
];

/// `tanh(x)`, the sign of `x` on `tanh(a)`, `a = |x|`: below 0.25, `a + a³·P(a²)`; from 0.25
/// on, `1 - 2/(e^(2a) + 1)` with `e^(2a) + 1` carried as a double-double (`e^(2a)` from the
/// reduction of `exp` with its error carried), one division whose quotient is corrected by
/// its exact remainder, and `1 - q` split exactly, so that the last addition is the only
/// rounding of note. Both are computed and the one of each lane selected. About 0.63 ulp from
/// the exact value, with or without FMA (the remainder then by Dekker's product); glibc's
/// `tanh`, the reference, is itself up to 2.1 ulp from it below 0.55, so the 2-ulp bound
/// leaves this little room.
pub(crate) struct Tanh;

impl Algorithm for Tanh {
    const F32: bool = true;
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        tanh_f32(l, x)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        // a < 0.25 (±0 and subnormals too: a³·P is below half an ulp of a).
        let z = l.mul(a, a);
        let p = l.poly_estrin(z, &TANH_P);
        let a3 = l.mul(a, z);
        let small = l.mla(a3, p, a);
        // a ≥ 0.25 (a NaN stays NaN; inf becomes 22, whose result is 1).
        let ac = l.min_keep_nan(a, 22.0);
        let y = l.add(ac, ac);
        let (k, r, r_err) = reduce_f64(l, y);
        let w = expm1_tail_f64(l, r, r_err);
        // d = e^y + 1 = (2^k + 1) + 2^k·r + 2^k·w as dh + dl (2^k·r exact, 2^k + 1 exact while
        // it matters), normalised.
        let sc = l.pow2(k);
        let c = l.addc(sc, 1.0);
        let sr = l.mul(sc, r);
        let (dh, dl) = l.fast_two_sum(c, sr);
        let dl = l.mla(sc, w, dl);
        let (dh, dl) = l.fast_two_sum(dh, dl);
        // q + qc = 2/(dh + dl): the quotient and its remainder's correction, 1/dh ≈ q/2.
        let two = l.c(2.0);
        let q = l.div(two, dh);
        let rem = l.residual(two, q, dh);
        let nq = l.neg(q);
        let rem = l.mla(nq, dl, rem);
        let hq = l.mulc(q, 0.5);
        let qc = l.mul(rem, hq);
        // 1 - q exactly (q < 1: fast_two_sum), then the correction.
        let one = l.c(1.0);
        let (b, be) = l.fast_two_sum(one, nq);
        let be = l.sub(be, qc);
        let big = l.add(b, be);
        let is_small = l.cmpc(Cmp::Lt, a, 0.25);
        let t = l.sel(is_small, small, big);
        l.copysign(t, x)
    }
}

/// `sigmoid(x)` as the reference computes it (in `float32` arithmetic for `float32`): with `e = e^-|x|`, `1/(1+e)` for `x ≥ 0` and
/// `e/(1+e)` otherwise (one division either way).
pub(crate) struct Sigmoid;

impl Algorithm for Sigmoid {
    const F32: bool = true;
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        sigmoid_f32(l, x)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let na = l.neg(a);
        let e = exp_scaled(l, na, 0);
        let e = l.r32(e);
        let d = l.addc(e, 1.0);
        let d = l.r32(d);
        let nonneg = l.cmpc(Cmp::Ge, x, 0.0);
        let n = l.selc(nonneg, 1.0, e);
        l.div(n, d)
    }
}

/// `softplus(x) = max(x, 0) + log1p(e^-|x|)` (NaN for NaN), as the reference (rounding
/// each step to `float32` in `float32`).
pub(crate) struct Softplus;

impl Algorithm for Softplus {
    const F32: bool = true;
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        softplus_f32(l, x)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let na = l.neg(a);
        let e = exp_scaled(l, na, 0);
        let e = l.r32(e);
        let lp = super::log::log1p(l, e);
        let lp = l.r32(lp);
        let pos = l.cmpc(Cmp::Gt, x, 0.0);
        let zero = l.c(0.0);
        let mx = l.sel(pos, x, zero);
        let y = l.add(mx, lp);
        l.keep_nan(x, y)
    }
}

// ---------------------------------------------------------------------------------------
// `f32` algorithms: the same reduction with an `f32` shifter and a two-part `ln 2` whose
// high part has 16 bits (`k·hi` exact for `|k| < 2^8`), and a degree-7 Taylor polynomial
// (its truncation below 0.1 ulp on `|r| ≤ ln 2 / 2`).

/// `ln 2` split for `f32`: 0x3f317200 (16 significant bits) and the rest.
const LN2_HI_F32: f64 = 0.693_145_751_953_125;
const LN2_LO_F32: f64 = 1.428_606_765_330_187e-6;
/// `1/i!` for `i = 2..=7`, rounded to `f32`: `(e^r - 1 - r) / r^2` on `f32` lanes.
const EXPM1_TAIL_F32: [f64; 6] = [
    0.5,
    0.166_666_671_633_720_4,
    0.041_666_667_908_430_1,
    0.008_333_333_767_950_535,
    0.001_388_888_922_519_981_9,
    0.000_198_412_701_138_295_23,
];

/// `f32`: 2^-25, and `k = 128` still fitting the scale.
const EXPM1_F32: Expm1Consts = Expm1Consts {
    ln2: [LN2_HI_F32, LN2_LO_F32],
    tail: Some(&EXPM1_TAIL_F32),
    lo: -18.0,
    hi: 88.73,
    tiny: 2.980_232_238_769_531_2e-8,
};

/// `e^x = 2^k·(s + s_lo)` on `f32` lanes for `x` in `[-104, 89]` (NaN stays NaN): `s` is
/// `1 + expm1(r)` rounded and `s_lo` its rounding error, so the pair carries `e^r` to
/// about 2^-30 (the reduction error included).
#[inline(always)]
fn exp_parts_f32<L: Lanes>(l: &mut L, x: L::F) -> (L::F, L::F, L::I) {
    let x = l.max_keep_nan(x, -104.0);
    let x = l.min_keep_nan(x, 89.0);
    let (k, r, r_err) = reduce(l, x, [LN2_HI_F32, LN2_LO_F32]);
    let t = expm1_tail(l, r, r_err, &EXPM1_TAIL_F32); // expm1(r) = r + t
    let one = l.c(1.0);
    let (s, e) = l.fast_two_sum(one, r);
    let e = l.add(e, t);
    let (s, e2) = l.fast_two_sum(s, e);
    (s, e2, k)
}

/// `e^x` on `f32` lanes as an unevaluated sum `hi + lo` (`lo` meaningful where `hi` is
/// normal).
#[inline(always)]
fn exp_dd_f32<L: Lanes>(l: &mut L, x: L::F) -> (L::F, L::F) {
    let (s, e, k) = exp_parts_f32(l, x);
    let (s1, s2) = scale_factors(l, k, 0);
    let (hi, lo) = (l.mul(s, s1), l.mul(e, s1));
    (l.mul(hi, s2), l.mul(lo, s2))
}

/// `e^x` on `f32` lanes.
#[inline(always)]
fn exp_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
    let (s, e, k) = exp_parts_f32(l, x);
    let y = l.add(s, e);
    scale(l, y, k, 0)
}

/// `tanh` on `[0, 0.625]`: `(tanh(x) - x)/x³` as a degree-5 polynomial in `x²`
/// (least-squares fit of the relative error, `f32` coefficients; below 0.03 ulp).
const TANH_F32: [f64; 6] = [
    -0.333_333_313_465_118_4,
    0.133_332_267_403_602_6,
    -0.053_949_397_057_294_846,
    0.021_715_553_477_406_502,
    -0.008_214_971_981_942_654,
    0.002_178_023_569_285_869_6,
];

/// `tanh(x)` on `f32` lanes: the odd polynomial below 0.625, else `1 - 2/(e^(2|x|) + 1)` with
/// `e^(2|x|) + 1` and the quotient each carried with their rounding errors, 1 from 9.1 on;
/// the sign of `x`. Every `f32` in `|x| ≤ 12` is within 1 ulp of the correctly rounded
/// result (checked exhaustively).
#[inline(always)]
fn tanh_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
    let a = l.abs(x);
    let z = l.mul(a, a);
    let p = l.poly(z, &TANH_F32);
    let az = l.mul(a, z);
    let small = l.mla(az, p, a);
    let ac = l.min_keep_nan(a, 9.1);
    let a2 = l.add(ac, ac);
    let eh = exp_f32(l, a2);
    let one = l.c(1.0);
    let (dh, dl) = l.fast_two_sum(eh, one);
    // q + qc = 2/(dh + dl), the quotient and its remainder's correction.
    let two = l.c(2.0);
    let q = l.div(two, dh);
    let nq = l.neg(q);
    let rem = l.mla(nq, dh, two);
    let rem = l.mla(nq, dl, rem);
    // rem/dh, with 1/dh = q/2 to far more than the correction needs.
    let hq = l.mulc(q, 0.5);
    let qc = l.mul(rem, hq);
    let qs = l.add(q, qc);
    let big = l.sub(one, qs);
    let is_small = l.cmpc(Cmp::Lt, a, 0.625);
    let y = l.sel(is_small, small, big);
    let sat = l.cmpc(Cmp::Ge, a, 9.1);
    let y = l.selc(sat, 1.0, y);
    let y = l.keep_nan(x, y);
    l.copysign(y, x)
}

/// `e^-|x|` on `f32` lanes as `hi + lo` (see [`exp_dd_f32`]).
#[inline(always)]
fn exp_neg_abs_dd_f32<L: Lanes>(l: &mut L, x: L::F) -> (L::F, L::F) {
    let a = l.abs(x);
    let na = l.neg(a);
    exp_dd_f32(l, na)
}

/// `sigmoid(x)` on `f32` lanes: `1/(1 + e)` for `x ≥ 0`, `e/(1 + e)` otherwise, with
/// `e = e^-|x|` and `1 + e` carried with their rounding errors into one corrected quotient.
#[inline(always)]
fn sigmoid_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
    let (eh, el) = exp_neg_abs_dd_f32(l, x);
    let one = l.c(1.0);
    let (dh, dl) = l.fast_two_sum(one, eh);
    let dl = l.add(dl, el);
    let nonneg = l.cmpc(Cmp::Ge, x, 0.0);
    let nh = l.sel(nonneg, one, eh);
    let zero = l.c(0.0);
    let nl = l.sel(nonneg, zero, el);
    let y = l.div_dd(nh, nl, dh, dl);
    l.keep_nan(x, y)
}

/// `softplus(x) = max(x, 0) + log1p(e^-|x|)` on `f32` lanes, `e^-|x|` carried with its
/// rounding error into the `log1p`.
#[inline(always)]
fn softplus_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
    let (eh, el) = exp_neg_abs_dd_f32(l, x);
    let lp = super::log::log1p_dd_f32(l, eh, el);
    let pos = l.cmpc(Cmp::Gt, x, 0.0);
    let zero = l.c(0.0);
    let mx = l.sel(pos, x, zero);
    let y = l.add(mx, lp);
    l.keep_nan(x, y)
}
