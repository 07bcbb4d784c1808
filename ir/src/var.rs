//! `Var`: the user's handle on a symbolic tensor — a reference-counted node whose op,
//! inputs and type never change, and whose name may be set at any time (`Var::set_name`, as
//! Theano's `x.name = …`). A `Var` whose construction failed carries its `BuildError`
//! instead, and every expression built from it inherits that error, so operators never panic;
//! `function`, `grad` and `Var::check` report it.

use crate::error::{BuildError, Operand};
use crate::op::Op;
use crate::types::TensorType;
use crate::DType;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock, Weak};

/// A symbolic tensor: an input, a constant, a shared variable or an expression.
///
/// Cloning is cheap (a reference count). Two `Var`s are the same variable when they share
/// a node (`Var::same`); building the same expression twice gives two equal graphs that the
/// graph layer merges.
#[derive(Clone)]
pub struct Var(Arc<Node>);

/// A weak handle on a variable: it keeps the node's address from being reused, so a map
/// keyed by [`Var::key`] that holds it never mistakes a new variable for a dropped one, but
/// not the node's contents (op, inputs, constant values, shared variables), which are freed
/// when the last `Var` drops.
#[derive(Clone, Debug)]
pub struct WeakVar(Weak<Node>);

impl WeakVar {
    /// The variable, if some `Var` still holds it.
    pub fn upgrade(&self) -> Option<Var> {
        self.0.upgrade().map(Var)
    }
}

/// The node behind a `Var`.
pub struct Node {
    op: Op,
    inputs: Vec<Var>,
    ty: TensorType,
    /// The only mutable part: no graph, cache or merge keys on the node itself, only on
    /// copies taken when a graph is built (`FunctionGraph::from_vars` copies the names of
    /// the nodes it reaches, so a graph built after a rename shows the new name).
    name: RwLock<Option<Arc<str>>>,
    error: Option<Arc<BuildError>>,
}

static ERROR_TYPE: LazyLock<TensorType> = LazyLock::new(|| TensorType::scalar(DType::F64));

/// How many times `Var::set_name` has run in this process.
static RENAMES: AtomicU64 = AtomicU64::new(0);

/// A count that changes whenever some variable is renamed ([`Var::set_name`]): a cache
/// keyed by the identity of variables, not by their contents, includes it so that a graph
/// built after a rename shows the new names.
pub fn renames() -> u64 {
    RENAMES.load(Ordering::Relaxed)
}

impl Var {
    /// A node from its parts, with no checking: use the builders, which type-check.
    pub(crate) fn from_parts(op: Op, inputs: Vec<Var>, ty: TensorType, name: Option<String>) -> Var {
        Var(Arc::new(Node { op, inputs, ty, name: RwLock::new(name.map(Arc::from)), error: None }))
    }

    /// A `Var` that stands for a failed construction; an error without a location gets the
    /// caller's.
    #[track_caller]
    pub fn from_error(err: BuildError) -> Var {
        let err = err.located();
        Var(Arc::new(Node {
            op: Op::Input,
            inputs: vec![],
            ty: ERROR_TYPE.clone(),
            name: RwLock::new(None),
            error: Some(Arc::new(err)),
        }))
    }

    /// Unwraps a builder result into a `Var`, carrying the error if any.
    #[track_caller]
    pub fn from_result(r: Result<Var, BuildError>) -> Var {
        match r {
            Ok(v) => v,
            Err(e) => Var::from_error(e),
        }
    }

    /// `Ok(())` when this variable (and so everything it was built from) is well typed;
    /// otherwise the first error, with the source location of the expression that caused it.
    pub fn check(&self) -> Result<(), BuildError> {
        match &self.0.error {
            Some(e) => Err((**e).clone()),
            None => Ok(()),
        }
    }

    /// The op of this node.
    pub fn op(&self) -> &Op {
        &self.0.op
    }

    /// The inputs of this node.
    pub fn inputs(&self) -> &[Var] {
        &self.0.inputs
    }

    /// The static type.
    pub fn ty(&self) -> &TensorType {
        &self.0.ty
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.0.ty.dtype
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.0.ty.ndim()
    }

