//! Theano's two views of a graph: `pp` (fully parenthesized infix, constants visible,
//! `exp(x)` for named ops) and `debugprint` (a tree with ids and types, a repeated node
//! printed once). Both work on user `Var`s and on any `FunctionGraph`, such as a compiled
//! function's optimized graph.

use crate::graph::{FunctionGraph, NodeId};
use crate::op::{Idx, IndexEntry, Op};
use crate::scalar::{PpForm, ScalarOp};
use crate::types::fmt_shape;
use crate::value::Tensor;
use crate::var::Var;
use std::collections::HashMap;
use std::fmt;

// A `Var` prints as its `pp` form: its text lives with the printer, not with the node.
impl fmt::Debug for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.check() {
            Err(e) => write!(f, "Var(error: {e})"),
            Ok(()) => write!(f, "Var({}: {})", pp(self), self.ty()),
        }
    }
}

impl fmt::Display for Var {
    /// The same as `pp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.check() {
            Err(e) => write!(f, "<error: {e}>"),
            Ok(()) => f.write_str(&pp(self)),
        }
    }
}

/// `pp` of a variable: `(TensorConstant{2.0} * x)`.
pub fn pp(v: &Var) -> String {
    match FunctionGraph::from_outputs(std::slice::from_ref(v)) {
        Ok(g) => pp_graph(&g, g.outputs()[0]),
        Err(e) => format!("<error: {e}>"),
    }
}

/// Subexpressions longer than this print as `…` inside larger ones, so printing stays
/// linear on graphs thousands of levels deep.
pub const PP_MAX_SUBEXPR: usize = 20_000;

/// `pp` of one node of a graph. Works bottom-up without recursion, keeping only the strings
/// still to be read, so graphs of any depth print (very long subexpressions are cut to `…`).
pub fn pp_graph(g: &FunctionGraph, id: NodeId) -> String {
    // The nodes `id` needs, inputs first, and how often each is read among them.
    let order = g.postorder(id, |_| true);
    let mut reads: HashMap<NodeId, usize> = HashMap::new();
    for &n in &order {
        for &i in &g.node(n).inputs {
            *reads.entry(i).or_default() += 1;
        }
    }
    let mut memo: HashMap<NodeId, String> = HashMap::new();
    for &n in &order {
        let args: Vec<String> = g
            .node(n)
            .inputs
            .iter()
            .map(|i| {
                let left = reads.get_mut(i).expect("counted");
                *left -= 1;
                let s = if *left == 0 { memo.remove(i).expect("computed") } else { memo[i].clone() };
                if s.len() > PP_MAX_SUBEXPR {
                    "…".to_string()
                } else {
                    s
                }
            })
            .collect();
        memo.insert(n, format_node(g, n, &args));
    }
    memo.remove(&id).expect("computed last")
}

/// `pp` of one node, cut to `depth` levels of ops: deeper subexpressions print as `…`
/// (leaves always print). For traces and messages about large graphs.
pub fn pp_graph_depth(g: &FunctionGraph, id: NodeId, depth: usize) -> String {
    let mut out = String::with_capacity(64);
    write_depth(g, id, depth, &mut out);
    out
}

/// Appends `pp_graph_depth(g, id, depth)` to `out`. Elementwise ops and leaves (what
/// rewrite traces mostly print) are written in place; other ops go through `format_node`.
fn write_depth(g: &FunctionGraph, id: NodeId, depth: usize, out: &mut String) {
    let node = g.node(id);
    if depth == 0 && !node.op.is_leaf() {
        out.push('…');
        return;
    }
    let below = depth.saturating_sub(1);
    // The operands, each after `sep` but the first (`sep` in pieces: no string is built).
    let args = |out: &mut String, sep: &[&str]| {
        for (k, &i) in node.inputs.iter().enumerate() {
            if k > 0 {
                sep.iter().for_each(|p| out.push_str(p));
            }
            write_depth(g, i, below, out);
        }
    };
    match &node.op {
        Op::Input | Op::Shared(_) | Op::Constant(_) if g.name(id).is_some() => {
            out.push_str(g.name(id).unwrap_or_default())
        }
        // A one-element float constant, as `constant_str` prints it, without its two strings.
        Op::Constant(t) if t.len() == 1 && t.dtype().is_float() => {
            use std::fmt::Write;
            let _ = write!(out, "TensorConstant{{{:?}}}", t.to_f64().unwrap_or(f64::NAN));
        }
        Op::Elemwise(s) => match s.pp_form() {
            PpForm::Prefix(sym) => {
                out.push('(');
                out.push_str(sym);
                args(out, &[]);
                out.push(')');
            }
            PpForm::Infix(sym) => {
                out.push('(');
                args(out, &[" ", sym, " "]);
                out.push(')');
            }
            PpForm::Call => {
                out.push_str(s.name());
                out.push('(');
                args(out, &[", "]);
                out.push(')');
            }
            PpForm::Bars | PpForm::Named(_) | PpForm::Cast(_) => {
                let strings: Vec<String> = node.inputs.iter().map(|&i| pp_graph_depth(g, i, below)).collect();
                out.push_str(&format_node(g, id, &strings));
            }
        },
        _ => {
            let strings: Vec<String> = node.inputs.iter().map(|&i| pp_graph_depth(g, i, below)).collect();
            out.push_str(&format_node(g, id, &strings));
        }
    }
}

