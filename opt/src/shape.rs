//! Shape inference (Theano's `ShapeFeature`) and the rewrites that use it.
//!
//! Every node has a symbolic shape ([`Rw::shape_of`]): one [`SymDim`] per axis, a constant
//! where the length is known when compiling, else the run-time length of one axis of some
//! node. Two axes with the same `SymDim` have the same length in every run that succeeds,
//! by construction and without assuming anything about the inputs:
//! - an axis of a leaf (input, shared variable) is itself;
//! - an elementwise result has the length its non-broadcastable inputs share when they all
//!   name the same one; when they name different ones (the kernel checks at run time that
//!   they agree), the result's axis is its own, so no rewrite can drop that check;
//! - reductions keep their kept axes, dimshuffles permute, `dot` takes its operands' outer
//!   axes, reshapes and allocs take their fixed lengths and the lengths their length inputs
//!   hold (`shape_i(x, k)` is axis `k` of `x`);
//! - advanced indexing keeps the axes its whole slices take and those after the index, and
//!   takes its integer index arrays' broadcast axes;
//! - running sums and products and sorts keep their input's axes, a repeat all but the
//!   repeated one, `eye(n, m, k)` is as long as `n` and `m` hold;
//! - anything else (an inferred reshape length, a slice, a joined axis) is the node's own.
//!
//! A node's shape is computed once per phase (node ids are stable within a phase, and the
//! facts stay true as the graph is rewritten, since a replacement has the value it replaces).
//!
//! The rules (listed in canonicalization's, where they run): `shape_i` and `shape` of known lengths
//! fold to constants or to the lengths of leaves; `shape(x)[i]` is `shape_i(x, i)`; a
//! `fill` whose shape comes from leaves becomes an `alloc` (so the value that only gave
//! the shape is not computed); an `alloc` or `fill` read by an elementwise op whose other
//! inputs give the same shape is replaced by its value, and one nothing else reads moves
//! past an elementwise op toward such a reader; the sum of an `alloc` of a constant is a
//! product; an `alloc` of a value that has the shape already is the value; a reshape's length donor is replaced by the lengths it
//! gives, and a reshape to the shape its input has is the input.

use crate::pattern::Rw;
pub use crate::symbolic::{SymDim, SymShape};
use tensorlift_ir::op::AdvPart;
use tensorlift_ir::{
    AdvEntry, Dim, Distribution, IndexEntry, NodeId, Op, ReduceOp, ReshapeDim, ScalarOp, Tensor, TensorType,
};

