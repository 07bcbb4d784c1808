//! `ScalarProgram`: the body of a fused elementwise kernel — a small DAG of scalar ops over
//! the kernel's inputs and inlined constants, in order. The optimizer's fusion pass builds
//! them, `Op::Composite` and `Op::FusedReduce` carry them, the reference kernel evaluates
//! them with the same per-op semantics as the unfused graph, and the JIT lowers them.

use crate::dtype::DType;
use crate::scalar::ScalarOp;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Programs longer than this print as their size in `pp` (the text form is always complete).
pub const PP_MAX_OPS: usize = 64;

/// A value of a scalar program: input `k` is value `k`, and the result of node `k` is
/// value `inputs.len() + k` (values are numbered in order, so every argument of a node is a
/// value before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScalarValue(u32);

impl ScalarValue {
    /// The value numbered `index`.
    pub const fn new(index: u32) -> ScalarValue {
        ScalarValue(index)
    }

    /// Its number, as an index into per-value tables.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ScalarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value {}", self.0)
    }
}

/// The arguments of a scalar op, inline up to three: programs of fused chains hold
/// thousands of nodes, and a heap list per node would cost an allocation each.
pub type ScalarArgs = smallvec::SmallVec<[ScalarValue; 3]>;

/// One instruction of a scalar program.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScalarNode {
    /// A constant, as the bits of its f64 value (exact for every dtype's values).
    Const {
        /// Its dtype.
        dtype: DType,
        /// `f64::to_bits` of its value.
        bits: u64,
    },
    /// A scalar op on earlier values.
    Apply {
        /// The op.
        op: ScalarOp,
        /// Its arguments, each an earlier value.
        args: ScalarArgs,
        /// The result's dtype.
        dtype: DType,
    },
}

/// Why a scalar program is malformed (refused by [`ScalarProgramBuilder`] or
/// [`ScalarProgram::validate`]) or its text does not parse ([`ScalarProgram::parse_text`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramError {
    /// A node reads a value that is not computed before it.
    #[error("node {node} reads value {value}, which is not computed before it")]
    UndefinedArg {
        /// The node.
        node: usize,
        /// The value it reads.
        value: usize,
    },
    /// An op with a fixed number of arguments got another number.
    #[error("{op} takes {expected} arguments")]
    Arity {
        /// The op's name.
        op: &'static str,
        /// Its number of arguments.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// An n-ary op (`add`, `mul`) got fewer than two arguments.
    #[error("{op} takes 2 or more arguments")]
    TooFewArgs {
        /// The op's name.
        op: &'static str,
        /// The number given.
        got: usize,
    },
    /// The op does not apply to its arguments' dtypes.
    #[error("{reason}")]
    ArgDTypes {
        /// The op's name.
        op: &'static str,
        /// Why (from the op's dtype rule).
        reason: String,
    },
    /// A node's dtype is not its op's result dtype.
    #[error("node {node}: {op} gives {expected}, typed {got}")]
    NodeDType {
        /// The node.
        node: usize,
        /// The op's name.
        op: &'static str,
        /// The op's result dtype.
        expected: DType,
        /// The node's dtype.
        got: DType,
    },
    /// An output is not a value of the program.
    #[error("output {value} does not exist")]
    UndefinedOutput {
        /// The output's value.
        value: usize,
    },
    /// A program without outputs.
    #[error("a program has at least one output")]
    NoOutputs,
    /// An input declared after the first node (inputs are the first values).
    #[error("input {input} is declared after the first node")]
    InputAfterNode {
        /// The input's number.
        input: usize,
    },
    /// More values than a [`ScalarValue`] numbers.
    #[error("a program holds at most {max} values")]
    TooLarge {
        /// The most values a program holds.
        max: usize,
    },
    /// The text form does not parse.
    #[error("{0}")]
    Parse(String),
}

/// A scalar program: its inputs' dtypes, its instructions in order, and its outputs (output
/// 0 is the result; a multi-output composite computes the others in the same pass). Built
/// by [`ScalarProgramBuilder`] or [`ScalarProgram::parse_text`], both of which check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarProgram {
    /// The dtype of each input.
    pub inputs: Vec<DType>,
    /// The instructions; value `inputs.len() + k` is the result of `nodes[k]`.
    pub nodes: Vec<ScalarNode>,
    /// The outputs' values, output 0 first (never empty). A `Composite` node yields output
    /// 0; `Op::CompositeOutput { index: k }` nodes read output `k`.
    outputs: Vec<ScalarValue>,
}

