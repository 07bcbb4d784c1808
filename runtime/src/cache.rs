//! The process-wide JIT cache: compiled graphs and native kernels, shared by every
//! `Function` that needs them.
//!
//! Two levels, both thread-safe:
//!
//! - **Graphs.** Building a function optimizes its graph and compiles its fused nodes. The
//!   result (optimized graph, rewrite trace, prepared executor with its kernels) is kept
//!   under a structural key of the graph *as written*: every node's op and the positions of
//!   its inputs, in a depth-first order from the outputs (so the order in which the user
//!   built the expression does not matter), the declared input types, the node names (they
//!   show in `pp` of the result), the optimizer options and the mode. Building the same
//!   function again is a lookup. The graph cache keeps the [`GRAPH_CAPACITY`] most recently
//!   used entries.
//! - **Kernels** (`kernel_cache`, below the executor that uses it): a native kernel is
//!   compiled once per scalar program and host, and lives while some compiled graph uses it.
//! - **Variables.** Rebuilding a function from the very same `Var`s (same inputs, outputs,
//!   updates, options) skips even building the graph: a map keyed by the variables'
//!   identities, holding them, in front of the graph cache.
//!
//! [`cache_stats`] reports hits, misses, compile counts and time; [`clear_cache`] empties
//! both levels (functions alive keep their kernels).

use crate::error::Result;
use crate::kernel_cache;
use crate::mode::Mode;
use crate::plan::Plan;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use tensorlift_ir::{FunctionGraph, NodeId, Op, TensorType, Var};
use tensorlift_opt::{optimize, OptConfig, RewriteTrace};

/// Compiled graphs kept by the graph cache (least recently used evicted first).
pub const GRAPH_CAPACITY: usize = 256;

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
    /// Total time spent compiling kernels, in nanoseconds.
    pub kernel_compile_ns: u64,
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

/// The structural key of a graph as written; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct GraphKey {
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
        GraphKey {
            nodes,
            inputs: g.inputs().iter().map(|&i| at(i)).collect(),
            outputs: g.outputs().iter().map(|&o| at(o)).collect(),
            input_types: g.inputs().iter().map(|&i| g.ty(i).clone()).collect(),
            options: format!("{opt:?}"),
            mode,
        }
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

#[derive(Default)]
struct GraphCache {
    /// Each entry with the tick of its last use.
    map: HashMap<GraphKey, (Arc<Compiled>, u64)>,
    /// By variable identity, with the variables held and the tick of the last use.
    by_vars: HashMap<VarsKey, (Vec<Var>, Arc<Compiled>, u64)>,
    tick: u64,
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

/// The compiled graph of a function built before from the same variables, if cached.
pub(crate) fn by_vars(key: &VarsKey) -> Option<Arc<Compiled>> {
    let c = cache();
    let mut table = lock(&c.graphs);
    table.tick += 1;
    let tick = table.tick;
    let (_, compiled, used) = table.by_vars.get_mut(key)?;
    *used = tick;
    c.counters.graph_hits.fetch_add(1, Relaxed);
    Some(compiled.clone())
}

/// Remembers the compiled graph of the function built from `vars` (inputs and roots).
pub(crate) fn remember_vars(key: VarsKey, vars: Vec<Var>, compiled: Arc<Compiled>) {
    let mut table = lock(&cache().graphs);
    table.tick += 1;
    let tick = table.tick;
    table.by_vars.insert(key, (vars, compiled, tick));
    if table.by_vars.len() > GRAPH_CAPACITY {
        let oldest = table.by_vars.iter().min_by_key(|(_, (_, _, used))| *used).map(|(k, _)| k.clone());
        if let Some(old) = oldest {
            table.by_vars.remove(&old);
        }
    }
}

/// The compiled form of `graph` (as written) for `opt` and `mode`: from the cache, or
/// optimized and compiled now and cached.
pub(crate) fn compiled(graph: FunctionGraph, opt: &OptConfig, mode: Mode) -> Result<Arc<Compiled>> {
    let c = cache();
    let key = GraphKey::new(&graph, opt, mode);
    {
        let mut table = lock(&c.graphs);
        table.tick += 1;
        let tick = table.tick;
        if let Some((hit, used)) = table.map.get_mut(&key) {
            *used = tick;
            c.counters.graph_hits.fetch_add(1, Relaxed);
            return Ok(hit.clone());
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
    let fast = match mode {
        Mode::Jit => {
            let scalar = crate::scalar::ScalarPath::new(&optimized.graph);
            crate::fast::FastPath::new(&optimized.graph, plan.native(), scalar)
        }
        Mode::Interp | Mode::Debug => None,
    };
    let compiled =
        Arc::new(Compiled { user_graph: graph, graph: optimized.graph, trace: optimized.trace, plan, fast });
    let mut table = lock(&c.graphs);
    table.tick += 1;
    let tick = table.tick;
    table.map.insert(key, (compiled.clone(), tick));
    if table.map.len() > GRAPH_CAPACITY {
        // Evict the least recently used (a scan, on misses only).
        let oldest = table.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
        if let Some(old) = oldest {
            table.map.remove(&old);
            c.counters.graph_evictions.fetch_add(1, Relaxed);
        }
    }
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
