//! Bulk math: transcendental functions over whole slices, vectorised by LLVM and chosen at
//! run time by CPU features.
//!
//! Cranelift's x86-64 backend has 128-bit vectors only, so JIT kernels dominated by
//! transcendental math call these precompiled routines on chunks instead of computing the
//! functions inline (see the JIT reference notes, "Calling Rust from JIT code").
//!
//! Every function is written once as branch-free scalar Rust (the private `math` module) and
//! instantiated in slice loops for three [`Level`]s: AVX-512 (zmm, FMA), AVX2+FMA (ymm) and
//! the baseline (SSE2 on x86-64, whatever the target has elsewhere). The level is detected
//! once ([`Level::detect`]); the `*_at` functions force one (tests use them).
//!
//! Entry points:
//! * safe slice functions: [`exp_f64`], [`exp_f32`], … (`x` and `out` of equal length), the
//!   generic [`unary_f64`]/[`unary_f32`] and their `_at` forms;
//! * C-ABI functions for JIT code, `tl_bulk_<name>_<f64|f32>(x, out, n)` and
//!   `tl_bulk_pow_<f64|f32>(x, y, out, n)`, listed with their addresses by
//!   [`bulk_symbols`] (for `JITBuilder::symbol`) and looked up per op by `bulk_symbol`.
//!
//! Accuracy (checked by `jit/tests/bulk_ulp.rs` on every level): ≤ 2 ulp (f64) and ≤ 1 ulp
//! (f32) from Rust std, or from the reference definitions of `tensorlift_ir` for
//! `sigmoid`, `softplus` and `erf`. `f32` functions compute in f64 and round once.
//! sin/cos/tan arguments with |x| > [`TRIG_LIMIT`] (and non-finite ones) are recomputed
//! by std. `pow` is a std loop.

mod math;

pub use math::TRIG_LIMIT;

use std::sync::OnceLock;
use tensorlift_ir::{DType, ScalarOp};

/// Calls `$cb!($args… ; list)` with the list of unary ops:
/// `Variant core kind safe_f64 safe_f32 c_f64 c_f32;` (`kind`: `plain` or `trig`).
/// The order is the order of [`UnaryOp::ALL`] and of the tables.
macro_rules! unary_ops {
    ($cb:ident ! ( $($args:tt)* )) => {
        $cb! { $($args)*
            Exp exp plain exp_f64 exp_f32 tl_bulk_exp_f64 tl_bulk_exp_f32;
            Expm1 expm1 plain expm1_f64 expm1_f32 tl_bulk_expm1_f64 tl_bulk_expm1_f32;
            Log log plain log_f64 log_f32 tl_bulk_log_f64 tl_bulk_log_f32;
            Log1p log1p plain log1p_f64 log1p_f32 tl_bulk_log1p_f64 tl_bulk_log1p_f32;
            Log2 log2 plain log2_f64 log2_f32 tl_bulk_log2_f64 tl_bulk_log2_f32;
            Log10 log10 plain log10_f64 log10_f32 tl_bulk_log10_f64 tl_bulk_log10_f32;
            Sin sin trig sin_f64 sin_f32 tl_bulk_sin_f64 tl_bulk_sin_f32;
            Cos cos trig cos_f64 cos_f32 tl_bulk_cos_f64 tl_bulk_cos_f32;
            Tan tan trig tan_f64 tan_f32 tl_bulk_tan_f64 tl_bulk_tan_f32;
            Tanh tanh plain tanh_f64 tanh_f32 tl_bulk_tanh_f64 tl_bulk_tanh_f32;
            Sinh sinh plain sinh_f64 sinh_f32 tl_bulk_sinh_f64 tl_bulk_sinh_f32;
            Cosh cosh plain cosh_f64 cosh_f32 tl_bulk_cosh_f64 tl_bulk_cosh_f32;
            Arctan atan plain arctan_f64 arctan_f32 tl_bulk_arctan_f64 tl_bulk_arctan_f32;
            Arcsin asin plain arcsin_f64 arcsin_f32 tl_bulk_arcsin_f64 tl_bulk_arcsin_f32;
            Arccos acos plain arccos_f64 arccos_f32 tl_bulk_arccos_f64 tl_bulk_arccos_f32;
            Arcsinh asinh plain arcsinh_f64 arcsinh_f32 tl_bulk_arcsinh_f64 tl_bulk_arcsinh_f32;
            Arccosh acosh plain arccosh_f64 arccosh_f32 tl_bulk_arccosh_f64 tl_bulk_arccosh_f32;
            Arctanh atanh plain arctanh_f64 arctanh_f32 tl_bulk_arctanh_f64 tl_bulk_arctanh_f32;
            Sigmoid sigmoid plain sigmoid_f64 sigmoid_f32 tl_bulk_sigmoid_f64 tl_bulk_sigmoid_f32;
            Softplus softplus plain softplus_f64 softplus_f32 tl_bulk_softplus_f64
                tl_bulk_softplus_f32;
            Erf erf plain erf_f64 erf_f32 tl_bulk_erf_f64 tl_bulk_erf_f32;
        }
    };
}

