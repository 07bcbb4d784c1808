//! The JIT's elementwise kernels against the reference: every supported op on f64 and f32,
//! every loop shape (empty, scalar tail only, vector body + tail, broadcast inputs,
//! sub-ranges, strided inputs of any sign, runs of rows), special values, mixed-dtype
//! programs, and every error the safe API reports.
//!
//! Two references: hand-written Rust with the semantics of `tensorlift_ir::kernels` (and
//! std's own functions for the ops the JIT calls), and `tensorlift_ir::kernels::eval` of an
//! `Op::Composite` itself. Results must match bit for bit (any NaN matches any NaN, except in
//! the tests that pin which NaN `maximum`/`minimum` return).

mod common;

use std::sync::Arc;
use tensorlift_ir::kernels::{eval, KernelInput};
use tensorlift_ir::{
    DType, Op, ProgramError, ScalarNode, ScalarOp, ScalarProgram, ScalarProgramBuilder, ScalarValue, Tensor,
    TensorType,
};
use tensorlift_jit::{compile_elementwise, ElementwiseKernel, JitError, KernelArg};

use DType::{F32, F64};

/// Run lengths: empty, shorter than a vector, tails of every size, and the longest the native
/// loop runs for a transcendental program (longer runs go through the chunk plan,
/// `tests/chunked.rs`).
const LENS: [usize; 7] = [0, 1, 2, 3, 7, 64, tensorlift_jit::CHUNKED_MIN - 1];

const SPECIALS: [f64; 30] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    3.5,
    0.49999999999999994,
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-310,
    -1e-310,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    1e300,
    -1e300,
    4503599627370497.0,
    -4503599627370495.5,
    3.7,
    -3.7,
    100.25,
    1e-30,
    std::f64::consts::PI,
];

// ---------------------------------------------------------------------------------------
// Programs.

/// Builds a scalar program node by node through `ScalarProgramBuilder` (each op typed by
/// `ScalarOp::out_dtype`), values numbered as plain indices: the inputs `0..n`, then one per
/// node.
struct Builder {
    b: ScalarProgramBuilder,
}

impl Builder {
    fn new(inputs: &[DType]) -> Self {
        let mut b = ScalarProgramBuilder::new();
        for &d in inputs {
            b.add_input(d).expect("inputs first");
        }
        Builder { b }
    }

    fn c(&mut self, dtype: DType, x: f64) -> usize {
        self.b.add_const(dtype, x).expect("a constant").index()
    }

    fn op(&mut self, op: ScalarOp, args: &[usize]) -> usize {
        let args: Vec<ScalarValue> = args.iter().map(|&a| ScalarValue::new(a as u32)).collect();
        self.b.apply(op, &args).expect("well typed").index()
    }

    fn finish(self, output: usize) -> ScalarProgram {
        self.b.finish(&[ScalarValue::new(output as u32)]).expect("valid program")
    }
}

/// `op(i0, i1, …)` over `n` inputs of dtype `d`.
fn single(op: ScalarOp, d: DType, n: usize) -> ScalarProgram {
    let mut b = Builder::new(&vec![d; n]);
    let args: Vec<usize> = (0..n).collect();
    let r = b.op(op, &args);
    b.finish(r)
}

// ---------------------------------------------------------------------------------------
// Data.

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Mostly moderate values, some special ones, some tiny or huge ones.
    fn value(&mut self) -> f64 {
        match self.below(10) {
            0 | 1 => SPECIALS[self.below(SPECIALS.len())],
            2 => (self.unit() - 0.5) * 1e6,
            3 => ((self.unit() - 0.5) * 40.0).round() / 2.0,
            _ => (self.unit() - 0.5) * 8.0,
        }
    }
}

/// `n` values: the specials first (so short inputs hit them too), then random ones.
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let shift = seed as usize % SPECIALS.len();
    (0..n)
        .map(|i| if i < SPECIALS.len() { SPECIALS[(i + shift) % SPECIALS.len()] } else { rng.value() })
        .collect()
}

/// A test input: a slice or a scalar, of either float dtype.
#[derive(Clone, Debug)]
enum In {
    F64(Vec<f64>),
    F32(Vec<f32>),
    S64(f64),
    S32(f32),
}

impl In {
    fn vec(d: DType, n: usize, seed: u64) -> In {
        let v = data(n, seed);
        match d {
            F32 => In::F32(v.into_iter().map(|x| x as f32).collect()),
            _ => In::F64(v),
        }
    }

    fn scalar(d: DType, x: f64) -> In {
        match d {
            F32 => In::S32(x as f32),
            _ => In::S64(x),
        }
    }

    fn arg(&self) -> KernelArg<'_> {
        match self {
            In::F64(v) => KernelArg::F64(v),
            In::F32(v) => KernelArg::F32(v),
            In::S64(x) => KernelArg::ScalarF64(*x),
            In::S32(x) => KernelArg::ScalarF32(*x),
        }
    }

    fn tensor(&self) -> Tensor {
        match self {
            In::F64(v) => Tensor::from(v.clone()),
            In::F32(v) => Tensor::from(v.clone()),
            In::S64(x) => Tensor::from(vec![*x]),
            In::S32(x) => Tensor::from(vec![*x]),
        }
    }
}

/// The result's elements as bits (f32 bits widened), from the JIT.
fn run_jit(k: &ElementwiseKernel, ins: &[In], n: usize) -> Vec<u64> {
    let args: Vec<KernelArg<'_>> = ins.iter().map(In::arg).collect();
    run_args(k, &args, n)
}

/// The result's elements as bits (f32 bits widened), from the JIT run on `args`.
fn run_args(k: &ElementwiseKernel, args: &[KernelArg<'_>], n: usize) -> Vec<u64> {
    match k.out_dtype() {
        F32 => {
            let mut out = vec![f32::from_bits(0x7fc0_dead); n];
            k.run(args, &mut out).expect("run");
            out.iter().map(|x| x.to_bits() as u64).collect()
        }
        _ => {
            let mut out = vec![f64::from_bits(0x7ff8_dead_dead_dead); n];
            k.run(args, &mut out).expect("run");
            out.iter().map(|x| x.to_bits()).collect()
        }
    }
}

/// The result's elements as bits, from the reference kernel of `Op::Composite`.
fn run_reference(p: &ScalarProgram, ins: &[In], n: usize) -> Vec<u64> {
    let tensors: Vec<Tensor> = ins.iter().map(In::tensor).collect();
    let types: Vec<TensorType> = tensors.iter().map(|t| TensorType::fixed(t.dtype(), t.shape())).collect();
    let names: Vec<String> = (0..ins.len()).map(|i| format!("i{i}")).collect();
    let kin: Vec<KernelInput<'_>> =
        (0..ins.len()).map(|i| KernelInput { value: &tensors[i], ty: &types[i], name: &names[i] }).collect();
    let shape = if ins.iter().any(|i| matches!(i, In::F64(_) | In::F32(_))) { n } else { 1 };
    let out_ty = TensorType::fixed(p.out_dtype(), &[shape]);
    let t = eval(&Op::Composite(Arc::new(p.clone())), &kin, &out_ty).expect("reference");
    let bits: Vec<u64> = match t.dtype() {
        F32 => t.to_vec::<f32>().unwrap().iter().map(|x| x.to_bits() as u64).collect(),
        _ => t.to_vec::<f64>().unwrap().iter().map(|x| x.to_bits()).collect(),
    };
    if bits.len() == 1 && n != 1 {
        vec![bits[0]; n]
    } else {
        bits
    }
}

fn is_nan(d: DType, bits: u64) -> bool {
    match d {
        F32 => f32::from_bits(bits as u32).is_nan(),
        _ => f64::from_bits(bits).is_nan(),
    }
}

fn show(d: DType, bits: u64) -> String {
    match d {
        F32 => format!("{:?} ({bits:#x})", f32::from_bits(bits as u32)),
        _ => format!("{:?} ({bits:#x})", f64::from_bits(bits)),
    }
}

/// Bit-exact equality, any NaN matching any NaN.
fn assert_same(d: DType, got: &[u64], want: &[u64], ins: &[In], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if g != w && !(is_nan(d, g) && is_nan(d, w)) {
            let at: Vec<String> = ins
                .iter()
                .map(|x| match x {
                    In::F64(v) => format!("{:?}", v[i]),
                    In::F32(v) => format!("{:?}", v[i]),
                    In::S64(s) => format!("{s:?}"),
                    In::S32(s) => format!("{s:?}"),
                })
                .collect();
            panic!(
                "{what}: element {i} of {} (inputs {at:?}): got {}, want {}",
                got.len(),
                show(d, g),
                show(d, w)
            );
        }
    }
}

