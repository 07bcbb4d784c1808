//! Fuzzing the command's parsers on stable Rust (#12), without coverage feedback: the
//! expression parser and graph builder (`parse::parse`, `build::build`), the value parser
//! (`values::parse_value`, `values::parse_constant_body`) and the `--var` parser
//! (`vars::parse_decl`) on structured random inputs. Every input must give a value or an
//! error, never a panic. (`cli/fuzz/` is the libFuzzer target, which needs nightly;
//! `fuzz_corpus.rs` replays its corpus.)
//!
//! Inputs, in turn:
//! - expressions from a grammar of the language: names (declared, undeclared and the
//!   variables' own), numbers of every spelling and size, strings, `True`/`False`/`None`,
//!   every known function with positional and keyword arguments (`axis=`, `keepdims=`,
//!   `dtype=`), every operator with Python's precedence, `|x|`, `\dot`, attributes
//!   (`.T`, `.sum(axis=0)`), subscripts with slices and steps, lists and tuples, and the
//!   `pp` forms (`TensorConstant{…}`, `cast{float32}(…)`, `DimShuffle{0,x}(…)`,
//!   `reshape(x, [@0,-1])`), nested up to a random depth;
//! - such an expression, a corpus entry (`cli/fuzz/corpus/parse/`) or a known-good
//!   expression after one to four edits (`tests/common/mutate.rs`);
//! - `--var` specifications `NAME:TYPE=VALUE` from valid and mangled names, every type name
//!   and near misses, and values (nested lists, ragged and deep, and mutated ones);
//! - `TensorConstant` bodies in NumPy's print form, valid and mutated.
//!
//! `TENSORLIFT_FUZZ_INPUTS` inputs (20 000 by default, a few seconds in `--release`; set
//! 1000000 for the long run), from `TENSORLIFT_FUZZ_SEED`. A failure prints the input.

#[path = "../../tests/common/mutate.rs"]
mod mutate;
#[path = "../../tests/common/rng.rs"]
mod rng;

use mutate::{below, Mutator};
use rng::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tensorlift as tl;
use tensorlift_cli::build::{build, known_functions, Scope};
use tensorlift_cli::values::{parse_constant_body, parse_value};
use tensorlift_cli::vars::{parse_decl, type_names};

const NAMES: &[&str] = &["x", "m", "s", "i", "f", "b", "y", "W", "foo", "exp", "sum", "T", "_", "x1", "é"];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    "2.5",
    "1e-3",
    "1e308",
    "1e309",
    "-0.0",
    "inf",
    "nan",
    "NaN",
    "1e-320",
    "3",
    "10",
    "9999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1_000",
    "0x1f",
    "1.",
    ".5",
    "4e",
    "1e+2",
    "0.1",
];

const BINARY: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "**", "<", ">", "<=", ">=", "==", "!=", "&", "|", "^", "@", " \\dot ",
    " and ", " or ",
];

const KEYWORDS: &[&str] = &["axis", "keepdims", "dtype", "axes", "ndim", "shape", "acc_dtype", "x"];

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[below(rng, xs.len())]
}

