//! Every stage of a compiled function as text: the graph as written, the optimized graph,
//! the rewrite trace, the schedule the executor runs, the Cranelift IR of each native kernel
//! before and after Cranelift's optimizer, its machine code, and Graphviz DOT.
//! `f.dump(Stage::Clif)`.

use crate::error::{Error, Result};
use crate::function::Function;
use std::fmt::Write as _;
use tensorlift_ir::{debugprint_graph, dot_graph, pp_graph, FunctionGraph};

/// A stage of compilation, for [`Function::dump`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// The graph as written (after `givens`): `pp` of each output, then `debugprint`.
    Graph,
    /// The optimized graph that runs: `pp` of each output, then `debugprint`.
    Optimized,
    /// Every rewrite the optimizer applied, in order.
    Trace,
    /// The steps the executor runs, in order: how each value is computed (native kernel,
    /// matrix kernel, view, reference kernel) and which values die after it.
    Schedule,
    /// The CLIF of each native kernel as generated, headed by the node it computes.
    Clif,
    /// The CLIF of each native kernel after Cranelift's mid-end optimizer.
    ClifOpt,
    /// The machine code of each native kernel (capstone's disassembly with the `disas`
    /// feature, Cranelift's VCode listing without it).
    Asm,
    /// Graphviz DOT of the optimized graph (`dot -Tsvg` draws it).
    Dot,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 8] = [
        Stage::Graph,
        Stage::Optimized,
        Stage::Trace,
        Stage::Schedule,
        Stage::Clif,
        Stage::ClifOpt,
        Stage::Asm,
        Stage::Dot,
    ];

    /// The stage's name as the command line spells it (`clif-opt`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Graph => "graph",
            Stage::Optimized => "opt",
            Stage::Trace => "trace",
            Stage::Schedule => "schedule",
            Stage::Clif => "clif",
            Stage::ClifOpt => "clif-opt",
            Stage::Asm => "asm",
            Stage::Dot => "dot",
        }
    }
}

impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Stage, String> {
        Stage::ALL.into_iter().find(|st| st.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Stage::ALL.iter().map(|st| st.name()).collect();
            format!("unknown stage {s:?}; expected one of {}", names.join(", "))
        })
    }
}

/// `pp` of each output (numbered when there are several) and the `debugprint` tree.
fn graph_text(g: &FunctionGraph, n_outputs: usize) -> String {
    let mut out = String::new();
    for (k, &o) in g.outputs().iter().enumerate() {
        let what = if k < n_outputs { format!("output {k}") } else { format!("update {}", k - n_outputs) };
        let _ = writeln!(out, "{what}: {}", pp_graph(g, o));
    }
    out.push('\n');
    out.push_str(&debugprint_graph(g));
    out
}

impl Function {
    /// The text of one stage of this function's compilation. Kernel stages list each native
    /// kernel under a `; kernel K: <node>` header; they are empty unless the function was
    /// built in `Mode::Jit` or `Mode::Debug`.
    pub fn dump(&self, stage: Stage) -> Result<String> {
        let c = &self.compiled;
        let n_outputs = self.outputs().len();
        let kernels = || c.plan.native().kernels(&c.graph);
        let per_kernel = |text: &dyn Fn(&tensorlift_jit::ElementwiseKernel) -> Result<String>| {
            let mut out = String::new();
            for (k, (node, kernel)) in kernels().into_iter().enumerate() {
                let _ = writeln!(out, "; kernel {k}: {node}");
                out.push_str(&text(kernel)?);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            Ok(out)
        };
        let jit = |source: tensorlift_jit::JitError| Error::Jit { context: "dump", source: Box::new(source) };
        match stage {
            Stage::Graph => Ok(graph_text(&c.user_graph, n_outputs)),
            Stage::Optimized => Ok(graph_text(&c.graph, n_outputs)),
            Stage::Trace => Ok(c.trace.to_string()),
            Stage::Schedule => Ok(c.plan.schedule_text(&c.graph)),
            Stage::Clif => per_kernel(&|k| Ok(k.clif().to_string())),
            Stage::ClifOpt => per_kernel(&|k| k.optimized_clif().map_err(jit)),
            Stage::Asm => per_kernel(&|k| k.disassembly().map_err(jit)),
            Stage::Dot => Ok(dot_graph(&c.graph)),
        }
    }
}
