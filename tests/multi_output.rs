//! Multi-output composites: a fused value also read elsewhere becomes an extra output of its
//! reader's kernel (`CompositeOutput`), computed once, in the same pass. The native kernel
//! writes every output; results agree with the interpreter in every layout the executor
//! runs natively (contiguous, single values, split over threads), in mixed dtypes and
//! through `call_into`; Debug mode checks every output.

use tensorlift as tl;
use tl::{Error, Mode, Op, ScalarProgram, Tensor, Var};

fn compile(inputs: &[&Var], outputs: &[Var], mode: Mode) -> tl::Function {
    tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles")
}

/// The multi-output composite nodes of `f`'s optimized graph, with their output counts.
fn multi_output_nodes(f: &tl::Function) -> Vec<(tl::NodeId, usize)> {
    let g = f.optimized_graph();
    g.toposort()
        .into_iter()
        .filter_map(|id| match &g.node(id).op {
            Op::Composite(p) if p.n_outputs() > 1 => Some((id, p.n_outputs())),
            _ => None,
        })
        .collect()
}

fn ramp(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|i| lo + (hi - lo) * i as f64 / (n.max(2) - 1) as f64).collect()
}

fn assert_close(a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!((a.dtype(), a.shape()), (b.dtype(), b.shape()));
    for (x, y) in a.to_f64_vec().into_iter().zip(b.to_f64_vec()) {
        assert!(
            x.to_bits() == y.to_bits()
                || (x.is_nan() && y.is_nan())
                || (x - y).abs() <= tol * (1.0 + y.abs()),
            "{x} vs {y}"
        );
    }
}

/// `e = exp(x)` read by two kernels and returned, `h = tanh(y)` returned and summed: the
/// graph of a training step's forward pass in miniature.
fn shared_values() -> (Var, Var, Vec<Var>) {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let e = tl::exp(&x);
    let h = tl::tanh(&y);
    let a = tl::sin(&e) * &y;
    let b = tl::cos(&e) + &h;
    let outputs = vec![a, b, e, h.sum(), 1.0 - h.sqr()];
    (x, y, outputs)
}

#[test]
fn shared_values_become_extra_outputs_of_one_kernel() {
    let (x, y, outs) = shared_values();
    let jit = compile(&[&x, &y], &outs, Mode::Jit);
    let multi = multi_output_nodes(&jit);
    assert!(!multi.is_empty(), "{}", jit.debugprint());
    assert!(jit.debugprint().contains("output{"), "{}", jit.debugprint());
    let interp = compile(&[&x, &y], &outs, Mode::Interp);
    // Below and above the size at which kernels are split over the threads.
    for n in [5, 1000, 100_000] {
        let args = tl::args![ramp(n, -3.0, 2.0), ramp(n, 1.5, -4.0)];
        let a = jit.call(&args).expect("jit runs");
        let b = interp.call(&args).expect("interp runs");
        for (p, q) in a.iter().zip(&b) {
            assert_close(p, q, 1e-14);
        }
        // One thread gives the same values, bit for bit.
        let threads = tl::num_threads();
        tl::set_num_threads(1);
        let one = jit.call(&args).expect("runs");
        tl::set_num_threads(threads);
        for (p, q) in a.iter().zip(&one) {
            assert_eq!(p.to_f64_vec(), q.to_f64_vec());
        }
    }
}

#[test]
fn extra_outputs_keep_their_dtypes() {
    let x = tl::fvector("x");
    let y = tl::dvector("y");
    let e = tl::exp(&x);
    let z = tl::sin(tl::cast(&e, tl::DType::F64) * &y);
    let jit = compile(&[&x, &y], &[e.clone(), z.clone()], Mode::Jit);
    assert_eq!(multi_output_nodes(&jit).len(), 1, "{}", jit.debugprint());
    let interp = compile(&[&x, &y], &[e, z], Mode::Interp);
    let xs: Vec<f32> = (0..40_000).map(|i| (i as f32 * 1e-4).sin() * 3.0).collect();
    let args = tl::args![xs, ramp(40_000, -1.0, 1.0)];
    let a = jit.call(&args).unwrap();
    let b = interp.call(&args).unwrap();
    assert_eq!(a[0].dtype(), tl::DType::F32);
    // exp is computed in float32 (within 1 ulp of glibc's expf, not bit-identical), and
    // the float64 result inherits that float32-sized difference.
    assert_close(&a[0], &b[0], 1e-6);
    assert_close(&a[1], &b[1], 1e-6);
}

#[test]
fn call_into_and_scalars_broadcast_into_a_multi_output_kernel() {
    let x = tl::dmatrix("x");
    let s = tl::dscalar("s");
    let t = &x * &s + 1.0;
    let outs = vec![t.clone(), tl::log(&t) * 2.0];
    let jit = compile(&[&x, &s], &outs, Mode::Jit);
    assert_eq!(multi_output_nodes(&jit).len(), 1, "{}", jit.debugprint());
    let interp = compile(&[&x, &s], &outs, Mode::Interp);
    let m: Vec<Vec<f64>> = (0..300).map(|i| ramp(200, 0.1, 1.0 + i as f64)).collect();
    let args = tl::args![m, 0.5];
    let want = interp.call(&args).unwrap();
    let mut into =
        vec![Tensor::zeros(tl::DType::F64, &[300, 200]), Tensor::zeros(tl::DType::F64, &[300, 200])];
    jit.call_into(&args, &mut into).expect("runs");
    for (p, q) in into.iter().zip(&want) {
        assert_close(p, q, 1e-14);
    }
}

#[test]
fn debug_mode_checks_every_output_of_a_multi_output_kernel() {
    let x = tl::dvector("x");
    let e = tl::exp(&x * 2.0);
    let outs = vec![e.clone(), tl::sin(&e) + 1.0];
    let mut f = compile(&[&x], &outs, Mode::Debug);
    let args = tl::args![ramp(100, -1.0, 1.0)];
    f.call(&args).expect("correct kernels agree");
    let [(node, 2)] = multi_output_nodes(&f)[..] else { panic!("{}", f.debugprint()) };
    let Op::Composite(p) = &f.optimized_graph().node(node).op else { unreachable!() };
    // Plant an error in the extra output only: exp(2x) becomes exp(2.001x).
    let text = p.to_text();
    assert!(text.contains("2.0"), "{text}");
    let wrong = ScalarProgram::parse_text(&text.replacen("2.0", "2.001", 1)).expect("parses");
    f.replace_native_kernel(node, &wrong).expect("compiles");
    match f.call(&args) {
        Err(Error::DebugMismatch { node, .. }) => assert!(node.contains("Composite"), "{node}"),
        other => panic!("the mismatch is not caught: {other:?}"),
    }
}