/// A random expression of the command's language, nested up to `depth`.
fn expr(rng: &mut Rng, depth: usize, functions: &[&str]) -> String {
    if depth == 0 || below(rng, 4) == 0 {
        return match below(rng, 8) {
            0..=2 => pick(rng, NAMES).to_string(),
            3..=5 => pick(rng, NUMBERS).to_string(),
            6 => pick(rng, &["True", "False", "None", "'float32'", "'x'", "\"int64\"", "'"]).to_string(),
            _ => format!("TensorConstant{{{}}}", constant_body(rng)),
        };
    }
    let d = depth - 1;
    let sub = |rng: &mut Rng| expr(rng, d, functions);
    match below(rng, 14) {
        0..=2 => {
            let (a, b) = (sub(rng), sub(rng));
            format!("{a} {} {b}", pick(rng, BINARY))
        }
        3 => format!("({})", sub(rng)),
        4 => format!("{}{}", pick(rng, &["-", "+", "~", "not ", "--"]), sub(rng)),
        5..=7 => {
            let n = below(rng, 4);
            let mut args: Vec<String> = (0..n).map(|_| sub(rng)).collect();
            if below(rng, 3) == 0 {
                let v = sub(rng);
                args.push(format!("{}={v}", pick(rng, KEYWORDS)));
            }
            format!("{}({})", functions[below(rng, functions.len())], args.join(", "))
        }
        8 => {
            let a = sub(rng);
            let attr = pick(
                rng,
                &[
                    "T",
                    "sum(axis=0)",
                    "mean()",
                    "max(axis=-1, keepdims=True)",
                    "astype('float32')",
                    "shape",
                    "ndim",
                    "dimshuffle(0, 'x')",
                    "reshape((2, -1))",
                    "nope",
                ],
            );
            format!("{a}.{attr}")
        }
        9 => {
            let a = sub(rng);
            let idx: Vec<String> = (0..1 + below(rng, 3))
                .map(|_| match below(rng, 4) {
                    0 => pick(rng, NUMBERS).to_string(),
                    1 => format!(
                        "{}:{}",
                        pick(rng, &["", "1", "-1", "i"]),
                        pick(rng, &["", "2", "-2", "9999999999"])
                    ),
                    2 => format!("::{}", pick(rng, &["-1", "2", "0", "-9223372036854775808"])),
                    _ => sub(rng),
                })
                .collect();
            format!("{a}[{}]", idx.join(", "))
        }
        10 => {
            let n = below(rng, 4);
            let items: Vec<String> = (0..n).map(|_| sub(rng)).collect();
            let (o, c) = if below(rng, 2) == 0 { ("[", "]") } else { ("(", ",)") };
            format!("{o}{}{c}", items.join(", "))
        }
        11 => format!("|{}|", sub(rng)),
        12 => {
            let a = sub(rng);
            match below(rng, 3) {
                0 => format!(
                    "cast{{{}}}({a})",
                    pick(rng, &["float32", "float64", "int64", "bool", "int8", ""])
                ),
                1 => format!("DimShuffle{{{}}}({a})", pick(rng, &["0,x", "x", "1,0", "", "x,0,x", "9"])),
                _ => format!(
                    "reshape({a}, [{}])",
                    pick(rng, &["@0,-1", "-1", "2,-1,-1", "@9", "0", "9999999999,9999999999"])
                ),
            }
        }
        _ => {
            let (c, a, b) = (sub(rng), sub(rng), sub(rng));
            format!("switch({c}, {a}, {b})")
        }
    }
}

/// A `TensorConstant` body as `pp` prints it (NumPy's form), sometimes ragged or odd.
fn constant_body(rng: &mut Rng) -> String {
    match below(rng, 5) {
        0 => pick(rng, NUMBERS).to_string(),
        1 => "[1. 2. 3.]".to_string(),
        2 => format!(
            "[[{} {}] [{} {}]]",
            pick(rng, NUMBERS),
            pick(rng, NUMBERS),
            pick(rng, NUMBERS),
            pick(rng, NUMBERS)
        ),
        3 => format!("[{} of float64]", pick(rng, &["3", "2, 3", "9999999999"])),
        _ => pick(
            rng,
            &["[[1. 2.] [3.]]", "[", "[[]]", "true", "[True False]", "[1 2", "[nan inf -inf]", "[[[[1]]]]"],
        )
        .to_string(),
    }
}

/// A value as `--var` takes it: nested lists of numbers, possibly ragged or deep.
fn value(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || below(rng, 3) == 0 {
        return pick(rng, NUMBERS).to_string();
    }
    let n = below(rng, 4);
    let items: Vec<String> = (0..n).map(|_| value(rng, depth - 1)).collect();
    format!("[{}]", items.join(","))
}