impl Rw<'_> {
    /// The symbolic shape of `id` (computed once per phase, its inputs first, without
    /// recursion: graphs can be deep).
    pub fn shape_of(&self, id: NodeId) -> SymShape {
        if let Some(s) = self.scratch.borrow().shapes.get(&id) {
            return s.clone();
        }
        let mut stack = vec![id];
        while let Some(&n) = stack.last() {
            if self.scratch.borrow().shapes.contains_key(&n) {
                stack.pop();
                continue;
            }
            let missing: Vec<NodeId> = {
                let s = self.scratch.borrow();
                self.node(n).inputs.iter().copied().filter(|i| !s.shapes.contains_key(i)).collect()
            };
            if missing.is_empty() {
                let shape = self.infer_shape(n);
                self.scratch.borrow_mut().shapes.insert(n, shape);
                stack.pop();
            } else {
                stack.extend(missing);
            }
        }
        self.scratch.borrow().shapes[&id].clone()
    }

    /// The shape of `id` from its inputs' shapes, which are known.
    fn infer_shape(&self, id: NodeId) -> SymShape {
        let s = self.scratch.borrow();
        let of = |i: NodeId| &s.shapes[&i];
        let node = self.node(id);
        let ins = &node.inputs;
        let ndim = self.ty(id).ndim();
        let own = |k: usize| SymDim::Of(id, k);
        let mut shape: SymShape = match &node.op {
            Op::Input | Op::Constant(_) | Op::Shared(_) | Op::Scan(_) | Op::ScanOutput { .. } => {
                (0..ndim).map(own).collect()
            }
            Op::Elemwise(_) | Op::Composite(_) => self.merged(id, ins),
            Op::CompositeOutput { .. } => of(ins[0]).clone(),
            Op::Reduce { axes, keepdims, .. }
            | Op::ArgReduce { axes, keepdims, .. }
            | Op::LogSumExp { axes, keepdims } => reduced(of(ins[0]), axes, *keepdims),
            Op::FusedReduce { axes, keepdims, .. } => reduced(&self.merged(id, ins), axes, *keepdims),
            Op::Softmax { .. } | Op::LogSoftmax { .. } | Op::IncSubtensor { .. } | Op::GradBarrier(_) => {
                of(ins[0]).clone()
            }
            Op::Dot | Op::Gemm => {
                let (a, b) = if matches!(node.op, Op::Dot) { (ins[0], ins[1]) } else { (ins[2], ins[3]) };
                let (sa, sb) = (of(a), of(b));
                let mut out = SymShape::new();
                if sa.len() == 2 {
                    out.push(sa[0]);
                }
                if sb.len() == 2 {
                    out.push(sb[1]);
                }
                out
            }
            Op::BatchedDot => {
                let (sa, sb) = (of(ins[0]), of(ins[1]));
                [sa[0], sa[1], sb[2]].into_iter().collect()
            }
            Op::DimShuffle { order } => {
                order.iter().map(|o| o.map_or(SymDim::Const(1), |i| of(ins[0])[i])).collect()
            }
            Op::Reshape { shape } => {
                let donor = shape.iter().any(|d| matches!(d, ReshapeDim::Like(_)));
                let mut lengths = ins[1 + donor as usize..].iter();
                shape
                    .iter()
                    .enumerate()
                    .map(|(k, d)| match *d {
                        ReshapeDim::Fixed(n) => SymDim::Const(n),
                        ReshapeDim::Keep(i) => of(ins[0])[i],
                        ReshapeDim::Like(i) => of(ins[1])[i],
                        ReshapeDim::Infer => own(k),
                        ReshapeDim::Input => {
                            let len = *lengths.next().expect("typed: one input per length");
                            self.length_held(len).unwrap_or(own(k))
                        }
                    })
                    .collect()
            }
            Op::Concatenate { axis } => {
                let mut out = self.merged(id, ins);
                out[*axis] = own(*axis);
                out
            }
            Op::SplitPart { axis, part } => {
                let mut out = self.merged(id, &[ins[0], ins[1 + part]]);
                out[*axis] = of(ins[1 + part])[*axis];
                out
            }
            Op::Subtensor { index } => {
                let x = of(ins[0]);
                let mut out = SymShape::new();
                for (axis, e) in index.iter().enumerate() {
                    match e {
                        IndexEntry::At(_) => {}
                        &IndexEntry::FULL => out.push(x[axis]),
                        IndexEntry::Slice { .. } => out.push(own(out.len())),
                    }
                }
                out.extend_from_slice(&x[index.len()..]);
                out
            }
            Op::AdvancedIncSubtensor { .. } => of(ins[0]).clone(),
            Op::AdvancedSubtensor { index } => self.advanced_shape(id, index, &s),
            // `arange(0, n, 1)` is as long as `n` says.
            Op::ARange { .. } => {
                let whole = self.constant_int(ins[0]) == Some(0) && self.constant_int(ins[2]) == Some(1);
                let n = if whole { self.length_held(ins[1]) } else { None };
                SymShape::from_elem(n.unwrap_or(own(0)), 1)
            }
            Op::Shape => SymShape::from_elem(SymDim::Const(self.ty(ins[0]).ndim()), 1),
            Op::ShapeI { .. } => SymShape::new(),
            Op::Alloc { shape } => {
                let mut lengths = ins[1..].iter();
                shape
                    .iter()
                    .enumerate()
                    .map(|(k, d)| match d {
                        Dim::Fixed(n) => SymDim::Const(*n),
                        Dim::Input => {
                            let len = *lengths.next().expect("typed: one input per length");
                            self.length_held(len).unwrap_or(own(k))
                        }
                    })
                    .collect()
            }
            // The size's lengths, then a permutation's or multinomial's own axis; a choice by
            // the rows of a probability matrix has the rows first.
            Op::Random(d) => {
                let rows =
                    matches!(d.dist, Distribution::Choice { weighted: true, .. }) && ndim > d.shape.len();
                let mut out = SymShape::new();
                if rows {
                    out.push(of(ins[2])[0]);
                }
                let mut lengths = ins[1 + d.dist.params().len()..].iter();
                for (k, x) in d.shape.iter().enumerate() {
                    out.push(match x {
                        Dim::Fixed(n) => SymDim::Const(*n),
                        Dim::Input => {
                            let len = *lengths.next().expect("typed: one input per length");
                            self.length_held(len).unwrap_or(own(k + rows as usize))
                        }
                    });
                }
                if out.len() < ndim {
                    out.push(own(out.len()));
                }
                out
            }
            Op::Conv2d(_) => {
                let (x, w) = (of(ins[0]), of(ins[1]));
                [x[0], w[0], own(2), own(3)].into_iter().collect()
            }
            Op::Conv2dGradInputs { conv, shape } | Op::Conv2dGradWeights { conv, shape } => {
                // Inputs: the filters (or the input), the output's gradient, the lengths.
                let (a, top) = (of(ins[0]), of(ins[1]));
                let (lead, channels) = if matches!(node.op, Op::Conv2dGradInputs { .. }) {
                    (top[0], a[1])
                } else {
                    (top[1], a[1])
                };
                let channels = if conv.groups == 1 { channels } else { own(1) };
                let mut lengths = ins[2..].iter();
                let mut out: SymShape = [lead, channels].into_iter().collect();
                for (k, d) in shape.iter().enumerate() {
                    out.push(match d {
                        Dim::Fixed(n) => SymDim::Const(*n),
                        Dim::Input => {
                            let len = *lengths.next().expect("typed: one input per length");
                            self.length_held(len).unwrap_or(own(2 + k))
                        }
                    });
                }
                out
            }
            Op::Pool(_) => {
                let mut out = of(ins[0]).clone();
                out[ndim - 2] = own(ndim - 2);
                out[ndim - 1] = own(ndim - 1);
                out
            }
            Op::MaxPoolGrad(_) | Op::AveragePoolGrad(_) => of(ins[0]).clone(),
            Op::MaxPoolGradGrad(_) => of(ins[1]).clone(),
            Op::Rebroadcast { axes } => {
                let mut out = of(ins[0]).clone();
                for &(a, b) in axes {
                    if b {
                        out[a] = SymDim::Const(1);
                    }
                }
                out
            }
            // The branches' lengths where they agree; the taken branch's otherwise.
            Op::IfElse => of(ins[1])
                .iter()
                .zip(of(ins[2]))
                .enumerate()
                .map(|(k, (a, b))| if a == b { *a } else { own(k) })
                .collect(),
            Op::Cumulative { .. } | Op::Sort { .. } | Op::ArgSort { .. } => of(ins[0]).clone(),
            // The repeated axis is as long as the counts say; the others are x's.
            Op::Repeat { axis } => {
                let mut out = of(ins[0]).clone();
                out[*axis] = own(*axis);
                out
            }
            Op::Eye { .. } => {
                let n = self.length_held(ins[0]).unwrap_or(own(0));
                let m = self.length_held(ins[1]).unwrap_or(own(1));
                [n, m].into_iter().collect()
            }
        };
        // What the type knows wins.
        for (d, t) in shape.iter_mut().zip(&self.ty(id).shape) {
            if let Some(n) = t {
                *d = SymDim::Const(*n);
            }
        }
        shape
    }

    /// The symbolic shape of `x[index]` (node `id`, an advanced index): whole slices keep
    /// `x`'s axes, integer index arrays give their broadcast axes, and the axes after the
    /// index are `x`'s; a mask's count and any other slice are the node's own lengths.
    fn advanced_shape(&self, id: NodeId, index: &[AdvEntry], s: &crate::scratch::Scratch) -> SymShape {
        let ins = &self.node(id).inputs;
        let x = &s.shapes[&ins[0]];
        let own = |k: usize| SymDim::Of(id, k);
        let mut next = 1;
        let mut axis = 0;
        let mut arrays: Vec<(&TensorType, &[SymDim])> = Vec::new();
        let mut masked = false;
        let mut slices = vec![None; index.len()];
        for (k, e) in index.iter().enumerate() {
            if let AdvEntry::Array = e {
                let a = ins[next];
                let ty = self.ty(a);
                if ty.dtype == tensorlift_ir::DType::Bool {
                    masked = true;
                    axis += ty.ndim();
                } else {
                    arrays.push((ty, &s.shapes[&a][..]));
                    axis += 1;
                }
            } else {
                if *e == AdvEntry::FULL {
                    slices[k] = x.get(axis).copied();
                }
                axis += 1;
            }
            next += e.n_inputs();
        }
        let bdim = arrays.iter().map(|(t, _)| t.ndim()).max().unwrap_or(0).max(masked as usize);
        let broadcast = if masked { vec![None; bdim] } else { broadcast(&arrays, bdim) };
        let mut out = SymShape::new();
        for p in tensorlift_ir::op::adv_parts(index) {
            match p {
                AdvPart::Slice(k) => out.push(slices[k].unwrap_or(own(out.len()))),
                AdvPart::Broadcast => {
                    for d in &broadcast {
                        out.push(d.unwrap_or(own(out.len())));
                    }
                }
            }
        }
        out.extend(x.iter().skip(axis).copied());
        out
    }

    /// The length an integer scalar node holds, when it is a constant or a `shape_i`.
    fn length_held(&self, len: NodeId) -> Option<SymDim> {
        match self.op(len) {
            Op::Constant(t) => usize::try_from(t.scalar::<i64>().ok()?).ok().map(SymDim::Const),
            Op::ShapeI { axis } => {
                let x = self.node(len).inputs[0];
                Some(self.scratch.borrow().shapes[&x][*axis])
            }
            _ => None,
        }
    }

    /// The length a scalar integer node holds, if shape inference knows it (its inputs'
    /// shapes computed first).
    pub(crate) fn length_of(&self, len: NodeId) -> Option<SymDim> {
        self.shape_of(len);
        self.length_held(len)
    }

    /// The integer a scalar integer constant node holds.
    fn constant_int(&self, id: NodeId) -> Option<i64> {
        match self.op(id) {
            Op::Constant(t) if t.ndim() == 0 && t.dtype().is_int() => t.scalar::<i64>().ok(),
            _ => None,
        }
    }

    /// The elementwise broadcast of `ins`' shapes, for node `id`, whose inputs' shapes are
    /// known: `id`'s own length on an axis where they name different ones.
    fn merged(&self, id: NodeId, ins: &[NodeId]) -> SymShape {
        let s = self.scratch.borrow();
        let shapes: Vec<(&TensorType, &[SymDim])> =
            ins.iter().map(|i| (self.ty(*i), &s.shapes[i][..])).collect();
        let ndim = self.ty(id).ndim();
        broadcast(&shapes, ndim)
            .into_iter()
            .enumerate()
            .map(|(k, d)| d.unwrap_or(SymDim::Of(id, k)))
            .collect()
    }

    /// The elementwise broadcast of `ins`' shapes (computed as needed) for a result of rank
    /// `ndim`: `None` on an axis where they name different lengths.
    fn broadcast_of(&self, ins: &[NodeId], ndim: usize) -> Vec<Option<SymDim>> {
        let owned: Vec<SymShape> = ins.iter().map(|&i| self.shape_of(i)).collect();
        let shapes: Vec<(&TensorType, &[SymDim])> =
            ins.iter().zip(&owned).map(|(&i, sh)| (self.ty(i), &sh[..])).collect();
        broadcast(&shapes, ndim)
    }

    /// True when `n` can be read by a new node: a leaf, or a node something reads.
    fn readable(&self, n: NodeId) -> bool {
        self.op(n).is_leaf() || self.use_count(n) > 0
    }

    /// An int64 scalar node holding the length `d` (a constant, or `shape_i` of a readable
    /// node), if there is one.
    fn length_node(&mut self, d: SymDim) -> Option<NodeId> {
        match d {
            SymDim::Const(n) => Some(self.g.add_constant(Tensor::from(i64::try_from(n).ok()?))),
            SymDim::Of(m, k) if self.readable(m) => self.add(Op::ShapeI { axis: k }, vec![m]),
            SymDim::Of(..) => None,
        }
    }
}

