//! `FunctionGraph`: hash-consing, use lists, `replace` (with merging of nodes that become
//! equal), `compact`, the verifier, and the graph-building errors.

use tensorlift_ir::*;

fn ids_with_op(g: &FunctionGraph, name: &str) -> Vec<NodeId> {
    g.toposort().into_iter().filter(|&id| g.node(id).op.name() == name).collect()
}

#[test]
fn equal_subexpressions_are_one_node() {
    let x = dvector("x");
    let a = x.exp() + 1.0;
    let b = x.exp() + 1.0; // built separately, equal
    let g = FunctionGraph::from_vars(&[x], &[a * b]).unwrap();
    assert_eq!(ids_with_op(&g, "exp").len(), 1);
    assert_eq!(ids_with_op(&g, "add").len(), 1);
    let mul = ids_with_op(&g, "mul")[0];
    let add = ids_with_op(&g, "add")[0];
    assert_eq!(g.node(mul).inputs[..], [add, add]);
    assert_eq!(g.uses(add).to_vec(), vec![mul, mul]);
    assert_eq!(g.use_count(add), 2);
    g.verify().unwrap();
}

#[test]
fn constants_merge_by_value_and_type() {
    let x = dvector("x");
    let g = FunctionGraph::from_vars(&[&x], &[(&x + 2.0) * 2.0, &x * 2.0f32]).unwrap();
    // Every 2.0 beside a float64 vector is the same float64 constant.
    assert_eq!(ids_with_op(&g, "constant").len(), 1);
    let xs = fvector("xs");
    let g = FunctionGraph::from_vars(&[x.clone(), xs.clone()], &[&x * 2.0, &xs * 2.0]).unwrap();
    assert_eq!(ids_with_op(&g, "constant").len(), 2, "float32 and float64 constants differ");
}

#[test]
fn missing_and_misused_inputs_are_errors() {
    let x = dscalar("x");
    let y = dscalar("y");
    let err = FunctionGraph::from_vars(&[&x], &[&x + &y]).unwrap_err();
    assert!(err.to_string().contains("needs input y"), "{err}");
    let err = FunctionGraph::from_vars(&[x.exp()], &[x.exp()]).unwrap_err();
    assert!(err.to_string().contains("not an input variable"), "{err}");
    let err = FunctionGraph::from_vars(&[x.clone(), x.clone()], &[x.exp()]).unwrap_err();
    assert!(err.to_string().contains("listed twice"), "{err}");
}

#[test]
fn build_errors_surface_when_the_graph_is_made() {
    let a = tensor("a", DType::F64, &[Some(3)]);
    let b = tensor("b", DType::F64, &[Some(4)]);
    let bad = (&a + &b).exp();
    let err = FunctionGraph::from_vars(&[a, b], &[bad]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("add") && msg.contains("float64[3]") && msg.contains("float64[4]"), "{msg}");
    assert!(msg.contains("graph.rs"), "the location of the bad expression: {msg}");
}

#[test]
fn replace_rewires_users_and_outputs() {
    let x = dvector("x");
    let y = x.exp().sin();
    let mut g = FunctionGraph::from_vars(&[&x], &[y]).unwrap();
    let exp = ids_with_op(&g, "exp")[0];
    let xin = g.inputs()[0];
    let cos = g.add_node(Op::Elemwise(ScalarOp::Cos), vec![xin]).unwrap();
    g.replace(exp, cos).unwrap();
    g.verify().unwrap();
    let (c, _) = g.compact();
    assert!(ids_with_op(&c, "exp").is_empty(), "the exp node is dead after compaction");
    assert_eq!(pp_graph(&c, c.outputs()[0]), "sin(cos(x))");
    // Replacing an output rewires the output list.
    let out = g.outputs()[0];
    g.replace(out, cos).unwrap();
    assert_eq!(g.outputs(), &[cos]);
}

#[test]
fn replace_merges_nodes_that_become_equal() {
    let x = dvector("x");
    let a = x.exp().sin();
    let b = x.cos().sin();
    let mut g = FunctionGraph::from_vars(&[x], &[a + b]).unwrap();
    let exp = ids_with_op(&g, "exp")[0];
    let cos = ids_with_op(&g, "cos")[0];
    g.replace(exp, cos).unwrap();
    g.verify().unwrap();
    let (c, _) = g.compact();
    assert_eq!(ids_with_op(&c, "sin").len(), 1, "sin(exp x) became sin(cos x) and merged");
    assert_eq!(pp_graph(&c, c.outputs()[0]), "(sin(cos(x)) + sin(cos(x)))");
    c.verify().unwrap();
}

