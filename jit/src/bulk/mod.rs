//! Bulk math: transcendental functions over whole slices, vectorised by LLVM and chosen at
//! run time by CPU features.
//!
//! Cranelift's x86-64 backend has 128-bit vectors only, so JIT kernels dominated by
//! transcendental math call these precompiled routines on chunks instead of computing the
//! functions inline (see the JIT reference notes, "Calling Rust from JIT code").
//!
//! The algorithms are those of the inline code, written once in `crate::math` and
//! instantiated here for [`Rust`]: branch-free scalar Rust called in a slice loop, one
//! loop per function, compiled for three [`Level`]s: AVX-512 (zmm, FMA), AVX2+FMA (ymm)
//! and the baseline (SSE2 on x86-64, whatever the target has elsewhere). The level is
//! detected once ([`Level::detect`]); the `_at` functions force one (tests use them).
//!
//! Accuracy (checked by `jit/tests/bulk_ulp.rs` on every level): ≤ 2 ulp (f64) and ≤ 1 ulp
//! (f32) from the reference functions of `tensorlift_ir` (Rust std, and the reference
//! definitions of `sigmoid`, `softplus`, `erf`). `f32` functions compute in f64 and round
//! once. Arguments beyond a function's `Algorithm::LIMIT` (`sin`, `cos`, `tan` beyond
//! 1.5·2^20, and infinities) are recomputed by the reference function after the vector pass.

use crate::math::{self, Algorithm, Cmp, Lanes, Visit};
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

/// An element type of the slice loops: `f64`, or `f32` computed in `f64` and rounded once.
trait Elem: Copy {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    /// The reference function of `f` in this type.
    fn reference(f: MathFn) -> fn(Self) -> Self;
}

impl Elem for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn reference(f: MathFn) -> fn(f64) -> f64 {
        f.op().unary_f64().expect("a math function has a reference")
    }
}

impl Elem for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
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
        if let Some(limit) = A::LIMIT {
            // Beyond the limit (rare): the reference function, after the vector pass.
            let any = x.iter().fold(false, |acc, v| acc | (v.to_f64().abs() > limit));
            if any {
                let r = T::reference(f);
                for (o, &v) in out.iter_mut().zip(x) {
                    if v.to_f64().abs() > limit {
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
        *o = T::from_f64(A::eval(&mut Rust::<FMA>, v.to_f64()));
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
/// the `f32` routines compute in `f64` and round once.
pub(crate) struct Rust<const FMA: bool>;

impl<const FMA: bool> Lanes for Rust<FMA> {
    type F = f64;
    type I = i64;
    type M = bool;

    #[inline(always)]
    fn c(&mut self, v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn ci(&mut self, v: i64) -> i64 {
        v
    }
    #[inline(always)]
    fn add(&mut self, a: f64, b: f64) -> f64 {
        a + b
    }
    #[inline(always)]
    fn sub(&mut self, a: f64, b: f64) -> f64 {
        a - b
    }
    #[inline(always)]
    fn mul(&mut self, a: f64, b: f64) -> f64 {
        a * b
    }
    #[inline(always)]
    fn div(&mut self, a: f64, b: f64) -> f64 {
        a / b
    }
    #[inline(always)]
    fn abs(&mut self, a: f64) -> f64 {
        a.abs()
    }
    #[inline(always)]
    fn neg(&mut self, a: f64) -> f64 {
        -a
    }
    #[inline(always)]
    fn sqrt(&mut self, a: f64) -> f64 {
        a.sqrt()
    }
    #[inline(always)]
    fn mla(&mut self, a: f64, b: f64, c: f64) -> f64 {
        if FMA {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }
    #[inline(always)]
    fn cmp(&mut self, cc: Cmp, a: f64, b: f64) -> bool {
        match cc {
            Cmp::Lt => a < b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
            Cmp::Unord => a.is_nan() || b.is_nan(),
            Cmp::UnordLt => a < b || a.is_nan() || b.is_nan(),
        }
    }
    #[inline(always)]
    fn sel(&mut self, m: bool, a: f64, b: f64) -> f64 {
        if m {
            a
        } else {
            b
        }
    }
    #[inline(always)]
    fn copysign(&mut self, mag: f64, sign: f64) -> f64 {
        mag.copysign(sign)
    }
    #[inline(always)]
    fn bits(&mut self, a: f64) -> i64 {
        a.to_bits() as i64
    }
    #[inline(always)]
    fn float(&mut self, i: i64) -> f64 {
        f64::from_bits(i as u64)
    }
    #[inline(always)]
    fn iadd(&mut self, a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn isub(&mut self, a: i64, b: i64) -> i64 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn iand(&mut self, a: i64, b: i64) -> i64 {
        a & b
    }
    #[inline(always)]
    fn ixor(&mut self, a: i64, b: i64) -> i64 {
        a ^ b
    }
    #[inline(always)]
    fn shl(&mut self, a: i64, n: u8) -> i64 {
        ((a as u64) << n) as i64
    }
    #[inline(always)]
    fn ushr(&mut self, a: i64, n: u8) -> i64 {
        ((a as u64) >> n) as i64
    }
    #[inline(always)]
    fn ieq(&mut self, a: i64, b: i64) -> bool {
        a == b
    }
    #[inline(always)]
    fn r32(&mut self, x: f64) -> f64 {
        x
    }
}