mod kernels;

/// A slice kernel of f64 (`x` and `out` of equal length).
type Unary64 = unsafe fn(&[f64], &mut [f64]);
/// A slice kernel of f32.
type Unary32 = unsafe fn(&[f32], &mut [f32]);

/// Number of unary ops.
const N_UNARY: usize = UnaryOp::ALL.len();

/// The kernels of one dispatch level, indexed by `UnaryOp as usize`.
struct Table {
    unary64: [Unary64; N_UNARY],
    unary32: [Unary32; N_UNARY],
}

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

    /// The level's table, if this CPU runs it. Holding a table is the proof that its
    /// target features are present.
    fn table(self) -> Option<&'static Table> {
        if !self.is_available() {
            return None;
        }
        match self {
            Level::Baseline => Some(&kernels::baseline::TABLE),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => Some(&kernels::avx2::TABLE),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => Some(&kernels::avx512::TABLE),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
    }
}

/// The table of the detected level.
fn active() -> &'static Table {
    static ACTIVE: OnceLock<&'static Table> = OnceLock::new();
    ACTIVE.get_or_init(|| Level::detect().table().unwrap_or(&kernels::baseline::TABLE))
}

/// Defines [`UnaryOp`], the safe and the C-ABI entry points.
macro_rules! define_ops {
    ($( $variant:ident $f:ident $kind:ident $w64:ident $w32:ident $c64:ident $c32:ident; )*) => {
        /// A unary function of the bulk library.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum UnaryOp {
            $(
                #[doc = concat!("`", stringify!($f), "`.")]
                $variant,
            )*
        }

        impl UnaryOp {
            /// Every op, in table order.
            pub const ALL: [UnaryOp; [$(UnaryOp::$variant),*].len()] = [$(UnaryOp::$variant),*];

            /// The op's name as in the symbol names (`exp`, `arctan`, …).
            pub fn name(self) -> &'static str {
                match self {
                    $(UnaryOp::$variant => {
                        let s = stringify!($w64);
                        &s[..s.len() - 4]
                    })*
                }
            }

            /// The C-ABI symbols `(f64, f32)` with their addresses.
            fn symbols(self) -> [(&'static str, *const u8); 2] {
                match self {
                    $(UnaryOp::$variant => [
                        (stringify!($c64), $c64 as *const u8),
                        (stringify!($c32), $c32 as *const u8),
                    ],)*
                }
            }
        }

        $(
            #[doc = concat!("`out[i] = ", stringify!($f), "(x[i])` for f64 slices of equal length ",
                "(panics otherwise), on the detected level.")]
            pub fn $w64(x: &[f64], out: &mut [f64]) {
                unary_f64(UnaryOp::$variant, x, out)
            }

            #[doc = concat!("`out[i] = ", stringify!($f), "(x[i])` for f32 slices of equal length ",
                "(panics otherwise), on the detected level.")]
            pub fn $w32(x: &[f32], out: &mut [f32]) {
                unary_f32(UnaryOp::$variant, x, out)
            }

            #[doc = concat!("C-ABI `out[i] = ", stringify!($f), "(x[i])` for `i < n`, f64, ",
                "for JIT code.\n\n# Safety\n\n`x` must be valid for `n` reads and `out` for `n` ",
                "writes (either may dangle when `n == 0`); `out` is either equal to `x` (in ",
                "place) or does not overlap it.")]
            pub unsafe extern "C" fn $c64(x: *const f64, out: *mut f64, n: usize) {
                // SAFETY: the caller's contract is the one of `run_raw`.
                unsafe { run_raw(active().unary64[UnaryOp::$variant as usize], x, out, n) }
            }

            #[doc = concat!("C-ABI `out[i] = ", stringify!($f), "(x[i])` for `i < n`, f32, ",
                "for JIT code.\n\n# Safety\n\n`x` must be valid for `n` reads and `out` for `n` ",
                "writes (either may dangle when `n == 0`); `out` is either equal to `x` (in ",
                "place) or does not overlap it.")]
            pub unsafe extern "C" fn $c32(x: *const f32, out: *mut f32, n: usize) {
                // SAFETY: the caller's contract is the one of `run_raw`.
                unsafe { run_raw(active().unary32[UnaryOp::$variant as usize], x, out, n) }
            }
        )*
    };
}

