//! The process-wide JIT cache: compiled graphs and native kernels, shared by every
//! `Function` that needs them.
//!
//! Three tables, all thread-safe:
//!
//! - **Graphs.** Building a function optimizes its graph and compiles its fused nodes. The
//!   result (optimized graph, rewrite trace, prepared executor with its kernels) is kept
//!   under a structural key of the graph *as written*: every node's op and the positions of
//!   its inputs, in a depth-first order from the outputs (so the order in which the user
//!   built the expression does not matter), the declared input types, the node names (they
//!   show in `pp` of the result), the optimizer options and the mode. Building the same
//!   function again is a lookup.
//! - **Kernels** (`kernel_cache`, below the executor that uses it): a native kernel is
//!   compiled once per scalar program and host, and lives while some compiled graph uses it.
//! - **Variables.** Rebuilding a function from the very same `Var`s (same inputs, outputs,
//!   updates, options) skips even building the graph: a map keyed by the variables'
//!   identities, in front of the graph cache.
//!
//! # What is kept, and for how long
//!
//! A compiled graph holds the constants of its graph and the shared variables it reads
//! (and so their values). The graph cache holds each entry strongly, and evicts, on every
//! miss, the least recently used entries:
//!
//! - beyond [`GRAPH_CAPACITY`] entries, whether a function uses them or not (a function
//!   keeps its own compiled graph: eviction only stops the sharing);
//! - while the entries that **no function uses** (only the cache holds them: *idle*) hold
//!   more than [`IDLE_BYTES`] of constants and shared values, each buffer counted once and
//!   shared values measured at that moment.
//!
//! So a graph in use stays a lookup for as long as a function uses it; a dropped one stays
//! a lookup while it is among the recently used that fit the budget, and then frees its
//! constants and its hold on its shared variables (at the latest on the next graph built).
//! The variables table holds nothing strongly: weak handles on the variables (which keep
//! their addresses, the key, from being reused, but not their constants or shared values)
//! and on the compiled graph, so it finds a graph only while a function or the graph cache
//! still holds it, and entries that can no longer be found are dropped as the table grows
//! past [`GRAPH_CAPACITY`] entries.
//!
//! [`cache_stats`] reports hits, misses, evictions, compile counts and time; [`clear_cache`]
//! empties every table (functions alive keep their graphs and kernels).

use crate::error::Result;
use crate::kernel_cache;
use crate::mode::Mode;
use crate::plan::Plan;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Weak;
use std::sync::{Arc, Mutex, OnceLock};
use tensorlift_ir::{FunctionGraph, NodeId, Op, SharedVar, Tensor, TensorType, Var, WeakVar};
use tensorlift_opt::{optimize, OptConfig, RewriteTrace};

/// Compiled graphs kept by the graph cache (least recently used evicted first).
pub const GRAPH_CAPACITY: usize = 256;

/// Most bytes of constants and shared values the graph cache keeps for graphs no function
/// uses any more (least recently used evicted first). The cache is there so that building
/// a function again — in a loop, a re-run notebook cell, a model rebuilt with the same
/// parameters — is a lookup rather than a compilation; that needs the recently dropped
/// graphs, not every graph ever built. 64 MiB keeps many recently dropped functions of
/// ordinary size (and a few with large constants) while bounding what the process keeps
/// resident for functions nobody holds: before this bound, 256 dropped functions holding
/// 10 MB constants each kept 2.5 GB resident.
pub const IDLE_BYTES: usize = 64 << 20;

/// What building a function produces: shared between functions of the same graph.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// The graph as written (after `givens`), for `Stage::Graph`.
    pub(crate) user_graph: FunctionGraph,
    /// The optimized graph that runs.
    pub(crate) graph: FunctionGraph,
    /// The rewrites that made it.
    pub(crate) trace: RewriteTrace,
    /// The plan a call runs: native kernels in `Mode::Jit` and `Mode::Debug`, the
    /// reference kernels in `Mode::Interp`.
    pub(crate) plan: Plan,
    /// The fast call path, for a graph that is one native step in `Mode::Jit`.
    pub(crate) fast: Option<crate::fast::FastPath>,
}

/// Counters of the JIT cache since the process started (or the last [`clear_cache`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Function builds served from the graph cache (no optimization, no compilation).
    pub graph_hits: u64,
    /// Function builds that optimized and compiled their graph.
    pub graph_misses: u64,
    /// Graphs evicted from the graph cache.
    pub graph_evictions: u64,
    /// Kernels found compiled (by another graph still alive).
    pub kernel_hits: u64,
    /// Kernels compiled by Cranelift.
    pub kernel_compiles: u64,
    /// Total time spent compiling kernels (with their chunk plans), in nanoseconds.
    pub kernel_compile_ns: u64,
    /// Chunk plans compiled with their kernels: the kernels that run long arrays of a
    /// program with transcendental functions chunk by chunk, compiled when the kernel is
    /// (counted in `kernel_compile_ns`), never during a call.
    pub chunk_plans: u64,
    /// Graphs in the graph cache now.
    pub graphs: u64,
    /// Kernels alive now (used by a cached graph or a live function).
    pub kernels: u64,
}

