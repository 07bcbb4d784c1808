//! Sizes, dtypes, integer and reduction semantics (#12 items 3, 4, 5, 6, 10, 15, 17, 18).
//!
//! Results too large to allocate are a typed error (`ValueError::Memory`, NumPy's
//! `MemoryError`), never a panic or an abort, on both engines; integer literals get the
//! smallest integer dtype that holds them before upcasting (Theano's rule); integer `pow`
//! wraps over the whole exponent and refuses `0 ** -n`; float32 `sum`/`prod`/`mean`
//! accumulate in float64; `bool + bool` is bool; the sum of nothing is `+0.0`.
//!
//! The sizes that must fail to allocate are chosen beyond any machine's address space, so
//! that the tests do not depend on how the system overcommits memory.

use tensorlift as tl;
use tl::{DType, Error, Mode, Op, ReshapeDim, Tensor, ValueError, Var};

/// Both engines: every test runs under each, whatever `TENSORLIFT_MODE` says.
const MODES: [Mode; 2] = [Mode::Jit, Mode::Interp];

/// Compiles `out` of `inputs` in `mode` and calls it with `args`.
fn call(mode: Mode, inputs: &[&Var], out: &Var, args: &[tl::Arg]) -> tl::Result<Tensor> {
    let f = tl::Function::builder(inputs, &[out])
        .mode(mode)
        .on_unused_input(tl::OnUnusedInput::Ignore)
        .build()?;
    Ok(f.call(args)?.remove(0))
}

/// The run-time error of `out`, which must be `ValueError::Memory` of `op` and say so.
#[track_caller]
fn assert_memory_error(err: Error, op: &str) {
    let msg = err.to_string();
    match &err {
        Error::Eval { source: ValueError::Memory { op: o, .. }, .. } => assert_eq!(o, op, "{msg}"),
        _ => panic!("expected a memory error of {op}, got {err:?}"),
    }
    assert!(msg.contains("unable to allocate"), "{msg}");
}

/// `x` as a tensor of `n` axes that varies along axis `k` only.
fn along(x: &Var, n: usize, k: usize) -> Var {
    let order: Vec<Option<usize>> = (0..n).map(|a| (a == k).then_some(0)).collect();
    x.dimshuffle(&order)
}

/// The sum of `x` broadcast along each of `n` axes: a result of `len(x)^n` elements.
fn outer_sum(x: &Var, n: usize) -> Var {
    (1..n).fold(along(x, n, 0), |acc, k| acc + along(x, n, k))
}

// ------------------------------------------------------------------------------------------
// Item 3: broadcast element counts
// ------------------------------------------------------------------------------------------

#[test]
fn broadcast_too_large_is_a_memory_error() {
    let x = tl::dvector("x");
    let cases = [
        // 256^8 = 2^64 elements: the count overflows.
        (8, 256, "unable to allocate"),
        // 4096^5 = 2^60 float64 elements: 2^63 bytes, past `isize::MAX`.
        (5, 4096, "8.00 EiB"),
        // 2048^5 = 2^55 float64 elements: 256 PiB, a size that fits `isize` but no address
        // space (the allocator refuses it).
        (5, 2048, "256.00 PiB"),
    ];
    for (axes, len, words) in cases {
        let y = outer_sum(&x, axes);
        for mode in MODES {
            let err = call(mode, &[&x], &y, &tl::args![vec![1.0; len]]).unwrap_err();
            assert!(err.to_string().contains(words), "{err}");
            assert!(
                matches!(&err, Error::Eval { source: ValueError::Memory { shape, .. }, .. } if *shape == vec![len; axes]),
                "{err:?}"
            );
            assert_memory_error(err, "add");
        }
    }
    // The same function still runs on inputs whose broadcast fits.
    let f = tl::function(&[&x], &[&outer_sum(&x, 5)]).unwrap();
    let t = f.call1(vec![1.0, 2.0]).unwrap();
    assert_eq!(t.shape(), &[2; 5]);
    assert_eq!(t.to_vec::<f64>().unwrap()[31], 10.0);
}

// ------------------------------------------------------------------------------------------
// Item 4: reshape to lengths past the address space
// ------------------------------------------------------------------------------------------