/// Nodes hashed at each end of a program.
const HASH_ENDS: usize = 8;

impl Hash for ScalarProgram {
    /// Hashes the signature, the size and the nodes at both ends, not every node: equal
    /// programs still hash equal, and hash-consing a composite of a fused chain thousands of
    /// ops long costs the same as a short one (equality, checked on a hash match, reads all).
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.inputs.hash(h);
        self.outputs.hash(h);
        self.nodes.len().hash(h);
        let tail = self.nodes.len().saturating_sub(HASH_ENDS).max(HASH_ENDS);
        self.nodes.iter().take(HASH_ENDS).chain(self.nodes.iter().skip(tail)).for_each(|n| n.hash(h));
    }
}

impl ScalarProgram {
    /// The dtype of value `v`.
    ///
    /// # Panics
    /// If `v` is not a value of the program.
    pub fn dtype_of(&self, v: ScalarValue) -> DType {
        match v.index().checked_sub(self.inputs.len()) {
            None => self.inputs[v.index()],
            Some(k) => match &self.nodes[k] {
                ScalarNode::Const { dtype, .. } | ScalarNode::Apply { dtype, .. } => *dtype,
            },
        }
    }

    /// Number of values: the inputs, then one per node.
    pub fn n_values(&self) -> usize {
        self.inputs.len() + self.nodes.len()
    }

    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = ScalarValue> {
        (0..self.n_values()).map(|v| ScalarValue(v as u32))
    }

    /// The value computed by node `k`.
    pub fn node_value(&self, k: usize) -> ScalarValue {
        ScalarValue((self.inputs.len() + k) as u32)
    }

    /// The node that computes `v`, or `None` for an input.
    pub fn node_of(&self, v: ScalarValue) -> Option<&ScalarNode> {
        v.index().checked_sub(self.inputs.len()).and_then(|k| self.nodes.get(k))
    }

    /// The result (output 0).
    pub fn output(&self) -> ScalarValue {
        self.outputs[0]
    }

    /// The result's dtype.
    pub fn out_dtype(&self) -> DType {
        self.dtype_of(self.output())
    }

    /// Every output's value: the result, then the others.
    pub fn outputs(&self) -> &[ScalarValue] {
        &self.outputs
    }

    /// The name its kernel's errors give: the op of a one-op program (what the user
    /// wrote, before the optimizer made a kernel of it), else `composite`.
    pub fn kernel_name(&self) -> &'static str {
        let mut ops = self.nodes.iter().filter_map(|n| match n {
            ScalarNode::Apply { op, .. } => Some(op),
            ScalarNode::Const { .. } => None,
        });
        match (ops.next(), ops.next()) {
            (Some(op), None) => op.name(),
            _ => "composite",
        }
    }

    /// Number of outputs (1 for a single-result program).
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The dtype of output `k`.
    pub fn output_dtype(&self, k: usize) -> Option<DType> {
        self.outputs.get(k).map(|&v| self.dtype_of(v))
    }

    /// The same program with other outputs (each checked to be a value of it).
    pub fn with_outputs(mut self, outputs: &[ScalarValue]) -> Result<ScalarProgram, ProgramError> {
        check_outputs(self.n_values(), outputs)?;
        self.outputs = outputs.to_vec();
        Ok(self)
    }

    /// Number of scalar ops (constants excluded).
    pub fn op_count(&self) -> usize {
        self.nodes.iter().filter(|n| matches!(n, ScalarNode::Apply { .. })).count()
    }

    /// Checks that every argument refers to an earlier value, arities and dtypes follow the
    /// scalar ops' rules, and the outputs exist (the builder's checks, for a program whose
    /// public parts were changed since).
    pub fn validate(&self) -> Result<(), ProgramError> {
        let n_in = self.inputs.len();
        for (k, node) in self.nodes.iter().enumerate() {
            if let ScalarNode::Apply { op, args, dtype } = node {
                let want = apply_dtype(k, n_in + k, *op, args, |a| self.dtype_of(a))?;
                if want != *dtype {
                    return Err(ProgramError::NodeDType {
                        node: k,
                        op: op.name(),
                        expected: want,
                        got: *dtype,
                    });
                }
            }
        }
        check_outputs(self.n_values(), &self.outputs)
    }

    /// The value of a constant node as f64.
    pub fn const_value(bits: u64) -> f64 {
        f64::from_bits(bits)
    }

    /// Prints value `v` in `pp` style: inputs `i0, i1, …`, constants inline, ops fully
    /// parenthesized (`(i0 + sqr(i1))`).
    pub fn pp_value(&self, v: ScalarValue) -> String {
        let n_in = self.inputs.len();
        if v.index() < n_in {
            return format!("i{}", v.index());
        }
        match &self.nodes[v.index() - n_in] {
            ScalarNode::Const { dtype, bits } => {
                let x = f64::from_bits(*bits);
                if dtype.is_float() {
                    format!("{x:?}")
                } else if *dtype == DType::Bool {
                    (x != 0.0).to_string()
                } else {
                    format!("{}", x as i64)
                }
            }
            ScalarNode::Apply { op, args, .. } => {
                let a: Vec<String> = args.iter().map(|&x| self.pp_value(x)).collect();
                match op {
                    ScalarOp::Neg => format!("(-{})", a[0]),
                    ScalarOp::Abs => format!("|{}|", a[0]),
                    ScalarOp::Cast(d) => format!("cast{{{d}}}({})", a[0]),
                    ScalarOp::Second => format!("fill({}, {})", a[0], a[1]),
                    s => match s.infix() {
                        Some(sym) => format!("({})", a.join(&format!(" {sym} "))),
                        None => format!("{}({})", s.name(), a.join(", ")),
                    },
                }
            }
        }
    }
}

