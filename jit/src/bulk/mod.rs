//! Bulk math: transcendental functions over whole slices, vectorised by LLVM and chosen at
//! run time by CPU features.
//!
//! Cranelift's x86-64 backend has 128-bit vectors only, so JIT kernels dominated by
//! transcendental math call these precompiled routines on chunks instead of computing the
//! functions inline (see the JIT reference notes, "Calling Rust from JIT code").
//!
//! The algorithms are those of the inline code, written once in `crate::math` and
//! instantiated here for `Rust`: branch-free scalar Rust called in a slice loop, one
//! loop per function, compiled for three [`Level`]s: AVX-512 (zmm, FMA), AVX2+FMA (ymm)
//! and the baseline (SSE2 on x86-64, whatever the target has elsewhere). The level is
//! detected once ([`Level::detect`]); the `_at` functions force one (tests use them).
//!
//! Accuracy (checked by `jit/tests/bulk_ulp.rs` on every level): ≤ 2 ulp (f64) and ≤ 1 ulp
//! (f32) from the reference functions of `tensorlift_ir` (Rust std, and the reference
//! definitions of `sigmoid`, `softplus`, `erf`), unless the op table states a larger bound.
//! `f32` functions with an `f32` algorithm ([`f32_width`]) compute on `f32` lanes (twice as
//! many per vector); the others compute in f64 and round once. Arguments beyond a
//! function's `Algorithm::LIMIT` (`sin`, `cos`, `tan` beyond 1.5·2^20 in f64, beyond
//! `Algorithm::LIMIT_F32` on `f32` lanes, and infinities) are recomputed by the reference
//! function after the vector pass.

use crate::math::{self, Algorithm, Cmp, Fmt, Lanes, Visit, FMT_F32, FMT_F64};
use std::sync::OnceLock;
use tensorlift_ir::MathFn;

/// A dispatch level: the instruction-set extensions a kernel is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// No extension beyond the target's baseline (SSE2 on x86-64); no FMA.
    Baseline,
    /// AVX2 and FMA (256-bit vectors).
    Avx2,
    /// AVX-512 F/DQ/VL with AVX2 and FMA (512-bit vectors).
    Avx512,
}

impl Level {
    /// Every level, from the most portable.
    pub const ALL: [Level; 3] = [Level::Baseline, Level::Avx2, Level::Avx512];

    /// Whether this CPU can run the level's kernels.
    pub fn is_available(self) -> bool {
        match self {
            Level::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                Level::Avx2.is_available()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The best level this CPU runs (detected once).
    pub fn detect() -> Level {
        static DETECTED: OnceLock<Level> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Level::ALL.into_iter().rev().find(|l| l.is_available()).unwrap_or(Level::Baseline)
        })
    }

    /// Every level this CPU runs.
    pub fn available() -> Vec<Level> {
        Level::ALL.into_iter().filter(|l| l.is_available()).collect()
    }

    /// A short name (`avx512`, `avx2`, `baseline`).
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }
}

/// `out[i] = f(x[i])` on the detected level. Panics if the lengths differ.
pub fn unary_f64(f: MathFn, x: &[f64], out: &mut [f64]) {
    unary_f64_at(Level::detect(), f, x, out)
}

/// `out[i] = f(x[i])` on the detected level. Panics if the lengths differ.
pub fn unary_f32(f: MathFn, x: &[f32], out: &mut [f32]) {
    unary_f32_at(Level::detect(), f, x, out)
}

/// [`unary_f64`] on a given level. Panics if the lengths differ or this CPU lacks the level.
pub fn unary_f64_at(level: Level, f: MathFn, x: &[f64], out: &mut [f64]) {
    math::dispatch(f, Run { level: checked(level, x.len(), out.len()), f, x, out })
}

/// [`unary_f32`] on a given level. Panics if the lengths differ or this CPU lacks the level.
pub fn unary_f32_at(level: Level, f: MathFn, x: &[f32], out: &mut [f32]) {
    math::dispatch(f, Run { level: checked(level, x.len(), out.len()), f, x, out })
}