#[test]
fn reshape_to_huge_lengths_is_an_error() {
    let x = tl::dvector("x");
    // Lengths no array can have (the product of the nonzero ones exceeds `isize::MAX`),
    // empty or not: refused when the graph is built.
    for target in [[isize::MAX, 2, 0, 1], [isize::MAX, 2, 0, -1], [isize::MAX, -1, 2, 0]] {
        let err = x.reshape(&target).check().unwrap_err();
        assert!(matches!(&err.kind, tl::BuildErrorKind::Invalid { op, .. } if op == "reshape"), "{err:?}");
        assert!(err.to_string().contains("too large"), "{err}");
    }
    // Lengths known only at run time (an axis kept from the input) are checked there.
    let m = tl::dmatrix("m");
    let keep = Op::Reshape {
        shape: vec![
            ReshapeDim::Fixed(isize::MAX as usize),
            ReshapeDim::Keep(1),
            ReshapeDim::Fixed(0),
            ReshapeDim::Infer,
        ],
    };
    let y = tl::apply(keep, vec![m.clone()]);
    for mode in MODES {
        let err = call(mode, &[&m], &y, &tl::args![Tensor::zeros(DType::F64, &[0, 3])]).unwrap_err();
        assert!(
            matches!(&err, Error::Eval { source: ValueError::Invalid { op, .. }, .. } if op == "reshape"),
            "{err:?}"
        );
        assert!(err.to_string().contains("too large"), "{err}");
        // One that fits runs.
        let t = call(mode, &[&m], &y, &tl::args![Tensor::zeros(DType::F64, &[0, 1])]).unwrap();
        assert_eq!(t.shape(), &[isize::MAX as usize, 1, 0, 0]);
    }
    // Empty targets that fit still work.
    let y = x.reshape(&[1 << 40, 1 << 20, 0]);
    let t = call(Mode::Interp, &[&x], &y, &tl::args![Vec::<f64>::new()]).unwrap();
    assert_eq!(t.shape(), &[1 << 40, 1 << 20, 0]);
}

// ------------------------------------------------------------------------------------------
// Item 5: results of reductions sized by input shapes
// ------------------------------------------------------------------------------------------

#[test]
fn reduction_of_empty_to_a_huge_result_is_a_memory_error() {
    let x = tl::dvector("x");
    let empty = || tl::args![Vec::<f64>::new()];
    // 2^54 float64 results (128 PiB): refused by the allocator.
    let y = x.reshape(&[1 << 27, 1 << 27, 0]).sum_axis(2);
    // 2^62 results: past `isize::MAX` bytes.
    let z = x.reshape(&[1 << 31, 1 << 31, 0]).sum_axis(2);
    for mode in MODES {
        assert_memory_error(call(mode, &[&x], &y, &empty()).unwrap_err(), "sum");
        assert_memory_error(call(mode, &[&x], &z, &empty()).unwrap_err(), "sum");
        for w in [
            x.reshape(&[1 << 31, 1 << 31, 0]).prod_axis(2),
            x.reshape(&[1 << 31, 1 << 31, 0]).mean_axis(2),
            tl::logsumexp(x.reshape(&[1 << 31, 1 << 31, 0]), 2, false),
            tl::dot(x.reshape(&[1 << 31, 0]), x.reshape(&[0, 1 << 31])),
        ] {
            let err = call(mode, &[&x], &w, &empty()).unwrap_err();
            assert!(matches!(&err, Error::Eval { source: ValueError::Memory { .. }, .. }), "{w}: {err:?}");
        }
    }
    // Joining empty tensors into a shape no array can have.
    let e = x.reshape(&[1 << 62, 0]);
    let c = tl::concatenate(&[e.clone(), e], 0);
    for mode in MODES {
        let err = call(mode, &[&x], &c, &empty()).unwrap_err();
        assert!(matches!(&err, Error::Eval { .. }) && err.to_string().contains("too large"), "{err:?}");
    }
    // Sums of empty axes that fit are zeros.
    let y = x.reshape(&[2, 3, 0]).sum_axis(2);
    let t = call(Mode::Interp, &[&x], &y, &empty()).unwrap();
    assert_eq!(t, Tensor::zeros(DType::F64, &[2, 3]));
}

// ------------------------------------------------------------------------------------------
// Item 6: jacobian of a huge static shape: a loop
// ------------------------------------------------------------------------------------------

