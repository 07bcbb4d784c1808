// Over 800 lines: the arena graph and its editing operations (hash-consing, replace, compact) share private index structures.
//! `FunctionGraph`: the arena form of a program that passes rewrite and backends run.
//! Nodes live in a vector indexed by `NodeId`; each knows its op, its inputs and its type
//! (an index into the graph's table of distinct types); names, few, live in a map beside
//! them. Use lists say who reads a node; equal nodes are hash-consed (constants by bits), so
//! building the same expression twice yields one node. `replace` rewires users and merges
//! nodes that become equal; `compact` renumbers the live nodes in topological order into a
//! copy, `compact_in_place` within the graph's own storage.

use crate::error::{GraphError, Operand};
use crate::op::Op;
use crate::types::TensorType;
use crate::value::Tensor;
use crate::var::Var;
use rustc_hash::FxHashMap as HashMap;
use std::fmt;

/// The index of a node in a `FunctionGraph`. Ids come from the graph (`add_node`,
/// `add_input`, `ids`, `toposort`, …); the index is private so that an id is not mistaken
/// for any number:
///
/// ```compile_fail
/// let id = tensorlift_ir::NodeId(3); // private: ids come from a graph
/// ```
///
/// ```
/// use tensorlift_ir::{dvector, FunctionGraph, NodeId};
/// let x = dvector("x");
/// let g = FunctionGraph::from_vars(&[&x], &[x.exp()]).unwrap();
/// let ids: Vec<NodeId> = g.ids().collect();
/// assert_eq!(ids.iter().map(|id| id.index()).collect::<Vec<_>>(), [0, 1]);
/// assert_eq!(NodeId::from_index(1), Some(ids[1]));
/// assert_eq!(NodeId::from_index(1 << 40), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The index as `usize` (a position in the graph's arena, for side tables).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of the node at arena position `index`, for side tables indexed by
    /// [`NodeId::index`] and for tests. It names a node only of a graph with more than
    /// `index` nodes: `add_node` returns an error for an input the graph does not have,
    /// while `node`, `ty` and `replace` index the arena as a slice does. `None` beyond `u32`.
    pub fn from_index(index: usize) -> Option<NodeId> {
        u32::try_from(index).ok().map(NodeId)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// The inputs of a node, stored inline up to four.
pub type Inputs = smallvec::SmallVec<[NodeId; 4]>;

/// The readers of a node, stored inline up to four (most nodes have one or two, and a heap
/// list per node costs an allocation and a cache miss per visit).
pub type Users = smallvec::SmallVec<[NodeId; 4]>;

/// A node's type: an index into its graph's table of distinct types (`FunctionGraph::ty`
/// reads it). A graph holds few distinct types, so nodes carry four bytes instead of a shape
/// each, and own no heap memory of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeId(u32);

/// The distinct types of a graph's nodes, each stored once.
#[derive(Clone, Debug, Default)]
struct TypeTable {
    types: Vec<TensorType>,
    ids: HashMap<TensorType, TypeId>,
}

impl TypeTable {
    /// The id of `ty`, added if new.
    fn intern(&mut self, ty: TensorType) -> TypeId {
        if let Some(&id) = self.ids.get(&ty) {
            return id;
        }
        let id = TypeId(self.types.len() as u32);
        self.types.push(ty.clone());
        self.ids.insert(ty, id);
        id
    }

    fn get(&self, id: TypeId) -> &TensorType {
        &self.types[id.0 as usize]
    }
}

/// One node of the arena.
#[derive(Clone, Debug)]
pub struct GraphNode {
    /// The op.
    pub op: Op,
    /// Its inputs.
    pub inputs: Inputs,
    /// Its result type (`FunctionGraph::ty` gives the `TensorType`).
    pub ty: TypeId,
}

/// What the graph keeps per node beside the node itself.
#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    /// Greater than each input's level: a node can only be computed from nodes of lower
    /// level, which bounds the search for cycles.
    level: u32,
    /// Reads of the node by live nodes (use lists may also hold dead readers, dropped
    /// lazily: removing them eagerly is quadratic on constants read thousands of times).
    live_uses: u32,
    /// Detached by `replace`: no longer part of the graph.
    dead: bool,
}