/// How `pp` and `debugprint` show a constant: `TensorConstant{2.0}`, or its array printed
/// on one line, cut after 20 characters.
pub fn constant_str(t: &Tensor) -> String {
    let body = if t.len() == 1 {
        let one = t.to_f64_vec()[0];
        match t.dtype() {
            crate::DType::F32 | crate::DType::F64 => format!("{one:?}"),
            crate::DType::Bool => (one != 0.0).to_string(),
            _ => format!("{one}"),
        }
    } else {
        let s = t.to_string().replace('\n', "");
        if s.len() > 20 {
            format!("{:?} of {}", t.shape(), t.dtype())
        } else {
            s
        }
    };
    format!("TensorConstant{{{body}}}")
}

fn index_str(index: &[IndexEntry], idx_args: &[String]) -> String {
    let mut sym = idx_args.iter();
    let parts: Vec<String> = index
        .iter()
        .map(|e| match e {
            IndexEntry::At(Idx::Const(i)) => i.to_string(),
            IndexEntry::At(Idx::Input) => sym.next().expect("index input").clone(),
            IndexEntry::Slice { start, stop, step } => {
                // Bounds in order, each symbolic one naming the next index argument.
                let mut b = |v: Option<Idx>| match v {
                    None => String::new(),
                    Some(Idx::Const(c)) => c.to_string(),
                    Some(Idx::Input) => sym.next().expect("bound input").clone(),
                };
                let (start, stop) = (b(*start), b(*stop));
                if *step == Idx::Const(1) {
                    format!("{start}:{stop}")
                } else {
                    format!("{start}:{stop}:{}", b(Some(*step)))
                }
            }
        })
        .collect();
    parts.join(", ")
}

/// An advanced index as `pp` prints it: each array entry names its index argument.
fn adv_index_str(index: &[crate::op::AdvEntry], idx_args: &[String]) -> String {
    use crate::op::AdvEntry;
    let mut rest = idx_args;
    let parts: Vec<String> = index
        .iter()
        .map(|e| {
            let (mine, after) = rest.split_at(e.n_inputs().min(rest.len()));
            rest = after;
            match e {
                AdvEntry::Basic(b) => index_str(std::slice::from_ref(b), mine),
                AdvEntry::Array => mine.first().cloned().unwrap_or_default(),
            }
        })
        .collect();
    parts.join(", ")
}