#[test]
fn jacobian_of_a_huge_static_shape_is_a_loop_not_a_huge_graph() {
    let x = tl::tensor("x", DType::F64, &[Some(1 << 62)]);
    let j = tl::jacobian(&x.exp(), &x).unwrap();
    let g = tl::FunctionGraph::from_vars(&[&x], &[&j]).unwrap();
    assert!(g.len() < 40, "{} nodes", g.len());
    assert!(g.ids().any(|id| matches!(g.node(id).op, tl::Op::Scan(_))));
    // A shape whose element count overflows: its flattening is a typed error.
    let m = tl::tensor("m", DType::F64, &[Some(1 << 40), Some(1 << 40)]);
    assert!(tl::jacobian(&m.exp(), &m).is_err());
    // A small one still works.
    let v = tl::tensor("v", DType::F64, &[Some(2)]);
    let j = tl::jacobian(&v.exp(), &v).unwrap();
    let f = tl::function(&[&v], &[&j]).unwrap();
    let t = f.call1(vec![0.0, 1.0]).unwrap();
    assert_eq!(t.to_vec::<f64>().unwrap(), vec![1.0, 0.0, 0.0, 1f64.exp()]);
}

// ------------------------------------------------------------------------------------------
// Item 10: integer literals next to narrower integer tensors
// ------------------------------------------------------------------------------------------

#[test]
fn integer_literals_take_the_smallest_dtype_that_holds_them() {
    let (i, l, f, d) = (tl::ivector("i"), tl::lvector("l"), tl::fvector("f"), tl::dvector("d"));
    let cases: Vec<(&str, Var, DType)> = vec![
        ("int32 + 3000000000", &i + 3_000_000_000i64, DType::I64),
        ("3000000000 - int32", 3_000_000_000i64 - &i, DType::I64),
        ("int32 * -2147483649", &i * -2_147_483_649i64, DType::I64),
        ("int32 + 2147483647", &i + 2_147_483_647i64, DType::I32),
        ("int32 + 100000", &i + 100_000, DType::I32),
        ("int32 + 3", &i + 3, DType::I32),
        ("int64 + 3", &l + 3, DType::I64),
        ("float32 + 3", &f + 3, DType::F32),
        ("float32 + 32767", &f + 32_767, DType::F32),
        // An int32 constant beside float32 is float64, as in Theano (int16 would stay float32).
        ("float32 + 100000", &f + 100_000, DType::F64),
        ("float32 + 3000000000", &f + 3_000_000_000i64, DType::F64),
        ("float64 + 3000000000", &d + 3_000_000_000i64, DType::F64),
        // Float literals beside float32 stay float32 (unchanged).
        ("float32 + 0.1", &f + 0.1, DType::F32),
        ("int32 < 3000000000", i.lt(3_000_000_000i64), DType::Bool),
        ("maximum(int32, 3000000000)", i.maximum(3_000_000_000i64), DType::I64),
    ];
    for (name, y, dtype) in cases {
        assert_eq!(y.dtype(), dtype, "{name}");
    }
    for mode in MODES {
        let args = tl::args![vec![1i32, 2, -3]];
        let t = call(mode, &[&i], &(&i + 3_000_000_000i64), &args).unwrap();
        assert_eq!(t, Tensor::from(vec![3_000_000_001i64, 3_000_000_002, 2_999_999_997]));
        let t = call(mode, &[&i], &i.lt(3_000_000_000i64), &args).unwrap();
        assert_eq!(t, Tensor::from(vec![true, true, true]));
        let t = call(mode, &[&i], &(&i * -2_147_483_649i64), &args).unwrap();
        assert_eq!(t, Tensor::from(vec![-2_147_483_649i64, -4_294_967_298, 6_442_450_947]));
        let t = call(mode, &[&f], &(&f + 100_000), &tl::args![vec![0.5f32]]).unwrap();
        assert_eq!(t, Tensor::from(vec![100_000.5f64]));
    }
}

// ------------------------------------------------------------------------------------------
// Item 15: integer pow
// ------------------------------------------------------------------------------------------

#[test]
fn integer_pow_uses_the_whole_exponent() {
    let (a, b) = (tl::lvector("a"), tl::lvector("b"));
    // Square-and-multiply over the full exponent, wrapping like NumPy's int64 arithmetic.
    let base = vec![-3i64, 3, 2, -1, 1, 0, 7];
    let exps = vec![1i64 << 33, (1 << 40) + 1, 64, (1 << 62) + 1, i64::MAX, 1 << 35, 0];
    let want = vec![4982619357117939713i64, -5135550532504518653, 0, -1, 1, 0, 1];
    let (i, j) = (tl::ivector("i"), tl::ivector("j"));
    for mode in MODES {
        let t = call(mode, &[&a, &b], &a.pow(&b), &tl::args![base.clone(), exps.clone()]).unwrap();
        assert_eq!(t, Tensor::from(want.clone()), "{mode:?}");
        let t = call(mode, &[&a], &a.pow(1i64 << 33), &tl::args![vec![-3i64]]).unwrap();
        assert_eq!(t, Tensor::from(vec![4982619357117939713i64]), "{mode:?}");
        // int32: the same arithmetic modulo 2^32.
        let t = call(mode, &[&i, &j], &i.pow(&j), &tl::args![vec![-3i32, 3], vec![i32::MAX, 31]]).unwrap();
        assert_eq!(t, Tensor::from(vec![(-3i32).wrapping_pow(i32::MAX as u32), 3i32.wrapping_pow(31)]));
    }
}

