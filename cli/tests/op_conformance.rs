//! The op conformance test: every scalar op of the op table (`ScalarOp::ALL` and the casts)
//! and every op kind (`OpKind::ALL`), checked on every path it declares.
//!
//! For each scalar op and each float dtype it computes in:
//! - the reference kernel, on a grid of special and seeded random values;
//! - the JIT's inline code (a short vector) and, for ops with a vector-math routine, the
//!   chunked bulk path (a vector longer than the chunking threshold): both within the op's
//!   ulp bound (`ScalarOp::ulp_bound`) of the reference, NaN where it is NaN;
//! - a native kernel exists when the op table says the op lowers natively;
//! - the gradient: `verify_grad` for differentiable ops, zeros for the others;
//! - the text IR round trip, `pp`, and the CLI spelling (the CLI builds the same graph).
//!
//! For each op kind: its declared CLI spellings are CLI functions, a sample graph of it
//! round-trips through the text IR, `pp` prints it, and differentiable kinds pass
//! `verify_grad`. A failure names the op and the path.
//!
//! It lives in the CLI's tests because the CLI is the one crate that sees every layer.

use tensorlift as tl;
use tensorlift_cli::build::{build, is_function, Scope};
use tl::{DType, Function, FunctionGraph, GradKind, Lowering, Mode, Op, OpKind, ScalarOp, Tensor, Var};

/// Elements of the long vectors: above the JIT's chunking threshold (4 096).
const LONG: usize = 5_000;

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Special values, then seeded random ones over small, unit, large and tiny magnitudes;
/// `n` values in all. `shift` makes the inputs of one op differ from each other.
fn grid(n: usize, shift: u64) -> Vec<f64> {
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        0.1,
        -0.7,
        3.0,
        10.0,
        -10.0,
        30.0,
        -30.0,
        100.0,
        700.0,
        -745.0,
        1e-300,
        -1e-300,
        5e-324,
        1e300,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-8,
        -1e-8,
        0.999,
        1.001,
        1e6,
        -1e6,
    ];
    let mut rng = Rng(0x5eed ^ shift);
    let mut v: Vec<f64> =
        special.iter().cycle().skip(shift as usize % special.len()).take(special.len()).copied().collect();
    while v.len() < n {
        let x = match v.len() % 4 {
            0 => rng.uniform(-1.0, 1.0),
            1 => rng.uniform(-10.0, 10.0),
            2 => rng.uniform(-1.0, 1.0) * 10f64.powf(rng.uniform(-30.0, 30.0)),
            _ => rng.uniform(0.0, 3.0),
        };
        v.push(x);
    }
    v.truncate(n);
    v
}

/// Total order on floats where adjacent values differ by 1 (±0 are one point).
fn ordered(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    if b < 0 {
        i64::MIN - b
    } else {
        b
    }
}

fn ordered32(x: f32) -> i64 {
    let b = x.to_bits() as i32 as i64;
    if b < 0 {
        i32::MIN as i64 - b
    } else {
        b
    }
}

/// The largest ulp distance between two results (NaN matches NaN only), and where.
fn max_ulp(got: &Tensor, want: &Tensor) -> (u64, usize) {
    let (g, w) = (got.to_f64_array(), want.to_f64_array());
    assert_eq!(g.shape(), w.shape(), "shapes");
    let f32 = want.dtype() == DType::F32;
    let mut worst = (0u64, 0usize);
    for (k, (a, b)) in g.iter().zip(w.iter()).enumerate() {
        let d = if a.is_nan() || b.is_nan() {
            if a.is_nan() && b.is_nan() {
                0
            } else {
                u64::MAX
            }
        } else if f32 {
            ordered32(*a as f32).abs_diff(ordered32(*b as f32))
        } else {
            ordered(*a).abs_diff(ordered(*b))
        };
        if d > worst.0 {
            worst = (d, k);
        }
    }
    worst
}

