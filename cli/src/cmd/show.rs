//! `tensorlift show`: one stage of the compilation of an expression (or of its gradients
//! with `--wrt`), or every stage under a header with `--stage all`. The function is built in
//! `Mode::Jit`, so the kernel stages (CLIF, optimized CLIF, assembly) have kernels to show.

use crate::app::{ShowArgs, StageArg};
use crate::cmd::{compile, gradients, prepare};
use crate::error::{CliError, CliResult};
use std::fmt::Write as _;
use tensorlift as tl;

fn stage(s: StageArg) -> Option<tl::Stage> {
    Some(match s {
        StageArg::Graph => tl::Stage::Graph,
        StageArg::Opt => tl::Stage::Optimized,
        StageArg::Trace => tl::Stage::Trace,
        StageArg::Schedule => tl::Stage::Schedule,
        StageArg::Clif => tl::Stage::Clif,
        StageArg::ClifOpt => tl::Stage::ClifOpt,
        StageArg::Asm => tl::Stage::Asm,
        StageArg::Dot => tl::Stage::Dot,
        StageArg::All => return None,
    })
}

fn title(s: tl::Stage) -> &'static str {
    match s {
        tl::Stage::Graph => "graph (as written)",
        tl::Stage::Optimized => "optimized graph",
        tl::Stage::Trace => "rewrite trace",
        tl::Stage::Schedule => "schedule (what the executor runs)",
        tl::Stage::Clif => "Cranelift IR (before Cranelift's optimizer)",
        tl::Stage::ClifOpt => "Cranelift IR (after Cranelift's optimizer)",
        tl::Stage::Asm => "machine code",
        tl::Stage::Dot => "Graphviz DOT",
        _ => "stage",
    }
}

/// Runs `show`; returns stdout.
pub fn run(a: &ShowArgs) -> CliResult<String> {
    let p = prepare(&a.expr)?;
    let outputs = if a.wrt.is_empty() {
        if a.sum {
            return Err(CliError::user("show: --sum goes with --wrt"));
        }
        vec![p.built.var.clone()]
    } else {
        gradients(&p, &a.wrt, a.sum, "--wrt")?.1
    };
    let f = compile(&p.inputs(), &outputs, tl::Mode::Jit)?;
    let kernel_note = |s: tl::Stage, text: String| {
        let kernel_stage = matches!(s, tl::Stage::Clif | tl::Stage::ClifOpt | tl::Stage::Asm);
        if kernel_stage && text.trim().is_empty() {
            "(no native kernels: the optimized graph has no fused elementwise kernel; every node runs its reference kernel)\n"
                .to_string()
        } else {
            text
        }
    };
    match stage(a.stage) {
        Some(s) => Ok(kernel_note(s, f.dump(s)?)),
        None => {
            let mut out = String::new();
            for s in tl::Stage::ALL {
                let _ = writeln!(out, "==================== {}: {} ====================", s.name(), title(s));
                let text = kernel_note(s, f.dump(s)?);
                out.push_str(&text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            Ok(out)
        }
    }
}