/// A `--var` specification.
fn var_spec(rng: &mut Rng, types: &[String]) -> String {
    let name = pick(rng, &["x", "m", "x_1", "1x", "", "a b", "é", "x:y", "_"]);
    let ty = if below(rng, 5) == 0 {
        pick(rng, &["", "dmatrixx", "vector", "ftensor5", "Dscalar", "bool"]).to_string()
    } else {
        types[below(rng, types.len())].clone()
    };
    match below(rng, 4) {
        0 => format!("{name}:{ty}"),
        1 => format!("{name}={}", value(rng, 4)),
        _ => format!("{name}:{ty}={}", value(rng, 4)),
    }
}

fn scope() -> Scope {
    let mut scope = Scope::new();
    for v in [
        tl::dvector("x"),
        tl::dmatrix("m"),
        tl::dscalar("s"),
        tl::lscalar("i"),
        tl::fvector("f"),
        tl::bvector("b"),
    ] {
        scope.declare(&v.name().expect("named"), v.clone());
    }
    scope
}

fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("the corpus exists").map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out: Vec<String> =
        files.iter().filter_map(|f| String::from_utf8(std::fs::read(f).ok()?).ok()).collect();
    out.extend(
        [
            "1/(1+exp(-x))",
            "(x - 4) * (x**2 + 6)",
            "reshape(m, [@0,-1])",
            "(m \\dot x)",
            "|x| + cast{float32}(x)",
            "sum(m, axis=(1,), keepdims=True)",
            "m[1:, ::-1].T",
            "set_subtensor(x[0], s)",
            "softmax(m, axis=-1)",
            "x:dvector=[1,2,3]",
        ]
        .map(String::from),
    );
    out
}

/// Runs every parser on `src`; `Err` is the panic's message.
fn check(src: &str, scope: &Scope) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        let _ = tensorlift_cli::parse::parse(src);
        let _ = parse_value(src);
        let _ = build(src, scope);
        let _ = parse_decl(src);
        let _ = parse_constant_body(src);
    }))
    .map_err(|p| mutate::panic_message(&*p))
}

#[test]
fn random_inputs_never_panic() {
    let n = mutate::inputs(20_000);
    let seed = mutate::seed(12);
    let mut functions = known_functions();
    functions.extend(["nope", "Sum", "cast", "TensorConstant"]);
    let types = type_names();
    let corpus = corpus();
    let mut dictionary: Vec<&str> = functions.clone();
    dictionary.extend(BINARY);
    dictionary.extend(KEYWORDS);
    dictionary.extend(NUMBERS);
    let m = Mutator { dictionary: &dictionary, corpus: &corpus };
    let scope = scope();
    let mut rng = Rng::new(seed);
    let (mut built, mut failures) = (0u64, Vec::new());
    let start = std::time::Instant::now();
    for k in 0..n {
        let src = match k % 5 {
            0 | 1 => {
                let depth = 1 + below(&mut rng, 6);
                expr(&mut rng, depth, &functions)
            }
            2 => {
                let base = if below(&mut rng, 2) == 0 {
                    expr(&mut rng, 4, &functions)
                } else {
                    corpus[below(&mut rng, corpus.len())].clone()
                };
                m.mutate(&mut rng, &base)
            }
            3 => {
                let spec = var_spec(&mut rng, &types);
                if below(&mut rng, 3) == 0 {
                    m.mutate(&mut rng, &spec)
                } else {
                    spec
                }
            }
            _ => {
                let body = constant_body(&mut rng);
                if below(&mut rng, 2) == 0 {
                    m.mutate(&mut rng, &body)
                } else {
                    body
                }
            }
        };
        if k % 5 < 3 && catch_unwind(AssertUnwindSafe(|| build(&src, &scope).is_ok())).unwrap_or(false) {
            built += 1;
        }
        if let Err(e) = check(&src, &scope) {
            failures.push(format!("input {k} (TENSORLIFT_FUZZ_SEED={seed}) panics: {e}\ninput: {src:?}"));
        }
    }
    let summary = format!(
        "fuzz_parsers: {n} inputs in {:.1} s, {built} expressions built",
        start.elapsed().as_secs_f64()
    );
    mutate::finish(&summary, &failures);
}
