//! What rules see: `Rw` wraps the graph being rewritten with helpers to read nodes
//! (`scalar_op`, `const_value`, `terms`) and to build replacements (`el`, `konst`), each
//! new node typed by its op's rule and merged with an equal existing one.

use crate::scratch::Scratch;
use crate::OptConfig;
use std::cell::RefCell;
use tensorlift_ir::{DType, FunctionGraph, GraphNode, Inputs, NodeId, Op, ScalarOp, Tensor, TensorType};

/// The operands of an n-ary add or mul (`Rw::terms`), inline up to eight: canonicalization
/// lists them for every add and mul of the graph, on every pass.
pub type Terms = smallvec::SmallVec<[NodeId; 8]>;

/// The graph under rewrite, as rules use it.
pub struct Rw<'g> {
    /// The graph.
    pub g: &'g mut FunctionGraph,
    /// The pipeline's options.
    pub config: &'g OptConfig,
    /// Further (old, new) replacements the rule asks for, made after its main one.
    pub(crate) also: Vec<(NodeId, NodeId)>,
    /// Working storage lent by the phase (per-node marks and values).
    pub scratch: &'g RefCell<Scratch>,
}

impl<'g> Rw<'g> {
    /// Wraps a graph, with the phase's working storage.
    pub fn new(g: &'g mut FunctionGraph, config: &'g OptConfig, scratch: &'g RefCell<Scratch>) -> Self {
        Rw { g, config, also: Vec::new(), scratch }
    }

    /// Asks for `old` to be replaced by `new` too, once the rule's own replacement is made
    /// (a rule that computes two nodes at once replaces both). The same guard applies.
    pub fn also_replace(&mut self, old: NodeId, new: NodeId) {
        self.also.push((old, new));
    }

    /// A node.
    pub fn node(&self, id: NodeId) -> &GraphNode {
        self.g.node(id)
    }

    /// A node's op.
    pub fn op(&self, id: NodeId) -> &Op {
        &self.g.node(id).op
    }

    /// A node's inputs.
    pub fn inputs(&self, id: NodeId) -> Inputs {
        self.g.node(id).inputs.clone()
    }

    /// A node's type.
    pub fn ty(&self, id: NodeId) -> &TensorType {
        self.g.ty(id)
    }

    /// The scalar op of an elementwise node.
    pub fn scalar_op(&self, id: NodeId) -> Option<ScalarOp> {
        match self.op(id) {
            Op::Elemwise(s) => Some(*s),
            _ => None,
        }
    }

    /// The inputs of `id` when it applies scalar op `s`.
    pub fn is(&self, id: NodeId, s: ScalarOp) -> Option<Inputs> {
        (self.scalar_op(id) == Some(s)).then(|| self.inputs(id))
    }

    /// The value of a constant whose elements are all equal, with a non-empty
    /// broadcastable shape (a scalar in effect).
    pub fn const_value(&self, id: NodeId) -> Option<f64> {
        let Op::Constant(t) = self.op(id) else { return None };
        t.to_f64().ok()
    }

    /// True when `id` is a one-element constant equal to `v`.
    pub fn is_const(&self, id: NodeId, v: f64) -> bool {
        self.const_value(id) == Some(v)
    }

    /// Number of reads of `id` (a node used twice by one reader counts twice) plus one per
    /// appearance among the outputs.
    pub fn use_count(&self, id: NodeId) -> usize {
        self.g.use_count(id) + self.g.outputs().iter().filter(|&&o| o == id).count()
    }

    /// Adds (or finds) `op(inputs)`; `None` when the inputs do not type.
    pub fn add(&mut self, op: Op, inputs: Vec<NodeId>) -> Option<NodeId> {
        self.g.add_node(op, inputs).ok()
    }

    /// Adds (or finds) the elementwise node `s(inputs)`.
    pub fn el(&mut self, s: ScalarOp, inputs: Vec<NodeId>) -> Option<NodeId> {
        self.add(Op::Elemwise(s), inputs)
    }

    /// A constant `v` of `dtype` with `ndim` broadcastable axes.
    pub fn konst(&mut self, v: f64, dtype: DType, ndim: usize) -> NodeId {
        self.g.add_constant(Tensor::full(dtype, &vec![1; ndim], v))
    }

    /// A constant like `like` (its dtype and rank) holding `v`.
    pub fn konst_like(&mut self, v: f64, like: NodeId) -> NodeId {
        let (dtype, ndim) = (self.ty(like).dtype, self.ty(like).ndim());
        self.konst(v, dtype, ndim)
    }

    /// `value` broadcast to the shape of `shape_of` (Theano's `fill`), or `value` itself when
    /// it already has that broadcast pattern.
    pub fn fill(&mut self, shape_of: NodeId, value: NodeId) -> Option<NodeId> {
        if compatible(self.ty(shape_of), self.ty(value)) || same_pattern(self.ty(shape_of), self.ty(value)) {
            return Some(value);
        }
        self.el(ScalarOp::Second, vec![shape_of, value])
    }

