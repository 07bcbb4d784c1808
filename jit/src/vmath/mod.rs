//! Vector math: transcendental functions emitted inline as branch-free CLIF.
//!
//! The algorithms are written once per precision in [`crate::math`], generic over lane arithmetic; this
//! module instantiates them for Cranelift ([`Clif`], whose methods emit instructions), and
//! `bulk` instantiates the same algorithms as Rust for its slice loops.
//!
//! Cranelift has no instruction for `exp`, `log`, `sin`, … (see the JIT reference notes), so
//! the fused elementwise kernels ([`crate::kernel`]) used to call Rust std once per element,
//! in a scalar loop. This module emits them instead as CLIF polynomials, in scalar (`F64`,
//! `F32`) and vector (`F64X2`, `F32X4`) types, so that programs using them keep the vector
//! main loop. Lanes never branch: both sides of every case are computed and merged with
//! `select` / `bitselect` (the one exception is the huge-argument fallback of `sin`, `cos`
//! and `tan`, below).
//!
//! # Algorithms
//!
//! `float64` computes on `f64` lanes. `float32` computes on `f32` lanes (`F32`, `F32X4`, so
//! four lanes per 128-bit vector instead of two) for the functions with an `f32` algorithm
//! (`math::Algorithm::F32`: `exp`, `expm1`, `log`, `log1p`, `sin`, `cos`, `tanh`,
//! `sigmoid`, `softplus`, below); for the others a `float32` value is promoted to `f64`
//! (exact), computed there, and rounded to `float32` once at the end, which with the `f64`
//! error below 2 ulp is within 1 ulp of the correctly rounded `float32` result.
//!
//! The `f32` algorithms: `exp` and `expm1` reduce by `ln 2` with the `f32` shifter
//! (1.5·2^23) and a 16-bit `ln2_hi`, with a degree-7 Taylor polynomial; `tanh` is
//! `1 - 2/(e^(2|x|) + 1)` with the quotient corrected by its remainder (an odd degree-13
//! polynomial below 0.625); `e^x` is also available as an unevaluated sum `hi + lo`, which
//! `sigmoid` (one corrected quotient) and `softplus` (`log1p` of the pair) carry through;
//! `log` and `log1p` are fdlibm's core with the `float` version's degree-4 `R`; `sin` and
//! `cos` reduce by `π/2` in three 12-bit parts plus a tail with every rounding error
//! carried, and use fdlibm's kernels with `f32` Taylor polynomials, up to `|x| ≤ 6400`
//! (beyond it, the same fallback as huge `f64` arguments). Each is within 1 ulp of the
//! correctly rounded result (`exp`, `expm1`, `log1p`, `sin`, `cos`, `tanh`, `sigmoid`,
//! `softplus` checked on every `float32` of their working ranges).
//!
//! * `math::exp` family: `exp` is the reference notes' §3.3 algorithm (clamp keeping NaN,
//!   the 1.5·2^52 shifter for `k = round(x/ln 2)`, Cody-Waite with a two-part `ln 2` and
//!   the reduction error carried, `e^r = 1 + r + r²·Q(r)` with `Q` a fitted degree-10
//!   polynomial (`jit/tools/fit_coefficients.py`) evaluated in groups of four coefficients
//!   (Estrin) for a short dependency chain, scaling by two powers of two so that subnormal
//!   results and overflow come out right); `expm1` uses the same reduction with the final
//!   sum done exactly; `sinh`, `cosh` from `exp(|x|)/2` (a polynomial for `|x| < 1` in
//!   `sinh`); `tanh` as `a + a³·P(a²)` below 0.25 (`P` fitted, degree 7) and
//!   `1 - 2/(e^(2a) + 1)` above, `e^(2a) + 1` carried as a double-double into one division
//!   with a corrected quotient (about 0.63 ulp from the exact value; glibc's `tanh`, the
//!   reference, is itself up to 2.1 ulp from it); `sigmoid` and `softplus` with the
//!   reference's stable forms.
//! * `math::log` family: fdlibm's `log` (`x = 2^k·m`, `s = f/(2+f)`, degree-7 minimax in
//!   `s²`), with an extra low part for `log1p` (the exact error of `1 + x`), and fdlibm's
//!   extra-precise recombination for `log2` and `log10`; `arcsinh`, `arccosh`, `arctanh`
//!   with Rust std's own formulas (std computes them itself, not with glibc), on this
//!   `log`/`log1p`, rounding every step to `float32` for `float32` as std does.
//! * `math::trig`: fdlibm's medium-size reduction by `π/2` (three 33-bit parts plus a
//!   tail, always all three rounds) and fdlibm's `__kernel_sin`, `__kernel_cos`,
//!   `__kernel_tan` (the last made branch-free). The reduction is exact for
//!   `|x| ≤ 1.5·2^20` (about 1.57e6). **A vector (or scalar) with a lane beyond that, or
//!   infinite, branches to a slow block that calls the reference (`f64::sin`, …) for every lane
//!   of that vector**, so huge arguments are still correct (std uses Payne-Hanek); only
//!   performance suffers, and only for chunks that contain such lanes.
//! * `math::inv_trig`: fdlibm's `asin`, `acos` (rational approximations on `x²`
//!   or `(1-|x|)/2` with `sqrt`) and `atan` (five argument intervals, merged by selects).
//! * `math::erf`: fdlibm's (musl's, the `libm` crate's) `erf`, all four intervals
//!   computed and selected.
//!
//! `pow` is not here: a correct general `pow` needs `log` in extended precision
//! (double-double) and `exp` with an extended-precision argument; it remains a call to
//! `f64::powf` / `f32::powf` per element (the only op that forces the scalar loop).
//!
//! FMA is used (for polynomials and the `exp` reduction) only when the ISA has a native one
//! (`has_avx && has_fma`); otherwise `fmul`+`fadd`, which stays correct; the error bounds
//! below were measured with FMA (the non-FMA path is tested to stay within 3 ulp f64).
//!
//! A program with more than 32 live transcendental ops calls std for all of them instead
//! (see [`crate::kernel`]): inlining tens of thousands would not compile in reasonable time.
//!
//! # Accuracy
//!
//! Within 2 ulp of the reference functions in float64 and 1 in float32 (a few float32
//! functions 2; `erfc`, whose reference is less accurate, 4 and 3: the op table's
//! `ulp_bound`). The measured table (`jit/tests/vmath_ulp.rs`) is `docs/ulp.md`.
//!
//! Special values are exact (any NaN for NaN): ±0 keep their sign where the function is odd,
//! ±inf and NaN give std's results, subnormal inputs and results are handled.