#[derive(Default)]
struct Counters {
    graph_hits: AtomicU64,
    graph_misses: AtomicU64,
    graph_evictions: AtomicU64,
}

/// The structural key of a graph as written; see the module documentation. Hashed once,
/// when made: the key holds the graph's constants, whose hashing is a pass over their data,
/// so the tables hash only the stored hash (equal keys are still compared in full).
#[derive(Clone, Debug)]
struct GraphKey {
    hash: u64,
    parts: KeyParts,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct KeyParts {
    /// Per node in canonical order: its op, its inputs (positions in this list), its name.
    nodes: Vec<(Op, Vec<u32>, Option<String>)>,
    /// Positions of the graph's inputs and outputs in `nodes`.
    inputs: Vec<u32>,
    outputs: Vec<u32>,
    /// Declared types of the inputs (their static shapes matter to the optimizer).
    input_types: Vec<TensorType>,
    options: String,
    mode: Mode,
}

impl PartialEq for GraphKey {
    fn eq(&self, other: &GraphKey) -> bool {
        self.hash == other.hash && self.parts == other.parts
    }
}

impl Eq for GraphKey {}

impl std::hash::Hash for GraphKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl GraphKey {
    fn new(g: &FunctionGraph, opt: &OptConfig, mode: Mode) -> GraphKey {
        let order = g.toposort();
        let mut pos = vec![u32::MAX; g.len()];
        for (k, &id) in order.iter().enumerate() {
            pos[id.index()] = k as u32;
        }
        let at = |id: NodeId| pos[id.index()];
        let nodes = order
            .iter()
            .map(|&id| {
                let n = g.node(id);
                (n.op.clone(), n.inputs.iter().map(|&i| at(i)).collect(), g.name(id).map(String::from))
            })
            .collect();
        let parts = KeyParts {
            nodes,
            inputs: g.inputs().iter().map(|&i| at(i)).collect(),
            outputs: g.outputs().iter().map(|&o| at(o)).collect(),
            input_types: g.inputs().iter().map(|&i| g.ty(i).clone()).collect(),
            options: format!("{opt:?}"),
            mode,
        };
        // FxHash: a multiply per word, about a millisecond for a 10 MB constant.
        GraphKey { hash: rustc_hash::FxBuildHasher.hash_one(&parts), parts }
    }
}

/// The identity of a function's variables: building a function again from the very same
/// `Var`s (the usual way to rebuild one) finds its compiled graph without even building
/// the graph. The entry holds the variables, so their addresses stay theirs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct VarsKey {
    inputs: Vec<usize>,
    roots: Vec<usize>,
    options: String,
    mode: Mode,
    /// Whether unused inputs were refused (the build checks it once).
    strict: bool,
}

impl VarsKey {
    pub(crate) fn new(inputs: &[Var], roots: &[Var], opt: &OptConfig, mode: Mode, strict: bool) -> VarsKey {
        VarsKey {
            inputs: inputs.iter().map(Var::key).collect(),
            roots: roots.iter().map(Var::key).collect(),
            options: format!("{opt:?}"),
            mode,
            strict,
        }
    }
}

/// One compiled graph of the graph cache.
struct Entry {
    compiled: Arc<Compiled>,
    /// The tick of the last use, shared with the `by_vars` entries that lead here (a hit
    /// there is a use of this entry).
    used: Arc<AtomicU64>,
    /// The constant buffers the entry holds (their data address and size in bytes), from
    /// the graph as written and the optimized graph.
    constants: Vec<(usize, usize)>,
    /// The shared variables the entry holds (their values are measured when the cache
    /// evicts: they change).
    shared: Vec<SharedVar>,
}

impl Entry {
    fn new(compiled: Arc<Compiled>, tick: u64) -> Entry {
        let mut constants = Vec::new();
        let mut shared: Vec<SharedVar> = Vec::new();
        for g in [&compiled.user_graph, &compiled.graph] {
            for id in g.ids() {
                match &g.node(id).op {
                    Op::Constant(t) => {
                        let b = buffer_of(t);
                        if !constants.contains(&b) {
                            constants.push(b);
                        }
                    }
                    Op::Shared(v) if !shared.contains(v) => shared.push(v.clone()),
                    _ => {}
                }
            }
        }
        Entry { compiled, used: Arc::new(AtomicU64::new(tick)), constants, shared }
    }