/// The elementwise broadcast of inputs (each a type and its symbolic shape, aligned with the
/// last of `ndim` axes): on each axis, the length the inputs not broadcastable there share,
/// 1 when all are, `None` when they name different lengths.
fn broadcast(inputs: &[(&TensorType, &[SymDim])], ndim: usize) -> Vec<Option<SymDim>> {
    (0..ndim)
        .map(|k| {
            let mut dims = inputs.iter().filter_map(|(ty, shape)| {
                let a = k.checked_sub(ndim - ty.ndim())?;
                (ty.shape[a] != Some(1)).then(|| shape[a])
            });
            match dims.next() {
                None => Some(SymDim::Const(1)),
                Some(d) => dims.all(|e| e == d).then_some(d),
            }
        })
        .collect()
}

/// The shape of a reduction of `x` over `axes`.
fn reduced(x: &[SymDim], axes: &[usize], keepdims: bool) -> SymShape {
    let mut out = SymShape::new();
    for (k, &d) in x.iter().enumerate() {
        if !axes.contains(&k) {
            out.push(d);
        } else if keepdims {
            out.push(SymDim::Const(1));
        }
    }
    out
}

/// `shape_i(x, k)` of a known length → the constant; of a length that is another node's
/// axis (a leaf's, when `x` is computed from it) → `shape_i` of that node.
pub(crate) fn shape_i_fold(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::ShapeI { axis } = *rw.op(id) else { return None };
    let x = rw.inputs(id)[0];
    match rw.shape_of(x)[axis] {
        SymDim::Of(m, k) if (m, k) == (x, axis) => None,
        d => rw.length_node(d),
    }
}