use crate::math::{self, Algorithm, Cmp, Fmt, Lanes, Visit, FMT_F32, FMT_F64};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    types, BlockArg, ConstantData, Endianness, FuncRef, InstBuilder, MemFlagsData, Type, Value,
};
use cranelift_frontend::FunctionBuilder;
use tensorlift_ir::MathFn;

/// Whether `f`'s inline code falls back to the `f64` reference function for huge
/// arguments (the caller must pass that function to [`emit`] as `fallback`).
pub(crate) fn needs_fallback(f: MathFn) -> bool {
    math::limit(f).is_some()
}

/// Emits `f(x)` on `x` of type `ty` (`F64`, `F32`, `F64X2` or `F32X4`). `fma`: whether to
/// use the `fma` instruction (only when the ISA has it natively). `fallback`: for
/// [`needs_fallback`] functions, the imported `extern "C" fn(f64) -> f64` computing `f` in
/// the reference, called per lane for vectors with huge lanes.
pub(crate) fn emit(
    b: &mut FunctionBuilder<'_>,
    f: MathFn,
    ty: Type,
    fma: bool,
    fallback: Option<FuncRef>,
    x: Value,
) -> Value {
    math::dispatch(f, Emit { b, ty, fma, fallback, x })
}

/// The arguments of [`emit`], run with the function's algorithm.
struct Emit<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    ty: Type,
    fma: bool,
    fallback: Option<FuncRef>,
    x: Value,
}

