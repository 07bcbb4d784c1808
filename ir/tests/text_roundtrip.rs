//! The text form of `FunctionGraph`: print → parse → print is the identity for graphs of
//! every op and dtype, handwritten text parses and prints as written, and malformed text
//! gives `GraphError::Parse` with the right line.

use tensorlift_ir::*;

/// Prints `g`, parses the text, and checks the parsed graph prints the same text, verifies,
/// and equals the compacted `g` node by node (constants bit for bit).
fn roundtrip_graph(g: &FunctionGraph) -> String {
    g.verify().expect("the original graph verifies");
    let t1 = g.to_string();
    let g2 = FunctionGraph::parse(&t1).unwrap_or_else(|e| panic!("{e}\n{t1}"));
    assert_eq!(g2.to_string(), t1);
    g2.verify().unwrap_or_else(|e| panic!("{e}\n{t1}"));
    let (c, _) = g.compact();
    assert_eq!(c.len(), g2.len(), "{t1}");
    assert_eq!(c.inputs(), g2.inputs());
    assert_eq!(c.outputs(), g2.outputs());
    for id in c.ids() {
        let (a, b) = (c.node(id), g2.node(id));
        assert_eq!(a.inputs, b.inputs, "{id}");
        assert_eq!(c.ty(id), g2.ty(id), "{id}");
        assert_eq!(c.name(id), g2.name(id), "{id}");
        match (&a.op, &b.op) {
            (Op::Shared(x), Op::Shared(y)) => {
                assert_eq!(x.name(), y.name());
                assert_eq!(x.ty(), y.ty());
                assert_ne!(x, y, "parsing makes a fresh shared variable");
            }
            (x, y) => assert_eq!(x, y, "{id}"),
        }
    }
    t1
}

/// `roundtrip_graph` of the graph of `outputs`.
fn roundtrip(outputs: &[Var]) -> String {
    for o in outputs {
        o.check().unwrap_or_else(|e| panic!("{e}"));
    }
    let g = FunctionGraph::from_outputs(outputs).expect("graph");
    roundtrip_graph(&g)
}

fn parse_error_line(text: &str) -> (usize, String) {
    match FunctionGraph::parse(text) {
        Err(GraphError::Parse { line, reason }) => (line, reason),
        Err(e) => panic!("not a parse error: {e}"),
        Ok(g) => panic!("parsed:\n{g}"),
    }
}

// ---------------------------------------------------------------------------------------
// Round trips

#[test]
fn scalar_arithmetic() {
    let x = dscalar("x");
    let y = dscalar("y");
    let t = roundtrip(&[&x + &y * 2.0 - &x / &y, x.pow(2), 1.0 - &x, -&y]);
    assert!(t.contains("%0 = input \"x\" : float64[]"), "{t}");
    assert!(t.contains("true_div(%0, %1)"), "{t}");
}

#[test]
fn unary_float_functions() {
    let x = dvector("x");
    let outs = vec![
        x.abs(),
        x.sign(),
        x.neg(),
        x.sqr(),
        x.sqrt(),
        x.exp(),
        x.log(),
        x.log1p(),
        x.expm1(),
        x.log2(),
        x.log10(),
        x.sin(),
        x.cos(),
        x.tan(),
        x.tanh(),
        x.arcsin(),
        x.arccos(),
        x.arctan(),
        x.sinh(),
        x.cosh(),
        x.arcsinh(),
        x.arccosh(),
        x.arctanh(),
        x.sigmoid(),
        x.softplus(),
        x.erf(),
        x.floor(),
        x.ceil(),
        x.round(),
        x.trunc(),
        x.reciprocal(),
    ];
    let t = roundtrip(&outs);
    for name in ["sigmoid(%0)", "softplus(%0)", "arctanh(%0)", "reciprocal(%0)", "log1p(%0)"] {
        assert!(t.contains(name), "{name} in {t}");
    }
}

#[test]
fn binary_and_comparison_ops() {
    let a = dmatrix("a");
    let b = dmatrix("b");
    roundtrip(&[
        a.pow(&b),
        maximum(&a, &b),
        minimum(&a, &b),
        a.lt(&b),
        a.gt(&b),
        a.le(&b),
        a.ge(&b),
        a.eq(&b),
        a.neq(&b),
        &a * &b * &a,
    ]);
}

#[test]
fn logical_ops_on_bool_and_ints() {
    let p = bvector("p");
    let q = bvector("q");
    let i = lvector("i");
    let j = ivector("j");
    let t = roundtrip(&[p.and(&q), p.or(&q), p.not(), i.and(&j), i.or(2), j.not()]);
    assert!(t.contains(": bool[?]"), "{t}");
    assert!(t.contains("input \"j\" : int32[?]"), "{t}");
}

#[test]
fn switch_and_clip() {
    let x = dvector("x");
    let c = bvector("c");
    roundtrip(&[switch(x.gt(0.0), &x, -&x), clip(&x, 0.0, 1.0), switch(&c, 1.0, &x), x.clip(-1, 1)]);
}

#[test]
fn casts_to_every_dtype() {
    let x = dmatrix("x");
    let t = roundtrip(&[
        x.cast(DType::F32),
        x.cast(DType::F64),
        x.cast(DType::I32),
        x.cast(DType::I64),
        cast(&x, DType::Bool),
        x.cast(DType::I32).cast(DType::F32),
    ]);
    for d in ["float32", "int32", "int64", "bool"] {
        assert!(t.contains(&format!("cast{{{d}}}(")), "{d} in {t}");
    }
}