unary_ops!(define_ops!());

impl UnaryOp {
    /// The bulk op computing a scalar op, if there is one (`Pow` is binary: see
    /// [`tl_bulk_pow_f64`]).
    pub fn from_scalar(op: ScalarOp) -> Option<UnaryOp> {
        Some(match op {
            ScalarOp::Exp => UnaryOp::Exp,
            ScalarOp::Expm1 => UnaryOp::Expm1,
            ScalarOp::Log => UnaryOp::Log,
            ScalarOp::Log1p => UnaryOp::Log1p,
            ScalarOp::Log2 => UnaryOp::Log2,
            ScalarOp::Log10 => UnaryOp::Log10,
            ScalarOp::Sin => UnaryOp::Sin,
            ScalarOp::Cos => UnaryOp::Cos,
            ScalarOp::Tan => UnaryOp::Tan,
            ScalarOp::Tanh => UnaryOp::Tanh,
            ScalarOp::Sinh => UnaryOp::Sinh,
            ScalarOp::Cosh => UnaryOp::Cosh,
            ScalarOp::Arctan => UnaryOp::Arctan,
            ScalarOp::Arcsin => UnaryOp::Arcsin,
            ScalarOp::Arccos => UnaryOp::Arccos,
            ScalarOp::Arcsinh => UnaryOp::Arcsinh,
            ScalarOp::Arccosh => UnaryOp::Arccosh,
            ScalarOp::Arctanh => UnaryOp::Arctanh,
            ScalarOp::Sigmoid => UnaryOp::Sigmoid,
            ScalarOp::Softplus => UnaryOp::Softplus,
            ScalarOp::Erf => UnaryOp::Erf,
            _ => return None,
        })
    }
}

/// Elements per block when a C entry point runs in place (the block is copied to the stack
/// first, so that the kernel sees two non-aliasing slices).
const BLOCK: usize = 512;

/// Runs `k` over `n` elements from raw pointers, in blocks through a stack buffer when
/// `out == x`.
///
/// # Safety
/// `x` valid for `n` reads, `out` for `n` writes, and `out` equal to `x` or not
/// overlapping it; `k` must come from a table of an available level.
unsafe fn run_raw<T: Copy + Default>(k: unsafe fn(&[T], &mut [T]), x: *const T, out: *mut T, n: usize) {
    if n == 0 {
        return;
    }
    if std::ptr::eq(x, out) {
        let mut buf = [T::default(); BLOCK];
        let mut i = 0;
        while i < n {
            let m = BLOCK.min(n - i);
            // SAFETY: `x + i .. x + i + m` is in bounds (i + m ≤ n); the shared slice dies
            // before the mutable one over the same memory is made.
            unsafe {
                buf[..m].copy_from_slice(std::slice::from_raw_parts(x.add(i), m));
                k(&buf[..m], std::slice::from_raw_parts_mut(out.add(i), m));
            }
            i += m;
        }
    } else {
        // SAFETY: valid and non-overlapping by the caller's contract; `k` comes from a table
        // whose features were detected.
        unsafe { k(std::slice::from_raw_parts(x, n), std::slice::from_raw_parts_mut(out, n)) }
    }
}

/// `out[i] = op(x[i])` on the detected level. Panics if the lengths differ.
pub fn unary_f64(op: UnaryOp, x: &[f64], out: &mut [f64]) {
    check_len(x.len(), out.len());
    // SAFETY: `active()` only returns the table of a detected level.
    unsafe { (active().unary64[op as usize])(x, out) }
}

/// `out[i] = op(x[i])` on the detected level. Panics if the lengths differ.
pub fn unary_f32(op: UnaryOp, x: &[f32], out: &mut [f32]) {
    check_len(x.len(), out.len());
    // SAFETY: `active()` only returns the table of a detected level.
    unsafe { (active().unary32[op as usize])(x, out) }
}