impl Visit for Emit<'_, '_> {
    type Out = Value;
    fn visit<A: Algorithm>(self) -> Value {
        let fallback = self.fallback;
        if A::F32 && self.ty.lane_type() == types::F32 {
            // The function's own f32 algorithm, on f32 lanes.
            let l = &mut Clif { b: self.b, ty: self.ty, fma: self.fma, f32: false };
            let y = A::eval_f32(l, self.x);
            return match A::LIMIT_F32 {
                Some(limit) => {
                    with_fallback(l, self.x, y, limit, fallback.expect("a LIMIT needs a fallback"))
                }
                None => y,
            };
        }
        in_f64(self.b, self.ty, self.fma, self.x, |l, x| {
            let y = A::eval(l, x);
            match A::LIMIT {
                Some(limit) => with_fallback(l, x, y, limit, fallback.expect("a LIMIT needs a fallback")),
                None => y,
            }
        })
    }
}

/// Runs `f` on `x` in f64: directly for `F64`/`F64X2`; an `F32` is promoted and the result
/// demoted; an `F32X4` is split into two `F64X2` (low and high lanes), and the two results
/// demoted and joined.
fn in_f64(
    b: &mut FunctionBuilder<'_>,
    ty: Type,
    fma: bool,
    x: Value,
    f: impl Fn(&mut Clif<'_, '_>, Value) -> Value,
) -> Value {
    match ty {
        types::F64 | types::F64X2 => f(&mut Clif { b, ty, fma, f32: false }, x),
        types::F32 => {
            let x = b.ins().fpromote(types::F64, x);
            let y = f(&mut Clif { b: &mut *b, ty: types::F64, fma, f32: true }, x);
            b.ins().fdemote(types::F32, y)
        }
        types::F32X4 => {
            let le = MemFlagsData::new().with_endianness(Endianness::Little);
            let lo = b.ins().fvpromote_low(x);
            let high: Vec<u8> = (8..16).chain(8..16).collect();
            let high = b.func.dfg.immediates.push(ConstantData::from(high));
            let bytes = b.ins().bitcast(types::I8X16, le, x);
            let moved = b.ins().shuffle(bytes, bytes, high);
            let hv = b.ins().bitcast(types::F32X4, le, moved);
            let hi = b.ins().fvpromote_low(hv);
            let ylo = f(&mut Clif { b: &mut *b, ty: types::F64X2, fma, f32: true }, lo);
            let yhi = f(&mut Clif { b: &mut *b, ty: types::F64X2, fma, f32: true }, hi);
            let join: Vec<u8> = (0..8).chain(16..24).collect();
            let join = b.func.dfg.immediates.push(ConstantData::from(join));
            let dl = b.ins().fvdemote(ylo);
            let dh = b.ins().fvdemote(yhi);
            let dl = b.ins().bitcast(types::I8X16, le, dl);
            let dh = b.ins().bitcast(types::I8X16, le, dh);
            let j = b.ins().shuffle(dl, dh, join);
            b.ins().bitcast(types::F32X4, le, j)
        }
        _ => unreachable!("vmath on {ty}"),
    }
}

/// Replaces the result by the reference function's, lane by lane, when any lane of `x` has
/// `|x| > limit` (a branch around a rarely taken block). `f` is the `f64` function: `f32`
/// lanes are promoted for the call and its result rounded.
fn with_fallback(l: &mut Clif<'_, '_>, x: Value, fast: Value, limit: f64, f: FuncRef) -> Value {
    let ax = l.abs(x);
    let huge = l.cmpc(Cmp::Gt, ax, limit);
    let any = if l.vector() { l.b.ins().vany_true(huge) } else { huge };
    let slow = l.b.create_block();
    let merge = l.b.create_block();
    let ty = l.ty;
    let res = l.b.append_block_param(merge, ty);
    l.b.ins().brif(any, slow, &[], merge, &[BlockArg::Value(fast)]);
    l.b.set_cold_block(slow);
    l.b.switch_to_block(slow);
    let single = ty.lane_type() == types::F32;
    let call = |b: &mut FunctionBuilder<'_>, xi: Value| {
        let xi = if single { b.ins().fpromote(types::F64, xi) } else { xi };
        let call = b.ins().call(f, &[xi]);
        let yi = b.inst_results(call)[0];
        if single {
            b.ins().fdemote(types::F32, yi)
        } else {
            yi
        }
    };
    let out = if l.vector() {
        let mut acc = fast;
        for lane in 0..ty.lane_count() as u8 {
            let xi = l.b.ins().extractlane(x, lane);
            let yi = call(l.b, xi);
            acc = l.b.ins().insertlane(acc, yi, lane);
        }
        acc
    } else {
        call(l.b, x)
    };
    l.b.ins().jump(merge, &[BlockArg::Value(out)]);
    l.b.switch_to_block(merge);
    res
}