/// Compiles `p` and checks it against the reference on `ins`.
fn check(p: &ScalarProgram, ins: &[In], n: usize, what: &str) {
    let k = compile_elementwise(p).unwrap_or_else(|e| panic!("{what}: {e}"));
    check_kernel(&k, p, ins, n, what);
}

fn check_kernel(k: &ElementwiseKernel, p: &ScalarProgram, ins: &[In], n: usize, what: &str) {
    let got = run_jit(k, ins, n);
    let want = run_reference(p, ins, n);
    assert_same(p.out_dtype(), &got, &want, ins, &format!("{what} [{p}] n={n}"));
}

/// Slice inputs of every length in `LENS`.
fn check_lengths(p: &ScalarProgram, what: &str) {
    let k = compile_elementwise(p).unwrap_or_else(|e| panic!("{what}: {e}"));
    for n in LENS {
        let ins: Vec<In> =
            p.inputs.iter().enumerate().map(|(j, &d)| In::vec(d, n, 7 * j as u64 + n as u64)).collect();
        check_kernel(&k, p, &ins, n, what);
    }
}

const INLINE_UNARY: [ScalarOp; 10] = [
    ScalarOp::Neg,
    ScalarOp::Abs,
    ScalarOp::Sqr,
    ScalarOp::Sqrt,
    ScalarOp::Reciprocal,
    ScalarOp::Floor,
    ScalarOp::Ceil,
    ScalarOp::Trunc,
    ScalarOp::Round,
    ScalarOp::Sign,
];

const INLINE_BINARY: [ScalarOp; 7] = [
    ScalarOp::Add,
    ScalarOp::Sub,
    ScalarOp::Mul,
    ScalarOp::Div,
    ScalarOp::Maximum,
    ScalarOp::Minimum,
    ScalarOp::Second,
];

// ---------------------------------------------------------------------------------------
// Every op.

#[test]
fn inline_ops_match_the_reference_at_every_length() {
    for d in [F64, F32] {
        for op in INLINE_UNARY {
            check_lengths(&single(op, d, 1), &format!("{} {d}", op.name()));
        }
        for op in INLINE_BINARY {
            check_lengths(&single(op, d, 2), &format!("{} {d}", op.name()));
        }
        check_lengths(&single(ScalarOp::Clip, d, 3), &format!("clip {d}"));
        for n in [3, 4, 5] {
            check_lengths(&single(ScalarOp::Add, d, n), &format!("add/{n} {d}"));
            check_lengths(&single(ScalarOp::Mul, d, n), &format!("mul/{n} {d}"));
        }
        for to in [F64, F32] {
            check_lengths(&single(ScalarOp::Cast(to), d, 1), &format!("cast {d} -> {to}"));
        }
    }
}

#[test]
fn inline_programs_are_vectorized() {
    for (d, w) in [(F64, 2), (F32, 4)] {
        for op in INLINE_UNARY {
            let k = compile_elementwise(&single(op, d, 1)).unwrap();
            assert_eq!(k.vector_width(), Some(w), "{} {d}", op.name());
            assert!(k.callees().is_empty());
            let vty = if d == F64 { "f64x2" } else { "f32x4" };
            assert!(k.clif().contains(vty), "{}: {}", op.name(), k.clif());
        }
    }
    // Mixed programs use groups of 4: one f32x4 or two f64x2 per value.
    let k = compile_elementwise(&single(ScalarOp::Add, F32, 2)).unwrap();
    assert_eq!(k.vector_width(), Some(4));
    let mut b = Builder::new(&[F32, F64]);
    let r = b.op(ScalarOp::Mul, &[0, 1]);
    let k = compile_elementwise(&b.finish(r)).unwrap();
    assert_eq!(k.vector_width(), Some(4));
    assert!(k.clif().contains("fvpromote_low"), "{}", k.clif());
}

/// Distance in representable values between two finite or infinite floats of one dtype
/// (their bits as ordered integers); 0 for two NaNs, `u64::MAX` for one NaN.
fn ulp_distance(g: f64, w: f64, f32_bits: bool) -> u64 {
    if g == w || (g.is_nan() && w.is_nan()) {
        return 0;
    }
    if g.is_nan() || w.is_nan() {
        return u64::MAX;
    }
    let key = |x: f64| -> i64 {
        let i = if f32_bits { (x as f32).to_bits() as i32 as i64 } else { x.to_bits() as i64 };
        let min = if f32_bits { i32::MIN as i64 } else { i64::MIN };
        if i < 0 {
            min.wrapping_sub(i)
        } else {
            i
        }
    };
    key(g).abs_diff(key(w))
}

/// The inline transcendental functions (`vmath`) against std: zero, infinite and NaN results
/// exactly, others within 2 ulp, or the op table's larger bound (`erfc`, whose reference is
/// itself up to 4 ulp off; the full accuracy tables are in `tests/vmath_ulp.rs`), in
/// the vector loop (no std callee except the huge-argument fallback of sin/cos/tan).
#[test]
fn vmath_ops_are_vectorized_and_close_to_std() {
    let x = data(1001, 3);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    for op in tensorlift_ir::MathFn::ALL.map(|f| f.op()) {
        let fallback = matches!(op, ScalarOp::Sin | ScalarOp::Cos | ScalarOp::Tan);
        let want_callees: Vec<String> =
            if fallback { vec![format!("tl_{}_f64", op.name())] } else { Vec::new() };
        let k = compile_elementwise(&single(op, F64, 1)).unwrap();
        assert_eq!(k.vector_width(), Some(2), "{} is inline: vector loop", op.name());
        assert_eq!(k.callees(), want_callees.as_slice());
        let mut out = vec![0.0f64; x.len()];
        k.run(&[KernelArg::F64(&x)], &mut out).unwrap();
        let f = common::std64(op);
        for (i, (&g, &xi)) in out.iter().zip(&x).enumerate() {
            let w = f(xi);
            let ok = if w == 0.0 || !w.is_finite() {
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())
            } else {
                ulp_distance(g, w, false) <= op.ulp_bound().0.max(2)
            };
            assert!(ok, "{}({xi:?}) [{i}]: {g:?} vs {w:?}", op.name());
        }

        let k = compile_elementwise(&single(op, F32, 1)).unwrap();
        assert_eq!(k.vector_width(), Some(4));
        assert_eq!(k.callees(), want_callees.as_slice());
        let mut out = vec![0.0f32; x32.len()];
        k.run(&[KernelArg::F32(&x32)], &mut out).unwrap();
        let f = common::std32(op);
        for (&g, &xi) in out.iter().zip(&x32) {
            let w = f(xi);
            let ok = if w == 0.0 || !w.is_finite() {
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())
            } else {
                ulp_distance(g as f64, w as f64, true) <= op.ulp_bound().1.max(2)
            };
            assert!(ok, "{}({xi:?}) f32: {g:?} vs {w:?}", op.name());
        }
    }
}

#[test]
fn pow_is_bit_exact_with_powf() {
    let x = data(1001, 11);
    let y: Vec<f64> = data(1001, 12).iter().map(|v| v.clamp(-30.0, 30.0)).collect();
    let k = compile_elementwise(&single(ScalarOp::Pow, F64, 2)).unwrap();
    assert_eq!(k.callees(), ["tl_pow_f64"]);
    let mut out = vec![0.0f64; x.len()];
    k.run(&[KernelArg::F64(&x), KernelArg::F64(&y)], &mut out).unwrap();
    for i in 0..x.len() {
        let w = x[i].powf(y[i]);
        assert!(
            out[i].to_bits() == w.to_bits() || (out[i].is_nan() && w.is_nan()),
            "pow({}, {})",
            x[i],
            y[i]
        );
    }
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let k = compile_elementwise(&single(ScalarOp::Pow, F32, 2)).unwrap();
    let mut out = vec![0.0f32; x.len()];
    k.run(&[KernelArg::F32(&x32), KernelArg::ScalarF32(2.5)], &mut out).unwrap();
    for i in 0..x.len() {
        let w = x32[i].powf(2.5);
        assert!(out[i].to_bits() == w.to_bits() || (out[i].is_nan() && w.is_nan()), "pow({}, 2.5)", x32[i]);
    }
    for d in [F64, F32] {
        check_lengths(&single(ScalarOp::Pow, d, 2), "pow");
    }
}