    /// True when no function uses the compiled graph: only this entry holds it.
    fn idle(&self) -> bool {
        Arc::strong_count(&self.compiled) == 1
    }

    /// The buffers the entry holds: its constants', and its shared variables' values now.
    fn buffers(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.constants.iter().copied().chain(self.shared.iter().map(|v| buffer_of(&v.get())))
    }
}

/// The data address and size in bytes of `t`'s buffer (the address tells buffers shared
/// between entries apart from copies).
fn buffer_of(t: &Tensor) -> (usize, usize) {
    (t.data_ptr() as usize, t.len() * t.dtype().size())
}

/// A function's variables and the graph built from them, all held weakly.
struct VarsEntry {
    /// The inputs and roots: weak handles keep their addresses (the key) from being reused
    /// by other variables, without keeping their constants or shared variables alive.
    vars: Vec<WeakVar>,
    compiled: Weak<Compiled>,
    /// The tick of the graph cache's entry, if it is still there.
    used: Weak<AtomicU64>,
    /// The tick of this entry's last use.
    tick: u64,
}

impl VarsEntry {
    /// The compiled graph, if the variables and the graph are still alive.
    fn get(&self) -> Option<Arc<Compiled>> {
        if self.vars.iter().any(|v| v.upgrade().is_none()) {
            return None;
        }
        self.compiled.upgrade()
    }
}

#[derive(Default)]
struct GraphCache {
    map: HashMap<GraphKey, Entry>,
    /// By variable identity.
    by_vars: HashMap<VarsKey, VarsEntry>,
    tick: u64,
}

impl GraphCache {
    fn tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Evicts the least recently used entries beyond [`GRAPH_CAPACITY`], then the least
    /// recently used idle ones while the idle entries hold more than [`IDLE_BYTES`].
    fn evict(&mut self, evictions: &AtomicU64) {
        let mut order: Vec<(u64, &Entry)> = self.map.values().map(|e| (e.used.load(Relaxed), e)).collect();
        order.sort_unstable_by_key(|(used, _)| *used);
        let excess = self.map.len().saturating_sub(GRAPH_CAPACITY);
        let (oldest, rest) = order.split_at(excess);
        // Victims by the address of their compiled graph: removing them by key would compare
        // their constants element by element.
        let mut victims: Vec<*const Compiled> =
            oldest.iter().map(|(_, e)| Arc::as_ptr(&e.compiled)).collect();
        let idle: Vec<(&Entry, Vec<(usize, usize)>)> =
            rest.iter().filter(|(_, e)| e.idle()).map(|(_, e)| (*e, e.buffers().collect())).collect();
        // Each buffer counts once, however many idle entries hold it: (holders, bytes).
        let mut holders: HashMap<usize, (usize, usize)> = HashMap::new();
        let mut held = 0;
        for &(at, bytes) in idle.iter().flat_map(|(_, b)| b) {
            let h = holders.entry(at).or_insert((0, bytes));
            if h.0 == 0 {
                held += bytes;
            }
            h.0 += 1;
        }
        for (entry, buffers) in &idle {
            if held <= IDLE_BYTES {
                break;
            }
            for (at, _) in buffers {
                if let Some(h) = holders.get_mut(at) {
                    h.0 -= 1;
                    if h.0 == 0 {
                        held -= h.1;
                    }
                }
            }
            victims.push(Arc::as_ptr(&entry.compiled));
        }
        if !victims.is_empty() {
            evictions.fetch_add(victims.len() as u64, Relaxed);
            self.map.retain(|_, e| !victims.contains(&Arc::as_ptr(&e.compiled)));
        }
    }
}

struct Cache {
    graphs: Mutex<GraphCache>,
    counters: Counters,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Cache { graphs: Mutex::default(), counters: Counters::default() })
}

/// Locks a cache table; a panic elsewhere while holding it leaves a table that is still
/// consistent (every update is a single insert or remove), so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The compiled graph of a function built before from the same variables, if it is still
/// alive (used by a function, or kept by the graph cache).
pub(crate) fn by_vars(key: &VarsKey) -> Option<Arc<Compiled>> {
    let c = cache();
    let mut table = lock(&c.graphs);
    let tick = table.tick();
    let entry = table.by_vars.get_mut(key)?;
    let compiled = entry.get()?;
    entry.tick = tick;
    if let Some(used) = entry.used.upgrade() {
        used.store(tick, Relaxed);
    }
    c.counters.graph_hits.fetch_add(1, Relaxed);
    Some(compiled)
}