fn axes_str(axes: &[usize]) -> String {
    let parts: Vec<String> = axes.iter().map(|a| a.to_string()).collect();
    if axes.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// `pp` of a program that applies one op to its inputs, in order, and constants (a lone
/// elementwise op the optimizer made a kernel, or a 0-d graph of one op): printed as the op,
/// its inputs given by `args`, as the op was before it became a kernel.
fn lone_op(p: &crate::program::ScalarProgram, args: &[String]) -> Option<String> {
    use crate::program::ScalarNode;
    let apply = p.nodes.iter().position(|n| matches!(n, ScalarNode::Apply { .. }))?;
    let ScalarNode::Apply { op, args: operands, .. } = &p.nodes[apply] else { return None };
    let n_in = p.inputs.len();
    let single =
        apply + 1 == p.nodes.len() && p.outputs().len() == 1 && p.outputs()[0].index() == n_in + apply;
    if !single || args.len() != n_in {
        return None;
    }
    let mut next = 0;
    let mut printed = Vec::with_capacity(operands.len());
    for v in operands {
        let k = v.index();
        if k < n_in {
            // The inputs in order, each once.
            if k != next {
                return None;
            }
            next += 1;
            printed.push(args[k].clone());
        } else if let ScalarNode::Const { dtype, bits } = p.nodes[k - n_in] {
            printed.push(constant_str(&Tensor::full(dtype, &[], f64::from_bits(bits))));
        } else {
            return None;
        }
    }
    (next == n_in).then(|| op.pp(&printed))
}

/// True for the body of a reduction of its one input as it is: `pp` prints the reduction
/// of that input.
fn is_identity(p: &crate::program::ScalarProgram) -> bool {
    p.nodes.is_empty() && p.inputs.len() == 1 && p.outputs().len() == 1 && p.outputs()[0].index() == 0
}

/// `pp` of one node given the printed forms of its inputs.
fn format_node(g: &FunctionGraph, id: NodeId, args: &[String]) -> String {
    let node = g.node(id);
    match &node.op {
        Op::Input | Op::Shared(_) => g.name(id).map_or_else(|| format!("<{}>", g.ty(id)), String::from),
        Op::Constant(t) => g.name(id).map_or_else(|| constant_str(t), String::from),
        Op::Elemwise(s) => s.pp(args),
        Op::Reduce { axes, keepdims, .. }
        | Op::LogSumExp { axes, keepdims }
        | Op::ArgReduce { axes, keepdims, .. } => {
            let all = axes.len() == g.ty(node.inputs[0]).ndim();
            let mut s = format!("{}({}", node.op.name(), args[0]);
            if !all {
                s += &format!(", axis={}", axes_str(axes));
            }
            if *keepdims {
                s += ", keepdims=True";
            }
            s + ")"
        }
        Op::Softmax { axis } | Op::LogSoftmax { axis } => {
            format!("{}({}, axis={axis})", node.op.name(), args[0])
        }
        Op::Dot => format!("({} \\dot {})", args[0], args[1]),
        Op::BatchedDot => format!("batched_dot({}, {})", args[0], args[1]),
        Op::Gemm => format!("{}({})", gemm_name(g, id), args.join(", ")),
        Op::Composite(p) if p.n_outputs() > 1 => format!("Composite{{{p}}}({}).0", args.join(", ")),
        Op::Composite(p) => {
            lone_op(p, args).unwrap_or_else(|| format!("Composite{{{p}}}({})", args.join(", ")))
        }
        Op::Scan(info) => format!("for{{{}}}({})", info.name, args.join(", ")),
        Op::ScanOutput { index, .. } => format!("{}.{index}", args[0]),
        // The composite's own `….0` becomes `….<index>`.
        Op::CompositeOutput { index, .. } => {
            format!("{}.{index}", args[0].strip_suffix(".0").unwrap_or(&args[0]))
        }
        Op::FusedReduce { op, axes, keepdims, body } => {
            let all = axes.len() == g.ty(node.inputs[0]).ndim();
            let mut s = if is_identity(body) {
                format!("{}({}", op.name(), args[0])
            } else {
                format!("{}(Composite{{{body}}}({})", op.name(), args.join(", "))
            };
            if !all {
                s += &format!(", axis={}", axes_str(axes));
            }
            if *keepdims {
                s += ", keepdims=True";
            }
            s + ")"
        }
        Op::DimShuffle { order } => {
            let nin = g.ty(node.inputs[0]).ndim();
            let reversed: Vec<Option<usize>> = (0..nin).rev().map(Some).collect();
            let lead = order.iter().take_while(|o| o.is_none()).count();
            let identity_after_lead =
                order[lead..].iter().enumerate().all(|(k, o)| *o == Some(k)) && order.len() - lead == nin;
            if nin >= 2 && *order == reversed {
                format!("{}.T", args[0])
            } else if identity_after_lead {
                args[0].clone()
            } else {
                let parts: Vec<String> =
                    order.iter().map(|o| o.map_or("x".into(), |i| i.to_string())).collect();
                format!("DimShuffle{{{}}}({})", parts.join(","), args[0])
            }
        }
        Op::Reshape { shape } => format!("reshape({}, {})", args[0], crate::op::fmt_reshape(shape)),
        Op::Concatenate { axis } => format!("join({axis}, {})", args.join(", ")),
        Op::SplitPart { axis, part } => {
            format!("split_part{{axis={axis}, part={part}}}({})", args.join(", "))
        }
        Op::Subtensor { index } => format!("{}[{}]", args[0], index_str(index, &args[1..])),
        Op::Shape => format!("Shape({})", args[0]),
        Op::GradBarrier(_) => format!("{}({})", node.op.name(), args[0]),
        Op::IfElse => format!("if{{}}({})", args.join(", ")),
        Op::Rebroadcast { axes } => {
            format!("Rebroadcast{{{}}}({})", crate::text::fmt_rebroadcast(axes), args[0])
        }
        Op::ShapeI { axis } => format!("Shape_i{{{axis}}}({})", args[0]),
        Op::Random(d) => {
            // `uniform{float64}(state, size=(3, n), low, high)`.
            let params = d.dist.params().len();
            let mut lengths = args[1 + params..].iter();
            let dims: Vec<String> = d
                .shape
                .iter()
                .map(|x| match x {
                    crate::op::Dim::Fixed(n) => n.to_string(),
                    crate::op::Dim::Input => lengths.next().cloned().unwrap_or_default(),
                })
                .collect();
            let size =
                if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
            let named: Vec<String> =
                d.dist.params().iter().zip(&args[1..1 + params]).map(|(n, a)| format!("{n}={a}")).collect();
            let stream = if d.stream == 0 { String::new() } else { format!(", stream={}", d.stream) };
            format!(
                "{}{{{}{stream}}}({}, size={size}, {})",
                d.dist.name(),
                d.dtype,
                args[0],
                named.join(", ")
            )
        }
        Op::ARange { dtype } => format!("ARange{{dtype='{dtype}'}}({})", args.join(", ")),
        Op::Eye { dtype } => format!("Eye{{dtype='{dtype}'}}({})", args.join(", ")),
        Op::Cumulative { axis, .. } | Op::Sort { axis } | Op::ArgSort { axis } | Op::Repeat { axis } => {
            format!("{}({}, axis={axis})", node.op.name(), args.join(", "))
        }
        Op::Alloc { shape } => {
            let mut lengths = args[1..].iter();
            let dims: Vec<String> = shape
                .iter()
                .map(|d| match d {
                    crate::op::Dim::Fixed(n) => n.to_string(),
                    crate::op::Dim::Input => lengths.next().cloned().unwrap_or_default(),
                })
                .collect();
            format!("Alloc({}, {})", args[0], dims.join(", "))
        }
        Op::IncSubtensor { index, .. } => {
            format!("{}({}[{}], {})", node.op.name(), args[0], index_str(index, &args[2..]), args[1])
        }
        Op::Conv2d(_)
        | Op::Conv2dGradInputs { .. }
        | Op::Conv2dGradWeights { .. }
        | Op::Pool(_)
        | Op::MaxPoolGrad(_)
        | Op::AveragePoolGrad(_)
        | Op::MaxPoolGradGrad(_) => {
            let params = crate::op::fmt_params(&node.op).unwrap_or_default();
            format!("{}{{{params}}}({})", node.op.name(), args.join(", "))
        }
        Op::AdvancedSubtensor { index } => format!("{}[{}]", args[0], adv_index_str(index, &args[1..])),
        Op::AdvancedIncSubtensor { index, .. } => {
            format!("{}({}[{}], {})", node.op.name(), args[0], adv_index_str(index, &args[2..]), args[1])
        }
    }
}

/// `gemv` when the product is matrix-vector, `gemm` otherwise.
fn gemm_name(g: &FunctionGraph, id: NodeId) -> &'static str {
    if g.ty(g.node(id).inputs[3]).ndim() == 1 {
        "gemv"
    } else {
        "gemm"
    }
}

