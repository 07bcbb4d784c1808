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

/// The arguments of a scalar op, inline up to three: programs of fused chains hold
/// thousands of nodes, and a heap list per node would cost an allocation each.
pub type ScalarArgs = smallvec::SmallVec<[usize; 3]>;

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
        /// Value indices: `0..n_inputs` are the inputs, then one per earlier node.
        args: ScalarArgs,
        /// The result's dtype.
        dtype: DType,
    },
}

/// A scalar program: its result, and possibly further results computed in the same pass
/// (a multi-output composite).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarProgram {
    /// The dtype of each input.
    pub inputs: Vec<DType>,
    /// The instructions; value `inputs.len() + k` is the result of `nodes[k]`.
    pub nodes: Vec<ScalarNode>,
    /// The value that is the result (output 0).
    pub output: usize,
    /// The values of outputs `1..`: empty for a program with one result. A `Composite`
    /// node yields output 0; `Op::CompositeOutput { index: k }` nodes read output `k`.
    pub extra_outputs: Vec<usize>,
}

/// Nodes hashed at each end of a program.
const HASH_ENDS: usize = 8;

impl Hash for ScalarProgram {
    /// Hashes the signature, the size and the nodes at both ends, not every node: equal
    /// programs still hash equal, and hash-consing a composite of a fused chain thousands of
    /// ops long costs the same as a short one (equality, checked on a hash match, reads all).
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.inputs.hash(h);
        self.output.hash(h);
        self.extra_outputs.hash(h);
        self.nodes.len().hash(h);
        let tail = self.nodes.len().saturating_sub(HASH_ENDS).max(HASH_ENDS);
        self.nodes.iter().take(HASH_ENDS).chain(self.nodes.iter().skip(tail)).for_each(|n| n.hash(h));
    }
}

impl ScalarProgram {
    /// The dtype of value `v`.
    pub fn dtype_of(&self, v: usize) -> DType {
        match v.checked_sub(self.inputs.len()) {
            None => self.inputs[v],
            Some(k) => match &self.nodes[k] {
                ScalarNode::Const { dtype, .. } | ScalarNode::Apply { dtype, .. } => *dtype,
            },
        }
    }

    /// The result's dtype.
    pub fn out_dtype(&self) -> DType {
        self.dtype_of(self.output)
    }

