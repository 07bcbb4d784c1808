//! Golden text tests of the optimizer, in the manner of Cranelift's filetests.
//!
//! Every `tests/filetests/<phase>/<name>.tir` file is one case:
//!
//! ```text
//! ; test: canonicalize            phases to run: canonicalize, stabilize, specialize, fusion
//! ;                               (a comma list runs exactly those, in pipeline order) or all
//! ; set: fast_math, exclude=local_log1p      optional options (also rtol=<x>, below)
//! ; fires: local_add_canonizer    optional: rules that must appear in the trace
//! ; not-fires: local_log1p        optional: rules that must not appear in the trace
//! ; skip: <reason>                optional: the case is not run (a known bug), only counted
//! graph {
//!   ... the input graph in text form ...
//! }
//! ; expect:
//! ; graph {
//! ;   ... the optimized graph, each line prefixed with "; " ...
//! ; }
//! ```
//!
//! The runner parses the input with `FunctionGraph::parse`, optimizes it with
//! `tensorlift_opt::optimize` (verifier on), and compares the printed result with the
//! expectation exactly. When every input of the graph is a float tensor and `fast_math` is
//! off, input and output graphs are also evaluated by the interpreter on seeded
//! pseudo-random inputs (unknown lengths taken as 3) and must agree within 1e-12 relative
//! (NaN equals NaN); `; set: rtol=<x>` loosens that for a case whose *input* graph is the
//! inaccurate one (a stabilization under test), with the reason in a comment.
//!
//! A skipped case is not optimized, but its expectation must still parse and, under the same
//! rule, compute what its input computes: a known-bug case cannot rot unnoticed.
//!
//! With `TENSORLIFT_BLESS=1` the `; expect:` section of every case (not skipped) is rewritten
//! with the actual output instead of failing; everything else in the file is kept.
//! `TENSORLIFT_FILETEST=<substring>` runs only the cases whose path contains the substring.

mod common;

use common::rng::Rng;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tensorlift::{DType, FunctionGraph, Tensor};
use tensorlift_opt::{OptConfig, Phase};
use tensorlift_runtime::Interpreter;

/// The line that starts the expected output.
const EXPECT_MARKER: &str = "; expect:";

/// Relative tolerance of the numeric check.
const RTOL: f64 = 1e-12;

/// Length given to an axis whose length the type leaves unknown.
const UNKNOWN_LEN: usize = 3;

/// One parsed case file.
#[derive(Debug)]
struct Case {
    path: PathBuf,
    /// The file's text.
    text: String,
    /// The phases to run.
    phases: Vec<Phase>,
    fast_math: bool,
    /// Relative tolerance of the numeric check.
    rtol: f64,
    excluded: Vec<String>,
    fires: Vec<String>,
    not_fires: Vec<String>,
    skip: Option<String>,
    /// The input graph's text (everything before the expect marker).
    input: String,
    /// The expected output text (the marker's section without the `; ` prefixes), if any.
    expected: Option<String>,
}

/// The folder of the cases.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("filetests")
}

/// Every `.tir` file under `dir`, sorted.
fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tir") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The names of every rule of every phase.
fn rule_names() -> BTreeSet<&'static str> {
    tensorlift_opt::all_rules().map(|(_, r)| r.name).collect()
}

/// A comma- or space-separated list.
fn list(v: &str) -> Vec<String> {
    v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// Reads a case file's headers, input and expectation.
fn parse_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let (input, expected) = match text.find(&format!("\n{EXPECT_MARKER}")) {
        Some(at) => {
            let input = text[..at + 1].to_string();
            let rest = &text[at + 1 + EXPECT_MARKER.len()..];
            let mut lines = rest.lines();
            let first = lines.next().unwrap_or("");
            if !first.trim().is_empty() {
                return Err(format!("text after `{EXPECT_MARKER}` on its line"));
            }
            let mut exp = String::new();
            for (k, l) in lines.enumerate() {
                let body = l
                    .strip_prefix("; ")
                    .or_else(|| l.strip_prefix(';'))
                    .ok_or_else(|| format!("expect line {} is not a `; ` comment: {l:?}", k + 1))?;
                exp.push_str(body);
                exp.push('\n');
            }
            (input, Some(exp))
        }
        None => (text.clone(), None),
    };
    let known = rule_names();
    let check_rules = |names: &[String], what: &str| -> Result<(), String> {
        match names.iter().find(|n| !known.contains(n.as_str())) {
            Some(bad) => Err(format!("{what}: unknown rule `{bad}`")),
            None => Ok(()),
        }
    };
    let mut case = Case {
        path: path.to_path_buf(),
        text: text.clone(),
        phases: Vec::new(),
        fast_math: false,
        rtol: RTOL,
        excluded: Vec::new(),
        fires: Vec::new(),
        not_fires: Vec::new(),
        skip: None,
        input: input.clone(),
        expected,
    };
    let mut saw_test = false;
    for line in input.lines() {
        let Some(comment) = line.trim_start().strip_prefix(';') else { continue };
        let Some((key, value)) = comment.split_once(':') else { continue };
        let value = value.trim();
        let key = key.trim();
        match key {
            "test" => {
                saw_test = true;
                for name in list(value) {
                    if name == "all" {
                        case.phases.extend(Phase::ALL);
                    } else {
                        let p = Phase::ALL
                            .into_iter()
                            .find(|p| p.name() == name)
                            .ok_or_else(|| format!("test: unknown phase `{name}`"))?;
                        case.phases.push(p);
                    }
                }
            }
            "set" => {
                for opt in list(value) {
                    if opt == "fast_math" {
                        case.fast_math = true;
                    } else if let Some(v) = opt.strip_prefix("rtol=") {
                        case.rtol = v.parse().map_err(|_| format!("set: bad rtol `{v}`"))?;
                    } else if let Some(rule) = opt.strip_prefix("exclude=") {
                        case.excluded.push(rule.to_string());
                    } else {
                        return Err(format!("set: unknown option `{opt}`"));
                    }
                }
            }
            "fires" => case.fires.extend(list(value)),
            "not-fires" => case.not_fires.extend(list(value)),
            "skip" => case.skip = Some(value.to_string()),
            // Any other `; word: …` line is a misspelt header (prose has spaces before `:`).
            _ if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_') => {
                return Err(format!("unknown header `{key}:`"));
            }
            _ => {}
        }
    }
    if !saw_test || case.phases.is_empty() {
        return Err("missing `; test: <phases>` header".into());
    }
    check_rules(&case.fires, "fires")?;
    check_rules(&case.not_fires, "not-fires")?;
    check_rules(&case.excluded, "set exclude")?;
    Ok(case)
}

