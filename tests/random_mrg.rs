//! Two draws of Theano's MRG streams: the normal truncated at two standard deviations
//! (`normal(truncate=True)`) and the choice by the rows of a probability matrix (MRG's
//! `choice(size, p=matrix)`, Theano's `ChoiceFromUniform`). The truncated normal against the
//! exact law of Theano's construction (Kolmogorov–Smirnov against its CDF, computed here by
//! quadrature, and its variance against the closed form's value); the choice by chi-square
//! of the first and second picks against their exact probabilities; both bit-identical
//! across thread counts and engines; shapes, symbolic sizes, the state's advance, typed
//! errors, printing and the text form. Every statistical test has a false-alarm rate of at
//! most 1e-3 for a good generator, with fixed seeds.

#[path = "common/draws.rs"]
mod draws;
#[path = "common/stats.rs"]
mod stats;

use draws::{assert_same_everywhere, draw, frozen};
use stats::{chi_square, ks, ks_critical, normal_cdf};
use tensorlift as tl;
use tl::{DType, Distribution, Function, Mode, RandomStreams, Tensor, Var};

const TRUNCATED: Distribution = Distribution::Normal { truncate: true };

/// A fresh generator state.
fn state(key: i64) -> Var {
    tl::shared_with_type(Tensor::from(vec![key, 12]), "state", tl::TensorType::fixed(DType::I64, &[2]))
        .expect("a state")
}

/// A probability matrix constant.
fn matrix(rows: &[Vec<f64>]) -> Var {
    let (r, c) = (rows.len(), rows[0].len());
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    tl::constant(Tensor::from(ndarray::Array2::from_shape_vec((r, c), flat).expect("rectangular").into_dyn()))
}

/// The CDF of Theano's truncated standard normal on `[-2, 2]`: `Z = R cos Θ` (Box–Muller)
/// when `|Z| ≤ 2`; otherwise `R' cos Θ`, the same angle and `R'` the radius conditioned on
/// `R ≤ 2` (`R'^2 = -2 ln V`, `V` uniform on `[e^-2, 1]`). With `w(θ) = P(|R cos θ| > 2) =
/// exp(-2 / cos²θ)`:
///
/// `F(x) = Φ(x) - Φ(-2) + E_Θ[w(Θ) P(R' cos Θ ≤ x)]`,
///
/// the expectation by the midpoint rule over `θ` (the integrand is periodic and smooth but
/// for kinks where `|x / cos θ| = 2`), tabulated on a grid and interpolated.
struct TruncatedCdf {
    table: Vec<f64>,
}

impl TruncatedCdf {
    const GRID: usize = 1600;
    const ANGLES: usize = 8000;

    fn new() -> TruncatedCdf {
        let e2 = (-2.0f64).exp();
        // P(R' ≤ r) for r ≥ 0.
        let radius = |r: f64| if r >= 2.0 { 1.0 } else { (1.0 - (-r * r / 2.0).exp()) / (1.0 - e2) };
        let angles: Vec<(f64, f64)> = (0..Self::ANGLES)
            .map(|m| {
                let c = (std::f64::consts::TAU * (m as f64 + 0.5) / Self::ANGLES as f64).cos();
                (c, if c == 0.0 { 0.0 } else { (-2.0 / (c * c)).exp() })
            })
            .collect();
        let table = (0..=Self::GRID)
            .map(|i| {
                let x = -2.0 + 4.0 * i as f64 / Self::GRID as f64;
                let redrawn: f64 = angles
                    .iter()
                    .map(|&(c, w)| {
                        let below = if c > 0.0 {
                            if x < 0.0 {
                                0.0
                            } else {
                                radius(x / c)
                            }
                        } else if x > 0.0 {
                            1.0
                        } else {
                            1.0 - radius(x / c)
                        };
                        w * below
                    })
                    .sum::<f64>()
                    / Self::ANGLES as f64;
                normal_cdf(x) - normal_cdf(-2.0) + redrawn
            })
            .collect();
        TruncatedCdf { table }
    }

    fn at(&self, x: f64) -> f64 {
        let t = ((x + 2.0) / 4.0 * Self::GRID as f64).clamp(0.0, Self::GRID as f64);
        let i = (t.floor() as usize).min(Self::GRID - 1);
        let f = t - i as f64;
        self.table[i] * (1.0 - f) + self.table[i + 1] * f
    }
}