impl fmt::Display for ScalarProgram {
    /// The `pp` form of the result (`(i0 + sqr(i1))`), every output's separated by commas
    /// for a multi-output program; a program of more than `PP_MAX_OPS` ops prints as its
    /// size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes.len() > PP_MAX_OPS {
            return write!(f, "<{} ops>", self.op_count());
        }
        let outs: Vec<String> = self.outputs.iter().map(|&v| self.pp_value(v)).collect();
        f.write_str(&outs.join(", "))
    }
}

impl ScalarProgram {
    /// The text form used inside the graph text:
    /// `in float64 | t0 = const float64 -4.0 | t1 = add(i0, t0) | return t1` (the input
    /// dtypes, then one instruction per part). Casts are spelled `cast.float32(…)`, so the
    /// text holds no braces and no `;`.
    pub fn to_text(&self) -> String {
        let n_in = self.inputs.len();
        let name = |v: ScalarValue| match v.index().checked_sub(n_in) {
            None => format!("i{}", v.index()),
            Some(k) => format!("t{k}"),
        };
        let mut parts: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(k, node)| match node {
                ScalarNode::Const { dtype, bits } => {
                    let x = f64::from_bits(*bits);
                    let value = if dtype.is_float() { format!("{x:?}") } else { format!("{}", x as i64) };
                    format!("t{k} = const {dtype} {value}")
                }
                ScalarNode::Apply { op, args, .. } => {
                    let op_name = match op {
                        ScalarOp::Cast(d) => format!("cast.{d}"),
                        s => s.name().to_string(),
                    };
                    let args: Vec<String> = args.iter().map(|&a| name(a)).collect();
                    format!("t{k} = {op_name}({})", args.join(", "))
                }
            })
            .collect();
        let outs: Vec<String> = self.outputs.iter().map(|&v| name(v)).collect();
        parts.push(format!("return {}", outs.join(", ")));
        let ins: Vec<&str> = self.inputs.iter().map(|d| d.name()).collect();
        parts.insert(0, format!("in {}", ins.join(" ")).trim_end().to_string());
        parts.join(" | ")
    }

    /// Parses `to_text`'s form.
    pub fn parse_text(text: &str) -> Result<ScalarProgram, ProgramError> {
        let parse = |s: String| ProgramError::Parse(s);
        let mut stmts: Vec<&str> = text.split('|').map(str::trim).collect();
        let header = stmts.remove(0);
        let dtypes = header
            .strip_prefix("in")
            .ok_or_else(|| parse(format!("expected `in <dtypes>`, found `{header}`")))?;
        let mut b = ScalarProgramBuilder::new();
        let mut inputs = Vec::new();
        for d in dtypes.split_whitespace() {
            let dtype = DType::from_name(d).ok_or_else(|| parse(format!("unknown dtype `{d}`")))?;
            inputs.push(b.add_input(dtype)?);
        }
        let mut temps: Vec<ScalarValue> = Vec::new();
        let value = |temps: &[ScalarValue], tok: &str| -> Result<ScalarValue, ProgramError> {
            let tok = tok.trim();
            // The first character, whatever its width (a token may start with any text).
            let (kind, num) = tok.split_at(tok.chars().next().map_or(0, char::len_utf8));
            let k: usize = num.parse().map_err(|_| parse(format!("bad value `{tok}`")))?;
            let v = match kind {
                "i" => inputs.get(k),
                "t" => temps.get(k),
                _ => None,
            };
            v.copied().ok_or_else(|| parse(format!("undefined value `{tok}`")))
        };
        let Some((last, body)) = stmts.split_last() else { return Err(parse("empty program".into())) };
        for (k, stmt) in body.iter().enumerate() {
            let (lhs, rhs) =
                stmt.split_once('=').ok_or_else(|| parse(format!("expected `tN = …`, found `{stmt}`")))?;
            if lhs.trim() != format!("t{k}") {
                return Err(parse(format!("expected t{k}, found `{}`", lhs.trim())));
            }
            let rhs = rhs.trim();
            let v = if let Some(c) = rhs.strip_prefix("const ") {
                let (d, v) = c
                    .trim()
                    .split_once(' ')
                    .ok_or_else(|| parse(format!("expected `const dtype value`, found `{rhs}`")))?;
                let dtype = DType::from_name(d).ok_or_else(|| parse(format!("unknown dtype `{d}`")))?;
                let x: f64 = v.trim().parse().map_err(|_| parse(format!("bad constant `{v}`")))?;
                b.add_const(dtype, x)?
            } else {
                let (name, args) = rhs
                    .split_once('(')
                    .ok_or_else(|| parse(format!("expected `op(args)`, found `{rhs}`")))?;
                let args = args.strip_suffix(')').ok_or_else(|| parse(format!("missing `)` in `{rhs}`")))?;
                let op = match name.strip_prefix("cast.") {
                    Some(d) => ScalarOp::Cast(
                        DType::from_name(d).ok_or_else(|| parse(format!("unknown dtype `{d}`")))?,
                    ),
                    None => ScalarOp::ALL
                        .iter()
                        .copied()
                        .find(|s| s.name() == name)
                        .ok_or_else(|| parse(format!("unknown scalar op `{name}`")))?,
                };
                let args: ScalarArgs = args.split(',').map(|a| value(&temps, a)).collect::<Result<_, _>>()?;
                b.apply(op, &args)?
            };
            temps.push(v);
        }
        let ret = last
            .strip_prefix("return ")
            .ok_or_else(|| parse(format!("expected `return tN`, found `{last}`")))?;
        let outs: Vec<ScalarValue> = ret.split(',').map(|v| value(&temps, v)).collect::<Result<_, _>>()?;
        b.finish(&outs)
    }
}

