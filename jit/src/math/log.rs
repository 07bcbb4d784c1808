//! The logarithm family: `log`, `log1p`, `log2`, `log10`, `arcsinh`, `arccosh`, `arctanh`.
//!
//! One core, fdlibm's: `u = 2^k·m` with `m ∈ [√½, √2)` (subnormal `u` scaled by 2^54
//! first), `f = m - 1`, `s = f/(2+f)`, `log(1+f) = f - f²/2 + s·(f²/2 + R(s²))` with
//! fdlibm's degree-7 minimax `R`, and `k·ln 2` added in two parts. `log1p` and the inverse
//! `1 + x` as an exact sum (a rounded `u` plus a correction). The inverse hyperbolic
//! functions follow Rust std's own formulas (std does not call glibc for them, and they are
//! the reference's semantics) on top of these `log` and `log1p`.

use super::{Algorithm, Cmp, Lanes, LN2_HI, LN2_LO};

const LG: [f64; 7] = [
    6.666_666_666_666_735_130e-1,
    3.999_999_999_940_941_908e-1,
    2.857_142_874_366_239_149e-1,
    2.222_219_843_214_978_396e-1,
    1.818_357_216_161_805_012e-1,
    1.531_383_769_920_937_332e-1,
    1.479_819_860_511_658_591e-1,
];
const IVLN2HI: f64 = 1.442_695_040_721_446_275_71e0; // 0x3ff71547 65200000
const IVLN2LO: f64 = 1.675_171_316_488_651_183_53e-10;
const IVLN10HI: f64 = 4.342_944_818_781_688_809_39e-1; // 0x3fdbcb7b 15200000
const IVLN10LO: f64 = 2.508_294_671_164_527_522_98e-11;
const LOG10_2HI: f64 = 3.010_299_956_636_117_713_06e-1; // 0x3FD34413 509F6000
const LOG10_2LO: f64 = 3.694_239_077_158_930_786_16e-13;
/// The constants of a `log` core: the coefficients of `R` and `ln 2` in two parts.
struct LogConsts {
    lg: &'static [f64],
    ln2: [f64; 2],
}

/// `f64`: fdlibm's.
const LOG_F64: LogConsts = LogConsts { lg: &LG, ln2: [LN2_HI, LN2_LO] };

/// `u = 2^k·(1 + f)` and the pieces of `log(1 + f)`.
struct Parts<L: Lanes> {
    /// `k` as a float.
    k: L::F,
    f: L::F,
    /// `f²/2`.
    hfsq: L::F,
    /// `f / (2 + f)`.
    s: L::F,
    /// `R(s²)`: `log(1+f) = f - hfsq + s·(hfsq + R)`.
    r: L::F,
}

/// Splits a positive `u` (subnormals too when `subnormal`), `m` reduced into `[√½, √2)`;
/// garbage for other `u`, which [`specials`] overrides.
#[inline(always)]
fn parts<L: Lanes>(l: &mut L, u: L::F, subnormal: bool, lc: &LogConsts) -> Parts<L> {
    let fm = l.fmt();
    let (u, kadj) = if subnormal {
        let tiny = l.cmpc(Cmp::Lt, u, fm.min_normal);
        let scaled = l.mulc(u, fm.sub_scale);
        let u = l.sel(tiny, scaled, u);
        let zero = l.c(0.0);
        let kadj = l.selc(tiny, -fm.sub_log2, zero);
        (u, Some(kadj))
    } else {
        (u, None)
    };
    let ix = l.bits(u);
    // (ix - bits(√½)) >> mant (arithmetic) = k; biased by 2^(bits-2) to use a logical shift.
    let bias = 1i64 << (fm.bits - 2);
    let kbias = bias >> fm.mant; // 1024, 128
    let c = l.ci(bias.wrapping_sub(fm.sqrt_half_bits));
    let t = l.iadd(ix, c);
    let kb = l.ushr(t, fm.mant); // k + kbias
    let kshift = l.shl(kb, fm.mant);
    let mb = l.isub(ix, kshift);
    let cb = l.ci(bias);
    let mb = l.iadd(mb, cb); // ix - (k << mant)
    let mant = l.float(mb);
    let cs = l.ci(fm.shifter_bits - kbias);
    let kd = l.iadd(kb, cs);
    let kd = l.float(kd);
    let sh = l.c(fm.shifter);
    let mut k = l.sub(kd, sh);
    if let Some(kadj) = kadj {
        k = l.add(k, kadj);
    }
    let f = l.addc(mant, -1.0);
    let ff = l.mul(f, f);
    let hfsq = l.mulc(ff, 0.5);
    let two_f = l.addc(f, 2.0);
    let s = l.div(f, two_f);
    let z = l.mul(s, s);
    let p = l.poly(z, lc.lg);
    let r = l.mul(z, p);
    Parts { k, f, hfsq, s, r }
}