/// A program: graph inputs, nodes, outputs.
#[derive(Clone, Debug, Default)]
pub struct FunctionGraph {
    nodes: Vec<GraphNode>,
    uses: Vec<Users>,
    inputs: Vec<NodeId>,
    outputs: Vec<NodeId>,
    memo: Memo,
    types: TypeTable,
    /// User-given names (`FunctionGraph::name`): few nodes have one, so they live beside the
    /// nodes rather than in each.
    names: HashMap<NodeId, String>,
    /// Per node: level, live reads, detached (see `Meta`), side by side so that a visit
    /// touches one cache line for all three.
    meta: Vec<Meta>,
    /// True from a compaction until the next change: every node is live and the arena order
    /// is the topological order `toposort` would give.
    compacted: bool,
}

impl FunctionGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `n` nodes.
    pub fn with_capacity(n: usize) -> Self {
        FunctionGraph {
            nodes: Vec::with_capacity(n),
            uses: Vec::with_capacity(n),
            memo: Memo { table: hashbrown::HashTable::with_capacity(n), registered: Vec::with_capacity(n) },
            meta: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    /// The graph computing `outputs` from `inputs`. Every input leaf reached from the
    /// outputs must be listed in `inputs` (Theano's missing-input error); listed inputs that
    /// are not reached stay as inputs. Build errors carried by the variables are returned.
    pub fn from_vars<I: AsRef<Var>, O: AsRef<Var>>(inputs: &[I], outputs: &[O]) -> Result<Self, GraphError> {
        let inputs: Vec<Var> = inputs.iter().map(|v| v.as_ref().clone()).collect();
        let outputs: Vec<Var> = outputs.iter().map(|v| v.as_ref().clone()).collect();
        Self::build(&inputs, &outputs, false)
    }

    /// The graph of `outputs`, with every input leaf they reach as a graph input in the
    /// order first reached (for printing and inspection).
    pub fn from_outputs<O: AsRef<Var>>(outputs: &[O]) -> Result<Self, GraphError> {
        let outputs: Vec<Var> = outputs.iter().map(|v| v.as_ref().clone()).collect();
        Self::build(&[], &outputs, true)
    }

    fn build(inputs: &[Var], outputs: &[Var], collect_inputs: bool) -> Result<Self, GraphError> {
        let mut g = FunctionGraph::new();
        let mut map: HashMap<usize, NodeId> = HashMap::default();
        for v in inputs.iter().chain(outputs) {
            v.check()?;
        }
        for v in inputs {
            if !matches!(v.op(), Op::Input) {
                return Err(GraphError::Build(crate::BuildError::inputs(
                    "function",
                    format!(
                        "{} is not an input variable: inputs are variables made by dscalar(), vector(), …",
                        v.describe()
                    ),
                )));
            }
            if map.contains_key(&v.key()) {
                return Err(GraphError::Build(crate::BuildError::inputs(
                    "function",
                    format!("input {} is listed twice", v.describe()),
                )));
            }
            let id = g.add_input(v.name().as_deref().unwrap_or("input"), v.ty().clone());
            map.insert(v.key(), id);
        }
        // Iterative post-order walk: deep graphs must not overflow the stack.
        for out in outputs {
            let mut stack: Vec<(Var, bool)> = vec![(out.clone(), false)];
            while let Some((v, expanded)) = stack.pop() {
                if map.contains_key(&v.key()) {
                    continue;
                }
                if !expanded && !v.inputs().is_empty() {
                    stack.push((v.clone(), true));
                    for i in v.inputs().iter().rev() {
                        if !map.contains_key(&i.key()) {
                            stack.push((i.clone(), false));
                        }
                    }
                    continue;
                }
                let id = match v.op() {
                    Op::Input if collect_inputs => {
                        g.add_input(v.name().as_deref().unwrap_or("input"), v.ty().clone())
                    }
                    Op::Input => {
                        return Err(GraphError::Build(crate::BuildError::inputs(
                            "function",
                            format!(
                                "the graph needs input {} ({}), which is not in the list of inputs",
                                v.describe(),
                                v.ty()
                            ),
                        )))
                    }
                    op => {
                        let ins: Inputs = v.inputs().iter().map(|i| map[&i.key()]).collect();
                        g.add_typed(op.clone(), ins, v.ty().clone(), v.name().map(|n| n.to_string()))
                    }
                };
                map.insert(v.key(), id);
            }
            let id = map[&out.key()];
            g.outputs.push(id);
        }
        // Built inputs first, then each node after its operands: usually the walk's order
        // already, and then compacting it is a plain copy.
        g.compacted = g.ids().eq(g.walk_order());
        Ok(g)
    }

    fn push(&mut self, node: GraphNode) -> NodeId {
        self.compacted = false;
        let id = NodeId(self.nodes.len() as u32);
        let level = node.inputs.iter().map(|i| self.meta[i.index()].level + 1).max().unwrap_or(0);
        self.meta.push(Meta { level, live_uses: 0, dead: false });
        for &i in &node.inputs {
            self.uses[i.index()].push(id);
            self.meta[i.index()].live_uses += 1;
        }
        self.nodes.push(node);
        self.uses.push(Users::new());
        id
    }

    /// Adds a graph input.
    pub fn add_input(&mut self, name: &str, ty: TensorType) -> NodeId {
        let ty = self.types.intern(ty);
        let id = self.push(GraphNode { op: Op::Input, inputs: Inputs::new(), ty });
        self.names.insert(id, name.into());
        self.inputs.push(id);
        id
    }

    /// Adds (or finds) a constant.
    pub fn add_constant(&mut self, value: Tensor) -> NodeId {
        let ty = TensorType::fixed(value.dtype(), value.shape());
        self.add_typed(Op::Constant(Box::new(value)), Inputs::new(), ty, None)
    }

    /// Adds (or finds, when an equal node exists) the node `op(inputs)`, typed by the op's
    /// rule.
    pub fn add_node(&mut self, op: Op, inputs: Vec<NodeId>) -> Result<NodeId, GraphError> {
        if let Some(id) = self.memo.find(&self.nodes, &self.meta, &op, &inputs) {
            return Ok(id);
        }
        let ty = match &op {
            Op::Constant(t) => TensorType::fixed(t.dtype(), t.shape()),
            Op::Shared(s) => s.ty().clone(),
            Op::Input => return Err(GraphError::Replace("use add_input for inputs".into())),
            _ => self.infer(&op, &inputs)?,
        };
        Ok(self.add_typed(op, Inputs::from_vec(inputs), ty, None))
    }

    /// Adds a node whose type is already known (hash-consed like `add_node`).
    pub(crate) fn add_typed(
        &mut self,
        op: Op,
        inputs: Inputs,
        ty: TensorType,
        name: Option<String>,
    ) -> NodeId {
        if let Some(id) = self.memo.find(&self.nodes, &self.meta, &op, &inputs) {
            if let Some(name) = name {
                self.names.entry(id).or_insert(name);
            }
            return id;
        }
        let ty = self.types.intern(ty);
        let id = self.push(GraphNode { op, inputs, ty });
        if let Some(name) = name {
            self.names.insert(id, name);
        }
        self.memo.insert(&self.nodes, id);
        id
    }

    /// The type `op` gives to `inputs`. Operands are named only when the rule fails: names
    /// are for the error message, and formatting them for every node a rewrite builds would
    /// cost more than the type rule itself.
    fn infer(&self, op: &Op, inputs: &[NodeId]) -> Result<TensorType, GraphError> {
        let unnamed: Vec<Operand> =
            inputs.iter().map(|&i| Operand { name: String::new(), ty: self.ty(i).clone() }).collect();
        op.infer(&unnamed)
            .or_else(|_| op.infer(&self.operands(inputs)))
            .map_err(|e| GraphError::Build(crate::BuildError::new(e)))
    }

    /// The operands of the given nodes, as type rules and error messages see them.
    pub fn operands(&self, ids: &[NodeId]) -> Vec<Operand> {
        ids.iter().map(|&i| Operand { name: self.describe(i), ty: self.ty(i).clone() }).collect()
    }

    /// A node's name or a description of it.
    pub fn describe(&self, id: NodeId) -> String {
        let n = &self.nodes[id.index()];
        match (self.name(id), &n.op) {
            (Some(name), _) => name.to_string(),
            (None, Op::Constant(t)) if t.len() == 1 => format!("constant {}", t.to_f64().unwrap_or(f64::NAN)),
            (None, op) => format!("<{} result {id}>", op.name()),
        }
    }

    /// The user-given name of a node, if it has one.
    pub fn name(&self, id: NodeId) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &GraphNode {
        &self.nodes[id.index()]
    }

    /// The type of a node.
    pub fn ty(&self, id: NodeId) -> &TensorType {
        self.types.get(self.nodes[id.index()].ty)
    }

    /// Every node id, live or not, in arena order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Number of nodes in the arena (dead ones included until `compact`).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True for a graph with no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The nodes that read `id` (once per use).
    pub fn uses(&self, id: NodeId) -> Users {
        self.uses[id.index()].iter().copied().filter(|u| !self.meta[u.index()].dead).collect()
    }

    /// How many times live nodes read `id` (a reader using it twice counts twice).
    pub fn use_count(&self, id: NodeId) -> usize {
        self.meta[id.index()].live_uses as usize
    }

    /// True for a node `replace` detached from the graph.
    pub fn is_dead(&self, id: NodeId) -> bool {
        self.meta[id.index()].dead
    }

    /// The graph inputs, in order.
    pub fn inputs(&self) -> &[NodeId] {
        &self.inputs
    }

    /// The graph outputs, in order.
    pub fn outputs(&self) -> &[NodeId] {
        &self.outputs
    }

    /// Appends an output.
    pub fn add_output(&mut self, id: NodeId) {
        self.compacted = false;
        self.outputs.push(id);
    }

    /// Sets the outputs.
    pub fn set_outputs(&mut self, outputs: Vec<NodeId>) {
        self.compacted = false;
        self.outputs = outputs;
    }

    /// True when `a` is `b` or computed from `b`.
    pub fn depends_on(&self, a: NodeId, b: NodeId) -> bool {
        // Only nodes of a higher level than `b` can be computed from it.
        let floor = self.meta[b.index()].level;
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![a];
        while let Some(n) = stack.pop() {
            if n == b {
                return true;
            }
            if self.meta[n.index()].level > floor && seen.insert(n) {
                stack.extend(&self.nodes[n.index()].inputs);
            }
        }
        false
    }

    /// Restores `level(user) > level(input)` after `id` gained an input of level `min - 1`.
    fn raise_level(&mut self, id: NodeId, min: u32) {
        let mut work = vec![(id, min)];
        while let Some((n, min)) = work.pop() {
            if self.meta[n.index()].level >= min {
                continue;
            }
            self.meta[n.index()].level = min;
            work.extend(self.uses[n.index()].iter().map(|&u| (u, min + 1)));
        }
    }

    /// Makes every user of `old` (and every output that is `old`) read `new` instead.
    /// `new` must have the same dtype and rank and must not be computed from `old`.
    /// Users that become equal to existing nodes are merged in turn.
    pub fn replace(&mut self, old: NodeId, new: NodeId) -> Result<(), GraphError> {
        self.compacted = false;
        let mut work = vec![(old, new)];
        while let Some((old, new)) = work.pop() {
            if old == new {
                continue;
            }
            let (to, tn) = (self.ty(old), self.ty(new));
            let clash =
                to.shape.iter().zip(&tn.shape).any(|(a, b)| matches!((a, b), (Some(p), Some(q)) if p != q));
            if to.dtype != tn.dtype || to.ndim() != tn.ndim() || clash {
                return Err(GraphError::Replace(format!("{old} has type {to}, {new} has type {tn}")));
            }
            if self.depends_on(new, old) {
                return Err(GraphError::Replace(format!(
                    "{new} is computed from {old}: replacing would make a cycle"
                )));
            }
            // `old` is going away: users rewired below must not merge into it.
            self.memo.remove(old);
            // Users' types can only change when the replacement's type differs.
            let same_type = self.nodes[old.index()].ty == self.nodes[new.index()].ty;
            let mut users: Users = std::mem::take(&mut self.uses[old.index()])
                .into_iter()
                .filter(|u| !self.meta[u.index()].dead)
                .collect();
            self.meta[old.index()].live_uses = 0;
            users.sort_unstable();
            users.dedup();
            for u in users {
                self.memo.remove(u);
                for i in self.nodes[u.index()].inputs.iter_mut() {
                    if *i == old {
                        *i = new;
                        self.uses[new.index()].push(u);
                        self.meta[new.index()].live_uses += 1;
                    }
                }
                let min = self.meta[new.index()].level + 1;
                self.raise_level(u, min);
                if !same_type {
                    self.retype(u)?;
                }
                let node = &self.nodes[u.index()];
                match self.memo.find(&self.nodes, &self.meta, &node.op, &node.inputs) {
                    Some(other) if other != u => work.push((u, other)),
                    Some(_) => {}
                    None => self.memo.insert(&self.nodes, u),
                }
            }
            for o in self.outputs.iter_mut() {
                if *o == old {
                    *o = new;
                }
            }
            self.prune(old);
        }
        Ok(())
    }

    /// Detaches `id` if nothing reads it any more (and it is neither an output nor a graph
    /// input), then its inputs in turn: use lists count live readers only, as rewrites that
    /// ask "is this read once?" need.
    fn prune(&mut self, id: NodeId) {
        let mut work = vec![id];
        while let Some(n) = work.pop() {
            let dead = self.meta[n.index()].live_uses == 0
                && !self.meta[n.index()].dead
                && !self.outputs.contains(&n)
                && !self.inputs.contains(&n)
                && !self.nodes[n.index()].inputs.is_empty();
            if !dead {
                continue;
            }
            // Its table entry stays until the next compaction: lookups skip dead nodes, and
            // pruning a fused chain of thousands of nodes then probes the table not once.
            self.meta[n.index()].dead = true;
            for i in self.nodes[n.index()].inputs.clone() {
                self.meta[i.index()].live_uses -= 1;
                work.push(i);
            }
        }
    }

    /// Recomputes the type of `start` from its inputs and, where it changed (a replacement
    /// can make a shape more specific), the types of everything computed from it.
    fn retype(&mut self, start: NodeId) -> Result<(), GraphError> {
        let mut work = vec![start];
        while let Some(id) = work.pop() {
            let node = &self.nodes[id.index()];
            if node.op.is_leaf() {
                continue;
            }
            let ty = self.infer(&node.op, &node.inputs)?;
            if ty != *self.ty(id) {
                self.nodes[id.index()].ty = self.types.intern(ty);
                work.extend(self.uses[id.index()].iter().copied());
            }
        }
        Ok(())
    }

    /// The nodes `root` is computed from (itself included), each after its inputs, walking
    /// only into inputs for which `enter` holds; iterative, so any depth works.
    pub fn postorder(&self, root: NodeId, enter: impl Fn(NodeId) -> bool) -> Vec<NodeId> {
        let mut order = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![(root, false)];
        while let Some((n, expanded)) = stack.pop() {
            if expanded {
                order.push(n);
                continue;
            }
            if !seen.insert(n) {
                continue;
            }
            stack.push((n, true));
            for &i in self.nodes[n.index()].inputs.iter().rev() {
                if !seen.contains(&i) && enter(i) {
                    stack.push((i, false));
                }
            }
        }
        order
    }

    /// The live nodes (inputs, and everything the outputs need) in topological order:
    /// graph inputs first, then each node after its inputs.
    pub fn toposort(&self) -> Vec<NodeId> {
        if self.compacted {
            // Compaction numbered the nodes in this very order (the same walk over the same
            // graph), so no walk is needed until something changes.
            debug_assert!(self.ids().eq(self.walk_order()), "a compacted graph is in walk order");
            return self.ids().collect();
        }
        self.walk_order()
    }

    /// The order `toposort` gives, found by walking from the outputs.
    fn walk_order(&self) -> Vec<NodeId> {
        let mut order: Vec<NodeId> = Vec::with_capacity(self.nodes.len());
        order.extend(&self.inputs);
        let mut seen = vec![false; self.nodes.len()];
        for &i in &self.inputs {
            seen[i.index()] = true;
        }
        for &out in &self.outputs {
            let mut stack = vec![(out, false)];
            while let Some((n, expanded)) = stack.pop() {
                if seen[n.index()] {
                    continue;
                }
                if expanded {
                    seen[n.index()] = true;
                    order.push(n);
                    continue;
                }
                stack.push((n, true));
                for &i in self.nodes[n.index()].inputs.iter().rev() {
                    if !seen[i.index()] {
                        stack.push((i, false));
                    }
                }
            }
        }
        order
    }

    /// `compact` in place: the same renumbering (live nodes only, in topological order),
    /// moving the nodes within this graph's own storage instead of copying them, so that a
    /// pipeline compacting between phases allocates nothing the size of the graph. Returns
    /// the map from old ids to new ones.
    pub fn compact_in_place(&mut self) -> Vec<Option<NodeId>> {
        let order = self.toposort();
        let n_old = self.nodes.len();
        let mut map: Vec<Option<NodeId>> = vec![None; n_old];
        for (k, id) in order.iter().enumerate() {
            map[id.index()] = Some(NodeId(k as u32));
        }
        // New position k takes old node `src[k]`: the live nodes in order, then the others.
        let mut src: Vec<u32> = order.iter().map(|i| i.0).collect();
        src.extend((0..n_old as u32).filter(|&i| map[i as usize].is_none()));
        permute(&mut self.nodes, &src);
        self.nodes.truncate(order.len());
        let new_id = |i: &mut NodeId| *i = map[i.index()].expect("inputs come first");
        for node in &mut self.nodes {
            node.inputs.iter_mut().for_each(new_id);
        }
        self.inputs.iter_mut().for_each(new_id);
        self.outputs.iter_mut().for_each(new_id);
        self.names = std::mem::take(&mut self.names)
            .into_iter()
            .filter_map(|(id, name)| Some((map[id.index()]?, name)))
            .collect();
        // Use lists, levels, counts and the hash-consing table, rebuilt in the storage they had.
        let n = self.nodes.len();
        self.uses.truncate(n);
        self.uses.iter_mut().for_each(Users::clear);
        self.meta.clear();
        self.meta.resize(n, Meta::default());
        self.memo.clear();
        self.compacted = true;
        for k in 0..n {
            let id = NodeId(k as u32);
            let node = &self.nodes[k];
            self.meta[k].level =
                node.inputs.iter().map(|i| self.meta[i.index()].level + 1).max().unwrap_or(0);
            for &i in &node.inputs {
                self.uses[i.index()].push(id);
                self.meta[i.index()].live_uses += 1;
            }
            if !matches!(node.op, Op::Input) {
                self.memo.insert(&self.nodes, id);
            }
        }
        map
    }

    /// Returns the storage beyond the nodes in use (rewrites leave room to grow, and a fused
    /// graph keeps a fraction of the nodes it started with).
    pub fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.uses.iter_mut().for_each(Users::shrink_to_fit);
        self.uses.shrink_to_fit();
        self.meta.shrink_to_fit();
        self.memo.registered.shrink_to_fit();
        let registered = &self.memo.registered;
        self.memo.table.shrink_to_fit(|&j| spread(registered[j.index()]));
    }

    /// A copy of a compacted graph (every node live, in walk order), field by field: the
    /// same ids, so nothing is rehashed. Like `compact`, with room for the nodes rewrites add.
    fn copy_with_room(&self) -> FunctionGraph {
        fn copy<T: Clone>(v: &[T]) -> Vec<T> {
            let mut out = Vec::with_capacity(v.len() + v.len() / 2);
            out.extend_from_slice(v);
            out
        }
        FunctionGraph {
            nodes: copy(&self.nodes),
            uses: copy(&self.uses),
            inputs: self.inputs.clone(),
            outputs: self.outputs.clone(),
            memo: self.memo.clone(),
            types: self.types.clone(),
            names: self.names.clone(),
            meta: copy(&self.meta),
            compacted: true,
        }
    }

    /// A copy holding only the live nodes, renumbered in topological order, and the map
    /// from old ids to new ones (`map[old.index()]`, `None` for nodes left out).
    pub fn compact(&self) -> (FunctionGraph, Vec<Option<NodeId>>) {
        if self.compacted {
            return (self.copy_with_room(), self.ids().map(Some).collect());
        }
        let order = self.toposort();
        // Room for the nodes rewrites add, so that the arena rarely moves.
        let mut g = FunctionGraph::with_capacity(order.len() + order.len() / 2);
        // The table sized for the live nodes only: a denser table touches fewer cache lines,
        // and the few nodes rewrites add grow it at most once.
        g.memo.table = hashbrown::HashTable::with_capacity(order.len());
        // The same type table: nodes keep their type ids.
        g.types = self.types.clone();
        let mut map = vec![None; self.nodes.len()];
        let new_id = |map: &[Option<NodeId>], i: &NodeId| map[i.index()].expect("inputs come first");
        for id in order {
            let n = &self.nodes[id.index()];
            let new = if matches!(n.op, Op::Input) {
                g.add_input(self.name(id).unwrap_or("input"), self.ty(id).clone())
            } else {
                // Live nodes are already unique (hash-consing merges equal ones, and renaming
                // inputs one-to-one keeps them apart): registered without a lookup.
                let inputs = n.inputs.iter().map(|i| new_id(&map, i)).collect();
                let node = GraphNode { op: n.op.clone(), inputs, ty: n.ty };
                debug_assert!(
                    g.memo.find(&g.nodes, &g.meta, &node.op, &node.inputs).is_none(),
                    "{id} is a duplicate"
                );
                let new = g.push(node);
                g.memo.insert(&g.nodes, new);
                if let Some(name) = self.name(id) {
                    g.names.insert(new, name.to_string());
                }
                new
            };
            map[id.index()] = Some(new);
        }
        g.outputs = self.outputs.iter().map(|o| new_id(&map, o)).collect();
        g.compacted = true;
        (g, map)
    }
}