/// [`unary_f64`] on a given level. Panics if the lengths differ or this CPU lacks the level.
pub fn unary_f64_at(level: Level, op: UnaryOp, x: &[f64], out: &mut [f64]) {
    check_len(x.len(), out.len());
    let t = level.table().unwrap_or_else(|| panic!("bulk level {} not available", level.name()));
    // SAFETY: `table()` only returns the table of a detected level.
    unsafe { (t.unary64[op as usize])(x, out) }
}

/// [`unary_f32`] on a given level. Panics if the lengths differ or this CPU lacks the level.
pub fn unary_f32_at(level: Level, op: UnaryOp, x: &[f32], out: &mut [f32]) {
    check_len(x.len(), out.len());
    let t = level.table().unwrap_or_else(|| panic!("bulk level {} not available", level.name()));
    // SAFETY: `table()` only returns the table of a detected level.
    unsafe { (t.unary32[op as usize])(x, out) }
}

#[track_caller]
fn check_len(x: usize, out: usize) {
    assert_eq!(x, out, "bulk math: input has {x} elements but output has {out}");
}

/// `out[i] = x[i].powf(y[i])` (a std loop). Panics if the lengths differ.
pub fn pow_f64(x: &[f64], y: &[f64], out: &mut [f64]) {
    check_len(x.len(), out.len());
    check_len(y.len(), out.len());
    for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
        *o = a.powf(b);
    }
}

/// `out[i] = x[i].powf(y[i])` (a std loop). Panics if the lengths differ.
pub fn pow_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
    check_len(x.len(), out.len());
    check_len(y.len(), out.len());
    for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
        *o = a.powf(b);
    }
}

/// C-ABI `out[i] = x[i].powf(y[i])` for `i < n` (f64, a std loop), for JIT code.
///
/// # Safety
///
/// `x` and `y` must be valid for `n` reads and `out` for `n` writes; `out` may equal `x` or
/// `y`, and must not otherwise overlap them.
pub unsafe extern "C" fn tl_bulk_pow_f64(x: *const f64, y: *const f64, out: *mut f64, n: usize) {
    for i in 0..n {
        // SAFETY: i < n, in bounds by the caller's contract; each element is read before
        // the same index is written, so `out == x` or `out == y` is fine.
        unsafe { *out.add(i) = (*x.add(i)).powf(*y.add(i)) }
    }
}

/// C-ABI `out[i] = x[i].powf(y[i])` for `i < n` (f32, a std loop), for JIT code.
///
/// # Safety
///
/// As for [`tl_bulk_pow_f64`].
pub unsafe extern "C" fn tl_bulk_pow_f32(x: *const f32, y: *const f32, out: *mut f32, n: usize) {
    for i in 0..n {
        // SAFETY: as in `tl_bulk_pow_f64`.
        unsafe { *out.add(i) = (*x.add(i)).powf(*y.add(i)) }
    }
}

/// Every C-ABI entry point of the bulk library with its address, to register with
/// `JITBuilder::symbol`. Unary: `fn(x: *const T, out: *mut T, n: usize)`; pow:
/// `fn(x: *const T, y: *const T, out: *mut T, n: usize)`.
pub fn bulk_symbols() -> Vec<(&'static str, *const u8)> {
    let mut v: Vec<(&'static str, *const u8)> = UnaryOp::ALL.iter().flat_map(|op| op.symbols()).collect();
    v.push(("tl_bulk_pow_f64", tl_bulk_pow_f64 as *const u8));
    v.push(("tl_bulk_pow_f32", tl_bulk_pow_f32 as *const u8));
    v
}

/// The bulk entry point computing `op` over `dtype` slices, with its address, if any.
#[allow(dead_code)] // used by the code generator once it calls out to bulk routines
pub(crate) fn bulk_symbol(op: ScalarOp, dtype: DType) -> Option<(&'static str, *const u8)> {
    let i = match dtype {
        DType::F64 => 0,
        DType::F32 => 1,
        _ => return None,
    };
    if op == ScalarOp::Pow {
        return Some(if i == 0 {
            ("tl_bulk_pow_f64", tl_bulk_pow_f64 as *const u8)
        } else {
            ("tl_bulk_pow_f32", tl_bulk_pow_f32 as *const u8)
        });
    }
    UnaryOp::from_scalar(op).map(|u| u.symbols()[i])
}