    /// The operands of an n-ary `op` tree rooted at `id`, flattening nested nodes of the
    /// same op and dtype that nothing else reads, where that keeps the grouping of the
    /// non-constant terms (an n-ary node is evaluated left to right, constants collected
    /// first): a nested node that is the first term (`(a + b) + c`), or one holding at most
    /// one non-constant term (`a + (1 + b)`), whose constants, in a product, are powers of
    /// two when it follows a non-constant term (`a * (2 * b)`, but not `a * (3 * b)`).
    /// `a + (b + c)` and `2 + (b + c)` keep their inner node:
    /// `(a + b) + c` can differ beyond rounding (`1 + (1e17 - 1e17)`). Under `fast_math`
    /// every nested node is flattened, as in Theano.
    pub fn terms(&self, id: NodeId, op: ScalarOp) -> Terms {
        let mut out = Terms::new();
        let mut vars = 0;
        self.expand_terms(id, op, &mut out, &mut vars, 0);
        out
    }

    /// The operands of the n-ary `op` rooted at `id` with only its leading chain flattened
    /// (`((a + b) + c) + d` → `a, b, c, d`; `a + (b + c)` stays two terms): the same left
    /// fold, exactly.
    pub fn leading_terms(&self, id: NodeId, op: ScalarOp) -> Terms {
        let dtype = self.ty(id).dtype;
        let mut chain = vec![id];
        while let Some(&first) = self.inputs(*chain.last().expect("not empty")).first() {
            if !self.nested(first, op, dtype) {
                break;
            }
            chain.push(first);
        }
        let mut out = Terms::new();
        for (k, &n) in chain.iter().rev().enumerate() {
            let ins = self.inputs(n);
            out.extend(ins.into_iter().skip(usize::from(k > 0)));
        }
        out
    }

    /// True when `t` may be flattened into an n-ary `op` of `dtype`: the same op and dtype,
    /// read once.
    fn nested(&self, t: NodeId, op: ScalarOp, dtype: DType) -> bool {
        self.scalar_op(t) == Some(op) && self.ty(t).dtype == dtype && self.use_count(t) == 1
    }

    /// True when the constants of a nested node may move across a non-constant term before
    /// it. In a sum, `a + (1 + b)` as `(1 + a) + b` changes rounding only. In a product only
    /// power-of-two factors move: `a * (2 * b)` as `(2 * a) * b` is exact unless a partial
    /// product leaves the normal range, while `a * (b * 1e-300)` as `(1e-300 * a) * b` would
    /// underflow for ordinary values.
    fn movable_constants(&self, terms: &[NodeId], op: ScalarOp) -> bool {
        op != ScalarOp::Mul
            || terms
                .iter()
                .all(|&t| self.const_value(t).is_none_or(|c| c.is_normal() && c.abs().log2().fract() == 0.0))
    }

    /// Appends the operands of `id` to `out` (see `terms`); `vars` counts the non-constant
    /// terms in `out`. `depth` bounds the nested expansions of non-leading nodes.
    fn expand_terms(&self, id: NodeId, op: ScalarOp, out: &mut Terms, vars: &mut usize, depth: usize) {
        /// Deepest nesting of non-leading nodes looked into.
        const MAX_DEPTH: usize = 8;
        let dtype = self.ty(id).dtype;
        let mut stack: Terms = self.inputs(id).into_iter().rev().collect();
        while let Some(t) = stack.pop() {
            if self.nested(t, op, dtype) {
                // The first term of all folds the same nested or flattened; after any term,
                // even a constant, `c + (x + y)` would become `(c + x) + y`.
                if out.is_empty() || self.config.fast_math {
                    stack.extend(self.inputs(t).into_iter().rev());
                    continue;
                }
                if depth < MAX_DEPTH {
                    let (mut sub, mut n) = (Terms::new(), 0);
                    self.expand_terms(t, op, &mut sub, &mut n, depth + 1);
                    if n == 0 || (n == 1 && (*vars == 0 || self.movable_constants(&sub, op))) {
                        out.extend(sub);
                        *vars += n;
                        continue;
                    }
                }
            }
            if self.const_value(t).is_none() || self.ty(t).dtype != dtype {
                *vars += 1;
            }
            out.push(t);
        }
    }
}

/// True when both types broadcast on exactly the same axes and have the same rank.
pub fn same_pattern(a: &TensorType, b: &TensorType) -> bool {
    a.ndim() == b.ndim() && a.shape.iter().zip(&b.shape).all(|(p, q)| (*p == Some(1)) == (*q == Some(1)))
}

/// True when a node of type `new` may stand for one of type `old`: same dtype and rank, the
/// same broadcastable axes, and no static length that disagrees.
pub fn compatible(old: &TensorType, new: &TensorType) -> bool {
    old.dtype == new.dtype
        && old.ndim() == new.ndim()
        && old.shape.iter().zip(&new.shape).all(|(a, b)| match (a, b) {
            (Some(1), b) => *b == Some(1),
            (a, Some(1)) => *a == Some(1),
            (Some(p), Some(q)) => p == q,
            _ => true,
        })
}
