//! The compiled plan: what a call runs, decided once when the function is built. Each step
//! computes one node of the optimized graph, and how is part of the step — a native
//! elementwise kernel, a multi-output kernel, a fused reduction, a matrix product, a native
//! convolution or pooling, a view, or the reference kernel for what has no native path — with the values that die after
//! it (their storage goes back to the function's pool). A call checks nothing more and
//! decides nothing more: it runs the steps. `Stage::Schedule` prints the plan itself.
//!
//! The op-by-op reference interpreter (`crate::interp`, `Mode::Interp`) is the plan whose
//! every step is the reference kernel: one loop, two configurations. A multi-output
//! composite computes all its outputs at once; `CompositeOutput` steps read them. Views
//! stay views (no needless copies). A float random draw that one native elementwise
//! kernel alone reads is generated inside that kernel's pass, chunk by chunk, and never
//! stored (`How::Drawn`, `crate::random::fused`).
//!
//! `ifelse` is lazy: a step that only the branch not taken needs is skipped. Each step
//! carries its guard — the conditions (outermost first) under which something reads its
//! value — and the order computes every condition before the steps it guards.

use crate::error::{Error, Result};
use crate::pool::BufferPool;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use tensorlift_ir::kernels::{self, KernelInput};
use tensorlift_ir::value::Sink;
use tensorlift_ir::{FunctionGraph, NodeId, Op, Tensor};

/// Levels of the failing expression an error message shows.
const ERROR_DEPTH: usize = 4;

/// How `Plan::run_into` runs a graph.
#[derive(Clone, Copy, Default)]
pub(crate) struct RunOptions<'a> {
    /// Compare every native result with the reference kernel (`Mode::Debug`).
    pub check: bool,
    /// Where dead intermediates' storage goes, to be reused by later nodes and calls.
    pub pool: Option<&'a Arc<BufferPool>>,
    /// Where each node's time is added (a profiled function).
    pub profile: Option<&'a crate::profile::Profile>,
    /// A loop's step inside a call: the pool is the call's, already entered (a step is
    /// not a call of its own).
    pub nested: bool,
}

/// How a step computes its node, decided when the plan is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// A graph input: the argument.
    Input,
    /// A constant of the graph.
    Constant,
    /// A shared variable, read at the call's snapshot.
    Shared,
    /// Output `index` (`1..`) of a multi-output kernel, computed by its step.
    Output(usize),
    /// A native elementwise kernel (a `Composite`, or a lone elementwise op).
    Kernel,
    /// A native kernel writing every output of a multi-output `Composite` in one pass.
    Kernels,
    /// A native fused reduction (the temporary never materialized where the layout allows).
    Reduce,
    /// The threaded matrix kernel (`crate::matmul`).
    Matmul,
    /// Native convolution or pooling (`crate::conv`).
    Conv,
    /// A random draw split over the threads (`crate::random`).
    Random,
    /// A random draw generated inside the pass of its only reader, a native elementwise
    /// kernel (`crate::random::fused`): stored only when that pass cannot run.
    Drawn,
    /// A view of its input (the reference kernel, which copies nothing).
    View,
    /// The value of the branch an `ifelse` takes (computed by the steps it guards).
    Branch,
    /// A loop: its step's own plan run once per step (`kernels::scan::run`).
    Loop,
    /// The reference kernel.
    Reference,
}

/// One step of a plan.
#[derive(Clone, Debug)]
struct Step {
    id: NodeId,
    how: How,
    /// Values whose last reader is this step (not outputs).
    frees: Vec<NodeId>,
    /// The step runs only when every `(condition, truth)` holds, checked in order (an
    /// inner condition is computed only when the outer ones hold); empty for most steps.
    guard: Box<[(NodeId, bool)]>,
    /// For each value the step computes (one, or each output of a multi-output kernel), the
    /// graph output it is, if any: where a caller's sink for it is found.
    outputs: Box<[Option<usize>]>,
    /// The random draw this step generates in its own pass (`How::Drawn`): its position
    /// among the step's inputs, and its node.
    draw: Option<(usize, NodeId)>,
}