#[test]
fn integer_zero_to_a_negative_power_is_an_error() {
    let (a, b) = (tl::lvector("a"), tl::lvector("b"));
    let (i, j) = (tl::ivector("i"), tl::ivector("j"));
    for mode in MODES {
        for (inputs, y, args) in [
            (vec![&a, &b], a.pow(&b), tl::args![vec![2i64, 0], vec![1i64, -1]]),
            (vec![&a, &b], a.pow(&b), tl::args![vec![0i64], vec![i64::MIN]]),
            (vec![&i, &j], i.pow(&j), tl::args![vec![0i32, 5], vec![-3i32, 2]]),
            (vec![&a, &b], a.pow(-1), tl::args![vec![1i64, 0], vec![0i64]]),
            // In a fused program (its reference kernel runs the integer pow).
            (vec![&a, &b], tl::cast(a.pow(&b) + 1, DType::F64).exp(), tl::args![vec![0i64], vec![-2i64]]),
        ] {
            let err = call(mode, &inputs, &y, &args).unwrap_err();
            assert!(
                matches!(&err, Error::Eval { source: ValueError::Invalid { op, .. }, .. } if op == "pow"),
                "{y}: {err:?}"
            );
            assert!(err.to_string().contains("negative"), "{err}");
        }
        // Negative powers of other integers keep their exact (truncated) values.
        let t = call(
            mode,
            &[&a, &b],
            &a.pow(&b),
            &tl::args![vec![1i64, -1, -1, 2, -7], vec![-5i64, -3, -4, -1, -2]],
        )
        .unwrap();
        assert_eq!(t, Tensor::from(vec![1i64, -1, 1, 0, 0]));
    }
    // A constant `0 ** -1` is left for run time to report (constant folding skips it).
    let z = tl::pow(tl::constant(0i64), -1);
    let err = call(Mode::Jit, &[], &z, &[]).unwrap_err();
    assert!(err.to_string().contains("negative"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Item 17: float32 reductions accumulate in float64
// ------------------------------------------------------------------------------------------

#[test]
fn float32_reductions_accumulate_in_float64() {
    let x = tl::fvector("x");
    let m = tl::fmatrix("m");
    let data = vec![1e8f32, 1.0, -1e8];
    for mode in MODES {
        let t = call(mode, &[&x], &x.sum(), &tl::args![data.clone()]).unwrap();
        assert_eq!(t, Tensor::from(1.0f32), "sum {mode:?}");
        let t = call(mode, &[&x], &x.mean(), &tl::args![data.clone()]).unwrap();
        assert_eq!(t, Tensor::from((1.0f64 / 3.0) as f32), "mean {mode:?}");
        // A product whose float32 running value overflows midway.
        let t = call(mode, &[&x], &x.prod(), &tl::args![vec![1e30f32, 1e30, 1e-30]]).unwrap();
        assert_eq!(t, Tensor::from(1e30f32), "prod {mode:?}");
        // Over an axis, and fused with an elementwise body.
        let rows = tl::args![vec![vec![1e8f32, 1.0, -1e8], vec![1.0, 1e8, -1e8]]];
        let t = call(mode, &[&m], &m.sum_axis(1), &rows).unwrap();
        assert_eq!(t, Tensor::from(vec![1.0f32, 1.0]), "sum(axis=1) {mode:?}");
        let t = call(mode, &[&m], &m.sum_axis(0), &rows).unwrap();
        assert_eq!(t, Tensor::from(vec![1e8f32 + 1.0, 1e8, -2e8]), "sum(axis=0) {mode:?}");
        let t = call(mode, &[&x], &(&x * 2.0).sum(), &tl::args![data.clone()]).unwrap();
        assert_eq!(t, Tensor::from(2.0f32), "sum(2x) {mode:?}");
        assert_eq!(t.dtype(), DType::F32);
    }
}

// ------------------------------------------------------------------------------------------
// Item 18: bool arithmetic and empty sums
// ------------------------------------------------------------------------------------------

#[test]
fn bool_arithmetic_stays_bool() {
    let (p, q) = (tl::bvector("p"), tl::bvector("q"));
    let args = || tl::args![vec![true, true, false, false], vec![true, false, true, false]];
    let cases: Vec<(Var, Vec<bool>)> = vec![
        (&p + &q, vec![true, true, true, false]),
        (&p * &q, vec![true, false, false, false]),
        (p.maximum(&q), vec![true, true, true, false]),
        (p.minimum(&q), vec![true, false, false, false]),
        (p.abs(), vec![true, true, false, false]),
        (p.sqr(), vec![true, true, false, false]),
        (tl::clip(&p, &q, true), vec![true, true, true, false]),
    ];
    for (y, want) in cases {
        assert_eq!(y.dtype(), DType::Bool, "{y}");
        for mode in MODES {
            assert_eq!(
                call(mode, &[&p, &q], &y, &args()).unwrap(),
                Tensor::from(want.clone()),
                "{y} {mode:?}"
            );
        }
    }
    // Theano and NumPy have no bool subtraction or negation: they stay int64 here.
    assert_eq!((&p - &q).dtype(), DType::I64);
    assert_eq!((-&p).dtype(), DType::I64);
    // Sums of bools count.
    let s = (&p + &q).sum();
    assert_eq!(s.dtype(), DType::I64);
    assert_eq!(call(Mode::Jit, &[&p, &q], &s, &args()).unwrap(), Tensor::from(3i64));
}

#[test]
fn sum_of_nothing_is_positive_zero() {
    let (x, f) = (tl::dvector("x"), tl::fvector("f"));
    let m = tl::dmatrix("m");
    for mode in MODES {
        for (inputs, y, args) in [
            (vec![&x], x.sum(), tl::args![Vec::<f64>::new()]),
            (vec![&x], (&x * 2.0).sum(), tl::args![Vec::<f64>::new()]),
            (vec![&f], f.sum(), tl::args![Vec::<f32>::new()]),
            (vec![&m], m.sum_axis(1), tl::args![Tensor::zeros(DType::F64, &[2, 0])]),
            (vec![&m], m.sum_axis(0), tl::args![Tensor::zeros(DType::F64, &[0, 3])]),
        ] {
            let t = call(mode, &inputs, &y, &args).unwrap();
            assert!(
                !t.is_empty() && t.to_f64_vec().iter().all(|v| *v == 0.0 && v.is_sign_positive()),
                "{y}: {t:?}"
            );
        }
        // A sum of negative zeros is still -0.0 (NumPy's `sum([-0.0])`).
        let t = call(mode, &[&x], &x.sum(), &tl::args![vec![-0.0f64]]).unwrap();
        assert!(t.to_f64().unwrap().is_sign_negative(), "{t:?}");
    }
}

/// `allow_input_downcast`: arguments that lose precision convert as NumPy's `astype`;
/// without it they are refused with a typed error.
#[test]
fn allow_input_downcast_converts_with_loss_only_when_asked() {
    let x = tl::fvector("x");
    let strict = tl::function(&[&x], &[&x * 2.0]).unwrap();
    assert!(matches!(strict.call1(vec![0.1f64, 2.0]), Err(tl::Error::ArgDType { .. })));
    let loose = tl::Function::builder(&[&x], &[&x * 2.0]).allow_input_downcast(true).build().unwrap();
    let out = loose.call1(vec![0.1f64, 2.0]).unwrap();
    assert_eq!(out.to_vec::<f32>().unwrap(), vec![0.1f32 * 2.0, 4.0]);
    let n = tl::lscalar("n");
    let trunc = tl::Function::builder(&[&n], &[&n + 1]).allow_input_downcast(true).build().unwrap();
    assert_eq!(trunc.call1(2.75).unwrap().to_vec::<i64>().unwrap(), vec![3]);
}

/// `profile(true)`: every node of the optimized graph that ran is timed, per call.
#[test]
fn a_profiled_function_counts_calls_and_node_runs() {
    let x = tl::dvector("x");
    let y = (tl::exp(&x) + 1.0).sum();
    let f = tl::Function::builder(&[&x], &[&y]).profile(true).build().unwrap();
    assert!(tl::function(&[&x], &[&y]).unwrap().profile().is_none());
    for _ in 0..3 {
        f.call1(vec![0.0, 1.0, 2.0]).unwrap();
    }
    let p = f.profile().expect("profiled");
    assert_eq!(p.calls().0, 3);
    let nodes = p.nodes();
    assert!(!nodes.is_empty() && nodes.iter().all(|n| n.runs == 3), "{nodes:?}");
    let summary = f.profile_summary().unwrap();
    assert!(summary.contains("Time in 3 calls to Function.__call__"), "{summary}");
}