/// `debugprint` of variables: one tree per variable, each line `op [id X] <type> 'name'`,
/// children drawn with `├─`/`└─`; a node seen before is printed once and then as `···`.
pub fn debugprint(vars: &[Var]) -> String {
    match FunctionGraph::from_outputs(vars) {
        Ok(g) => debugprint_graph(&g),
        Err(e) => format!("<error: {e}>"),
    }
}

/// `debugprint` of a graph's outputs.
pub fn debugprint_graph(g: &FunctionGraph) -> String {
    let mut ids: HashMap<NodeId, String> = HashMap::new();
    let mut expanded = std::collections::HashSet::new();
    let mut out = String::new();
    for &o in g.outputs() {
        tree(g, o, &mut ids, &mut expanded, &mut out);
    }
    // Fused kernels: their scalar programs, one instruction per line (PyTensor's
    // "Inner graphs" section).
    let mut inner: Vec<(String, NodeId)> = ids
        .iter()
        .filter(|(&id, _)| matches!(g.node(id).op, Op::Composite(_) | Op::FusedReduce { .. } | Op::Scan(_)))
        .map(|(&id, tag)| (tag.clone(), id))
        .collect();
    if !inner.is_empty() {
        inner.sort_by_key(|(tag, _)| (tag.len(), tag.clone()));
        out.push_str("\nInner graphs:\n");
        for (tag, id) in inner {
            out.push_str(&format!("\n{} [id {tag}]\n", label(g, id)));
            match &g.node(id).op {
                Op::Composite(p) | Op::FusedReduce { body: p, .. } => {
                    for stmt in p.to_text().split(" | ") {
                        let arrow = if stmt.starts_with("return") { " ← " } else { "   " };
                        out.push_str(&format!("{arrow}{stmt}\n"));
                    }
                }
                // A loop's step: its own debugprint, indented.
                Op::Scan(info) => {
                    let text = match crate::build::scan::ScanStep::of(info) {
                        Ok(step) => debugprint(&step.outputs),
                        Err(e) => format!("<error: {e}>"),
                    };
                    for line in text.lines() {
                        out.push_str(&format!(" ← {line}\n"));
                    }
                }
                _ => unreachable!("filtered"),
            }
        }
    }
    out
}