/// The variance of Theano's truncated standard normal: `E[N²; |N| ≤ 2] + E[R'²] E[cos²Θ
/// w(Θ)]` = 0.793124198244479 (by quadrature with SciPy's `quad`; a truncated normal's is
/// 0.773741).
const TRUNCATED_VARIANCE: f64 = 0.793_124_198_244_479;

#[test]
fn the_truncated_law_is_a_distribution() {
    let cdf = TruncatedCdf::new();
    assert!((cdf.at(-2.0)).abs() < 1e-6, "F(-2) = {}", cdf.at(-2.0));
    assert!((cdf.at(2.0) - 1.0).abs() < 1e-6, "F(2) = {}", cdf.at(2.0));
    assert!((cdf.at(0.0) - 0.5).abs() < 1e-6, "F(0) = {}", cdf.at(0.0));
    assert!(cdf.table.windows(2).all(|w| w[0] <= w[1] + 1e-12), "non-decreasing");
}

#[test]
fn truncated_normal_stays_within_two_std_and_follows_theanos_law() {
    let cdf = TruncatedCdf::new();
    let rng = RandomStreams::new(2718);
    let n = 100_000;
    let (avg, std) = (1.5, 2.0);
    for dtype in [DType::F64, DType::F32] {
        let z = rng.draw(TRUNCATED, dtype, [n], vec![avg.into(), std.into()]);
        assert_eq!(z.dtype(), dtype);
        let xs = draw(&frozen(&z, Mode::Jit)).to_f64_vec();
        // -2.5 and 5.5 are exact in both dtypes.
        let (lo, hi) = (avg - 2.0 * std, avg + 2.0 * std);
        assert!(xs.iter().all(|&x| (lo..=hi).contains(&x)), "{dtype}: a sample outside [{lo}, {hi}]");
        let d = ks(xs.clone(), |x| cdf.at((x - avg) / std));
        assert!(d < ks_critical(n), "{dtype}: KS statistic {d}");
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64 / (std * std);
        // The estimator's standard deviation is sqrt((E Z^4 - var^2) / n) = 0.0029 (E Z^4 =
        // 1.45815): 0.013 is 4.5 of them.
        assert!((var - TRUNCATED_VARIANCE).abs() < 0.013, "{dtype}: variance {var} (std units)");
        assert!(
            (mean - avg).abs() < 4.5 * std * (TRUNCATED_VARIANCE / n as f64).sqrt(),
            "{dtype}: mean {mean}"
        );
    }
    // `normal_truncated` is this draw in floatX.
    let z = rng.normal_truncated([4, 3], 0.0, 1.0);
    assert_eq!(z.dtype(), tl::config::float_x());
    assert_eq!(z.ty().shape, vec![Some(4), Some(3)]);
}

#[test]
fn a_truncated_sample_is_the_plain_one_unless_it_is_beyond_two() {
    // One state and stream: the plain and the truncated draw share their Box–Muller pairs;
    // only the elements beyond ±2 get a new radius (and keep their sign).
    for dtype in [DType::F64, DType::F32] {
        let s = state(0x7a11);
        let params = || vec![0.0.into(), 1.0.into()];
        let plain =
            tl::random_draw(&s, Distribution::Normal { truncate: false }, dtype, [20_001], params(), 0);
        let cut = tl::random_draw(&s, TRUNCATED, dtype, [20_001], params(), 0);
        let f = Function::builder::<Var, _>(&[], &[&plain, &cut]).no_default_updates(true).build().unwrap();
        let out = f.call(&[]).unwrap();
        let (a, b) = (out[0].to_f64_vec(), out[1].to_f64_vec());
        let mut redrawn = 0;
        for (x, y) in a.iter().zip(&b) {
            if x.abs() <= 2.0 {
                assert_eq!(x, y, "{dtype}");
            } else {
                redrawn += 1;
                assert!(y.abs() <= 2.0 && x.signum() == y.signum(), "{dtype}: {x} became {y}");
            }
        }
        // P(|N| > 2) = 0.0455: 910 expected, standard deviation 29.5.
        assert!((redrawn as f64 - 910.0).abs() < 120.0, "{dtype}: {redrawn} redrawn");
    }
}