// ---------------------------------------------------------------------------------------
// Semantics pinned by hand.

/// The reference's NaN-propagating maximum (`tensorlift_ir::kernels::elemwise`).
fn max_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || a >= b {
        a
    } else if b.is_nan() || b > a {
        b
    } else {
        a
    }
}

fn min_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || a <= b {
        a
    } else if b.is_nan() || b < a {
        b
    } else {
        a
    }
}

#[test]
fn maximum_and_minimum_propagate_nan_from_either_side() {
    // Two NaNs with different payloads, so the test sees which one comes out.
    let nan1 = f64::from_bits(0x7ff8_0000_0000_0001);
    let nan2 = f64::from_bits(0xfff8_0000_0000_0002);
    let vals = [nan1, nan2, 0.0, -0.0, 1.0, -1.0, f64::INFINITY, f64::NEG_INFINITY, 2.5, 1e-310];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &x in &vals {
        for &y in &vals {
            a.push(x);
            b.push(y);
        }
    }
    // 100 pairs: the vector loop plus a tail; then each pair alone (the scalar loop).
    for (op, f) in [(ScalarOp::Maximum, max_nan as fn(f64, f64) -> f64), (ScalarOp::Minimum, min_nan)] {
        let k = compile_elementwise(&single(op, F64, 2)).unwrap();
        let mut out = vec![0.0f64; a.len()];
        k.run(&[KernelArg::F64(&a), KernelArg::F64(&b)], &mut out).unwrap();
        for i in 0..a.len() {
            assert_eq!(out[i].to_bits(), f(a[i], b[i]).to_bits(), "{}({:?}, {:?})", op.name(), a[i], b[i]);
            let mut one = [0.0f64];
            k.run(&[KernelArg::F64(&a[i..=i]), KernelArg::F64(&b[i..=i])], &mut one).unwrap();
            assert_eq!(
                one[0].to_bits(),
                out[i].to_bits(),
                "scalar loop {}({:?}, {:?})",
                op.name(),
                a[i],
                b[i]
            );
        }
        // f32: same rules.
        let k = compile_elementwise(&single(op, F32, 2)).unwrap();
        let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
        let mut out = vec![0.0f32; a.len()];
        k.run(&[KernelArg::F32(&a32), KernelArg::F32(&b32)], &mut out).unwrap();
        for i in 0..a.len() {
            let (x, y) = (a32[i], b32[i]);
            let w = f(x as f64, y as f64) as f32;
            assert_eq!(out[i].to_bits(), w.to_bits(), "{}({x:?}, {y:?}) f32", op.name());
        }
    }
    let k = compile_elementwise(&single(ScalarOp::Maximum, F64, 2)).unwrap();
    let mut out = [0.0f64; 4];
    k.run(
        &[KernelArg::F64(&[f64::NAN, 1.0, 0.0, -0.0]), KernelArg::F64(&[1.0, f64::NAN, -0.0, 0.0])],
        &mut out,
    )
    .unwrap();
    assert!(out[0].is_nan() && out[1].is_nan());
    assert_eq!(out[2].to_bits(), 0.0f64.to_bits());
    assert_eq!(out[3].to_bits(), (-0.0f64).to_bits());
}

#[test]
fn round_is_half_to_even_and_sign_keeps_zeros() {
    let x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 3.5, -0.0, 1e300, f64::NAN, -7.5];
    let want_round = [0.0, 2.0, 2.0, -0.0, -2.0, -2.0, 0.0, 4.0, -0.0, 1e300, f64::NAN, -8.0];
    let want_sign = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 1.0, -0.0, 1.0, f64::NAN, -1.0];
    for (op, want) in [(ScalarOp::Round, want_round), (ScalarOp::Sign, want_sign)] {
        let k = compile_elementwise(&single(op, F64, 1)).unwrap();
        let mut out = [0.0f64; 12];
        k.run(&[KernelArg::F64(&x)], &mut out).unwrap();
        for i in 0..x.len() {
            assert!(
                out[i].to_bits() == want[i].to_bits() || (out[i].is_nan() && want[i].is_nan()),
                "{}({:?}) = {:?}",
                op.name(),
                x[i],
                out[i]
            );
        }
    }
    let k = compile_elementwise(&single(ScalarOp::Sign, F64, 1)).unwrap();
    let mut out = [0.0f64; 3];
    k.run(&[KernelArg::F64(&[0.0, -0.0, f64::NEG_INFINITY])], &mut out).unwrap();
    assert_eq!(out.map(f64::to_bits), [0.0f64.to_bits(), (-0.0f64).to_bits(), (-1.0f64).to_bits()]);
}

// ---------------------------------------------------------------------------------------
// Broadcasting, ranges, mixed dtypes, constants.

#[test]
fn broadcast_scalar_inputs_in_every_position() {
    for d in [F64, F32] {
        for op in INLINE_BINARY.into_iter().chain([ScalarOp::Pow]) {
            let p = single(op, d, 2);
            let k = compile_elementwise(&p).unwrap();
            for n in LENS {
                for s in [-2.5, 0.0, -0.0, f64::NAN, f64::INFINITY, 3.0] {
                    let v = In::vec(d, n, n as u64);
                    check_kernel(&k, &p, &[v.clone(), In::scalar(d, s)], n, "scalar second");
                    check_kernel(&k, &p, &[In::scalar(d, s), v], n, "scalar first");
                    check_kernel(&k, &p, &[In::scalar(d, s), In::scalar(d, 1.5)], n, "both scalar");
                }
            }
        }
        let p = single(ScalarOp::Clip, d, 3);
        let k = compile_elementwise(&p).unwrap();
        for n in LENS {
            let ins = [In::vec(d, n, 1), In::scalar(d, -1.0), In::scalar(d, 2.0)];
            check_kernel(&k, &p, &ins, n, "clip(x, -1, 2)");
            let ins = [In::scalar(d, 0.5), In::vec(d, n, 2), In::vec(d, n, 3)];
            check_kernel(&k, &p, &ins, n, "clip(0.5, lo, hi)");
        }
    }
}

#[test]
fn sub_ranges_compute_only_their_elements() {
    let mut b = Builder::new(&[F64, F64]);
    let m = b.op(ScalarOp::Mul, &[0, 1]);
    let c = b.c(F64, 1.0);
    let r = b.op(ScalarOp::Add, &[m, c]);
    let p = b.finish(r);
    let k = compile_elementwise(&p).unwrap();
    let n = 101;
    let x = data(n, 1);
    let y = data(n, 2);
    let full = run_reference(&p, &[In::F64(x.clone()), In::F64(y.clone())], n);
    let sentinel = -12345.0f64;
    for (lo, hi) in
        [(0, 0), (5, 5), (0, 1), (3, 4), (1, 8), (7, 100), (13, 101), (0, 101), (2, 99), (100, 101)]
    {
        let mut out = vec![sentinel; n];
        k.run_range(&[KernelArg::F64(&x), KernelArg::ScalarF64(2.0)], &mut out, lo..hi)
            .unwrap_or_else(|e| panic!("{e}"));
        k.run_range(&[KernelArg::F64(&x), KernelArg::F64(&y)], &mut out, lo..hi).unwrap();
        for (i, o) in out.iter().enumerate() {
            if (lo..hi).contains(&i) {
                assert!(
                    o.to_bits() == full[i] || (o.is_nan() && f64::from_bits(full[i]).is_nan()),
                    "{lo}..{hi} [{i}]"
                );
            } else {
                assert_eq!(*o, sentinel, "{lo}..{hi}: element {i} outside the range was written");
            }
        }
    }
    // f32 (vector groups of 4, two per iteration).
    let p = single(ScalarOp::Sqr, F32, 1);
    let k = compile_elementwise(&p).unwrap();
    let x: Vec<f32> = (0..50).map(|i| i as f32).collect();
    for (lo, hi) in [(1, 2), (1, 10), (3, 50), (0, 49), (9, 17)] {
        let mut out = vec![-1.0f32; 50];
        k.run_range(&[KernelArg::F32(&x)], &mut out, lo..hi).unwrap();
        for (i, &o) in out.iter().enumerate() {
            let want = if (lo..hi).contains(&i) { (i * i) as f32 } else { -1.0 };
            assert_eq!(o, want, "{lo}..{hi} [{i}]");
        }
    }
}