/// Whether `f` computes `float32` on `f32` lanes (its own `f32` algorithm); otherwise in
/// `f64`, rounded once.
pub fn f32_width(f: MathFn) -> bool {
    math::has_f32(f)
}

/// `level`, after checking the lengths and the level.
#[track_caller]
fn checked(level: Level, x: usize, out: usize) -> Level {
    assert_eq!(x, out, "bulk math: input has {x} elements but output has {out}");
    assert!(level.is_available(), "bulk level {} not available", level.name());
    level
}

/// One call of a slice routine: the function's loop on the level.
struct Run<'a, T> {
    level: Level,
    f: MathFn,
    x: &'a [T],
    out: &'a mut [T],
}

/// An element type of the slice loops: `f64`, or `f32` (on `f32` lanes when the function
/// has an `f32` algorithm, else computed in `f64` and rounded once).
trait Elem: Copy + Into<f64> {
    /// `A`'s function of `v`.
    fn eval<A: Algorithm, const FMA: bool>(v: Self) -> Self;
    /// The argument bound of `A`'s algorithm in this type.
    fn limit<A: Algorithm>() -> Option<f64>;
    /// The reference function of `f` in this type.
    fn reference(f: MathFn) -> fn(Self) -> Self;
}

impl Elem for f64 {
    #[inline(always)]
    fn eval<A: Algorithm, const FMA: bool>(v: f64) -> f64 {
        A::eval(&mut Rust::<FMA>, v)
    }
    fn limit<A: Algorithm>() -> Option<f64> {
        A::LIMIT
    }
    fn reference(f: MathFn) -> fn(f64) -> f64 {
        f.op().unary_f64().expect("a math function has a reference")
    }
}

impl Elem for f32 {
    #[inline(always)]
    fn eval<A: Algorithm, const FMA: bool>(v: f32) -> f32 {
        if A::F32 {
            A::eval_f32(&mut Rust32::<FMA>, v)
        } else {
            A::eval(&mut Rust::<FMA>, v.into()) as f32
        }
    }
    fn limit<A: Algorithm>() -> Option<f64> {
        if A::F32 {
            A::LIMIT_F32
        } else {
            A::LIMIT
        }
    }
    fn reference(f: MathFn) -> fn(f32) -> f32 {
        f.op().unary_f32().expect("a math function has a reference")
    }
}

impl<T: Elem> Visit for Run<'_, T> {
    type Out = ();
    fn visit<A: Algorithm>(self) {
        let Run { level, f, x, out } = self;
        match level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `checked` made sure this CPU has the level's features.
            Level::Avx512 => unsafe { avx512::<A, T>(x, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2 => unsafe { avx2::<A, T>(x, out) },
            _ => run::<A, T, false>(x, out),
        }
        if let Some(limit) = T::limit::<A>() {
            // Beyond the limit (rare): the reference function, after the vector pass.
            let any = x.iter().fold(false, |acc, &v| acc | (Into::<f64>::into(v).abs() > limit));
            if any {
                let r = T::reference(f);
                for (o, &v) in out.iter_mut().zip(x) {
                    if Into::<f64>::into(v).abs() > limit {
                        *o = r(v);
                    }
                }
            }
        }
    }
}

/// The loop of `A` for one level (`FMA`: whether the target has it).
#[inline(always)]
fn run<A: Algorithm, T: Elem, const FMA: bool>(x: &[T], out: &mut [T]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = T::eval::<A, FMA>(v);
    }
}

/// [`run`] compiled for AVX-512 (zmm registers).
///
/// # Safety
/// The CPU must have [`Level::Avx512`]'s features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn avx512<A: Algorithm, T: Elem>(x: &[T], out: &mut [T]) {
    run::<A, T, true>(x, out)
}

