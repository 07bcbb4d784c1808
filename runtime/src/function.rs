//! `function`: compiles inputs, outputs, `updates` and `givens` into a callable
//! `Function`. A call checks every argument against its input's type before anything runs,
//! computes all outputs and update values, and only then writes the shared variables, so a
//! failed call changes nothing.

use crate::cache::Compiled;
use crate::error::{Error, Result};
pub use crate::mode::Mode;
use std::sync::{Arc, Mutex, MutexGuard};
use tensorlift_ir::value::Sink;
use tensorlift_ir::{
    clone_replace, Arg, DType, FunctionGraph, IntoArgs, NodeId, Op, ScalarProgram, SharedVar, Tensor, Var,
};
use tensorlift_opt::{OptConfig, RewriteTrace};

/// What to do with an input that no output needs (Theano's `on_unused_input`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnUnusedInput {
    /// Refuse to compile (the default).
    #[default]
    Raise,
    /// Accept it silently.
    Ignore,
}

/// Options of a function under construction; `build` compiles it.
#[derive(Clone, Debug)]
pub struct FunctionBuilder {
    inputs: Vec<Var>,
    outputs: Vec<Var>,
    updates: Vec<(Var, Var)>,
    givens: Vec<(Var, Var)>,
    mode: Mode,
    name: String,
    on_unused_input: OnUnusedInput,
    allow_input_downcast: bool,
    profile: bool,
    opt: OptConfig,
    /// Random draws' states advance by themselves (Theano's default updates).
    default_updates: bool,
    /// Shared variables whose default update is not applied.
    no_default_for: Vec<Var>,
}

/// Compiles a function of `inputs` computing `outputs`: `function(&[&x], &[&y])?`.
/// For updates, givens, mode or a name use `Function::builder`.
pub fn function<I: AsRef<Var>, O: AsRef<Var>>(inputs: &[I], outputs: &[O]) -> Result<Function> {
    Function::builder(inputs, outputs).build()
}

impl FunctionBuilder {
    /// Pairs `(shared variable, new value)` written after every output is computed.
    pub fn updates<S: AsRef<Var>, E: AsRef<Var>>(mut self, updates: &[(S, E)]) -> Self {
        self.updates.extend(updates.iter().map(|(s, e)| (s.as_ref().clone(), e.as_ref().clone())));
        self
    }

    /// One update pair.
    pub fn update(mut self, shared: &Var, value: &Var) -> Self {
        self.updates.push((shared.clone(), value.clone()));
        self
    }

    /// Substitutions applied to the graph before compiling: each `(var, replacement)`.
    pub fn givens<A: AsRef<Var>, B: AsRef<Var>>(mut self, givens: &[(A, B)]) -> Self {
        self.givens.extend(givens.iter().map(|(a, b)| (a.as_ref().clone(), b.as_ref().clone())));
        self
    }

    /// The execution mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// A name for messages.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// What to do with inputs no output needs.
    pub fn on_unused_input(mut self, policy: OnUnusedInput) -> Self {
        self.on_unused_input = policy;
        self
    }

    /// Accept arguments that lose precision or range when converted to their input's dtype
    /// (Theano's `allow_input_downcast=True`): an f64 array for an `fvector` is rounded to
    /// f32, a float for an integer input truncated, as NumPy's `astype`. By default an
    /// argument must convert without loss.
    pub fn allow_input_downcast(mut self, allow: bool) -> Self {
        self.allow_input_downcast = allow;
        self
    }

    /// Time every node of every call (Theano's `profile=True`); `Function::profile` reads
    /// the timings. Profiled calls run node by node (no all-0-d fast path).
    pub fn profile(mut self, profile: bool) -> Self {
        self.profile = profile;
        self
    }

    /// Without default updates (Theano's `no_default_updates=True`): the generator states
    /// of random draws do not advance, so every call draws the same numbers unless the
    /// function updates them itself.
    pub fn no_default_updates(mut self, off: bool) -> Self {
        self.default_updates = !off;
        self
    }

    /// Without the default updates of these shared variables only (Theano's
    /// `no_default_updates=[…]`).
    pub fn no_default_updates_for<S: AsRef<Var>>(mut self, vars: &[S]) -> Self {
        self.no_default_for.extend(vars.iter().map(|v| v.as_ref().clone()));
        self
    }

