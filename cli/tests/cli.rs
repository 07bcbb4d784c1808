//! Integration tests of the `tensorlift` binary (assert_cmd): every subcommand on the
//! tutorial's expressions, JSON output parsed and checked, and the error cases with their
//! messages and exit codes (0 success, 1 user error, 2 internal error).

use assert_cmd::Command;
use serde_json::Value;

fn tl() -> Command {
    Command::cargo_bin("tensorlift").expect("the tensorlift binary is built")
}

/// Runs the command; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = tl().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?} failed:\n{err}");
    out
}

fn user_error(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 1, "{args:?} should be a user error; stdout:\n{out}\nstderr:\n{err}");
    assert!(out.is_empty(), "errors go to stderr, not stdout: {out}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("valid JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("a list").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-8 * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

const SIGMOID: [f64; 4] = [0.5, 0.73105858, 0.26894142, 0.11920292];

#[test]
fn eval_sigmoid_text_and_json() {
    let out = ok(&["eval", "1/(1+exp(-x))", "--var", "x:dmatrix=[[0,1],[-1,-2]]"]);
    assert_eq!(out, "[[0.5        0.73105858]\n [0.26894142 0.11920292]]\n");
    let v = json(&["eval", "1/(1+exp(-x))", "--var", "x:dmatrix=[[0,1],[-1,-2]]", "--json"]);
    let o = &v["outputs"][0];
    assert_eq!(o["dtype"], "float64");
    assert_eq!(o["shape"], serde_json::json!([2, 2]));
    close(&floats(&o["data"]), &SIGMOID);
    for mode in ["interp", "debug", "jit"] {
        let v = json(&["eval", "sigmoid(x)", "--var", "x=[[0,1],[-1,-2]]", "--json", "--mode", mode]);
        close(&floats(&v["outputs"][0]["data"]), &SIGMOID);
    }
}

#[test]
fn eval_tutorial_cells() {
    for (x, want) in [("1", "1.0"), ("2", "4.0"), ("3", "9.0"), ("4", "16.0")] {
        assert_eq!(ok(&["eval", "x ** 2", "--var", &format!("x:dscalar={x}")]).trim(), want);
    }
    assert_eq!(ok(&["eval", "x ** 2", "--var", "x:dvector=[1,2,3]"]).trim(), "[1. 4. 9.]");
    let v = json(&["eval", "x ** 2", "--var", "x:dmatrix=[[1,2,3],[4,5,6]]", "--json"]);
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![1.0, 4.0, 9.0, 16.0, 25.0, 36.0]);
    assert_eq!(v["outputs"][0]["shape"], serde_json::json!([2, 3]));
    let out = ok(&[
        "eval",
        "T.dot(W, x) + b",
        "--var",
        "W=[[1,2,3],[4,5,6]]",
        "--var",
        "x=[1,1,1]",
        "--var",
        "b=[1,1]",
    ]);
    assert_eq!(out.trim(), "[ 7. 16.]");
}

#[test]
fn eval_language_features() {
    let v = |expr: &str, vars: &[&str]| -> Vec<f64> {
        let mut args = vec!["eval", expr, "--json"];
        for a in vars {
            args.extend(["--var", a]);
        }
        floats(&json(&args)["outputs"][0]["data"])
    };
    assert_eq!(v("-x**2", &["x=3"]), vec![-9.0]);
    assert_eq!(v("2**-1", &[]), vec![0.5]);
    assert_eq!(v("sum(x, axis=1, keepdims=True)", &["x=[[1,2,3],[4,5,6]]"]), vec![6.0, 15.0]);
    assert_eq!(v("x.sum(axis=0)", &["x=[[1,2,3],[4,5,6]]"]), vec![5.0, 7.0, 9.0]);
    assert_eq!(v("x[1:, ::2]", &["x=[[1,2,3],[4,5,6]]"]), vec![4.0, 6.0]);
    assert_eq!(v("x.T[0]", &["x=[[1,2,3],[4,5,6]]"]), vec![1.0, 4.0]);
    assert_eq!(v("switch(x > 0, x, 0)", &["x=[-1,2]"]), vec![0.0, 2.0]);
    assert_eq!(v("cast(x < 2, 'float64') + 1", &["x=[1,3]"]), vec![2.0, 1.0]);
    close(&v("softmax(x)", &["x=[0,0]"]), &[0.5, 0.5]);
    close(&v("T.nnet.sigmoid(0)", &[]), &[0.5]);
    let out = json(&["eval", "x >= 2", "--var", "x=[1,2,3]", "--json"]);
    assert_eq!(out["outputs"][0]["dtype"], "bool");
    assert_eq!(out["outputs"][0]["data"], serde_json::json!([false, true, true]));
    let out = json(&["eval", "x * 2", "--var", "x:lvector=[1,2]", "--json"]);
    assert_eq!(out["outputs"][0]["dtype"], "int64");
    assert_eq!(out["outputs"][0]["data"], serde_json::json!([2, 4]));
}

