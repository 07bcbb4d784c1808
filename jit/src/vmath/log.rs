//! The logarithm family: `log`, `log1p`, `log2`, `log10`, `arcsinh`, `arccosh`, `arctanh`.
//!
//! One core, fdlibm's: `u = 2^k·m` with `m ∈ [√½, √2)` (subnormal `u` scaled by 2^54
//! first), `f = m - 1`, `s = f/(2+f)`, `log(1+f) = f - f²/2 + s·(f²/2 + R(s²))` with
//! fdlibm's degree-7 minimax `R`, and `k·ln 2` added in two parts. `log1p` and the inverse
//! `1 + x` as an exact sum (a rounded `u` plus a correction). The inverse hyperbolic
//! functions follow Rust std's own formulas (std does not call glibc for them, and they are
//! the reference's semantics) on top of these `log` and `log1p`.

use super::M;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value};

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1; // 0x3fe62e42 fee00000
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10; // 0x3dea39ef 35793c76
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
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const SHIFTER_BITS: i64 = 0x4338_0000_0000_0000;
/// The bits of √½: `m` is reduced into `[√½, √2)`.
const SQRT_HALF_BITS: i64 = 0x3fe6_a09e_667f_3bcd;

/// `u = 2^k·(1 + f)` and the pieces of `log(1 + f)`.
struct Parts {
    /// `k` as a float.
    k: Value,
    f: Value,
    /// `f²/2`.
    hfsq: Value,
    /// `f / (2 + f)`.
    s: Value,
    /// `R(s²)`: `log(1+f) = f - hfsq + s·(hfsq + R)`.
    r: Value,
}

/// Splits a positive `u` (subnormals too when `subnormal`); garbage for other `u`, which
/// [`specials`] overrides.
fn parts(m: &mut M<'_, '_>, u: Value, subnormal: bool) -> Parts {
    let (u, kadj) = if subnormal {
        let tiny = m.cmpc(FloatCC::LessThan, u, f64::MIN_POSITIVE);
        let scaled = m.mulc(u, 18_014_398_509_481_984.0); // 2^54
        let u = m.sel(tiny, scaled, u);
        let zero = m.c(0.0);
        let kadj = m.selc(tiny, -54.0, zero);
        (u, Some(kadj))
    } else {
        (u, None)
    };
    let ix = m.bits_of(u);
    // (ix - bits(√½)) >> 52 (arithmetic) = k; biased by 2^62 to use a logical shift.
    let c = m.ci((1i64 << 62).wrapping_sub(SQRT_HALF_BITS));
    let t = m.b.ins().iadd(ix, c);
    let kb = m.b.ins().ushr_imm_u(t, 52i64); // k + 1024
    let kshift = m.b.ins().ishl_imm_u(kb, 52i64);
    let mb = m.b.ins().isub(ix, kshift);
    let c62 = m.ci(1i64 << 62);
    let mb = m.b.ins().iadd(mb, c62); // ix - (k << 52)
    let mant = m.float_of(mb);
    let cs = m.ci(SHIFTER_BITS - 1024);
    let kd = m.b.ins().iadd(kb, cs);
    let kd = m.float_of(kd);
    let sh = m.c(SHIFTER);
    let mut k = m.sub(kd, sh);
    if let Some(kadj) = kadj {
        k = m.add(k, kadj);
    }
    let f = m.addc(mant, -1.0);
    let ff = m.mul(f, f);
    let hfsq = m.mulc(ff, 0.5);
    let two_f = m.addc(f, 2.0);
    let s = m.div(f, two_f);
    let z = m.mul(s, s);
    let p = m.poly(z, &LG);
    let r = m.mul(z, p);
    Parts { k, f, hfsq, s, r }
}

/// `log(u)` from its parts, plus `c` (a correction of order ulp, e.g. `err/u`).
fn ln_of(m: &mut M<'_, '_>, p: &Parts, c: Option<Value>) -> Value {
    // k·ln2_hi - ((hfsq - (s·(hfsq + R) + (k·ln2_lo + c))) - f)
    let klo = m.mulc(p.k, LN2_LO);
    let klo = match c {
        Some(c) => m.add(klo, c),
        None => klo,
    };
    let hr = m.add(p.hfsq, p.r);
    let t = m.mla(p.s, hr, klo);
    let t = m.sub(p.hfsq, t);
    let t = m.sub(t, p.f);
    let khi = m.mulc(p.k, LN2_HI);
    m.sub(khi, t)
}

/// The results for `u` outside `(0, inf)`: `-inf` at ±0, NaN below 0 or for NaN, `inf` at
/// `inf`; `y` elsewhere.
fn specials(m: &mut M<'_, '_>, u: Value, y: Value) -> Value {
    let zero = m.cmpc(FloatCC::Equal, u, 0.0);
    let y = m.selc(zero, f64::NEG_INFINITY, y);
    let neg = m.cmpc(FloatCC::UnorderedOrLessThan, u, 0.0);
    let y = m.selc(neg, f64::NAN, y);
    let inf = m.cmpc(FloatCC::Equal, u, f64::INFINITY);
    m.selc(inf, f64::INFINITY, y)
}