    /// Optimizer options.
    pub fn optimizer(mut self, config: OptConfig) -> Self {
        self.opt = config;
        self
    }

    /// Checks everything and compiles. The environment's settings (`tensorlift_ir::config`)
    /// apply: a bad one is an [`Error::Usage`] naming it, and its rewrite exclusions and
    /// trace are added to the optimizer options.
    pub fn build(mut self) -> Result<Function> {
        let settings = tensorlift_ir::config::get();
        tensorlift_ir::config::check().map_err(|e| Error::Usage(format!("configuration: {e}")))?;
        for name in &settings.optimizer_excluding {
            if !self.opt.excluded.contains(name) {
                self.opt.excluded.push(name.clone());
            }
        }
        self.opt.trace |= settings.trace;
        let mut targets: Vec<SharedVar> = Vec::with_capacity(self.updates.len());
        for (s, e) in &self.updates {
            s.check()?;
            e.check()?;
            let cell = s.as_shared().ok_or_else(|| {
                Error::Update(format!(
                    "{} is not a shared variable: only shared variables can be updated",
                    s.describe()
                ))
            })?;
            if targets.contains(cell) {
                return Err(Error::Update(format!("{} is updated twice", s.describe())));
            }
            if e.dtype() != s.dtype() || e.ndim() != s.ndim() {
                return Err(Error::Update(format!(
                    "the update of {} has type {}, the variable has type {} (cast it explicitly)",
                    s.describe(),
                    e.ty(),
                    s.ty()
                )));
            }
            if e.ty()
                .shape
                .iter()
                .zip(&s.ty().shape)
                .any(|(a, b)| matches!((a, b), (Some(p), Some(q)) if p != q))
            {
                return Err(Error::Update(format!(
                    "the update of {} has type {}, which does not fit {}",
                    s.describe(),
                    e.ty(),
                    s.ty()
                )));
            }
            targets.push(cell.clone());
        }
        // Default updates: a shared variable the function does not update gets its own
        // default update, and a random draw's generator state advances past its draws.
        if self.default_updates {
            let mut skip: Vec<SharedVar> = targets.clone();
            skip.extend(self.no_default_for.iter().filter_map(|v| v.as_shared().cloned()));
            let roots: Vec<Var> =
                self.outputs.iter().chain(self.updates.iter().map(|(_, e)| e)).cloned().collect();
            for (state, update) in tensorlift_ir::default_updates(&roots, &skip)? {
                targets.push(state.as_shared().expect("a shared state").clone());
                self.updates.push((state, update));
            }
        }
        let mut roots: Vec<Var> = self.outputs.clone();
        roots.extend(self.updates.iter().map(|(_, e)| e.clone()));
        let strict = self.on_unused_input == OnUnusedInput::Raise;
        // The shortcut by variable identity skips building the graph, and so reading the
        // names: once some variable has been renamed (`Var::set_name`), a graph built before
        // may show an old name, so the graph is built again (the graph cache, keyed by
        // contents and names, still finds the compiled form).
        let vars_key = (self.givens.is_empty() && tensorlift_ir::var::renames() == 0)
            .then(|| crate::cache::VarsKey::new(&self.inputs, &roots, &self.opt, self.mode, strict));
        if let Some(compiled) = vars_key.as_ref().and_then(crate::cache::by_vars) {
            return Ok(self.finish(targets, compiled));
        }
        let held: Vec<Var> = self.inputs.iter().chain(&roots).cloned().collect();
        if !self.givens.is_empty() {
            roots = clone_replace(&roots, &self.givens)?;
        }
        let graph = FunctionGraph::from_vars(&self.inputs, &roots)?;
        // Unused inputs are judged on the graph as written (as Theano does): an input the
        // optimizer finds irrelevant (the gradient of a linear function) is still "used".
        if self.on_unused_input == OnUnusedInput::Raise {
            for (k, &id) in graph.inputs().iter().enumerate() {
                if graph.uses(id).is_empty() && !graph.outputs().contains(&id) {
                    return Err(Error::UnusedInput(self.inputs[k].describe()));
                }
            }
        }
        let compiled = crate::cache::compiled(graph, &self.opt, self.mode)?;
        if let Some(key) = vars_key {
            crate::cache::remember_vars(key, held, compiled.clone());
        }
        Ok(self.finish(targets, compiled))
    }

