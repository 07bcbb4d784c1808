// Over 800 lines: the text IR's printer and parser stay side by side, so each op's two spellings are edited together.
//! The text form of a `FunctionGraph`: printed by `Display`, read back by
//! `FunctionGraph::parse`, so that print → parse → print gives the same text (as Cranelift's
//! textual IR). Golden tests of passes compare graphs in this form.
//!
//! ```text
//! graph {
//!   %0 = input "x" : float64[]
//!   %1 = input "W" : float64[?,3]
//!   %2 = input "i" : int64[]
//!   %3 = constant 2.0 : float64[]
//!   %4 = pow(%0, %3) : float64[]
//!   %5 = shared "b" : float64[?]
//!   %6 = sum{axes=[0], keepdims}(%5) : float64[1]
//!   %7 = dimshuffle{0,x}(%5) : float64[?,1]
//!   %8 = dot(%1, %7) : float64[?,1]
//!   %9 = cast{float32}(%4) : float32[]
//!   %10 = constant [[1.0, 2.0], [3.0, 4.0]] : float64[2,2]
//!   %11 = subtensor{1:2:1, ?}(%10, %2) : float64[1]
//!   %12 = mul(%0, %0) : float64[] "y"
//!   return %4, %6, %8, %9, %11, %12
//! }
//! ```
//!
//! # Printing
//!
//! The printed graph is the *compacted* one (`FunctionGraph::compact`): only live nodes,
//! numbered `%0, %1, …` in topological order with the graph inputs first, one node per line
//! as `%N = <op> : <type>` followed by the node's quoted name, if it has one. The last line
//! before the closing `}` is `return` with the outputs (possibly repeated, possibly none).
//!
//! # Lines
//!
//! - `input "name" : type`: a graph input.
//! - `shared "name" : type`: a shared variable. Its storage cannot be written in text, so
//!   parsing creates a *fresh* `SharedVar` of that name and type holding zeros (unknown
//!   lengths taken as 0). A node whose name differs from its shared variable's carries it
//!   after the type, as other nodes do.
//! - `constant <value> : type`: the value's elements, nested in brackets following the
//!   shape (a 0-d value has no brackets; an empty axis is `[]`). Its dtype and shape come
//!   from the type, which must give every length. Floats are written with Rust's `{:?}`
//!   (`2.0`, `-0.0`, `1e-7`, `inf`, `-inf`, `NaN`), which reads back to the same bits; a
//!   NaN whose bits are not those of `f64::NAN` (`f32::NAN`) is written `NaN(0x…)` with its
//!   bits in hexadecimal. Integers are plain, bools `true`/`false`.
//! - `<op>(%a, %b, …) : type`: any other op on earlier nodes. Ops are spelled:
//!   - elementwise: `ScalarOp::name` (`add`, `true_div`, `sigmoid`, …) and `cast{float32}`;
//!   - reductions: `sum prod max min mean all any argmax argmin logsumexp` with
//!     `{axes=[0, 2]}` or `{axes=[1], keepdims}`;
//!   - `softmax{axis=1}`, `log_softmax{axis=1}`, `dot`, `concatenate{axis=0}`,
//!     `split_part{axis=0, part=1}`;
//!   - `dimshuffle{0,x,1}` (`x` inserts a broadcastable axis; `dimshuffle{}` gives a 0-d
//!     result);
//!   - `reshape{[2,-1,@0,^1]}` (`-1` is inferred, `@i` keeps the length of input axis `i`,
//!     `^i` takes the length of axis `i` of the second input, a shape donor);
//!   - `subtensor{…}`, `set_subtensor{…}`, `inc_subtensor{…}`, the index as `fmt_index`
//!     writes it: positions `3`, `-1`, `?` (a symbolic index: the next index input after
//!     the data inputs) and slices always as `start:stop:step` (`::-1`, `1::2`, `:2:1`);
//!   - `advanced_subtensor{…}`, `advanced_set_subtensor{…}`, `advanced_inc_subtensor{…}`,
//!     the index as `fmt_adv_index` writes it: basic entries as above and `[]` for an index
//!     array (the next index input), as in `advanced_subtensor{::1, []}`;
//!   - `shape`, `shape_i{axis=0}`, `alloc{[3,?]}` (`?`: the next length input after the
//!     value), `arange{int64}`, `zero_grad`, `disconnected_grad`;
//!   - `cumsum{axis=0}`, `cumprod{axis=0}`, `sort{axis=0}`, `argsort{axis=0}`,
//!     `repeat{axis=0}` (inputs: the tensor and the repeats), `eye{float64}` (inputs: `n`,
//!     `m`, `k`).
//!
//! Names are quoted as Rust's `{:?}` quotes strings (escapes `\"`, `\\`, `\n`, `\t`, `\r`,
//! `\0`, `\'` and `\u{…}` are read back).
//!
//! # Parsing
//!
//! `FunctionGraph::parse` is strict: the `graph {` line, node ids defined in order from
//! `%0`, references to earlier nodes only, known op names, the right number of inputs, one
//! `return` line, the closing `}`, and nothing else on a line. Blank lines are skipped and
//! `;` starts a comment that runs to the end of the line (outside quoted names), as in
//! Cranelift's filetests. Node types are recomputed by `FunctionGraph::add_node` (the op's
//! type rule), and a type after `:` that differs from the computed one is an error. Every
//! error is a `GraphError::Parse` with its 1-based line number.
//!
//! Equal lines are hash-consed by the graph into one node (the printer never writes two);
//! later references to either id then name that one node.

use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{FunctionGraph, NodeId};
use crate::op::{
    fmt_reshape, AdvEntry, ArgOp, Barrier, CumOp, Dim, Idx, IndexEntry, Op, ReduceOp, ReshapeDim, ScalarOp,
};
use crate::program::ScalarProgram;
use crate::shared::SharedVar;
use crate::types::TensorType;
use crate::value::{Tensor, TensorElement};
use crate::var::Var;
use ndarray::{ArrayD, IxDyn};
use std::fmt;

/// A position or bound in the text form: the number, or `?` for a symbolic one.
fn idx_text(i: Idx) -> String {
    match i {
        Idx::Const(c) => c.to_string(),
        Idx::Input => "?".into(),
    }
}