#[test]
fn truncated_normal_is_bit_identical_across_threads_and_engines() {
    let n = 100_003;
    let avgs = tl::constant(Tensor::from((0..n).map(|i| (i % 7) as f64).collect::<Vec<_>>()));
    for dtype in [DType::F64, DType::F32] {
        let s = state(0x5eed);
        let one = tl::random_draw(&s, TRUNCATED, dtype, [n], vec![0.0.into(), 1.0.into()], 0);
        let each = tl::random_draw(&s, TRUNCATED, dtype, [n], vec![avgs.cast(dtype).into(), 0.5.into()], 1);
        let a = assert_same_everywhere(&one);
        assert_same_everywhere(&each);
        // The first elements are a draw of their own (no dependence on the size).
        let head = frozen(&one.get(&[tl::Index::slice(Some(0), Some(7), 1)]), Mode::Jit);
        let short =
            frozen(&tl::random_draw(&s, TRUNCATED, dtype, [7], vec![0.0.into(), 1.0.into()], 0), Mode::Jit);
        assert_eq!(draw(&head).to_f64_vec(), a.to_f64_vec()[..7].to_vec());
        assert_eq!(draw(&short).to_f64_vec(), a.to_f64_vec()[..7].to_vec());
    }
}

#[test]
fn truncated_normal_prints_and_round_trips() {
    let rng = RandomStreams::new(10);
    let x = tl::dmatrix("x");
    let z = rng.normal_truncated(tl::shape(&x), 0.0, 1.0);
    assert!(tl::pp(&z).starts_with("normal_truncated{float64}(random_state_0, size=("), "{}", tl::pp(&z));
    let g = tl::graph::FunctionGraph::from_vars(&[&x], &[&z]).unwrap();
    let text = g.to_string();
    assert!(text.contains("random{normal_truncated, float64, [?,?]}"), "{text}");
    let back = tl::graph::FunctionGraph::parse(&text).expect("parses");
    assert_eq!(back.to_string(), text);
    // A negative std is refused when the function runs.
    let bad = rng.normal_truncated([2], 0.0, -1.0);
    assert!(tl::function::<Var, _>(&[], &[&bad]).unwrap().call(&[]).is_err());
}

#[test]
fn choice_by_rows_has_the_rows_first_and_distinct_picks() {
    let rng = RandomStreams::new(77);
    let p = matrix(&[
        vec![0.1, 0.2, 0.3, 0.15, 0.25],
        vec![0.0, 0.1, 0.8, 0.1, 0.0],
        vec![0.5, 0.0, 0.0, 0.25, 0.25],
    ]);
    let c = rng.choice([3], 5, false, Some(&p));
    assert_eq!((c.dtype(), c.ty().shape.clone()), (DType::I64, vec![Some(3), Some(3)]));
    let f = Function::builder::<Var, _>(&[], &[&c]).build().unwrap();
    let state = c.random_state().unwrap().clone();
    for call in 0..200 {
        let before = state.get_value().unwrap().to_vec::<i64>().unwrap()[1];
        let rows = draw(&f).to_vec2::<i64>().unwrap();
        // Nine picks use five blocks.
        assert_eq!(state.get_value().unwrap().to_vec::<i64>().unwrap()[1], before + 5);
        for row in &rows {
            let mut sorted = row.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 3, "call {call}: {rows:?}");
            assert!(row.iter().all(|&k| (0..5).contains(&k)));
        }
        // Rows 1 and 2 have three categories with mass: exactly those.
        for (r, want) in [(1, [1, 2, 3]), (2, [0, 3, 4])] {
            let mut picked = rows[r].clone();
            picked.sort();
            assert_eq!(picked, want, "call {call}, row {r}");
        }
    }
    // All the mass on one category: it is picked first (the only pick it allows without
    // replacement), and every time with replacement.
    let certain = matrix(&[vec![0.0, 0.0, 1.0, 0.0, 0.0], vec![0.2; 5], vec![0.0, 0.0, 0.0, 0.0, 1.0]]);
    let first = rng.choice([1], 5, false, Some(&certain));
    let f = Function::builder::<Var, _>(&[], &[&first]).build().unwrap();
    for _ in 0..50 {
        let rows = draw(&f).to_vec2::<i64>().unwrap();
        assert_eq!((rows[0][0], rows[2][0]), (2, 4));
    }
    let r = rng.choice([8], 5, true, Some(&certain));
    let rows = draw(&frozen(&r, Mode::Jit)).to_vec2::<i64>().unwrap();
    assert_eq!((rows[0].clone(), rows[2].clone()), (vec![2; 8], vec![4; 8]));
    // An int32 result, and a size of no length: one pick per row.
    let i = rng.draw(
        Distribution::Choice { replace: false, weighted: true },
        DType::I32,
        [2],
        vec![5.into(), (&p).into()],
    );
    assert_eq!(draw(&frozen(&i, Mode::Interp)).shape(), &[3, 2]);
    assert_eq!(i.dtype(), DType::I32);
    let one = rng.choice(tl::Size::Params, 5, false, Some(&p));
    assert_eq!(one.ty().shape, vec![Some(3)]);
}

