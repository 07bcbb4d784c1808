//! The interpreter: evaluates a `FunctionGraph` node by node with the reference kernels
//! (a multi-output composite computes all its outputs at once; `CompositeOutput` nodes read
//! them).
//! It is the meaning every backend must match and the baseline of every benchmark. Values
//! are dropped after their last use, and views stay views (no needless copies).

use crate::error::{Error, Result};
use crate::pool::BufferPool;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use tensorlift_ir::kernels::{self, KernelInput};
use tensorlift_ir::{FunctionGraph, NodeId, Op, Tensor};

/// Levels of the failing expression an error message shows.
const ERROR_DEPTH: usize = 4;

/// How `Interpreter::run_into` runs a graph.
#[derive(Clone, Copy, Default)]
pub(crate) struct RunOptions<'a> {
    /// Compare every native result with the reference kernel (`Mode::Debug`).
    pub check: bool,
    /// Where dead intermediates' storage goes, to be reused by later nodes and calls.
    pub pool: Option<&'a Arc<BufferPool>>,
    /// Where each node's time is added (a profiled function).
    pub profile: Option<&'a crate::profile::Profile>,
}

/// A graph prepared for evaluation: its schedule and, per step, which values die there.
#[derive(Clone, Debug)]
pub struct Interpreter {
    /// Native kernels for fused nodes (`Mode::Jit`); empty for the pure interpreter.
    native: crate::native::NativeKernels,
    order: Vec<NodeId>,
    /// `frees[k]`: nodes whose last reader is step `k` (not outputs).
    frees: Vec<Vec<NodeId>>,
    names: Vec<String>,
}

impl Interpreter {
    /// Prepares `g` (its topological order and value lifetimes).
    pub fn new(g: &FunctionGraph) -> Interpreter {
        let order = g.toposort();
        let mut last = vec![usize::MAX; g.len()];
        for (k, &id) in order.iter().enumerate() {
            for &i in &g.node(id).inputs {
                last[i.index()] = k;
            }
        }
        let mut frees = vec![Vec::new(); order.len()];
        for id in g.ids() {
            let k = last[id.index()];
            if k != usize::MAX && !g.outputs().contains(&id) {
                frees[k].push(id);
            }
        }
        let names = g.ids().map(|id| g.describe(id)).collect();
        Interpreter { native: Default::default(), order, frees, names }
    }

    /// Prepares `g` with its fused nodes compiled to native code (`Mode::Jit`).
    pub fn with_native(g: &FunctionGraph) -> Interpreter {
        Interpreter { native: crate::native::NativeKernels::compile(g), ..Interpreter::new(g) }
    }

    /// The schedule as text: one line per step, in order — the value it computes, how
    /// (`native` kernel, `native reduce` without the temporary where the layout allows,
    /// `matmul`, `view`, `reference` kernel, or an input, constant, shared variable or
    /// output of a multi-output kernel), its inputs, and the values that die after it (their
    /// storage goes back to the pool).
    pub fn schedule_text(&self, g: &FunctionGraph) -> String {
        let mut out = String::new();
        for (step, &id) in self.order.iter().enumerate() {
            let node = g.node(id);
            let native = self.native.has_kernel(id);
            let how = match &node.op {
                Op::Input => "input".to_string(),
                Op::Constant(_) => "constant".to_string(),
                Op::Shared(_) => "shared".to_string(),
                Op::CompositeOutput { index, .. } => format!("output {index} of {}", node.inputs[0]),
                Op::FusedReduce { op, .. } if native => format!("native reduce {}", op.name()),
                Op::Composite(p) if native && p.n_outputs() > 1 => {
                    format!("native composite ({} outputs)", p.n_outputs())
                }
                Op::Composite(_) if native => "native composite".to_string(),
                Op::Elemwise(s) if native => format!("native {}", s.name()),
                Op::Dot | Op::Gemm if self.native.matmul() && g.ty(id).dtype.is_float() => {
                    format!("matmul {}", node.op.name())
                }
                Op::DimShuffle { .. } => "view dimshuffle".to_string(),
                op => format!("reference {}", op.name()),
            };
            let args: Vec<String> = node.inputs.iter().map(|i| i.to_string()).collect();
            let args = match &node.op {
                _ if args.is_empty() => String::new(),
                Op::CompositeOutput { .. } => String::new(),
                _ => format!("({})", args.join(", ")),
            };
            let _ = write!(out, "{id} = {how}{args} : {}", g.ty(id));
            if !self.frees[step].is_empty() {
                let dead: Vec<String> = self.frees[step].iter().map(|d| d.to_string()).collect();
                let _ = write!(out, "  ; frees {}", dead.join(", "));
            }
            out.push('\n');
        }
        let outs: Vec<String> = g.outputs().iter().map(|o| o.to_string()).collect();
        let _ = writeln!(out, "return {}", outs.join(", "));
        out
    }

