//! The subcommands, one module each, their dispatch (`run`, `run_args`), and what they share: reading `--var`s and the
//! expression, choosing the inputs of the compiled function, compiling.

pub mod bench;
pub mod eval;
pub mod grad;
pub mod plot;
pub mod show;

use crate::app::{Cli, Command, ExprArgs};
use crate::build::{build, Built};
use crate::error::{CliError, CliResult};
use crate::vars::{parse_decls, VarDecl};
use clap::Parser;
use tensorlift as tl;

/// The declarations and the built expression of a subcommand's arguments.
pub struct Prepared {
    /// Every `--var`, in order.
    pub decls: Vec<VarDecl>,
    /// The expression's graph and the variables it reads.
    pub built: Built,
}

/// Parses the `--var`s and builds the expression; errors show the expression with a caret.
pub fn prepare(a: &ExprArgs) -> CliResult<Prepared> {
    let (decls, scope) = parse_decls(&a.vars)?;
    let built = build(&a.expr, &scope).map_err(|e| CliError::user(e.render(&a.expr)))?;
    Ok(Prepared { decls, built })
}

impl Prepared {
    /// The declarations of the variables the expression reads, in declaration order.
    pub fn used(&self) -> Vec<&VarDecl> {
        self.decls.iter().filter(|d| self.built.used.contains(&d.name)).collect()
    }

    /// The declaration named `name` (it must be declared).
    pub fn decl(&self, name: &str, flag: &str) -> CliResult<&VarDecl> {
        self.decls.iter().find(|d| d.name == name).ok_or_else(|| {
            CliError::user(format!("{flag} {name}: `{name}` is not declared; add --var {name}:TYPE"))
        })
    }

    /// The input variables of the function (the used ones) and their values; an error
    /// naming every used variable that has no value.
    pub fn inputs_with_values(&self) -> CliResult<(Vec<tl::Var>, Vec<tl::Arg<'static>>)> {
        let used = self.used();
        let missing: Vec<&str> = used.iter().filter(|d| d.value.is_none()).map(|d| d.name.as_str()).collect();
        if !missing.is_empty() {
            return Err(CliError::user(format!(
                "no value for {}: give one with --var {}:TYPE=VALUE (e.g. --var \"{}:dvector=[1,2,3]\")",
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                missing[0],
                missing[0]
            )));
        }
        let vars = used.iter().map(|d| d.var.clone()).collect();
        let args = used.iter().map(|d| tl::Arg::from(d.value.clone().expect("checked"))).collect();
        Ok((vars, args))
    }

    /// True when every used variable has a value.
    pub fn all_valued(&self) -> bool {
        self.used().iter().all(|d| d.value.is_some())
    }

    /// The input variables (the used ones), values or not.
    pub fn inputs(&self) -> Vec<tl::Var> {
        self.used().iter().map(|d| d.var.clone()).collect()
    }
}

/// Compiles `outputs` of `inputs` in `mode`; inputs the outputs do not need are allowed.
pub fn compile(inputs: &[tl::Var], outputs: &[tl::Var], mode: tl::Mode) -> CliResult<tl::Function> {
    Ok(tl::Function::builder(inputs, outputs)
        .mode(mode)
        .on_unused_input(tl::OnUnusedInput::Ignore)
        .name("expression")
        .build()?)
}

/// The cost and gradients of `--wrt` (of the sum with `sum`): the cost must be 0-d.
pub fn gradients(p: &Prepared, wrt: &[String], sum: bool, flag: &str) -> CliResult<(tl::Var, Vec<tl::Var>)> {
    let expr = &p.built.var;
    let cost = if sum { expr.sum() } else { expr.clone() };
    if cost.ndim() != 0 {
        return Err(CliError::user(format!(
            "grad: the expression has type {}, not 0-d: a gradient needs a scalar cost (add --sum to differentiate its sum)",
            cost.ty()
        )));
    }
    let mut vars = Vec::with_capacity(wrt.len());
    for name in wrt {
        let name = name.trim();
        let d = p.decl(name, flag)?;
        if !d.var.dtype().is_float() {
            return Err(CliError::user(format!(
                "{flag} {name}: `{name}` has type {}; gradients are taken with respect to float variables",
                d.var.ty()
            )));
        }
        vars.push(d.var.clone());
    }
    let grads = tl::grad(&cost, &vars)?;
    Ok((cost, grads))
}

/// Runs a parsed command line; returns the text for stdout.
pub fn run(cli: Cli) -> CliResult<String> {
    match cli.command {
        Command::Eval(a) => eval::run(&a),
        Command::Grad(a) => grad::run(&a),
        Command::Show(a) => show::run(&a),
        Command::Plot(a) => plot::run(&a),
        Command::Bench(a) => bench::run(&a),
    }
}

/// Parses the arguments and runs; on a bad command line returns clap's message (help and
/// version requests are `Ok`).
pub fn run_args<I, T>(args: I) -> CliResult<String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run(cli),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                Ok(e.render().to_string())
            }
            _ => Err(CliError::User(
                e.render().to_string().trim_start_matches("error: ").trim_end().to_string(),
            )),
        },
    }
}
