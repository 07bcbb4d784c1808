//! `tensorlift-opt`: the graph optimizer.
//!
//! Named local rewrites over a `FunctionGraph`, run in phases as in Theano:
//! merge (the arena hash-conses; equal constants and nodes are one) → `canonicalize` →
//! `stabilize` → `specialize` → `fusion` → `multi_output` → `lower` → cleanup. Each phase runs its rules to a fixpoint
//! under a step limit, and every rewrite that fires is recorded in a `RewriteTrace`.
//!
//! - `phase`: the phases in pipeline order; `Phase::rules` (here) says what each runs.
//! - `engine`: the rule type, the phase runner, the replacement guard.
//! - `pattern`: helpers rules use to read and build nodes.
//! - `scratch`: per-node working storage rules borrow from their phase.
//! - `canonicalize`, `stabilize`, `specialize`, `fusion`, `lower`: the rules of each phase.
//! - `scan`: rewrites of loops (`scan_merge`, run with canonicalization).
//! - `shape`: shape inference (Theano's `ShapeFeature`) and the canonicalization rules
//!   that use it; `symbolic`: the symbolic lengths it computes.
//! - `trace`: the record of what fired, and of what each phase cost.
//!
//! Rewrites that can change IEEE results beyond rounding (`x*0 → 0`, `x-x → 0`,
//! `x/x → 1`) are marked `fast_math` and run only when `OptConfig::fast_math` is set
//! (off by default, unlike Theano): NaN and infinity must keep flowing as IEEE says. So does
//! regrouping the non-constant terms of a sum or product (`a + (b + c) → a + b + c`, see
//! `pattern::Rw::terms`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod canonicalize;
pub mod engine;
pub mod fusion;
pub mod lower;
pub mod pattern;
pub mod phase;
pub mod scan;
pub mod scratch;
pub mod shape;
pub mod specialize;
pub mod stabilize;
pub mod symbolic;
pub mod trace;

pub use engine::Rule;
pub use phase::Phase;
pub use trace::{PhaseStats, RewriteTrace, TraceEntry};

use tensorlift_ir::{FunctionGraph, GraphError};

/// Most inputs of one kernel the optimizer builds: an n-ary add or mul with more terms
/// becomes a left-nested chain of nodes of at most this many (the same order of
/// evaluation), and fusion stops growing a `Composite` before it reads more. Every input
/// of a native kernel is a live pointer and a slot of its frame: compile time grows faster
/// than the input count, and so does the stack the kernel needs.
pub const MAX_KERNEL_INPUTS: usize = 32;

/// Most scalar ops of a multi-output `Composite` built by merging two kernels
/// (`composite_extra_output`): each merge copies both programs, so without a bound a chain
/// of kernels would merge into one in time quadratic in its length.
pub const MAX_MERGED_OPS: usize = 64;

impl Phase {
    /// The phase's rules, in the order they are tried on each node.
    pub fn rules(self) -> &'static [Rule] {
        match self {
            Phase::Canonicalize => canonicalize::RULES,
            Phase::Stabilize => stabilize::RULES,
            Phase::Specialize => specialize::RULES,
            Phase::Fusion => fusion::RULES,
            Phase::MultiOutput => fusion::MULTI_OUTPUT_RULES,
            Phase::Lower => lower::RULES,
        }
    }
}

/// Every rule of every phase, for listing and validating exclusions.
pub fn all_rules() -> impl Iterator<Item = (Phase, &'static Rule)> {
    Phase::ALL.into_iter().flat_map(|p| p.rules().iter().map(move |r| (p, r)))
}

/// Options of the pipeline.
#[derive(Clone, Debug)]
pub struct OptConfig {
    /// Skip every rewrite: the graph is only compacted (Theano's `optimizer=None`).
    pub disabled: bool,
    /// Allow rewrites that may change results beyond rounding (`x*0 → 0`, `x-x → 0`).
    pub fast_math: bool,
    /// Rewrites switched off by name.
    pub excluded: Vec<String>,
    /// Phases switched off.
    pub skipped_phases: Vec<Phase>,
    /// Stop after this many rewrites in all (for bisecting a bad rewrite).
    pub step_limit: usize,
    /// Run the verifier after every phase.
    pub verify: bool,
    /// Print the trace and the phase profile to stderr after optimizing (the
    /// `trace` setting of `tensorlift_ir::config`, which the runtime passes down).
    pub trace: bool,
}

impl Default for OptConfig {
    fn default() -> Self {
        OptConfig {
            disabled: false,
            fast_math: false,
            excluded: Vec::new(),
            skipped_phases: Vec::new(),
            step_limit: 1_000_000,
            verify: cfg!(debug_assertions),
            trace: false,
        }
    }
}

impl OptConfig {
    /// The default options with `fast_math` on.
    pub fn fast_math() -> Self {
        OptConfig { fast_math: true, ..Self::default() }
    }

    /// The options with one rewrite switched off.
    pub fn excluding(mut self, rule: &str) -> Self {
        self.excluded.push(rule.to_string());
        self
    }

    /// The options with one phase switched off.
    pub fn skipping(mut self, phase: Phase) -> Self {
        self.skipped_phases.push(phase);
        self
    }
}

/// The result of the pipeline: the optimized graph (compacted) and what fired.
#[derive(Clone, Debug)]
pub struct Optimized {
    /// The optimized graph: live nodes only, in topological order.
    pub graph: FunctionGraph,
    /// Every rewrite that fired, in order.
    pub trace: RewriteTrace,
}