/// Graphviz DOT of a graph's live nodes (`dot -Tsvg` draws it): one box per op (its
/// `debugprint` label and type; a fused kernel shows its scalar program too), an ellipse per
/// input, constant or shared variable, edges from each input to its reader numbered by
/// position, and the outputs marked `out0`, `out1`, ….
pub fn dot_graph(g: &FunctionGraph) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph tensorlift {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n");
    let mut live = std::collections::HashSet::new();
    let mut order = Vec::new();
    for &o in g.outputs() {
        for id in g.postorder(o, |_| true) {
            if live.insert(id) {
                order.push(id);
            }
        }
    }
    for &id in &order {
        let n = g.node(id);
        let ty = g.ty(id);
        let (shape, text) = match &n.op {
            Op::Input | Op::Shared(_) | Op::Constant(_) => ("ellipse", label(g, id)),
            Op::Composite(p) | Op::FusedReduce { body: p, .. } => {
                ("box", format!("{}\n{}", label(g, id), p.to_text().replace(" | ", "\n")))
            }
            _ => ("box", label(g, id)),
        };
        out.push_str(&format!(
            "  n{} [shape={shape}, label=\"{}\\n{ty}\"];\n",
            id.index(),
            esc(&text).replace('\n', "\\n")
        ));
        for (k, &i) in n.inputs.iter().enumerate() {
            let tag = if n.inputs.len() > 1 { format!(" [label=\"{k}\"]") } else { String::new() };
            out.push_str(&format!("  n{} -> n{}{tag};\n", i.index(), id.index()));
        }
    }
    for (k, &o) in g.outputs().iter().enumerate() {
        out.push_str(&format!("  out{k} [shape=plaintext];\n  n{} -> out{k};\n", o.index()));
    }
    out.push_str("}\n");
    out
}

fn letter_id(mut k: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push((b'A' + (k % 26) as u8) as char);
        k /= 26;
        if k == 0 {
            break;
        }
    }
    s.iter().rev().collect()
}

