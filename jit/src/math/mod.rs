//! Transcendental functions written once, generic over lane arithmetic.
//!
//! Each function is one branch-free algorithm over a [`Lanes`] implementation (both sides
//! of every case computed and merged by [`Lanes::sel`]), instantiated twice: by `vmath`'s
//! `Clif`, whose methods emit CLIF (`F64`, `F64X2`) inline in the JIT kernels, and by
//! `bulk`'s `Rust<FMA>`, inlined scalar Rust in slice loops that LLVM vectorises.
//!
//! [`dispatch`] is the one exhaustive `match` on [`MathFn`]: a visitor ([`Visit`]) receives
//! the function's [`Algorithm`] as a type, so each caller monomorphises one loop (or one
//! emitter) per function. Adding a function is one algorithm type and one arm there; a
//! `MathFn` without an arm does not compile. The algorithms, their accuracy and the measured
//! ulp table are described in `vmath`'s documentation.
//!
//! Each function is written once per precision: [`Algorithm::eval`] on `f64` lanes (`i64`
//! bit patterns), and, where the function has one ([`Algorithm::F32`]), [`Algorithm::eval_f32`]
//! on `f32` lanes (`i32` bit patterns) with its own shorter polynomials and `f32` range
//! reduction, twice as many lanes per vector. A function without an `f32` algorithm computes
//! `float32` arguments in `f64` and rounds once.

// The constants of fdlibm's algorithms are kept digit for digit as published (21
// significant digits, which round to the intended doubles).
#![allow(clippy::excessive_precision)]

mod cbrt;
mod erf;
mod exp;
mod inv_trig;
mod log;
mod trig;

use tensorlift_ir::MathFn;

/// ln 2 split: `LN2_HI` = 0x3fe62e42fee00000 (32 significant bits, so `k·LN2_HI` is exact
/// for `|k| < 2^21`), `LN2_LO` the rest.
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// 1.5·2^52: adding it rounds an `|x| < 2^51` to an integer, held in the low bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// The bits of [`SHIFTER`].
const SHIFTER_BITS: i64 = 0x4338_0000_0000_0000;

/// The binary format of a lane type: what the steps on bit patterns need.
pub(crate) struct Fmt {
    /// Bits of a value (64, 32).
    bits: u8,
    /// Stored mantissa bits (52, 23).
    mant: u8,
    /// The exponent bias (1023, 127).
    bias: i64,
    /// 1.5·2^mant: adding it rounds an `|x| < 2^(mant-1)` to an integer, held in the low bits.
    shifter: f64,
    /// The bits of `shifter`.
    shifter_bits: i64,
    /// The smallest normal number.
    min_normal: f64,
    /// 2^`sub_log2`, which makes every subnormal normal.
    sub_scale: f64,
    sub_log2: f64,
    /// The bits of `√½`.
    sqrt_half_bits: i64,
}

/// `f64` (binary64).
pub(crate) const FMT_F64: Fmt = Fmt {
    bits: 64,
    mant: 52,
    bias: 1023,
    shifter: SHIFTER,
    shifter_bits: SHIFTER_BITS,
    min_normal: f64::MIN_POSITIVE,
    sub_scale: 18_014_398_509_481_984.0, // 2^54
    sub_log2: 54.0,
    sqrt_half_bits: 0x3fe6_a09e_667f_3bcd,
};

/// `f32` (binary32).
pub(crate) const FMT_F32: Fmt = Fmt {
    bits: 32,
    mant: 23,
    bias: 127,
    shifter: 12_582_912.0,
    shifter_bits: 0x4b40_0000,
    min_normal: f32::MIN_POSITIVE as f64,
    sub_scale: 33_554_432.0, // 2^25
    sub_log2: 25.0,
    sqrt_half_bits: 0x3f35_04f3,
};

/// A float comparison of [`Lanes::cmp`]: `a < b`, `a > b`, `a >= b`, `a == b` (false when
/// either is NaN), either is NaN, `a < b` or either is NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Cmp {
    Lt,
    Gt,
    Ge,
    Eq,
    Unord,
    UnordLt,
}

