//! The slice loops of the bulk math routines, stamped out once per dispatch level.
//!
//! Each level is a module with one sub-module per op holding `run64`/`run32`
//! (`unsafe fn(&[T], &mut [T])`): a plain loop over the branch-free scalar core of
//! [`super::math`], compiled with the level's target features so that LLVM vectorises it
//! (zmm registers for AVX-512, ymm for AVX2, xmm for the SSE2 baseline). The f32 loops
//! widen to f64, call the f64 core and round once. sin/cos/tan recompute the elements with
//! |x| > [`super::math::TRIG_LIMIT`] (or non-finite) with std after the vector pass.

/// Recomputes with std the elements whose argument is outside the vector trig range.
#[inline(always)]
pub(super) fn trig_fixup64(x: &[f64], out: &mut [f64], f: fn(f64) -> f64) {
    let lim = super::math::TRIG_LIMIT;
    let any = x.iter().fold(false, |acc, v| acc | (v.abs() > lim) | v.is_nan());
    if any {
        for (o, &v) in out.iter_mut().zip(x) {
            if v.abs() > lim || v.is_nan() {
                *o = f(v);
            }
        }
    }
}

/// f32 version of [`trig_fixup64`].
#[inline(always)]
pub(super) fn trig_fixup32(x: &[f32], out: &mut [f32], f: fn(f32) -> f32) {
    let lim = super::math::TRIG_LIMIT as f32;
    let any = x.iter().fold(false, |acc, v| acc | (v.abs() > lim) | v.is_nan());
    if any {
        for (o, &v) in out.iter_mut().zip(x) {
            if v.abs() > lim || v.is_nan() {
                *o = f(v);
            }
        }
    }
}

/// Emits the post-pass of an op kind (`plain`: none, `trig`: the std fallback).
macro_rules! fixup {
    (plain, $f:ident, $x:ident, $out:ident, $fix:ident, $t:ident) => {};
    (trig, $f:ident, $x:ident, $out:ident, $fix:ident, $t:ident) => {
        super::super::$fix($x, $out, $t::$f)
    };
}

/// Defines one dispatch level: `define_level!(module, FMA?, [attribute]; op list)`.
macro_rules! define_level {
    ($modname:ident, $fma:literal, $attr:tt;
     $( $variant:ident $f:ident $kind:ident $w64:ident $w32:ident $c64:ident $c32:ident; )*) => {
        #[allow(clippy::missing_safety_doc)]
        pub(super) mod $modname {
            $(
                pub(in super::super) mod $f {
                    use super::super::super::math;

                    /// The f64 loop.
                    #$attr
                    pub(in super::super::super) unsafe fn run64(x: &[f64], out: &mut [f64]) {
                        for (o, &v) in out.iter_mut().zip(x) {
                            *o = math::$f::<$fma>(v);
                        }
                        fixup!($kind, $f, x, out, trig_fixup64, f64);
                    }

                    /// The f32 loop (f64 inside, one rounding).
                    #$attr
                    pub(in super::super::super) unsafe fn run32(x: &[f32], out: &mut [f32]) {
                        for (o, &v) in out.iter_mut().zip(x) {
                            *o = math::$f::<$fma>(v as f64) as f32;
                        }
                        fixup!($kind, $f, x, out, trig_fixup32, f32);
                    }
                }
            )*

            /// This level's function table.
            pub(in super::super) static TABLE: super::super::Table = super::super::Table {
                unary64: [$( $f::run64 as super::super::Unary64 ),*],
                unary32: [$( $f::run32 as super::super::Unary32 ),*],
            };
        }
    };
}

#[cfg(target_arch = "x86_64")]
unary_ops!(define_level!(avx512, true,
    [target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")];));
#[cfg(target_arch = "x86_64")]
unary_ops!(define_level!(avx2, true, [target_feature(enable = "avx2,fma")];));
unary_ops!(define_level!(baseline, false, [allow(unused_unsafe)];));