fn label(g: &FunctionGraph, id: NodeId) -> String {
    let n = g.node(id);
    match &n.op {
        Op::Input | Op::Shared(_) => g.name(id).unwrap_or("input").to_string(),
        Op::Constant(t) => constant_str(t),
        Op::Elemwise(ScalarOp::Cast(d)) => format!("cast{{{d}}}"),
        Op::Reduce { axes, keepdims, .. }
        | Op::ArgReduce { axes, keepdims, .. }
        | Op::LogSumExp { axes, keepdims } => {
            format!("{}{{axes={:?}{}}}", n.op.name(), axes, if *keepdims { ", keepdims" } else { "" })
        }
        Op::Softmax { axis } | Op::LogSoftmax { axis } => format!("{}{{axis={axis}}}", n.op.name()),
        Op::DimShuffle { order } => {
            let parts: Vec<String> = order.iter().map(|o| o.map_or("x".into(), |i| i.to_string())).collect();
            format!("DimShuffle{{{}}}", parts.join(","))
        }
        Op::Reshape { shape } => format!("reshape{{{}}}", crate::op::fmt_reshape(shape)),
        Op::Concatenate { axis } => format!("join{{axis={axis}}}"),
        Op::Gemm => gemm_name(g, id).into(),
        Op::Composite(p) if p.n_outputs() > 1 => format!("Composite{{{p}}}.0"),
        Op::Composite(p) => format!("Composite{{{p}}}"),
        Op::CompositeOutput { index, .. } => format!("output{{{index}}}"),
        Op::Scan(info) => format!("for{{{}}}", info.name),
        Op::ScanOutput { scan, index } => format!("output{{{index}: {}}}", scan.output_label(*index)),
        Op::FusedReduce { op, axes, keepdims, body } => format!(
            "{}{{axes={:?}{}}}(Composite{{{body}}})",
            op.name(),
            axes,
            if *keepdims { ", keepdims" } else { "" }
        ),
        Op::SplitPart { axis, part } => format!("split_part{{axis={axis}, part={part}}}"),
        Op::Subtensor { index } | Op::IncSubtensor { index, .. } => {
            format!("{}{{{}}}", n.op.name(), crate::text::fmt_index(index))
        }
        Op::AdvancedSubtensor { index } | Op::AdvancedIncSubtensor { index, .. } => {
            format!("{}{{{}}}", n.op.name(), crate::text::fmt_adv_index(index))
        }
        Op::Shape => "Shape".into(),
        Op::ShapeI { axis } => format!("Shape_i{{{axis}}}"),
        Op::Alloc { shape } => format!("Alloc{{{}}}", crate::op::fmt_alloc(shape)),
        Op::ARange { dtype } => format!("ARange{{dtype='{dtype}'}}"),
        Op::Random(d) => format!("RandomFunction{{{}}}", d.fmt_params()),
        Op::Rebroadcast { axes } => format!("Rebroadcast{{{}}}", crate::text::fmt_rebroadcast(axes)),
        Op::Eye { dtype } => format!("Eye{{dtype='{dtype}'}}"),
        Op::Cumulative { axis, .. } | Op::Sort { axis } | Op::ArgSort { axis } | Op::Repeat { axis } => {
            format!("{}{{axis={axis}}}", n.op.name())
        }
        op if crate::op::fmt_params(op).is_some() => {
            format!("{}{{{}}}", op.name(), crate::op::fmt_params(op).unwrap_or_default())
        }
        op => op.name(),
    }
}

/// Trees deeper than this print their deeper levels as `…`.
const DEBUGPRINT_MAX_DEPTH: usize = 500;

fn tree(
    g: &FunctionGraph,
    root: NodeId,
    ids: &mut HashMap<NodeId, String>,
    expanded: &mut std::collections::HashSet<NodeId>,
    out: &mut String,
) {
    // (node, first-line prefix, prefix of its children's lines, depth), without recursion.
    let mut stack = vec![(root, String::new(), String::new(), 0usize)];
    while let Some((id, first, rest, depth)) = stack.pop() {
        let next = ids.len();
        let tag = ids.entry(id).or_insert_with(|| letter_id(next)).clone();
        let n = g.node(id);
        let name = match (&n.op, g.name(id)) {
            (Op::Input | Op::Shared(_), _) | (_, None) => String::new(),
            (_, Some(nm)) => format!(" '{nm}'"),
        };
        out.push_str(&format!(
            "{first}{} [id {tag}] <{}{}>{name}\n",
            label(g, id),
            g.ty(id).dtype,
            fmt_shape(&g.ty(id).shape)
        ));
        if n.inputs.is_empty() {
            continue;
        }
        if !expanded.insert(id) {
            out.push_str(&format!("{rest}└─ ···\n"));
            continue;
        }
        if depth >= DEBUGPRINT_MAX_DEPTH {
            out.push_str(&format!("{rest}└─ …\n"));
            continue;
        }
        let k = n.inputs.len();
        for (j, &i) in n.inputs.iter().enumerate().rev() {
            let (f, r) = if j + 1 == k { ("└─ ", "   ") } else { ("├─ ", "│  ") };
            stack.push((i, format!("{rest}{f}"), format!("{rest}{r}"), depth + 1));
        }
    }
}