/// Reorders `v` in place so that `v[k]` becomes the old `v[src[k]]`; `src` is a permutation
/// of `0..v.len()`. Follows each cycle once, moving every node once.
fn permute(v: &mut [GraphNode], src: &[u32]) {
    let hole = || GraphNode { op: Op::Input, inputs: Inputs::new(), ty: TypeId(0) };
    let mut done = vec![false; v.len()];
    for start in 0..v.len() {
        if done[start] || src[start] as usize == start {
            continue;
        }
        let first = std::mem::replace(&mut v[start], hole());
        let mut j = start;
        loop {
            done[j] = true;
            let s = src[j] as usize;
            if s == start {
                v[j] = first;
                break;
            }
            v[j] = std::mem::replace(&mut v[s], hole());
            j = s;
        }
    }
}

/// The hash-consing table: node ids by the hash of their (op, inputs), compared against the
/// nodes themselves, so no key is stored twice.
#[derive(Clone, Debug, Default)]
struct Memo {
    /// Node ids only, 4 bytes an entry, so that the table of a graph of tens of thousands of
    /// nodes stays in cache (the key hash of an entry is `registered[id]`).
    table: hashbrown::HashTable<NodeId>,
    /// The key hash each node is registered under, if it is: removing a node then reads
    /// neither the node nor its key (a node merged into an equal one is never registered,
    /// and looking it up would walk a whole probe sequence for nothing), and the table
    /// rehashes without reading nodes. `UNREGISTERED` for none: key hashes are odd.
    registered: Vec<u32>,
}

