//! Per-node timings of a function's calls (Theano's `profile=True`): how often each node of
//! the optimized graph ran and for how long, summed over calls, printed as Theano's
//! profiler prints its "Apply" table.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;
use tensorlift_ir::{FunctionGraph, NodeId};

/// Timings gathered by a profiled function (`FunctionBuilder::profile`).
#[derive(Debug, Default)]
pub struct Profile {
    stats: Mutex<Stats>,
}

#[derive(Debug, Default, Clone)]
struct Stats {
    calls: u64,
    call_time: Duration,
    /// Time and run count per node, indexed by node id.
    nodes: Vec<(Duration, u64)>,
}

/// One row of a profile: a node of the optimized graph.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeTiming {
    /// The node.
    pub node: NodeId,
    /// Total time spent computing it.
    pub time: Duration,
    /// How many times it ran.
    pub runs: u64,
}

impl Profile {
    /// Adds the time of one node's evaluation.
    pub(crate) fn add_node(&self, id: NodeId, time: Duration) {
        let mut s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        if s.nodes.len() <= id.index() {
            s.nodes.resize(id.index() + 1, (Duration::ZERO, 0));
        }
        let slot = &mut s.nodes[id.index()];
        slot.0 += time;
        slot.1 += 1;
    }

    /// Adds one whole call.
    pub(crate) fn add_call(&self, time: Duration) {
        let mut s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        s.calls += 1;
        s.call_time += time;
    }

    /// The number of calls profiled and their total time.
    pub fn calls(&self) -> (u64, Duration) {
        let s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        (s.calls, s.call_time)
    }

    /// The nodes that ran, slowest first.
    pub fn nodes(&self) -> Vec<NodeTiming> {
        let s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<NodeTiming> = s
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, (_, runs))| *runs > 0)
            .filter_map(|(k, &(time, runs))| Some(NodeTiming { node: NodeId::from_index(k)?, time, runs }))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.time));
        rows
    }

    /// Theano's summary: the calls, then one line per node with its share of the time.
    pub fn summary(&self, name: &str, g: &FunctionGraph) -> String {
        let (calls, total) = self.calls();
        let rows = self.nodes();
        let in_nodes: Duration = rows.iter().map(|r| r.time).sum();
        let mut out = String::new();
        let _ = writeln!(out, "Function profiling\n==================");
        let _ = writeln!(out, "  Message: {name}");
        let _ = writeln!(out, "  Time in {calls} calls to Function.__call__: {:.6e}s", total.as_secs_f64());
        if calls > 0 {
            let _ = writeln!(
                out,
                "  Time in nodes: {:.6e}s ({:.1}%)",
                in_nodes.as_secs_f64(),
                100.0 * in_nodes.as_secs_f64() / total.as_secs_f64().max(f64::MIN_POSITIVE)
            );
        }
        let _ = writeln!(out, "\nApply\n------");
        let _ = writeln!(out, "<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>");
        let mut cumulative = 0.0;
        for r in &rows {
            let share = 100.0 * r.time.as_secs_f64() / in_nodes.as_secs_f64().max(f64::MIN_POSITIVE);
            cumulative += share;
            let _ = writeln!(
                out,
                "  {share:5.1}%  {cumulative:5.1}%  {:.3e}s  {:.2e}s  {}  {}  {}",
                r.time.as_secs_f64(),
                r.time.as_secs_f64() / r.runs as f64,
                r.runs,
                r.node.index(),
                tensorlift_ir::pp_graph_depth(g, r.node, 1)
            );
        }
        out
    }
}