#[test]
fn choice_by_rows_with_symbolic_sizes_and_its_inferred_shape() {
    let rng = RandomStreams::new(5);
    let p = tl::dmatrix("p");
    let k = tl::lscalar("k");
    let c = rng.choice(vec![tl::Length::from(&k)], tl::shape_i(&p, 1), false, Some(&p));
    assert_eq!(c.ty().shape, vec![None, None]);
    let pv = Tensor::from(ndarray::Array2::from_elem((4, 6), 1.0 / 6.0).into_dyn());
    for mode in [Mode::Jit, Mode::Interp] {
        let f = Function::builder(&[&p, &k], &[&c, &tl::shape(&c)]).mode(mode).build().unwrap();
        let out = f.call(&[pv.clone().into(), 2i64.into()]).unwrap();
        assert_eq!(out[0].shape(), &[4, 2]);
        assert_eq!(out[1].to_vec::<i64>().unwrap(), vec![4, 2]);
        // The rows' length alone needs no draw: shape inference reads it off `p` (and the
        // picks' off the size).
        let fixed = rng.choice([3], tl::shape_i(&p, 1), false, Some(&p));
        let lengths = [tl::shape_i(&fixed, 0), tl::shape_i(&fixed, 1)];
        let g = Function::builder(&[&p], &[&lengths[0], &lengths[1]]).mode(mode).build().unwrap();
        let out = g.call(&[pv.clone().into()]).unwrap();
        assert_eq!((out[0].to_f64().unwrap(), out[1].to_f64().unwrap()), (4.0, 3.0), "{mode:?}");
        let opt = g.optimized_graph();
        assert!(!opt.ids().any(|id| opt.node(id).op.is_random()), "{mode:?}: a draw is left");
    }
}

#[test]
fn first_and_second_picks_follow_the_rows() {
    // 20 000 rows of one distribution, two picks each without replacement: the first picks
    // have the row's law; the second `P(j) = sum over i != j of p_i p_j / (1 - p_i)`.
    let probs = [0.1, 0.2, 0.3, 0.4];
    let n = 20_000;
    let p = matrix(&vec![probs.to_vec(); n]);
    let rng = RandomStreams::new(4242);
    let rows = draw(&frozen(&rng.choice([2], 4, false, Some(&p)), Mode::Jit)).to_vec2::<i64>().unwrap();
    let (mut first, mut second) = ([0usize; 4], [0usize; 4]);
    for r in &rows {
        assert_ne!(r[0], r[1]);
        first[r[0] as usize] += 1;
        second[r[1] as usize] += 1;
    }
    let law2: Vec<f64> = (0..4)
        .map(|j| (0..4).filter(|&i| i != j).map(|i| probs[i] * probs[j] / (1.0 - probs[i])).sum())
        .collect();
    let (c1, c2) = (chi_square(&first, &probs), chi_square(&second, &law2));
    assert!(c1 < 16.27, "first picks: chi-square {c1} (3 degrees of freedom, level 1e-3: 16.27)");
    assert!(c2 < 16.27, "second picks: chi-square {c2}");
    // With replacement both picks have the row's law.
    let rows = draw(&frozen(&rng.choice([2], 4, true, Some(&p)), Mode::Jit)).to_vec2::<i64>().unwrap();
    for t in 0..2 {
        let mut counts = [0usize; 4];
        rows.iter().for_each(|r| counts[r[t] as usize] += 1);
        let c = chi_square(&counts, &probs);
        assert!(c < 16.27, "pick {t} with replacement: chi-square {c}");
    }
    // Rows of their own laws: row r puts 0.7 on category r % 3.
    let own: Vec<Vec<f64>> =
        (0..9000).map(|r| (0..3).map(|k| if k == r % 3 { 0.7 } else { 0.15 }).collect()).collect();
    let rows =
        draw(&frozen(&rng.choice([1], 3, false, Some(&matrix(&own))), Mode::Jit)).to_vec2::<i64>().unwrap();
    let hits = rows.iter().enumerate().filter(|(r, row)| row[0] == (*r % 3) as i64).count();
    let c = chi_square(&[hits, 9000 - hits], &[0.7, 0.3]);
    assert!(c < 10.83, "each row's own law: chi-square {c} (1 degree of freedom)");
}