/// The dtype of each input of `op` when it computes in `dtype`.
fn input_dtypes(op: ScalarOp, dtype: DType) -> Vec<DType> {
    let n = op.arity().unwrap_or(3);
    match op {
        ScalarOp::Switch => vec![DType::Bool, dtype, dtype],
        _ => vec![dtype; n],
    }
}

/// The compute dtypes an op is checked in: floats for float ops, integers and bools for
/// logic, and every dtype for casts.
fn dtypes_of(op: ScalarOp) -> Vec<DType> {
    match op.dtype_rule() {
        tl::DTypeRule::Logical => vec![DType::I64, DType::Bool],
        _ => vec![DType::F64, DType::F32],
    }
}

fn values(dtype: DType, n: usize, shift: u64) -> Tensor {
    let g = grid(n, shift);
    Tensor::from(ndarray::Array1::from(g).into_dyn()).cast(dtype)
}

/// Inputs of `op` over `n` elements.
fn inputs(op: ScalarOp, dtype: DType, n: usize) -> (Vec<Var>, Vec<Tensor>) {
    let dts = input_dtypes(op, dtype);
    let vars = dts.iter().enumerate().map(|(k, &d)| tl::tensor(&format!("x{k}"), d, &[None])).collect();
    let vals = dts.iter().enumerate().map(|(k, &d)| values(d, n, 7 * k as u64 + 1)).collect();
    (vars, vals)
}

fn apply(op: ScalarOp, xs: &[Var]) -> Var {
    tl::elemwise(op, xs.iter().map(|x| tl::Term::Var(x.clone())).collect())
}

/// The reference kernel of `op` on `vals`.
fn reference(op: ScalarOp, xs: &[Var], vals: &[Tensor], out: &Var) -> Tensor {
    let tys: Vec<tl::TensorType> =
        vals.iter().map(|v| tl::TensorType::unknown(v.dtype(), v.ndim())).collect();
    let kin: Vec<tl::kernels::KernelInput<'_>> = vals
        .iter()
        .zip(&tys)
        .zip(xs)
        .map(|((value, ty), _)| tl::kernels::KernelInput { value, ty, name: "x" })
        .collect();
    tl::kernels::eval(&Op::Elemwise(op), &kin, &out.ty().clone())
        .unwrap_or_else(|e| panic!("{}: the reference kernel fails: {e}", op.name()))
}

/// Every op to check: the table's, and a cast to each dtype.
fn scalar_ops() -> Vec<ScalarOp> {
    let mut ops = ScalarOp::ALL.to_vec();
    ops.extend([DType::F64, DType::F32, DType::I64, DType::I32, DType::Bool].map(ScalarOp::Cast));
    ops
}

/// One op in one dtype through the JIT, compared with the reference.
fn check_native(op: ScalarOp, dtype: DType, n: usize, failures: &mut Vec<String>) {
    let (xs, vals) = inputs(op, dtype, n);
    let out = apply(op, &xs);
    if let Err(e) = out.check() {
        failures.push(format!("{} in {dtype}: does not build: {e}", op.name()));
        return;
    }
    let want = reference(op, &xs, &vals, &out);
    let f = match Function::builder(&xs, &[&out]).mode(Mode::Jit).build() {
        Ok(f) => f,
        Err(e) => {
            failures.push(format!("{} in {dtype}: does not compile: {e}", op.name()));
            return;
        }
    };
    // Ops the optimizer removes (an identity cast, a `fill` of equal shapes) have no node
    // left to run natively.
    let kept = f.optimized_graph().ids().any(|id| {
        matches!(&f.optimized_graph().node(id).op, Op::Elemwise(o) if *o == op)
            || f.optimized_graph().node(id).op.kind() == OpKind::Composite
    });
    let native =
        kept && op.lowering() != Lowering::Reference && out.ty().dtype.is_float() && dtype.is_float();
    if native && f.native_kernel_count() == 0 {
        failures.push(format!(
            "{} in {dtype}: declared native ({:?}) but has no native kernel",
            op.name(),
            op.lowering()
        ));
    }
    let args: Vec<tl::Arg> = vals.iter().cloned().map(tl::Arg::from).collect();
    let got = match f.call(&args) {
        Ok(mut o) => o.remove(0),
        Err(e) => {
            failures.push(format!("{} in {dtype}, {n} elements: the call fails: {e}", op.name()));
            return;
        }
    };
    if native && f.native_runs().contiguous == 0 {
        failures.push(format!("{} in {dtype}: the native kernel did not run", op.name()));
    }
    if got.dtype() != want.dtype() {
        failures.push(format!(
            "{} in {dtype}: dtype {} against the reference's {}",
            op.name(),
            got.dtype(),
            want.dtype()
        ));
        return;
    }
    let (bound64, bound32) = op.ulp_bound();
    let bound = if want.dtype() == DType::F32 { bound32 } else { bound64 };
    let (ulp, at) = max_ulp(&got, &want);
    if ulp > bound {
        let x: Vec<f64> =
            vals.iter().map(|v| v.to_f64_array().iter().nth(at).copied().unwrap_or(f64::NAN)).collect();
        failures.push(format!(
            "{} in {dtype}, {n} elements: {ulp} ulp from the reference (bound {bound}) at {x:?}: {} against {}",
            op.name(),
            got.to_f64_array().iter().nth(at).copied().unwrap_or(f64::NAN),
            want.to_f64_array().iter().nth(at).copied().unwrap_or(f64::NAN)
        ));
    }
}

