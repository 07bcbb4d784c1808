//! Fuzzing the text-IR parser on stable Rust (#12): `FunctionGraph::parse` on structured
//! random mutations of real graphs, with no coverage feedback (cargo-fuzz needs nightly).
//!
//! Seeds: every graph of the optimizer's golden filetests (`tests/filetests/**/*.tir`, both
//! the input graph and the expected one, so composites, fused reductions, `gemm`, indexing
//! and reshapes all appear), plus graphs with special constants of every dtype. Each input
//! is a seed after one to four edits (`tests/common/mutate.rs`: lines deleted, duplicated,
//! swapped or spliced from another seed, characters deleted or replaced, numbers and words
//! replaced by extreme integers, float spellings, NaN payloads, escapes, op names and types,
//! ranges repeated, truncation).
//!
//! Properties, for every input: `parse` returns, never panics; an error is a
//! `GraphError::Parse`; a parsed graph verifies or gives a typed error, prints, and its
//! text parses back to the same text (print → parse → print is stable).
//!
//! `TENSORLIFT_FUZZ_INPUTS` inputs (20 000 by default, a second or so in `--release`; set
//! 1000000 for the long run), from `TENSORLIFT_FUZZ_SEED`. A failure prints the input.
//! `mangled_text_never_panics` in `text_roundtrip.rs` covers single edits of one golden
//! text exhaustively; this covers random combinations over many graphs.

#[path = "../../tests/common/mutate.rs"]
mod mutate;
#[path = "../../tests/common/rng.rs"]
mod rng;

use mutate::{below, Mutator};
use rng::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use tensorlift_ir::*;

/// The graphs of a filetest: the input graph, and the expected graph of its `; expect:`
/// comment block.
fn graphs_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let body = line.strip_prefix("; ").unwrap_or(line);
        if body.starts_with("graph {") {
            cur = Some(String::new());
        }
        if let Some(c) = cur.as_mut() {
            c.push_str(body);
            c.push('\n');
            if body == "}" {
                out.extend(cur.take());
            }
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("the filetests exist").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "tir") {
            out.extend(graphs_of(&std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// Special constants of every dtype, and shared variables and names that need quoting.
const EXTRA: &str = "graph {
  %0 = input \"x\\n\\\"y\" : float32[2,?]
  %1 = constant [NaN, -0.0, inf, 1e-45] : float32[4]
  %2 = constant NaN(0x7ff8000000000001) : float64[]
  %3 = constant [[true, false]] : bool[1,2]
  %4 = constant [-9223372036854775808, 9223372036854775807] : int64[2]
  %5 = constant [] : int32[0]
  %6 = shared \"W\" : float64[?,3] \"w2\"
  %7 = cast{float64}(%0) : float64[2,?]
  %8 = reshape{[-1]}(%7) : float64[?]
  return %1, %2, %3, %4, %5, %6, %8
}
";

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/filetests");
    let mut out = Vec::new();
    collect(&dir, &mut out);
    out.push(EXTRA.to_string());
    out
}

const DICTIONARY: &[&str] = &[
    "graph {",
    "}",
    "return",
    "input",
    "shared",
    "constant",
    "%0",
    "%1",
    "%7",
    "float64",
    "float32",
    "int64",
    "int32",
    "bool",
    "[?]",
    "[?,?]",
    "[1,?]",
    "[]",
    "[0]",
    "add",
    "sub",
    "mul",
    "true_div",
    "pow",
    "exp",
    "log",
    "sqrt",
    "neg",
    "switch",
    "gt",
    "cast{int32}",
    "sum{axes=[0]}",
    "max{axes=[0, 1], keepdims}",
    "argmax{axes=[1]}",
    "logsumexp{axes=[0]}",
    "softmax{axis=1}",
    "log_softmax{axis=0}",
    "dot",
    "gemm",
    "concatenate{axis=0}",
    "split_part{axis=0, part=0}",
    "dimshuffle{1,0}",
    "dimshuffle{x}",
    "dimshuffle{}",
    "reshape{[2,-1]}",
    "reshape{[@0,^1]}",
    "subtensor{1:2:1, ?}",
    "subtensor{::-1}",
    "set_subtensor{0}",
    "inc_subtensor{?}",
    "composite{in float64 | t0 = exp(i0) | return t0}",
    "composite_output{1, float64}",
    "fused_sum{axes=[0], in float64 | t0 = sqr(i0) | return t0}",
    "t0",
    "i0",
    "i9",
    "const float64 1.0",
];

/// Parses `text` and checks the properties: `Ok(true)` when it parsed, `Ok(false)` for a
/// parse error, `Err` describing a violation.
fn check(text: &str) -> Result<bool, String> {
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<bool, String> {
        let g = match FunctionGraph::parse(text) {
            Ok(g) => g,
            Err(GraphError::Parse { .. }) => return Ok(false),
            Err(e) => return Err(format!("not a parse error: {e}")),
        };
        let _ = g.verify();
        let printed = g.to_string();
        let again = FunctionGraph::parse(&printed)
            .map_err(|e| format!("the printed graph does not parse: {e}\n{printed}"))?;
        let reprinted = again.to_string();
        if reprinted != printed {
            return Err(format!("print → parse → print differs:\n{printed}---\n{reprinted}"));
        }
        Ok(true)
    }));
    r.unwrap_or_else(|p| Err(format!("panic: {}", mutate::panic_message(&*p))))
}

/// Found by the fuzzer: a value token of a scalar program starting with a multi-byte
/// character (`return é`) panicked in `ScalarProgram::parse_text`.
#[test]
fn non_ascii_value_token_in_a_composite_is_a_parse_error() {
    let text = "graph {\n  %0 = input \"x\" : float64[?]\n  %1 = composite{in float64 | return é}(%0) : float64[?]\n  return %1\n}\n";
    let r = catch_unwind(|| FunctionGraph::parse(text));
    assert!(
        matches!(r, Ok(Err(GraphError::Parse { .. }))),
        "{:?}",
        r.map_err(|p| mutate::panic_message(&*p))
    );
}

#[test]
fn corpus_parses_and_round_trips() {
    let corpus = corpus();
    assert!(corpus.len() >= 200, "only {} seed graphs", corpus.len());
    for text in &corpus {
        FunctionGraph::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        check(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}

#[test]
fn mutated_graphs_never_panic() {
    let corpus = corpus();
    let n = mutate::inputs(20_000);
    let seed = mutate::seed(12);
    let m = Mutator { dictionary: DICTIONARY, corpus: &corpus };
    let mut rng = Rng::new(seed);
    let (mut parsed, mut failures) = (0u64, Vec::new());
    let start = std::time::Instant::now();
    for k in 0..n {
        let seed_text = &corpus[below(&mut rng, corpus.len())];
        let text = m.mutate(&mut rng, seed_text);
        match check(&text) {
            Ok(true) => parsed += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("input {k} (TENSORLIFT_FUZZ_SEED={seed}): {e}\ninput: {text:?}")),
        }
    }
    let summary = format!("fuzz_text: {n} inputs in {:.1} s, {parsed} parsed", start.elapsed().as_secs_f64());
    mutate::finish(&summary, &failures);
}