/// The dtype of node `node` (value `at`) applying `op` to `args`, after checking that each
/// argument is before it and the op's arity and dtype rules.
fn apply_dtype(
    node: usize,
    at: usize,
    op: ScalarOp,
    args: &[ScalarValue],
    dtype_of: impl Fn(ScalarValue) -> DType,
) -> Result<DType, ProgramError> {
    if let Some(bad) = args.iter().find(|a| a.index() >= at) {
        return Err(ProgramError::UndefinedArg { node, value: bad.index() });
    }
    match op.arity() {
        Some(n) if n != args.len() => {
            return Err(ProgramError::Arity { op: op.name(), expected: n, got: args.len() })
        }
        None if args.len() < 2 => return Err(ProgramError::TooFewArgs { op: op.name(), got: args.len() }),
        _ => {}
    }
    let dts: smallvec::SmallVec<[DType; 4]> = args.iter().map(|&a| dtype_of(a)).collect();
    op.out_dtype(&dts).map_err(|reason| ProgramError::ArgDTypes { op: op.name(), reason })
}

/// Checks that there is an output and each is one of the `n_values` values.
fn check_outputs(n_values: usize, outputs: &[ScalarValue]) -> Result<(), ProgramError> {
    if outputs.is_empty() {
        return Err(ProgramError::NoOutputs);
    }
    match outputs.iter().find(|v| v.index() >= n_values) {
        Some(v) => Err(ProgramError::UndefinedOutput { value: v.index() }),
        None => Ok(()),
    }
}

