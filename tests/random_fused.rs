//! A random draw generated inside the pass of the kernel that reads it (dropout's `x *
//! binomial(…)` in one pass): when the plan does it, and that the values are those of the
//! draw stored on its own — the same bits on every engine, thread count and chunk seam —
//! with the stored draw as the fallback when the reader's inputs do not suit one pass.

use tensorlift as tl;
use tl::{DType, Distribution, Function, Mode, RandomStreams, Tensor, Var};

/// A `(rows, cols)` matrix of distinct values.
fn matrix(rows: usize, cols: usize) -> Tensor {
    Tensor::from(
        ndarray::Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f64 * 1e-3 - 7.0).into_dyn(),
    )
}

/// True when `a` and `b` agree to 1e-12 relative (the JIT's math and summation order
/// differ from the interpreter's in the last bits).
fn close(a: &Tensor, b: &Tensor) -> bool {
    a.shape() == b.shape()
        && a.to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .all(|(x, y)| (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0))
}

/// `outs` of `x` compiled in `mode`, without advancing the generator states (every call
/// draws the same numbers).
fn build(x: &Var, outs: &[&Var], mode: Mode) -> Function {
    Function::builder(&[x], outs).mode(mode).no_default_updates(true).build().expect("compiles")
}

/// The dropout expression `x * mask / 0.8 + 1` and its mask, a float64 binomial draw of
/// `x`'s shape.
fn dropout(rng: &RandomStreams, x: &Var) -> (Var, Var) {
    let mask = rng.draw(Distribution::Binomial, DType::F64, tl::shape(x), vec![1.into(), 0.8.into()]);
    ((x * &mask) / 0.8 + 1.0, mask)
}

#[test]
fn dropout_draws_its_mask_in_the_pass_of_its_kernel() {
    let rng = RandomStreams::new(7);
    let x = tl::dmatrix("x");
    let (y, mask) = dropout(&rng, &x);
    let fused = build(&x, &[&y], Mode::Jit);
    let plan = fused.dump(tl::Stage::Schedule).expect("plan");
    assert!(plan.contains("drawn in its reader's pass"), "{plan}");
    assert!(plan.contains("in its pass)"), "{plan}");
    // The same draw stored (it is also an output): the reader's kernel reads it.
    let stored = build(&x, &[&y, &mask], Mode::Jit);
    let plan = stored.dump(tl::Stage::Schedule).expect("plan");
    assert!(!plan.contains("drawn in its reader's pass"), "{plan}");
    let interp = build(&x, &[&y], Mode::Interp);
    let before = tl::num_threads();
    // 300 × 201 elements: chunk seams inside rows, a part per thread that is not a whole
    // number of chunks.
    for (rows, cols) in [(300, 201), (1, 5), (3, 1024), (0, 4)] {
        let xv = matrix(rows, cols);
        let reference = stored.call(&[xv.clone().into()]).expect("runs");
        let want = &reference[0];
        for threads in [1, 2, 3] {
            tl::set_num_threads(threads);
            let got = fused.call(&[xv.clone().into()]).expect("runs").remove(0);
            assert_eq!(&got, want, "({rows}, {cols}), {threads} threads");
        }
        assert_eq!(
            &interp.call(&[xv.clone().into()]).expect("runs")[0],
            want,
            "({rows}, {cols}): interpreter"
        );
        // Every element is x / 0.8 + 1 or 1, as its mask says.
        let (xs, ys, ms) = (xv.to_f64_vec(), want.to_f64_vec(), reference[1].to_f64_vec());
        for ((x, y), m) in xs.iter().zip(&ys).zip(&ms) {
            assert_eq!(*y, x * m / 0.8 + 1.0);
        }
        if rows * cols > 10_000 {
            let kept = ms.iter().filter(|&&m| m == 1.0).count() as f64 / ms.len() as f64;
            assert!((kept - 0.8).abs() < 0.01, "kept {kept}");
        }
    }
    tl::set_num_threads(before);
}

#[test]
fn uniform_and_normal_draws_in_a_pass_are_the_stored_draws() {
    let x = tl::dvector("x");
    let xv = Tensor::from((0..100_003).map(|i| i as f64 * 0.5).collect::<Vec<_>>());
    for (dist, dtype) in [
        (Distribution::Uniform, DType::F64),
        (Distribution::Uniform, DType::F32),
        (Distribution::Normal { truncate: false }, DType::F64),
        (Distribution::Normal { truncate: true }, DType::F64),
        (Distribution::Normal { truncate: false }, DType::F32),
    ] {
        let rng = RandomStreams::new(11);
        let d = rng.draw(dist, dtype, tl::shape(&x), vec![(-1.0).into(), 3.0.into()]);
        // A transcendental in the reader: its kernel runs through the chunk plan.
        let y = tl::exp(&x * 1e-5) * &d + &x;
        let fused = build(&x, &[&y], Mode::Jit);
        let plan = fused.dump(tl::Stage::Schedule).expect("plan");
        assert!(plan.contains("drawn in its reader's pass"), "{plan}");
        let stored = build(&x, &[&y, &d], Mode::Jit).call(&[xv.clone().into()]).expect("runs");
        let got = fused.call(&[xv.clone().into()]).expect("runs").remove(0);
        assert_eq!(got, stored[0], "{dist:?} {dtype}");
        let interp = build(&x, &[&y], Mode::Interp).call(&[xv.clone().into()]).expect("runs").remove(0);
        assert!(close(&got, &interp), "{dist:?} {dtype}: interpreter");
    }
}