#[test]
fn mixed_f32_f64_programs_with_casts() {
    // (f32 x) * (f64 y) upcasts to f64; cast back to f32; plus an f32 constant; max with x.
    let mut b = Builder::new(&[F32, F64]);
    let m = b.op(ScalarOp::Mul, &[0, 1]);
    let c = b.op(ScalarOp::Cast(F32), &[m]);
    let k1 = b.c(F32, 0.1);
    let s = b.op(ScalarOp::Add, &[c, k1]);
    let r = b.op(ScalarOp::Maximum, &[s, 0]);
    let p = b.finish(r);
    assert_eq!(p.out_dtype(), F32);
    check_lengths(&p, "mixed to f32");
    for n in LENS {
        check(&p, &[In::vec(F32, n, 1), In::S64(1.0 / 3.0)], n, "mixed, scalar f64");
        check(&p, &[In::S32(0.25), In::vec(F64, n, 2)], n, "mixed, scalar f32");
    }

    // f32 only through casts, result f64: sqrt(cast64(x32) + y64) - cast64(cast32(y64)).
    let mut b = Builder::new(&[F32, F64]);
    let x = b.op(ScalarOp::Cast(F64), &[0]);
    let a = b.op(ScalarOp::Add, &[x, 1]);
    let q = b.op(ScalarOp::Sqrt, &[a]);
    let y32 = b.op(ScalarOp::Cast(F32), &[1]);
    let y64 = b.op(ScalarOp::Cast(F64), &[y32]);
    let r = b.op(ScalarOp::Sub, &[q, y64]);
    let p = b.finish(r);
    check_lengths(&p, "mixed to f64");

    // A std call in a mixed program: scalar loop, both dtypes' functions.
    let mut b = Builder::new(&[F32, F64]);
    let e = b.op(ScalarOp::Pow, &[0, 0]);
    let l = b.op(ScalarOp::Pow, &[1, 1]);
    let r = b.op(ScalarOp::Add, &[e, l]);
    let p = b.finish(r);
    let k = compile_elementwise(&p).unwrap();
    assert_eq!(k.vector_width(), None);
    assert_eq!(k.callees(), ["tl_pow_f32", "tl_pow_f64"]);
    check_lengths(&p, "mixed calls");
}

#[test]
fn constants_of_every_dtype_convert_like_the_reference() {
    for d in [F64, F32] {
        let mut b = Builder::new(&[d]);
        let i64c = b.c(DType::I64, 16777217.0); // not exact in f32: rounds once
        let i32c = b.c(DType::I32, -3.0);
        let bc = b.c(DType::Bool, 1.0);
        let f32c = b.c(F32, 0.1);
        let f64c = b.c(F64, 0.1);
        let a = b.op(ScalarOp::Add, &[0, i32c]); // d
        let m = b.op(ScalarOp::Mul, &[a, bc]); // d
        let s = b.op(ScalarOp::Sub, &[m, f32c]); // d
        let t = b.op(ScalarOp::Add, &[s, f64c]); // f64
        let u = b.op(ScalarOp::Mul, &[0, i64c]); // f64 (an integer beside f32 needs f64)
        let r = b.op(ScalarOp::Add, &[t, u]);
        let p = b.finish(r);
        check_lengths(&p, &format!("constants {d}"));
        // A constant result, a fill, and an integer constant cast to float.
        let mut b = Builder::new(&[d]);
        let c = b.c(DType::I64, 7.0);
        let f = b.op(ScalarOp::Cast(d), &[c]);
        let r = b.op(ScalarOp::Second, &[0, f]);
        check_lengths(&b.finish(r), "fill with a cast integer");
        let mut b = Builder::new(&[d]);
        let r = b.c(d, -2.75);
        check_lengths(&b.finish(r), "constant result");
    }
}

#[test]
fn an_input_as_the_result_and_dead_nodes() {
    let mut b = Builder::new(&[F64, F64]);
    let _dead = b.op(ScalarOp::Lt, &[0, 1]); // unsupported, but not needed
    let _dead2 = b.op(ScalarOp::Exp, &[0]);
    let p = b.finish(1);
    let k = compile_elementwise(&p).unwrap();
    assert_eq!(k.vector_width(), Some(2), "dead std calls don't force the scalar loop");
    assert!(k.callees().is_empty());
    check_lengths(&p, "copy");
    // No inputs: a constant fill.
    let mut b = Builder::new(&[]);
    let c = b.c(F32, 1.5);
    let k = compile_elementwise(&b.finish(c)).unwrap();
    for n in LENS {
        let mut out = vec![0.0f32; n];
        k.run(&[], &mut out).unwrap();
        assert!(out.iter().all(|&x| x == 1.5));
    }
}

// ---------------------------------------------------------------------------------------
// Larger programs.

/// About twenty ops: `(sqr(x) * y + |z| - clip(x, -1, 1)) / (1 + sqrt(|y|))`, then more.
fn twenty_ops(d: DType) -> ScalarProgram {
    let mut b = Builder::new(&[d, d, d]);
    let (x, y, z) = (0, 1, 2);
    let one = b.c(d, 1.0);
    let m1 = b.c(d, -1.0);
    let half = b.c(F64, 0.5);
    let sx = b.op(ScalarOp::Sqr, &[x]);
    let sxy = b.op(ScalarOp::Mul, &[sx, y]);
    let az = b.op(ScalarOp::Abs, &[z]);
    let cl = b.op(ScalarOp::Clip, &[x, m1, one]);
    let s1 = b.op(ScalarOp::Add, &[sxy, az]);
    let s2 = b.op(ScalarOp::Sub, &[s1, cl]);
    let ay = b.op(ScalarOp::Abs, &[y]);
    let qy = b.op(ScalarOp::Sqrt, &[ay]);
    let den = b.op(ScalarOp::Add, &[one, qy]);
    let q = b.op(ScalarOp::Div, &[s2, den]);
    let fl = b.op(ScalarOp::Floor, &[q]);
    let ce = b.op(ScalarOp::Ceil, &[z]);
    let mx = b.op(ScalarOp::Maximum, &[fl, ce]);
    let mn = b.op(ScalarOp::Minimum, &[mx, q]);
    let ng = b.op(ScalarOp::Neg, &[mn]);
    let sg = b.op(ScalarOp::Sign, &[y]);
    let prod = b.op(ScalarOp::Mul, &[ng, sg, half]);
    let rd = b.op(ScalarOp::Round, &[prod]);
    let tr = b.op(ScalarOp::Trunc, &[s2]);
    let rc = b.op(ScalarOp::Reciprocal, &[den]);
    let r = b.op(ScalarOp::Add, &[rd, tr, rc, x]);
    let p = b.finish(r);
    assert!(p.op_count() >= 20);
    p
}

#[test]
fn a_twenty_op_program() {
    for d in [F64, F32] {
        let p = twenty_ops(d);
        check_lengths(&p, &format!("twenty ops {d}"));
        let k = compile_elementwise(&p).unwrap();
        assert!(k.vector_width().is_some());
        for n in [1, 9, 1001] {
            check_kernel(
                &k,
                &p,
                &[In::vec(d, n, 4), In::scalar(d, -0.75), In::vec(d, n, 5)],
                n,
                "twenty, scalar y",
            );
        }
    }
}

