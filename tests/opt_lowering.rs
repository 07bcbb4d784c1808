//! #16: the optimizer makes every kernel program the executor runs natively (lone float
//! elementwise ops and whole 0-d graphs become `Composite`s, lone float reductions
//! `FusedReduce`s); the count of `mean`'s gradient is a length, not a reduction; the
//! reference sum over a contiguous axis sums each lane as one slice.

use tensorlift as tl;
use tensorlift::kernels::KernelInput;
use tensorlift::workloads::{cases, Size};
use tensorlift::{DType, FunctionGraph, Mode, Op, ReduceOp, ScalarNode, Tensor, TensorType};

fn is_float(d: DType) -> bool {
    matches!(d, DType::F32 | DType::F64)
}

/// Every node of `g` the JIT can run that is not a kernel the optimizer made: a float
/// elementwise op over float inputs, or a float reduction.
fn not_lowered(g: &FunctionGraph) -> Vec<String> {
    g.toposort()
        .into_iter()
        .filter(|&id| {
            let node = g.node(id);
            let float = is_float(g.ty(id).dtype);
            match &node.op {
                Op::Elemwise(_) => float && node.inputs.iter().all(|&i| is_float(g.ty(i).dtype)),
                Op::Reduce { op, .. } => float && !matches!(op, ReduceOp::All | ReduceOp::Any),
                _ => false,
            }
        })
        .map(|id| g.describe(id))
        .collect()
}

/// Functions from the tutorial and the workloads W3, W5 and W6, compiled for `Mode::Jit`.
fn functions() -> Vec<(String, tl::Function)> {
    let mut out = Vec::new();
    let x = tl::dscalar("x");
    let y = tl::dscalar("y");
    out.push(("x**2".into(), tl::function(&[&x], &[x.pow(2)]).unwrap()));
    out.push(("[x*y, x+y]".into(), tl::function(&[&x, &y], &[&x * &y, &x + &y]).unwrap()));
    let g = tl::grad(&((&x - 4.0) * (x.pow(2) + 6.0)), &x).unwrap();
    out.push(("grad cubic".into(), tl::function(&[&x], &[g]).unwrap()));
    let v = tl::dvector("v");
    out.push(("v**2".into(), tl::function(&[&v], &[v.pow(2)]).unwrap()));
    out.push(("sum(v)".into(), tl::function(&[&v], &[tl::sum(&v), &v * 2.0]).unwrap()));
    let m = tl::dmatrix("m");
    let s = 1.0 / (1.0 + tl::exp(-&m));
    out.push(("sigmoid".into(), tl::function(&[&m], &[s]).unwrap()));
    let w = tl::shared(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]], "W");
    let b = tl::shared(vec![1.0, 1.0], "b");
    let lin = tl::dot(&w, &v) + &b;
    out.push(("dot(W, v) + b".into(), tl::function(&[&v], &[lin]).unwrap()));
    for id in ["W3", "W5", "W6"] {
        for c in cases(id, Size::Quick) {
            out.push((format!("{id} {}", c.case), c.compile(Mode::Jit).unwrap()));
        }
    }
    out
}

/// #16 item 1 and 2: the executor never has to make a program: every float elementwise
/// node is a `Composite` (or inside a `FusedReduce`), every float reduction a `FusedReduce`.
#[test]
fn item1_every_float_kernel_is_one_the_optimizer_made() {
    for (name, f) in functions() {
        let left = not_lowered(f.optimized_graph());
        assert!(left.is_empty(), "{name}: {left:?}\n{}", f.optimized_graph());
    }
}

/// #16 item 1: a graph of 0-d floats is one composite reading the graph's inputs, the second
/// output a projection of it; the values are those of the expressions.
#[test]
fn item1_a_scalar_graph_is_one_composite() {
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    for mode in [Mode::Jit, Mode::Interp, Mode::Debug] {
        let f = tl::Function::builder(&[&x, &y], &[&x * &y, &x + &y]).mode(mode).build().unwrap();
        let g = f.optimized_graph();
        let ops: Vec<&Op> = g.toposort().into_iter().map(|id| &g.node(id).op).collect();
        let composites = ops.iter().filter(|op| matches!(op, Op::Composite(_))).count();
        let projections = ops.iter().filter(|op| matches!(op, Op::CompositeOutput { index: 1, .. })).count();
        assert_eq!((composites, projections, ops.len()), (1, 1, 4), "{g}");
        let out = f.call(&tl::args![2.0, 3.0]).unwrap();
        assert_eq!((out[0].to_f64().unwrap(), out[1].to_f64().unwrap()), (6.0, 5.0));
    }
}

/// #16 item 1: `pp` of a lone op made a kernel reads as the op did.
#[test]
fn item1_pp_of_a_lone_op_kernel_is_the_op() {
    let x = tl::dscalar("x");
    let v = tl::dvector("v");
    let pp = |ins: &[&tl::Var], out: tl::Var| tl::function(ins, &[out]).unwrap().pp_output(0).unwrap();
    assert_eq!(pp(&[&x], x.pow(2)), "sqr(x)");
    assert_eq!(pp(&[&x], &x * 3.0), "(TensorConstant{3.0} * x)");
    assert_eq!(pp(&[&v], tl::exp(&v)), "exp(v)");
    assert_eq!(pp(&[&v], &v + 1.0), "(TensorConstant{1.0} + v)");
    assert_eq!(pp(&[&v], tl::sum(&v)), "sum(v)");
    // A kernel of more than one op prints as the composite it is.
    assert_eq!(pp(&[&x], tl::exp(&x) * 2.0), "Composite{(2.0 * exp(i0))}(x)");
}