#[test]
fn a_draw_read_twice_or_broadcast_is_stored() {
    let rng = RandomStreams::new(3);
    let x = tl::dmatrix("x");
    let xv = matrix(40, 30);
    // Read by two kernels (a reduction and an elementwise one).
    let m = rng.draw(Distribution::Uniform, DType::F64, tl::shape(&x), vec![0.0.into(), 1.0.into()]);
    let twice = &x * &m + tl::sum(&m);
    // A draw of the whole matrix read with one row of `x` broadcast along it.
    let whole = rng.draw(Distribution::Uniform, DType::F64, [40, 30], vec![0.0.into(), 1.0.into()]);
    let broadcast = x.get(&[tl::Index::At(0)]) * &whole;
    for y in [&twice, &broadcast] {
        let jit = build(&x, &[y], Mode::Jit);
        let plan = jit.dump(tl::Stage::Schedule).expect("plan");
        let got = jit.call(&[xv.clone().into()]).expect("runs").remove(0);
        let want = build(&x, &[y], Mode::Interp).call(&[xv.clone().into()]).expect("runs").remove(0);
        assert!(close(&got, &want), "{plan}");
    }
    let plan = build(&x, &[&twice], Mode::Jit).dump(tl::Stage::Schedule).expect("plan");
    assert!(!plan.contains("drawn in its reader's pass"), "{plan}");
    // The draw is planned in the pass (its reader is one kernel) but that pass cannot run
    // over a broadcast row: it is stored first, with the values checked above.
    let plan = build(&x, &[&broadcast], Mode::Jit).dump(tl::Stage::Schedule).expect("plan");
    assert!(plan.contains("drawn in its reader's pass"), "{plan}");
}

#[test]
fn a_draw_of_the_wrong_size_is_an_error_and_the_state_stays() {
    let rng = RandomStreams::new(5);
    let x = tl::dvector("x");
    let d = rng.draw(Distribution::Normal { truncate: false }, DType::F64, [4], vec![0.0.into(), 1.0.into()]);
    let y = &x * &d;
    let state = d.random_state().expect("a draw").clone();
    let f = Function::builder(&[&x], &[&y]).mode(Mode::Jit).build().expect("compiles");
    let before = state.get_value().expect("shared");
    let err = f.call(&[Tensor::from(vec![1.0, 2.0, 3.0]).into()]).expect_err("3 against 4");
    assert!(err.to_string().contains("shape"), "{err}");
    assert_eq!(state.get_value().expect("shared"), before);
    // The right size runs, and advances the state.
    let ok = f.call(&[Tensor::from(vec![1.0, 2.0, 3.0, 4.0]).into()]).expect("runs");
    assert_eq!(ok[0].shape(), &[4]);
    assert_ne!(state.get_value().expect("shared"), before);
}

#[test]
fn an_int_mask_read_by_float_arithmetic_is_drawn_as_floats_in_the_pass() {
    // Theano's default dropout mask is int64: `x * mask` and `x * cast(mask, floatX)`.
    let x = tl::dmatrix("x");
    let xv = matrix(50, 70);
    for explicit in [false, true] {
        let rng = RandomStreams::new(9);
        let mask = rng.binomial(tl::shape(&x), 1, 0.5);
        assert_eq!(mask.dtype(), DType::I64);
        let factor = if explicit { tl::cast(&mask, DType::F64) } else { mask.clone() };
        let y = &x * &factor;
        let fused = build(&x, &[&y], Mode::Jit);
        let plan = fused.dump(tl::Stage::Schedule).expect("plan");
        assert!(plan.contains("drawn in its reader's pass"), "{plan}");
        // Returned too, the mask stays int64; the product is the same.
        let both = build(&x, &[&y, &mask], Mode::Jit).call(&[xv.clone().into()]).expect("runs");
        assert_eq!(both[1].dtype(), DType::I64);
        let got = fused.call(&[xv.clone().into()]).expect("runs").remove(0);
        assert_eq!(got, both[0]);
        let want: Vec<f64> = xv.to_f64_vec().iter().zip(both[1].to_f64_vec()).map(|(x, m)| x * m).collect();
        assert_eq!(got.to_f64_vec(), want);
        assert_eq!(build(&x, &[&y], Mode::Interp).call(&[xv.clone().into()]).expect("runs")[0], got);
    }
}