/// The emission context of one function evaluation: the builder, the value type (`F64` or
/// `F64X2`; `F32` or `F32X4` for an `f32` algorithm), whether `fma` is native, and whether
/// the value is a promoted `float32` (then [`Lanes::r32`] rounds to `float32`). Its
/// [`Lanes`] methods emit one op each.
pub(crate) struct Clif<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    ty: Type,
    fma: bool,
    f32: bool,
}

impl Clif<'_, '_> {
    fn vector(&self) -> bool {
        self.ty.is_vector()
    }

    /// Whether the lanes are `f32`.
    fn single(&self) -> bool {
        self.ty.lane_type() == types::F32
    }

    /// The integer type of the same shape (`I64`, `I64X2`, `I32` or `I32X4`).
    fn ity(&self) -> Type {
        match (self.single(), self.vector()) {
            (false, false) => types::I64,
            (false, true) => types::I64X2,
            (true, false) => types::I32,
            (true, true) => types::I32X4,
        }
    }

    /// `s` splatted for vectors.
    fn splat(&mut self, ty: Type, s: Value) -> Value {
        if self.vector() {
            self.b.ins().splat(ty, s)
        } else {
            s
        }
    }
}

/// `Lanes` methods that are one instruction: `method instruction`, binary or unary.
macro_rules! clif_ops {
    (binary: $($b:ident $bi:ident),*; unary: $($u:ident $ui:ident),*;) => {
        $( fn $b(&mut self, a: Value, b: Value) -> Value { self.b.ins().$bi(a, b) } )*
        $( fn $u(&mut self, a: Value) -> Value { self.b.ins().$ui(a) } )*
    };
}

impl Lanes for Clif<'_, '_> {
    type F = Value;
    type I = Value;
    type M = Value;