/// Runs the pipeline on `g`. With `config.trace` the trace and the phase profile are also
/// printed to stderr.
pub fn optimize(g: &FunctionGraph, config: &OptConfig) -> Result<Optimized, GraphError> {
    let mut graph = g.compact().0;
    let mut trace = RewriteTrace::default();
    if !config.disabled {
        if split_wide_nodes(&mut graph)? {
            // The split nodes are detached: the phases (and the executor) see only live ones.
            graph.compact_in_place();
        }
        let mut budget = config.step_limit;
        for phase in Phase::ALL {
            if config.skipped_phases.contains(&phase) {
                continue;
            }
            let (fired, len, start) = (trace.entries.len(), graph.len(), std::time::Instant::now());
            let passes =
                engine::run_phase(&mut graph, phase, phase.rules(), config, &mut trace, &mut budget)?;
            // A phase that neither rewrote nor added a node leaves the graph compact.
            if trace.entries.len() > fired || graph.len() > len {
                graph.compact_in_place();
            }
            let rewrites = trace.entries.len() - fired;
            trace.phases.push(PhaseStats { phase, passes, rewrites, nodes: len, time: start.elapsed() });
            if config.verify {
                graph.verify()?;
            }
        }
    }
    graph.shrink_to_fit();
    if config.trace {
        eprint!("{trace}{}", trace.profile());
    }
    Ok(Optimized { graph, trace })
}

/// Splits every elementwise add or mul of more than `MAX_KERNEL_INPUTS` operands (a
/// gradient's accumulated sum can have thousands) into a left-nested chain of nodes of at
/// most that many, which evaluates in the same order. Done once before the phases: every
/// replacement of an operand rehashes its readers, so one node with n operands would make
/// the phases quadratic in n. True when some node was split.
fn split_wide_nodes(g: &mut FunctionGraph) -> Result<bool, GraphError> {
    use tensorlift_ir::{Op, ScalarOp};
    let mut split = false;
    for id in g.toposort() {
        let node = g.node(id);
        let wide = matches!(node.op, Op::Elemwise(ScalarOp::Add | ScalarOp::Mul))
            && node.inputs.len() > MAX_KERNEL_INPUTS;
        if !wide {
            continue;
        }
        let (op, terms) = (node.op.clone(), node.inputs.to_vec());
        let mut acc = g.add_node(op.clone(), terms[..MAX_KERNEL_INPUTS].to_vec())?;
        for chunk in terms[MAX_KERNEL_INPUTS..].chunks(MAX_KERNEL_INPUTS - 1) {
            let mut ins = Vec::with_capacity(chunk.len() + 1);
            ins.push(acc);
            ins.extend_from_slice(chunk);
            acc = g.add_node(op.clone(), ins)?;
        }
        g.replace(id, acc)?;
        split = true;
    }
    Ok(split)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// #12 item 21: an add of 100 operands is a left-nested chain of nodes of at most
    /// `MAX_KERNEL_INPUTS` operands before any phase runs, in the same order.
    #[test]
    fn wide_sums_are_split_before_the_phases() {
        let mut text = String::from("graph {\n");
        for i in 0..100 {
            text.push_str(&format!("  %{i} = input \"x{i}\" : float64[?]\n"));
        }
        let all: Vec<String> = (0..100).map(|i| format!("%{i}")).collect();
        text.push_str(&format!("  %100 = add({}) : float64[?]\n  return %100\n}}\n", all.join(", ")));
        let g = FunctionGraph::parse(&text).expect("parses");
        let config = OptConfig { skipped_phases: Phase::ALL.to_vec(), ..OptConfig::default() };
        let opt = optimize(&g, &config).expect("optimizes");
        let ids = opt.graph.toposort();
        let adds: Vec<usize> =
            ids.iter().map(|&id| opt.graph.node(id).inputs.len()).filter(|&n| n > 0).collect();
        assert_eq!(adds, [32, 32, 32, 7]);
        assert!(opt.trace.is_empty());
    }

    /// The profile has one record per phase run, in order, whose rewrites add up to the
    /// trace and whose node counts are the graph's as each phase began.
    #[test]
    fn the_profile_accounts_for_every_phase_and_rewrite() {
        let x = tensorlift_ir::dvector("x");
        let y = ((&x * 2.0).exp() - 1.0) * (&x - &x * 1.0);
        let g = FunctionGraph::from_vars(&[&x], &[y]).expect("builds");
        let config = OptConfig { excluded: Vec::new(), ..OptConfig::default() }.skipping(Phase::Stabilize);
        let opt = optimize(&g, &config).expect("optimizes");
        let phases: Vec<Phase> = opt.trace.phases.iter().map(|p| p.phase).collect();
        assert_eq!(
            phases,
            [Phase::Canonicalize, Phase::Specialize, Phase::Fusion, Phase::MultiOutput, Phase::Lower]
        );
        assert_eq!(opt.trace.phases.iter().map(|p| p.rewrites).sum::<usize>(), opt.trace.len());
        assert!(opt.trace.phases.iter().all(|p| p.passes >= 1));
        assert!(opt.trace.phases[0].rewrites > 0 && opt.trace.phases[2].rewrites == 1);
        assert_eq!(opt.trace.phases[0].nodes, g.len());
        assert_eq!(opt.trace.profile().lines().count(), 5);
        assert!(opt.trace.profile().starts_with("canonicalize: "), "{}", opt.trace.profile());
    }
}
