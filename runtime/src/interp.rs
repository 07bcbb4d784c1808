//! The op-by-op reference interpreter (`Mode::Interp`): a graph evaluated node by node with
//! the reference kernels, the meaning every backend must match and the baseline of every
//! benchmark. It is the plan (`crate::plan`) whose every step is the reference kernel.

use crate::error::Result;
use crate::plan::Plan;
use tensorlift_ir::{FunctionGraph, Tensor};

/// A graph prepared for evaluation by the reference kernels.
#[derive(Clone, Debug)]
pub struct Interpreter(Plan);

impl Interpreter {
    /// Prepares `g` (its topological order and value lifetimes).
    pub fn new(g: &FunctionGraph) -> Interpreter {
        Interpreter(Plan::reference(g))
    }

    /// Evaluates the graph: `inputs[k]` is the value of graph input `k` (already checked
    /// against its type). Returns one value per graph output.
    pub fn run(&self, g: &FunctionGraph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.0.run(g, inputs)
    }

    /// The schedule as text (`Plan::schedule_text`).
    pub fn schedule_text(&self, g: &FunctionGraph) -> String {
        self.0.schedule_text(g)
    }

    /// The plan it runs.
    pub fn plan(&self) -> &Plan {
        &self.0
    }
}