/// The options of a case: its phases, options, and the verifier on.
fn config_of(case: &Case) -> OptConfig {
    let mut config = OptConfig { verify: true, fast_math: case.fast_math, ..OptConfig::default() };
    // The environment's exclusions must not change golden results.
    config.excluded = case.excluded.clone();
    for p in Phase::ALL {
        if !case.phases.contains(&p) {
            config = config.skipping(p);
        }
    }
    config
}

/// A line diff of two texts (longest common subsequence): `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "    {}", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(out, "  + {}", b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "  - {}", a[i]);
            i += 1;
        }
    }
    out
}

/// A test input value, uniform in [-2.5, 2.5).
fn value(rng: &mut Rng) -> f64 {
    rng.uniform() * 5.0 - 2.5
}

/// Seeded inputs for `g`, or `None` when some input is not a float tensor.
fn random_inputs(g: &FunctionGraph) -> Option<Vec<Tensor>> {
    let mut rng = Rng::new(0x5EED);
    g.inputs()
        .iter()
        .map(|&i| {
            let ty = g.ty(i);
            if !ty.dtype.is_float() {
                return None;
            }
            let shape: Vec<usize> = ty.shape.iter().map(|d| d.unwrap_or(UNKNOWN_LEN)).collect();
            let n: usize = shape.iter().product();
            let data: Vec<f64> = (0..n).map(|_| value(&mut rng)).collect();
            let t =
                Tensor::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), data).expect("shape"));
            Some(if ty.dtype == DType::F64 { t } else { t.cast(ty.dtype) })
        })
        .collect()
}

/// True when `x` and `y` agree within `rtol` relative (NaN equal to NaN, infinities and
/// signed zeros only to themselves).
fn close(x: f64, y: f64, rtol: f64) -> bool {
    (x == y && (x != 0.0 || x.is_sign_negative() == y.is_sign_negative()))
        || (x.is_nan() && y.is_nan())
        || (x.is_finite() && y.is_finite() && (x - y).abs() <= rtol * x.abs().max(y.abs()))
}

/// Evaluates both graphs on the same seeded inputs and compares their outputs.
fn check_numerics(input: &FunctionGraph, output: &FunctionGraph, rtol: f64) -> Result<(), String> {
    let Some(args) = random_inputs(input) else { return Ok(()) };
    let run = |g: &FunctionGraph| Interpreter::new(g).run(g, &args).map_err(|e| e.to_string());
    let want = run(input).map_err(|e| format!("evaluating the input graph: {e}"))?;
    let got = run(output).map_err(|e| format!("evaluating the optimized graph: {e}"))?;
    if want.len() != got.len() {
        return Err(format!("{} outputs before, {} after", want.len(), got.len()));
    }
    for (k, (w, o)) in want.iter().zip(&got).enumerate() {
        if w.dtype() != o.dtype() || w.shape() != o.shape() {
            return Err(format!(
                "output {k}: {:?}{:?} before, {:?}{:?} after",
                w.dtype(),
                w.shape(),
                o.dtype(),
                o.shape()
            ));
        }
        let (a, b) = (w.to_f64_vec(), o.to_f64_vec());
        if let Some(e) = (0..a.len()).find(|&e| !close(a[e], b[e], rtol)) {
            return Err(format!(
                "output {k} element {e}: {:?} before, {:?} after (inputs {:?})",
                a[e],
                b[e],
                args.iter().map(Tensor::to_f64_vec).collect::<Vec<_>>()
            ));
        }
    }
    Ok(())
}

/// What running one case gave.
enum Outcome {
    Pass,
    Skipped(String),
    Blessed,
    Fail(String),
}