/// `shape(x)` of known lengths → a constant vector; of the shape of another node (every axis
/// that node's own, in order) → `shape` of that node.
pub(crate) fn shape_fold(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    if *rw.op(id) != Op::Shape {
        return None;
    }
    let x = rw.inputs(id)[0];
    let s = rw.shape_of(x);
    let consts: Option<Vec<i64>> =
        s.iter().map(|d| if let SymDim::Const(n) = d { i64::try_from(*n).ok() } else { None }).collect();
    if let Some(v) = consts {
        return Some(rw.g.add_constant(Tensor::from(v)));
    }
    let SymDim::Of(m, 0) = s[0] else { return None };
    let same = m != x
        && rw.ty(m).ndim() == s.len()
        && s.iter().enumerate().all(|(k, d)| *d == SymDim::Of(m, k))
        && rw.readable(m);
    if same {
        rw.add(Op::Shape, vec![m])
    } else {
        None
    }
}

/// `shape(x)[i]` → `shape_i(x, i)` (for a fixed `i`, negative counting from the end).
pub(crate) fn shape_to_shape_i(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Subtensor { index } = rw.op(id) else { return None };
    let [IndexEntry::At(tensorlift_ir::Idx::Const(i))] = index.as_slice() else { return None };
    let i = *i;
    let sh = rw.inputs(id)[0];
    if *rw.op(sh) != Op::Shape {
        return None;
    }
    let x = rw.inputs(sh)[0];
    let n = rw.ty(x).ndim() as isize;
    let axis = if i < 0 { i + n } else { i };
    if !(0..n).contains(&axis) {
        return None;
    }
    rw.add(Op::ShapeI { axis: axis as usize }, vec![x])
}