/// A scan's step compiled: its optimized graph and plan, and which of the scan's outputs
/// the outer graph reads (a trace nothing reads is not stored: Theano's `scan_save_mem`).
#[derive(Debug)]
pub(crate) struct Loop {
    /// The scan node.
    pub node: NodeId,
    /// The optimized step.
    pub graph: FunctionGraph,
    /// Its plan.
    pub plan: Plan,
    /// By output index: whether something reads it.
    pub keep: Box<[bool]>,
}

/// A graph compiled into the steps a call runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Native kernels by node (`Mode::Jit`, `Mode::Debug`); empty for the interpreter.
    native: crate::native::NativeKernels,
    steps: Vec<Step>,
    names: Vec<String>,
    /// The compiled steps of the graph's scans.
    loops: Vec<Arc<Loop>>,
}

impl Plan {
    /// The reference plan of `g`: every computing step runs the reference kernel.
    pub fn reference(g: &FunctionGraph) -> Plan {
        Plan::with_kernels(g, crate::native::NativeKernels::default())
    }

    /// The plan of `g` with its fused nodes compiled to native code (`Mode::Jit`).
    pub fn compile(g: &FunctionGraph) -> Plan {
        Plan::with_kernels(g, crate::native::NativeKernels::compile(g))
    }

    /// The plan of `g` running `native`'s kernels where they apply.
    pub(crate) fn with_kernels(g: &FunctionGraph, native: crate::native::NativeKernels) -> Plan {
        let (order, mut guards) = lazy_order(g);
        let mut hows: Vec<How> = g.ids().map(|id| how(g, id, &native)).collect();
        let draws = drawn_in_pass(g, &mut hows, &guards);
        let mut last = vec![usize::MAX; g.len()];
        for (k, &id) in order.iter().enumerate() {
            // A draw generated in its reader's pass reads its inputs there.
            let drawn = draws[id.index()].map(|(_, r)| &g.node(r).inputs[..]).unwrap_or_default();
            for &i in g.node(id).inputs.iter().chain(drawn) {
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
        let output_of = |id: NodeId| g.outputs().iter().position(|&o| o == id);
        let steps = order
            .iter()
            .zip(frees)
            .map(|(&id, frees)| {
                let guard = guards.get_mut(id.index()).map(std::mem::take).unwrap_or_default();
                let outputs: Box<[Option<usize>]> = match multi_output(&g.node(id).op) {
                    // Output 0 is the node; output `k` the projection of index `k`.
                    Some(p) => (0..p.n_outputs())
                        .map(|k| match k {
                            0 => output_of(id),
                            k => g
                                .uses(id)
                                .into_iter()
                                .filter(|&u| !g.is_dead(u))
                                .find(|&u| matches!(g.node(u).op, Op::CompositeOutput { index, .. } if index == k))
                                .and_then(output_of),
                        })
                        .collect(),
                    None => Box::new([output_of(id)]),
                };
                let (how, draw) = (hows[id.index()], draws[id.index()]);
                Step { id, how, frees, guard: guard.into(), outputs, draw }
            })
            .collect();
        let names = g.ids().map(|id| g.describe(id)).collect();
        Plan { native, steps, names, loops: Vec::new() }
    }

    /// The plan with the compiled steps of its scans: `(scan node, optimized step graph,
    /// its plan)`.
    pub(crate) fn with_loops(mut self, g: &FunctionGraph, loops: Vec<(NodeId, FunctionGraph, Plan)>) -> Plan {
        self.loops = loops
            .into_iter()
            .map(|(node, graph, plan)| {
                let Op::Scan(info) = &g.node(node).op else { unreachable!("a loop is a scan node") };
                let mut keep = vec![false; 1 + info.n_outputs()];
                for u in g.uses(node) {
                    if let (false, Op::ScanOutput { index, .. }) = (g.is_dead(u), &g.node(u).op) {
                        keep[*index] = true;
                    }
                }
                Arc::new(Loop { node, graph, plan, keep: keep.into() })
            })
            .collect();
        self
    }

    /// The compiled steps of the scans of another plan of the same graph.
    pub(crate) fn loops_of(mut self, other: &Plan) -> Plan {
        self.loops = other.loops.clone();
        self
    }

    /// How each step computes its node, in order.
    pub fn steps(&self) -> impl Iterator<Item = (NodeId, How)> + '_ {
        self.steps.iter().map(|s| (s.id, s.how))
    }

    /// The plan as text: one line per step, in order — the value it computes, how
    /// (`native` kernel, `native reduce` without the temporary where the layout allows,
    /// `matmul`, `view`, `reference` kernel, or an input, constant, shared variable or
    /// output of a multi-output kernel), its inputs, and the values that die after it (their
    /// storage goes back to the pool); then each loop's step plan, indented.
    pub fn schedule_text(&self, g: &FunctionGraph) -> String {
        let mut out = String::new();
        for step in &self.steps {
            let (id, node) = (step.id, g.node(step.id));
            let how = match (step.how, &node.op) {
                (How::Input, _) => "input".to_string(),
                (How::Constant, _) => "constant".to_string(),
                (How::Shared, _) => "shared".to_string(),
                (How::Output(index), _) => format!("output {index} of {}", node.inputs[0]),
                (How::Reduce, Op::FusedReduce { op, .. }) => format!("native reduce {}", op.name()),
                (How::Kernels, Op::Composite(p)) => format!("native composite ({} outputs)", p.n_outputs()),
                (_, Op::Composite(p)) if p.n_outputs() > 1 => {
                    format!("reference composite ({} outputs)", p.n_outputs())
                }
                (How::Kernel, op) => {
                    let what = match op {
                        Op::Elemwise(s) => format!("native {}", s.name()),
                        _ => "native composite".to_string(),
                    };
                    match step.draw {
                        Some((_, r)) => format!("{what} (draws {r} in its pass)"),
                        None => what,
                    }
                }
                (How::Matmul, op) => format!("matmul {}", op.name()),
                (How::Conv, op) => format!("native {}", op.name()),
                (How::Random, op) => format!("native random {}", op.name()),
                (How::Drawn, op) => format!("random {}, drawn in its reader's pass", op.name()),
                (How::View, op) => format!("view {}", op.name()),
                (How::Branch, op) => format!("lazy {}", op.name()),
                (How::Loop, Op::Scan(info)) => {
                    let stored: Vec<String> = self
                        .loops
                        .iter()
                        .find(|l| l.node == id)
                        .map(|l| {
                            (1..l.keep.len()).filter(|&k| l.keep[k]).map(|k| info.output_label(k)).collect()
                        })
                        .unwrap_or_default();
                    format!(
                        "loop {} (stores {})",
                        info.name,
                        if stored.is_empty() { "nothing".into() } else { stored.join(", ") }
                    )
                }
                (_, op) => format!("reference {}", op.name()),
            };
            let args: Vec<String> = node.inputs.iter().map(|i| i.to_string()).collect();
            let args = match step.how {
                _ if args.is_empty() => String::new(),
                How::Output(_) => String::new(),
                _ => format!("({})", args.join(", ")),
            };
            let _ = write!(out, "{id} = {how}{args} : {}", g.ty(id));
            if !step.guard.is_empty() {
                let conds: Vec<String> =
                    step.guard.iter().map(|(c, t)| format!("{}{c}", if *t { "" } else { "not " })).collect();
                let _ = write!(out, "  ; if {}", conds.join(" and "));
            }
            if !step.frees.is_empty() {
                let dead: Vec<String> = step.frees.iter().map(|d| d.to_string()).collect();
                let _ = write!(out, "  ; frees {}", dead.join(", "));
            }
            out.push('\n');
        }
        let outs: Vec<String> = g.outputs().iter().map(|o| o.to_string()).collect();
        let _ = writeln!(out, "return {}", outs.join(", "));
        // Each loop's step: its own optimized graph's plan, run once per step.
        for lp in &self.loops {
            let name = match &g.node(lp.node).op {
                Op::Scan(info) => info.name.as_str(),
                _ => "loop",
            };
            let _ = writeln!(out, "\n{} = loop {name}, each step:", lp.node);
            for line in lp.plan.schedule_text(&lp.graph).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }

    /// The native kernels (empty for the pure interpreter).
    pub fn native(&self) -> &crate::native::NativeKernels {
        &self.native
    }

    /// The native kernels, to replace one (a test hook of `Function`: rebuild the plan
    /// with [`with_kernels`](Self::with_kernels) after).
    pub(crate) fn into_native(self) -> crate::native::NativeKernels {
        self.native
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
        sinks: &mut [Option<Sink<'_>>],
        opts: RunOptions<'_>,
    ) -> Result<Vec<Tensor>> {
        let RunOptions { check, pool, profile, nested } = opts;
        let pool = pool.filter(|_| !self.native.is_empty());
        let _pool = pool.filter(|_| !nested).map(crate::pool::enter);
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
        for step in &self.steps {
            let (id, node) = (step.id, g.node(step.id));
            if !step.guard.is_empty() && !guard_holds(g, id, &step.guard, &values)? {
                // Nothing reads this value on the branches taken: skipped, and what it
                // alone read dies now as it would have after it.
                self.free(step, &mut values, &mut extras, pool);
                continue;
            }
            let started = profile.map(|_| std::time::Instant::now());
            if let (Some((at, r)), false) = (step.draw, check) {
                // A draw generated in this kernel's pass; stored first when the pass
                // cannot run.
                match self.draw_in_pass(g, step, at, r, &values, sinks)? {
                    Drawn::Consumer(t) => {
                        if let (Some(p), Some(t0)) = (profile, started) {
                            p.add_node(id, t0.elapsed());
                        }
                        values[id.index()] = Some(Cow::Owned(t));
                        self.free(step, &mut values, &mut extras, pool);
                        continue;
                    }
                    Drawn::Draw(t) => values[r.index()] = Some(Cow::Owned(t)),
                }
            }
            if matches!(step.how, How::Kernel | How::Kernels | How::Reduce) {
                crate::layout::gather_sparse_borrows(&node.inputs, &mut values);
            }
            let value = match (step.how, &node.op) {
                (How::Input | How::Drawn, _) => None,
                (How::Constant, Op::Constant(t)) => Some(Cow::Borrowed(&**t)),
                (How::Shared, _) if values[id.index()].is_some() => None,
                (How::Shared, Op::Shared(s)) => Some(Cow::Owned(s.get())),
                (How::Branch, _) => {
                    let taken = truth(g, id, &values, node.inputs[0])?;
                    let branch = node.inputs[if taken { 1 } else { 2 }];
                    let value = values[branch.index()].as_deref().ok_or_else(|| Error::Eval {
                        node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH),
                        source: tensorlift_ir::ValueError::invalid("ifelse", "its branch was not computed"),
                    })?;
                    Some(Cow::Owned(value.clone()))
                }
                (How::Output(index), _) => {
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
                // An update of a copy of its first input takes that input over when this
                // step is its last reader: written in place, not copied (unless a view
                // still shares its storage).
                (_, op)
                    if !check
                        && kernels::updates_first_input(op)
                        && step.frees.contains(&node.inputs[0])
                        && !node.inputs[1..].contains(&node.inputs[0])
                        && matches!(values[node.inputs[0].index()], Some(Cow::Owned(_))) =>
                {
                    let first = node.inputs[0];
                    let Some(Cow::Owned(x)) = values[first.index()].take() else { unreachable!("checked") };
                    let rest = self.kernel_inputs(g, &node.inputs[1..], &values);
                    let t = kernels::eval_updating(op, x, &self.names[first.index()], &rest)
                        .expect("an op that updates its first input")
                        .map_err(|source| Error::Eval {
                            node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH),
                            source,
                        })?;
                    Some(Cow::Owned(t))
                }
                (how, op) => {
                    let ins = self.kernel_inputs(g, &node.inputs, &values);
                    let eval_error = |source| Error::Eval {
                        node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH),
                        source,
                    };
                    // A multi-output composite computes every output in one step: natively
                    // (`How::Kernels`) or with the reference kernel; a loop too.
                    let outs = match op {
                        Op::Scan(info) => Some(self.run_loop(g, id, info, &ins, opts)?),
                        _ => multi_output(op)
                            .map(|p| {
                                // Each output's sink, if the caller offers one (not when
                                // checking); a plain call builds nothing.
                                let offers =
                                    !check && step.outputs.iter().flatten().any(|&k| k < sinks.len());
                                if !offers {
                                    return self.eval_outputs(g, id, p, &ins, &mut [], check);
                                }
                                let mut offered: Vec<Option<&mut Sink<'_>>> =
                                    sinks.iter_mut().map(Option::as_mut).collect();
                                let mut mine: Vec<Option<&mut Sink<'_>>> = step
                                    .outputs
                                    .iter()
                                    .map(|k| k.and_then(|k| offered.get_mut(k)?.take()))
                                    .collect();
                                self.eval_outputs(g, id, p, &ins, &mut mine, check)
                            })
                            .transpose()?,
                    };
                    if let Some(mut outs) = outs {
                        extras.resize(g.len(), Vec::new());
                        extras[id.index()] = outs.split_off(1);
                        values[id.index()] = outs.pop().map(Cow::Owned);
                        if let (Some(p), Some(t0)) = (profile, started) {
                            p.add_node(id, t0.elapsed());
                        }
                        self.free(step, &mut values, &mut extras, pool);
                        continue;
                    }
                    let native = match how {
                        How::Kernel | How::Reduce | How::Matmul => {
                            // `call_into`, updates and loops offer sinks.
                            let sink = match step.outputs[0] {
                                Some(k) if !check => sinks.get_mut(k).and_then(Option::as_mut),
                                _ => None,
                            };
                            self.native.eval_into(id, op, &ins, g.ty(id), sink)
                        }
                        How::Conv => crate::conv::eval(op, &ins, g.ty(id)),
                        How::Random => Some(crate::random::eval(op, &ins, g.ty(id))),
                        _ => None,
                    };
                    let t = match native {
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

    /// The kernel inputs of the nodes `ids`, each already computed.
    fn kernel_inputs<'v>(
        &'v self,
        g: &'v FunctionGraph,
        ids: &[NodeId],
        values: &'v [Option<Cow<'_, Tensor>>],
    ) -> Vec<KernelInput<'v>> {
        ids.iter()
            .map(|&i| KernelInput {
                value: values[i.index()].as_deref().expect("inputs computed first"),
                ty: g.ty(i),
                name: &self.names[i.index()],
            })
            .collect()
    }

    /// Drops the values whose last reader is `step`, their storage to the pool.
    fn free(
        &self,
        step: &Step,
        values: &mut [Option<Cow<'_, Tensor>>],
        extras: &mut [Vec<Tensor>],
        pool: Option<&Arc<BufferPool>>,
    ) {
        for &dead in &step.frees {
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

    /// Step `step` (a native elementwise kernel) with its input `at`, the draw `r`,
    /// generated in the kernel's pass (`crate::random::fused`); or, when the inputs do not
    /// suit such a pass or something fails, the draw alone (the step then runs as any
    /// other, and reports any error where it arises).
    fn draw_in_pass(
        &self,
        g: &FunctionGraph,
        step: &Step,
        at: usize,
        r: NodeId,
        values: &[Option<Cow<'_, Tensor>>],
        sinks: &mut [Option<Sink<'_>>],
    ) -> Result<Drawn> {
        let (id, node, draw) = (step.id, g.node(step.id), g.node(r));
        let draw_ins = self.kernel_inputs(g, &draw.inputs, values);
        if let Some(kernel) = self.native.kernel(id) {
            let others: Vec<NodeId> =
                node.inputs.iter().enumerate().filter(|&(k, _)| k != at).map(|(_, &i)| i).collect();
            let others = self.kernel_inputs(g, &others, values);
            let sink = step.outputs[0].and_then(|k| sinks.get_mut(k)?.as_mut());
            let consumer =
                crate::random::Consumer { kernel, name: &self.names[id.index()], others: &others, at };
            if let Some(Ok(t)) = crate::random::fused(&consumer, &draw.op, &draw_ins, g.ty(r), sink) {
                self.native.count_contiguous();
                return Ok(Drawn::Consumer(t));
            }
        }
        crate::random::eval(&draw.op, &draw_ins, g.ty(r))
            .map(Drawn::Draw)
            .map_err(|source| Error::Eval { node: tensorlift_ir::pp_graph_depth(g, r, ERROR_DEPTH), source })
    }

    /// Every output of the scan `id`: its step's plan run once per step.
    fn run_loop(
        &self,
        g: &FunctionGraph,
        id: NodeId,
        info: &tensorlift_ir::ScanInfo,
        ins: &[KernelInput<'_>],
        opts: RunOptions<'_>,
    ) -> Result<Vec<Tensor>> {
        let at = |source| Error::Eval { node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH), source };
        let Some(lp) = self.loops.iter().find(|l| l.node == id) else {
            return Err(at(tensorlift_ir::ValueError::invalid("scan", "its step was not compiled")));
        };
        // The steps take their buffers from the call's pool and give them back to it; they
        // are not calls of their own (no accounting of theirs, no profile).
        let inner = RunOptions { profile: None, nested: true, ..opts };
        kernels::scan::run(info, ins, &lp.keep, &crate::pool::zeros, |args, sinks| {
            lp.plan.run_into(&lp.graph, args, &[], sinks, inner)
        })
        .map_err(|e| match e {
            Error::Value(source) => at(source),
            e => e,
        })
    }

    /// Every output of the multi-output composite `id` (program `p`), natively when it can
    /// (output `k` into `sinks[k]` when it fits), compared with the reference kernel under
    /// `check`.
    fn eval_outputs(
        &self,
        g: &FunctionGraph,
        id: NodeId,
        p: &tensorlift_ir::ScalarProgram,
        ins: &[KernelInput<'_>],
        sinks: &mut [Option<&mut Sink<'_>>],
        check: bool,
    ) -> Result<Vec<Tensor>> {
        let eval_error =
            |source| Error::Eval { node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH), source };
        let Some(native) = self.native.eval_outputs(id, ins, sinks) else {
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

/// How node `id` of `g` runs, given the native kernels compiled for it.
fn how(g: &FunctionGraph, id: NodeId, native: &crate::native::NativeKernels) -> How {
    let node = g.node(id);
    let floats = || node.inputs.iter().all(|&i| g.ty(i).dtype.is_float());
    match &node.op {
        Op::Input => How::Input,
        Op::Constant(_) => How::Constant,
        Op::Shared(_) => How::Shared,
        Op::CompositeOutput { index, .. } | Op::ScanOutput { index, .. } => How::Output(*index),
        Op::Scan(_) => How::Loop,
        Op::FusedReduce { .. } if native.has_kernel(id) => How::Reduce,
        Op::Composite(p) if native.has_kernel(id) && p.n_outputs() > 1 => How::Kernels,
        Op::Composite(_) | Op::Elemwise(_) if native.has_kernel(id) && floats() => How::Kernel,
        Op::Dot | Op::Gemm | Op::BatchedDot if native.matmul() && g.ty(id).dtype.is_float() && floats() => {
            How::Matmul
        }
        op if native.matmul() && crate::conv::handles(op) && g.ty(id).dtype.is_float() => How::Conv,
        Op::Random(_) if native.matmul() => How::Random,
        Op::DimShuffle { .. } => How::View,
        Op::IfElse => How::Branch,
        _ => How::Reference,
    }
}

/// What [`Plan::draw_in_pass`] computed.
enum Drawn {
    /// The reading kernel's result, the draw generated in its pass.
    Consumer(Tensor),
    /// The draw alone, for the reading kernel to run as usual.
    Draw(Tensor),
}

/// The random draws to generate inside the pass of their reader, by reader: `(position
/// among its inputs, draw)`; their steps become `How::Drawn`. A float draw of an
/// elementwise distribution qualifies when exactly one step reads it, once, that step is a
/// native elementwise kernel under the same guard, and the draw is not a graph output.
fn drawn_in_pass(
    g: &FunctionGraph,
    hows: &mut [How],
    guards: &[Vec<(NodeId, bool)>],
) -> Vec<Option<(usize, NodeId)>> {
    let mut draws = vec![None; g.len()];
    let guard = |id: NodeId| guards.get(id.index()).map(Vec::as_slice).unwrap_or_default();
    for r in g.ids() {
        let (Op::Random(d), How::Random) = (&g.node(r).op, hows[r.index()]) else { continue };
        if !d.is_elementwise() || !d.dtype.is_float() || g.outputs().contains(&r) {
            continue;
        }
        let readers: Vec<NodeId> = g.uses(r).into_iter().filter(|&u| !g.is_dead(u)).collect();
        let &[c] = readers.as_slice() else { continue };
        let positions: Vec<usize> =
            g.node(c).inputs.iter().enumerate().filter(|&(_, &i)| i == r).map(|(k, _)| k).collect();
        if hows[c.index()] != How::Kernel
            || positions.len() != 1
            || draws[c.index()].is_some()
            || guard(c) != guard(r)
        {
            continue;
        }
        draws[c.index()] = Some((positions[0], r));
        hows[r.index()] = How::Drawn;
    }
    draws
}

/// The truth of condition `cond`, read by step `id`.
fn truth(g: &FunctionGraph, id: NodeId, values: &[Option<Cow<'_, Tensor>>], cond: NodeId) -> Result<bool> {
    let eval_error = |reason: &str| Error::Eval {
        node: tensorlift_ir::pp_graph_depth(g, id, ERROR_DEPTH),
        source: tensorlift_ir::ValueError::invalid("ifelse", reason),
    };
    let value =
        values[cond.index()].as_deref().ok_or_else(|| eval_error("its condition was not computed"))?;
    value.is_true().map_err(|e| eval_error(&e.to_string()))
}

/// True when every condition of `guard` has its truth, checked outermost first.
fn guard_holds(
    g: &FunctionGraph,
    id: NodeId,
    guard: &[(NodeId, bool)],
    values: &[Option<Cow<'_, Tensor>>],
) -> Result<bool> {
    for &(cond, wanted) in guard {
        if truth(g, id, values, cond)? != wanted {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The order of a lazy plan and each node's guard (indexed by node; empty when there is no
/// `ifelse`). A node's guard is what every reader of its value has in common: the guard of
/// a reader, plus, for the branches of an `ifelse`, that branch's condition. The order is
/// `g`'s topological order with each guarded node placed after the conditions it needs.
fn lazy_order(g: &FunctionGraph) -> (Vec<NodeId>, Vec<Vec<(NodeId, bool)>>) {
    let order = g.toposort();
    if !order.iter().any(|&id| matches!(g.node(id).op, Op::IfElse)) {
        return (order, Vec::new());
    }
    // Guards as chains of (ifelse node, branch), found from the readers back.
    let mut chains: Vec<Option<Vec<(NodeId, bool)>>> = vec![None; g.len()];
    for &out in g.outputs() {
        chains[out.index()] = Some(Vec::new());
    }
    for &id in order.iter().rev() {
        let node = g.node(id);
        let chain =
            if node.op.is_leaf() { Vec::new() } else { chains[id.index()].clone().unwrap_or_default() };
        for (p, &input) in node.inputs.iter().enumerate() {
            let mut seen = chain.clone();
            if matches!(node.op, Op::IfElse) && p > 0 {
                seen.push((id, p == 1));
            }
            let slot = &mut chains[input.index()];
            *slot = Some(match slot.take() {
                None => seen,
                Some(mut common) => {
                    let shared = common.iter().zip(&seen).take_while(|(a, b)| a == b).count();
                    common.truncate(shared);
                    common
                }
            });
        }
    }
    let guards: Vec<Vec<(NodeId, bool)>> = g
        .ids()
        .map(|id| {
            let chain = if g.node(id).op.is_leaf() { None } else { chains[id.index()].as_ref() };
            chain.map_or_else(Vec::new, |c| c.iter().map(|&(i, t)| (g.node(i).inputs[0], t)).collect())
        })
        .collect();
    // Depth first, each node after its inputs and the conditions guarding it.
    let (mut placed, mut entered) = (vec![false; g.len()], vec![false; g.len()]);
    let mut lazy = Vec::with_capacity(order.len());
    for &root in &order {
        let mut stack = vec![(root, false)];
        while let Some((id, expanded)) = stack.pop() {
            if placed[id.index()] || (!expanded && entered[id.index()]) {
                continue;
            }
            entered[id.index()] = true;
            if expanded {
                placed[id.index()] = true;
                lazy.push(id);
                continue;
            }
            stack.push((id, true));
            let node = g.node(id);
            let conds = guards[id.index()].iter().map(|&(c, _)| c);
            for dep in node.inputs.iter().copied().chain(conds).collect::<Vec<_>>().into_iter().rev() {
                if !placed[dep.index()] {
                    stack.push((dep, false));
                }
            }
        }
    }
    (lazy, guards)
}

/// The program of a multi-output composite.
fn multi_output(op: &Op) -> Option<&tensorlift_ir::ScalarProgram> {
    match op {
        Op::Composite(p) if p.n_outputs() > 1 => Some(p),
        _ => None,
    }
}