#[test]
fn every_input_dtype_and_rank() {
    let ins = [
        bscalar("b0"),
        ivector("i1"),
        lmatrix("l2"),
        fscalar("f0"),
        ftensor3("f3"),
        dtensor4("d4"),
        tensor("t", DType::F64, &[Some(1), None, Some(3)]),
        row("r"),
        col("c"),
    ];
    let outs: Vec<Var> = ins.iter().map(|v| v.sum()).collect();
    let t = roundtrip(&outs);
    assert!(t.contains("input \"t\" : float64[1,?,3]"), "{t}");
    assert!(t.contains("input \"d4\" : float64[?,?,?,?]"), "{t}");
}

#[test]
fn float32_graph_and_constants() {
    let x = fvector("x");
    let t = roundtrip(&[&x * 0.1 + constant(0.1f32), x.exp() / constant(vec![0.1f32, 0.2, 0.3])]);
    assert!(t.contains("constant [0.1] : float32[1]"), "{t}");
    assert!(t.contains("constant 0.1 : float32[]"), "{t}");
    assert!(t.contains("constant [0.1, 0.2, 0.3] : float32[3]"), "{t}");
}

#[test]
fn special_float64_constants() {
    let values = vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        1e-300,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        1e-7,
        0.1 + 0.2,
        1e22,
        -123456.789,
    ];
    let t = roundtrip(&[constant(values.clone()), constant(f64::NAN), constant(-0.0), constant(1e-300)]);
    assert!(
        t.contains(
            "[NaN, inf, -inf, -0.0, 0.0, 1e-300, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, \
             1e-7, 0.30000000000000004, 1e22, -123456.789] : float64[13]"
        ),
        "{t}"
    );
    assert!(t.contains("constant NaN : float64[]"), "{t}");
    assert!(t.contains("constant -0.0 : float64[]"), "{t}");
}

#[test]
fn nan_payloads_and_signs_keep_their_bits() {
    let odd = f64::from_bits(0x7ff8_0000_0000_0001);
    let neg = f64::from_bits(0xfff8_0000_0000_0000);
    let odd32 = f32::from_bits(0xffc0_0001);
    let t = roundtrip(&[constant(vec![odd, neg, f64::NAN]), constant(vec![odd32, f32::NAN])]);
    assert!(t.contains("[NaN(0x7ff8000000000001), NaN(0xfff8000000000000), NaN] : float64[3]"), "{t}");
    assert!(t.contains("[NaN(0xffc00001), NaN] : float32[2]"), "{t}");
}

#[test]
fn special_float32_constants() {
    let v = vec![
        0.1f32,
        f32::NAN,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e-45,
        f32::MAX,
        16777217.0,
        1.0 / 3.0,
    ];
    let t = roundtrip(&[constant(v), constant(0.1f32) + fscalar("x")]);
    assert!(
        t.contains("[0.1, NaN, -0.0, inf, -inf, 1e-45, 3.4028235e38, 16777216.0, 0.33333334] : float32[9]"),
        "{t}"
    );
}

#[test]
fn integer_and_bool_constants() {
    let t = roundtrip(&[
        constant(vec![i32::MIN, -1, 0, 7, i32::MAX]),
        constant(vec![i64::MIN, -1, 0, 7, i64::MAX]),
        constant(7i32),
        constant(-3i64),
        constant(vec![true, false, true]),
        constant(false),
        lscalar("n") + constant(5i64),
    ]);
    assert!(t.contains("constant [-2147483648, -1, 0, 7, 2147483647] : int32[5]"), "{t}");
    assert!(t.contains("constant [-9223372036854775808, -1, 0, 7, 9223372036854775807] : int64[5]"), "{t}");
    assert!(t.contains("constant [true, false, true] : bool[3]"), "{t}");
    assert!(t.contains("constant false : bool[]"), "{t}");
    assert!(t.contains("constant 7 : int32[]"), "{t}");
}