/// `log(u)` from its parts, plus `c` (a correction of order ulp, e.g. `err/u`).
#[inline(always)]
fn ln_of<L: Lanes>(l: &mut L, p: &Parts<L>, c: Option<L::F>, lc: &LogConsts) -> L::F {
    // k·ln2_hi - ((hfsq - (s·(hfsq + R) + (k·ln2_lo + c))) - f), the first product exact
    // in f64 (one rounding in all with FMA in f32).
    let klo = l.mulc(p.k, lc.ln2[1]);
    let klo = match c {
        Some(c) => l.add(klo, c),
        None => klo,
    };
    let hr = l.add(p.hfsq, p.r);
    let t = l.mla(p.s, hr, klo);
    let t = l.sub(p.hfsq, t);
    let t = l.sub(t, p.f);
    let nt = l.neg(t);
    let hi = l.c(lc.ln2[0]);
    l.mla(p.k, hi, nt)
}

/// The results for `u` outside `(0, inf)`: `-inf` at ±0, NaN below 0 or for NaN, `inf` at
/// `inf`; `y` elsewhere.
#[inline(always)]
fn specials<L: Lanes>(l: &mut L, u: L::F, y: L::F) -> L::F {
    let zero = l.cmpc(Cmp::Eq, u, 0.0);
    let y = l.selc(zero, f64::NEG_INFINITY, y);
    let neg = l.cmpc(Cmp::UnordLt, u, 0.0);
    let y = l.selc(neg, f64::NAN, y);
    let inf = l.cmpc(Cmp::Eq, u, f64::INFINITY);
    l.selc(inf, f64::INFINITY, y)
}

/// `log(x)`.
#[inline(always)]
fn log_with<L: Lanes>(l: &mut L, x: L::F, lc: &LogConsts) -> L::F {
    let p = parts(l, x, true, lc);
    let y = ln_of(l, &p, None, lc);
    specials(l, x, y)
}

/// `log(x)` in `f64`.
#[inline(always)]
pub(super) fn log<L: Lanes>(l: &mut L, x: L::F) -> L::F {
    log_with(l, x, &LOG_F64)
}

/// The algorithm of [`log`].
pub(crate) struct Log;

impl Algorithm for Log {
    const F32: bool = true;
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        log_with(l, x, &LOG_F32)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        log(l, x)
    }
}

/// `log1p(hi + lo)` for `|lo|` below an ulp of `hi` (NaN for NaN, −inf at −1, NaN below,
/// the sign of a zero `hi` kept): `log` of the exact sum `1 + hi = u + e` (no subnormal
/// scaling: `u` is 0 or at least an ulp of 1), corrected by `(e + lo)/u`.
#[inline(always)]
fn log1p_dd<L: Lanes>(l: &mut L, hi: L::F, lo: Option<L::F>, lc: &LogConsts) -> L::F {
    let one = l.c(1.0);
    let (u, e) = l.two_sum(one, hi);
    let e = match lo {
        Some(lo) => l.add(e, lo),
        None => e,
    };
    let p = parts(l, u, false, lc);
    let c = l.div(e, u);
    let y = ln_of(l, &p, Some(c), lc);
    let y = specials(l, u, y);
    l.keep_zero(hi, y)
}

/// `log1p(x)` in `f64`.
#[inline(always)]
pub(super) fn log1p<L: Lanes>(l: &mut L, x: L::F) -> L::F {
    log1p_dd(l, x, None, &LOG_F64)
}

/// The algorithm of [`log1p`].
pub(crate) struct Log1p;

impl Algorithm for Log1p {
    const F32: bool = true;
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        log1p_dd(l, x, None, &LOG_F32)
    }
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        log1p(l, x)
    }
}

/// fdlibm's extra-precise `log2`/`log10` recombination: `hi + lo = log(1+f)` with `hi`
/// holding 21 bits, scaled by `1/ln b` in two parts, plus `k·log_b 2`.
#[inline(always)]
fn log_base<L: Lanes>(l: &mut L, x: L::F, ten: bool) -> L::F {
    let p = parts(l, x, true, &LOG_F64);
    let hi = l.sub(p.f, p.hfsq);
    let hi = l.clear_low_word(hi);
    let lo = l.sub(p.f, hi);
    let lo = l.sub(lo, p.hfsq);
    let hr = l.add(p.hfsq, p.r);
    let lo = l.mla(p.s, hr, lo);
    let (ivhi, ivlo) = if ten { (IVLN10HI, IVLN10LO) } else { (IVLN2HI, IVLN2LO) };
    let val_hi = l.mulc(hi, ivhi);
    let lh = l.add(lo, hi);
    let a = l.mulc(lh, ivlo);
    let b = l.mulc(lo, ivhi);
    let mut val_lo = l.add(a, b);
    let y = if ten {
        let kl = l.mulc(p.k, LOG10_2LO);
        val_lo = l.add(kl, val_lo);
        l.mulc(p.k, LOG10_2HI)
    } else {
        p.k
    };
    // spadd(val_hi, val_lo, y)
    let w = l.add(y, val_hi);
    let d = l.sub(y, w);
    let d = l.add(d, val_hi);
    let val_lo = l.add(val_lo, d);
    let r = l.add(val_lo, w);
    specials(l, x, r)
}