/// #16 item 2: W5's lone reductions (the mean cost of a matrix product's result read again,
/// the bias gradient) are fused reductions of the identity, with the results of the
/// reference interpreter, and `Mode::Debug` agrees.
#[test]
fn item2_w5_reductions_are_native_and_agree() {
    let case = cases("W5", Size::Quick).remove(0);
    let identity = |g: &FunctionGraph| {
        g.toposort()
            .into_iter()
            .filter(|&id| matches!(&g.node(id).op, Op::FusedReduce { body, .. } if body.nodes.is_empty()))
            .count()
    };
    let jit = case.compile(Mode::Jit).unwrap();
    assert_eq!(identity(jit.optimized_graph()), 2, "{}", jit.optimized_graph());
    let got = case.call(&jit).unwrap()[0].to_f64().unwrap();
    let case = cases("W5", Size::Quick).remove(0);
    let want = case.call(&case.compile(Mode::Interp).unwrap()).unwrap()[0].to_f64().unwrap();
    assert!((got - want).abs() <= 1e-12 * want.abs(), "{got} vs {want}");
    let case = cases("W5", Size::Quick).remove(0);
    case.call(&case.compile(Mode::Debug).unwrap()).unwrap();
}

/// #16 item 3: in W5 the count of the mean's gradient is the length: no reduction reads a
/// fill, and no composite has a fill among its outputs (three reductions in all: the mean
/// cost, the L2 term, the bias gradient).
#[test]
fn item3_w5_counts_with_the_length() {
    let f = cases("W5", Size::Quick).remove(0).compile(Mode::Jit).unwrap();
    let g = f.optimized_graph();
    let mut reductions = 0;
    for id in g.toposort() {
        match &g.node(id).op {
            Op::Reduce { .. } | Op::FusedReduce { .. } => reductions += 1,
            Op::Composite(p) => {
                let n_in = p.inputs.len();
                for o in p.outputs() {
                    let fill = o.index() >= n_in
                        && matches!(
                            &p.nodes[o.index() - n_in],
                            ScalarNode::Apply { op: tl::ScalarOp::Second, .. }
                        );
                    assert!(!fill, "a fill output: {}", g.describe(id));
                }
            }
            _ => {}
        }
    }
    assert_eq!(reductions, 3, "{g}");
}

fn reference_sum(x: &Tensor, axes: &[usize], keepdims: bool) -> Tensor {
    let ty = TensorType::new(x.dtype(), vec![None; x.ndim()]);
    let input = KernelInput { value: x, ty: &ty, name: "x" };
    let out_ndim = if keepdims { x.ndim() } else { x.ndim() - axes.len() };
    let out = TensorType::new(x.dtype(), vec![None; out_ndim]);
    tl::kernels::eval(&Op::Reduce { op: ReduceOp::Sum, axes: axes.to_vec(), keepdims }, &[input], &out)
        .unwrap()
}

/// #16 item 2: the reference sum over trailing axes sums each contiguous lane pairwise, as
/// the sum over every axis does: with `keepdims` (or per row) it is the same value, bit for
/// bit, where a sequential sum of a million tenths drifts.
#[test]
fn item2_reference_sum_of_lanes_is_the_pairwise_sum() {
    let n = 1_000_000;
    let v = Tensor::from(vec![0.1f64; n]);
    let all = reference_sum(&v, &[0], false).to_f64().unwrap();
    let kept = reference_sum(&v, &[0], true);
    assert_eq!(kept.shape(), &[1]);
    assert_eq!(kept.to_vec::<f64>().unwrap()[0].to_bits(), all.to_bits());
    let sequential = (0..n).fold(0.0f64, |a, _| a + 0.1);
    assert_ne!(sequential.to_bits(), all.to_bits(), "the data shows the difference");
    let m = Tensor::from(ndarray::Array2::from_elem((2, n / 2), 0.1f64));
    let rows = reference_sum(&m, &[1], false).to_vec::<f64>().unwrap();
    let half = reference_sum(&Tensor::from(vec![0.1f64; n / 2]), &[0], false).to_f64().unwrap();
    assert_eq!(rows, vec![half, half]);
    // `-0.0` is kept, the sum of nothing is `+0.0`, a float32 sum is rounded once.
    let neg = reference_sum(&Tensor::from(vec![-0.0f64]), &[0], true).to_vec::<f64>().unwrap();
    assert!(neg[0] == 0.0 && neg[0].is_sign_negative());
    let empty = reference_sum(&Tensor::from(Vec::<f64>::new()), &[0], true).to_vec::<f64>().unwrap();
    assert!(empty == [0.0] && empty[0].is_sign_positive());
    let f32s = reference_sum(&Tensor::from(vec![0.1f32; 1000]), &[0], true);
    assert_eq!(f32s.to_vec::<f32>().unwrap(), [(0.1f32 as f64 * 1000.0) as f32]);
}