#[test]
fn multi_dimensional_constants() {
    let m = Tensor::try_from(vec![vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    let c3 =
        Tensor::try_from(vec![vec![vec![1i64, 2, 3], vec![4, 5, 6]], vec![vec![7, 8, 9], vec![10, 11, 12]]])
            .unwrap();
    let x = dmatrix("x");
    let t = roundtrip(&[&x + constant(m), constant(c3), constant(Tensor::zeros(DType::Bool, &[1, 2, 1, 2]))]);
    assert!(t.contains("constant [[1.0, 2.0], [3.0, 4.0]] : float64[2,2]"), "{t}");
    assert!(t.contains("[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]] : int64[2,2,3]"), "{t}");
    assert!(t.contains("[[[[false, false]], [[false, false]]]] : bool[1,2,1,2]"), "{t}");
}

#[test]
fn empty_constants() {
    let t = roundtrip(&[
        constant(Vec::<f64>::new()),
        constant(Tensor::zeros(DType::F32, &[0, 3])),
        constant(Tensor::zeros(DType::I32, &[2, 0])),
        constant(Tensor::zeros(DType::Bool, &[2, 0, 3])),
        concatenate(&[dvector("x"), constant(Vec::<f64>::new())], 0),
    ]);
    assert!(t.contains("constant [] : float64[0]"), "{t}");
    assert!(t.contains("constant [] : float32[0,3]"), "{t}");
    assert!(t.contains("constant [[], []] : int32[2,0]"), "{t}");
    assert!(t.contains("constant [[], []] : bool[2,0,3]"), "{t}");
}

#[test]
fn shared_variables() {
    let w = shared(Tensor::try_from(vec![vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap(), "W");
    let b = shared(vec![0.5, 0.5], "b");
    let n = shared(3i64, "steps");
    let x = dmatrix("x");
    let t = roundtrip(&[x.dot(&w) + &b, &n + 1, b.sum()]);
    assert!(t.contains("shared \"W\" : float64[?,?]"), "{t}");
    assert!(t.contains("shared \"steps\" : int64[]"), "{t}");
}

#[test]
fn parsed_shared_variables_are_fresh_zeros() {
    let text =
        "graph {\n  %0 = shared \"W\" : float32[?,3]\n  %1 = shared \"s\" : int32[]\n  return %0, %1\n}\n";
    let g = FunctionGraph::parse(text).unwrap();
    assert_eq!(g.to_string(), text);
    let Op::Shared(w) = &g.node(g.outputs()[0]).op else { panic!("not shared") };
    assert_eq!(w.name(), "W");
    assert_eq!(w.get(), Tensor::zeros(DType::F32, &[0, 3]));
    assert_eq!(g.name(g.outputs()[0]), Some("W"));
    let Op::Shared(s) = &g.node(g.outputs()[1]).op else { panic!("not shared") };
    assert_eq!(s.get(), Tensor::zeros(DType::I32, &[]));
}

#[test]
fn named_intermediate_nodes() {
    let x = dvector("x");
    let y = (&x * 2.0).named("double");
    let z = y.exp().named("we\"ird\\ name\n\t ü e\u{301} ;");
    let t = roundtrip(&[y.sum().named("total"), z]);
    assert!(t.contains(": float64[?] \"double\""), "{t}");
    assert!(t.contains(r#""we\"ird\\ name\n\t ü e\u{301} ;""#), "{t}");
}

#[test]
fn input_names_need_quoting() {
    let a = dscalar("a b");
    let b = dscalar("quote\"d");
    let c = dscalar("");
    roundtrip(&[&a + &b + &c]);
}

#[test]
fn multiple_and_repeated_outputs() {
    let x = dvector("x");
    let y = x.exp();
    let t = roundtrip(&[y.clone(), x.clone(), y.clone(), y.sum()]);
    assert!(t.contains("return %1, %0, %1, %2"), "{t}");
}

#[test]
fn reductions() {
    let x = dtensor3("x");
    let b = bmatrix("b");
    let i = imatrix("i");
    let t = roundtrip(&[
        x.sum(),
        x.sum_axis(1),
        x.sum_opts(0, true),
        x.sum_axis([0, 2]),
        x.prod_axis(-1),
        x.max_opts([0, 1], true),
        x.min(),
        x.mean_axis(2),
        b.all(),
        b.any_axis(0),
        i.sum_axis(1),
        i.mean(),
    ]);
    assert!(t.contains("sum{axes=[0, 1, 2]}(%0)"), "{t}");
    assert!(t.contains("sum{axes=[0], keepdims}(%0)"), "{t}");
    assert!(t.contains("max{axes=[0, 1], keepdims}(%0) : float64[1,1,?]"), "{t}");
    assert!(t.contains("any{axes=[0]}(%1) : bool[?]"), "{t}");
}

#[test]
fn arg_reductions() {
    let x = dmatrix("x");
    let t = roundtrip(&[x.argmax_axis(0), x.argmin_opts(1, true), x.argmax(), argmin(&x)]);
    assert!(t.contains("argmax{axes=[0]}(%0) : int64[?]"), "{t}");
    assert!(t.contains("argmin{axes=[1], keepdims}(%0) : int64[?,1]"), "{t}");
}

#[test]
fn softmax_family() {
    let x = dmatrix("x");
    let v = ivector("v");
    let t = roundtrip(&[
        softmax(&x, -1),
        log_softmax(&x, 0),
        logsumexp(&x, 1, false),
        logsumexp(&x, [0, 1], true),
        softmax(&v, 0),
    ]);
    assert!(t.contains("softmax{axis=1}(%0)"), "{t}");
    assert!(t.contains("log_softmax{axis=0}(%0)"), "{t}");
    assert!(t.contains("logsumexp{axes=[0, 1], keepdims}(%0) : float64[1,1]"), "{t}");
    assert!(t.contains("softmax{axis=0}(%1) : float64[?]"), "{t}");
}

#[test]
fn dot_and_outer() {
    let a = dmatrix("a");
    let b = dmatrix("b");
    let v = dvector("v");
    let w = fvector("w");
    let t = roundtrip(&[
        dot(&a, &b),
        a.dot(&v),
        dot(&v, &a),
        dot(&v, &v),
        outer(&v, &v),
        dot(&w, &w),
        dot(&v, 2.0),
    ]);
    assert!(t.contains("dot(%0, %1) : float64[?,?]"), "{t}");
    assert!(t.contains("dimshuffle{0,x}(%2) : float64[?,1]"), "{t}");
}

#[test]
fn dimshuffles() {
    let x = dmatrix("x");
    let v = dvector("v");
    let t = roundtrip(&[
        x.t(),
        v.dimshuffle(&[Some(0), None]),
        v.dimshuffle(&[None, Some(0), None]),
        x.transpose(&[1, 0]).dimshuffle_pattern("x,0,1"),
        v.sum_opts(0, true).dimshuffle(&[]),
    ]);
    assert!(t.contains("dimshuffle{1,0}(%0) : float64[?,?]"), "{t}");
    assert!(t.contains("dimshuffle{x,0,x}(%1) : float64[1,?,1]"), "{t}");
    assert!(t.contains("dimshuffle{}(%"), "{t}");
}

#[test]
fn reshapes() {
    let x = dtensor3("x");
    let m = constant(Tensor::zeros(DType::F64, &[4, 3]));
    let t =
        roundtrip(&[x.reshape(&[2, -1]), x.flatten(1), x.flatten(2), m.reshape(&[2, 6]), m.reshape(&[-1])]);
    assert!(t.contains("reshape{[2,-1]}(%0) : float64[2,?]"), "{t}");
    assert!(t.contains("reshape{[@0,-1]}(%0) : float64[?,?]"), "{t}");
    assert!(t.contains("reshape{[-1]}(%"), "{t}");
    assert!(t.contains(": float64[12]"), "{t}");
}

#[test]
fn concatenate_and_stack() {
    let a = dmatrix("a");
    let b = dmatrix("b");
    let c = constant(Tensor::zeros(DType::F64, &[2, 3]));
    let t = roundtrip(&[
        concatenate(&[a.clone(), b.clone(), c.clone()], 1),
        stack(&[a.clone(), b.clone()], 0),
        concatenate(&[c.clone(), c], 0),
    ]);
    assert!(t.contains("concatenate{axis=1}(%0, %1, %2)"), "{t}");
    assert!(t.contains(": float64[4,3]"), "{t}");
}

#[test]
fn subtensors() {
    let x = dmatrix("x");
    let v = dvector("v");
    let t = roundtrip(&[
        x.index(1),
        x.index(-1),
        x.get(&[Index::from(0..2), Index::rev()]),
        v.get(&[Index::slice(Some(1), None, 2)]),
        v.get(&[Index::slice(None, Some(2), 1)]),
        v.get(&[Index::step(-2)]),
        v.get(&[Index::from(..)]),
        v.slice(Some(-3), Some(-1), 1),
        x.get(&[Index::from(1..), Index::from(0)]),
    ]);
    for s in [
        "subtensor{1}",
        "subtensor{-1}",
        "subtensor{0:2:1, ::-1}",
        "subtensor{1::2}",
        "subtensor{:2:1}",
        "subtensor{::-2}",
    ] {
        assert!(t.contains(s), "{s} in {t}");
    }
    assert!(t.contains("subtensor{-3:-1:1}"), "{t}");
    assert!(t.contains("subtensor{1::1, 0}"), "{t}");
}

#[test]
fn symbolic_indices() {
    let x = dmatrix("x");
    let i = lscalar("i");
    let j = iscalar("j");
    let t = roundtrip(&[
        x.index(&i),
        x.get(&[Index::from(1..3), Index::from(&j)]),
        x.get(&[Index::from(&i), Index::from(&i)]),
    ]);
    assert!(t.contains("subtensor{?}(%0, %1) : float64[?]"), "{t}");
    assert!(t.contains("subtensor{1:3:1, ?}(%0, %2)"), "{t}");
    assert!(t.contains("subtensor{?, ?}(%0, %1, %1) : float64[]"), "{t}");
}

#[test]
fn set_and_inc_subtensor() {
    let x = dmatrix("x");
    let v = dvector("v");
    let i = lscalar("i");
    let t = roundtrip(&[
        set_subtensor(&x, &[Index::from(0)], 1.0),
        inc_subtensor(&x, &[Index::from(..), Index::from(1)], &v),
        set_subtensor(&v, &[Index::from(&i)], 0.0),
        inc_subtensor(&v, &[Index::step(2)], 2),
    ]);
    assert!(t.contains("set_subtensor{0}(%0, %"), "{t}");
    assert!(t.contains("inc_subtensor{::1, 1}(%0, %1)"), "{t}");
    assert!(t.contains("set_subtensor{?}(%1, %"), "{t}");
}

#[test]
fn a_small_model() {
    let x = dmatrix("x");
    let y = dmatrix("y_onehot");
    let w = shared(Tensor::zeros(DType::F64, &[3, 2]), "W");
    let b = shared(vec![0.0, 0.0], "b");
    let logits = (x.dot(&w) + &b).named("logits");
    let loss = (-(log_softmax(&logits, -1) * &y).sum_axis(1).mean()).named("loss");
    let pred = logits.argmax_axis(1).named("pred");
    let l2 = (w.sqr().sum() * 1e-4).named("l2");
    roundtrip(&[&loss + &l2, pred, softmax(&logits, 1)]);
}

#[test]
fn graphs_built_node_by_node() {
    let mut g = FunctionGraph::new();
    let x = g.add_input("x", TensorType::new(DType::F64, vec![None, Some(4)]));
    let y = g.add_input("y", TensorType::new(DType::F64, vec![None, Some(4)]));
    let unused = g.add_input("unused", TensorType::scalar(DType::Bool));
    let _ = unused;
    let add3 = g.add_node(Op::Elemwise(ScalarOp::Add), vec![x, y, x]).unwrap();
    let keep = g
        .add_node(
            Op::Reshape { shape: vec![ReshapeDim::Keep(0), ReshapeDim::Fixed(2), ReshapeDim::Infer] },
            vec![add3],
        )
        .unwrap();
    let none =
        g.add_node(Op::Reduce { op: ReduceOp::Sum, axes: vec![], keepdims: false }, vec![keep]).unwrap();
    let whole = g.add_node(Op::Subtensor { index: vec![] }, vec![none]).unwrap();
    let lse = g.add_node(Op::LogSumExp { axes: vec![], keepdims: true }, vec![whole]).unwrap();
    let c = g.add_constant(Tensor::from(vec![1.0, 2.0]));
    let _dead = g.add_node(Op::Elemwise(ScalarOp::Exp), vec![c]).unwrap();
    g.set_outputs(vec![lse, add3, lse]);
    let t = roundtrip_graph(&g);
    assert!(t.contains("add(%0, %1, %0) : float64[?,4]"), "{t}");
    assert!(t.contains("reshape{[@0,2,-1]}(%3) : float64[?,2,?]"), "{t}");
    assert!(t.contains("sum{axes=[]}(%4)"), "{t}");
    assert!(t.contains("subtensor{}(%5)"), "{t}");
    assert!(t.contains("logsumexp{axes=[], keepdims}(%6)"), "{t}");
    assert!(t.contains("input \"unused\" : bool[]"), "{t}");
    assert!(!t.contains("exp("), "dead nodes are not printed: {t}");
}

#[test]
fn second_shape_donors_and_split_parts() {
    let mut g = FunctionGraph::new();
    let x = g.add_input("x", TensorType::new(DType::F64, vec![None, Some(3)]));
    let y = g.add_input("y", TensorType::new(DType::F32, vec![Some(2), None]));
    let zeros = g.add_constant(Tensor::zeros(DType::F32, &[1, 1]));
    let second = g.add_node(Op::Elemwise(ScalarOp::Second), vec![x, zeros]).unwrap();
    let flat = g.add_node(Op::Reshape { shape: vec![ReshapeDim::Infer] }, vec![x]).unwrap();
    let like = g
        .add_node(Op::Reshape { shape: vec![ReshapeDim::Like(1), ReshapeDim::Like(0)] }, vec![flat, y])
        .unwrap();
    let whole = g.add_node(Op::Concatenate { axis: 0 }, vec![x, x]).unwrap();
    let part = g.add_node(Op::SplitPart { axis: 0, part: 1 }, vec![whole, x, x]).unwrap();
    g.set_outputs(vec![second, like, part]);
    let t = roundtrip_graph(&g);
    assert!(t.contains("second(%0, %2) : float32[?,3]"), "{t}");
    assert!(t.contains("reshape{[^1,^0]}(%4, %1) : float64[?,2]"), "{t}");
    assert!(t.contains("split_part{axis=0, part=1}(%6, %0, %0) : float64[?,3]"), "{t}");
    let bad = t.replace("reshape{[^1,^0]}(%4, %1)", "reshape{[^1,^0]}(%4)");
    let r = FunctionGraph::parse(&bad);
    assert!(matches!(r, Err(GraphError::Parse { line: 7, .. })), "{r:?}\n{bad}");
}

#[test]
fn graph_after_replace_prints_compacted() {
    let x = dvector("x");
    let e = x.exp();
    let mut g = FunctionGraph::from_outputs(&[e.sum(), (&e * 2.0).log()]).unwrap();
    let old = g.node(g.outputs()[0]).inputs[0];
    let new = g.add_node(Op::Elemwise(ScalarOp::Sqr), vec![g.inputs()[0]]).unwrap();
    g.replace(old, new).unwrap();
    let t = roundtrip_graph(&g);
    assert!(!t.contains("exp("), "{t}");
    assert!(t.contains("%1 = sqr(%0) : float64[?]"), "{t}");
}

#[test]
fn deep_chain() {
    let x = dscalar("x");
    let mut y = x.clone();
    for k in 0..3000 {
        y = if k % 2 == 0 { y.sin() } else { &y + 1.0 };
    }
    let t = roundtrip(&[y]);
    assert!(t.lines().count() > 3000);
}

#[test]
fn empty_graph() {
    let t = roundtrip_graph(&FunctionGraph::new());
    assert_eq!(t, "graph {\n  return\n}\n");
    let mut g = FunctionGraph::new();
    g.add_input("x", TensorType::scalar(DType::F64));
    assert_eq!(roundtrip_graph(&g), "graph {\n  %0 = input \"x\" : float64[]\n  return\n}\n");
}

// ---------------------------------------------------------------------------------------
// Handwritten text

const GOLDEN: &str = r#"graph {
  %0 = input "x" : float64[]
  %1 = input "W" : float64[?,3]
  %2 = input "i" : int64[]
  %3 = constant 2.0 : float64[]
  %4 = pow(%0, %3) : float64[]
  %5 = shared "b" : float64[?]
  %6 = sum{axes=[0], keepdims}(%5) : float64[1]
  %7 = cast{float32}(%4) : float32[]
  %8 = constant [[1.0, 2.0], [3.0, 4.0]] : float64[2,2]
  %9 = subtensor{1:2:1, ?}(%8, %2) : float64[1]
  %10 = mul(%0, %0) : float64[] "y"
  %11 = dimshuffle{0,x}(%5) : float64[?,1]
  %12 = dot(%1, %11) : float64[?,1]
  %13 = reshape{[@0,-1]}(%12) : float64[?,?]
  %14 = set_subtensor{::-1}(%13, %3) : float64[?,?]
  %15 = shared "counter" : int32[] "n"
  %16 = constant [NaN, inf, -inf, -0.0, 1e-300] : float64[5] "specials"
  %17 = argmax{axes=[0]}(%16) : int64[]
  %18 = log_softmax{axis=1}(%14) : float64[?,?]
  return %4, %6, %7, %9, %10, %14, %15, %17, %18, %4
}
"#;

#[test]
fn golden_text_prints_as_written() {
    let g = FunctionGraph::parse(GOLDEN).unwrap_or_else(|e| panic!("{e}"));
    g.verify().unwrap();
    assert_eq!(g.to_string(), GOLDEN);
    // Names land where `from_vars` would put them (`%k` is the k-th id of the arena).
    let id: Vec<NodeId> = g.ids().collect();
    assert_eq!(g.name(id[10]), Some("y"));
    assert_eq!(g.name(id[5]), Some("b"));
    assert_eq!(g.name(id[15]), Some("n"));
    assert_eq!(g.name(id[16]), Some("specials"));
    assert_eq!(g.ty(id[12]), &TensorType::new(DType::F64, vec![None, Some(1)]));
}

#[test]
fn the_same_graph_built_with_builders_prints_the_same() {
    let x = dscalar("x");
    let y = (&x * &x).named("y");
    let g = FunctionGraph::from_outputs(&[x.pow(2), y]).unwrap();
    let text = "graph {\n  %0 = input \"x\" : float64[]\n  %1 = constant 2.0 : float64[]\n  %2 = pow(%0, %1) : float64[]\n  %3 = mul(%0, %0) : float64[] \"y\"\n  return %2, %3\n}\n";
    assert_eq!(g.to_string(), text);
}

#[test]
fn comments_blank_lines_and_spacing_are_ignored() {
    let text = r#"
; A golden test file may start with comments.

graph{
  ; inputs
  %0 = input "x":float64[ ]   ; trailing comment
  %1=input "W" : float64 [?, 3]

  %2 = input "i" : int64[]
  %3 = constant 2.0 : float64[]
  %4 = pow( %0 , %3 ) : float64[]
  %5 = shared "b" : float64[?]
  %6 = sum{ axes = [ 0 ] , keepdims }(%5) : float64[1]
  %7 = cast{ float32 }(%4) : float32[]
  %8 = constant [[1.0,2.0],[3.0,4.0]] : float64[2,2]
  %9 = subtensor{1:2:1,?}(%8, %2) : float64[1]
  %10 = mul(%0, %0) : float64[] "y" ; named
  %11 = dimshuffle{0, x}(%5) : float64[?,1]
  %12 = dot(%1, %11) : float64[?,1]
  %13 = reshape{[@0, -1]}(%12) : float64[?,?]
  %14 = set_subtensor{ : : -1 }(%13, %3) : float64[?,?]
  %15 = shared "counter" : int32[] "n"
  %16 = constant [nan, inf, -inf, -0.0, 1e-300] : float64[5] "specials"
  %17 = argmax{axes=[0]}(%16) : int64[]
  %18 = log_softmax{axis=1}(%14) : float64[?,?]
  return %4,%6, %7, %9, %10, %14, %15, %17, %18, %4
}
; and end with them
"#;
    let g = FunctionGraph::parse(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.to_string(), GOLDEN);
}

#[test]
fn crlf_line_endings() {
    let text = GOLDEN.replace('\n', "\r\n");
    assert_eq!(FunctionGraph::parse(&text).unwrap().to_string(), GOLDEN);
}

#[test]
fn duplicate_lines_are_hash_consed() {
    let text = "graph {\n  %0 = input \"x\" : float64[]\n  %1 = exp(%0) : float64[]\n  %2 = exp(%0) : float64[]\n  %3 = add(%1, %2) : float64[]\n  return %3\n}\n";
    let g = FunctionGraph::parse(text).unwrap();
    g.verify().unwrap();
    assert_eq!(
        g.to_string(),
        "graph {\n  %0 = input \"x\" : float64[]\n  %1 = exp(%0) : float64[]\n  %2 = add(%1, %1) : float64[]\n  return %2\n}\n"
    );
}

#[test]
fn lenient_number_spellings_read_the_same_value() {
    let text = "graph {\n  %0 = constant [1, 1e0, +1.0, 0.5e1] : float64[4]\n  %1 = constant [+3, -0] : int64[2]\n  return %0, %1\n}\n";
    let g = FunctionGraph::parse(text).unwrap();
    assert_eq!(
        g.to_string(),
        "graph {\n  %0 = constant [1.0, 1.0, 1.0, 5.0] : float64[4]\n  %1 = constant [3, 0] : int64[2]\n  return %0, %1\n}\n"
    );
}

// ---------------------------------------------------------------------------------------
// Malformed text

#[test]
fn malformed_texts_report_their_line() {
    let head = "graph {\n  %0 = input \"x\" : float64[?]\n";
    let tail = "  return %1\n}\n";
    let node = |line: &str| format!("{head}  {line}\n{tail}");
    let cases: Vec<(String, usize, &str)> = vec![
        (node("%1 = frobnicate(%0) : float64[?]"), 3, "unknown op `frobnicate`"),
        (node("%1 = exp(%0, %0) : float64[?]"), 3, "takes 1 input"),
        (node("%1 = pow(%0) : float64[?]"), 3, "takes 2 inputs"),
        (node("%1 = add(%0) : float64[?]"), 3, "2 or more"),
        (node("%1 = exp(%5) : float64[?]"), 3, "%5 is not defined"),
        (node("%1 = exp(%1) : float64[?]"), 3, "%1 is not defined"),
        (node("%2 = exp(%0) : float64[?]"), 3, "expected node %1"),
        (node("%01 = exp(%0) : float64[?]"), 3, "invalid node id"),
        (node("%1 = exp(%0) : float64[?] garbage"), 3, "unexpected `garbage`"),
        (node("%1 = exp(%0) : float64[?] \"n\" \"m\""), 3, "unexpected `\"m\"`"),
        (node("%1 = exp(%0) : float32[?]"), 3, "differs from float64[?]"),
        (node("%1 = exp(%0) : float64[3]"), 3, "differs"),
        (node("%1 = exp(%0) : float16[?]"), 3, "unknown dtype `float16`"),
        (node("%1 = exp(%0)"), 3, "expected `:`"),
        (node("%1 = exp{axis=0}(%0) : float64[?]"), 3, "expected `(`"),
        (node("%1 = sum(%0) : float64[]"), 3, "expected `{`"),
        (node("%1 = sum{axes=[0], keep}(%0) : float64[]"), 3, "expected `keepdims`"),
        (node("%1 = sum{axes=[1]}(%0) : float64[]"), 3, "invalid axis 1"),
        (node("%1 = cast{float8}(%0) : float64[?]"), 3, "unknown dtype"),
        (node("%1 = dimshuffle{0,y}(%0) : float64[?]"), 3, "expected an axis or `x`"),
        (node("%1 = reshape{[-2]}(%0) : float64[?]"), 3, "invalid reshape length -2"),
        (node("%1 = subtensor{1:2}(%0) : float64[?]"), 3, "with the step"),
        (node("%1 = subtensor{?}(%0) : float64[]"), 3, "1 symbolic indices, 0 index inputs"),
        (node("%1 = subtensor{,}(%0) : float64[?]"), 3, "expected an index"),
        (node("%1 = constant [1.0, 2.0] : float64[3]"), 3, "does not have the shape"),
        (node("%1 = constant [[1.0], 2.0] : float64[2,1]"), 3, "does not have the shape"),
        (node("%1 = constant 1.5 : int64[]"), 3, "`1.5` is not an element of dtype int64"),
        (node("%1 = constant 2 : bool[]"), 3, "`2` is not an element of dtype bool"),
        (node("%1 = constant 1.0 : float64[?]"), 3, "must give every length"),
        (node("%1 = constant NaN(0x0000000000000001) : float64[]"), 3, "not an element of dtype float64"),
        (node("%1 = constant 1e400x : float64[]"), 3, "not an element of dtype float64"),
        (node("%1 = constant [1.0, : float64[1]"), 3, "expected a constant value"),
        (node("%1 = input \"y : float64[]"), 3, "unterminated"),
        (node("%1 = input \"y\\q\" : float64[]"), 3, "unknown escape"),
        (node("%1 = input \"\\u{110000}\" : float64[]"), 3, "invalid `\\u{…}` escape"),
        (node("%1 = input y : float64[]"), 3, "expected a quoted name"),
        (node("%1 = input \"y\" : float64[] \"z\""), 3, "unexpected"),
        (node("%1 = exp(%0) : float64[-1]"), 3, "expected an axis length"),
        (node("%1 = input \"y\" : float64[18446744073709551615]"), 3, "more elements than any array"),
        (node("%1 = input \"y\" : float64[4294967296,4294967296]"), 3, "more elements than any array"),
        (
            node("%1 = reshape{[9223372036854775807,9223372036854775807]}(%0) : float64[?]"),
            3,
            "lengths larger",
        ),
        (node("%1 = shared \"s\" : float64[9223372036854775807]"), 3, "too large to hold"),
        (node("%1 = constant [] : float64[0,18446744073709551615]"), 3, "more elements than any array"),
        (node("1 = exp(%0) : float64[?]"), 3, "expected a node `%N = …` or `return`"),
        (node("%1 exp(%0) : float64[?]"), 3, "expected `=`"),
        (node("%1 = (%0) : float64[?]"), 3, "expected an op name"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %2\n}}\n"), 4, "%2 is not defined"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %1 %1\n}}\n"), 4, "unexpected `%1`"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %1,\n}}\n"), 4, "expected a node id"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n}}\n"), 4, "missing `return`"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %1\n"), 4, "missing closing `}`"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %1\n  return %1\n}}\n"), 5, "expected `}`"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %1\n}}\n}}\n"), 6, "after the closing"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n  return %1\n}} x\n"), 5, "unexpected `x`"),
        (format!("{head}  %1 = exp(%0) : float64[?]\n"), 3, "missing `return` line and closing"),
        ("\n\n  %0 = input \"x\" : float64[]\n".into(), 3, "expected `graph`"),
        ("graph\n".into(), 1, "expected `{`"),
        ("graph { %0\n".into(), 1, "unexpected `%0`"),
        ("".into(), 1, "expected `graph {`"),
        ("; only a comment\n".into(), 1, "expected `graph {`"),
    ];
    for (text, line, reason) in &cases {
        let (got_line, got_reason) = parse_error_line(text);
        assert_eq!(got_line, *line, "wrong line for {reason:?} ({got_reason}) in\n{text}");
        assert!(got_reason.contains(reason), "expected {reason:?}, got {got_reason:?} in\n{text}");
    }
}