    /// The function of these options around `compiled`, with an empty buffer pool.
    fn finish(self, targets: Vec<SharedVar>, compiled: Arc<Compiled>) -> Function {
        let g = &compiled.graph;
        let (nodes, vars): (Vec<NodeId>, Vec<SharedVar>) = g
            .ids()
            .filter_map(|id| match &g.node(id).op {
                Op::Shared(s) => Some((id, s.clone())),
                _ => None,
            })
            .unzip();
        let plain_f64 = self.mode == Mode::Jit
            && !self.profile
            && compiled.fast.as_ref().is_some_and(|p| p.scalar().is_some())
            && targets.is_empty()
            && vars.is_empty()
            && g.outputs().len() == 1
            && g.outputs().iter().all(|&o| g.ty(o).dtype == DType::F64)
            && self.inputs.iter().all(|v| v.dtype() == DType::F64);
        let n_targets = targets.len();
        // The fast path skips the snapshot and the profile: only without shared variables.
        let fast = self.mode == Mode::Jit
            && !self.profile
            && compiled.fast.is_some()
            && targets.is_empty()
            && vars.is_empty();
        Function {
            fast,
            plain_f64,
            reads: SharedReads { nodes, vars },
            name: self.name,
            inputs: self.inputs,
            n_outputs: self.outputs.len(),
            targets,
            compiled,
            mode: self.mode,
            allow_input_downcast: self.allow_input_downcast,
            profile: self.profile.then(Arc::default),
            pool: Arc::default(),
            spares: (0..n_targets).map(|_| Mutex::default()).collect(),
            last: Arc::default(),
        }
    }
}

/// A compiled function. Call it with `call`, `call1`, `call_into` or `call_f64`.
#[derive(Clone, Debug)]
pub struct Function {
    name: String,
    inputs: Vec<Var>,
    n_outputs: usize,
    targets: Vec<SharedVar>,
    /// The shared variables the optimized graph reads.
    reads: SharedReads,
    /// The optimized graph and its executor, shared with other functions of the same graph
    /// through the JIT cache.
    pub(crate) compiled: Arc<Compiled>,
    mode: Mode,
    /// Arguments are converted to their input's dtype even with loss.
    allow_input_downcast: bool,
    /// `call_f64` applies: float64 numbers in, one float64 number out, one native program.
    plain_f64: bool,
    /// `call` tries the graph's fast path first (`crate::fast`).
    fast: bool,
    /// The timings of a profiled function, shared by its clones.
    profile: Option<Arc<crate::profile::Profile>>,
    /// The storage of dead intermediates, kept across calls (`crate::pool`); shared by the
    /// clones of this function, freed with the last.
    pool: Arc<crate::pool::BufferPool>,
    /// Per update target, a buffer the next update may be written into: the value the last
    /// update replaced (used only when nothing else holds it by then). Shared by clones.
    spares: Arc<[Mutex<Option<Tensor>>]>,
    /// The last output of the fast path, written again once the caller dropped it.
    last: Arc<crate::recycle::Recycled>,
}

/// The `Op::Shared` nodes of a graph and their variables (`nodes[k]` reads `vars[k]`).
#[derive(Clone, Debug, Default)]
struct SharedReads {
    nodes: Vec<NodeId>,
    vars: Vec<SharedVar>,
}

impl Function {
    /// A builder for a function with options (`updates`, `givens`, `mode`, `name`).
    pub fn builder<I: AsRef<Var>, O: AsRef<Var>>(inputs: &[I], outputs: &[O]) -> FunctionBuilder {
        FunctionBuilder {
            inputs: inputs.iter().map(|v| v.as_ref().clone()).collect(),
            outputs: outputs.iter().map(|v| v.as_ref().clone()).collect(),
            updates: Vec::new(),
            givens: Vec::new(),
            mode: Mode::default(),
            name: "function".into(),
            on_unused_input: OnUnusedInput::default(),
            allow_input_downcast: false,
            profile: false,
            opt: OptConfig::default(),
            default_updates: true,
            no_default_for: Vec::new(),
        }
    }