/// Runs one case (blessing its expectation when `bless`).
fn run_case(case: &Case, bless: bool) -> Outcome {
    let g = match FunctionGraph::parse(&case.input) {
        Ok(g) => g,
        Err(e) => return Outcome::Fail(format!("input does not parse: {e}")),
    };
    if let Some(reason) = &case.skip {
        return check_skipped(case, &g).map_or_else(Outcome::Fail, |()| Outcome::Skipped(reason.clone()));
    }
    let config = config_of(case);
    let optimized = match tensorlift_opt::optimize(&g, &config) {
        Ok(o) => o,
        Err(e) => return Outcome::Fail(format!("optimize failed: {e}")),
    };
    let actual = optimized.graph.to_string();
    let mut problems = Vec::new();
    for rule in &case.fires {
        if !optimized.trace.fired(rule) {
            problems.push(format!("`{rule}` was expected to fire and did not"));
        }
    }
    for rule in &case.not_fires {
        if optimized.trace.fired(rule) {
            problems.push(format!("`{rule}` fired and must not"));
        }
    }
    if !case.fast_math {
        if let Err(e) = check_numerics(&g, &optimized.graph, case.rtol) {
            problems.push(format!("results differ: {e}"));
        }
    }
    let mut blessed = false;
    if bless {
        if case.expected.as_deref() != Some(actual.as_str()) {
            let mut text = case.input.clone();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(EXPECT_MARKER);
            text.push('\n');
            for l in actual.lines() {
                let _ = writeln!(text, "; {l}");
            }
            if text != case.text {
                if let Err(e) = std::fs::write(&case.path, text) {
                    problems.push(format!("cannot write: {e}"));
                }
                blessed = true;
            }
        }
    } else {
        match &case.expected {
            None => problems.push(format!("no `{EXPECT_MARKER}` section; actual output:\n{actual}")),
            Some(exp) if *exp != actual => {
                problems.push(format!("output differs (- expected, + actual):\n{}", diff(exp, &actual)))
            }
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        let mut msg = problems.join("\n");
        let _ = write!(msg, "\ntrace:\n{}", optimized.trace);
        return Outcome::Fail(msg);
    }
    if blessed {
        Outcome::Blessed
    } else {
        Outcome::Pass
    }
}

/// A skipped case's expectation parses, prints back as written, and computes what the
/// input computes.
fn check_skipped(case: &Case, input: &FunctionGraph) -> Result<(), String> {
    let exp = case.expected.as_deref().ok_or("a skipped case needs its correct expectation")?;
    let expected = FunctionGraph::parse(exp).map_err(|e| format!("the expectation does not parse: {e}"))?;
    let printed = expected.to_string();
    if printed != exp {
        return Err(format!("the expectation does not print back as written:\n{}", diff(exp, &printed)));
    }
    if case.fast_math {
        return Ok(());
    }
    check_numerics(input, &expected, case.rtol)
        .map_err(|e| format!("the expectation computes otherwise: {e}"))
}

/// The cases selected by `TENSORLIFT_FILETEST` (all by default).
fn selected_files() -> Vec<PathBuf> {
    let filter = std::env::var("TENSORLIFT_FILETEST").unwrap_or_default();
    case_files(&root()).into_iter().filter(|p| p.to_string_lossy().contains(&filter)).collect()
}

/// The path of a case relative to the repository, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path).display().to_string()
}

#[test]
fn filetests() {
    let bless = std::env::var_os("TENSORLIFT_BLESS").is_some_and(|v| v != "0");
    let (mut passed, mut skipped, mut blessed) = (0, Vec::new(), 0);
    let mut failures = Vec::new();
    for path in selected_files() {
        let outcome = match parse_case(&path) {
            Ok(case) => run_case(&case, bless),
            Err(e) => Outcome::Fail(format!("bad case file: {e}")),
        };
        match outcome {
            Outcome::Pass => passed += 1,
            Outcome::Blessed => blessed += 1,
            Outcome::Skipped(reason) => skipped.push(format!("{}: {reason}", shown(&path))),
            Outcome::Fail(msg) => failures.push(format!("FAIL {}\n{msg}", shown(&path))),
        }
    }
    for s in &skipped {
        println!("skipped {s}");
    }
    println!(
        "filetests: {passed} passed, {blessed} blessed, {} skipped, {} failed",
        skipped.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} filetest(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_suite_has_at_least_60_cases() {
    let n = case_files(&root()).len();
    assert!(n >= 60, "only {n} filetests");
}

/// Every rule of every phase is named in the `fires:` list of some case that runs.
#[test]
fn every_rule_fires_in_some_case() {
    let mut covered = BTreeSet::new();
    for path in case_files(&root()) {
        let case = parse_case(&path).unwrap_or_else(|e| panic!("{}: {e}", shown(&path)));
        if case.skip.is_none() {
            covered.extend(case.fires);
        }
    }
    let missing: Vec<&str> = rule_names().into_iter().filter(|r| !covered.contains(*r)).collect();
    assert!(missing.is_empty(), "rules no case expects to fire: {missing:?}");
}