#[test]
fn absurd_static_lengths_are_errors_not_overflows() {
    // Line 2 when the input type itself cannot be an array's, else line 3 (the op).
    let cases = [
        ("float64[9223372036854775807,4]", "reshape{[-1]}(%0) : float64[?]", 2),
        ("float64[4611686018427387904,2]", "concatenate{axis=0}(%0, %0) : float64[?,2]", 2),
        ("float64[4294967296]", "reshape{[@0,@0,@0,-1]}(%0) : float64[?]", 3),
        ("float64[4]", "reshape{[9223372036854775807,9223372036854775807]}(%0) : float64[?]", 3),
        ("float64[9223372036854775807]", "concatenate{axis=0}(%0, %0) : float64[?]", 3),
        ("float64[4611686018427387904]", "concatenate{axis=0}(%0, %0) : float64[?]", 3),
        ("float64[5]", "subtensor{::9223372036854775807}(%0) : float64[1]", 3),
        ("float64[5]", "subtensor{::-9223372036854775808}(%0) : float64[1]", 3),
        ("float64[9223372036854775807]", "subtensor{1::2}(%0) : float64[?]", 3),
        ("float64[3037000500,3037000500]", "reshape{[-1]}(%0) : float64[?]", 2),
    ];
    for (ty, node, want) in cases {
        let text = format!("graph {{\n  %0 = input \"x\" : {ty}\n  %1 = {node}\n  return %1\n}}\n");
        let (line, reason) = parse_error_line(&text);
        assert_eq!(line, want, "{reason}\n{text}");
    }
}