    /// Calls the function: one argument per input, converted to the input's dtype when
    /// that loses nothing. Returns one tensor per output; then applies the updates.
    pub fn call(&self, args: &[Arg]) -> Result<Vec<Tensor>> {
        if self.fast {
            let c = &*self.compiled;
            let fast = c
                .fast
                .as_ref()
                .and_then(|p| p.call(&c.graph, c.plan.native(), &self.inputs, args, &self.last));
            if let Some(results) = fast {
                return Ok(results);
            }
        }
        self.call_impl(args, None)
    }

    /// Calls a function of 0-d float64 inputs with one 0-d float64 output, no shared
    /// variable and no update on plain numbers, through its one native program: the
    /// cheapest call there is (a binding's `f(2.0)`). `None` when the function is not of
    /// that kind (or is profiled); then `call` it. The result is the one `call` gives.
    pub fn call_f64(&self, args: &[f64]) -> Option<Result<f64>> {
        if !self.plain_f64 {
            return None;
        }
        if args.len() != self.inputs.len() {
            return Some(Err(Error::Arity {
                function: self.name.clone(),
                expected: self.inputs.len(),
                got: args.len(),
            }));
        }
        self.compiled.fast.as_ref()?.scalar()?.run_f64(args).map(Ok)
    }

    /// Calls the function writing its outputs into `outputs`, arrays the caller owns (one
    /// per output, each of the output's dtype and of the shape the call produces): a call
    /// in a loop then allocates no output memory, and the native kernels write in place.
    /// Errors if an array does not fit (then no shared variable changes; outputs written
    /// before the failure keep their new values).
    pub fn call_into(&self, args: &[Arg], outputs: &mut [Tensor]) -> Result<()> {
        if outputs.len() != self.n_outputs {
            return Err(Error::Usage(format!(
                "call_into: {} has {} outputs, {} arrays were given",
                self.name,
                self.n_outputs,
                outputs.len()
            )));
        }
        self.call_impl(args, Some(outputs)).map(drop)
    }

    fn call_impl(&self, args: &[Arg], sinks: Option<&mut [Tensor]>) -> Result<Vec<Tensor>> {
        let Some(profile) = &self.profile else {
            return self.call_checked(args, sinks);
        };
        let started = std::time::Instant::now();
        let result = self.call_checked(args, sinks);
        profile.add_call(started.elapsed());
        result
    }

    fn call_checked(&self, args: &[Arg], sinks: Option<&mut [Tensor]>) -> Result<Vec<Tensor>> {
        if args.len() != self.inputs.len() {
            return Err(Error::Arity {
                function: self.name.clone(),
                expected: self.inputs.len(),
                got: args.len(),
            });
        }
        let mut values = Vec::with_capacity(args.len());
        for (index, (arg, input)) in args.iter().zip(&self.inputs).enumerate() {
            // SAFETY: the call's results are `detached` before it returns, and the values
            // here live only until then: nothing made from a borrowed argument outlives it.
            let t = unsafe { arg.for_call() }.map_err(|e| Error::ArgData {
                function: self.name.clone(),
                index,
                input: input.describe(),
                source: e.clone(),
            })?;
            let ty = input.ty();
            let t = match t.convert_lossless(ty.dtype) {
                Err(_) if self.allow_input_downcast => Ok(t.cast(ty.dtype)),
                converted => converted,
            };
            let t = t.map_err(|source| Error::ArgDType {
                function: self.name.clone(),
                index,
                input: input.describe(),
                expected: ty.dtype,
                source,
            })?;
            if !ty.accepts_shape(t.shape()) {
                return Err(Error::ArgShape {
                    function: self.name.clone(),
                    index,
                    input: input.describe(),
                    expected: ty.to_string(),
                    got: t.shape().to_vec(),
                });
            }
            values.push(t);
        }
        // Optimistic updates (see `SharedVar`'s module doc): read every shared variable at
        // one instant, compute with no lock held, publish every update at one instant if
        // nothing read changed meanwhile, and compute again otherwise.
        let mut sinks = sinks;
        loop {
            let snapshot = SharedVar::snapshot(&self.reads.vars);
            let shared: Vec<(NodeId, Tensor)> =
                self.reads.nodes.iter().copied().zip(snapshot.values().cloned()).collect();
            if self.targets.is_empty() {
                return self.run(&values, &shared, sinks.as_deref_mut(), &mut []).map(detached);
            }
            // In-place updates: each update value is written into a spare buffer of its
            // variable (a value an earlier call replaced, that nothing holds any more), so
            // a training loop allocates nothing for its parameters. No reader ever sees the
            // buffer being written: it is published only by the commit below.
            let mut spares = if self.mode == Mode::Jit { self.take_spares() } else { Vec::new() };
            let mut results = detached(self.run(&values, &shared, sinks.as_deref_mut(), &mut spares)?);
            drop(spares);
            let updates = results.split_off(self.n_outputs);
            // All-or-nothing: check every update value before writing any.
            for (cell, v) in self.targets.iter().zip(&updates) {
                if !cell.ty().accepts_shape(v.shape()) || cell.ty().dtype != v.dtype() {
                    return Err(Error::Update(format!(
                        "the new value of {} has shape {:?}, which does not fit {}",
                        cell.name(),
                        v.shape(),
                        cell.ty()
                    )));
                }
            }
            let writes = self.targets.iter().cloned().zip(updates).collect();
            let committed =
                SharedVar::commit_replacing(&snapshot, writes).map_err(|e| Error::Update(e.to_string()))?;
            if let Some(replaced) = committed {
                drop((shared, snapshot));
                self.keep_spares(replaced);
                return Ok(results);
            }
        }
    }