#[test]
fn every_scalar_op_agrees_with_its_reference_inline_and_in_bulk() {
    let mut failures = Vec::new();
    for op in scalar_ops() {
        for dtype in dtypes_of(op) {
            check_native(op, dtype, 300, &mut failures);
            if matches!(op.lowering(), Lowering::Math(_)) {
                check_native(op, dtype, LONG, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Points inside an op's domain: every candidate where the reference is finite around it.
fn grad_points(op: ScalarOp) -> Vec<f64> {
    let candidates = [0.31, 0.47, 0.62, 0.78, 1.37, 1.64, 2.21, 0.55, 0.9];
    match op.unary_f64() {
        Some(f) => candidates
            .into_iter()
            .filter(|&x| [x - 0.01, x, x + 0.01].iter().all(|&y| f(y).is_finite()))
            .collect(),
        None => candidates.to_vec(),
    }
}

#[test]
fn every_scalar_op_differentiates_as_declared() {
    let mut failures = Vec::new();
    for op in scalar_ops() {
        let n = op.arity().unwrap_or(3);
        let pts = grad_points(op);
        match op.grad_kind() {
            GradKind::Differentiable => {
                // Distinct values per input: no ties at the kinks of maximum, minimum, clip.
                let points: Vec<Tensor> = (0..n)
                    .map(|k| {
                        let v: Vec<f64> = pts.iter().map(|p| p + 0.013 * k as f64).collect();
                        Tensor::from(ndarray::Array1::from(v).into_dyn())
                    })
                    .collect();
                let cond = tl::constant(Tensor::from(
                    ndarray::Array1::from_iter((0..pts.len()).map(|i| i % 2 == 0)).into_dyn(),
                ));
                let points_used = if op == ScalarOp::Switch { points[1..].to_vec() } else { points };
                let r = tl::verify_grad(
                    |v| {
                        let mut args: Vec<Var> = v.to_vec();
                        if op == ScalarOp::Switch {
                            args.insert(0, cond.clone());
                        }
                        tl::sum(apply(op, &args))
                    },
                    &points_used,
                    // Differences of a float32 result need a wider step and tolerance.
                    if op == ScalarOp::Cast(DType::F32) {
                        tl::VerifyGradOptions { eps: 1e-3, rel_tol: 1e-3, ..Default::default() }
                    } else {
                        tl::VerifyGradOptions::default()
                    },
                );
                if let Err(e) = r {
                    failures.push(format!("{}: verify_grad fails: {e}", op.name()));
                }
            }
            GradKind::Zero => {
                let dts = input_dtypes(
                    op,
                    if op.dtype_rule() == tl::DTypeRule::Logical { DType::I64 } else { DType::F64 },
                );
                let xs: Vec<Var> =
                    dts.iter().enumerate().map(|(k, &d)| tl::tensor(&format!("x{k}"), d, &[None])).collect();
                let Some(k) = dts.iter().position(|d| d.is_float()) else { continue };
                let cost = tl::sum(tl::cast(apply(op, &xs), DType::F64));
                match tl::grad(&cost, &xs[k]) {
                    Ok(g) => {
                        let f = Function::builder(&xs, &[&g])
                            .on_unused_input(tl::OnUnusedInput::Ignore)
                            .build()
                            .expect("the gradient compiles");
                        let vals: Vec<tl::Arg> = dts
                            .iter()
                            .enumerate()
                            .map(|(j, &d)| tl::Arg::from(values(d, 16, j as u64)))
                            .collect();
                        let gv = f.call(&vals).expect("the gradient runs").remove(0).to_f64_array();
                        if gv.iter().any(|&x| x != 0.0) {
                            failures.push(format!("{}: declared zero gradient, got {gv}", op.name()));
                        }
                    }
                    Err(e) => {
                        failures.push(format!("{}: declared zero gradient, grad fails: {e}", op.name()))
                    }
                }
            }
            other => failures.push(format!("{}: a scalar op declares {other:?}", op.name())),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// The text IR of a graph, printed, parsed and printed again: the same text.
fn text_round_trip(xs: &[Var], out: &Var) -> Result<(), String> {
    let g = FunctionGraph::from_vars(xs, &[out]).map_err(|e| e.to_string())?;
    let t = g.to_string();
    let back = FunctionGraph::parse(&t).map_err(|e| format!("{e}\n{t}"))?;
    if back.to_string() != t {
        return Err(format!("prints differently after parsing:\n{t}\n{back}"));
    }
    Ok(())
}

#[test]
fn every_scalar_op_has_text_pp_and_cli_spellings() {
    let mut failures = Vec::new();
    for op in scalar_ops() {
        let dtype = dtypes_of(op)[0];
        let (xs, _) = inputs(op, dtype, 4);
        let out = apply(op, &xs);
        if let Err(e) = text_round_trip(&xs, &out) {
            failures.push(format!("{}: text IR: {e}", op.name()));
        }
        let pp = tl::pp(&out);
        let names: Vec<String> = (0..xs.len()).map(|k| format!("x{k}")).collect();
        if pp != op.pp(&names) {
            failures.push(format!(
                "{}: pp prints `{pp}`, its declared form is `{}`",
                op.name(),
                op.pp(&names)
            ));
        }
        if let ScalarOp::Cast(_) = op {
            continue;
        }
        if !is_function(op.name()) {
            failures.push(format!("{}: not a CLI function", op.name()));
            continue;
        }
        let mut scope = Scope::new();
        for (k, x) in xs.iter().enumerate() {
            scope.declare(&format!("x{k}"), x.clone());
        }
        let args: Vec<String> = (0..xs.len()).map(|k| format!("x{k}")).collect();
        match build(&format!("{}({})", op.name(), args.join(", ")), &scope) {
            Ok(b) if tl::pp(&b.var) == pp => {}
            Ok(b) => {
                failures.push(format!("{}: the CLI builds `{}`, Rust `{pp}`", op.name(), tl::pp(&b.var)))
            }
            Err(e) => failures.push(format!("{}: the CLI fails: {}", op.name(), e.message)),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A sample graph of each op kind (inputs, output); `None` for kinds only the optimizer
/// makes, which are checked on an optimized graph instead.
fn sample(kind: OpKind) -> Option<(Vec<Var>, Var)> {
    let m = tl::dmatrix("m");
    let v = tl::dvector("v");
    let one = |x: &Var, out: Var| Some((vec![x.clone()], out));
    let (x4, w4) = (tl::dtensor4("x4"), tl::dtensor4("w4"));
    let conv = tl::ConvParams { border: tl::BorderMode::Half, ..tl::ConvParams::default() };
    let conv_cost_grad =
        |wrt: &Var| tl::grad(&tl::sum(tl::sqr(tl::conv2d(&x4, &w4, &conv))), wrt).expect("grad");
    let pool = tl::PoolParams { ignore_border: false, ..tl::PoolParams::new([2, 2]) };
    match kind {
        OpKind::Input => one(&m, m.clone()),
        OpKind::Constant => Some((vec![m.clone()], &m + 2.5)),
        OpKind::Shared => {
            let s = tl::shared(Tensor::from(ndarray::arr1(&[1.0, 2.0]).into_dyn()), "s");
            Some((vec![v.clone()], &v * &s))
        }
        OpKind::Elemwise => one(&m, tl::exp(&m)),
        OpKind::Reduce => one(&m, m.sum_opts(1, false)),
        OpKind::ArgReduce => one(&m, m.argmax_opts(1, false)),
        OpKind::Softmax => one(&m, tl::softmax(&m, -1)),
        OpKind::LogSoftmax => one(&m, tl::log_softmax(&m, -1)),
        OpKind::LogSumExp => one(&m, tl::logsumexp(&m, 1, false)),
        OpKind::Dot => Some((vec![m.clone(), v.clone()], tl::dot(&m, &v))),
        OpKind::BatchedDot => {
            let (a, b) = (tl::dtensor3("a"), tl::dtensor3("b"));
            Some((vec![a.clone(), b.clone()], tl::batched_dot(&a, &b)))
        }
        OpKind::DimShuffle => one(&m, m.t()),
        OpKind::Reshape => one(&m, m.flatten(1)),
        OpKind::Concatenate => one(&m, tl::concatenate(&[m.clone(), m.clone()], 0)),
        OpKind::Subtensor => one(&m, m.get(tl::idx![1])),
        OpKind::IncSubtensor => one(&m, tl::inc_subtensor(&m, tl::idx![0], 1.5)),
        OpKind::AdvancedSubtensor => one(&m, m.get(tl::idx![.., vec![1i64, 0, 1]])),
        OpKind::AdvancedIncSubtensor => {
            Some((vec![m.clone(), v.clone()], tl::inc_subtensor(&m, tl::idx![vec![0i64, 0]], &v)))
        }
        OpKind::SplitPart => {
            let w = tl::dvector("w");
            let c = tl::concatenate(&[v.clone(), w.clone()], 0);
            let g = tl::grad(&tl::sum(tl::sqr(&c)), &v).expect("grad");
            Some((vec![v, w], g))
        }
        OpKind::Shape => one(&m, tl::shape(&m)),
        OpKind::ShapeI => one(&m, tl::shape_i(&m, -1)),
        OpKind::Alloc => one(&v, tl::alloc(&v, &[3.into(), tl::shape_i(&v, 0).into()])),
        OpKind::ARange => one(&v, tl::arange((1, v.shape_i(0), 2))),
        OpKind::GradBarrier => one(&m, tl::zero_grad(tl::exp(&m)) * &m),
        OpKind::Conv2d => Some((vec![x4.clone(), w4.clone()], tl::conv2d(&x4, &w4, &conv))),
        // The gradients of a convolution, as `grad` builds them (lengths read by `shape_i`).
        OpKind::Conv2dGradInputs => Some((vec![x4.clone(), w4.clone()], conv_cost_grad(&x4))),
        OpKind::Conv2dGradWeights => Some((vec![x4.clone(), w4.clone()], conv_cost_grad(&w4))),
        OpKind::Pool => one(&m, tl::pool_2d(&m, &tl::PoolParams::new([2, 2]))),
        OpKind::MaxPoolGrad => {
            one(&m, tl::grad(&tl::sum(tl::sqr(tl::pool_2d(&m, &pool))), &m).expect("grad"))
        }
        OpKind::AveragePoolGrad => {
            let avg = tl::PoolParams { mode: tl::PoolMode::AverageExcPad, ..pool };
            one(&m, tl::grad(&tl::sum(tl::sqr(tl::pool_2d(&m, &avg))), &m).expect("grad"))
        }
        OpKind::MaxPoolGradGrad => {
            let ins = vec![m.clone(), tl::pool_2d(&m, &pool), tl::exp(&m)];
            one(&m, tl::apply(Op::MaxPoolGradGrad(pool), ins))
        }
        OpKind::Rebroadcast => {
            let r = tl::drow("r");
            one(&r, tl::addbroadcast(tl::unbroadcast(&r, &[0]) * 2.0, &[0]))
        }
        OpKind::IfElse => {
            Some((vec![m.clone(), v.clone()], tl::ifelse(tl::lt(tl::sum(&v), 0.0), tl::exp(&m), &m * 2.0)))
        }
        OpKind::Cumulative => one(&m, tl::cumprod(&m, Some(1))),
        OpKind::Sort => one(&m, tl::sort(&m, Some(-1))),
        OpKind::ArgSort => one(&m, tl::argsort(&m, Some(0))),
        OpKind::Repeat => one(&m, tl::repeat(&m, 2, Some(1))),
        OpKind::Eye => one(&m, tl::identity_like(&m)),
        // A normal draw whose mean is `v`: disconnected from it.
        OpKind::Random => one(&v, tl::RandomStreams::new(0).normal(tl::shape(&v), &v, 1.0)),
        // A running product over the rows: a fed-back output and a mapped one.
        OpKind::Scan | OpKind::ScanOutput => {
            let r = tl::Scan::new()
                .sequences([&m])
                .outputs_info([
                    tl::OutputInfo::from(tl::ones_like(m.get(tl::idx![0]))),
                    tl::OutputInfo::Mapped,
                ])
                .build(|p| tl::Step::new(&[&p[1] * tl::tanh(&p[0]), tl::exp(&p[0])]))
                .expect("scan");
            one(&m, tl::concatenate(&[r.outputs[0].clone(), r.outputs[1].clone()], 0))
        }
        OpKind::Gemm | OpKind::Composite | OpKind::CompositeOutput | OpKind::FusedReduce => None,
    }
}

fn kinds_in(g: &FunctionGraph) -> Vec<OpKind> {
    g.ids().map(|id| g.node(id).op.kind()).collect()
}

#[test]
fn every_op_kind_is_spelled_differentiated_and_round_trips() {
    let mut failures = Vec::new();
    let mut seen_optimized = Vec::new();
    // Graphs the optimizer turns into gemm, composites (one with two outputs) and fused
    // reductions.
    let (a, b, z) = (tl::dmatrix("a"), tl::dmatrix("b"), tl::dmatrix("z"));
    let x = tl::dvector("x");
    let e = tl::exp(&x) * 2.0 + 1.0;
    let optimized = [
        (vec![a.clone(), b.clone(), z.clone()], vec![&z * 0.5 + tl::dot(&a, &b)]),
        (vec![x.clone()], vec![e.clone(), tl::sin(&e) + &x, tl::sum(tl::tanh(&x) * 3.0)]),
    ];
    for (ins, outs) in &optimized {
        let f = Function::builder(ins, outs).build().expect("compiles");
        let g = f.optimized_graph();
        seen_optimized.extend(kinds_in(g));
        if let Err(e) = FunctionGraph::parse(&g.to_string()).map(|p| p.to_string() == g.to_string()) {
            failures.push(format!("optimized graph: text IR: {e}"));
        }
    }
    for kind in OpKind::ALL {
        let info = kind.info();
        for name in info.cli {
            if !is_function(name) {
                failures
                    .push(format!("{kind:?}: `{name}` is declared a CLI spelling but is not a CLI function"));
            }
        }
        let Some((xs, out)) = sample(kind) else {
            if info.grad != GradKind::Optimized {
                failures.push(format!("{kind:?}: no sample, yet not made by the optimizer"));
            }
            if !seen_optimized.contains(&kind) {
                failures.push(format!("{kind:?}: the optimizer made no such node in the sample programs"));
            }
            continue;
        };
        if let Err(e) = out.check() {
            failures.push(format!("{kind:?}: the sample does not build: {e}"));
            continue;
        }
        let g = FunctionGraph::from_vars(&xs, &[&out]).expect("graph");
        if !kinds_in(&g).contains(&kind) {
            failures.push(format!("{kind:?}: the sample has no such node"));
        }
        if let Err(e) = text_round_trip(&xs, &out) {
            failures.push(format!("{kind:?}: text IR: {e}"));
        }
        if tl::pp(&out).is_empty() {
            failures.push(format!("{kind:?}: pp prints nothing"));
        }
        if info.outputs != 1 {
            failures.push(format!("{kind:?}: declares {} outputs; the sample checks one", info.outputs));
        }
        if info.grad == GradKind::Differentiable {
            let points: Vec<Tensor> = xs
                .iter()
                .enumerate()
                .map(|(k, x)| {
                    let shape: Vec<usize> =
                        (0..x.ty().ndim()).map(|a| x.ty().shape[a].unwrap_or(2 + a + k)).collect();
                    let n: usize = shape.iter().product();
                    let v: Vec<f64> = (0..n).map(|i| 0.3 + 0.17 * i as f64 + 0.05 * k as f64).collect();
                    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
                })
                .collect();
            let points = match kind {
                // dot(m, v): the lengths must agree.
                OpKind::Dot => {
                    vec![points[0].clone(), Tensor::from(ndarray::arr1(&[0.4, 0.9, 1.3]).into_dyn())]
                }
                // batched_dot(a, b): the batch and the summed lengths must agree.
                OpKind::BatchedDot => {
                    let t = |shape: &[usize], k: f64| {
                        let n: usize = shape.iter().product();
                        let v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.29 + k).cos()).collect();
                        Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
                    };
                    vec![t(&[2, 3, 4], 0.2), t(&[2, 4, 3], 0.5)]
                }
                // conv2d(x, w): the channels must agree; values spread so no product cancels.
                OpKind::Conv2d | OpKind::Conv2dGradInputs | OpKind::Conv2dGradWeights => {
                    let t = |shape: &[usize], k: f64| {
                        let n: usize = shape.iter().product();
                        let v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37 + k).sin()).collect();
                        Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
                    };
                    vec![t(&[2, 3, 5, 4], 0.1), t(&[2, 3, 3, 2], 0.7)]
                }
                _ => points,
            };
            let r = tl::verify_grad(
                |v| {
                    let pairs: Vec<(Var, Var)> = xs.iter().cloned().zip(v.iter().cloned()).collect();
                    let replaced =
                        tl::clone_replace(std::slice::from_ref(&out), &pairs).expect("clone_replace");
                    tl::sum(tl::sqr(&replaced[0]))
                },
                &points,
                tl::VerifyGradOptions::default(),
            );
            if let Err(e) = r {
                failures.push(format!("{kind:?}: verify_grad fails: {e}"));
            }
            // The optimizer's shape of the result (`shape(out)` folds to it) is the computed one.
            let args: Vec<tl::Arg> = points.iter().cloned().map(tl::Arg::from).collect();
            let shape_of = tl::function(&xs, &[out.clone(), tl::shape(&out)]).and_then(|f| f.call(&args));
            match shape_of {
                Ok(r) => {
                    let computed: Vec<i64> = r[0].shape().iter().map(|&n| n as i64).collect();
                    if r[1].to_vec::<i64>().ok() != Some(computed.clone()) {
                        failures.push(format!("{kind:?}: shape inferred {:?}, computed {computed:?}", r[1]));
                    }
                }
                Err(e) => failures.push(format!("{kind:?}: shape check fails: {e}")),
            }
        }
        if info.grad == GradKind::Disconnected {
            let cost = tl::sum(tl::cast(&out, tl::DType::F64));
            match tl::grad(&cost, &xs[0]) {
                Err(tl::GradError::Disconnected { .. }) => {}
                other => failures.push(format!("{kind:?}: declared disconnected, grad gives {other:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
