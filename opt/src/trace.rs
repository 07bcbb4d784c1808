//! `RewriteTrace`: every rewrite that fired, with the node before and after (printed with
//! `pp`, cut at a few levels), like Theano's `optimizer_verbose`; and what each phase cost,
//! like its optimizer profile.

use crate::phase::Phase;
use std::fmt;
use std::time::Duration;

/// One rewrite that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The phase it ran in.
    pub phase: Phase,
    /// The rewrite's name.
    pub rule: &'static str,
    /// The replaced node, `pp` cut at a few levels.
    pub before: String,
    /// Its replacement.
    pub after: String,
}

/// What one phase of the pipeline did and cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseStats {
    /// The phase.
    pub phase: Phase,
    /// Passes over the graph until nothing fired (or the step limit ran out).
    pub passes: usize,
    /// Rewrites that fired.
    pub rewrites: usize,
    /// Nodes in the graph when the phase began.
    pub nodes: usize,
    /// Wall time of the phase, the compaction after it included.
    pub time: Duration,
}

/// The rewrites that fired, in order, and what each phase cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RewriteTrace {
    /// The entries.
    pub entries: Vec<TraceEntry>,
    /// One record per phase that ran, in pipeline order.
    pub phases: Vec<PhaseStats>,
}

impl RewriteTrace {
    /// How many times `rule` fired.
    pub fn count(&self, rule: &str) -> usize {
        self.entries.iter().filter(|e| e.rule == rule).count()
    }

    /// True when `rule` fired at least once.
    pub fn fired(&self, rule: &str) -> bool {
        self.count(rule) > 0
    }

    /// The names of the rules that fired, in order, repeated as they fired.
    pub fn rules(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.rule).collect()
    }

    /// Number of rewrites.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing fired.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// One line per phase: `canonicalize: 2 passes, 3334 rewrites, 10002 nodes, 3.41 ms`.
    pub fn profile(&self) -> String {
        self.phases
            .iter()
            .map(|p| {
                format!(
                    "{}: {} passes, {} rewrites, {} nodes, {:.3} ms\n",
                    p.phase.name(),
                    p.passes,
                    p.rewrites,
                    p.nodes,
                    p.time.as_secs_f64() * 1e3
                )
            })
            .collect()
    }
}

impl fmt::Display for RewriteTrace {
    /// One line per rewrite: `rewriting: <phase> <rule> replaces <before> with <after>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            writeln!(f, "rewriting: {} {} replaces {} with {}", e.phase.name(), e.rule, e.before, e.after)?;
        }
        Ok(())
    }
}