/// The 32-bit hash of a node's (op, inputs).
fn key_hash(op: &Op, inputs: &[NodeId]) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    op.hash(&mut h);
    inputs.hash(&mut h);
    let h = h.finish();
    (h ^ (h >> 32)) as u32 | 1
}

/// `Memo::registered` of a node that is not in the table (key hashes are odd).
const UNREGISTERED: u32 = 0;

/// The table's 64-bit hash of a 32-bit key hash (the table takes bucket and tag bits from
/// both ends of it).
fn spread(h: u32) -> u64 {
    (h as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Memo {
    /// The live node equal to `op(inputs)`, if one is registered. Entries of nodes since
    /// detached, or whose inputs have changed, compare unequal and are passed over.
    fn find(&self, nodes: &[GraphNode], meta: &[Meta], op: &Op, inputs: &[NodeId]) -> Option<NodeId> {
        let h = key_hash(op, inputs);
        self.table
            .find(spread(h), |&id| {
                let n = &nodes[id.index()];
                self.registered[id.index()] == h
                    && !meta[id.index()].dead
                    && n.op == *op
                    && *n.inputs == *inputs
            })
            .copied()
    }

    /// Forgets every entry, keeping the storage.
    fn clear(&mut self) {
        self.table.clear();
        self.registered.clear();
    }

    /// Registers node `id` under its current (op, inputs).
    fn insert(&mut self, nodes: &[GraphNode], id: NodeId) {
        if self.registered.len() <= id.index() {
            self.registered.resize(nodes.len().max(id.index() + 1), UNREGISTERED);
        }
        let n = &nodes[id.index()];
        let h = key_hash(&n.op, &n.inputs);
        self.registered[id.index()] = h;
        let registered = &self.registered;
        // Every entry's node is registered (entries go with their registration, or stay
        // with their dead node's); a missing one would only make its entry unreachable.
        self.table.insert_unique(spread(h), id, |&j| spread(registered[j.index()]));
    }

    /// Unregisters node `id` (call before its inputs change), if it is the registered one.
    fn remove(&mut self, id: NodeId) {
        let Some(h) = self.registered.get_mut(id.index()).map(|r| std::mem::replace(r, UNREGISTERED)) else {
            return;
        };
        if h == UNREGISTERED {
            return;
        }
        if let Ok(entry) = self.table.find_entry(spread(h), |&j| j == id) {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScalarOp;

    /// After either compaction the arena order is the walk's order, which `toposort` then
    /// returns without walking; a change brings the walk back.
    #[test]
    fn compacted_graphs_are_in_walk_order() {
        let mut g = FunctionGraph::new();
        let x = g.add_input("x", TensorType::unknown(crate::DType::F64, 1));
        let y = g.add_input("y", TensorType::unknown(crate::DType::F64, 1));
        let e = g.add_node(Op::Elemwise(ScalarOp::Exp), vec![y]).unwrap();
        let a = g.add_node(Op::Elemwise(ScalarOp::Add), vec![e, x]).unwrap();
        let m = g.add_node(Op::Elemwise(ScalarOp::Mul), vec![a, e]).unwrap();
        let s = g.add_node(Op::Elemwise(ScalarOp::Sin), vec![x]).unwrap();
        g.set_outputs(vec![m, s, a]);
        let (c, _) = g.compact();
        assert!(c.compacted);
        assert_eq!(c.walk_order(), c.ids().collect::<Vec<_>>());
        let n = g.add_node(Op::Elemwise(ScalarOp::Neg), vec![x]).unwrap();
        g.replace(s, n).unwrap();
        assert!(!g.compacted);
        g.compact_in_place();
        assert!(g.compacted);
        assert_eq!(g.walk_order(), g.ids().collect::<Vec<_>>());
        assert_eq!(g.len(), 6);
        g.verify().unwrap();
    }
}
