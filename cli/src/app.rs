//! The command line: clap (derive) definitions of the subcommands and their arguments.
//! `cmd::run` dispatches them; `main` turns errors into exit codes.

use clap::{Args, Parser, Subcommand, ValueEnum};
use tensorlift as tl;

const EXAMPLES: &str = "\
Examples:
  tensorlift eval \"1/(1+exp(-x))\" --var \"x:dmatrix=[[0,1],[-1,-2]]\"
  tensorlift eval \"sum(x**2, axis=1)\" --var \"x=[[1,2,3],[4,5,6]]\" --json
  tensorlift grad \"(x - 4) * (x**2 + 6)\" --wrt x --var x=2
  tensorlift show \"(x - 4) * (x**2 + 6)\" --var x:dscalar --wrt x --stage all
  tensorlift show \"exp(x) * 2\" --var x:dvector --stage dot | dot -Tsvg > g.svg
  tensorlift plot \"1/(1+exp(-x))\" --var x:dvector --range -5,5 --grad -o s.svg
  tensorlift bench --quick

Expressions use Python/Theano spelling: + - * / ** (elementwise), unary -, < <= > >= == !=,
x.T, x[1:, ::2], dot(W, x), sum(x, axis=1, keepdims=True), switch(c, a, b), sigmoid,
softmax, T.exp(x), x.shape, x.shape[0], alloc(v, x.shape[0], 3), ... Not supported yet:
// (integer division), % (remainder).
Exit codes: 0 success, 1 user error or a mismatch found by --mode debug, 2 internal error.";

/// tensorlift: evaluate, differentiate, inspect every compilation stage, plot and benchmark
/// tensor expressions from the shell.
#[derive(Parser, Debug)]
#[command(name = "tensorlift", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile and run an expression; print the result like NumPy (or as JSON).
    #[command(after_help = "Examples:
  tensorlift eval \"1/(1+exp(-x))\" --var \"x:dmatrix=[[0,1],[-1,-2]]\"
  tensorlift eval \"x ** 2\" --var x=3 --json
  tensorlift eval \"dot(W, x) + b\" --var \"W=[[1,2,3],[4,5,6]]\" --var \"x=[1,1,1]\" --var \"b=[1,1]\"
  tensorlift eval \"switch(x > 0, x, 0)\" --var \"x=[-1,2]\" --mode debug")]
    Eval(EvalArgs),
    /// Differentiate a 0-d expression (or its sum, with --sum): print each gradient after
    /// optimization and, when every variable has a value, evaluate it.
    #[command(after_help = "Examples:
  tensorlift grad \"(x - 4) * (x**2 + 6)\" --wrt x --var x:dscalar
  tensorlift grad \"(x + 2*y)**2\" --wrt x,y --var x=1 --var y=2 --json
  tensorlift grad \"sigmoid(x)\" --wrt x --sum --var \"x=[0,1,2]\"")]
    Grad(GradArgs),
    /// Print a compilation stage: the graph as written, the optimized graph, the rewrite
    /// trace, the Cranelift IR of each kernel before and after Cranelift's optimizer, the
    /// machine code, or Graphviz DOT.
    #[command(after_help = "Examples:
  tensorlift show \"(x - 4) * (x**2 + 6)\" --var x:dscalar --wrt x --stage all
  tensorlift show \"1/(1+exp(-x))\" --var x:dmatrix --stage clif
  tensorlift show \"exp(x) * 2\" --var x:dvector --stage dot | dot -Tsvg > g.svg")]
    Show(ShowArgs),
    /// Plot an elementwise function of one vector variable over a range (and its
    /// derivative with --grad) to an SVG or PNG file.
    #[command(after_help = "Examples:
  tensorlift plot \"1/(1+exp(-x))\" --var x:dvector --range -5,5 --grad -o s.svg
  tensorlift plot \"tanh(x)\" --var x:dvector --range=-3,3 -o tanh.png")]
    Plot(PlotArgs),
    /// Run the benchmark workloads W1-W9 with the JIT and the interpreter; print a table of
    /// medians and JIT/interpreter ratios.
    #[command(after_help = "Examples:
  tensorlift bench --quick
  tensorlift bench W1 W9 --json results.json
  tensorlift bench W3 --threads 1")]
    Bench(BenchArgs),
}

/// Engines for `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Native fused kernels (Cranelift).
    Jit,
    /// The op-by-op reference interpreter.
    Interp,
    /// Both, compared element by element (Theano's DebugMode).
    Debug,
}