/// Formats an index as in the text form: `1, 0:3:2, ::-1, ?, ?:?:1` (`?` is a symbolic
/// index or bound).
pub fn fmt_index(index: &[IndexEntry]) -> String {
    let parts: Vec<String> = index
        .iter()
        .map(|e| match e {
            IndexEntry::At(Idx::Const(i)) => i.to_string(),
            IndexEntry::At(Idx::Input) => "?".into(),
            IndexEntry::Slice { start, stop, step } => {
                let b = |v: &Option<Idx>| v.map_or(String::new(), idx_text);
                format!("{}:{}:{}", b(start), b(stop), idx_text(*step))
            }
        })
        .collect();
    parts.join(", ")
}

/// An advanced index as the text form writes it: basic entries as [`fmt_index`] writes
/// them, an index array as `[]` (`[], 1::1`).
pub fn fmt_adv_index(index: &[AdvEntry]) -> String {
    let parts: Vec<String> = index
        .iter()
        .map(|e| match e {
            AdvEntry::Basic(b) => fmt_index(std::slice::from_ref(b)),
            AdvEntry::Array => "[]".into(),
        })
        .collect();
    parts.join(", ")
}

// ---------------------------------------------------------------------------------------
// Printing

impl fmt::Display for FunctionGraph {
    /// Prints the text form of the compacted graph (see the module documentation); the
    /// text ends with a newline after the closing `}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (g, _) = self.compact();
        writeln!(f, "graph {{")?;
        for id in g.ids() {
            let (n, ty) = (g.node(id), g.ty(id));
            write!(f, "  {id} = ")?;
            // The name written after the type, if any.
            let extra_name = match &n.op {
                Op::Input => {
                    write!(f, "input {:?} : {}", g.name(id).unwrap_or("input"), ty)?;
                    None
                }
                Op::Shared(s) => {
                    write!(f, "shared {:?} : {}", s.name(), ty)?;
                    g.name(id).filter(|&name| name != s.name())
                }
                Op::Constant(t) => {
                    write!(f, "constant {} : {}", fmt_constant(t), ty)?;
                    g.name(id)
                }
                op => {
                    let args: Vec<String> = n.inputs.iter().map(NodeId::to_string).collect();
                    write!(f, "{}({}) : {}", fmt_op(op), args.join(", "), ty)?;
                    g.name(id)
                }
            };
            if let Some(name) = extra_name {
                write!(f, " {name:?}")?;
            }
            writeln!(f)?;
        }
        write!(f, "  return")?;
        for (k, o) in g.outputs().iter().enumerate() {
            write!(f, "{}{o}", if k == 0 { " " } else { ", " })?;
        }
        writeln!(f)?;
        writeln!(f, "}}")
    }
}

/// The op of a non-leaf node with its parameters: `add`, `sum{axes=[0], keepdims}`, …
fn fmt_op(op: &Op) -> String {
    let axes_param =
        |axes: &[usize], keepdims: bool| format!("axes={axes:?}{}", if keepdims { ", keepdims" } else { "" });
    match op {
        Op::Elemwise(ScalarOp::Cast(d)) => format!("cast{{{d}}}"),
        Op::Elemwise(s) => s.name().into(),
        Op::Reduce { op, axes, keepdims } => format!("{}{{{}}}", op.name(), axes_param(axes, *keepdims)),
        Op::ArgReduce { op, axes, keepdims } => format!("{}{{{}}}", op.name(), axes_param(axes, *keepdims)),
        Op::LogSumExp { axes, keepdims } => format!("logsumexp{{{}}}", axes_param(axes, *keepdims)),
        Op::Softmax { axis } => format!("softmax{{axis={axis}}}"),
        Op::LogSoftmax { axis } => format!("log_softmax{{axis={axis}}}"),
        Op::Dot => "dot".into(),
        Op::BatchedDot => "batched_dot".into(),
        Op::DimShuffle { order } => {
            let parts: Vec<String> = order.iter().map(|o| o.map_or("x".into(), |i| i.to_string())).collect();
            format!("dimshuffle{{{}}}", parts.join(","))
        }
        Op::Reshape { shape } => format!("reshape{{{}}}", fmt_reshape(shape)),
        Op::Concatenate { axis } => format!("concatenate{{axis={axis}}}"),
        Op::SplitPart { axis, part } => format!("split_part{{axis={axis}, part={part}}}"),
        Op::Gemm => "gemm".into(),
        Op::Composite(p) => format!("composite{{{}}}", p.to_text()),
        Op::CompositeOutput { index, dtype } => format!("composite_output{{{index}, {dtype}}}"),
        Op::FusedReduce { op, axes, keepdims, body } => {
            format!("fused_{}{{{} | {}}}", op.name(), axes_param(axes, *keepdims), body.to_text())
        }
        Op::Subtensor { index } | Op::IncSubtensor { index, .. } => {
            format!("{}{{{}}}", op.name(), fmt_index(index))
        }
        Op::AdvancedSubtensor { index } | Op::AdvancedIncSubtensor { index, .. } => {
            format!("{}{{{}}}", op.name(), fmt_adv_index(index))
        }
        Op::Shape => "shape".into(),
        Op::ShapeI { axis } => format!("shape_i{{axis={axis}}}"),
        Op::Alloc { shape } => format!("alloc{{{}}}", crate::op::fmt_alloc(shape)),
        Op::ARange { dtype } => format!("arange{{{dtype}}}"),
        Op::Cumulative { axis, .. } | Op::Sort { axis } | Op::ArgSort { axis } | Op::Repeat { axis } => {
            format!("{}{{axis={axis}}}", op.name())
        }
        Op::Eye { dtype } => format!("eye{{{dtype}}}"),
        Op::Rebroadcast { axes } => format!("rebroadcast{{{}}}", fmt_rebroadcast(axes)),
        Op::GradBarrier(_) | Op::IfElse => op.name(),
        Op::Scan(info) => fmt_scan(info),
        Op::ScanOutput { index, .. } => format!("scan_output{{{index}}}"),
        Op::Random(d) => format!("random{{{}}}", d.fmt_params()),
        Op::Conv2d(_)
        | Op::Conv2dGradInputs { .. }
        | Op::Conv2dGradWeights { .. }
        | Op::Pool(_)
        | Op::MaxPoolGrad(_)
        | Op::AveragePoolGrad(_)
        | Op::MaxPoolGradGrad(_) => {
            format!("{}{{{}}}", op.name(), crate::op::fmt_params(op).unwrap_or_default())
        }
        Op::Input | Op::Constant(_) | Op::Shared(_) => op.name(),
    }
}