/// Builds a [`ScalarProgram`], checking each step: declare the inputs, then add constants
/// and ops (each op's dtype inferred from its arguments' by `ScalarOp::out_dtype`), then
/// [`finish`](Self::finish) with the outputs.
///
/// ```
/// use tensorlift_ir::{DType, ScalarOp, ScalarProgramBuilder};
/// let mut b = ScalarProgramBuilder::new();
/// let x = b.add_input(DType::F64)?;
/// let two = b.add_const(DType::F64, 2.0)?;
/// let y = b.apply(ScalarOp::Mul, &[x, two])?;
/// let p = b.finish(&[y])?;
/// assert_eq!(p.to_string(), "(i0 * 2.0)");
/// # Ok::<(), tensorlift_ir::ProgramError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ScalarProgramBuilder {
    inputs: Vec<DType>,
    nodes: Vec<ScalarNode>,
}

impl ScalarProgramBuilder {
    /// An empty program.
    pub fn new() -> ScalarProgramBuilder {
        ScalarProgramBuilder::default()
    }

    /// An empty program with room for `nodes` nodes (a fused chain holds tens of thousands).
    pub fn with_capacity(nodes: usize) -> ScalarProgramBuilder {
        ScalarProgramBuilder { inputs: Vec::new(), nodes: Vec::with_capacity(nodes) }
    }

    /// The next value's number, if a [`ScalarValue`] can number it.
    fn next_value(&self) -> Result<ScalarValue, ProgramError> {
        let v = self.inputs.len() + self.nodes.len();
        u32::try_from(v).map(ScalarValue).map_err(|_| ProgramError::TooLarge { max: u32::MAX as usize })
    }

    /// Declares the next input, of `dtype`. Inputs come before every node
    /// ([`ProgramError::InputAfterNode`]).
    pub fn add_input(&mut self, dtype: DType) -> Result<ScalarValue, ProgramError> {
        if !self.nodes.is_empty() {
            return Err(ProgramError::InputAfterNode { input: self.inputs.len() });
        }
        let v = self.next_value()?;
        self.inputs.push(dtype);
        Ok(v)
    }

    /// Adds the constant `value` of `dtype` (held as its f64 bits, exact for every dtype's
    /// values).
    pub fn add_const(&mut self, dtype: DType, value: f64) -> Result<ScalarValue, ProgramError> {
        let v = self.next_value()?;
        self.nodes.push(ScalarNode::Const { dtype, bits: value.to_bits() });
        Ok(v)
    }

    /// Adds `op` applied to `args` (values already in the program); its dtype is the op's
    /// result dtype for the arguments' dtypes.
    pub fn apply(&mut self, op: ScalarOp, args: &[ScalarValue]) -> Result<ScalarValue, ProgramError> {
        let v = self.next_value()?;
        // `apply_dtype` reads the dtypes of earlier values only (checked first).
        let dtype =
            apply_dtype(self.nodes.len(), v.index(), op, args, |a| self.dtype_of(a).unwrap_or(DType::F64))?;
        self.nodes.push(ScalarNode::Apply { op, args: ScalarArgs::from_slice(args), dtype });
        Ok(v)
    }

    /// The dtype of value `v`, or `None` if it is not in the program yet.
    pub fn dtype_of(&self, v: ScalarValue) -> Option<DType> {
        match v.index().checked_sub(self.inputs.len()) {
            None => self.inputs.get(v.index()).copied(),
            Some(k) => self.nodes.get(k).map(|n| match n {
                ScalarNode::Const { dtype, .. } | ScalarNode::Apply { dtype, .. } => *dtype,
            }),
        }
    }

    /// Number of inputs declared.
    pub fn n_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Number of nodes added (constants and ops).
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The program, with `outputs` (output 0 first; at least one, each a value of it).
    pub fn finish(self, outputs: &[ScalarValue]) -> Result<ScalarProgram, ProgramError> {
        check_outputs(self.inputs.len() + self.nodes.len(), outputs)?;
        Ok(ScalarProgram { inputs: self.inputs, nodes: self.nodes, outputs: outputs.to_vec() })
    }
}