#[test]
fn random_programs_match_the_reference() {
    let ops1 = [INLINE_UNARY.as_slice(), &[ScalarOp::Cast(F32), ScalarOp::Cast(F64)]].concat();
    let ops2 = INLINE_BINARY;
    let mut rng = Rng(0x1234_5678);
    for case in 0..150 {
        let n_in = 1 + rng.below(3);
        let inputs: Vec<DType> = (0..n_in).map(|_| if rng.below(2) == 0 { F32 } else { F64 }).collect();
        let mut b = Builder::new(&inputs);
        let mut last = 0;
        for _ in 0..1 + rng.below(12) {
            let avail = b.b.n_inputs() + b.b.n_nodes();
            let pick = |rng: &mut Rng| rng.below(avail);
            last = match rng.below(8) {
                0 => {
                    let d = if rng.below(2) == 0 { F32 } else { F64 };
                    let x = rng.value();
                    b.c(d, x)
                }
                1..=3 => {
                    let op = ops1[rng.below(ops1.len())];
                    let a = pick(&mut rng);
                    b.op(op, &[a])
                }
                4 => {
                    let (a, c, e) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
                    b.op(ScalarOp::Clip, &[a, c, e])
                }
                _ => {
                    let op = ops2[rng.below(ops2.len())];
                    let (a, c) = (pick(&mut rng), pick(&mut rng));
                    b.op(op, &[a, c])
                }
            };
        }
        let p = b.finish(last);
        let k = compile_elementwise(&p).unwrap_or_else(|e| panic!("case {case} [{}]: {e}", p.to_text()));
        for n in [0, 3, 13, 64] {
            let ins: Vec<In> =
                inputs
                    .iter()
                    .map(|&d| {
                        if rng.below(4) == 0 {
                            In::scalar(d, rng.value())
                        } else {
                            In::vec(d, n, rng.next())
                        }
                    })
                    .collect();
            check_kernel(&k, &p, &ins, n, &format!("case {case} [{}]", p.to_text()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Strided inputs and runs of rows.

/// A strided kernel input: values laid out every `stride` elements of `buf` from `first`,
/// with gaps and margins holding a value that no result may show (777).
struct Strided {
    buf: In,
    first: usize,
    stride: isize,
}

impl Strided {
    /// The values of `plain` (a slice input) laid out with `stride` (for stride 0, `plain`
    /// must repeat one value).
    fn of(plain: &In, stride: isize) -> Strided {
        let vals: Vec<f64> = match plain {
            In::F64(v) => v.clone(),
            In::F32(v) => v.iter().map(|&x| x as f64).collect(),
            _ => panic!("a slice input"),
        };
        let reach = vals.len().saturating_sub(1) * stride.unsigned_abs();
        let first = 2 + if stride < 0 { reach } else { 0 };
        let mut buf = vec![777.0; reach + 5];
        for (i, &x) in vals.iter().enumerate() {
            buf[(first as isize + i as isize * stride) as usize] = x;
        }
        let buf = match plain {
            In::F32(_) => In::F32(buf.iter().map(|&x| x as f32).collect()),
            _ => In::F64(buf),
        };
        Strided { buf, first, stride }
    }

    fn arg(&self) -> KernelArg<'_> {
        let (first, stride) = (self.first, self.stride);
        match &self.buf {
            In::F64(data) => KernelArg::StridedF64 { data, first, stride },
            In::F32(data) => KernelArg::StridedF32 { data, first, stride },
            _ => unreachable!("a slice buffer"),
        }
    }
}

const STRIDES: [isize; 6] = [2, -1, -3, 0, 7, 1];

/// `n` values of `d` for an input of `stride` (one value repeated for stride 0).
fn plain_input(d: DType, n: usize, stride: isize, seed: u64) -> In {
    if stride != 0 {
        return In::vec(d, n, seed);
    }
    match In::vec(d, 1, seed + 3) {
        In::F64(v) => In::F64(vec![v[0]; n]),
        In::F32(v) => In::F32(vec![v[0]; n]),
        other => other,
    }
}

/// Runs `p` with strided inputs (every input strided, then input 0 strided and the others
/// slices) at every length and against the reference on the same values.
fn check_strided(p: &ScalarProgram, what: &str) {
    let k = compile_elementwise(p).unwrap_or_else(|e| panic!("{what}: {e}"));
    for n in LENS {
        for j in 0..STRIDES.len() {
            let strides: Vec<isize> = (0..p.inputs.len()).map(|i| STRIDES[(j + i) % STRIDES.len()]).collect();
            let plain: Vec<In> = p
                .inputs
                .iter()
                .zip(&strides)
                .enumerate()
                .map(|(i, (&d, &s))| plain_input(d, n, s, (n * 31 + i) as u64))
                .collect();
            let laid: Vec<Strided> = plain.iter().zip(&strides).map(|(v, &s)| Strided::of(v, s)).collect();
            let want = run_reference(p, &plain, n);
            let all: Vec<KernelArg<'_>> = laid.iter().map(Strided::arg).collect();
            let w = format!("{what} [{p}] n={n} strides {strides:?}");
            assert_same(p.out_dtype(), &run_args(&k, &all, n), &want, &plain, &w);
            let mixed: Vec<KernelArg<'_>> =
                std::iter::once(laid[0].arg()).chain(plain[1..].iter().map(In::arg)).collect();
            assert_same(p.out_dtype(), &run_args(&k, &mixed, n), &want, &plain, &format!("{w}, mixed"));
        }
    }
}

#[test]
fn strided_inputs_match_the_reference() {
    for d in [F64, F32] {
        for op in INLINE_BINARY.into_iter().chain([ScalarOp::Pow]) {
            check_strided(&single(op, d, 2), "binary");
        }
        check_strided(&single(ScalarOp::Sign, d, 1), "unary");
        check_strided(&twenty_ops(d), "twenty ops");
    }
    // Mixed dtypes: (f32 x) * (f64 y) cast to f32, plus x.
    let mut b = Builder::new(&[F32, F64]);
    let m = b.op(ScalarOp::Mul, &[0, 1]);
    let c = b.op(ScalarOp::Cast(F32), &[m]);
    let r = b.op(ScalarOp::Add, &[c, 0]);
    check_strided(&b.finish(r), "mixed");
}

#[test]
fn strided_transcendentals_are_close_to_std() {
    // Short runs (the scalar loop) and long ones (the chunked plan copies the strided
    // input for the bulk routine), f64 and f32.
    for (op, n) in
        [(ScalarOp::Exp, 1001), (ScalarOp::Tanh, 1001), (ScalarOp::Exp, 9000), (ScalarOp::Log, 9000)]
    {
        for stride in [2isize, -1, -5] {
            let x = In::vec(F64, n, 9);
            let laid = Strided::of(&x, stride);
            let In::F64(xs) = &x else { unreachable!() };
            let mut out = vec![0.0f64; n];
            compile_elementwise(&single(op, F64, 1)).unwrap().run(&[laid.arg()], &mut out).unwrap();
            let f = common::std64(op);
            for (i, (&g, &xi)) in out.iter().zip(xs).enumerate() {
                assert!(
                    ulp_distance(g, f(xi), false) <= 2,
                    "{}({xi:?}) [{i}] stride {stride}: {g:?}",
                    op.name()
                );
            }
            let x = In::vec(F32, n, 10);
            let laid = Strided::of(&x, stride);
            let In::F32(xs) = &x else { unreachable!() };
            let mut out = vec![0.0f32; n];
            compile_elementwise(&single(op, F32, 1)).unwrap().run(&[laid.arg()], &mut out).unwrap();
            let f = common::std32(op);
            for (i, (&g, &xi)) in out.iter().zip(xs).enumerate() {
                let d = ulp_distance(g as f64, f(xi) as f64, true);
                assert!(d <= 2, "{}({xi:?}) f32 [{i}] stride {stride}: {g:?}", op.name());
            }
        }
    }
    // An argument computed by a chunk kernel from a strided input: the same as the run on
    // the same values laid out contiguously.
    let mut b = Builder::new(&[F64, F64]);
    let two = b.c(F64, 2.0);
    let a = b.op(ScalarOp::Mul, &[0, two]);
    let e = b.op(ScalarOp::Exp, &[a]);
    let r = b.op(ScalarOp::Add, &[e, 1]);
    let p = b.finish(r);
    let k = compile_elementwise(&p).unwrap();
    let (x, y) = (In::vec(F64, 9000, 11), In::vec(F64, 9000, 12));
    let (lx, ly) = (Strided::of(&x, -2), Strided::of(&y, 3));
    assert_same(
        F64,
        &run_args(&k, &[lx.arg(), ly.arg()], 9000),
        &run_jit(&k, &[x.clone(), y.clone()], 9000),
        &[x, y],
        "chunked exp(2x) + y",
    );
}

#[test]
fn sub_ranges_of_strided_inputs_read_only_their_elements() {
    let p = single(ScalarOp::Mul, F64, 2);
    let k = compile_elementwise(&p).unwrap();
    let (n, lo, hi) = (40, 13, 29);
    // Elements lo..hi of a reversed input stored in exactly hi - lo values: element i is
    // at position hi - 1 - i, so elements before `lo` would be past the end.
    let x = data(n, 5);
    let rev: Vec<f64> = (lo..hi).rev().map(|i| x[i]).collect();
    let arg = KernelArg::StridedF64 { data: &rev, first: hi - 1, stride: -1 };
    let mut out = vec![-1.0f64; n];
    k.run_range(&[arg, KernelArg::ScalarF64(3.0)], &mut out, lo..hi).unwrap();
    for (i, &o) in out.iter().enumerate() {
        let want = if (lo..hi).contains(&i) { x[i] * 3.0 } else { -1.0 };
        assert_eq!(o.to_bits(), want.to_bits(), "[{i}]");
    }
    assert!(matches!(
        k.run_range(&[arg, KernelArg::ScalarF64(3.0)], &mut out, lo - 1..hi),
        Err(JitError::ArgBounds { index: 0, position: 16, len: 16 })
    ));
}

#[test]
fn run_rows_matches_one_run_per_row() {
    // x (f64, strided, rows walking backwards) * y (f32 rows of a matrix) + z (a scalar).
    let mut b = Builder::new(&[F64, F32, F64]);
    let m = b.op(ScalarOp::Mul, &[0, 1]);
    let r = b.op(ScalarOp::Add, &[m, 2]);
    let p = b.finish(r);
    let k = compile_elementwise(&p).unwrap();
    for (rows, len) in [(1, 0), (1, 5), (3, 7), (64, 3), (5, 1001)] {
        let row_x = -(2 * len as isize + 1);
        let first_x = (rows - 1) * (2 * len + 1) + 1;
        let x = data(first_x + 2 * len + 2, 7);
        let y: Vec<f32> = data(rows * len, 8).iter().map(|&v| v as f32).collect();
        let args = [
            KernelArg::StridedF64 { data: &x, first: first_x, stride: 2 },
            KernelArg::F32(&y),
            KernelArg::ScalarF64(0.25),
        ];
        let mut got = vec![std::mem::MaybeUninit::new(-1.0f64); rows * len];
        k.run_rows(&args, &[row_x, len as isize, 0], rows, &mut got).unwrap();
        for r in 0..rows {
            let first = (first_x as isize + r as isize * row_x) as usize;
            let row_args = [
                KernelArg::StridedF64 { data: &x, first, stride: 2 },
                KernelArg::F32(&y[r * len..(r + 1) * len]),
                KernelArg::ScalarF64(0.25),
            ];
            let mut want = vec![0.0f64; len];
            k.run(&row_args, &mut want).unwrap();
            for (i, w) in want.iter().enumerate() {
                // SAFETY: `run_rows` returned `Ok`, so every element is written.
                let g = unsafe { got[r * len + i].assume_init() };
                assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{rows}x{len} [{r}, {i}]");
            }
        }
    }
    // Long rows of a transcendental program run through the chunked plan row by row.
    let p = single(ScalarOp::Exp, F64, 1);
    let k = compile_elementwise(&p).unwrap();
    let (rows, len) = (3, 5000);
    let x = data(rows * len, 9);
    let mut got = vec![std::mem::MaybeUninit::new(0.0f64); rows * len];
    // Row r reads row `rows - 1 - r` of x reversed.
    let arg = KernelArg::StridedF64 { data: &x, first: rows * len - 1, stride: -1 };
    k.run_rows(&[arg], &[-(len as isize)], rows, &mut got).unwrap();
    let mut want = vec![0.0f64; rows * len];
    let reversed: Vec<f64> = x.iter().rev().copied().collect();
    k.run(&[KernelArg::F64(&reversed)], &mut want).unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        // SAFETY: `run_rows` returned `Ok`, so every element is written.
        let g = unsafe { g.assume_init() };
        assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "exp rows [{i}]");
    }
}

#[test]
fn reads_outside_the_data_are_errors_not_panics() {
    let k = compile_elementwise(&single(ScalarOp::Add, F64, 2)).unwrap();
    let d = [1.0, 2.0, 3.0, 4.0, 5.0];
    let x = [10.0, 20.0, 30.0];
    let st = |first: usize, stride: isize| KernelArg::StridedF64 { data: &d, first, stride };
    let mut out = [-7.0f64; 3];
    let bounds = |r: Result<(), JitError>| match r {
        Err(JitError::ArgBounds { index, position, len }) => (index, position, len),
        other => panic!("expected ArgBounds, got {other:?}"),
    };
    assert_eq!(bounds(k.run(&[st(1, 2), KernelArg::F64(&x)], &mut out)), (0, 5, 5));
    assert_eq!(bounds(k.run(&[st(2, -2), KernelArg::F64(&x)], &mut out)), (0, -2, 5));
    assert_eq!(bounds(k.run(&[KernelArg::F64(&x), st(5, 0)], &mut out)), (1, 5, 5));
    assert_eq!(bounds(k.run(&[KernelArg::F64(&x), st(usize::MAX, 1)], &mut out)).0, 1);
    assert_eq!(bounds(k.run(&[st(0, isize::MAX), KernelArg::F64(&x)], &mut out)).1, 2 * isize::MAX as i128);
    assert_eq!(
        bounds(k.run(&[st(4, isize::MIN), KernelArg::F64(&x)], &mut out)).1,
        4 + 2 * isize::MIN as i128
    );
    assert_eq!(bounds(k.run_range(&[st(3, -2), KernelArg::F64(&x)], &mut out, 1..3)), (0, -1, 5));
    let e = k.run(&[st(1, 2), KernelArg::F64(&x)], &mut out).unwrap_err();
    assert_eq!(e.to_string(), "input 0 of the kernel would read element 5 of its 5 elements");
    assert!(matches!(
        k.run(&[KernelArg::StridedF32 { data: &[1.0], first: 0, stride: 0 }, KernelArg::F64(&x)], &mut out),
        Err(JitError::ArgDType { index: 0, expected: F64, got: F32 })
    ));
    assert_eq!(out, [-7.0; 3], "nothing ran");
    // The edges themselves are inside; a sub-range needs only its own elements.
    k.run_range(&[st(3, -2), KernelArg::F64(&x)], &mut out, 0..2).unwrap();
    assert_eq!(out, [14.0, 22.0, -7.0]);
    k.run(&[st(0, 2), st(4, -2)], &mut out).unwrap();
    assert_eq!(out, [6.0, 6.0, 6.0]);
    k.run(&[st(4, 0), st(2, 1)], &mut out).unwrap();
    assert_eq!(out, [8.0, 9.0, 10.0]);

    // Runs of rows: every input checked over every row.
    let mut rows_out = [std::mem::MaybeUninit::new(-7.0f64); 6];
    let s = KernelArg::ScalarF64(1.0);
    assert!(matches!(
        k.run_rows(&[s, s], &[0, 0], 0, &mut rows_out),
        Err(JitError::Rows { rows: 0, len: 6 })
    ));
    assert!(matches!(
        k.run_rows(&[s, s], &[0, 0], 4, &mut rows_out),
        Err(JitError::Rows { rows: 4, len: 6 })
    ));
    assert!(matches!(
        k.run_rows(&[s, s], &[0], 3, &mut rows_out),
        Err(JitError::ArgCount { expected: 2, got: 1 })
    ));
    assert_eq!(bounds(k.run_rows(&[s, s], &[0, 1], 3, &mut rows_out)), (1, 2, 1));
    assert_eq!(bounds(k.run_rows(&[KernelArg::F64(&x), s], &[1, 0], 3, &mut rows_out)), (0, 3, 3));
    assert_eq!(bounds(k.run_rows(&[st(4, -1), s], &[-3, 0], 2, &mut rows_out)), (0, -1, 5));
    // SAFETY: every element was initialized above.
    assert!(rows_out.iter().all(|v| unsafe { v.assume_init() } == -7.0), "nothing ran");
    k.run_rows(&[st(0, 1), KernelArg::F64(&x)], &[3, 1], 2, &mut rows_out[..4]).unwrap();
    // SAFETY: `run_rows` returned `Ok`: the first four elements are written.
    let got: Vec<f64> = rows_out[..4].iter().map(|v| unsafe { v.assume_init() }).collect();
    assert_eq!(got, [11.0, 22.0, 24.0, 35.0]);
}

// ---------------------------------------------------------------------------------------
// Errors, introspection, lifetime.

#[test]
fn bad_calls_are_errors_not_panics() {
    let k = compile_elementwise(&single(ScalarOp::Add, F64, 2)).unwrap();
    let x = [1.0, 2.0, 3.0];
    let x32 = [1.0f32, 2.0, 3.0];
    let mut out = [0.0f64; 3];
    let mut out32 = [0.0f32; 3];
    let mut out_i = [0i64; 3];
    assert!(matches!(
        k.run(&[KernelArg::F64(&x)], &mut out),
        Err(JitError::ArgCount { expected: 2, got: 1 })
    ));
    assert!(matches!(
        k.run(&[KernelArg::F64(&x), KernelArg::F64(&x), KernelArg::F64(&x)], &mut out),
        Err(JitError::ArgCount { expected: 2, got: 3 })
    ));
    assert!(matches!(
        k.run(&[KernelArg::F64(&x), KernelArg::F32(&x32)], &mut out),
        Err(JitError::ArgDType { index: 1, expected: F64, got: F32 })
    ));
    assert!(matches!(
        k.run(&[KernelArg::ScalarF32(1.0), KernelArg::F64(&x)], &mut out),
        Err(JitError::ArgDType { index: 0, .. })
    ));
    assert!(matches!(
        k.run(&[KernelArg::F64(&x), KernelArg::F64(&x[..2])], &mut out),
        Err(JitError::ArgLength { index: 1, expected: 3, got: 2 })
    ));
    assert!(matches!(
        k.run(&[KernelArg::F64(&x), KernelArg::F64(&x)], &mut out32),
        Err(JitError::OutDType { .. })
    ));
    assert!(matches!(
        k.run(&[KernelArg::F64(&x), KernelArg::F64(&x)], &mut out_i),
        Err(JitError::OutDType { expected: F64, got: DType::I64 })
    ));
    assert!(matches!(
        k.run_range(&[KernelArg::F64(&x), KernelArg::F64(&x)], &mut out, 1..4),
        Err(JitError::Range { begin: 1, end: 4, len: 3 })
    ));
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 2..1;
    assert!(matches!(
        k.run_range(&[KernelArg::F64(&x), KernelArg::F64(&x)], &mut out, backwards),
        Err(JitError::Range { .. })
    ));
    assert_eq!(out, [0.0; 3], "nothing ran");
    // Error messages render.
    let e = k.run(&[KernelArg::F64(&x)], &mut out).unwrap_err();
    assert_eq!(e.to_string(), "the kernel takes 2 inputs, got 1");
}

#[test]
fn unsupported_programs_are_reported() {
    let unsupported = |p: &ScalarProgram| match compile_elementwise(p) {
        Err(JitError::Unsupported { op }) => op,
        other => panic!("{p}: expected Unsupported, got {other:?}"),
    };
    assert_eq!(unsupported(&single(ScalarOp::Lt, F64, 2)), "lt");
    let mut b = Builder::new(&[F64, F64]);
    let c = b.op(ScalarOp::Gt, &[0, 1]);
    let r = b.op(ScalarOp::Switch, &[c, 0, 1]);
    assert_eq!(unsupported(&b.finish(r)), "gt", "the first unsupported op");
    let mut b = Builder::new(&[F64, F64]);
    let r = b.op(ScalarOp::Eq, &[0, 1]);
    let r = b.op(ScalarOp::Cast(F64), &[r]);
    assert_eq!(unsupported(&b.finish(r)), "eq");
    let mut b = Builder::new(&[DType::Bool, F64, F64]);
    let r = b.op(ScalarOp::Switch, &[0, 1, 2]);
    assert_eq!(unsupported(&b.finish(r)), "bool input 0");
    let mut b = Builder::new(&[F64]);
    let r = b.c(DType::I64, 3.0);
    assert_eq!(unsupported(&b.finish(r)), "a int64 result");
    assert_eq!(unsupported(&single(ScalarOp::Add, DType::I64, 2)), "int64 input 0");
    assert_eq!(unsupported(&single(ScalarOp::Exp, DType::I32, 1)), "int32 input 0");
    assert_eq!(unsupported(&single(ScalarOp::Cast(DType::I32), F64, 1)), "cast.int32");
    let mut b = Builder::new(&[DType::Bool]);
    let r = b.op(ScalarOp::Cast(F64), &[0]);
    assert_eq!(unsupported(&b.finish(r)), "bool input 0");
    // A malformed program: the builder refuses it, and the JIT refuses one changed since.
    let mut b = ScalarProgramBuilder::new();
    let x = b.add_input(F64).expect("an input");
    assert_eq!(
        b.clone().apply(ScalarOp::Neg, &[ScalarValue::new(5)]),
        Err(ProgramError::UndefinedArg { node: 0, value: 5 })
    );
    let r = b.apply(ScalarOp::Neg, &[x]).expect("well typed");
    let mut bad = b.finish(&[r]).expect("valid");
    bad.nodes[0] = ScalarNode::Apply {
        op: ScalarOp::Neg,
        args: [ScalarValue::new(5)].into_iter().collect(),
        dtype: F64,
    };
    assert!(matches!(compile_elementwise(&bad), Err(JitError::InvalidProgram(_))));
}

#[test]
fn clif_text_before_and_after_optimization() {
    let mut b = Builder::new(&[F64]);
    let s = b.op(ScalarOp::Sqr, &[0]);
    let one = b.c(F64, 1.0);
    let r = b.op(ScalarOp::Add, &[s, one]);
    let k = compile_elementwise(&b.finish(r)).unwrap();
    let clif = k.clif();
    assert!(clif.starts_with("function"), "{clif}");
    for needle in ["load.f64x2", "fmul", "fadd", "splat.f64x2", "load.f64 ", "store", "return"] {
        assert!(clif.contains(needle), "{needle} in {clif}");
    }
    let opt = k.optimized_clif().unwrap();
    assert!(opt.contains("vconst.f64x2"), "the splatted constant becomes a vconst: {opt}");
    let k = compile_elementwise(&single(ScalarOp::Pow, F32, 2)).unwrap();
    assert!(k.clif().contains("call fn0"), "{}", k.clif());
    assert!(format!("{k:?}").contains("tl_pow_f32"));
}

#[test]
fn kernels_are_shared_across_threads_and_freed() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ElementwiseKernel>();
    let k = Arc::new(compile_elementwise(&single(ScalarOp::Mul, F64, 2)).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let k = Arc::clone(&k);
            std::thread::spawn(move || {
                let x: Vec<f64> = (0..1000).map(|i| (i + t) as f64).collect();
                let mut out = vec![0.0f64; x.len()];
                k.run(&[KernelArg::F64(&x), KernelArg::ScalarF64(2.0)], &mut out).unwrap();
                assert!(out.iter().zip(&x).all(|(o, v)| *o == 2.0 * v));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // Compile and drop many kernels: each frees its code.
    for i in 0..300 {
        let k = compile_elementwise(&twenty_ops(if i % 2 == 0 { F64 } else { F32 })).unwrap();
        drop(k);
    }
}

#[test]
fn many_transcendentals_call_std_instead_of_inlining() {
    // 40 chained `tanh` (over the inline budget of 32): std calls, scalar loop, bit-exact.
    let mut b = Builder::new(&[F64]);
    let mut v = 0;
    for _ in 0..40 {
        v = b.op(ScalarOp::Tanh, &[v]);
    }
    let p = b.finish(v);
    let k = compile_elementwise(&p).unwrap();
    assert_eq!(k.vector_width(), None);
    assert_eq!(k.callees(), ["tl_tanh_f64"]);
    check_lengths(&p, "40 tanh");
}

#[test]
fn multi_output_kernels_write_every_output_in_one_pass() {
    use std::mem::MaybeUninit;
    use tensorlift_jit::KernelOut;
    // Output 0 is float32, output 1 (a value the first is computed from) float64, output 2
    // an input passed through.
    let p = ScalarProgram::parse_text(
        "in float64 float32 | t0 = mul(i0, i0) | t1 = cast.float32(t0) | t2 = add(t1, i1) | return t2, t0, i1",
    )
    .unwrap();
    let k = compile_elementwise(&p).unwrap();
    assert_eq!(k.output_dtypes(), [F32, F64, F32]);
    for n in LENS {
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.37 - 2.0).collect();
        let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.11).collect();
        let mut o0 = vec![MaybeUninit::<f32>::uninit(); n];
        let mut o1 = vec![MaybeUninit::<f64>::uninit(); n];
        let mut o2 = vec![MaybeUninit::<f32>::uninit(); n];
        let args = [KernelArg::F64(&x), KernelArg::F32(&y)];
        let mut outs = [KernelOut::F32(&mut o0), KernelOut::F64(&mut o1), KernelOut::F32(&mut o2)];
        k.run_outputs_uninit(&args, &mut outs).unwrap();
        for i in 0..n {
            // SAFETY: a successful run wrote every element.
            let (a, b, c) = unsafe { (o0[i].assume_init(), o1[i].assume_init(), o2[i].assume_init()) };
            assert_eq!(b, x[i] * x[i]);
            assert_eq!(a, (x[i] * x[i]) as f32 + y[i]);
            assert_eq!(c, y[i]);
        }
    }
    // The single-output API refuses a multi-output kernel; wrong counts, dtypes and lengths
    // are errors, and nothing runs.
    let x = [1.0f64, 2.0];
    let y = [1.0f32, 2.0];
    let args = [KernelArg::F64(&x), KernelArg::F32(&y)];
    let mut single = [0f32; 2];
    assert!(matches!(k.run(&args, &mut single), Err(JitError::OutCount { expected: 3, got: 1 })));
    let (mut a, mut b, mut c) = (
        vec![MaybeUninit::<f32>::uninit(); 2],
        vec![MaybeUninit::<f64>::uninit(); 2],
        vec![MaybeUninit::<f32>::uninit(); 2],
    );
    let mut two = [KernelOut::F32(&mut a), KernelOut::F64(&mut b)];
    assert!(matches!(k.run_outputs_uninit(&args, &mut two), Err(JitError::OutCount { expected: 3, got: 2 })));
    let mut swapped = vec![MaybeUninit::<f64>::uninit(); 2];
    let mut wrong_dtype = [KernelOut::F64(&mut swapped), KernelOut::F64(&mut b), KernelOut::F32(&mut c)];
    assert!(matches!(k.run_outputs_uninit(&args, &mut wrong_dtype), Err(JitError::OutDType { .. })));
    let mut short = vec![MaybeUninit::<f32>::uninit(); 1];
    let mut wrong_len = [KernelOut::F32(&mut a), KernelOut::F64(&mut b), KernelOut::F32(&mut short)];
    assert!(k.run_outputs_uninit(&args, &mut wrong_len).is_err());
}

/// #15: a `float32` program computes in `float32`, rounding at every op as the reference
/// (NumPy, Theano) does: `a*b + c` with `a = b = 1 + 2^-12`, `c = -1` is `2^-11` in `float32`
/// (`a*b = 1 + 2^-11 + 2^-24` rounds to `1 + 2^-11`), not the `2^-11 + 2^-24` of `float64`
/// arithmetic or a fused multiply-add. Checked on the vector loop and the tail, and on a
/// run long enough for the chunk plan (the program also calls `exp`, whose argument and
/// result stay `float32`: `exp(a)·0` adds nothing).
#[test]
fn f32_arithmetic_rounds_at_every_op_like_the_reference() {
    let want = 2f32.powi(-11);
    let (a, c) = (1.0 + 2f32.powi(-12), -1.0f32);
    assert_eq!(a * a + c, want);
    for with_exp in [false, true] {
        let mut b = ScalarProgramBuilder::new();
        let x = b.add_input(F32).unwrap();
        let y = b.add_input(F32).unwrap();
        let z = b.add_input(F32).unwrap();
        let xy = b.apply(ScalarOp::Mul, &[x, y]).unwrap();
        let mut out = b.apply(ScalarOp::Add, &[xy, z]).unwrap();
        if with_exp {
            let e = b.apply(ScalarOp::Exp, &[x]).unwrap();
            let zero = b.add_const(F32, 0.0).unwrap();
            let e0 = b.apply(ScalarOp::Mul, &[e, zero]).unwrap();
            out = b.apply(ScalarOp::Add, &[out, e0]).unwrap();
        }
        let p = b.finish(&[out]).unwrap();
        let k = compile_elementwise(&p).unwrap();
        for n in [1, 3, 1003, 10_003] {
            let ins = [In::F32(vec![a; n]), In::F32(vec![a; n]), In::F32(vec![c; n])];
            let got = run_jit(&k, &ins, n);
            assert_same(F32, &got, &vec![want.to_bits() as u64; n], &ins, "jit, f32 a*b + c");
            assert_same(F32, &run_reference(&p, &ins, n), &got, &ins, "reference, f32 a*b + c");
        }
        assert_eq!(k.is_chunked(), with_exp, "the long run of the exp program went through the chunk plan");
    }
}

/// #15: the `float32` kernel of a function with an `f32` algorithm computes on `f32` lanes:
/// its CLIF has no `f64` vector and promotes nothing to `f64`, except, for `sin` and `cos`,
/// the per-lane call of the `f64` reference for huge arguments (`fpromote` of one lane).
#[test]
fn f32_math_kernels_stay_in_f32() {
    for f in tensorlift_ir::MathFn::ALL {
        if !tensorlift_jit::bulk::f32_width(f) {
            continue;
        }
        let mut b = ScalarProgramBuilder::new();
        let x = b.add_input(F32).unwrap();
        let y = b.apply(f.op(), &[x]).unwrap();
        let k = compile_elementwise(&b.finish(&[y]).unwrap()).unwrap();
        let clif = k.clif();
        for widening in ["f64x2", "fvpromote_low", "fvdemote"] {
            assert!(!clif.contains(widening), "{}: f32 kernel uses {widening}", f.name());
        }
        // One promotion per call of the huge-argument fallback, none elsewhere.
        let (promotes, calls) = (clif.matches("fpromote").count(), clif.matches(" call ").count());
        assert!(promotes <= calls, "{}: {promotes} fpromote for {calls} calls in the f32 kernel", f.name());
    }
    let w9 = [
        tensorlift_ir::MathFn::Sin,
        tensorlift_ir::MathFn::Cos,
        tensorlift_ir::MathFn::Exp,
        tensorlift_ir::MathFn::Tanh,
    ];
    assert!(w9.iter().all(|&f| tensorlift_jit::bulk::f32_width(f)));
}

#[test]
fn eval_f64_is_a_one_element_run() {
    // Every value of a few programs of one to three inputs, against `run` of one element.
    for (op, n) in [(ScalarOp::Exp, 1), (ScalarOp::Mul, 2), (ScalarOp::Pow, 2), (ScalarOp::Tanh, 1)] {
        let k = compile_elementwise(&single(op, F64, n)).unwrap();
        let mut rng = Rng(7);
        for _ in 0..200 {
            let args: Vec<f64> = (0..n).map(|_| rng.value()).collect();
            let ins: Vec<KernelArg<'_>> = args.iter().map(|&v| KernelArg::ScalarF64(v)).collect();
            let mut want = [0f64];
            k.run(&ins, &mut want).unwrap();
            let got = k.eval_f64(&args).expect("a float64 kernel");
            assert!(
                got.to_bits() == want[0].to_bits() || (got.is_nan() && want[0].is_nan()),
                "{op:?}{args:?}"
            );
        }
        // Another number of arguments is refused, not run.
        assert_eq!(k.eval_f64(&vec![1.0; n + 1]), None);
    }
    // So is a kernel of other dtypes.
    let k32 = compile_elementwise(&single(ScalarOp::Exp, F32, 1)).unwrap();
    assert_eq!(k32.eval_f64(&[1.0]), None);
}