/// `fill(a, v)` whose shape is known from leaves (or constants) → `alloc(v, lengths…)`:
/// the value `a` was there only for its shape, and is no longer computed for it.
pub(crate) fn fill_to_alloc(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let ins = rw.is(id, ScalarOp::Second)?;
    let (a, v) = (ins[0], ins[1]);
    if rw.op(a).is_leaf() || rw.ty(v).dtype != rw.ty(id).dtype {
        return None;
    }
    let shape = rw.shape_of(id);
    let from_leaves = shape.iter().all(|d| match d {
        SymDim::Const(_) => true,
        SymDim::Of(m, _) => rw.op(*m).is_leaf(),
    });
    if !from_leaves {
        return None;
    }
    alloc_of(rw, v, &shape)
}

/// `alloc(v, …)` of the symbolic `shape`, its fixed lengths fixed.
fn alloc_of(rw: &mut Rw<'_>, v: NodeId, shape: &[SymDim]) -> Option<NodeId> {
    let mut dims = Vec::with_capacity(shape.len());
    let mut inputs = vec![v];
    for &d in shape {
        match d {
            SymDim::Const(n) => dims.push(Dim::Fixed(n)),
            d => {
                dims.push(Dim::Input);
                inputs.push(rw.length_node(d)?);
            }
        }
    }
    rw.add(Op::Alloc { shape: dims }, inputs)
}