#[test]
fn parse_errors_display_with_the_line() {
    let e = FunctionGraph::parse("graph {\n  %0 = nope() : float64[]\n  return\n}\n").unwrap_err();
    assert_eq!(e.to_string(), "parse error at line 2: unknown op `nope`");
}

#[test]
fn mangled_text_never_panics() {
    // Every prefix of the golden text, and the text with each character removed or
    // replaced: each parses or gives a parse error, never a panic.
    let chars: Vec<char> = GOLDEN.chars().collect();
    let check = |text: &str| match FunctionGraph::parse(text) {
        Ok(g) => {
            g.verify().unwrap_or_else(|e| panic!("{e}\n{text}"));
        }
        Err(GraphError::Parse { .. }) => {}
        Err(e) => panic!("not a parse error: {e}\n{text}"),
    };
    for k in 0..=chars.len() {
        check(&chars[..k].iter().collect::<String>());
        if k < chars.len() {
            let mut removed = chars.clone();
            removed.remove(k);
            check(&removed.iter().collect::<String>());
            for r in ['%', '[', '"', '9', '-', ':', '{', '\\', 'x'] {
                let mut replaced = chars.clone();
                replaced[k] = r;
                check(&replaced.iter().collect::<String>());
            }
        }
    }
}

#[test]
fn multi_output_composites_round_trip_and_verify() {
    let text = "graph {
  %0 = input \"x\" : float64[?]
  %1 = composite{in float64 | t0 = exp(i0) | t1 = sin(t0) | return t1, t0}(%0) : float64[?]
  %2 = composite_output{1, float64}(%1) : float64[?]
  return %1, %2
}
";
    let g = FunctionGraph::parse(text).unwrap();
    g.verify().unwrap();
    assert_eq!(g.to_string(), text);
    assert_eq!(tensorlift_ir::pp_graph_depth(&g, g.outputs()[1], 3), "Composite{sin(exp(i0)), exp(i0)}(x).1");
    assert_eq!(tensorlift_ir::pp_graph_depth(&g, g.outputs()[0], 3), "Composite{sin(exp(i0)), exp(i0)}(x).0");
    // An output the composite does not have, or of the wrong dtype, or of a node that is not
    // a composite, is refused.
    for bad in [
        "composite_output{2, float64}(%1)",
        "composite_output{1, float32}(%1)",
        "composite_output{1, float64}(%0)",
    ] {
        let ty = if bad.contains("float32") { "float32" } else { "float64" };
        let t = text.replace("composite_output{1, float64}(%1) : float64", &format!("{bad} : {ty}"));
        let verified = FunctionGraph::parse(&t).and_then(|g| g.verify());
        assert!(verified.is_err(), "{t}");
    }
}