#[test]
fn non_finite_numbers_are_strings_in_json() {
    let v = json(&["eval", "log(x)", "--var", "x=[0,-1,1]", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!(["-inf", "nan", 0.0]));
    let v = json(&["eval", "x", "--var", "x=[inf, -inf, nan]", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!(["inf", "-inf", "nan"]));
}

#[test]
fn grad_of_the_tutorial() {
    // d/dx (x-4)(x^2+6) = 3x^2 - 8x + 6: 6, 1, 2 at 0, 1, 2.
    for (x, want) in [("0", 6.0), ("1", 1.0), ("2", 2.0)] {
        let v = json(&[
            "grad",
            "(x - 4) * (x**2 + 6)",
            "--wrt",
            "x",
            "--var",
            &format!("x:dscalar={x}"),
            "--json",
        ]);
        assert_eq!(v["grads"]["x"]["shape"], serde_json::json!([]));
        assert_eq!(floats(&v["grads"]["x"]["data"]), vec![want]);
        assert_eq!(v["value"]["dtype"], "float64");
    }
    let v = json(&["grad", "(x + 2*y)**2", "--wrt", "x,y", "--var", "x=1", "--var", "y=2", "--json"]);
    assert_eq!(floats(&v["value"]["data"]), vec![25.0]);
    assert_eq!(floats(&v["grads"]["x"]["data"]), vec![10.0]);
    assert_eq!(floats(&v["grads"]["y"]["data"]), vec![20.0]);
    let text = ok(&["grad", "sin(x)", "--wrt", "x", "--var", "x:dscalar=0"]);
    assert!(text.contains("d/dx = cos(x)"), "{text}");
    assert!(text.contains("d/dx = 1.0"), "{text}");
    // Symbolic only: no values.
    let text = ok(&["grad", "(x - 4) * (x**2 + 6)", "--wrt", "x", "--var", "x:dscalar"]);
    assert!(text.contains("d/dx = Composite{"), "{text}");
    assert!(!text.contains("values:"), "{text}");
    let v = json(&["grad", "sigmoid(x)", "--wrt", "x", "--sum", "--var", "x=[0, 0]", "--json"]);
    assert_eq!(floats(&v["grads"]["x"]["data"]), vec![0.25, 0.25]);
}

#[test]
fn grad_errors() {
    let err = user_error(&["grad", "x * 2", "--wrt", "x", "--var", "x=[1,2]"]);
    assert!(err.contains("--sum"), "{err}");
    let err = user_error(&["grad", "x * 2", "--wrt", "z", "--var", "x=1"]);
    assert!(err.contains("`z` is not declared"), "{err}");
    let err = user_error(&["grad", "x * y", "--wrt", "x", "--var", "x=1", "--var", "y:dscalar", "--json"]);
    assert!(err.contains("no value for `y`"), "{err}");
}

#[test]
fn grad_numerical_edge_cases() {
    // #12 item 11: d(x**y)/dy at x = 0 is 0 (Theano's guard), not NaN or -inf; d/dx is
    // y * x**(y-1).
    for (y, dx) in [("2.0", serde_json::json!([0.0])), ("-0.5", serde_json::json!(["-inf"]))] {
        let v = json(&[
            "grad",
            "x ** y",
            "--wrt",
            "x,y",
            "--var",
            "x:dscalar=0.0",
            "--var",
            &format!("y:dscalar={y}"),
            "--json",
        ]);
        assert_eq!(v["grads"]["x"]["data"], dx, "y = {y}");
        assert_eq!(v["grads"]["y"]["data"], serde_json::json!([0.0]), "y = {y}");
    }
    // #12 item 12: the gradient of logsumexp is the softmax, exact where logsumexp rounds.
    let v = json(&["grad", "logsumexp(x)", "--wrt", "x", "--var", "x=[1e16, 1e16]", "--json"]);
    assert_eq!(floats(&v["grads"]["x"]["data"]), vec![0.5, 0.5]);
    // #12 item 14: a variable listed twice gets its gradient twice.
    let text = ok(&["grad", "x", "--wrt", "x,x", "--var", "x:dscalar=3"]);
    assert_eq!(text.matches("d/dx = TensorConstant{1.0}\n").count(), 2, "{text}");
    assert_eq!(text.matches("d/dx = 1.0\n").count(), 2, "{text}");
    let text = ok(&["grad", "x*x", "--wrt", "x,x", "--var", "x:dscalar=3"]);
    assert_eq!(text.matches("d/dx = 6.0\n").count(), 2, "{text}");
    // #12 item 16: a lane holding inf is NaN throughout.
    for f in ["softmax(x)", "log_softmax(x)"] {
        let v = json(&["eval", f, "--var", "x=[1, inf, 1]", "--json"]);
        assert_eq!(v["outputs"][0]["data"], serde_json::json!(["nan", "nan", "nan"]), "{f}");
    }
}

#[test]
fn show_every_stage() {
    let all = ok(&["show", "(x - 4) * (x**2 + 6)", "--var", "x:dscalar", "--wrt", "x", "--stage", "all"]);
    for header in ["graph:", "opt:", "trace:", "clif:", "clif-opt:", "asm:", "dot:"] {
        assert!(all.contains(&format!("==================== {header}")), "{header} missing:\n{all}");
    }
    assert!(all.contains("Composite{"), "{all}");
    assert!(all.contains("function "), "CLIF missing:\n{all}");
    assert!(all.contains("digraph"), "{all}");
    let opt = ok(&["show", "(x - 4) * (x**2 + 6)", "--var", "x:dscalar", "--wrt", "x", "--stage", "opt"]);
    assert!(opt.starts_with("output 0: Composite{"), "{opt}");
    let graph = ok(&["show", "1/(1+exp(-x))", "--var", "x:dmatrix", "--stage", "graph"]);
    assert!(graph.contains("(TensorConstant{1.0} / (TensorConstant{1.0} + exp((-x))))"), "{graph}");
    let clif = ok(&["show", "exp(x) * 2 + 1", "--var", "x:dmatrix", "--stage", "clif"]);
    assert!(clif.contains("; kernel 0:"), "{clif}");
    let asm = ok(&["show", "x * 2 + 1", "--var", "x:dvector", "--stage", "asm"]);
    assert!(asm.contains("; kernel 0:"), "{asm}");
    let dot = ok(&["show", "x * 2 + 1", "--var", "x:dvector", "--stage", "dot"]);
    assert!(dot.starts_with("digraph"), "{dot}");
    let trace = ok(&["show", "log(1 + x)", "--var", "x:dvector", "--stage", "trace"]);
    assert!(trace.contains("log1p"), "{trace}");
    // A graph with no fused kernel says so.
    let none = ok(&["show", "dot(m, x)", "--var", "m:dmatrix", "--var", "x:dvector", "--stage", "clif"]);
    assert!(none.contains("no native kernels"), "{none}");
}

/// #19: labels use the embedded font; a font named by `TENSORLIFT_FONT` must be readable
/// TrueType, or the plot is a user error naming it (and writes no file).
#[test]
fn plot_fonts() {
    let dir = std::env::temp_dir().join(format!("tensorlift-cli-font-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("f.png");
    let args = ["plot", "x**2", "--var", "x:dvector", "--range=-1,1", "-o", png.to_str().unwrap()];
    let out = tl().env_remove("TENSORLIFT_FONT").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(&png).unwrap();
    let missing = dir.join("no-such-font.ttf");
    let out = tl().env("TENSORLIFT_FONT", &missing).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("TENSORLIFT_FONT") && err.contains("no-such-font.ttf"), "{err}");
    let not_a_font = dir.join("not-a-font.ttf");
    std::fs::write(&not_a_font, b"plain text").unwrap();
    let out = tl().env("TENSORLIFT_FONT", &not_a_font).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a TrueType font"), "{err}");
    assert!(!png.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plot_svg_and_png() {
    let dir = std::env::temp_dir().join(format!("tensorlift-cli-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("s.svg");
    let (code, out, err) = run(&[
        "plot",
        "1/(1+exp(-x))",
        "--var",
        "x:dvector",
        "--range",
        "-5,5",
        "--grad",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..100.min(text.len())]);
    assert!(text.contains("1/(1+exp(-x))"), "legend label of the function");
    assert!(text.contains("d/dx"), "legend label of the derivative");
    assert!(text.matches("<polyline").count() >= 2, "two curves");
    let png = dir.join("s.png");
    ok(&[
        "plot",
        "tanh(x)",
        "--var",
        "x:dvector",
        "--range=-3,3",
        "-o",
        png.to_str().unwrap(),
        "--points",
        "50",
    ]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let err =
        user_error(&["plot", "x", "--var", "x:dvector", "--range", "5,-5", "-o", svg.to_str().unwrap()]);
    assert!(err.contains("--range"), "{err}");
    let err =
        user_error(&["plot", "sum(x)", "--var", "x:dvector", "--range", "0,1", "-o", svg.to_str().unwrap()]);
    assert!(err.contains("elementwise"), "{err}");
    let err = user_error(&[
        "plot",
        "x",
        "--var",
        "x:dvector",
        "--range",
        "0,1",
        "-o",
        dir.join("a.gif").to_str().unwrap(),
    ]);
    assert!(err.contains(".svg or .png"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_writes_the_pinned_json() {
    let file = std::env::temp_dir().join(format!("tensorlift-cli-bench-{}.json", std::process::id()));
    let out = ok(&[
        "bench",
        "W7",
        "w1",
        "--quick",
        "--samples",
        "2",
        "--threads",
        "1",
        "--json",
        file.to_str().unwrap(),
    ]);
    assert!(out.contains("jit/interp"), "{out}");
    assert!(out.contains("W7"), "{out}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2 * 3, "W1 has two quick cases, W7 one; two engines each");
    for r in rows {
        for key in ["workload", "case", "engine", "threads", "median_ns", "min_ns", "max_ns", "samples"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert!(r["engine"] == "jit" || r["engine"] == "interp");
        assert_eq!(r["samples"], 2);
        assert_eq!(r["threads"], 1);
        assert!(r["min_ns"].as_u64().unwrap() <= r["median_ns"].as_u64().unwrap());
        assert!(r["median_ns"].as_u64().unwrap() <= r["max_ns"].as_u64().unwrap());
    }
    assert!(rows.iter().any(|r| r["workload"] == "W1" && r["case"] == "n=1e6"));
    let _ = std::fs::remove_file(&file);
    let err = user_error(&["bench", "W10"]);
    assert!(err.contains("unknown workload"), "{err}");
}

#[test]
fn parse_error_shows_a_caret() {
    let err = user_error(&["eval", "1/(1+exp(-x)", "--var", "x=1"]);
    assert!(err.contains("expected"), "{err}");
    assert!(err.contains("to close the `(` at column 3"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let src = lines.iter().position(|l| l.trim_start() == "1/(1+exp(-x)").expect("the expression is shown");
    let caret = lines[src + 1];
    assert_eq!(caret.find('^'), Some(2 + "1/(1+exp(-x)".len()), "caret under the end:\n{err}");
    let err = user_error(&["eval", "x + * 2", "--var", "x=1"]);
    assert!(err.contains("expected an expression"), "{err}");
    assert!(err.lines().any(|l| l == "      ^"), "{err}");
}

#[test]
fn unknown_function_suggests_the_closest() {
    let err = user_error(&["eval", "sigmod(x)", "--var", "x=1"]);
    assert!(err.contains("unknown function `sigmod`; did you mean `sigmoid`?"), "{err}");
    let err = user_error(&["eval", "T.tahn(x)", "--var", "x=1"]);
    assert!(err.contains("`tanh`"), "{err}");
    let err = user_error(&["eval", "sum(x, axes=1)", "--var", "x=[1]"]);
    assert!(err.contains("did you mean `axis`"), "{err}");
}

#[test]
fn type_mismatch_is_the_library_message() {
    let err = user_error(&["eval", "outer(x, x)", "--var", "x:dmatrix=[[1]]"]);
    assert!(err.contains("type error: outer: x (float64[?,?]) has rank 2"), "{err}");
    assert!(err.contains("^^^^^^^^^^^"), "{err}");
    let err = user_error(&["eval", "switch(x, 1, 2)", "--var", "x=1.5"]);
    assert!(err.contains("condition of switch must be bool or integer"), "{err}");
    let err = user_error(&["eval", "x + y", "--var", "x=[1,2]", "--var", "y=[1,2,3]"]);
    assert!(err.contains("shape"), "{err}");
    let err = user_error(&["eval", "x", "--var", "x:lvector=[1.5]"]);
    assert!(err.contains("int64"), "{err}");
}

#[test]
fn ragged_list_and_bad_values() {
    let err = user_error(&["eval", "x", "--var", "x=[[1,2],[3]]"]);
    assert!(err.contains("ragged"), "{err}");
    assert!(err.contains('^'), "{err}");
    let err = user_error(&["eval", "x + [[1],[2,3]]", "--var", "x=1"]);
    assert!(err.contains("ragged"), "{err}");
    let err = user_error(&["eval", "x", "--var", "x:dmatrx=[[1]]"]);
    assert!(err.contains("did you mean `dmatrix`"), "{err}");
    let err = user_error(&["eval", "x", "--var", "x:dvector=[[1]]"]);
    assert!(err.contains("does not fit"), "{err}");
}

#[test]
fn missing_var() {
    let err = user_error(&["eval", "x + 1"]);
    assert!(err.contains("unknown name `x`"), "{err}");
    assert!(err.contains("--var x:"), "{err}");
    let err = user_error(&["eval", "x + 1", "--var", "x:dvector"]);
    assert!(err.contains("no value for `x`"), "{err}");
}

#[test]
fn command_line_errors_and_help() {
    let err = user_error(&["eval", "x", "--frobnicate"]);
    assert!(err.contains("--frobnicate"), "{err}");
    let err = user_error(&["show", "x", "--var", "x=1", "--stage", "nope"]);
    assert!(err.contains("nope"), "{err}");
    let help = ok(&["--help"]);
    assert!(help.contains("Examples:"), "{help}");
    for sub in ["eval", "grad", "show", "plot", "bench"] {
        let h = ok(&[sub, "--help"]);
        assert!(h.contains("Examples:"), "{sub}: {h}");
    }
}

#[test]
fn hostile_inputs_never_panic() {
    let cases: &[&[&str]] = &[
        &["eval", "((((((((((((((((((((x", "--var", "x=1"],
        &["eval", &"(".repeat(5000)],
        &["eval", "x[99999999999999999999]", "--var", "x=[1]"],
        &["eval", "x[9223372036854775807:]", "--var", "x=[1]"],
        &["eval", "x[::0]", "--var", "x=[1]"],
        &["eval", "reshape(x, (-5,))", "--var", "x=[1]"],
        &["eval", "x.reshape(2, 3)", "--var", "x=[1]"],
        &["eval", "sum(x, axis=(0, 0))", "--var", "x=[1]"],
        &["eval", "TensorConstant{[2, 3] of float64}"],
        &["eval", "Composite{(i0 + 1)}(x)", "--var", "x=1"],
        &["eval", "\u{1F600} + 1"],
        &["eval", ""],
        &["eval", "x", "--var", "x="],
        &["eval", "x", "--var", "=1"],
        &["plot", "x", "--var", "x:dvector", "--range", "a,b"],
        &["bench", "W1", "--threads", "0"],
    ];
    for args in cases {
        let (code, _out, err) = run(args);
        assert!(code == 0 || code == 1, "{args:?}: exit code {code}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

// #12 item 7: a printed constant nested 30 000 levels deep overflowed the stack in the
// NumPy-array reader; it now has the parser's depth limit.
#[test]
fn deeply_nested_printed_constant_is_refused_not_a_stack_overflow() {
    let deep = format!("TensorConstant{{{}1{}}}", "[".repeat(30_000), "]".repeat(30_000));
    let err = user_error(&["eval", &deep]);
    assert!(err.contains("printed array nested too deeply (more than 200 levels)"), "{}", &err[..200]);
    // Within the limit it still reads.
    let v = json(&["eval", "TensorConstant{[[[1. 2.]]]} + 1", "--json"]);
    assert_eq!(v["outputs"][0]["shape"], serde_json::json!([1, 1, 2]));
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![2.0, 3.0]);
}

// #12 item 23: a float64 kernel that computes part of its value in float32 is checked with
// float32's tolerance (no false mismatch), and a real mismatch is a finding (exit 1), not an
// internal error (exit 2).
#[test]
fn debug_mode_on_a_mixed_float32_float64_kernel() {
    let out = ok(&[
        "eval",
        "exp(x) + y",
        "--var",
        "x:fvector=[-0.3840999901294708]",
        "--var",
        "y:dvector=[0]",
        "--mode",
        "debug",
    ]);
    assert_eq!(out.trim(), "[0.68106329]");
    let mismatch = tensorlift::Error::DebugMismatch {
        node: "Composite{(exp(i0) + i1)}(x, y)".into(),
        index: vec![0],
        native: "0.6810632944107056".into(),
        reference: "0.6810633540153503".into(),
    };
    let e = tensorlift_cli::CliError::from(mismatch);
    assert_eq!(e.code(), 1, "{e}");
    let msg = e.to_string();
    assert!(msg.starts_with("finding: debug mode:") && !msg.contains("internal error"), "{msg}");
    assert!(msg.contains("element [0]") && msg.contains("0.6810633540153503"), "{msg}");
}

// #12 item 24: a flat chain of binary operators is not nesting.
#[test]
fn a_flat_sum_of_5000_terms_evaluates_and_real_nesting_is_refused() {
    let sum = vec!["x"; 5000].join(" + ");
    let v = json(&["eval", &sum, "--var", "x=[1,2]", "--json"]);
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![5000.0, 10000.0]);
    let chain = vec!["x"; 3000].join(" * 1 - ");
    let v = json(&["eval", &chain, "--var", "x=2", "--json"]);
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![-5996.0]);
    for deep in [
        format!("{}x{}", "(x + ".repeat(5000), ")".repeat(5000)),
        format!("{}x", "x ** ".repeat(5000)),
        format!("{}x", "-".repeat(5000)),
        format!("x{}", ".T".repeat(5000)),
    ] {
        let err = user_error(&["eval", &deep, "--var", "x=1"]);
        assert!(err.contains("nested too deeply (more than 200 levels)"), "{}", &err[..120]);
    }
}

// #12 item 24: one `grad:` prefix, and advice a command-line user can follow.
#[test]
fn grad_messages_speak_to_the_command_line() {
    let err = user_error(&["grad", "y * 2", "--wrt", "x", "--var", "x=1", "--var", "y=2"]);
    assert!(err.starts_with("error: grad: the expression does not depend on `x`"), "{err}");
    assert!(!err.contains("grad: grad:"), "{err}");
    assert!(!err.contains("Disconnected"), "{err}");
    assert!(err.contains("remove `x` from --wrt"), "{err}");
}

// #12 item 24: a plot that cannot be drawn leaves no file behind.
#[test]
fn a_failed_plot_leaves_no_file() {
    let dir = std::env::temp_dir().join(format!("tensorlift-cli-plot-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["p.svg", "p.png"] {
        let out = dir.join(name);
        let err = user_error(&[
            "plot",
            "log(x)",
            "--var",
            "x:dvector",
            "--range",
            "-5,-1",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(err.contains("cannot write") && err.contains("no finite value"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{name}: files left behind: {left:?}");
    }
    // An existing file is left as it was.
    let out = dir.join("keep.svg");
    std::fs::write(&out, "old").unwrap();
    user_error(&["plot", "log(x)", "--var", "x:dvector", "--range", "-5,-1", "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    let _ = std::fs::remove_dir_all(&dir);
}

// #12 item 24: an integer a float type cannot hold exactly is refused, not rounded; an
// integer type keeps it exact.
#[test]
fn integers_are_never_rounded_silently() {
    let err = user_error(&["eval", "x", "--var", "x=9007199254740993"]);
    assert!(err.contains("9007199254740993 is not exactly representable in float64"), "{err}");
    assert!(err.contains("x:lscalar=9007199254740993"), "{err}");
    let err = user_error(&["eval", "x", "--var", "x:fvector=[1, 16777217]"]);
    assert!(err.contains("16777217 is not exactly representable in float32"), "{err}");
    assert!(err.contains("x:lvector=[1, 16777217]"), "{err}");
    let v = json(&["eval", "x", "--var", "x:lscalar=9007199254740993", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!([9007199254740993i64]));
    // Exact integers still convert, and decimal text is still rounded to the float type.
    let v = json(&["eval", "x", "--var", "x=[9007199254740992, 3]", "--var", "y:fscalar=0.1", "--json"]);
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![9007199254740992.0, 3.0]);
}

// #12 item 24: int64's minimum can be written.
#[test]
fn int64_minimum_literal() {
    let v = json(&["eval", "x", "--var", "x:lscalar=-9223372036854775808", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!([i64::MIN]));
    let v = json(&["eval", "x + -9223372036854775808", "--var", "x:lvector=[1, 2]", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!([i64::MIN + 1, i64::MIN + 2]));
    let v = json(&["eval", "x", "--var", "x=-9223372036854775808", "--json"]);
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![-9223372036854775808.0]);
    let err = user_error(&["eval", "9223372036854775808"]);
    assert!(err.contains("out of range of int64"), "{err}");
}

// #12 item 24: Python operators and attributes the language lacks say so.
#[test]
fn floor_division_and_modulo_have_pythons_signs() {
    for (expr, want) in
        [("x // 2", [-2.0, 2.0]), ("x % 2", [1.0, 0.0]), ("x // -2", [1.0, -2.0]), ("x % -2", [-1.0, 0.0])]
    {
        let v = json(&["eval", expr, "--var", "x=[-3, 4]", "--json"]);
        assert_eq!(v["outputs"][0]["data"], serde_json::json!(want), "{expr}");
    }
}

/// #15: `x.shape` is the run-time shape; `x.shape[i]`, `shape_i` and `alloc` compute with it.
#[test]
fn symbolic_shapes_evaluate() {
    let v = json(&["eval", "x.shape", "--var", "x=[[1,2,3],[4,5,6]]", "--json"]);
    assert_eq!(v["outputs"][0]["data"], serde_json::json!([2, 3]));
    assert_eq!(v["outputs"][0]["dtype"], "int64");
    let v = json(&[
        "eval",
        "alloc(x[0], x.shape[1] - 1, shape_i(x, -1)) * 2",
        "--var",
        "x=[[1,2,3],[4,5,6]]",
        "--json",
    ]);
    assert_eq!(floats(&v["outputs"][0]["data"]), vec![2.0, 4.0, 6.0, 2.0, 4.0, 6.0]);
    assert_eq!(v["outputs"][0]["shape"], serde_json::json!([2, 3]));
    let err = user_error(&["eval", "alloc(x, -2)", "--var", "x=1.5"]);
    assert!(err.contains("non-negative"), "{err}");
}

/// #14: the command follows the process configuration (`TENSORLIFT_FLAGS`): without
/// `--mode` the configured mode runs, the trace flag prints the optimizer's trace, and a bad
/// flag is a user error naming it.
#[test]
fn the_configuration_comes_from_tensorlift_flags() {
    let run_with = |flags: &str, args: &[&str]| {
        let mut cmd = tl();
        for v in ["THEANO_FLAGS", "TENSORLIFT_MODE", "TENSORLIFT_OPT_TRACE", "TENSORLIFT_OPT_EXCLUDE"] {
            cmd.env_remove(v);
        }
        let out = cmd.env("TENSORLIFT_FLAGS", flags).args(args).output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let eval = ["eval", "exp(x) * 2", "--var", "x:dvector=[0,1]", "--json"];
    let (code, out, err) = run_with("mode=interp,trace=1", &eval);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\"data\":[2.0,5.43656365691809"), "{out}");
    assert!(err.contains("canonicalize: "), "the trace goes to stderr: {err}");
    let (code, out, err) = run_with("mode=fast", &eval);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("TENSORLIFT_FLAGS: mode=\"fast\": expected jit"), "{err}");
}

/// Advanced indexing: an integer vector variable or a list indexes rows, `arange` and a
/// label vector pick one element per row, a mask selects, `take` and the updates accept
/// index arrays (repeated positions accumulate in `inc_subtensor`).
#[test]
fn advanced_indexing_evaluates() {
    let v = |expr: &str, vars: &[&str]| -> Vec<f64> {
        let mut args = vec!["eval", expr, "--json"];
        for a in vars {
            args.extend(["--var", a]);
        }
        floats(&json(&args)["outputs"][0]["data"])
    };
    let x = "x=[[1,2,3],[4,5,6]]";
    assert_eq!(v("x[i]", &[x, "i:lvector=[1,0,-1]"]), vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(v("x[:, [2, 0]]", &[x]), vec![3.0, 1.0, 6.0, 4.0]);
    assert_eq!(v("x[arange(x.shape[0]), y]", &[x, "y:lvector=[2,0]"]), vec![3.0, 4.0]);
    assert_eq!(v("x[x > 2]", &[x]), vec![3.0, 4.0, 5.0, 6.0]);
    assert_eq!(v("take(x, [5, 0])", &[x]), vec![6.0, 1.0]);
    assert_eq!(v("inc_subtensor(x[[0, 0]], 1)", &[x]), vec![3.0, 4.0, 5.0, 4.0, 5.0, 6.0]);
    let err = user_error(&["eval", "x[i]", "--var", x, "--var", "i:lvector=[2]"]);
    assert!(err.contains("index 2 is out of bounds for axis 0 with size 2"), "{err}");
    let err = user_error(&["eval", "x[f]", "--var", x, "--var", "f=[0.5]"]);
    assert!(err.contains("an integer or boolean index array"), "{err}");
}

/// The array functions under their Theano names: running sums and products, sorting,
/// repeating, tiling, rolling and the identity-like matrix, with NumPy's values; methods
/// spell them too (`x.cumsum(axis=0)`), and bad arguments are user errors.
#[test]
fn array_functions_evaluate() {
    let v = |expr: &str, vars: &[&str]| -> Vec<f64> {
        let mut args = vec!["eval", expr, "--json"];
        for a in vars {
            args.extend(["--var", a]);
        }
        floats(&json(&args)["outputs"][0]["data"])
    };
    let x = "x=[[3,1,2],[-1,5,4]]";
    assert_eq!(v("cumsum(x)", &[x]), vec![3.0, 4.0, 6.0, 5.0, 10.0, 14.0]);
    assert_eq!(v("x.cumsum(axis=0)", &[x]), vec![3.0, 1.0, 2.0, 2.0, 6.0, 6.0]);
    assert_eq!(v("cumprod(x, axis=1)", &[x]), vec![3.0, 3.0, 6.0, -1.0, -5.0, -20.0]);
    assert_eq!(v("sort(x)", &[x]), vec![1.0, 2.0, 3.0, -1.0, 4.0, 5.0]);
    assert_eq!(v("sort(x, axis=None, kind='mergesort')", &[x]), vec![-1.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(v("argsort(x, axis=0)", &[x]), vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(
        v("repeat(x, 2, axis=0)", &[x]),
        vec![3.0, 1.0, 2.0, 3.0, 1.0, 2.0, -1.0, 5.0, 4.0, -1.0, 5.0, 4.0]
    );
    assert_eq!(v("repeat(x, [0, 2, 1], axis=1)", &[x]), vec![1.0, 1.0, 2.0, 5.0, 5.0, 4.0]);
    assert_eq!(v("x.repeat(r)", &[x, "r:lscalar=1"]), vec![3.0, 1.0, 2.0, -1.0, 5.0, 4.0]);
    assert_eq!(
        v("tile(x[0], (2, 2))", &[x]),
        vec![3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0]
    );
    assert_eq!(v("tile(x[1], n)", &[x, "n:lscalar=2"]), vec![-1.0, 5.0, 4.0, -1.0, 5.0, 4.0]);
    assert_eq!(v("tile(x[1], r, ndim=1)", &[x, "r:lvector=[2]"]), vec![-1.0, 5.0, 4.0, -1.0, 5.0, 4.0]);
    assert_eq!(v("roll(x, 1, axis=1)", &[x]), vec![2.0, 3.0, 1.0, 4.0, -1.0, 5.0]);
    assert_eq!(v("roll(x, s)", &[x, "s:lscalar=-2"]), vec![2.0, -1.0, 5.0, 4.0, 3.0, 1.0]);
    assert_eq!(v("eye(2, 3, k=1)", &[]), vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(v("eye(x.shape[0], dtype='int32')", &[x]), vec![1.0, 0.0, 0.0, 1.0]);
    assert_eq!(v("identity_like(x)", &[x]), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let err = user_error(&["eval", "cumsum(x, axis=2)", "--var", x]);
    assert!(err.contains("axis 2"), "{err}");
    let err = user_error(&["eval", "sort(x, kind='bogo')", "--var", x]);
    assert!(err.contains("kind is one of"), "{err}");
    let err = user_error(&["eval", "repeat(x, -1)", "--var", x]);
    assert!(err.contains("repeats may not be negative"), "{err}");
    let err = user_error(&["eval", "repeat(x, r, axis=1)", "--var", x, "--var", "r:lvector=[1,2]"]);
    assert!(err.contains("shape mismatch"), "{err}");
    let err = user_error(&["eval", "eye(n)", "--var", "n:lscalar=-1"]);
    assert!(err.contains("negative dimensions"), "{err}");
}