#[test]
fn replace_refuses_cycles_and_type_changes() {
    let x = dvector("x");
    let m = dmatrix("m");
    let y = x.exp();
    let mut g = FunctionGraph::from_vars(&[x, m], &[y.sin()]).unwrap();
    let exp = ids_with_op(&g, "exp")[0];
    let sin = ids_with_op(&g, "sin")[0];
    assert!(matches!(g.replace(exp, sin), Err(GraphError::Replace(_))));
    let m_id = g.inputs()[1];
    assert!(matches!(g.replace(exp, m_id), Err(GraphError::Replace(_))));
    g.verify().unwrap();
}

#[test]
fn toposort_puts_inputs_before_users() {
    let x = dmatrix("x");
    let w = shared(vec![vec![1.0, 2.0], vec![3.0, 4.0]], "w");
    let y = softmax(&(dot(&x, &w) + 1.0), -1).sum_axis(1);
    let g = FunctionGraph::from_vars(&[x], &[y]).unwrap();
    let order = g.toposort();
    let pos = |id: NodeId| order.iter().position(|&o| o == id).unwrap();
    for &id in &order {
        for &i in &g.node(id).inputs {
            assert!(pos(i) < pos(id));
        }
    }
    g.verify().unwrap();
}

#[test]
fn a_long_chain_builds_and_drops_without_recursion() {
    let x = dscalar("x");
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = &y + 1.0;
    }
    let g = FunctionGraph::from_vars(&[x], &[y]).unwrap();
    assert_eq!(g.toposort().len(), 200_002);
    g.verify().unwrap();
}

#[test]
fn replace_with_a_more_specific_shape_retypes_the_users() {
    let x = dvector("x");
    let y = x.exp() * 2.0;
    let mut g = FunctionGraph::from_vars(&[&x], &[y.sum_axis(0)]).unwrap();
    let exp = ids_with_op(&g, "exp")[0];
    let c = g.add_constant(Tensor::from(vec![1.0, 2.0, 3.0]));
    g.replace(exp, c).unwrap();
    g.verify().unwrap();
    let mul = ids_with_op(&g, "mul")[0];
    assert_eq!(g.ty(mul).shape, vec![Some(3)]);
    // A replacement whose static length clashes is refused.
    let d = g.add_constant(Tensor::from(vec![1.0, 2.0]));
    assert!(matches!(g.replace(c, d), Err(GraphError::Replace(_))));
}

/// `pp_graph_depth`, which writes elementwise ops in place, prints what `pp_graph` prints
/// when the depth cuts nothing, and `…` below the depth.
#[test]
fn pp_graph_depth_agrees_with_pp_graph() {
    let x = dvector("x");
    let y = dvector("y");
    let m = dmatrix("m");
    let exprs = vec![
        -(&x * 2.0) + y.exp() / (&x - 1.0),
        (x.abs() + x.cast(DType::F32).cast(DType::F64)).sqr(),
        x.maximum(&y).sigmoid() * (&y * &x * 3.0),
        m.sum_axis(1) + &x,
        m.t().dot(&x).tanh(),
    ];
    for e in &exprs {
        let g = FunctionGraph::from_vars(&[&x, &y, &m], std::slice::from_ref(e)).unwrap();
        let out = g.outputs()[0];
        assert_eq!(pp_graph_depth(&g, out, 50), pp_graph(&g, out));
    }
    let g = FunctionGraph::from_vars(&[&x, &y], &[(&x + &y).exp() * 2.0]).unwrap();
    assert_eq!(pp_graph_depth(&g, g.outputs()[0], 1), "(… * TensorConstant{2.0})");
    assert_eq!(pp_graph_depth(&g, g.outputs()[0], 2), "(exp(…) * TensorConstant{2.0})");
}

/// A named constant keeps its value and prints by name.
#[test]
fn a_named_constant_prints_by_its_name() {
    let c = tensorlift_ir::named_constant(2.0, "two");
    assert_eq!(c.name().as_deref(), Some("two"));
    assert_eq!(c.constant_value().unwrap().to_f64_vec(), vec![2.0]);
    let x = tensorlift_ir::dscalar("x");
    let p = tensorlift_ir::pp(&(&x * &c));
    assert!(p.contains("two"), "{p}");
}