/// `alloc(v, …)` where `v` has that shape already → `v`.
pub(crate) fn useless_alloc(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Alloc { .. } = rw.op(id) else { return None };
    let v = rw.inputs(id)[0];
    (rw.ty(v).ndim() == rw.ty(id).ndim() && rw.shape_of(v) == rw.shape_of(id)).then_some(v)
}

/// The value an `alloc` or `fill` input `x` broadcasts, if it is one of the same dtype.
fn broadcast_value(rw: &Rw<'_>, x: NodeId) -> Option<NodeId> {
    let v = match rw.op(x) {
        Op::Alloc { .. } => rw.inputs(x)[0],
        Op::Elemwise(ScalarOp::Second) => rw.inputs(x)[1],
        _ => return None,
    };
    (rw.ty(v).dtype == rw.ty(x).dtype).then_some(v)
}

/// An elementwise op reading `alloc(v, …)` or `fill(a, v)` whose other inputs (with `v`)
/// already give the result that input's shape → the op reading `v` (with leading
/// broadcastable axes where `v` has fewer), the broadcast done by the op itself.
pub(crate) fn elemwise_alloc(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.scalar_op(id)?;
    if s == ScalarOp::Second {
        return None;
    }
    let ins = rw.inputs(id);
    let ndim = rw.ty(id).ndim();
    for (k, &x) in ins.iter().enumerate() {
        let Some(v) = broadcast_value(rw, x) else { continue };
        let mut rest: Vec<NodeId> = ins.iter().copied().filter(|&i| i != x).collect();
        rest.push(v);
        let given = rw.broadcast_of(&rest, ndim);
        let wanted = rw.shape_of(x);
        if !(0..ndim).all(|a| rw.ty(x).shape[a] == Some(1) || given[a] == Some(wanted[a])) {
            continue;
        }
        return with_input(rw, s, &ins, k, v);
    }
    None
}