/// `log2(x)`.
pub(crate) struct Log2;

impl Algorithm for Log2 {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        log_base(l, x, false)
    }
}

/// `log10(x)`.
pub(crate) struct Log10;

impl Algorithm for Log10 {
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        log_base(l, x, true)
    }
}

/// `arcsinh(x)` as Rust std computes it (the reference):
/// `log1p(a + a/(hypot(1, 1/a) + 1/a))` with `a = |x|`, the sign of `x`; `hypot(1, t)` as
/// `√(1 + t²)` (one rounding inside with FMA; it becomes `inf` only where `a/(…)` is far
/// below an ulp of `a`). In `float32`, every step rounds to `float32` as std's does.
pub(crate) struct Asinh;

impl Algorithm for Asinh {
    const BULK_F32: bool = false;
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let a = l.abs(x);
        let one = l.c(1.0);
        let ix = l.div(one, a);
        let ix = l.r32(ix);
        let h = l.mla(ix, ix, one);
        let h = l.sqrt(h);
        let h = l.r32(h);
        let d = l.add(h, ix);
        let d = l.r32(d);
        let q = l.div(a, d);
        let q = l.r32(q);
        let t = l.add(a, q);
        let t = l.r32(t);
        let y = log1p(l, t);
        let y = l.r32(y);
        l.copysign(y, x)
    }
}

/// `arccosh(x)` as Rust std computes it (the reference): NaN below 1, else
/// `log(x + √(x-1)·√(x+1))` (rounding each step to `float32` in `float32`).
pub(crate) struct Acosh;

impl Algorithm for Acosh {
    const BULK_F32: bool = false;
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let xm = l.addc(x, -1.0);
        let xm = l.r32(xm);
        let xp = l.addc(x, 1.0);
        let xp = l.r32(xp);
        let a = l.sqrt(xm);
        let a = l.r32(a);
        let b = l.sqrt(xp);
        let b = l.r32(b);
        let p = l.mul(a, b);
        let p = l.r32(p);
        let u = l.add(x, p);
        let u = l.r32(u);
        let y = log(l, u);
        let below = l.cmpc(Cmp::Lt, x, 1.0);
        l.selc(below, f64::NAN, y)
    }
}

/// `arctanh(x)` as Rust std computes it (the reference): `½·log1p(2x/(1-x))` (rounding each
/// step to `float32` in `float32`).
pub(crate) struct Atanh;

impl Algorithm for Atanh {
    const BULK_F32: bool = false;
    #[inline(always)]
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        let t = l.add(x, x);
        let t = l.r32(t);
        let om = l.csub(1.0, x);
        let om = l.r32(om);
        let q = l.div(t, om);
        let q = l.r32(q);
        let y = log1p(l, q);
        let y = l.r32(y);
        l.mulc(y, 0.5)
    }
}

// ---------------------------------------------------------------------------------------
// `f32` algorithms: the same core on `f32` lanes, with the degree-4 minimax `R` of the
// `float` version of fdlibm's `log` (|log(1+f) - …| < 2^-34.24) and an `f32` `ln 2` split.

/// fdlibm's `float` `Lg1`…`Lg4` (0xaaaaaa.0p-24, 0xccce13.0p-25, 0x91e9ee.0p-25,
/// 0xf89e26.0p-26).
const LG_F32: [f64; 4] =
    [0.666_666_626_930_236_8, 0.400_009_721_517_562_87, 0.284_987_866_878_509_5, 0.242_790_788_412_094_12];
/// `f32`: `ln 2` split as 0x3f317180 and 0x3717f7d1.
const LOG_F32: LogConsts = LogConsts { lg: &LG_F32, ln2: [0.693_138_122_558_593_8, 9.058_000_614_459_16e-6] };

/// `log1p(hi + lo)` on `f32` lanes (see [`log1p_dd`]).
#[inline(always)]
pub(super) fn log1p_dd_f32<L: Lanes>(l: &mut L, hi: L::F, lo: L::F) -> L::F {
    log1p_dd(l, hi, Some(lo), &LOG_F32)
}
