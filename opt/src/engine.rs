//! The rewrite engine: a `Rule` is a named local rewrite (`fn` from a node to its
//! replacement); `run_phase` applies a phase's rules to every live node until nothing
//! changes (the rules of each phase are the pipeline's, in the crate root), guarding each replacement (same dtype, rank and broadcast pattern) and recording
//! it in the trace.

use crate::pattern::{compatible, Rw};
pub use crate::phase::Phase;
use crate::trace::{RewriteTrace, TraceEntry};
use crate::OptConfig;
use tensorlift_ir::{pp_graph_depth, FunctionGraph, GraphError, NodeId, Op};

/// A named local rewrite.
#[derive(Clone, Copy)]
pub struct Rule {
    /// The name traces, exclusions and golden tests use.
    pub name: &'static str,
    /// True when the rewrite may change results beyond rounding (runs only with fast_math).
    pub fast_math: bool,
    /// The rewrite: `Some(replacement)` for a node it applies to. It may add nodes to the
    /// graph (through `Rw`), but must not replace anything itself.
    pub apply: fn(&mut Rw<'_>, NodeId) -> Option<NodeId>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rule({})", self.name)
    }
}

/// Depth of the expressions shown in the trace.
const TRACE_DEPTH: usize = 3;

/// Largest scalar program the trace prints in full; a node whose expression holds a larger
/// one is shown by its description (`<composite result %12>`): printing it would cost more
/// than the rewrite.
const TRACE_PROGRAM_OPS: usize = 32;

/// Most nodes `trace_text` looks at for large programs before it shows the description.
const TRACE_WALK_LIMIT: usize = 64;

/// The text of `id` in the trace: its expression to `TRACE_DEPTH` levels, or its
/// description when that would print a program of more than `TRACE_PROGRAM_OPS` ops.
fn trace_text(g: &FunctionGraph, id: NodeId) -> String {
    let mut walk = vec![(id, TRACE_DEPTH)];
    let mut seen = 0;
    while let Some((n, depth)) = walk.pop() {
        seen += 1;
        let big = match &g.node(n).op {
            Op::Composite(p) | Op::FusedReduce { body: p, .. } => p.nodes.len() > TRACE_PROGRAM_OPS,
            _ => false,
        };
        if big || seen > TRACE_WALK_LIMIT {
            return g.describe(id);
        }
        if depth > 0 {
            walk.extend(g.node(n).inputs.iter().map(|&i| (i, depth - 1)));
        }
    }
    pp_graph_depth(g, id, TRACE_DEPTH)
}

/// Runs one phase to a fixpoint (or until `budget` rewrites are used up); returns the
/// number of passes over the graph.
pub fn run_phase(
    g: &mut FunctionGraph,
    phase: Phase,
    rules: &[Rule],
    config: &OptConfig,
    trace: &mut RewriteTrace,
    budget: &mut usize,
) -> Result<usize, GraphError> {
    let rules: Vec<&Rule> = rules
        .iter()
        .filter(|r| (config.fast_math || !r.fast_math) && !config.excluded.iter().any(|e| e == r.name))
        .collect();
    let scratch = std::cell::RefCell::new(crate::scratch::Scratch::default());
    let mut passes = 0;
    loop {
        passes += 1;
        let mut changed = false;
        for id in g.toposort() {
            if *budget == 0 {
                return Ok(passes);
            }
            let live = g.use_count(id) > 0 || g.outputs().contains(&id);
            if !live || g.node(id).op.is_leaf() {
                continue;
            }

            for rule in &rules {
                let mut rw = Rw::new(g, config, &scratch);
                let Some(new) = (rule.apply)(&mut rw, id) else { continue };
                let also = std::mem::take(&mut rw.also);
                let pairs = std::iter::once((id, new)).chain(also);
                let pairs: Vec<(NodeId, NodeId)> = pairs.collect();
                if pairs.iter().any(|&(old, new)| new == old || !compatible(g.ty(old), g.ty(new))) {
                    continue;
                }
                for (old, new) in pairs {
                    let (before, after) = (trace_text(g, old), trace_text(g, new));
                    g.replace(old, new)?;
                    trace.entries.push(TraceEntry { phase, rule: rule.name, before, after });
                }
                *budget -= 1;
                changed = true;
                break;
            }
        }
        if !changed {
            return Ok(passes);
        }
    }
}