    /// Runs the graph once on checked arguments and the shared values read: the outputs,
    /// then the update values (possibly borrowing the arguments' data: see [`detached`]).
    fn run(
        &self,
        values: &[Tensor],
        shared: &[(NodeId, Tensor)],
        sinks: Option<&mut [Tensor]>,
        spares: &mut [Option<Tensor>],
    ) -> Result<Vec<Tensor>> {
        let profile = self.profile.as_deref();
        let scalar = match (self.compiled.fast.as_ref().and_then(|p| p.scalar()), self.mode, &sinks, profile)
        {
            (Some(path), Mode::Jit, None, None) => path.run(values.len(), |k| values.get(k)),
            _ => None,
        };
        if let Some(results) = scalar {
            return Ok(results);
        }
        let opts = crate::plan::RunOptions {
            check: self.mode == Mode::Debug,
            pool: Some(&self.pool),
            profile,
            nested: false,
        };
        let graph = &self.compiled.graph;
        let has_spares = spares.iter().any(Option::is_some);
        let Some(outs) = sinks else {
            if !has_spares {
                return self.compiled.plan.run_into(graph, values, shared, &mut [], opts);
            }
            // Outputs into new arrays; update values into the spare buffers.
            let mut offered: Vec<Option<Sink<'_>>> = (0..self.n_outputs).map(|_| None).collect();
            offered.extend(spares.iter_mut().map(|s| s.as_mut().map(Sink::owned)));
            return self.compiled.plan.run_into(graph, values, shared, &mut offered, opts);
        };
        let mut offered: Vec<Option<Sink<'_>>> = outs.iter_mut().map(|t| Some(Sink::owned(t))).collect();
        if has_spares {
            offered.extend(spares.iter_mut().map(|s| s.as_mut().map(Sink::owned)));
        }
        let results = self.compiled.plan.run_into(graph, values, shared, &mut offered, opts)?;
        drop(offered);
        // Outputs not written in place are copied, after checking they fit.
        for (k, (out, r)) in outs.iter_mut().zip(&results).enumerate() {
            if out.dtype() != r.dtype() || out.shape() != r.shape() {
                return Err(Error::Usage(format!(
                    "call_into: output {k} of {} is {} of shape {:?}; the array given is {} of shape {:?}",
                    self.name,
                    r.dtype(),
                    r.shape(),
                    out.dtype(),
                    out.shape()
                )));
            }
            if !out.shares_data(r) {
                out.assign(r)?;
            }
        }
        Ok(results)
    }

    /// The spare buffers of the updated variables that nothing else holds any more, taken
    /// out of the function (one per update target, `None` where there is none).
    fn take_spares(&self) -> Vec<Option<Tensor>> {
        self.spares.iter().map(|slot| lock(slot).take().filter(Tensor::is_unique)).collect()
    }

    /// Keeps the values an update replaced as the next call's spare buffers.
    fn keep_spares(&self, replaced: Vec<Tensor>) {
        for (slot, old) in self.spares.iter().zip(replaced) {
            *lock(slot) = Some(old);
        }
    }

