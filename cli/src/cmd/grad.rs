//! `tensorlift grad`: the gradients of a 0-d expression (or of its sum), printed after
//! optimization and, when every variable has a value, evaluated; `--json` prints
//! `{"value": <output>, "grads": {"x": <output>, ...}}`.

use crate::app::{GradArgs, ModeArg};
use crate::cmd::{compile, gradients, prepare};
use crate::error::{CliError, CliResult};
use crate::output::{tensor_json, tensor_text};
use std::fmt::Write as _;

/// Runs `grad`; returns stdout.
pub fn run(a: &GradArgs) -> CliResult<String> {
    let p = prepare(&a.expr)?;
    let (cost, grads) = gradients(&p, &a.wrt, a.sum, "--wrt")?;
    let mut outputs = vec![cost];
    outputs.extend(grads);
    let names: Vec<&str> = a.wrt.iter().map(|s| s.trim()).collect();
    if a.json {
        let (inputs, args) = p.inputs_with_values()?;
        let f = compile(&inputs, &outputs, ModeArg::or_configured(a.mode))?;
        let outs = f.call(&args)?;
        let mut grads = serde_json::Map::new();
        for (n, t) in names.iter().zip(&outs[1..]) {
            grads.insert((*n).to_string(), tensor_json(t));
        }
        let v = serde_json::json!({ "value": tensor_json(&outs[0]), "grads": grads });
        return Ok(v.to_string() + "\n");
    }
    // The gradients alone, as the tutorial compiles them: with the cost beside them the
    // optimizer would share subexpressions between the two and the print would be harder
    // to read.
    let symbolic = compile(&p.inputs(), &outputs[1..], ModeArg::or_configured(a.mode))?;
    let mut out = String::new();
    let what = if a.sum { format!("sum({})", a.expr.expr) } else { a.expr.expr.clone() };
    let _ = writeln!(out, "gradient of {what}, optimized:");
    for (k, n) in names.iter().enumerate() {
        let _ = writeln!(out, "  d/d{n} = {}", symbolic.pp_output(k)?);
    }
    if p.all_valued() {
        let f = compile(&p.inputs(), &outputs, ModeArg::or_configured(a.mode))?;
        let (_, args) = p.inputs_with_values()?;
        let outs = f.call(&args)?;
        if outs.len() != names.len() + 1 {
            return Err(CliError::internal("grad: wrong number of outputs"));
        }
        let _ = writeln!(out, "values:");
        let _ = writeln!(out, "  {what} = {}", indent(&tensor_text(&outs[0])));
        for (n, t) in names.iter().zip(&outs[1..]) {
            let _ = writeln!(out, "  d/d{n} = {}", indent(&tensor_text(t)));
        }
    }
    Ok(out)
}

/// Continuation lines of a multi-line tensor indented under the first.
fn indent(s: &str) -> String {
    s.replace('\n', "\n    ")
}