/// A scan's parameters and its step's graph, quoted (one line, as every node):
/// `scan{name="scan", seqs=1, carries=1, mapped=0, truncate=5, until, reverse, step="graph {\n…"}`.
fn fmt_scan(info: &crate::op::ScanInfo) -> String {
    let step = match crate::build::scan::ScanStep::of(info)
        .map_err(GraphError::from)
        .and_then(|st| FunctionGraph::from_vars(&st.inputs, &st.outputs))
    {
        Ok(g) => g.to_string(),
        Err(e) => format!("<error: {e}>"),
    };
    format!(
        "scan{{name={:?}, seqs={}, carries={}, mapped={}{}{}{}, step={step:?}}}",
        info.name,
        info.n_seqs,
        info.n_carries,
        info.n_mapped,
        info.truncate_gradient.map_or(String::new(), |k| format!(", truncate={k}")),
        if info.until { ", until" } else { "" },
        if info.reverse { ", reverse" } else { "" },
    )
}

/// The inputs and outputs of a graph as variables (a parsed scan's step).
fn graph_vars(g: &FunctionGraph) -> Result<(Vec<Var>, Vec<Var>), GraphError> {
    let mut vars: Vec<Option<Var>> = vec![None; g.len()];
    for id in g.toposort() {
        let n = g.node(id);
        let name = g.name(id).map(str::to_string);
        let v = match &n.op {
            Op::Input | Op::Constant(_) | Op::Shared(_) => {
                Var::from_parts(n.op.clone(), vec![], g.ty(id).clone(), name)
            }
            op => {
                let ins = n.inputs.iter().map(|i| vars[i.index()].clone().expect("inputs first")).collect();
                let v = crate::build::try_apply(op.clone(), ins)?;
                match name {
                    Some(name) => v.named(name),
                    None => v,
                }
            }
        };
        vars[id.index()] = Some(v);
    }
    let get = |ids: &[NodeId]| ids.iter().map(|i| vars[i.index()].clone().expect("computed")).collect();
    Ok((get(g.inputs()), get(g.outputs())))
}

/// The axes of a `rebroadcast` as `(0,1),(2,0)`: each axis and whether it broadcasts (Theano
/// prints its `Rebroadcast` so).
pub fn fmt_rebroadcast(axes: &[(usize, bool)]) -> String {
    axes.iter().map(|&(a, b)| format!("({a},{})", b as u8)).collect::<Vec<_>>().join(",")
}

/// A float64 element that reads back to the same bits.
fn fmt_f64(v: f64) -> String {
    if v.is_nan() && v.to_bits() != f64::NAN.to_bits() {
        format!("NaN(0x{:016x})", v.to_bits())
    } else {
        format!("{v:?}")
    }
}

/// A float32 element that reads back to the same bits.
fn fmt_f32(v: f32) -> String {
    if v.is_nan() && v.to_bits() != f32::NAN.to_bits() {
        format!("NaN(0x{:08x})", v.to_bits())
    } else {
        format!("{v:?}")
    }
}