    /// The name given at creation (`dscalar("x")`), by `named`, or last set by `set_name`.
    ///
    /// ```
    /// use tensorlift_ir as tl;
    /// let x = tl::dvector("x");
    /// assert_eq!(x.name().as_deref(), Some("x"));
    /// assert_eq!((&x + 1.0).name(), None);
    /// ```
    pub fn name(&self) -> Option<Arc<str>> {
        self.0.name.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Renames this variable in place (Theano's `x.name = "…"`; `None` removes the name):
    /// every handle on it sees the new name, in `pp`, `debugprint`, error messages and the
    /// graphs built from then on. Works on any variable, leaves included. A name is no part
    /// of what a variable computes: graphs and functions built before keep the names they
    /// were built with, and results never change.
    ///
    /// ```
    /// use tensorlift_ir as tl;
    /// let x = tl::dvector("");
    /// let y = (&x * 2.0).sum();
    /// x.set_name(Some("x"));
    /// y.set_name(Some("total"));
    /// assert_eq!(tl::pp(&y), "sum((x * TensorConstant{2.0}))");
    /// assert!(tl::debugprint(&[y]).lines().next().unwrap().ends_with("'total'"));
    /// ```
    pub fn set_name(&self, name: Option<&str>) {
        self.store_name(name);
        RENAMES.fetch_add(1, Ordering::Relaxed);
    }

    /// Names a node no graph has seen yet (a builder's fresh result): no rename to count.
    pub(crate) fn store_name(&self, name: Option<&str>) {
        *self.0.name.write().unwrap_or_else(|e| e.into_inner()) = name.map(Arc::from);
    }

    /// The same expression under a name, as a new variable: shown by `pp` and `debugprint`
    /// and in errors. Leaves (inputs, shared variables, constants) cannot be copied under a
    /// new name, which would make a different variable: this returns an error `Var` for
    /// them; rename a leaf in place with [`Var::set_name`].
    #[track_caller]
    pub fn named(&self, name: impl Into<String>) -> Var {
        if self.0.error.is_some() {
            return self.clone();
        }
        if self.0.op.is_leaf() {
            return Var::from_error(BuildError::invalid(
                "named",
                "a leaf (input, constant or shared variable) is renamed in place with set_name",
            ));
        }
        Var::from_parts(self.0.op.clone(), self.0.inputs.clone(), self.0.ty.clone(), Some(name.into()))
    }

    /// True when both handles are the same node.
    pub fn same(&self, other: &Var) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A key identifying the node (its address), for maps from variables.
    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// A weak handle on the variable (see [`WeakVar`]).
    pub fn downgrade(&self) -> WeakVar {
        WeakVar(Arc::downgrade(&self.0))
    }

    /// The variable as error messages name it: its name, or a description of its op.
    pub fn describe(&self) -> String {
        match (self.name(), &self.0.op) {
            (Some(n), _) => n.to_string(),
            (None, Op::Constant(t)) if t.len() == 1 => format!("constant {}", t.to_f64_vec()[0]),
            (None, op) => format!("<{} result>", op.name()),
        }
    }

    /// The variable as an operand of an error message.
    pub fn operand(&self) -> Operand {
        Operand { name: self.describe(), ty: self.0.ty.clone() }
    }
}

/// Every node of the graphs of `roots`, each once and after its inputs (post-order, without
/// recursion: deep graphs cannot overflow the stack). The walk enters a node's inputs only
/// when `descend` says so (a node it does not descend into is still listed).
pub fn post_order(roots: &[Var], descend: impl Fn(&Var) -> bool) -> Vec<Var> {
    let mut order = Vec::new();
    let mut seen: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut stack: Vec<(Var, bool)> = roots.iter().rev().map(|r| (r.clone(), false)).collect();
    while let Some((v, expanded)) = stack.pop() {
        if expanded {
            order.push(v);
            continue;
        }
        if !seen.insert(v.key()) {
            continue;
        }
        stack.push((v.clone(), true));
        if descend(&v) {
            stack.extend(
                v.inputs().iter().rev().filter(|i| !seen.contains(&i.key())).map(|i| (i.clone(), false)),
            );
        }
    }
    order
}

impl AsRef<Var> for Var {
    fn as_ref(&self) -> &Var {
        self
    }
}

impl Drop for Node {
    /// Drops long chains of nodes iteratively, so a deep graph cannot overflow the stack.
    fn drop(&mut self) {
        let mut stack: Vec<Var> = std::mem::take(&mut self.inputs);
        while let Some(v) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(v.0) {
                stack.append(&mut node.inputs);
            }
        }
    }
}

impl Var {
    /// The variable itself, or its build error at once: the `try_` form of any expression,
    /// `let z = (&x + &y).checked()?;`.
    #[track_caller]
    pub fn checked(self) -> Result<Var, BuildError> {
        self.check().map(|_| self)
    }
}