    /// Calls a function of one output: `f.call1(2.0)?`, or with a tuple, one argument per
    /// input, `f.call1((x, 2.0))?`.
    pub fn call1<'a>(&self, args: impl IntoArgs<'a>) -> Result<Tensor> {
        let [out] = self.call_n(args)?;
        Ok(out)
    }

    /// Calls a function of `N` outputs and returns them as an array: one argument or a
    /// tuple of them, one per input (`let [y, dy] = f.call_n((x, 2.0))?`). An error if the
    /// function has another number of outputs.
    pub fn call_n<'a, const N: usize>(&self, args: impl IntoArgs<'a>) -> Result<[Tensor; N]> {
        if self.n_outputs != N {
            let wanted = match N {
                1 => "call1 needs exactly one output".to_string(),
                _ => format!("call_n::<{N}> needs exactly {N} outputs"),
            };
            return Err(Error::Usage(format!("{wanted}; {} has {}", self.name, self.n_outputs)));
        }
        let out = self.call(&args.into_args())?;
        out.try_into()
            .map_err(|v: Vec<Tensor>| Error::Usage(format!("{} returned {} outputs", self.name, v.len())))
    }
    /// The optimized graph that runs (Theano's `f.maker.fgraph`): its outputs are the
    /// function's outputs followed by the update values.
    pub fn optimized_graph(&self) -> &FunctionGraph {
        &self.compiled.graph
    }

    /// The timings of a function built with `FunctionBuilder::profile(true)`.
    pub fn profile(&self) -> Option<&crate::profile::Profile> {
        self.profile.as_deref()
    }

    /// Theano's profile summary of a profiled function (`None` if it is not profiled).
    pub fn profile_summary(&self) -> Option<String> {
        self.profile.as_ref().map(|p| p.summary(&self.name, &self.compiled.graph))
    }

    /// True when every value of the optimized graph is 0-d: a call is then a few hundred
    /// nanoseconds of work whatever its arguments (a binding need not release a lock
    /// around it).
    pub fn is_scalar(&self) -> bool {
        let g = &self.compiled.graph;
        g.toposort().into_iter().all(|id| g.ty(id).ndim() == 0)
    }

    /// Every rewrite the optimizer applied to this function's graph.
    pub fn rewrite_trace(&self) -> &RewriteTrace {
        &self.compiled.trace
    }

    /// The graph nodes of the function's outputs (Theano's `f.maker.fgraph.outputs`).
    pub fn outputs(&self) -> &[NodeId] {
        &self.compiled.graph.outputs()[..self.n_outputs]
    }

    /// `pp` of output `k` of the optimized graph: the function's outputs, then its update
    /// values. Errors if there is no output `k`.
    pub fn pp_output(&self, k: usize) -> Result<String> {
        let g = &self.compiled.graph;
        let &id = g.outputs().get(k).ok_or_else(|| {
            Error::Usage(format!(
                "pp_output({k}): {} has {} outputs and {} updates",
                self.name,
                self.n_outputs,
                self.targets.len()
            ))
        })?;
        Ok(tensorlift_ir::pp_graph(g, id))
    }

    /// `debugprint` of the optimized graph.
    pub fn debugprint(&self) -> String {
        tensorlift_ir::debugprint_graph(&self.compiled.graph)
    }

    /// The function's name (`"function"` unless the builder gave one).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared inputs.
    pub fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    /// Test hook: compiles `program` and runs it in place of the native kernel of node
    /// `node` of the optimized graph, in this function only (tests of `Mode::Debug` plant a
    /// wrong kernel with it). Errors if the program does not compile.
    #[doc(hidden)]
    pub fn replace_native_kernel(&mut self, node: NodeId, program: &ScalarProgram) -> Result<()> {
        let kernel = tensorlift_jit::compile_elementwise(program)
            .map_err(|source| Error::Jit { context: "replace_native_kernel", source: Box::new(source) })?;
        let mut native = self.compiled.plan.clone().into_native();
        native.replace(node, kernel);
        let plan =
            crate::plan::Plan::with_kernels(&self.compiled.graph, native).loops_of(&self.compiled.plan);
        self.compiled = Arc::new(Compiled {
            user_graph: self.compiled.user_graph.clone(),
            graph: self.compiled.graph.clone(),
            trace: self.compiled.trace.clone(),
            plan,
            fast: None,
        });
        Ok(())
    }

    /// How many native results reused the storage of a dead intermediate (kept across
    /// calls) and how many were allocated, over every call so far of this function and its
    /// clones (`Mode::Jit`; zero for the interpreter).
    pub fn buffer_stats(&self) -> crate::BufferStats {
        self.pool.stats()
    }

    /// Number of fused nodes running as native code (0 unless `Mode::Jit`).
    pub fn native_kernel_count(&self) -> usize {
        self.compiled.plan.native().len()
    }

    /// How often this function's native elementwise kernels ran, by the path the layout of
    /// their inputs took (all zero unless `Mode::Jit` or `Mode::Debug`). The counts belong
    /// to the compiled graph, which functions built from the same graph share (the JIT
    /// cache), and cover every call since it was compiled.
    pub fn native_runs(&self) -> crate::NativeRuns {
        self.compiled.plan.native().runs()
    }

    /// The Cranelift IR of each native kernel, with the node it computes (`Mode::Jit`).
    pub fn clif(&self) -> Vec<(String, String)> {
        self.compiled.plan.native().clif(&self.compiled.graph)
    }

    /// The execution mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// True when the optimized graph reads shared variable `v`.
    pub fn reads_shared(&self, v: &SharedVar) -> bool {
        self.compiled
            .graph
            .ids()
            .any(|id| matches!(&self.compiled.graph.node(id).op, Op::Shared(s) if s == v))
    }
}