/// Remembers the compiled graph of the function built from `vars` (inputs and roots),
/// holding neither strongly (see the module documentation).
pub(crate) fn remember_vars(key: VarsKey, vars: Vec<Var>, compiled: Arc<Compiled>) {
    let mut table = lock(&cache().graphs);
    let tick = table.tick();
    let used =
        table.map.values().find(|e| Arc::ptr_eq(&e.compiled, &compiled)).map(|e| Arc::downgrade(&e.used));
    let entry = VarsEntry {
        vars: vars.iter().map(Var::downgrade).collect(),
        compiled: Arc::downgrade(&compiled),
        used: used.unwrap_or_default(),
        tick,
    };
    table.by_vars.insert(key, entry);
    if table.by_vars.len() > GRAPH_CAPACITY {
        // Forget the entries that can no longer be found (a variable or the graph dropped),
        // then the least recently used.
        table.by_vars.retain(|_, e| e.get().is_some());
        if table.by_vars.len() > GRAPH_CAPACITY {
            let oldest = table.by_vars.iter().min_by_key(|(_, e)| e.tick).map(|(k, _)| k.clone());
            if let Some(old) = oldest {
                table.by_vars.remove(&old);
            }
        }
    }
}

/// The steps of the scans of `g`, each optimized and compiled as a graph of its own (and
/// cached as one: the same step compiles once).
fn loops(g: &FunctionGraph, opt: &OptConfig, mode: Mode) -> Result<Vec<(NodeId, FunctionGraph, Plan)>> {
    let mut loops = Vec::new();
    for id in g.ids().filter(|&id| !g.is_dead(id)) {
        if let Op::Scan(info) = &g.node(id).op {
            let step = tensorlift_ir::ScanStep::of(info)?;
            let inner = compiled(FunctionGraph::from_vars(&step.inputs, &step.outputs)?, opt, mode)?;
            loops.push((id, inner.graph.clone(), inner.plan.clone()));
        }
    }
    Ok(loops)
}

/// The compiled form of `graph` (as written) for `opt` and `mode`: from the cache, or
/// optimized and compiled now and cached.
pub(crate) fn compiled(graph: FunctionGraph, opt: &OptConfig, mode: Mode) -> Result<Arc<Compiled>> {
    let c = cache();
    let key = GraphKey::new(&graph, opt, mode);
    {
        let mut table = lock(&c.graphs);
        let tick = table.tick();
        if let Some(hit) = table.map.get(&key) {
            hit.used.store(tick, Relaxed);
            c.counters.graph_hits.fetch_add(1, Relaxed);
            return Ok(hit.compiled.clone());
        }
    }
    c.counters.graph_misses.fetch_add(1, Relaxed);
    // Compile outside the lock: other threads keep building other functions meanwhile (two
    // threads building the same new graph both compile it; the second insert wins).
    let optimized = optimize(&graph, opt)?;
    let plan = match mode {
        Mode::Interp => Plan::reference(&optimized.graph),
        Mode::Jit | Mode::Debug => Plan::compile(&optimized.graph),
    };
    let plan = plan.with_loops(&optimized.graph, loops(&optimized.graph, opt, mode)?);
    let fast = match mode {
        Mode::Jit => {
            let scalar = crate::scalar::ScalarPath::new(&optimized.graph, plan.native());
            crate::fast::FastPath::new(&optimized.graph, plan.native(), scalar)
        }
        Mode::Interp | Mode::Debug => None,
    };
    let compiled =
        Arc::new(Compiled { user_graph: graph, graph: optimized.graph, trace: optimized.trace, plan, fast });
    let entry = Entry::new(compiled.clone(), 0);
    let mut table = lock(&c.graphs);
    let tick = table.tick();
    entry.used.store(tick, Relaxed);
    table.map.insert(key, entry);
    // A scan of the table, on misses only.
    table.evict(&c.counters.graph_evictions);
    Ok(compiled)
}

/// The cache's counters and current sizes.
pub fn cache_stats() -> CacheStats {
    let c = cache();
    let graphs = lock(&c.graphs).map.len() as u64;
    let k = kernel_cache::stats();
    let n = &c.counters;
    CacheStats {
        graph_hits: n.graph_hits.load(Relaxed),
        graph_misses: n.graph_misses.load(Relaxed),
        graph_evictions: n.graph_evictions.load(Relaxed),
        kernel_hits: k.hits,
        kernel_compiles: k.compiles,
        kernel_compile_ns: k.compile_ns,
        chunk_plans: k.chunk_plans,
        graphs,
        kernels: k.alive,
    }
}

/// Empties the cache and resets its counters. Functions alive keep what they use; their
/// kernels are freed when they drop.
pub fn clear_cache() {
    let c = cache();
    {
        let mut table = lock(&c.graphs);
        table.map.clear();
        table.by_vars.clear();
    }
    kernel_cache::clear();
    let n = &c.counters;
    for a in [&n.graph_hits, &n.graph_misses, &n.graph_evictions] {
        a.store(0, Relaxed);
    }
}