/// Lane arithmetic: one float vector type, its integer (bit pattern) type and its mask
/// type, and the operations the algorithms use. Either every float is an `f64` lane and
/// every integer an `i64` lane (what [`Algorithm::eval`] runs on), or every float is an
/// `f32` lane and every integer an `i32` lane ([`Algorithm::eval_f32`]); constants are given
/// as `f64`/`i64` and converted to the lane type (the `f32` algorithms use constants exact in
/// `f32`). `add`, `sub`, `mul`, `div`, `abs`, `neg`, `sqrt` are the float operations of
/// their names; `iadd`, `isub` (wrapping), `iand`, `ixor` the integer ones. The provided
/// methods work on either, through [`fmt`](Self::fmt), except `clear_low_word` (`f64`).
pub(crate) trait Lanes {
    /// A float vector.
    type F: Copy;
    /// An integer vector of the same shape.
    type I: Copy;
    /// A lane mask.
    type M: Copy;

    /// The format of a float lane ([`FMT_F64`] or [`FMT_F32`]).
    fn fmt(&self) -> &'static Fmt;
    /// The float constant `v` (rounded to the lane type) in every lane.
    fn c(&mut self, v: f64) -> Self::F;
    /// The integer constant `v` (its low 32 bits for `i32` lanes) in every lane.
    fn ci(&mut self, v: i64) -> Self::I;
    fn add(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn sub(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn mul(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn div(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn abs(&mut self, a: Self::F) -> Self::F;
    fn neg(&mut self, a: Self::F) -> Self::F;
    fn sqrt(&mut self, a: Self::F) -> Self::F;
    /// `a · b + c`: fused when the target has FMA, else a multiply and an add.
    fn mla(&mut self, a: Self::F, b: Self::F, c: Self::F) -> Self::F;
    /// Whether [`mla`](Self::mla) is fused (one rounding).
    fn fused(&self) -> bool;
    /// The mask of `a cc b`.
    fn cmp(&mut self, cc: Cmp, a: Self::F, b: Self::F) -> Self::M;
    /// `m ? a : b` per lane.
    fn sel(&mut self, m: Self::M, a: Self::F, b: Self::F) -> Self::F;
    /// `|mag|` with the sign of `sign`.
    fn copysign(&mut self, mag: Self::F, sign: Self::F) -> Self::F;
    /// The bit pattern of `a`.
    fn bits(&mut self, a: Self::F) -> Self::I;
    /// The float with bit pattern `i`.
    fn float(&mut self, i: Self::I) -> Self::F;
    fn iadd(&mut self, a: Self::I, b: Self::I) -> Self::I;
    fn isub(&mut self, a: Self::I, b: Self::I) -> Self::I;
    fn iand(&mut self, a: Self::I, b: Self::I) -> Self::I;
    fn ixor(&mut self, a: Self::I, b: Self::I) -> Self::I;
    /// `a << n`.
    fn shl(&mut self, a: Self::I, n: u8) -> Self::I;
    /// `a >> n`, logical.
    fn ushr(&mut self, a: Self::I, n: u8) -> Self::I;
    /// The mask of `a == b`.
    fn ieq(&mut self, a: Self::I, b: Self::I) -> Self::M;
    /// `x` rounded to `float32` (and back) when the instantiation reproduces the reference's
    /// `float32` formulas step by step, else `x`. Rounding the f64 result of an IEEE op on
    /// `float32` values gives the `float32` op's result exactly.
    fn r32(&mut self, x: Self::F) -> Self::F;

    /// `a + c` for a constant `c`.
    #[inline(always)]
    fn addc(&mut self, a: Self::F, c: f64) -> Self::F {
        let c = self.c(c);
        self.add(a, c)
    }
    /// `a · c` for a constant `c`.
    #[inline(always)]
    fn mulc(&mut self, a: Self::F, c: f64) -> Self::F {
        let c = self.c(c);
        self.mul(a, c)
    }
    /// `c - a` for a constant `c`.
    #[inline(always)]
    fn csub(&mut self, c: f64, a: Self::F) -> Self::F {
        let c = self.c(c);
        self.sub(c, a)
    }
    /// `c[0] + x·(c[1] + x·(c[2] + …))` (Horner, with `mla`).
    #[inline(always)]
    fn poly(&mut self, x: Self::F, c: &[f64]) -> Self::F {
        let n = c.len();
        let mut p = self.c(c[n - 1]);
        for &ci in c[..n - 1].iter().rev() {
            let k = self.c(ci);
            p = self.mla(p, x, k);
        }
        p
    }
    /// `c[0] + x·c[1] + x²·c[2] + …`, the same polynomial as [`poly`](Self::poly) with a
    /// shorter chain of dependent operations: groups of four coefficients
    /// (`(c0 + x·c1) + x²·(c2 + x·c3)`, independent of one another) joined by Horner's rule
    /// in `x⁴`.
    #[inline(always)]
    fn poly_estrin(&mut self, x: Self::F, c: &[f64]) -> Self::F {
        let x2 = self.mul(x, x);
        let x4 = self.mul(x2, x2);
        let mut acc: Option<Self::F> = None;
        for g in c.chunks(4).rev() {
            let lo = self.linear(x, &g[..g.len().min(2)]);
            let v = if g.len() > 2 {
                let hi = self.linear(x, &g[2..]);
                self.mla(hi, x2, lo)
            } else {
                lo
            };
            acc = Some(match acc {
                Some(a) => self.mla(a, x4, v),
                None => v,
            });
        }
        acc.expect("at least one coefficient")
    }
    /// `c[0] + x·c[1]` (`c[0]` alone when `c` has one coefficient).
    #[inline(always)]
    fn linear(&mut self, x: Self::F, c: &[f64]) -> Self::F {
        let c0 = self.c(c[0]);
        match c.get(1) {
            Some(&c1) => {
                let c1 = self.c(c1);
                self.mla(c1, x, c0)
            }
            None => c0,
        }
    }
    /// The mask of `a cc c` for a constant `c`.
    #[inline(always)]
    fn cmpc(&mut self, cc: Cmp, a: Self::F, c: f64) -> Self::M {
        let c = self.c(c);
        self.cmp(cc, a, c)
    }
    /// `m ? c : b` for a constant `c`.
    #[inline(always)]
    fn selc(&mut self, m: Self::M, c: f64, b: Self::F) -> Self::F {
        let c = self.c(c);
        self.sel(m, c, b)
    }
    /// `x` where `x` is ±0 (keeps the sign of zero for odd functions), else `y`.
    #[inline(always)]
    fn keep_zero(&mut self, x: Self::F, y: Self::F) -> Self::F {
        let z = self.cmpc(Cmp::Eq, x, 0.0);
        self.sel(z, x, y)
    }
    /// `x` where `x` is NaN, else `y`.
    #[inline(always)]
    fn keep_nan(&mut self, x: Self::F, y: Self::F) -> Self::F {
        let n = self.cmp(Cmp::Unord, x, x);
        self.sel(n, x, y)
    }
    /// `max(x, c)` keeping a NaN `x`.
    #[inline(always)]
    fn max_keep_nan(&mut self, x: Self::F, c: f64) -> Self::F {
        let c = self.c(c);
        let m = self.cmp(Cmp::Lt, x, c);
        self.sel(m, c, x)
    }
    /// `min(x, c)` keeping a NaN `x`.
    #[inline(always)]
    fn min_keep_nan(&mut self, x: Self::F, c: f64) -> Self::F {
        let c = self.c(c);
        let m = self.cmp(Cmp::Lt, c, x);
        self.sel(m, c, x)
    }
    /// `x` with the low 32 bits of its representation cleared (fdlibm's `SET_LOW_WORD(x, 0)`).
    #[inline(always)]
    fn clear_low_word(&mut self, x: Self::F) -> Self::F {
        let i = self.bits(x);
        let m = self.ci(-1i64 << 32);
        let i = self.iand(i, m);
        self.float(i)
    }
    /// The first step of a Cody-Waite reduction: `(kd, k, x - k·hi)` with `k = round(x·inv)`
    /// as a float and `kd = shifter + k` (see [`shifted_int`](Self::shifted_int)).
    #[inline(always)]
    fn round_reduce(&mut self, x: Self::F, inv: f64, hi: f64) -> (Self::F, Self::F, Self::F) {
        let (inv, sh) = (self.c(inv), self.c(self.fmt().shifter));
        let kd = self.mla(x, inv, sh);
        let k = self.sub(kd, sh);
        let nhi = self.c(-hi);
        (kd, k, self.mla(k, nhi, x))
    }
    /// `k` from `kd = shifter + k` (a float holding the integer `k` in its low bits).
    #[inline(always)]
    fn shifted_int(&mut self, kd: Self::F) -> Self::I {
        let kb = self.bits(kd);
        let shb = self.ci(self.fmt().shifter_bits);
        self.isub(kb, shb)
    }
    /// `2^k` as a float, for a normal result.
    #[inline(always)]
    fn pow2(&mut self, k: Self::I) -> Self::F {
        let f = self.fmt();
        let c = self.ci(f.bias);
        let e = self.iadd(k, c);
        let e = self.shl(e, f.mant);
        self.float(e)
    }
    /// The exact sum `a + b` as `(hi, lo)` when `|a| ≥ |b|` (or `a` is 0): Fast2Sum.
    #[inline(always)]
    fn fast_two_sum(&mut self, a: Self::F, b: Self::F) -> (Self::F, Self::F) {
        let s = self.add(a, b);
        let d = self.sub(a, s);
        (s, self.add(d, b))
    }
    /// `(n_hi + n_lo) / (d_hi + d_lo)` to about one rounding: the quotient of the high
    /// parts corrected by its remainder (exact with FMA).
    #[inline(always)]
    fn div_dd(&mut self, nh: Self::F, nl: Self::F, dh: Self::F, dl: Self::F) -> Self::F {
        let q = self.div(nh, dh);
        let nq = self.neg(q);
        let rem = self.mla(nq, dh, nh);
        let rem = self.add(rem, nl);
        let rem = self.mla(nq, dl, rem);
        let c = self.div(rem, dh);
        self.add(q, c)
    }
    /// The exact product `a · b` as `(hi, lo)`: `lo = a·b - hi` by one FMA where
    /// [`mla`](Self::mla) is fused, else by Dekker's product of Veltkamp halves (exact
    /// unless `a·b` overflows or the low part underflows).
    #[inline(always)]
    fn two_prod(&mut self, a: Self::F, b: Self::F) -> (Self::F, Self::F) {
        let p = self.mul(a, b);
        if self.fused() {
            let np = self.neg(p);
            return (p, self.mla(a, b, np));
        }
        let (ah, al) = self.split(a);
        let (bh, bl) = self.split(b);
        let hh = self.mul(ah, bh);
        let e = self.sub(hh, p);
        let hl = self.mul(ah, bl);
        let e = self.add(e, hl);
        let lh = self.mul(al, bh);
        let e = self.add(e, lh);
        let ll = self.mul(al, bl);
        (p, self.add(e, ll))
    }
    /// `n - q·d`, exact where it is representable (the remainder of a quotient `q ≈ n/d`):
    /// one FMA where [`mla`](Self::mla) is fused, else with [`two_prod`](Self::two_prod).
    #[inline(always)]
    fn residual(&mut self, n: Self::F, q: Self::F, d: Self::F) -> Self::F {
        if self.fused() {
            let nq = self.neg(q);
            return self.mla(nq, d, n);
        }
        let (p, e) = self.two_prod(q, d);
        let r = self.sub(n, p);
        self.sub(r, e)
    }
    /// Veltkamp's split of `a` into `hi + lo`, each with at most half the significand bits
    /// (so that the products of halves are exact).
    #[inline(always)]
    fn split(&mut self, a: Self::F) -> (Self::F, Self::F) {
        let k = ((1u64 << (self.fmt().mant + 1).div_ceil(2)) + 1) as f64;
        let c = self.mulc(a, k);
        let d = self.sub(c, a);
        let hi = self.sub(c, d);
        (hi, self.sub(a, hi))
    }
    /// The exact sum `a + b` as `(hi, lo)` (Knuth's TwoSum).
    #[inline(always)]
    fn two_sum(&mut self, a: Self::F, b: Self::F) -> (Self::F, Self::F) {
        let s = self.add(a, b);
        let bb = self.sub(s, a);
        let t = self.sub(s, bb);
        let e1 = self.sub(a, t);
        let e2 = self.sub(b, bb);
        (s, self.add(e1, e2))
    }
}

/// One transcendental function: its algorithm and its properties.
pub(crate) trait Algorithm {
    /// Arguments with `|x|` beyond this (or infinite) are not reduced accurately: the
    /// caller recomputes them with the reference function (`sin`, `cos`, `tan`).
    const LIMIT: Option<f64> = None;
    /// Whether the bulk routine (`f64` rounded once) may stand for the reference in
    /// `float32`: not where the reference's `float32` formula rounds every step and lands
    /// thousands of ulps from that (`arcsinh`, `arccosh`, `arctanh`).
    const BULK_F32: bool = true;
    /// Whether the function has an `f32` algorithm, [`eval_f32`](Self::eval_f32); without
    /// one, a `float32` argument is computed by [`eval`](Self::eval) in `f64` and rounded.
    const F32: bool = false;
    /// [`LIMIT`](Self::LIMIT) of [`eval_f32`](Self::eval_f32), whose `f32` reduction is
    /// accurate over a shorter range: beyond it, the reference function.
    const LIMIT_F32: Option<f64> = Self::LIMIT;
    /// The function of `x` on `f64` lanes.
    fn eval<L: Lanes>(l: &mut L, x: L::F) -> L::F;
    /// The function of `x` on `f32` lanes; only called when [`F32`](Self::F32) is set (the
    /// functions without an `f32` algorithm keep this default, which is `eval` and would be
    /// wrong on `f32` lanes).
    #[inline(always)]
    fn eval_f32<L: Lanes>(l: &mut L, x: L::F) -> L::F {
        debug_assert!(Self::F32, "eval_f32 of a function without an f32 algorithm");
        Self::eval(l, x)
    }
}

/// A computation generic over the algorithm, run by [`dispatch`].
pub(crate) trait Visit {
    /// Its result.
    type Out;
    /// Runs it with the algorithm `A`.
    fn visit<A: Algorithm>(self) -> Self::Out;
}

/// Runs `v` with the algorithm of `f`: the one list of the functions.
pub(crate) fn dispatch<V: Visit>(f: MathFn, v: V) -> V::Out {
    match f {
        MathFn::Exp => v.visit::<exp::Exp>(),
        MathFn::Expm1 => v.visit::<exp::Expm1>(),
        MathFn::Log => v.visit::<log::Log>(),
        MathFn::Log1p => v.visit::<log::Log1p>(),
        MathFn::Log2 => v.visit::<log::Log2>(),
        MathFn::Log10 => v.visit::<log::Log10>(),
        MathFn::Sin => v.visit::<trig::Sin>(),
        MathFn::Cos => v.visit::<trig::Cos>(),
        MathFn::Tan => v.visit::<trig::Tan>(),
        MathFn::Arcsin => v.visit::<inv_trig::Asin>(),
        MathFn::Arccos => v.visit::<inv_trig::Acos>(),
        MathFn::Arctan => v.visit::<inv_trig::Atan>(),
        MathFn::Sinh => v.visit::<exp::Sinh>(),
        MathFn::Cosh => v.visit::<exp::Cosh>(),
        MathFn::Tanh => v.visit::<exp::Tanh>(),
        MathFn::Arcsinh => v.visit::<log::Asinh>(),
        MathFn::Arccosh => v.visit::<log::Acosh>(),
        MathFn::Arctanh => v.visit::<log::Atanh>(),
        MathFn::Sigmoid => v.visit::<exp::Sigmoid>(),
        MathFn::Softplus => v.visit::<exp::Softplus>(),
        MathFn::Erf => v.visit::<erf::Erf>(),
        MathFn::Erfc => v.visit::<erf::Erfc>(),
        MathFn::Cbrt => v.visit::<cbrt::Cbrt>(),
    }
}

/// The [`Algorithm`] constants of a function, as values.
struct Props;

impl Visit for Props {
    type Out = (Option<f64>, bool, bool);
    fn visit<A: Algorithm>(self) -> Self::Out {
        (A::LIMIT, A::BULK_F32, A::F32)
    }
}

/// `f`'s [`Algorithm::LIMIT`].
pub(crate) fn limit(f: MathFn) -> Option<f64> {
    dispatch(f, Props).0
}

/// `f`'s [`Algorithm::BULK_F32`].
pub(crate) fn bulk_f32(f: MathFn) -> bool {
    dispatch(f, Props).1
}

/// Whether `f` computes `float32` at `f32` width ([`Algorithm::F32`]).
pub(crate) fn has_f32(f: MathFn) -> bool {
    dispatch(f, Props).2
}