/// A constant's value: its elements nested in brackets following the shape.
fn fmt_constant(t: &Tensor) -> String {
    if let Tensor::Borrowed(b) = t {
        return fmt_constant(&b.to_owned());
    }
    let cells: Vec<String> = match t {
        Tensor::Borrowed(_) => unreachable!("copied above"),
        Tensor::Bool(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::I32(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::I64(a) => a.iter().map(|v| v.to_string()).collect(),
        Tensor::F32(a) => a.iter().map(|&v| fmt_f32(v)).collect(),
        Tensor::F64(a) => a.iter().map(|&v| fmt_f64(v)).collect(),
    };
    fn nest(cells: &[String], shape: &[usize], out: &mut String) {
        match shape.split_first() {
            None => out.push_str(&cells[0]),
            Some((&n, rest)) => {
                let step = cells.len().checked_div(n).unwrap_or(0);
                out.push('[');
                for i in 0..n {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    nest(&cells[i * step..(i + 1) * step], rest, out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    nest(&cells, t.shape(), &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Parsing

/// Deepest bracket nesting accepted in a constant (far above any real rank).
const MAX_NESTING: usize = 64;

/// A position in one line of the text.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

/// A constant's value before its type is known: nested lists of element spellings.
enum Raw<'a> {
    Elem(&'a str),
    List(Vec<Raw<'a>>),
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str, line: usize) -> Self {
        Cursor { text, pos: 0, line }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn error<T>(&self, reason: impl Into<String>) -> Result<T, GraphError> {
        Err(GraphError::Parse { line: self.line, reason: reason.into() })
    }

    /// Skips whitespace, and a `;` comment to the end of the line.
    fn skip_ws(&mut self) {
        let r = self.rest();
        let t = r.trim_start();
        self.pos += r.len() - t.len();
        if t.starts_with(';') {
            self.pos = self.text.len();
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.text.len()
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.rest().chars().next()
    }

    /// What comes next, for error messages.
    fn found(&mut self) -> String {
        self.skip_ws();
        let r = self.rest();
        if r.is_empty() {
            return "end of line".into();
        }
        let cut: String = r.chars().take(20).collect();
        if cut.len() < r.len() {
            format!("`{cut}…`")
        } else {
            format!("`{cut}`")
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), GraphError> {
        if self.eat(c) {
            Ok(())
        } else {
            let found = self.found();
            self.error(format!("expected `{c}`, found {found}"))
        }
    }

    /// A word `[A-Za-z_][A-Za-z0-9_]*`.
    fn ident(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let r = self.rest();
        let first = r.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let len = r.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(r.len());
        self.pos += len;
        Some(&r[..len])
    }

    fn expect_word(&mut self, word: &str) -> Result<(), GraphError> {
        let save = self.pos;
        match self.ident() {
            Some(w) if w == word => Ok(()),
            _ => {
                self.pos = save;
                let found = self.found();
                self.error(format!("expected `{word}`, found {found}"))
            }
        }
    }

    /// A run of ASCII digits right here (no whitespace skipped).
    fn digits(&mut self) -> &'a str {
        let r = self.rest();
        let len = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        self.pos += len;
        &r[..len]
    }

    fn usize(&mut self, what: &str) -> Result<usize, GraphError> {
        self.skip_ws();
        let d = self.digits();
        if d.is_empty() {
            let found = self.found();
            return self.error(format!("expected {what}, found {found}"));
        }
        d.parse().or_else(|_| self.error(format!("{what} {d} is too large")))
    }

    /// True when an integer (maybe negative) comes next.
    fn int_next(&mut self) -> bool {
        self.skip_ws();
        let r = self.rest().strip_prefix('-').unwrap_or(self.rest());
        r.starts_with(|c: char| c.is_ascii_digit())
    }

    fn isize(&mut self, what: &str) -> Result<isize, GraphError> {
        self.skip_ws();
        let start = self.pos;
        if self.rest().starts_with('-') {
            self.pos += 1;
        }
        if self.digits().is_empty() {
            self.pos = start;
            let found = self.found();
            return self.error(format!("expected {what}, found {found}"));
        }
        let s = &self.text[start..self.pos];
        s.parse().or_else(|_| self.error(format!("{what} {s} is out of range")))
    }

    /// `%N`, as a number.
    fn node_ref(&mut self) -> Result<usize, GraphError> {
        if !self.eat('%') {
            let found = self.found();
            return self.error(format!("expected a node id `%N`, found {found}"));
        }
        let d = self.digits();
        match d.parse::<usize>() {
            Ok(n) if n.to_string() == d => Ok(n),
            _ => self.error(format!("invalid node id `%{d}`")),
        }
    }

    /// A string quoted as Rust's `{:?}` quotes it.
    fn string(&mut self) -> Result<String, GraphError> {
        if !self.eat('"') {
            let found = self.found();
            return self.error(format!("expected a quoted name, found {found}"));
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    out.push(match e {
                        '"' => '"',
                        '\\' => '\\',
                        '\'' => '\'',
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        'u' => {
                            let mut hex = String::new();
                            let mut ok = chars.next().map(|(_, c)| c) == Some('{');
                            while ok {
                                match chars.next() {
                                    Some((_, '}')) => break,
                                    Some((_, h)) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                                    _ => ok = false,
                                }
                            }
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) if ok => ch,
                                _ => return self.error("invalid `\\u{…}` escape in a quoted name"),
                            }
                        }
                        e => return self.error(format!("unknown escape `\\{e}` in a quoted name")),
                    });
                }
                c => out.push(c),
            }
        }
        self.error("unterminated quoted name")
    }

    /// Fails unless only whitespace or a comment is left.
    fn end(&mut self) -> Result<(), GraphError> {
        if self.at_end() {
            Ok(())
        } else {
            let found = self.found();
            self.error(format!("unexpected {found} at the end of the line"))
        }
    }

    /// Items separated by `,` up to the `close` bracket (the opening one already read).
    fn list<T>(
        &mut self,
        close: char,
        mut item: impl FnMut(&mut Self) -> Result<T, GraphError>,
    ) -> Result<Vec<T>, GraphError> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if !self.eat(',') {
                self.expect(close)?;
                return Ok(out);
            }
        }
    }

    /// `float64[?,3]`.
    fn ty(&mut self) -> Result<TensorType, GraphError> {
        let Some(name) = self.ident() else {
            let found = self.found();
            return self.error(format!("expected a type such as `float64[?,3]`, found {found}"));
        };
        let Some(dtype) = DType::from_name(name) else {
            return self.error(format!("unknown dtype `{name}`"));
        };
        self.expect('[')?;
        let shape =
            self.list(']', |c| if c.eat('?') { Ok(None) } else { c.usize("an axis length").map(Some) })?;
        let ty = TensorType::new(dtype, shape);
        if !size_ok(&ty.shape) {
            return self.error(format!("type {ty} has more elements than any array can hold"));
        }
        Ok(ty)
    }

    /// An optional quoted name before the end of the line.
    fn opt_name(&mut self) -> Result<Option<String>, GraphError> {
        if self.peek() == Some('"') {
            self.string().map(Some)
        } else {
            Ok(None)
        }
    }

    /// A constant's value: an element or a bracketed list of values.
    fn raw(&mut self, depth: usize) -> Result<Raw<'a>, GraphError> {
        if depth > MAX_NESTING {
            return self.error("constant nested too deeply");
        }
        if self.eat('[') {
            return Ok(Raw::List(self.list(']', |c| c.raw(depth + 1))?));
        }
        self.skip_ws();
        let r = self.rest();
        let mut len = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_')))
            .unwrap_or(r.len());
        if len == 0 {
            let found = self.found();
            return self.error(format!("expected a constant value, found {found}"));
        }
        if &r[..len] == "NaN" && r[len..].starts_with('(') {
            if let Some(close) = r[len..].find(')') {
                len += close + 1;
            }
        }
        self.pos += len;
        Ok(Raw::Elem(&r[..len]))
    }

    /// `axes=[0, 1]` and an optional `, keepdims`.
    fn axes_param(&mut self) -> Result<(Vec<usize>, bool), GraphError> {
        self.expect_word("axes")?;
        self.expect('=')?;
        self.expect('[')?;
        let axes = self.list(']', |c| c.usize("an axis"))?;
        let keepdims = if self.eat(',') {
            self.expect_word("keepdims")?;
            true
        } else {
            false
        };
        Ok((axes, keepdims))
    }

    /// `axis=N`.
    fn axis_param(&mut self) -> Result<usize, GraphError> {
        self.expect_word("axis")?;
        self.expect('=')?;
        self.usize("an axis")
    }

    /// One entry of a subtensor index: `3`, `-1`, `?`, `1:3:1`, `::-1`, `?:?:1`.
    fn index_entry(&mut self) -> Result<IndexEntry, GraphError> {
        let start = self.index_bound("an index")?;
        if !self.eat(':') {
            return match start {
                Some(i) => Ok(IndexEntry::At(i)),
                None => {
                    let found = self.found();
                    self.error(format!("expected an index (`3`, `?` or `start:stop:step`), found {found}"))
                }
            };
        }
        let stop = self.index_bound("a slice bound")?;
        if !self.eat(':') {
            return self.error("a slice is written `start:stop:step`, with the step");
        }
        let step = match self.index_bound("a slice step")? {
            Some(step) => step,
            None => return self.error("a slice is written `start:stop:step`, with the step"),
        };
        Ok(IndexEntry::Slice { start, stop, step })
    }

    /// A number, `?`, or nothing.
    fn index_bound(&mut self, what: &str) -> Result<Option<Idx>, GraphError> {
        if self.eat('?') {
            Ok(Some(Idx::Input))
        } else if self.int_next() {
            Ok(Some(Idx::Const(self.isize(what)?)))
        } else {
            Ok(None)
        }
    }

    /// `{…}` around what `f` reads.
    fn braced(&mut self, f: impl FnOnce(&mut Self) -> Result<Op, GraphError>) -> Result<Op, GraphError> {
        self.expect('{')?;
        let op = f(self)?;
        self.expect('}')?;
        Ok(op)
    }

    /// A scalar program in braces: `{in float64 | t0 = … | return t0}`.
    fn program(&mut self) -> Result<ScalarProgram, GraphError> {
        self.expect('{')?;
        self.program_body()
    }

    /// A scalar program's text up to and including the closing brace.
    fn program_body(&mut self) -> Result<ScalarProgram, GraphError> {
        let rest = self.rest();
        let Some(end) = rest.find('}') else { return self.error("missing `}` after the program") };
        let parsed = ScalarProgram::parse_text(&rest[..end]);
        self.pos += end + 1;
        parsed.or_else(|reason| self.error(format!("in the program: {reason}")))
    }

    /// The parameters of op `name` in braces, giving the op.
    fn op(&mut self, name: &str) -> Result<Op, GraphError> {
        let index = |c: &mut Self| {
            c.expect('{')?;
            c.list('}', Self::index_entry)
        };
        let adv_index = |c: &mut Self| {
            c.expect('{')?;
            c.list('}', |c| {
                if c.eat('[') {
                    c.expect(']')?;
                    Ok(AdvEntry::Array)
                } else {
                    c.index_entry().map(AdvEntry::Basic)
                }
            })
        };
        Ok(match name {
            "cast" => self.braced(|c| {
                let Some(d) = c.ident() else {
                    let found = c.found();
                    return c.error(format!("expected a dtype, found {found}"));
                };
                match DType::from_name(d) {
                    Some(d) => Ok(Op::Elemwise(ScalarOp::Cast(d))),
                    None => c.error(format!("unknown dtype `{d}`")),
                }
            })?,
            "softmax" => self.braced(|c| Ok(Op::Softmax { axis: c.axis_param()? }))?,
            "log_softmax" => self.braced(|c| Ok(Op::LogSoftmax { axis: c.axis_param()? }))?,
            "concatenate" => self.braced(|c| Ok(Op::Concatenate { axis: c.axis_param()? }))?,
            "shape_i" => self.braced(|c| Ok(Op::ShapeI { axis: c.axis_param()? }))?,
            "rebroadcast" => {
                self.expect('{')?;
                let axes = self.list('}', |c| {
                    c.expect('(')?;
                    let axis = c.usize("an axis")?;
                    c.expect(',')?;
                    let flag = c.usize("0 or 1")?;
                    c.expect(')')?;
                    match flag {
                        0 | 1 => Ok((axis, flag == 1)),
                        _ => c.error(format!("expected 0 or 1, found {flag}")),
                    }
                })?;
                Op::Rebroadcast { axes }
            }
            "sort" => self.braced(|c| Ok(Op::Sort { axis: c.axis_param()? }))?,
            "argsort" => self.braced(|c| Ok(Op::ArgSort { axis: c.axis_param()? }))?,
            "repeat" => self.braced(|c| Ok(Op::Repeat { axis: c.axis_param()? }))?,
            "cumsum" | "cumprod" => {
                let op = if name == "cumsum" { CumOp::Sum } else { CumOp::Prod };
                self.braced(|c| Ok(Op::Cumulative { op, axis: c.axis_param()? }))?
            }
            "arange" | "eye" => self.braced(|c| {
                let Some(d) = c.ident() else {
                    let found = c.found();
                    return c.error(format!("expected a dtype, found {found}"));
                };
                match DType::from_name(d) {
                    Some(dtype) if name == "eye" => Ok(Op::Eye { dtype }),
                    Some(dtype) => Ok(Op::ARange { dtype }),
                    None => c.error(format!("unknown dtype `{d}`")),
                }
            })?,
            "alloc" => {
                self.expect('{')?;
                self.expect('[')?;
                let shape = self.list(']', |c| {
                    if c.eat('?') {
                        Ok(Dim::Input)
                    } else {
                        c.usize("a length or `?`").map(Dim::Fixed)
                    }
                })?;
                self.expect('}')?;
                Op::Alloc { shape }
            }
            "split_part" => self.braced(|c| {
                let axis = c.axis_param()?;
                c.expect(',')?;
                c.expect_word("part")?;
                c.expect('=')?;
                Ok(Op::SplitPart { axis, part: c.usize("a part number")? })
            })?,
            "logsumexp" => self.braced(|c| {
                let (axes, keepdims) = c.axes_param()?;
                Ok(Op::LogSumExp { axes, keepdims })
            })?,
            "argmax" | "argmin" => {
                let op = if name == "argmax" { ArgOp::ArgMax } else { ArgOp::ArgMin };
                self.braced(|c| {
                    let (axes, keepdims) = c.axes_param()?;
                    Ok(Op::ArgReduce { op, axes, keepdims })
                })?
            }
            "dimshuffle" => {
                self.expect('{')?;
                let order = self.list('}', |c| {
                    if c.peek() == Some('x') {
                        c.expect_word("x")?;
                        Ok(None)
                    } else {
                        c.usize("an axis or `x`").map(Some)
                    }
                })?;
                Op::DimShuffle { order }
            }
            "reshape" => self.braced(|c| {
                c.expect('[')?;
                let shape = c.list(']', |c| {
                    if c.eat('@') {
                        return Ok(ReshapeDim::Keep(c.usize("an axis after `@`")?));
                    }
                    if c.eat('^') {
                        return Ok(ReshapeDim::Like(c.usize("an axis after `^`")?));
                    }
                    if c.eat('?') {
                        return Ok(ReshapeDim::Input);
                    }
                    match c.isize("a length, `-1` or `@axis`")? {
                        -1 => Ok(ReshapeDim::Infer),
                        n if n >= 0 => Ok(ReshapeDim::Fixed(n as usize)),
                        n => c.error(format!("invalid reshape length {n}")),
                    }
                })?;
                Ok(Op::Reshape { shape })
            })?,
            "subtensor" => Op::Subtensor { index: index(self)? },
            "advanced_subtensor" => Op::AdvancedSubtensor { index: adv_index(self)? },
            "advanced_set_subtensor" => Op::AdvancedIncSubtensor { index: adv_index(self)?, set: true },
            "advanced_inc_subtensor" => Op::AdvancedIncSubtensor { index: adv_index(self)?, set: false },
            "set_subtensor" => Op::IncSubtensor { index: index(self)?, set: true },
            "inc_subtensor" => Op::IncSubtensor { index: index(self)?, set: false },
            _ if crate::op::CONV_POOL_NAMES.contains(&name) => {
                self.expect('{')?;
                let rest = self.rest();
                let Some(end) = rest.find('}') else {
                    return self.error(format!("missing `}}` after {name}'s parameters"));
                };
                let parsed = crate::op::parse_params(name, &rest[..end]);
                self.pos += end + 1;
                parsed.or_else(|reason| self.error(format!("in {name}'s parameters: {reason}")))?
            }
            "random" => self.braced(|c| {
                let Some(word) = c.ident() else {
                    let found = c.found();
                    return c.error(format!("expected a distribution, found {found}"));
                };
                let Some(dist) = crate::op::Distribution::from_name(word) else {
                    return c.error(format!("unknown distribution `{word}`"));
                };
                c.expect(',')?;
                let Some(d) = c.ident() else {
                    let found = c.found();
                    return c.error(format!("expected a dtype, found {found}"));
                };
                let Some(dtype) = DType::from_name(d) else { return c.error(format!("unknown dtype `{d}`")) };
                c.expect(',')?;
                c.expect('[')?;
                let shape = c.list(']', |c| {
                    if c.eat('?') {
                        Ok(Dim::Input)
                    } else {
                        c.usize("a length or `?`").map(Dim::Fixed)
                    }
                })?;
                let mut stream = 0;
                if c.eat(',') {
                    c.expect_word("stream")?;
                    c.expect('=')?;
                    let k = c.usize("a stream number")?;
                    stream = u32::try_from(k).or_else(|_| c.error(format!("stream {k} is too large")))?;
                }
                Ok(Op::Random(crate::op::RandomDraw { dist, dtype, shape, stream }))
            })?,
            "dot" => Op::Dot,
            "batched_dot" => Op::BatchedDot,
            "gemm" => Op::Gemm,
            "ifelse" => Op::IfElse,
            "shape" => Op::Shape,
            "zero_grad" => Op::GradBarrier(Barrier::Zero),
            "disconnected_grad" => Op::GradBarrier(Barrier::Disconnected),
            "composite" => {
                let body = self.program()?;
                Op::Composite(std::sync::Arc::new(body))
            }
            "scan" => self.braced(|c| {
                let word = |c: &mut Self, w: &str| -> Result<(), GraphError> {
                    c.expect_word(w)?;
                    c.expect('=')
                };
                word(c, "name")?;
                let name = c.string()?;
                c.expect(',')?;
                word(c, "seqs")?;
                let n_seqs = c.usize("a number of sequences")?;
                c.expect(',')?;
                word(c, "carries")?;
                let n_carries = c.usize("a number of carries")?;
                c.expect(',')?;
                word(c, "mapped")?;
                let n_mapped = c.usize("a number of mapped outputs")?;
                c.expect(',')?;
                let mut truncate = None;
                if c.rest().trim_start().starts_with("truncate") {
                    word(c, "truncate")?;
                    truncate = Some(c.usize("a number of steps")?);
                    c.expect(',')?;
                }
                let until = c.rest().trim_start().starts_with("until");
                if until {
                    c.expect_word("until")?;
                    c.expect(',')?;
                }
                let reverse = c.rest().trim_start().starts_with("reverse");
                if reverse {
                    c.expect_word("reverse")?;
                    c.expect(',')?;
                }
                word(c, "step")?;
                let text = c.string()?;
                let step = FunctionGraph::parse(&text).or_else(|e| c.error(format!("in the step: {e}")))?;
                let (inputs, outputs) =
                    graph_vars(&step).or_else(|e| c.error(format!("in the step: {e}")))?;
                if n_seqs + n_carries > inputs.len()
                    || n_carries + n_mapped + usize::from(until) != outputs.len()
                {
                    return c.error("the step's inputs and outputs do not match the counts".to_string());
                }
                let info = crate::build::scan::ScanStep { inputs, outputs }
                    .into_info(n_seqs, n_carries, until, truncate, reverse, name);
                Ok(Op::Scan(crate::op::ScanRef(std::sync::Arc::new(info))))
            })?,
            "composite_output" => self.braced(|c| {
                let index = c.usize("an output number")?;
                c.expect(',')?;
                let Some(d) = c.ident() else {
                    let found = c.found();
                    return c.error(format!("expected a dtype, found {found}"));
                };
                match DType::from_name(d) {
                    Some(dtype) => Ok(Op::CompositeOutput { index, dtype }),
                    None => c.error(format!("unknown dtype `{d}`")),
                }
            })?,
            _ if name.starts_with("fused_") => {
                let Some(op) =
                    ReduceOp::ALL.into_iter().find(|r| Some(r.name()) == name.strip_prefix("fused_"))
                else {
                    return self.error(format!("unknown op `{name}`"));
                };
                self.expect('{')?;
                let (axes, keepdims) = self.axes_param()?;
                if !self.eat('|') {
                    let found = self.found();
                    return self.error(format!("expected `|` after the axes, found {found}"));
                }
                let body = std::sync::Arc::new(self.program_body()?);
                Op::FusedReduce { op, axes, keepdims, body }
            }
            _ => {
                if let Some(op) = ReduceOp::ALL.into_iter().find(|r| r.name() == name) {
                    self.braced(|c| {
                        let (axes, keepdims) = c.axes_param()?;
                        Ok(Op::Reduce { op, axes, keepdims })
                    })?
                } else if let Some(s) = ScalarOp::ALL.into_iter().find(|s| s.name() == name) {
                    Op::Elemwise(s)
                } else {
                    return self.error(format!("unknown op `{name}`"));
                }
            }
        })
    }
}

/// Checks a constant's nested value against `shape`, collecting the elements in order.
fn flatten<'a>(raw: &Raw<'a>, shape: &[usize], out: &mut Vec<&'a str>) -> bool {
    match (raw, shape.split_first()) {
        (Raw::Elem(s), None) => {
            out.push(s);
            true
        }
        (Raw::List(items), Some((&n, rest))) if items.len() == n => {
            items.iter().all(|i| flatten(i, rest, out))
        }
        _ => false,
    }
}

fn parse_f64(s: &str) -> Option<f64> {
    if let Some(hex) = s.strip_prefix("NaN(0x").and_then(|h| h.strip_suffix(')')) {
        let v = f64::from_bits(u64::from_str_radix(hex, 16).ok()?);
        return v.is_nan().then_some(v);
    }
    if s == "NaN" {
        return Some(f64::NAN);
    }
    s.parse().ok()
}

fn parse_f32(s: &str) -> Option<f32> {
    if let Some(hex) = s.strip_prefix("NaN(0x").and_then(|h| h.strip_suffix(')')) {
        let v = f32::from_bits(u32::from_str_radix(hex, 16).ok()?);
        return v.is_nan().then_some(v);
    }
    if s == "NaN" {
        return Some(f32::NAN);
    }
    s.parse().ok()
}

/// The tensor of `dtype` and `shape` whose elements are spelled `cells`.
fn make_tensor(cells: &[&str], dtype: DType, shape: &[usize]) -> Result<Tensor, String> {
    fn build<T: TensorElement>(
        cells: &[&str],
        shape: &[usize],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Tensor, String> {
        let values = cells
            .iter()
            .map(|s| parse(s).ok_or_else(|| format!("`{s}` is not an element of dtype {}", T::DTYPE)))
            .collect::<Result<Vec<T>, String>>()?;
        let a = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|e| e.to_string())?;
        Ok(T::wrap(a.into_shared()))
    }
    match dtype {
        DType::Bool => build(cells, shape, |s| match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
        DType::I32 => build(cells, shape, |s| s.parse::<i32>().ok()),
        DType::I64 => build(cells, shape, |s| s.parse::<i64>().ok()),
        DType::F32 => build(cells, shape, parse_f32),
        DType::F64 => build(cells, shape, parse_f64),
    }
}

/// True when the known lengths could be those of an array: the product of the non-zero
/// ones fits in `isize` (ndarray's limit). Parsed types are held to it so that the type
/// rules' arithmetic on static lengths cannot overflow.
fn size_ok(shape: &[Option<usize>]) -> bool {
    shape
        .iter()
        .flatten()
        .filter(|&&n| n != 0)
        .try_fold(1usize, |p, &n| p.checked_mul(n).filter(|&p| p <= isize::MAX as usize))
        .is_some()
}

/// Checks the static-length arithmetic that the type rules of `op` do unchecked (reshape
/// products, concatenated lengths, slice strides), so that absurd lengths in text are an
/// error rather than an overflow.
fn lengths_ok(op: &Op, ins: &[&TensorType]) -> bool {
    match op {
        Op::Reshape { shape } => {
            let Some(x) = ins.first() else { return true };
            let dims: Vec<Option<usize>> = shape
                .iter()
                .map(|d| match *d {
                    ReshapeDim::Fixed(n) => Some(n),
                    ReshapeDim::Keep(i) => x.shape.get(i).copied().flatten(),
                    ReshapeDim::Infer | ReshapeDim::Input => None,
                    ReshapeDim::Like(i) => ins.get(1).and_then(|d| d.shape.get(i).copied().flatten()),
                })
                .collect();
            size_ok(&dims)
        }
        Op::Concatenate { axis } => ins
            .iter()
            .filter_map(|t| t.shape.get(*axis).copied().flatten())
            .try_fold(0usize, |s, n| s.checked_add(n).filter(|&s| s <= isize::MAX as usize))
            .is_some(),
        Op::Subtensor { index } | Op::IncSubtensor { index, .. } => {
            let Some(x) = ins.first() else { return true };
            index.iter().zip(&x.shape).all(|(e, n)| match (e, n) {
                // `normalize_slice` computes `n + |step|`; `size_ok` keeps `n` within `isize`.
                (IndexEntry::Slice { step: Idx::Const(step), .. }, Some(n)) => {
                    step.checked_abs().and_then(|s| s.checked_add(*n as isize)).is_some()
                }
                _ => true,
            })
        }
        Op::AdvancedSubtensor { index } | Op::AdvancedIncSubtensor { index, .. } => {
            let Some(x) = ins.first() else { return true };
            // A mask shifts the axes after it: every slice is checked against every length.
            index.iter().all(|e| match e {
                AdvEntry::Basic(IndexEntry::Slice { step: Idx::Const(step), .. }) => x
                    .shape
                    .iter()
                    .flatten()
                    .all(|n| step.checked_abs().and_then(|s| s.checked_add(*n as isize)).is_some()),
                _ => true,
            })
        }
        _ => true,
    }
}

/// Where the parser is in the graph's lines.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Header,
    Body,
    Close,
    Done,
}

impl FunctionGraph {
    /// Parses the text form written by `Display` (see the module documentation).
    ///
    /// Node types are recomputed by the ops' type rules and checked against the written
    /// ones. Shared variables cannot be restored from text: each `shared` line makes a fresh
    /// `SharedVar` of its name and type holding zeros (unknown lengths taken as 0).
    /// Every error is a `GraphError::Parse` with the 1-based line number.
    ///
    /// ```
    /// use tensorlift_ir::{FunctionGraph, GraphError};
    ///
    /// let text = "graph {\n  %0 = input \"x\" : float64[?]\n  %1 = exp(%0) : float64[?] \"y\"\n  return %1\n}\n";
    /// let g = FunctionGraph::parse(text)?;
    /// assert_eq!(g.to_string(), text);
    ///
    /// let bad = FunctionGraph::parse("graph {\n  %0 = nope() : float64[]\n  return\n}\n");
    /// assert!(matches!(bad, Err(GraphError::Parse { line: 2, .. })));
    /// # Ok::<(), GraphError>(())
    /// ```
    pub fn parse(text: &str) -> Result<FunctionGraph, GraphError> {
        let mut g = FunctionGraph::new();
        let mut ids: Vec<NodeId> = Vec::new();
        let mut stage = Stage::Header;
        let mut last = 1;
        for (k, line_text) in text.lines().enumerate() {
            let line = k + 1;
            last = line;
            let mut c = Cursor::new(line_text, line);
            if c.at_end() {
                continue;
            }
            match stage {
                Stage::Header => {
                    c.expect_word("graph")?;
                    c.expect('{')?;
                    c.end()?;
                    stage = Stage::Body;
                }
                Stage::Body => {
                    if c.peek() == Some('%') {
                        let id = parse_node(&mut c, &mut g, &ids)?;
                        ids.push(id);
                    } else if c.peek() == Some('}') {
                        return c.error("missing `return` line before `}`");
                    } else {
                        c.expect_word("return").or_else(|_| {
                            let found = c.found();
                            c.error(format!("expected a node `%N = …` or `return`, found {found}"))
                        })?;
                        let mut outputs = Vec::new();
                        if !c.at_end() {
                            loop {
                                outputs.push(resolve(&mut c, &ids)?);
                                if !c.eat(',') {
                                    break;
                                }
                            }
                        }
                        c.end()?;
                        g.set_outputs(outputs);
                        stage = Stage::Close;
                    }
                }
                Stage::Close => {
                    c.expect('}')?;
                    c.end()?;
                    stage = Stage::Done;
                }
                Stage::Done => return c.error("unexpected text after the closing `}`"),
            }
        }
        let missing = match stage {
            Stage::Done => return Ok(g),
            Stage::Header => "expected `graph {`",
            Stage::Body => "missing `return` line and closing `}`",
            Stage::Close => "missing closing `}`",
        };
        Err(GraphError::Parse { line: last, reason: missing.into() })
    }
}

/// A reference `%N` to an already defined node.
fn resolve(c: &mut Cursor<'_>, ids: &[NodeId]) -> Result<NodeId, GraphError> {
    let n = c.node_ref()?;
    match ids.get(n) {
        Some(&id) => Ok(id),
        None => c.error(format!("%{n} is not defined before this line")),
    }
}

/// Reports an error of the graph (a node that does not type) at the cursor's line.
fn at_line(c: &Cursor<'_>, e: GraphError) -> GraphError {
    let reason = match e {
        GraphError::Build(b) => b.kind.to_string(),
        e => e.to_string(),
    };
    GraphError::Parse { line: c.line, reason }
}

/// Gives a node created by `add_node`/`add_constant` its name (a hash-consed lookup that
/// names the existing node when it has no name yet).
fn name_node(g: &mut FunctionGraph, id: NodeId, name: String) {
    let n = g.node(id).clone();
    g.add_typed(n.op, n.inputs, g.ty(id).clone(), Some(name));
}

/// One `%N = …` line; returns the node.
fn parse_node(c: &mut Cursor<'_>, g: &mut FunctionGraph, ids: &[NodeId]) -> Result<NodeId, GraphError> {
    let n = c.node_ref()?;
    if n != ids.len() {
        return c
            .error(format!("expected node %{} next, found %{n} (nodes are numbered in order)", ids.len()));
    }
    c.expect('=')?;
    let Some(word) = c.ident() else {
        let found = c.found();
        return c.error(format!("expected an op name, found {found}"));
    };
    match word {
        "input" => {
            let name = c.string()?;
            c.expect(':')?;
            let ty = c.ty()?;
            c.end()?;
            Ok(g.add_input(&name, ty))
        }
        "shared" => {
            let name = c.string()?;
            c.expect(':')?;
            let ty = c.ty()?;
            let node_name = c.opt_name()?;
            c.end()?;
            let shape: Vec<usize> = ty.shape.iter().map(|d| d.unwrap_or(0)).collect();
            let bytes = shape.iter().try_fold(ty.dtype.size(), |p, &n| p.checked_mul(n));
            if bytes.is_none_or(|b| b > isize::MAX as usize) {
                return c.error(format!("a shared variable of type {ty} is too large to hold"));
            }
            let cell = SharedVar::new(name.clone(), ty.clone(), Tensor::zeros(ty.dtype, &shape))
                .or_else(|e| c.error(e.to_string()))?;
            let id = g.add_node(Op::Shared(cell), vec![]).map_err(|e| at_line(c, e))?;
            name_node(g, id, node_name.unwrap_or(name));
            Ok(id)
        }
        "constant" => {
            let raw = c.raw(0)?;
            c.expect(':')?;
            let ty = c.ty()?;
            let name = c.opt_name()?;
            c.end()?;
            let Some(shape) = ty.shape.iter().copied().collect::<Option<Vec<usize>>>() else {
                return c.error(format!("the type of a constant must give every length, got {ty}"));
            };
            let mut cells = Vec::new();
            if !flatten(&raw, &shape, &mut cells) {
                return c.error(format!("the constant's value does not have the shape of its type {ty}"));
            }
            let value = make_tensor(&cells, ty.dtype, &shape).or_else(|e| c.error(e))?;
            let id = g.add_constant(value);
            if let Some(name) = name {
                name_node(g, id, name);
            }
            Ok(id)
        }
        _ => {
            // A scan's output takes its description from the scan it reads.
            let output = if word == "scan_output" {
                c.expect('{')?;
                let index = c.usize("an output number")?;
                c.expect('}')?;
                Some(index)
            } else {
                None
            };
            let op = if output.is_none() { Some(c.op(word)?) } else { None };
            c.expect('(')?;
            let inputs = c.list(')', |c| resolve(c, ids))?;
            let op = match (op, output) {
                (Some(op), _) => op,
                (None, index) => match inputs.first().map(|&i| &g.node(i).op) {
                    Some(Op::Scan(scan)) => Op::ScanOutput { scan: scan.clone(), index: index.unwrap_or(0) },
                    _ => return c.error("scan_output reads a scan node"),
                },
            };
            c.expect(':')?;
            let ty = c.ty()?;
            let name = c.opt_name()?;
            c.end()?;
            let in_types: Vec<&TensorType> = inputs.iter().map(|&i| g.ty(i)).collect();
            if !lengths_ok(&op, &in_types) {
                return c.error(format!("{}: lengths larger than any array can have", op.name()));
            }
            let id = g.add_node(op, inputs).map_err(|e| at_line(c, e))?;
            if !size_ok(&g.ty(id).shape) {
                return c
                    .error(format!("result type {} has more elements than any array can hold", g.ty(id)));
            }
            if g.ty(id) != &ty {
                return c
                    .error(format!("written type {ty} differs from {}, the type its op gives", g.ty(id)));
            }
            if let Some(name) = name {
                name_node(g, id, name);
            }
            Ok(id)
        }
    }
}
