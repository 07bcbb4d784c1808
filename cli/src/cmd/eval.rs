//! `tensorlift eval`: compile and run an expression, print the result like NumPy or as
//! `{"outputs": [{"dtype", "shape", "data"}]}`.

use crate::app::{EvalArgs, ModeArg};
use crate::cmd::{compile, prepare};
use crate::error::CliResult;
use crate::output::{tensor_json, tensor_text};

/// Runs `eval`; returns stdout.
pub fn run(a: &EvalArgs) -> CliResult<String> {
    let p = prepare(&a.expr)?;
    let (inputs, args) = p.inputs_with_values()?;
    let f = compile(&inputs, std::slice::from_ref(&p.built.var), ModeArg::or_configured(a.mode))?;
    let outs = f.call(&args)?;
    if a.json {
        let outputs: Vec<serde_json::Value> = outs.iter().map(tensor_json).collect();
        Ok(serde_json::json!({ "outputs": outputs }).to_string() + "\n")
    } else {
        Ok(outs.iter().map(|t| tensor_text(t) + "\n").collect())
    }
}