    /// The native kernels (empty for the pure interpreter).
    pub fn native(&self) -> &crate::native::NativeKernels {
        &self.native
    }

    /// The native kernels, to replace one (a test hook of `Function`).
    pub(crate) fn native_mut(&mut self) -> &mut crate::native::NativeKernels {
        &mut self.native
    }

    /// Evaluates the graph: `inputs[k]` is the value of graph input `k` (already checked
    /// against its type). Returns one value per graph output.
    pub fn run(&self, g: &FunctionGraph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.run_checked(g, inputs, false)
    }

    /// Like [`run`](Self::run); with `check`, every node computed natively is computed by
    /// its reference kernel too and the two compared (`Mode::Debug`).
    pub fn run_checked(&self, g: &FunctionGraph, inputs: &[Tensor], check: bool) -> Result<Vec<Tensor>> {
        self.run_into(g, inputs, &[], &mut [], RunOptions { check, ..RunOptions::default() })
    }

    /// Like [`run_checked`](Self::run_checked), with the values of shared variables read
    /// beforehand: `shared` gives the value of some `Op::Shared` nodes (a snapshot read at
    /// one instant), and the others are read when reached. `sinks[k]`, when given, is offered to the
    /// native kernel of graph output `k` to write its result in place (the returned tensor
    /// then shares its data). The caller copies the outputs computed elsewhere. With a
    /// `pool`, dead intermediates go to it and native results come from it.
    pub(crate) fn run_into(
        &self,
        g: &FunctionGraph,
        inputs: &[Tensor],
        shared: &[(NodeId, Tensor)],
        sinks: &mut [Option<&mut Tensor>],
        opts: RunOptions<'_>,
    ) -> Result<Vec<Tensor>> {
        let RunOptions { check, pool, profile } = opts;
        let pool = pool.filter(|_| !self.native.is_empty());
        let _pool = pool.map(crate::pool::enter);
        let mut values: Vec<Option<Cow<'_, Tensor>>> = vec![None; g.len()];
        // The outputs `1..` of each multi-output composite, until the composite dies (sized
        // on first use: most graphs have none).
        let mut extras: Vec<Vec<Tensor>> = Vec::new();
        for (k, &id) in g.inputs().iter().enumerate() {
            values[id.index()] = Some(Cow::Borrowed(&inputs[k]));
        }
        for (id, t) in shared {
            values[id.index()] = Some(Cow::Borrowed(t));
        }
        for (step, &id) in self.order.iter().enumerate() {
            let node = g.node(id);
            let started = profile.map(|_| std::time::Instant::now());
            let value = match &node.op {
                Op::Input => None,
                Op::Constant(t) => Some(Cow::Borrowed(&**t)),
                Op::Shared(_) if values[id.index()].is_some() => None,
                Op::Shared(s) => Some(Cow::Owned(s.get())),
                Op::CompositeOutput { index, .. } => {
                    let extra = extras.get(node.inputs[0].index()).and_then(|e| e.get(index - 1));
                    let t = extra.cloned().ok_or_else(|| Error::Eval {
                        node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH),
                        source: tensorlift_ir::ValueError::invalid(
                            "composite_output",
                            "its composite has no such output",
                        ),
                    })?;
                    Some(Cow::Owned(t))
                }
                op => {
                    let ins: Vec<KernelInput<'_>> = node
                        .inputs
                        .iter()
                        .map(|&i| KernelInput {
                            value: values[i.index()].as_deref().expect("inputs computed first"),
                            ty: g.ty(i),
                            name: &self.names[i.index()],
                        })
                        .collect();
                    let eval_error = |source| Error::Eval {
                        node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH),
                        source,
                    };
                    // Only `call_into` offers sinks: a plain call skips the output lookup.
                    let sink = if sinks.is_empty() || check {
                        None
                    } else {
                        match g.outputs().iter().position(|&o| o == id) {
                            Some(k) if k < sinks.len() => sinks[k].as_deref_mut(),
                            _ => None,
                        }
                    };
                    if let Op::Composite(p) = op {
                        if p.n_outputs() > 1 {
                            let mut outs = self.eval_outputs(g, id, p, &ins, check)?;
                            extras.resize(g.len(), Vec::new());
                            extras[id.index()] = outs.split_off(1);
                            values[id.index()] = outs.pop().map(Cow::Owned);
                            if let (Some(p), Some(t0)) = (profile, started) {
                                p.add_node(id, t0.elapsed());
                            }
                            self.free(step, &mut values, &mut extras, pool);
                            continue;
                        }
                    }
                    let t = match self.native.eval_into(id, op, &ins, g.ty(id), sink) {
                        Some(native) => {
                            let t = native.map_err(eval_error)?;
                            if check {
                                let reference = kernels::eval(op, &ins, g.ty(id)).map_err(eval_error)?;
                                let tol = crate::debug::Tolerance::for_node(op, &ins, g.ty(id).dtype);
                                crate::debug::compare(&t, &reference, tol).map_err(|m| {
                                    m.into_error(tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH))
                                })?;
                            }
                            t
                        }
                        None => kernels::eval(op, &ins, g.ty(id)).map_err(eval_error)?,
                    };
                    Some(Cow::Owned(t))
                }
            };
            if value.is_some() {
                if let (Some(p), Some(t0), false) = (profile, started, node.op.is_leaf()) {
                    p.add_node(id, t0.elapsed());
                }
                values[id.index()] = value;
            }
            self.free(step, &mut values, &mut extras, pool);
        }
        Ok(g.outputs()
            .iter()
            .map(|o| values[o.index()].as_deref().expect("outputs computed").clone())
            .collect())
    }

    /// Drops the values whose last reader is step `step`, their storage to the pool.
    fn free(
        &self,
        step: usize,
        values: &mut [Option<Cow<'_, Tensor>>],
        extras: &mut [Vec<Tensor>],
        pool: Option<&Arc<BufferPool>>,
    ) {
        for &dead in &self.frees[step] {
            let value = values[dead.index()].take();
            let extra = extras.get_mut(dead.index()).map(std::mem::take).unwrap_or_default();
            if let Some(pool) = pool {
                if let Some(Cow::Owned(t)) = value {
                    pool.recycle(t);
                }
                for t in extra {
                    pool.recycle(t);
                }
            }
        }
    }

    /// Every output of the multi-output composite `id` (program `p`), natively when it can,
    /// compared with the reference kernel under `check`.
    fn eval_outputs(
        &self,
        g: &FunctionGraph,
        id: NodeId,
        p: &tensorlift_ir::ScalarProgram,
        ins: &[KernelInput<'_>],
        check: bool,
    ) -> Result<Vec<Tensor>> {
        let eval_error =
            |source| Error::Eval { node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH), source };
        let Some(native) = self.native.eval_outputs(id, ins) else {
            return kernels::composite_outputs(p, ins).map_err(eval_error);
        };
        let outs = native.map_err(eval_error)?;
        if check {
            let reference = kernels::composite_outputs(p, ins).map_err(eval_error)?;
            // Every output is computed in the same pass: the whole program sets the tolerance.
            let tol = crate::debug::Tolerance::for_node(&g.node(id).op, ins, p.out_dtype());
            for (t, r) in outs.iter().zip(&reference) {
                crate::debug::compare(t, r, tol)
                    .map_err(|m| m.into_error(tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH)))?;
            }
        }
        Ok(outs)
    }
}
