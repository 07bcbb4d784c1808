//! The exponential family: `exp`, `expm1`, `sinh`, `cosh`, `tanh`, `sigmoid`, `softplus`.
//!
//! All share one reduction: `k = round(x / ln 2)` by the 1.5·2^52 shifter,
//! `r = x - k·ln2_hi - k·ln2_lo` (Cody-Waite; `ln2_hi` has 32 significant bits, so
//! `k·ln2_hi` is exact even without FMA), `|r| ≤ ln 2 / 2`, and a Taylor polynomial in `r`.

use super::M;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, Value};

const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split: `LN2_HI` = 0x3fe62e42fee00000 (32 significant bits), `LN2_LO` the rest.
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// 1.5·2^52: adding it rounds an `|x| < 2^51` to an integer, held in the low bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const SHIFTER_BITS: i64 = 0x4338_0000_0000_0000;

/// `1/i!` for `i = 2..=13`: `(e^r - 1 - r) / r^2 = Σ r^(i-2)/i!`.
const EXPM1_TAIL: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

/// The reduction of `x` (already clamped to `|x| < 1100`).
struct Reduced {
    /// `SHIFTER + k`: its low bits hold `k`.
    kd: Value,
    /// The reduced argument.
    r: Value,
    /// `x - k·ln 2 - r`, to first order (the error of the last reduction step).
    r_err: Value,
}

fn reduce(m: &mut M<'_, '_>, x: Value) -> Reduced {
    let l2e = m.c(LOG2E);
    let sh = m.c(SHIFTER);
    let kd = m.mla(x, l2e, sh);
    let kf = m.sub(kd, sh);
    // r_hi = x - k·ln2_hi is exact (k < 2^11, ln2_hi has 32 bits, Sterbenz).
    let nhi = m.c(-LN2_HI);
    let r_hi = m.mla(kf, nhi, x);
    let klo = m.mulc(kf, LN2_LO);
    let r = m.sub(r_hi, klo);
    // The error of `r_hi - klo` (Fast2Sum: |r_hi| ≥ |klo|), ignoring the rounding of klo.
    let d = m.sub(r_hi, r);
    let r_err = m.sub(d, klo);
    Reduced { kd, r, r_err }
}

/// `k` as an integer (`I64`/`I64X2`) from `kd = SHIFTER + k`.
fn k_int(m: &mut M<'_, '_>, kd: Value) -> Value {
    let kb = m.bits_of(kd);
    let shb = m.ci(SHIFTER_BITS);
    m.b.ins().isub(kb, shb)
}

/// `p · 2^(k + extra)` for an integer `k` (`-1100 < k + extra < 1100`), by two powers of two
/// so that results that underflow to subnormals or overflow to inf round right.
fn scale(m: &mut M<'_, '_>, p: Value, k: Value, extra: i64) -> Value {
    let c = m.ci(2048 + extra);
    let kp = m.b.ins().iadd(k, c); // K + 2048 > 0
    let kh = m.b.ins().ushr_imm_u(kp, 1i64); // floor(K/2) + 1024
    let one = m.ci(1);
    let e1 = m.b.ins().isub(kh, one); // floor(K/2) + 1023
    let t = m.b.ins().isub(kp, kh);
    let e2 = m.b.ins().isub(t, one); // ceil(K/2) + 1023
    let e1 = m.b.ins().ishl_imm_u(e1, 52i64);
    let e2 = m.b.ins().ishl_imm_u(e2, 52i64);
    let s1 = m.float_of(e1);
    let s2 = m.float_of(e2);
    let p = m.mul(p, s1);
    m.mul(p, s2)
}

/// `2^k` as a float, for `-1022 ≤ k ≤ 1023`.
fn pow2(m: &mut M<'_, '_>, k: Value) -> Value {
    let c = m.ci(1023);
    let e = m.b.ins().iadd(k, c);
    let e = m.b.ins().ishl_imm_u(e, 52i64);
    m.float_of(e)
}

/// The part of `expm1(r)` beyond `r`, for `|r| ≤ ~0.35`, with `r_err` the error of `r`:
/// `expm1(r) = r + (r²·q(r) + r_err)`.
fn expm1_tail(m: &mut M<'_, '_>, r: Value, r_err: Value) -> Value {
    let q = m.poly(r, &EXPM1_TAIL);
    let r2 = m.mul(r, r);
    m.mla(r2, q, r_err)
}

/// `expm1(r)` for `|r| ≤ ~0.35`, rounded once.
fn expm1_poly(m: &mut M<'_, '_>, r: Value, r_err: Value) -> Value {
    let t = expm1_tail(m, r, r_err);
    m.add(r, t)
}

/// `e^x · 2^extra` (`extra` small), for every `x`; NaN stays NaN.
fn exp_scaled(m: &mut M<'_, '_>, x: Value, extra: i64) -> Value {
    let x = m.max_keep_nan(x, -746.0);
    let x = m.min_keep_nan(x, 711.0);
    let red = reduce(m, x);
    // e^r = 1 + (r + r²·q(r) + r_err), the small part added last.
    let em1 = expm1_poly(m, red.r, red.r_err);
    let p = m.addc(em1, 1.0);
    let k = k_int(m, red.kd);
    scale(m, p, k, extra)
}

/// `exp(x)`.
pub(super) fn emit_exp(m: &mut M<'_, '_>, x: Value) -> Value {
    exp_scaled(m, x, 0)
}