impl ModeArg {
    /// The library's mode for `--mode`, or the configured default without it.
    pub fn or_configured(arg: Option<ModeArg>) -> tl::Mode {
        arg.map(ModeArg::mode).unwrap_or_default()
    }

    /// The library's mode.
    pub fn mode(self) -> tl::Mode {
        match self {
            ModeArg::Jit => tl::Mode::Jit,
            ModeArg::Interp => tl::Mode::Interp,
            ModeArg::Debug => tl::Mode::Debug,
        }
    }
}

/// Arguments shared by the subcommands that take an expression.
#[derive(Args, Debug, Clone)]
pub struct ExprArgs {
    /// The expression, e.g. "1/(1+exp(-x))".
    #[arg(allow_hyphen_values = true)]
    pub expr: String,
    /// A variable: NAME:TYPE, NAME:TYPE=VALUE or NAME=VALUE (float64). TYPE is a Theano
    /// constructor (dscalar, fvector, dmatrix, lvector, itensor3, ...); VALUE a number or a
    /// nested list such as `[[1,2,3],[4,5,6]]`. Repeat for several variables.
    #[arg(long = "var", value_name = "NAME[:TYPE][=VALUE]")]
    pub vars: Vec<String>,
}

/// `tensorlift eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub expr: ExprArgs,
    /// The engine [default: the configured mode: jit, unless TENSORLIFT_FLAGS (mode=...) or
    /// TENSORLIFT_MODE says otherwise].
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Print {"outputs": [{"dtype", "shape", "data"}]} instead of NumPy-style text.
    #[arg(long)]
    pub json: bool,
}

/// `tensorlift grad`.
#[derive(Args, Debug)]
pub struct GradArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub expr: ExprArgs,
    /// The variables to differentiate with respect to, comma separated: x or x,y.
    #[arg(long, required = true, value_delimiter = ',', value_name = "NAME[,NAME...]")]
    pub wrt: Vec<String>,
    /// Differentiate the sum of the expression (for a non-scalar expression).
    #[arg(long)]
    pub sum: bool,
    /// The engine [default: the configured mode: jit, unless TENSORLIFT_FLAGS (mode=...) or
    /// TENSORLIFT_MODE says otherwise].
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Print {"value": ..., "grads": {"x": ...}} (needs a value for every variable).
    #[arg(long)]
    pub json: bool,
}

/// Stages for `--stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// The graph as written: `pp` of each output, then `debugprint`.
    Graph,
    /// The optimized graph that runs.
    Opt,
    /// Every rewrite the optimizer applied.
    Trace,
    /// The steps the executor runs and the values that die after each.
    Schedule,
    /// Cranelift IR of each native kernel, before Cranelift's optimizer.
    Clif,
    /// Cranelift IR after Cranelift's optimizer.
    ClifOpt,
    /// Machine code of each native kernel.
    Asm,
    /// Graphviz DOT of the optimized graph.
    Dot,
    /// Every stage above, each under a header.
    All,
}

/// `tensorlift show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub expr: ExprArgs,
    /// Show the gradient(s) of the expression with respect to these variables instead.
    #[arg(long, value_delimiter = ',', value_name = "NAME[,NAME...]")]
    pub wrt: Vec<String>,
    /// With --wrt: differentiate the sum of the expression.
    #[arg(long)]
    pub sum: bool,
    /// The stage to print.
    #[arg(long, value_enum, default_value = "opt")]
    pub stage: StageArg,
}

/// `tensorlift plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub expr: ExprArgs,
    /// The range of the variable: A,B (e.g. -5,5).
    #[arg(long, allow_hyphen_values = true, value_name = "A,B")]
    pub range: String,
    /// Also plot the derivative (computed with tensorlift's grad of the sum).
    #[arg(long)]
    pub grad: bool,
    /// Output file; the extension chooses the format: .svg or .png.
    #[arg(short, long, default_value = "plot.svg")]
    pub output: std::path::PathBuf,
    /// Number of sample points.
    #[arg(long, default_value_t = 400)]
    pub points: usize,
    /// Image width and height in pixels.
    #[arg(long, default_value = "800x500", value_name = "WxH")]
    pub size: String,
}

/// `tensorlift bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Workloads to run (W1 ... W9); all when none is given.
    pub workloads: Vec<String>,
    /// Small sizes and few samples: the whole run takes well under two minutes.
    #[arg(long)]
    pub quick: bool,
    /// Threads large native kernels are split over (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed samples per case (default: 5 with --quick, 15 otherwise).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}