/// `log(x)`.
pub(super) fn emit_log(m: &mut M<'_, '_>, x: Value) -> Value {
    let p = parts(m, x, true);
    let y = ln_of(m, &p, None);
    specials(m, x, y)
}

/// `log(hi + lo)` for a normal `hi` (no subnormal scaling) and `|lo| ≤ ulp(hi)`.
fn log_sum(m: &mut M<'_, '_>, hi: Value, lo: Value) -> Value {
    let p = parts(m, hi, false);
    let c = m.div(lo, hi);
    let y = ln_of(m, &p, Some(c));
    specials(m, hi, y)
}

/// `log1p(x)`: `log` of the exact sum `1 + x`.
pub(super) fn emit_log1p(m: &mut M<'_, '_>, x: Value) -> Value {
    let (u, e) = m.two_sum_one(x);
    let y = log_sum(m, u, e);
    m.keep_zero(x, y)
}

/// fdlibm's extra-precise `log2`/`log10` recombination: `hi + lo = log(1+f)` with `hi`
/// holding 21 bits, scaled by `1/ln b` in two parts, plus `k·log_b 2`.
fn log_base(m: &mut M<'_, '_>, x: Value, ten: bool) -> Value {
    let p = parts(m, x, true);
    let hi = m.sub(p.f, p.hfsq);
    let hi = m.clear_low_word(hi);
    let lo = m.sub(p.f, hi);
    let lo = m.sub(lo, p.hfsq);
    let hr = m.add(p.hfsq, p.r);
    let lo = m.mla(p.s, hr, lo);
    let (ivhi, ivlo) = if ten { (IVLN10HI, IVLN10LO) } else { (IVLN2HI, IVLN2LO) };
    let val_hi = m.mulc(hi, ivhi);
    let lh = m.add(lo, hi);
    let a = m.mulc(lh, ivlo);
    let b = m.mulc(lo, ivhi);
    let mut val_lo = m.add(a, b);
    let y = if ten {
        let kl = m.mulc(p.k, LOG10_2LO);
        val_lo = m.add(kl, val_lo);
        m.mulc(p.k, LOG10_2HI)
    } else {
        p.k
    };
    // spadd(val_hi, val_lo, y)
    let w = m.add(y, val_hi);
    let d = m.sub(y, w);
    let d = m.add(d, val_hi);
    let val_lo = m.add(val_lo, d);
    let r = m.add(val_lo, w);
    specials(m, x, r)
}

/// `log2(x)`.
pub(super) fn emit_log2(m: &mut M<'_, '_>, x: Value) -> Value {
    log_base(m, x, false)
}

/// `log10(x)`.
pub(super) fn emit_log10(m: &mut M<'_, '_>, x: Value) -> Value {
    log_base(m, x, true)
}

/// `arcsinh(x)` as Rust std computes it (the reference):
/// `log1p(a + a/(hypot(1, 1/a) + 1/a))` with `a = |x|`, the sign of `x`; `hypot(1, t)` as
/// `√(1 + t²)` (one rounding inside with FMA; it becomes `inf` only where `a/(…)` is far
/// below an ulp of `a`). In `float32`, every step rounds to `float32` as std's does.
pub(super) fn emit_asinh(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let one = m.c(1.0);
    let ix = m.div(one, a);
    let ix = m.r32(ix);
    let h = m.mla(ix, ix, one);
    let h = m.sqrt(h);
    let h = m.r32(h);
    let d = m.add(h, ix);
    let d = m.r32(d);
    let q = m.div(a, d);
    let q = m.r32(q);
    let t = m.add(a, q);
    let t = m.r32(t);
    let y = emit_log1p(m, t);
    let y = m.r32(y);
    m.copysign(y, x)
}

/// `arccosh(x)` as Rust std computes it (the reference): NaN below 1, else
/// `log(x + √(x-1)·√(x+1))` (rounding each step to `float32` in `float32`).
pub(super) fn emit_acosh(m: &mut M<'_, '_>, x: Value) -> Value {
    let xm = m.addc(x, -1.0);
    let xm = m.r32(xm);
    let xp = m.addc(x, 1.0);
    let xp = m.r32(xp);
    let a = m.sqrt(xm);
    let a = m.r32(a);
    let b = m.sqrt(xp);
    let b = m.r32(b);
    let p = m.mul(a, b);
    let p = m.r32(p);
    let u = m.add(x, p);
    let u = m.r32(u);
    let y = emit_log(m, u);
    let below = m.cmpc(FloatCC::LessThan, x, 1.0);
    m.selc(below, f64::NAN, y)
}

/// `arctanh(x)` as Rust std computes it (the reference): `½·log1p(2x/(1-x))` (rounding each
/// step to `float32` in `float32`).
pub(super) fn emit_atanh(m: &mut M<'_, '_>, x: Value) -> Value {
    let t = m.add(x, x);
    let t = m.r32(t);
    let om = m.csub(1.0, x);
    let om = m.r32(om);
    let q = m.div(t, om);
    let q = m.r32(q);
    let l = emit_log1p(m, q);
    let l = m.r32(l);
    m.mulc(l, 0.5)
}