/// The elementwise op `s` on `ins` with input `k` replaced by `v`, given leading
/// broadcastable axes up to the others' rank.
fn with_input(rw: &mut Rw<'_>, s: ScalarOp, ins: &[NodeId], k: usize, v: NodeId) -> Option<NodeId> {
    let ndim = rw.ty(ins[k]).ndim();
    let pad = ndim - rw.ty(v).ndim();
    let v = if pad > 0 {
        let order = (0..ndim).map(|a| a.checked_sub(pad)).collect();
        rw.add(Op::DimShuffle { order }, vec![v])?
    } else {
        v
    };
    let mut new = ins.to_vec();
    new[k] = v;
    rw.el(s, new)
}

/// A reshape's length from its donor (`Like(i)`, from a gradient) or a length input
/// (`Input`, e.g. `x.shape[0]`) that is known or is one of the input's → a fixed or kept
/// length; the donor and the length inputs no axis reads any more go.
pub(crate) fn reshape_donor(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reshape { shape } = rw.op(id).clone() else { return None };
    let has_donor = shape.iter().any(|d| matches!(d, ReshapeDim::Like(_)));
    if !has_donor && !shape.contains(&ReshapeDim::Input) {
        return None;
    }
    let ins = rw.inputs(id);
    let x = ins[0];
    let sx = rw.shape_of(x);
    let sd = has_donor.then(|| rw.shape_of(ins[1]));
    let mut lengths = ins[1 + has_donor as usize..].iter();
    let known = |s: SymDim| match s {
        SymDim::Const(n) => Some(ReshapeDim::Fixed(n)),
        s => sx.iter().position(|&e| e == s).map(ReshapeDim::Keep),
    };
    let mut kept_lengths = Vec::new();
    let mut changed = false;
    let new: Vec<ReshapeDim> = shape
        .iter()
        .map(|d| {
            let found = match *d {
                ReshapeDim::Like(i) => sd.as_ref().and_then(|sd| known(sd[i])),
                ReshapeDim::Input => {
                    let len = *lengths.next().expect("typed: one input per length");
                    let found = rw.length_of(len).and_then(known);
                    if found.is_none() {
                        kept_lengths.push(len);
                    }
                    found
                }
                _ => None,
            };
            changed |= found.is_some();
            found.unwrap_or(*d)
        })
        .collect();
    if !changed {
        return None;
    }
    let mut inputs = vec![x];
    if new.iter().any(|d| matches!(d, ReshapeDim::Like(_))) {
        inputs.push(ins[1]);
    }
    inputs.extend(kept_lengths);
    rw.add(Op::Reshape { shape: new }, inputs)
}

/// A reshape to the shape its input has → the input.
pub(crate) fn useless_reshape(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reshape { .. } = rw.op(id) else { return None };
    let x = rw.inputs(id)[0];
    (rw.ty(x).ndim() == rw.ty(id).ndim() && rw.shape_of(x) == rw.shape_of(id)).then_some(x)
}

/// An elementwise op reading an `alloc(v, …)` nothing else reads, whose lengths give the
/// result's shape → `alloc(op(…, v, …), …)`: the broadcast moves outward, where a reader
/// whose other inputs give the shape drops it (`local_elemwise_alloc`). The outer `alloc`
/// checks that the other inputs fit its lengths, as the op did.
pub(crate) fn alloc_sink(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let s = rw.scalar_op(id)?;
    if s == ScalarOp::Second {
        return None;
    }
    let ins = rw.inputs(id);
    let ndim = rw.ty(id).ndim();
    let k = ins.iter().position(|&x| {
        matches!(rw.op(x), Op::Alloc { .. })
            && rw.use_count(x) == 1
            && (0..ndim).all(|a| rw.ty(id).shape[a] == Some(1) || rw.ty(x).shape[a] != Some(1))
    })?;
    let Op::Alloc { shape } = rw.op(ins[k]).clone() else { unreachable!("found above") };
    let alloc_ins = rw.inputs(ins[k]);
    let inner = with_input(rw, s, &ins, k, alloc_ins[0])?;
    let mut inputs = vec![inner];
    inputs.extend_from_slice(&alloc_ins[1..]);
    rw.add(Op::Alloc { shape }, inputs)
}