/// [`run`] compiled for AVX2 and FMA (ymm registers).
///
/// # Safety
/// The CPU must have [`Level::Avx2`]'s features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<A: Algorithm, T: Elem>(x: &[T], out: &mut [T]) {
    run::<A, T, true>(x, out)
}

/// Lane arithmetic on one `f64`, for loops that LLVM vectorises: every method is inlined,
/// a select is a `bool` choice, and `FMA` says whether `mla` is a fused `mul_add` (a
/// `mul_add` without hardware FMA would be a libm call per element). `r32` is the identity:
/// the `f32` routines without an `f32` algorithm compute in `f64` and round once.
pub(crate) struct Rust<const FMA: bool>;

/// [`Rust`] on one `f32` (`i32` bit patterns): the lanes of the `f32` algorithms.
pub(crate) struct Rust32<const FMA: bool>;

/// Implements [`Lanes`] for a scalar lane type `$s` on float `$f`, integer `$i` (its
/// unsigned `$u`) and format `$fmt`, each method `#[inline(always)]`.
macro_rules! rust_lanes {
    ($s:ident, $f:ty, $i:ty, $u:ty, $fmt:expr) => {
        impl<const FMA: bool> Lanes for $s<FMA> {
            type F = $f;
            type I = $i;
            type M = bool;

            #[inline(always)]
            fn fmt(&self) -> &'static Fmt {
                &$fmt
            }

            #[inline(always)]
            fn fused(&self) -> bool {
                FMA
            }

            inline_methods! {
                c(v: f64) -> $f { v as $f }
                ci(v: i64) -> $i { v as $i }
                add(a: $f, b: $f) -> $f { a + b }
                sub(a: $f, b: $f) -> $f { a - b }
                mul(a: $f, b: $f) -> $f { a * b }
                div(a: $f, b: $f) -> $f { a / b }
                abs(a: $f) -> $f { a.abs() }
                neg(a: $f) -> $f { -a }
                sqrt(a: $f) -> $f { a.sqrt() }
                mla(a: $f, b: $f, c: $f) -> $f { if FMA { a.mul_add(b, c) } else { a * b + c } }
                cmp(cc: Cmp, a: $f, b: $f) -> bool {
                    match cc {
                        Cmp::Lt => a < b,
                        Cmp::Gt => a > b,
                        Cmp::Ge => a >= b,
                        Cmp::Eq => a == b,
                        Cmp::Unord => a.is_nan() || b.is_nan(),
                        Cmp::UnordLt => a < b || a.is_nan() || b.is_nan(),
                    }
                }
                sel(m: bool, a: $f, b: $f) -> $f { if m { a } else { b } }
                copysign(mag: $f, sign: $f) -> $f { mag.copysign(sign) }
                bits(a: $f) -> $i { a.to_bits() as $i }
                float(i: $i) -> $f { <$f>::from_bits(i as $u) }
                iadd(a: $i, b: $i) -> $i { a.wrapping_add(b) }
                isub(a: $i, b: $i) -> $i { a.wrapping_sub(b) }
                iand(a: $i, b: $i) -> $i { a & b }
                ixor(a: $i, b: $i) -> $i { a ^ b }
                shl(a: $i, n: u8) -> $i { ((a as $u) << n) as $i }
                ushr(a: $i, n: u8) -> $i { ((a as $u) >> n) as $i }
                ieq(a: $i, b: $i) -> bool { a == b }
                r32(x: $f) -> $f { x }
            }
        }
    };
}

/// `Lanes` methods, each `#[inline(always)]`: `name(args) -> type { body }`.
macro_rules! inline_methods {
    ($($name:ident($($a:ident: $t:ty),*) -> $r:ty $body:block)*) => {
        $( #[inline(always)] fn $name(&mut self, $($a: $t),*) -> $r $body )*
    };
}

rust_lanes!(Rust, f64, i64, u64, FMT_F64);
rust_lanes!(Rust32, f32, i32, u32, FMT_F32);
