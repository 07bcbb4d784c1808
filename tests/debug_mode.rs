//! `Mode::Debug`: native kernels run and are checked against the reference kernels; a
//! planted wrong kernel is caught with the node, the element and both values.

use tensorlift as tl;
use tl::{Error, Mode, Op, ScalarProgram};

fn debug_fn(x: &tl::Var, y: &tl::Var) -> tl::Function {
    tl::Function::builder(&[x], &[y]).mode(Mode::Debug).build().expect("compiles")
}

#[test]
fn debug_mode_agrees_with_the_reference_on_correct_kernels() {
    let x = tl::dvector("x");
    let f = debug_fn(&x, &((&x * 2.0 + 1.0).exp() * &x).sum());
    assert!(f.native_kernel_count() >= 1, "{}", f.debugprint());
    let out = f.call1(vec![0.5, -1.0, 2.0, 3.0, -0.25]).expect("no mismatch");
    let want: f64 = [0.5f64, -1.0, 2.0, 3.0, -0.25].iter().map(|&v| (v * 2.0 + 1.0).exp() * v).sum();
    assert!((out.scalar::<f64>().unwrap() - want).abs() <= 1e-12 * want.abs());
    let xf = tl::fmatrix("x");
    let g = debug_fn(&xf, &tl::sigmoid(&(&xf * 3.0 - 1.0)));
    g.call1(vec![vec![0.1f32, 0.2, 0.3], vec![-4.0, 5.0, 60.0]]).expect("no mismatch");
}

#[test]
fn debug_mode_catches_a_planted_wrong_kernel() {
    let x = tl::dvector("x");
    let mut f = debug_fn(&x, &(&x * 2.0 + 1.0).exp());
    let node = f.outputs()[0];
    let Op::Composite(program) = &f.optimized_graph().node(node).op else {
        panic!("expected one fused kernel:\n{}", f.debugprint());
    };
    // The same program with one constant off by a little: exp(2x + 1) becomes exp(2x + 1.001).
    let text = program.to_text();
    assert!(text.contains("1.0"), "{text}");
    let wrong = ScalarProgram::parse_text(&text.replacen("1.0", "1.001", 1)).expect("parses");
    f.replace_native_kernel(node, &wrong).expect("compiles");
    let err = f.call1(vec![0.0, 1.0, 2.0]).expect_err("the mismatch is caught");
    match &err {
        Error::DebugMismatch { node, index, native, reference } => {
            assert_eq!(index, &vec![0]);
            assert!(node.contains("Composite"), "{node}");
            let (n, r): (f64, f64) = (native.parse().unwrap(), reference.parse().unwrap());
            assert_eq!(r, 1f64.exp());
            assert!((n - 1.001f64.exp()).abs() < 1e-12, "{n}");
        }
        other => panic!("wrong error: {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("element [0]") && msg.contains("Composite"), "{msg}");

    // The same planted kernel in Mode::Jit runs unchecked and returns the wrong values:
    // Debug mode is what catches it.
    let mut j = tl::Function::builder(&[&x], &[(&x * 2.0 + 1.0).exp()]).mode(Mode::Jit).build().unwrap();
    j.replace_native_kernel(node, &wrong).unwrap();
    let v = j.call1(vec![0.0]).unwrap().to_vec::<f64>().unwrap();
    assert!((v[0] - 1.001f64.exp()).abs() < 1e-12);
}