#[test]
fn choice_by_rows_is_bit_identical_across_threads_and_engines() {
    let rows: Vec<Vec<f64>> =
        (0..3000).map(|r| (0..7).map(|k| ((r * 7 + k) % 5 + 1) as f64).collect()).collect();
    let rows: Vec<Vec<f64>> = rows
        .into_iter()
        .map(|r| {
            let t: f64 = r.iter().sum();
            r.iter().map(|x| x / t).collect()
        })
        .collect();
    let p = matrix(&rows);
    for replace in [false, true] {
        let s = state(0xc401);
        let c = tl::random_draw(
            &s,
            Distribution::Choice { replace, weighted: true },
            DType::I64,
            [5],
            vec![7.into(), (&p).into()],
            0,
        );
        let out = assert_same_everywhere(&c);
        assert_eq!(out.shape(), &[3000, 5]);
        // A row's picks do not depend on the rows after it.
        let head = tl::random_draw(
            &s,
            Distribution::Choice { replace, weighted: true },
            DType::I64,
            [5],
            vec![7.into(), matrix(&rows[..10]).into()],
            0,
        );
        assert_eq!(
            draw(&frozen(&head, Mode::Jit)).to_vec2::<i64>().unwrap(),
            out.to_vec2::<i64>().unwrap()[..10].to_vec()
        );
    }
}

#[test]
fn choice_by_rows_errors_are_typed() {
    let rng = RandomStreams::new(1);
    let p = tl::dmatrix("p");
    let k = tl::lscalar("k");
    let c = rng.choice(vec![tl::Length::from(&k)], tl::shape_i(&p, 1), false, Some(&p));
    let f = tl::function(&[&p, &k], &[&c]).unwrap();
    let state = c.random_state().unwrap().clone();
    let saved = state.get_value().unwrap();
    let call = |rows: Vec<Vec<f64>>, k: i64| {
        let (r, n) = (rows.len(), rows[0].len());
        let flat: Vec<f64> = rows.into_iter().flatten().collect();
        let pv = Tensor::from(ndarray::Array2::from_shape_vec((r, n), flat).unwrap().into_dyn());
        f.call(&[pv.into(), k.into()])
    };
    let uniform = vec![vec![0.25; 4]; 2];
    let err = |r: Result<Vec<Tensor>, tl::Error>| r.expect_err("refused").to_string();
    let e = err(call(uniform.clone(), 5));
    assert!(e.contains("cannot take 5 distinct items from a population of 4"), "{e}");
    let e = err(call(vec![vec![0.5, 0.5, 0.0, 0.0], vec![0.25; 4]], 3));
    assert!(e.contains("row 0") && e.contains("non-zero probability"), "{e}");
    let e = err(call(vec![vec![0.25; 4], vec![0.5, 0.5, 0.5, 0.5]], 1));
    assert!(e.contains("row 1") && e.contains("sum to 2"), "{e}");
    let e = err(call(vec![vec![1.5, -0.5, 0.0, 0.0]], 1));
    assert!(e.contains("negative"), "{e}");
    assert_eq!(state.get_value().unwrap(), saved, "a failed call leaves the state");
    assert_eq!(call(uniform, 4).unwrap()[0].shape(), &[2, 4]);
    // Built with a wrong number of items, or a 3-d p: refused.
    let q = matrix(&[vec![0.5, 0.5]]);
    let wrong = rng.choice([1], 3, false, Some(&q));
    let e = tl::function::<Var, _>(&[], &[&wrong]).unwrap().call(&[]).unwrap_err().to_string();
    assert!(e.contains("2 probabilities per row for 3 items"), "{e}");
    let cube = tl::tensor3("cube");
    assert!(rng.choice([1], 2, false, Some(&cube)).check().is_err());
    // With replacement more picks than categories are fine.
    let r = rng.choice([9], 2, true, Some(&q));
    assert_eq!(draw(&frozen(&r, Mode::Jit)).shape(), &[1, 9]);
}

#[test]
fn choice_by_rows_prints_and_round_trips() {
    let rng = RandomStreams::new(2);
    let p = tl::dmatrix("p");
    let c = rng.choice([2], tl::shape_i(&p, 1), false, Some(&p));
    let g = tl::graph::FunctionGraph::from_vars(&[&p], &[&c]).unwrap();
    let text = g.to_string();
    assert!(text.contains("random{choice_weighted_distinct, int64, [2]}"), "{text}");
    let back = tl::graph::FunctionGraph::parse(&text).expect("parses");
    assert_eq!(back.to_string(), text);
    assert_eq!(back.outputs().len(), 1);
}