/// Locks a spare-buffer slot; a panic while it was held leaves an `Option` that is still
/// whole, so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A function bound for calls in a loop (`Function::caller`): it keeps the arrays of its
/// last results and writes the next call's results into them (`Function::call_into`)
/// while the arguments keep their shapes, so a loop allocates no output memory; a call
/// with other shapes makes new arrays. The results stay readable until the next call.
///
/// ```
/// use tensorlift_ir::{dvector, exp, Arg};
/// let x = dvector("x");
/// let f = tensorlift_runtime::function(&[&x], &[exp(&x) * 2.0])?;
/// let mut calls = f.caller();
/// for k in 0..3 {
///     let out = calls.call(&[Arg::from(vec![k as f64; 4])])?;
///     assert_eq!(out[0].to_f64_vec()[0], 2.0 * (k as f64).exp());
/// }
/// # Ok::<(), tensorlift_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct Caller<'f> {
    function: &'f Function,
    /// The last results, and the argument shapes they were computed for.
    outputs: Vec<Tensor>,
    shapes: Vec<Vec<usize>>,
}

impl Function {
    /// This function bound for repeated calls that reuse their output arrays.
    pub fn caller(&self) -> Caller<'_> {
        Caller { function: self, outputs: Vec::new(), shapes: Vec::new() }
    }
}

impl Caller<'_> {
    /// Calls the function (its updates apply as with `call`); the results, one per
    /// output, are readable until the next call.
    pub fn call(&mut self, args: &[Arg]) -> Result<&[Tensor]> {
        let same = self.shapes.len() == args.len()
            && args.iter().zip(&self.shapes).all(|(a, s)| a.shape().is_ok_and(|t| t == &s[..]));
        if same && !self.outputs.is_empty() {
            self.function.call_into(args, &mut self.outputs)?;
        } else {
            self.outputs = self.function.call(args)?;
            // Arrays of their own, so that the next calls write in place.
            for t in &mut self.outputs {
                if !t.is_unique() {
                    *t = t.deep_copy();
                }
            }
            self.shapes = args.iter().map(|a| a.shape().map(<[usize]>::to_vec).unwrap_or_default()).collect();
        }
        Ok(&self.outputs)
    }

    /// The last call's results (empty before the first call).
    pub fn outputs(&self) -> &[Tensor] {
        &self.outputs
    }
}

/// A call's results with data of their own: an output or update value that reads an
/// argument's borrowed data (the argument itself, a view of it) is copied, so nothing a
/// call returns or stores outlives the borrows of its arguments (what makes borrowing an
/// argument sound, see `Arg`).
fn detached(results: Vec<Tensor>) -> Vec<Tensor> {
    results.into_iter().map(Tensor::detach).collect()
}
