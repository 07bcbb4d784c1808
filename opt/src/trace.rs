//! `RewriteTrace`: every rewrite that fired, with the node before and after (printed with
//! `pp`, cut at a few levels), like Theano's `optimizer_verbose`.

use crate::engine::Phase;
use std::fmt;

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

/// The rewrites that fired, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RewriteTrace {
    /// The entries.
    pub entries: Vec<TraceEntry>,
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