    fn fmt(&self) -> &'static Fmt {
        if self.single() {
            &FMT_F32
        } else {
            &FMT_F64
        }
    }
    clif_ops! {
        binary: add fadd, sub fsub, mul fmul, div fdiv, iadd iadd, isub isub, iand band, ixor bxor;
        unary: abs fabs, neg fneg, sqrt sqrt;
    }
    fn c(&mut self, v: f64) -> Value {
        let s = if self.single() {
            self.b.ins().f32const(Ieee32::with_bits((v as f32).to_bits()))
        } else {
            self.b.ins().f64const(Ieee64::with_bits(v.to_bits()))
        };
        self.splat(self.ty, s)
    }
    fn ci(&mut self, v: i64) -> Value {
        let ity = self.ity();
        let s = if self.single() {
            // An `i32` immediate is given zero-extended.
            self.b.ins().iconst(types::I32, i64::from(v as i32 as u32))
        } else {
            self.b.ins().iconst(types::I64, v)
        };
        self.splat(ity, s)
    }
    fn fused(&self) -> bool {
        self.fma
    }
    fn mla(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.fma {
            self.b.ins().fma(a, b, c)
        } else {
            let p = self.b.ins().fmul(a, b);
            self.b.ins().fadd(p, c)
        }
    }
    fn cmp(&mut self, cc: Cmp, a: Value, b: Value) -> Value {
        let cc = match cc {
            Cmp::Lt => FloatCC::LessThan,
            Cmp::Gt => FloatCC::GreaterThan,
            Cmp::Ge => FloatCC::GreaterThanOrEqual,
            Cmp::Eq => FloatCC::Equal,
            Cmp::Unord => FloatCC::Unordered,
            Cmp::UnordLt => FloatCC::UnorderedOrLessThan,
        };
        self.b.ins().fcmp(cc, a, b)
    }
    fn sel(&mut self, m: Value, a: Value, b: Value) -> Value {
        if self.vector() {
            let m = self.b.ins().bitcast(self.ty, MemFlagsData::new(), m);
            self.b.ins().bitselect(m, a, b)
        } else {
            self.b.ins().select(m, a, b)
        }
    }
    fn copysign(&mut self, mag: Value, sign: Value) -> Value {
        if self.vector() {
            // Vector `fcopysign` has no x64 lowering: merge the sign bit by mask.
            let bit = self.c(-0.0);
            self.b.ins().bitselect(bit, sign, mag)
        } else {
            self.b.ins().fcopysign(mag, sign)
        }
    }
    fn bits(&mut self, a: Value) -> Value {
        let ity = self.ity();
        self.b.ins().bitcast(ity, MemFlagsData::new(), a)
    }
    fn float(&mut self, i: Value) -> Value {
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), i)
    }
    fn shl(&mut self, a: Value, n: u8) -> Value {
        self.b.ins().ishl_imm_u(a, i64::from(n))
    }
    fn ushr(&mut self, a: Value, n: u8) -> Value {
        self.b.ins().ushr_imm_u(a, i64::from(n))
    }
    fn ieq(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().icmp(IntCC::Equal, a, b)
    }
    fn r32(&mut self, x: Value) -> Value {
        match (self.f32 && !self.single(), self.vector()) {
            (false, _) => x,
            (true, false) => {
                let d = self.b.ins().fdemote(types::F32, x);
                self.b.ins().fpromote(types::F64, d)
            }
            (true, true) => {
                let d = self.b.ins().fvdemote(x);
                self.b.ins().fvpromote_low(d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The non-FMA fallback (the host has FMA, so the kernels never take it): every function
    //! emitted with `fma = false`, checked against std on a few thousand points.

    use super::*;
    use cranelift_codegen::ir::{AbiParam, Function, Signature, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use cranelift_codegen::settings::{self, Configurable};
    use cranelift_frontend::FunctionBuilderContext;
    use cranelift_jit::{JITBuilder, JITModule};
    use cranelift_module::{default_libcall_names, Linkage, Module};

    /// Compiles `y[i] = op(x[i])` for one vector of type `ty` (`F64X2` on `f64`, `F32X4` on
    /// `f32`) with the given FMA setting and runs it on `xs` (a whole number of vectors).
    fn run_vectors<T: Copy + Default>(op: MathFn, fma: bool, ty: Type, xs: &[T]) -> Vec<T> {
        assert_eq!(ty.lane_bits() as usize, 8 * std::mem::size_of::<T>());
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").unwrap();
        let isa = cranelift_native::builder().unwrap().finish(settings::Flags::new(flags)).unwrap();
        let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
        jb.symbol("fallback", op.op().unary_c_f64().expect("a reference") as *const u8);
        let mut module = JITModule::new(jb);
        let ptr = module.target_config().pointer_type();
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(ptr));
        sig.params.push(AbiParam::new(ptr));
        let mut func = Function::with_name_signature(UserFuncName::default(), sig.clone());
        let fallback = if needs_fallback(op) {
            let mut fs = module.make_signature();
            fs.params.push(AbiParam::new(types::F64));
            fs.returns.push(AbiParam::new(types::F64));
            let id = module.declare_function("fallback", Linkage::Import, &fs).unwrap();
            Some(module.declare_func_in_func(id, &mut func))
        } else {
            None
        };
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (px, py) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let mf = MemFlagsData::new().with_notrap();
        let x = b.ins().load(ty, mf, px, 0);
        let y = emit(&mut b, op, ty, fma, fallback, x);
        b.ins().store(mf, y, py, 0);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
        let id = module.declare_function("f", Linkage::Export, &sig).unwrap();
        let mut ctx = module.make_context();
        ctx.func = func;
        module.define_function(id, &mut ctx).unwrap();
        module.finalize_definitions().unwrap();
        let code = module.get_finalized_function(id);
        // SAFETY: `code` is the function just compiled, with two pointer parameters in the
        // System V convention, i.e. `extern "C" fn(*const T, *mut T)`; it reads one vector
        // of `T` (16 bytes) at the first and writes one at the second, which the chunks below
        // provide.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(*const T, *mut T)>(code) };
        let mut out = vec![T::default(); xs.len()];
        let lanes = ty.lane_count() as usize;
        for (xc, yc) in xs.chunks_exact(lanes).zip(out.chunks_exact_mut(lanes)) {
            f(xc.as_ptr(), yc.as_mut_ptr());
        }
        // SAFETY: the function is not used after this.
        unsafe { module.free_memory() };
        out
    }

    /// The distance in ulps of finite `a` and `b` (0 when equal or both NaN, else `MAX`).
    fn ulps(a: f64, b: f64) -> u64 {
        // Sign-magnitude bits to a monotonic integer (±0 are one apart, and equal above).
        let key = |x: f64| (x.to_bits() as i64) ^ ((x.to_bits() as i64 >> 63) & i64::MAX);
        distance(a == b || a.is_nan() && b.is_nan(), a.is_finite() && b.is_finite(), key(a), key(b))
    }

    /// [`ulps`] of `f32`s.
    fn ulps32(a: f32, b: f32) -> u64 {
        let key = |x: f32| i64::from((x.to_bits() as i32) ^ ((x.to_bits() as i32 >> 31) & i32::MAX));
        distance(a == b || a.is_nan() && b.is_nan(), a.is_finite() && b.is_finite(), key(a), key(b))
    }

    /// 0 when `same`, the distance of the monotonic keys when both are `finite`, else `MAX`.
    fn distance(same: bool, finite: bool, ka: i64, kb: i64) -> u64 {
        match (same, finite) {
            (true, _) => 0,
            (false, true) => ka.abs_diff(kb),
            (false, false) => u64::MAX,
        }
    }

    #[test]
    fn the_non_fma_path_stays_accurate() {
        let mut xs = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e-310, 1.0, -1.0];
        for i in 0..4000 {
            let u = (i as f64 * 0.618_033_988_749_894_9).fract();
            let scale = [1.0, 4.0, 40.0, 700.0, 1e5][i % 5];
            xs.push((u * 2.0 - 1.0) * scale);
        }
        for op in MathFn::ALL {
            for fma in [false, true] {
                let out = run_vectors(op, fma, types::F64X2, &xs);
                let f = op.op().unary_f64().expect("a unary float op");
                let worst = xs.iter().zip(&out).map(|(&x, &y)| (ulps(y, f(x)), x, y)).max_by_key(|t| t.0);
                let (u, x, y) = worst.unwrap();
                assert!(u <= 3, "{} fma={fma}: {u} ulp at {x:e}: {y:e} vs {:e}", op.name(), f(x));
            }
        }
    }

    /// #15: the `f32` algorithms on `F32X4` lanes, with and without FMA, stay within 1 ulp of
    /// the `f64` reference rounded (the huge-argument fallback of `sin` and `cos`, which
    /// promotes each lane, included).
    #[test]
    fn the_f32_lanes_stay_accurate_with_and_without_fma() {
        let mut xs = vec![0.0f32, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-40, 1.0, -1.0];
        for i in 0..4000 {
            let u = (i as f64 * 0.618_033_988_749_894_9).fract();
            let scale = [1.0, 4.0, 40.0, 100.0, 1e5][i % 5];
            xs.push(((u * 2.0 - 1.0) * scale) as f32);
        }
        for op in MathFn::ALL.into_iter().filter(|&f| math::has_f32(f)) {
            for fma in [false, true] {
                let out = run_vectors(op, fma, types::F32X4, &xs);
                let f = op.op().unary_f64().expect("a unary float op");
                let worst = xs
                    .iter()
                    .zip(&out)
                    .map(|(&x, &y)| (ulps32(y, f(f64::from(x)) as f32), x, y))
                    .max_by_key(|t| t.0);
                let (u, x, y) = worst.unwrap();
                assert!(u <= 1, "{} fma={fma}: {u} ulp at {x:e}: {y:e}", op.name());
            }
        }
    }
}