/// `sum(alloc(c, …))` or `sum(fill(a, c))` of a finite float constant `c` → `c` times the
/// number of elements summed (Theano's `local_opt_alloc`), broadcast to the lengths that are
/// kept. A fill's lengths come from shape inference (`shape_i` of the node that has them):
/// the gradient of `mean` counts its elements as `sum(fill(x, 1.0))`, whatever `x` is.
pub(crate) fn sum_of_alloc(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Reduce { op: ReduceOp::Sum, axes, keepdims } = rw.op(id).clone() else { return None };
    let a = rw.inputs(id)[0];
    let dtype = rw.ty(id).dtype;
    if !dtype.is_float() || rw.ty(a).dtype != dtype {
        return None;
    }
    let (c, dims) = constant_broadcast(rw, a)?;
    let (mut factor, mut counted, mut kept, mut kept_ins) = (c, Vec::new(), Vec::new(), Vec::new());
    for (k, (d, input)) in dims.into_iter().enumerate() {
        if axes.contains(&k) {
            match (d, input) {
                (Dim::Fixed(n), _) => factor *= n as f64,
                (Dim::Input, n) => counted.push(rw.el(ScalarOp::Cast(dtype), vec![n?])?),
            }
            if keepdims {
                kept.push(Dim::Fixed(1));
            }
        } else {
            kept.push(d);
            kept_ins.extend(input);
        }
    }
    let mut terms = vec![rw.konst(factor, dtype, 0)];
    terms.extend(counted);
    let total = if terms.len() == 1 { terms[0] } else { rw.el(ScalarOp::Mul, terms)? };
    if kept.iter().all(|d| *d == Dim::Fixed(1)) {
        return rw.add(Op::DimShuffle { order: vec![None; kept.len()] }, vec![total]);
    }
    let mut inputs = vec![total];
    inputs.extend(kept_ins);
    rw.add(Op::Alloc { shape: kept }, inputs)
}

/// The axes of a broadcast: each a fixed length, or the int64 scalar node holding it.
type Lengths = Vec<(Dim, Option<NodeId>)>;

/// The finite constant `c` that `a` (an `alloc(c, …)` or a `fill(x, c)`) broadcasts, and
/// its axes.
fn constant_broadcast(rw: &mut Rw<'_>, a: NodeId) -> Option<(f64, Lengths)> {
    let ins = rw.inputs(a);
    match rw.op(a).clone() {
        Op::Alloc { shape } => {
            let c = rw.const_value(ins[0]).filter(|c| c.is_finite())?;
            let mut lengths = ins[1..].iter();
            let mut length =
                |d: Dim| (d == Dim::Input).then(|| *lengths.next().expect("typed: one input per length"));
            Some((c, shape.iter().map(|&d| (d, length(d))).collect()))
        }
        Op::Elemwise(ScalarOp::Second) => {
            let c = rw.const_value(ins[1]).filter(|c| c.is_finite())?;
            if rw.ty(ins[1]).dtype != rw.ty(a).dtype {
                return None;
            }
            let mut dims = Vec::new();
            for d in rw.shape_of(a) {
                dims.push(match d {
                    SymDim::Const(n) => (Dim::Fixed(n), None),
                    d => (Dim::Input, Some(rw.length_node(d)?)),
                });
            }
            Some((c, dims))
        }
        _ => None,
    }
}