/// `expm1(x)` for `-40 ≤ x ≤ 709.79` (not tiny) as an unevaluated sum `hi + lo`:
/// `2^k·expm1(r) + (2^k - 1)`, computed as `2·(2^(k-1)·expm1(r) + (2^(k-1) - ½))` so that
/// `k = 1024` does not overflow the scale, with `2^(k-1)·r + (2^(k-1) - ½)` summed exactly
/// (TwoSum) before the small part is added.
fn expm1_dd(m: &mut M<'_, '_>, x: Value) -> (Value, Value) {
    let red = reduce(m, x);
    let t = expm1_tail(m, red.r, red.r_err);
    let k = k_int(m, red.kd);
    let one = m.ci(1);
    let km1 = m.b.ins().isub(k, one);
    let s = pow2(m, km1);
    let half = m.c(0.5);
    let sm = m.sub(s, half);
    let sr = m.mul(s, red.r); // exact: s is a power of two and 2^(k-1)·r is normal
    let (hi, lo) = m.two_sum(sr, sm);
    let lo = m.mla(s, t, lo);
    let y = m.add(hi, lo);
    let d = m.sub(hi, y);
    let d = m.add(d, lo);
    (m.add(y, y), m.add(d, d))
}

/// `expm1(x)`.
pub(super) fn emit_expm1(m: &mut M<'_, '_>, x: Value) -> Value {
    // expm1(x) rounds to -1 below -38, and overflows above 709.79 (k = 1024 still fits).
    let xc = m.max_keep_nan(x, -40.0);
    let xc = m.min_keep_nan(xc, 709.79);
    let (y, _) = expm1_dd(m, xc);
    // expm1(x) = x below 2^-54 (this also keeps the sign of ±0 and avoids a subnormal s·r).
    let a = m.abs(x);
    let tiny = m.cmpc(FloatCC::LessThan, a, 5.551_115_123_125_783e-17);
    let y = m.sel(tiny, x, y);
    m.keep_nan(x, y)
}

/// The odd Taylor series of `sinh` for `|x| < 1`: `x + x³·Σ x^(2i)/(2i+3)!`.
const SINH_TAIL: [f64; 8] = [
    1.0 / 6.0,
    1.0 / 120.0,
    1.0 / 5040.0,
    1.0 / 362880.0,
    1.0 / 39916800.0,
    1.0 / 6227020800.0,
    1.0 / 1307674368000.0,
    1.0 / 355687428096000.0,
];

/// `sinh(x)`: the series for `|x| < 1`, else `h - ¼/h` with `h = e^|x|/2`; the sign of `x`.
pub(super) fn emit_sinh(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let h = exp_scaled(m, a, -1);
    let quarter = m.c(0.25);
    let q = m.div(quarter, h);
    let big = m.sub(h, q);
    let z = m.mul(a, a);
    let p = m.poly(z, &SINH_TAIL);
    let a3 = m.mul(z, a);
    let small = m.mla(a3, p, a);
    let is_small = m.cmpc(FloatCC::LessThan, a, 1.0);
    let y = m.sel(is_small, small, big);
    m.copysign(y, x)
}

/// `cosh(x) = h + ¼/h` with `h = e^|x|/2`.
pub(super) fn emit_cosh(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let h = exp_scaled(m, a, -1);
    let quarter = m.c(0.25);
    let q = m.div(quarter, h);
    m.add(h, q)
}

/// `tanh(x) = t/(t + 2)` with `t = expm1(2|x|)` as a double-double and the quotient
/// corrected by its exact remainder (FMA), so nearly correctly rounded; `|x|` below 2^-28
/// gives `x`, from 22 on 1; the sign of `x`.
pub(super) fn emit_tanh(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let y = m.add(a, a);
    let y = m.min_keep_nan(y, 44.0);
    let (th, tl) = expm1_dd(m, y);
    let two = m.c(2.0);
    let (dh, dl) = m.two_sum(th, two);
    let q = m.div(th, dh);
    // rem = (th + tl) - q·(dh + dl + tl), its first term exact with FMA.
    let nq = m.neg(q);
    let rem = m.mla(nq, dh, th);
    let rem = m.add(rem, tl);
    let dlt = m.add(dl, tl);
    let rem = m.mla(nq, dlt, rem);
    let c = m.div(rem, dh);
    let z = m.add(q, c);
    let tiny = m.cmpc(FloatCC::LessThan, a, 3.725_290_298_461_914e-9);
    let z = m.sel(tiny, a, z);
    let sat = m.cmpc(FloatCC::GreaterThanOrEqual, a, 22.0);
    let z = m.selc(sat, 1.0, z);
    let z = m.keep_nan(x, z);
    m.copysign(z, x)
}

/// `sigmoid(x)` as the reference computes it (in `float32` arithmetic for `float32`): with `e = e^-|x|`, `1/(1+e)` for `x ≥ 0` and
/// `e/(1+e)` otherwise (one division either way).
pub(super) fn emit_sigmoid(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let na = m.neg(a);
    let e = emit_exp(m, na);
    let e = m.r32(e);
    let d = m.addc(e, 1.0);
    let d = m.r32(d);
    let nonneg = m.cmpc(FloatCC::GreaterThanOrEqual, x, 0.0);
    let n = m.selc(nonneg, 1.0, e);
    m.div(n, d)
}

/// `softplus(x) = max(x, 0) + log1p(e^-|x|)` (NaN for NaN), as the reference (rounding
/// each step to `float32` in `float32`).
pub(super) fn emit_softplus(m: &mut M<'_, '_>, x: Value) -> Value {
    let a = m.abs(x);
    let na = m.neg(a);
    let e = emit_exp(m, na);
    let e = m.r32(e);
    let l = super::log::emit_log1p(m, e);
    let l = m.r32(l);
    let pos = m.cmpc(FloatCC::GreaterThan, x, 0.0);
    let zero = m.c(0.0);
    let mx = m.sel(pos, x, zero);
    let y = m.add(mx, l);
    m.keep_nan(x, y)
}
