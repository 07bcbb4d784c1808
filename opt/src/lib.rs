//! `tensorlift-opt`: the graph optimizer. Passes are named and run in phases over a
//! `FunctionGraph` (merge → canonicalize → stabilize → specialize → fusion → cleanup).
//!
//! Today the pipeline holds the phase that every later one builds on: `merge`, which the
//! arena already performs by hash-consing as nodes are added, followed by dead-node removal.
//! The rewrite phases land behind the same entry point, so callers need not change.
#![warn(missing_docs)]

use tensorlift_ir::FunctionGraph;

/// Options of the pipeline.
#[derive(Clone, Debug, Default)]
pub struct OptConfig {
    /// Skip every rewrite: the graph is only compacted (Theano's `optimizer=None`).
    pub disabled: bool,
}

/// Runs the pipeline on `g` and returns the optimized graph, compacted (live nodes only,
/// in topological order).
pub fn optimize(g: &FunctionGraph, _config: &OptConfig) -> FunctionGraph {
    // Merge happened while the graph was built (the arena hash-conses equal nodes);
    // compacting drops nodes no output needs.
    g.compact().0
}
