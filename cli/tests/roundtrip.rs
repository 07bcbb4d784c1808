//! Parser round trip (proptest): random expression graphs built with the library, printed
//! by `tensorlift::pp`, parsed and built back by the command's language, printed again.
//! The two prints must be identical, or — where printing normalizes (a constant written as
//! `TensorConstant{..}` that becomes a folded literal) — the two graphs must evaluate to the
//! same values. Also: random token soup never panics the parser or the builder.
//!
//! Cases: 48 by default (a few seconds); `TENSORLIFT_PROPTEST_CASES=N` for more.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tensorlift as tl;
use tensorlift_cli::build::{build, Scope};

fn cases() -> u32 {
    std::env::var("TENSORLIFT_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
}

fn runner() -> TestRunner {
    let config = Config { cases: cases(), failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

/// The variables every generated expression may read.
struct Vars {
    x: tl::Var,
    y: tl::Var,
    m: tl::Var,
    s: tl::Var,
    f: tl::Var,
    i: tl::Var,
}

impl Vars {
    fn new() -> Vars {
        Vars {
            x: tl::dvector("x"),
            y: tl::dvector("y"),
            m: tl::dmatrix("m"),
            s: tl::dscalar("s"),
            f: tl::fvector("f"),
            i: tl::lscalar("i"),
        }
    }

    fn scope(&self) -> Scope {
        let mut sc = Scope::new();
        for v in [&self.x, &self.y, &self.m, &self.s, &self.f, &self.i] {
            sc.declare(&v.name().unwrap(), v.clone());
        }
        sc
    }
}

/// A random expression tree, built into a `Var` by `Tree::build`.
#[derive(Clone, Debug)]
enum Tree {
    Leaf(u8),
    Const(f64),
    Int(i64),
    Unary(u8, Box<Tree>),
    Binary(u8, Box<Tree>, Box<Tree>),
    Reduce(u8, Option<isize>, bool, Box<Tree>),
    Soft(bool, Box<Tree>),
    Dot(Box<Tree>, Box<Tree>),
    Transpose(Box<Tree>),
    Index(u8, Box<Tree>),
    Switch(Box<Tree>, Box<Tree>, Box<Tree>),
    Cast(Box<Tree>),
    Join(Box<Tree>, Box<Tree>),
    SetSub(bool, Box<Tree>, Box<Tree>),
}

const UNARY: [fn(&tl::Var) -> tl::Var; 14] = [
    |v| tl::exp(v),
    |v| tl::log(v),
    |v| tl::sin(v),
    |v| tl::tanh(v),
    |v| tl::sigmoid(v),
    |v| tl::sqr(v),
    |v| tl::sqrt(v),
    |v| tl::abs(v),
    |v| -v,
    |v| tl::floor(v),
    |v| tl::softplus(v),
    |v| tl::log1p(v),
    |v| tl::erf(v),
    |v| tl::not(v),
];

fn binary(k: u8, a: &tl::Var, b: &tl::Var) -> tl::Var {
    match k % 12 {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / b,
        4 => a.pow(b),
        5 => tl::maximum(a, b),
        6 => tl::minimum(a, b),
        7 => a.lt(b),
        8 => a.ge(b),
        9 => tl::eq(a, b),
        10 => tl::and(a, b),
        _ => tl::or(a, b),
    }
}

impl Tree {
    fn build(&self, v: &Vars) -> tl::Var {
        match self {
            Tree::Leaf(k) => [&v.x, &v.y, &v.m, &v.s, &v.f, &v.i][*k as usize % 6].clone(),
            Tree::Const(c) => tl::constant(*c),
            Tree::Int(c) => tl::constant(*c),
            Tree::Unary(k, a) => UNARY[*k as usize % UNARY.len()](&a.build(v)),
            Tree::Binary(k, a, b) => {
                let (a, b) = (a.build(v), b.build(v));
                // Literal operands as the user writes them: `x * 2.0`.
                match (a.constant_value().map(|t| t.dtype()), b.constant_value()) {
                    (_, Some(t)) if t.dtype() == tl::DType::F64 && t.len() == 1 => {
                        let c = t.to_f64_vec()[0];
                        match k % 4 {
                            0 => &a + c,
                            1 => &a - c,
                            2 => &a * c,
                            _ => a.pow(c),
                        }
                    }
                    _ => binary(*k, &a, &b),
                }
            }
            Tree::Reduce(k, axis, keep, a) => {
                let a = a.build(v);
                let axes: tl::Axes = axis.map_or(tl::Axes::All, |ax| tl::Axes::These(vec![ax]));
                match k % 5 {
                    0 => a.sum_opts(axes, *keep),
                    1 => a.mean_opts(axes, *keep),
                    2 => a.max_opts(axes, *keep),
                    3 => a.argmax_opts(axes, *keep),
                    _ => tl::logsumexp(&a, axes, *keep),
                }
            }
            Tree::Soft(log, a) => {
                let a = a.build(v);
                if *log {
                    tl::log_softmax(&a, -1)
                } else {
                    tl::softmax(&a, -1)
                }
            }
            Tree::Dot(a, b) => tl::dot(a.build(v), b.build(v)),
            Tree::Transpose(a) => a.build(v).t(),
            Tree::Index(k, a) => {
                let a = a.build(v);
                match k % 4 {
                    0 => a.index(0),
                    1 => a.index(-1),
                    2 => a.get(&[tl::Index::slice(Some(1), None, 1)]),
                    _ => a.get(&[tl::Index::rev()]),
                }
            }
            Tree::Switch(c, a, b) => tl::switch(c.build(v).gt(0.0), a.build(v), b.build(v)),
            Tree::Cast(a) => tl::cast(a.build(v), tl::DType::F32),
            Tree::Join(a, b) => tl::concatenate(&[a.build(v), b.build(v)], 0),
            Tree::SetSub(set, a, b) => {
                let (a, b) = (a.build(v), b.build(v));
                if *set {
                    tl::set_subtensor(&a, tl::idx![0], &b)
                } else {
                    tl::inc_subtensor(&a, &[tl::Index::slice(Some(1), None, 1)], &b)
                }
            }
        }
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        6 => (0u8..6).prop_map(Tree::Leaf),
        1 => prop_oneof![Just(2.0), Just(-4.0), Just(0.5), Just(1e-3), Just(3.25)].prop_map(Tree::Const),
        1 => (-3i64..4).prop_map(Tree::Int),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let b = |t: Tree| Box::new(t);
        prop_oneof![
            4 => (any::<u8>(), inner.clone()).prop_map(move |(k, a)| Tree::Unary(k, b(a))),
            6 => (any::<u8>(), inner.clone(), inner.clone()).prop_map(move |(k, x, y)| Tree::Binary(k, b(x), b(y))),
            2 => (any::<u8>(), prop_oneof![Just(None), Just(Some(0)), Just(Some(-1))], any::<bool>(), inner.clone())
                .prop_map(move |(k, ax, keep, a)| Tree::Reduce(k, ax, keep, b(a))),
            1 => (any::<bool>(), inner.clone()).prop_map(move |(l, a)| Tree::Soft(l, b(a))),
            1 => (inner.clone(), inner.clone()).prop_map(move |(x, y)| Tree::Dot(b(x), b(y))),
            1 => inner.clone().prop_map(move |a| Tree::Transpose(b(a))),
            1 => (any::<u8>(), inner.clone()).prop_map(move |(k, a)| Tree::Index(k, b(a))),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(move |(c, x, y)| Tree::Switch(b(c), b(x), b(y))),
            1 => inner.clone().prop_map(move |a| Tree::Cast(b(a))),
            1 => (inner.clone(), inner.clone()).prop_map(move |(x, y)| Tree::Join(b(x), b(y))),
            1 => (any::<bool>(), inner.clone(), inner.clone()).prop_map(move |(s, x, y)| Tree::SetSub(s, b(x), b(y))),
        ]
    })
}

/// Evaluates `e` (a graph over the `Vars`) on fixed values; `None` when it fails at run
/// time (shapes that do not broadcast, for instance).
fn eval(e: &tl::Var, v: &Vars) -> Option<tl::Tensor> {
    let inputs = [&v.x, &v.y, &v.m, &v.s, &v.f, &v.i];
    let f = tl::Function::builder(&inputs, &[e])
        .mode(tl::Mode::Interp)
        .on_unused_input(tl::OnUnusedInput::Ignore)
        .build()
        .ok()?;
    let out = f
        .call(&tl::args![
            vec![0.5, -1.5, 2.0],
            vec![1.0, 0.25, -3.0],
            vec![vec![1.0, -2.0, 0.5], vec![3.0, 0.0, -1.0], vec![0.25, 4.0, 2.0]],
            0.75,
            vec![0.5f32, 2.0, -1.0],
            1i64
        ])
        .ok()?;
    out.into_iter().next()
}

/// Equal shapes and values. `pp` does not print a constant's dtype, so a constant that was
/// float64 beside a float32 tensor may come back as a float32 literal: values then agree to
/// float32 precision.
fn same_values(a: &tl::Tensor, b: &tl::Tensor) -> bool {
    if a.shape() != b.shape() {
        return false;
    }
    let f32ish = a.dtype() == tl::DType::F32 || b.dtype() == tl::DType::F32;
    let tol = if f32ish { 1e-4 } else { 1e-9 };
    a.to_f64_vec().iter().zip(b.to_f64_vec()).all(|(x, y)| {
        (x.is_nan() && y.is_nan()) || *x == y || (x - y).abs() <= tol * (1.0 + y.abs().max(x.abs()))
    })
}

#[test]
fn pp_parses_back_to_the_same_graph() {
    let v = Vars::new();
    let scope = v.scope();
    let identical = std::cell::Cell::new(0usize);
    let built = std::cell::Cell::new(0usize);
    let mut r = runner();
    r.run(&tree(), |t| {
        let e = t.build(&v);
        if e.check().is_err() {
            return Ok(()); // a random tree that does not type-check
        }
        built.set(built.get() + 1);
        let printed = tl::pp(&e);
        let back = build(&printed, &scope).unwrap_or_else(|err| {
            panic!("pp output does not parse back:\n{}\ntree: {t:?}", err.render(&printed))
        });
        let reprinted = tl::pp(&back.var);
        if reprinted == printed {
            identical.set(identical.get() + 1);
            return Ok(());
        }
        // Printing normalized something: the values must agree.
        match (eval(&e, &v), eval(&back.var, &v)) {
            (Some(a), Some(b)) => prop_assert!(
                same_values(&a, &b),
                "different values:\n  {printed}\n  {reprinted}\n  {a}\n  {b}"
            ),
            (None, None) => {}
            (a, b) => prop_assert!(
                false,
                "one evaluates, one does not:\n  {printed} -> {a:?}\n  {reprinted} -> {b:?}"
            ),
        }
        prop_assert_eq!(back.var.ndim(), e.ndim(), "ranks differ:\n  {}\n  {}", printed, reprinted);
        Ok(())
    })
    .unwrap();
    let (identical, built) = (identical.get(), built.get());
    assert!(built > 0);
    assert!(identical * 2 >= built, "most prints should round-trip exactly: {identical} of {built}");
}

#[test]
fn fixed_prints_round_trip() {
    let v = Vars::new();
    let scope = v.scope();
    let exprs = [
        (&v.x * 2.0) + 1.0,
        1.0 / (1.0 + tl::exp(-&v.m)),
        v.m.sum_opts([1], true),
        tl::dot(&v.m, &v.x),
        v.m.t().index(0),
        v.m.get(&[tl::Index::slice(Some(1), None, 1), tl::Index::step(2)]),
        tl::cast(&v.x, tl::DType::F32),
        tl::switch(v.x.gt(0.0), &v.x, &v.y),
        tl::softmax(&v.m, 1),
        tl::set_subtensor(&v.x, tl::idx![1], 0.0),
        tl::concatenate(&[v.x.clone(), v.y.clone()], 0),
        v.x.index(&v.i),
        v.x.dimshuffle_pattern("0,x"),
        v.m.flatten(1),
        tl::abs(&v.x - &v.y),
        tl::and(v.x.lt(&v.y), v.x.gt(0.0)),
        tl::constant(vec![1.0, 2.0, 3.0]) * &v.x,
    ];
    for e in exprs {
        e.check().unwrap();
        let printed = tl::pp(&e);
        let back = build(&printed, &scope).unwrap_or_else(|err| panic!("{}", err.render(&printed)));
        assert_eq!(tl::pp(&back.var), printed);
        assert_eq!(back.var.ty(), e.ty(), "{printed}");
    }
}

#[test]
fn token_soup_never_panics() {
    let v = Vars::new();
    let scope = v.scope();
    let token = prop_oneof![
        Just("x"),
        Just("m"),
        Just("i"),
        Just("1"),
        Just("2.5"),
        Just("-"),
        Just("+"),
        Just("*"),
        Just("**"),
        Just("/"),
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just(","),
        Just(":"),
        Just("."),
        Just("T"),
        Just("sum"),
        Just("axis"),
        Just("="),
        Just("exp"),
        Just("dot"),
        Just("<"),
        Just("|"),
        Just("&"),
        Just("TensorConstant{2.0}"),
        Just("reshape"),
        Just("@0"),
        Just("'x'"),
        Just("None"),
        Just("True"),
        Just("set_subtensor"),
        Just("-1"),
        Just("9999999999"),
        Just("~"),
        Just("\\dot"),
        Just("softmax"),
    ];
    let mut r = runner();
    let n = cases() * 20;
    r = TestRunner::new_with_rng(
        Config { cases: n, ..r.config().clone() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]),
    );
    r.run(&prop::collection::vec(token, 0..14), |toks| {
        let src = toks.join(" ");
        let _ = build(&src, &scope);
        let _ = build(&toks.join(""), &scope);
        Ok(())
    })
    .unwrap();
}