    /// Every output's value: the result, then the extra outputs.
    pub fn outputs(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.output).chain(self.extra_outputs.iter().copied())
    }

    /// Number of outputs (1 for a single-result program).
    pub fn n_outputs(&self) -> usize {
        1 + self.extra_outputs.len()
    }

    /// The dtype of output `k`.
    pub fn output_dtype(&self, k: usize) -> Option<DType> {
        self.outputs().nth(k).map(|v| self.dtype_of(v))
    }

    /// Number of scalar ops (constants excluded).
    pub fn op_count(&self) -> usize {
        self.nodes.iter().filter(|n| matches!(n, ScalarNode::Apply { .. })).count()
    }

    /// Checks that every argument refers to an earlier value, arities and dtypes follow the
    /// scalar ops' rules, and the output exists.
    pub fn validate(&self) -> Result<(), String> {
        let n_in = self.inputs.len();
        for (k, node) in self.nodes.iter().enumerate() {
            if let ScalarNode::Apply { op, args, dtype } = node {
                if let Some(bad) = args.iter().find(|&&a| a >= n_in + k) {
                    return Err(format!("node {k} reads value {bad}, which is not computed before it"));
                }
                match op.arity() {
                    Some(n) if n != args.len() => return Err(format!("{} takes {n} arguments", op.name())),
                    None if args.len() < 2 => return Err(format!("{} takes 2 or more arguments", op.name())),
                    _ => {}
                }
                let dts: smallvec::SmallVec<[DType; 4]> = args.iter().map(|&a| self.dtype_of(a)).collect();
                let want = op.out_dtype(&dts)?;
                if want != *dtype {
                    return Err(format!("node {k}: {} gives {want}, typed {dtype}", op.name()));
                }
            }
        }
        if let Some(v) = self.outputs().find(|&v| v >= n_in + self.nodes.len()) {
            return Err(format!("output {v} does not exist"));
        }
        Ok(())
    }

    /// The value of a constant node as f64.
    pub fn const_value(bits: u64) -> f64 {
        f64::from_bits(bits)
    }

    /// Prints value `v` in `pp` style: inputs `i0, i1, …`, constants inline, ops fully
    /// parenthesized (`(i0 + sqr(i1))`).
    pub fn pp_value(&self, v: usize) -> String {
        let n_in = self.inputs.len();
        if v < n_in {
            return format!("i{v}");
        }
        match &self.nodes[v - n_in] {
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
        let outs: Vec<String> = self.outputs().map(|v| self.pp_value(v)).collect();
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
        let name = |v: usize| if v < n_in { format!("i{v}") } else { format!("t{}", v - n_in) };
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
        let outs: Vec<String> = self.outputs().map(name).collect();
        parts.push(format!("return {}", outs.join(", ")));
        let ins: Vec<&str> = self.inputs.iter().map(|d| d.name()).collect();
        parts.insert(0, format!("in {}", ins.join(" ")).trim_end().to_string());
        parts.join(" | ")
    }

    /// Parses `to_text`'s form.
    pub fn parse_text(text: &str) -> Result<ScalarProgram, String> {
        let mut stmts: Vec<&str> = text.split('|').map(str::trim).collect();
        let header = stmts.remove(0);
        let dtypes =
            header.strip_prefix("in").ok_or_else(|| format!("expected `in <dtypes>`, found `{header}`"))?;
        let inputs = dtypes
            .split_whitespace()
            .map(|d| DType::from_name(d).ok_or_else(|| format!("unknown dtype `{d}`")))
            .collect::<Result<Vec<_>, _>>()?;
        let n_in = inputs.len();
        let mut p = ScalarProgram { inputs, nodes: Vec::new(), output: 0, extra_outputs: Vec::new() };
        let value = |p: &ScalarProgram, tok: &str| -> Result<usize, String> {
            let tok = tok.trim();
            // The first character, whatever its width (a token may start with any text).
            let (kind, num) = tok.split_at(tok.chars().next().map_or(0, char::len_utf8));
            let k: usize = num.parse().map_err(|_| format!("bad value `{tok}`"))?;
            let v = match kind {
                "i" if k < n_in => k,
                "t" if k < p.nodes.len() => n_in + k,
                _ => return Err(format!("undefined value `{tok}`")),
            };
            Ok(v)
        };
        let Some((last, body)) = stmts.split_last() else { return Err("empty program".into()) };
        for (k, stmt) in body.iter().enumerate() {
            let (lhs, rhs) =
                stmt.split_once('=').ok_or_else(|| format!("expected `tN = …`, found `{stmt}`"))?;
            if lhs.trim() != format!("t{k}") {
                return Err(format!("expected t{k}, found `{}`", lhs.trim()));
            }
            let rhs = rhs.trim();
            let node = if let Some(c) = rhs.strip_prefix("const ") {
                let (d, v) = c
                    .trim()
                    .split_once(' ')
                    .ok_or_else(|| format!("expected `const dtype value`, found `{rhs}`"))?;
                let dtype = DType::from_name(d).ok_or_else(|| format!("unknown dtype `{d}`"))?;
                let x: f64 = v.trim().parse().map_err(|_| format!("bad constant `{v}`"))?;
                ScalarNode::Const { dtype, bits: x.to_bits() }
            } else {
                let (name, args) =
                    rhs.split_once('(').ok_or_else(|| format!("expected `op(args)`, found `{rhs}`"))?;
                let args = args.strip_suffix(')').ok_or_else(|| format!("missing `)` in `{rhs}`"))?;
                let op = match name.strip_prefix("cast.") {
                    Some(d) => {
                        ScalarOp::Cast(DType::from_name(d).ok_or_else(|| format!("unknown dtype `{d}`"))?)
                    }
                    None => ScalarOp::ALL
                        .iter()
                        .copied()
                        .find(|s| s.name() == name)
                        .ok_or_else(|| format!("unknown scalar op `{name}`"))?,
                };
                let args: ScalarArgs = args.split(',').map(|a| value(&p, a)).collect::<Result<_, _>>()?;
                let dts: Vec<DType> = args.iter().map(|&a| p.dtype_of(a)).collect();
                let dtype = op.out_dtype(&dts)?;
                ScalarNode::Apply { op, args, dtype }
            };
            p.nodes.push(node);
        }
        let ret =
            last.strip_prefix("return ").ok_or_else(|| format!("expected `return tN`, found `{last}`"))?;
        let outs: Vec<usize> = ret.split(',').map(|v| value(&p, v)).collect::<Result<_, _>>()?;
        p.output = outs[0];
        p.extra_outputs = outs[1..].to_vec();
        p.validate()?;
        Ok(p)
    }
}
