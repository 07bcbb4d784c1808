//! Random streams: the Philox4x32-10 generator against Random123's known answers; the
//! distributions by statistical tests with fixed seeds (Kolmogorov–Smirnov for uniform and
//! normal, chi-square for binomial and integers, correlation bounds between streams and
//! calls), each at a false-alarm rate of at most 1e-3 for a good generator; bit-identity
//! across thread counts, engines and fusion; the state's default update, its save and
//! restore, `seed`, `no_default_updates`; symbolic sizes; failed calls; no merging and no
//! folding of draws; gradients; printing and the text form.

#[path = "common/draws.rs"]
mod draws;
#[path = "common/stats.rs"]
mod stats;

use stats::{chi_square, ks, ks_critical, normal_cdf};
use tensorlift as tl;
use tl::kernels::random::philox4x32_10;
use tl::{DType, Distribution, Function, Mode, RandomStreams, Tensor, Var};

/// Calls a function of no input once.
fn draw(f: &Function) -> Tensor {
    f.call(&[]).expect("runs").remove(0)
}

/// A function of no input computing `out`, in `mode`.
fn func(out: &Var, mode: Mode) -> Function {
    Function::builder::<Var, _>(&[], &[out]).mode(mode).build().expect("compiles")
}

fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

/// Pearson's correlation.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// |r| of independent samples of n stays below 3.3 / sqrt(n) but with probability 1e-3.
fn correlation_bound(n: usize) -> f64 {
    3.29 / (n as f64).sqrt()
}

#[test]
fn philox_known_answers() {
    // Random123's kat_vectors, philox4x32 with 10 rounds: counter, key, result.
    let kat: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        ([0; 4], [0; 2], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([u32::MAX; 4], [u32::MAX; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];
    for (ctr, key, want) in kat {
        assert_eq!(philox4x32_10(ctr, key), want, "philox4x32_10({ctr:x?}, {key:x?})");
    }
    // A draw's words are the blocks at its state's counter: element 0 of a float64 uniform
    // is the 52 high bits of block 0's first two words.
    let state =
        tl::shared_with_type(Tensor::from(vec![0i64, 0]), "s", tl::TensorType::fixed(DType::I64, &[2]))
            .expect("a state");
    let u = tl::random_draw(&state, Distribution::Uniform, DType::F64, [2], vec![0.0.into(), 1.0.into()], 0);
    let got = f64s(&draw(&func(&u, Mode::Jit)));
    let [a, b, c, d] = philox4x32_10([0; 4], [0; 2]);
    let unit = |lo: u32, hi: u32| (((hi as u64) << 32 | lo as u64) >> 12) as f64 / (1u64 << 52) as f64;
    assert_eq!(got, vec![unit(a, b), unit(c, d)]);
}

#[test]
fn uniform_passes_kolmogorov_smirnov() {
    let rng = RandomStreams::new(2024);
    let n = 20_000;
    let u = rng.uniform([n], -2.0, 3.0);
    assert_eq!(u.dtype(), tl::config::float_x());
    let f = func(&u.cast(DType::F64), Mode::Jit);
    for _ in 0..2 {
        let xs = f64s(&draw(&f));
        assert!(xs.iter().all(|&x| (-2.0..3.0).contains(&x)));
        let d = ks(xs, |x| ((x + 2.0) / 5.0).clamp(0.0, 1.0));
        assert!(d < ks_critical(n), "KS statistic {d}");
    }
}

#[test]
fn normal_passes_kolmogorov_smirnov() {
    let rng = RandomStreams::new(7);
    let n = 20_000;
    for dtype in [DType::F64, DType::F32] {
        let z = rng.draw(Distribution::Normal { truncate: false }, dtype, [n], vec![1.5.into(), 2.0.into()]);
        let xs = f64s(&draw(&func(&z, Mode::Jit)));
        let d = ks(xs, |x| normal_cdf((x - 1.5) / 2.0));
        assert!(d < ks_critical(n), "{dtype}: KS statistic {d}");
    }
}

#[test]
fn binomial_and_integers_pass_chi_square() {
    let rng = RandomStreams::new(99);
    let n = 20_000;
    // Binomial(5, 0.3): probabilities from the binomial formula.
    let b = rng.binomial([n], 5, 0.3);
    assert_eq!(b.dtype(), DType::I64);
    let xs = draw(&func(&b, Mode::Jit)).to_vec::<i64>().expect("int64");
    let mut counts = [0usize; 6];
    for &x in &xs {
        counts[x as usize] += 1;
    }
    let choose = [1.0, 5.0, 10.0, 10.0, 5.0, 1.0];
    let probs: Vec<f64> =
        (0..6).map(|k| choose[k] * 0.3f64.powi(k as i32) * 0.7f64.powi(5 - k as i32)).collect();
    let chi = chi_square(&counts, &probs);
    assert!(chi < 20.52, "binomial chi-square {chi} (5 degrees of freedom, level 1e-3: 20.52)");
    // Theano's MRG binomial of n = 1: cast(uniform < p).
    let mask = rng.binomial([n], 1, 0.25);
    let ones = draw(&func(&mask, Mode::Jit)).to_vec::<i64>().expect("int64");
    let c1 = ones.iter().filter(|&&x| x == 1).count();
    assert!(ones.iter().all(|&x| x == 0 || x == 1));
    let chi = chi_square(&[n - c1, c1], &[0.75, 0.25]);
    assert!(chi < 10.83, "Bernoulli chi-square {chi}");
    // Integers on [-3, 6], both ends included.
    let i = rng.random_integers([n], -3, 6);
    let xs = draw(&func(&i, Mode::Jit)).to_vec::<i64>().expect("int64");
    let mut counts = [0usize; 10];
    for &x in &xs {
        assert!((-3..=6).contains(&x), "{x} outside [-3, 6]");
        counts[(x + 3) as usize] += 1;
    }
    let chi = chi_square(&counts, &[0.1; 10]);
    assert!(chi < 27.88, "integers chi-square {chi} (9 degrees of freedom, level 1e-3: 27.88)");
}

#[test]
fn streams_and_calls_are_independent() {
    let rng = RandomStreams::new(5);
    let n = 20_000;
    let (a, b) = (rng.uniform([n], 0.0, 1.0), rng.uniform([n], 0.0, 1.0));
    let f = Function::builder::<Var, _>(&[], &[&a, &b]).build().expect("compiles");
    let first = f.call(&[]).expect("runs");
    let second = f.call(&[]).expect("runs");
    let (a1, b1, a2) = (f64s(&first[0]), f64s(&first[1]), f64s(&second[0]));
    assert_ne!(a1, b1, "two draws of one graph are distinct");
    assert_ne!(a1, a2, "two calls draw anew");
    let bound = correlation_bound(n);
    for (x, y, what) in [
        (&a1, &b1, "two streams"),
        (&a1, &a2, "two calls"),
        (&a1[..n - 1].to_vec(), &a1[1..].to_vec(), "neighbours"),
    ] {
        let r = correlation(x, y);
        assert!(r.abs() < bound, "{what}: correlation {r}");
    }
    // Neighbouring seeds give unrelated streams.
    let other = RandomStreams::new(6).uniform([n], 0.0, 1.0);
    let r = correlation(&a1, &f64s(&draw(&func(&other, Mode::Jit))));
    assert!(r.abs() < bound, "seeds 5 and 6: correlation {r}");
}

/// A fresh state and a draw of `dist` on it, of 100 003 elements (odd, past the threshold
/// at which a draw is split over threads).
fn fixed_draw(dist: Distribution, dtype: DType, params: Vec<tl::build::elemwise::Term>) -> Var {
    let state = tl::shared_with_type(
        Tensor::from(vec![0x5eed_i64, 12]),
        "state",
        tl::TensorType::fixed(DType::I64, &[2]),
    )
    .expect("a state");
    tl::random_draw(&state, dist, dtype, [100_003], params, 0)
}

#[test]
fn draws_are_bit_identical_across_threads_and_engines() {
    let cases = [
        fixed_draw(Distribution::Uniform, DType::F64, vec![(-1.0).into(), 2.0.into()]),
        fixed_draw(Distribution::Uniform, DType::F32, vec![0.0.into(), 1.0.into()]),
        fixed_draw(Distribution::Normal { truncate: false }, DType::F64, vec![0.0.into(), 1.0.into()]),
        fixed_draw(Distribution::Normal { truncate: false }, DType::F32, vec![0.0.into(), 1.0.into()]),
        fixed_draw(Distribution::Binomial, DType::I64, vec![3.into(), 0.4.into()]),
        fixed_draw(Distribution::Integers, DType::I32, vec![(-5).into(), 1000.into()]),
    ];
    for d in &cases {
        let one = draws::assert_same_everywhere(d);
        // The first elements are those of a draw of their own (no dependence on the size).
        let small = Function::builder::<Var, _>(&[], &[&d.get(&[tl::Index::slice(Some(0), Some(7), 1)])])
            .no_default_updates(true)
            .build()
            .unwrap();
        assert_eq!(draw(&small).to_f64_vec(), one.to_f64_vec()[..7].to_vec());
    }
}

#[test]
fn a_draw_inside_a_fused_expression_is_the_same_on_both_engines() {
    // Dropout: x * binomial(x.shape, p) / p, fused with the arithmetic around it.
    let rng = RandomStreams::new(31);
    let x = tl::dmatrix("x");
    let mask = rng.binomial(tl::shape(&x), 1, 0.8);
    let y = (&x * &mask) / 0.8 + 1.0;
    let state = mask.random_state().expect("a draw").clone();
    let xv = Tensor::from(
        ndarray::Array2::from_shape_fn((300, 200), |(i, j)| (i * 200 + j) as f64 * 1e-3).into_dyn(),
    );
    let start = state.get_value().expect("shared");
    let mut outs = Vec::new();
    for mode in [Mode::Jit, Mode::Interp] {
        state.set_value(start.clone()).expect("fits");
        let f = Function::builder(&[&x], &[&y]).mode(mode).build().expect("compiles");
        outs.push(f.call(&[xv.clone().into()]).expect("runs").remove(0));
        outs.push(f.call(&[xv.clone().into()]).expect("runs").remove(0));
    }
    assert_eq!(outs[0], outs[2], "first call: JIT and interpreter");
    assert_eq!(outs[1], outs[3], "second call: JIT and interpreter");
    assert_ne!(outs[0], outs[1]);
    // Every element is x / 0.8 + 1 or 1.
    let (xs, ys) = (f64s(&xv), f64s(&outs[0]));
    let kept = xs.iter().zip(&ys).filter(|(x, y)| **y == **x / 0.8 + 1.0 && **x != 0.0).count();
    assert!(xs.iter().zip(&ys).all(|(x, y)| *y == 1.0 || *y == x / 0.8 + 1.0));
    let rate = kept as f64 / (xs.len() - 1) as f64;
    assert!((rate - 0.8).abs() < 0.01, "kept {rate}");
}

#[test]
fn default_updates_advance_the_state_and_it_can_be_saved_and_restored() {
    let rng = RandomStreams::new(123);
    let u = rng.uniform([5], 0.0, 1.0);
    let state = u.random_state().expect("a draw").clone();
    assert_eq!(rng.states().len(), 1);
    assert!(rng.states()[0].same(&state));
    let f = func(&u, Mode::Jit);
    let saved = state.get_value().expect("shared");
    let a = draw(&f);
    // Five float64 elements use three blocks.
    assert_eq!(state.get_value().unwrap().to_vec::<i64>().unwrap()[1], saved.to_vec::<i64>().unwrap()[1] + 3);
    let b = draw(&f);
    assert_ne!(a, b);
    state.set_value(saved.clone()).expect("fits");
    assert_eq!(draw(&f), a, "restored state, same draw");
    assert_eq!(draw(&f), b);
    // Theano's state_updates: the update a function adds by itself.
    let updates = rng.state_updates().expect("updates");
    assert_eq!(updates.len(), 1);
    let g =
        Function::builder::<Var, _>(&[], &[&u]).updates(&updates).no_default_updates(true).build().unwrap();
    state.set_value(saved.clone()).unwrap();
    assert_eq!(draw(&g), a);
    assert_eq!(draw(&g), b);
    // Without default updates, every call draws the same numbers.
    let frozen = Function::builder::<Var, _>(&[], &[&u]).no_default_updates(true).build().unwrap();
    assert_eq!(draw(&frozen), draw(&frozen));
    let frozen = Function::builder::<Var, _>(&[], &[&u]).no_default_updates_for(&[&state]).build().unwrap();
    assert_eq!(draw(&frozen), draw(&frozen));
    // A state of another shape or dtype is refused.
    assert!(state.set_value(Tensor::from(vec![1i64, 2, 3])).is_err());
    assert!(state.set_value(Tensor::from(vec![1.0, 2.0])).is_err());
}

#[test]
fn seed_reseeds_every_stream() {
    let rng = RandomStreams::new(1);
    let (u, z) = (rng.uniform([4], 0.0, 1.0), rng.normal([3, 2], 0.0, 1.0));
    let f = Function::builder::<Var, _>(&[], &[&u, &z]).build().unwrap();
    let first = f.call(&[]).unwrap();
    assert_ne!(f.call(&[]).unwrap(), first);
    rng.seed(1);
    assert_eq!(f.call(&[]).unwrap(), first, "reseeded as built");
    rng.seed(2);
    let other = f.call(&[]).unwrap();
    assert_ne!(other, first);
    let fresh = RandomStreams::new(2);
    let g =
        Function::builder::<Var, _>(&[], &[&fresh.uniform([4], 0.0, 1.0), &fresh.normal([3, 2], 0.0, 1.0)])
            .build()
            .unwrap();
    assert_eq!(g.call(&[]).unwrap(), other, "seed(2) is the streams of seed 2");
}

#[test]
fn symbolic_sizes() {
    let rng = RandomStreams::new(3);
    let x = tl::dmatrix("x");
    let xv = Tensor::from(ndarray::Array2::<f64>::zeros((4, 6)).into_dyn());
    // x.shape, (x.shape[0], 10), a symbolic int vector of known length, and the shape the
    // parameters broadcast to (size None).
    let by_shape = rng.uniform(tl::shape(&x), 0.0, 1.0);
    let mixed = rng.normal(vec![tl::Length::from(tl::shape_i(&x, 0)), 10.into()], 0.0, 1.0);
    let n = tl::lvector("n");
    let from_vector = rng.random_integers(&n, 0, 9);
    let from_params = rng.uniform(tl::Size::Params, &x * 0.0, 1.0);
    assert_eq!(by_shape.ty().shape, vec![None, None]);
    assert_eq!(mixed.ty().shape, vec![None, Some(10)]);
    let f = Function::builder(&[&x], &[&by_shape, &mixed, &from_params]).build().unwrap();
    let out = f.call(&[xv.clone().into()]).unwrap();
    assert_eq!(out[0].shape(), &[4, 6]);
    assert_eq!(out[1].shape(), &[4, 10]);
    assert_eq!(out[2].shape(), &[4, 6]);
    // A vector size of unknown length is refused when building.
    assert!(from_vector.check().is_err());
    let fixed = rng.random_integers(tl::stack(&[tl::shape_i(&x, 1), tl::shape_i(&x, 0)], 0), 0, 9);
    assert_eq!(fixed.ndim(), 2);
    let g = Function::builder(&[&x], &[&fixed]).build().unwrap();
    assert_eq!(g.call(&[xv.into()]).unwrap()[0].shape(), &[6, 4]);
}

#[test]
fn a_failed_call_leaves_the_state_unchanged() {
    let rng = RandomStreams::new(8);
    let x = tl::dvector("x");
    let u = rng.uniform([3], 0.0, 1.0);
    let f = tl::function(&[&x], &[&(&u + &x)]).unwrap();
    let state = u.random_state().unwrap().clone();
    let before = state.get_value().unwrap();
    assert!(f.call(&[vec![1.0, 2.0].into()]).is_err(), "lengths 3 and 2 do not add");
    assert_eq!(state.get_value().unwrap(), before);
    // A bad parameter is a typed error, not a panic, and changes nothing either.
    let p = tl::dscalar("p");
    let b = rng.binomial([4], 1, &p);
    let g = tl::function(&[&p], &[&b]).unwrap();
    let bstate = b.random_state().unwrap().clone();
    let saved = bstate.get_value().unwrap();
    let err = g.call(&[1.5.into()]).unwrap_err();
    assert!(err.to_string().contains("probability"), "{err}");
    assert_eq!(bstate.get_value().unwrap(), saved);
    assert!(g.call(&[0.5.into()]).is_ok());
    assert_ne!(bstate.get_value().unwrap(), saved);
    let negative = rng.normal([2], 0.0, -1.0);
    assert!(tl::function::<Var, _>(&[], &[&negative]).unwrap().call(&[]).is_err());
}

#[test]
fn draws_are_never_merged_nor_folded() {
    let rng = RandomStreams::new(4);
    let (a, b) = (rng.uniform([6], 0.0, 1.0), rng.uniform([6], 0.0, 1.0));
    let f = Function::builder::<Var, _>(&[], &[&a, &b]).build().unwrap();
    let randoms = |f: &Function| {
        let g = f.optimized_graph();
        g.ids().filter(|&id| g.node(id).op.is_random()).count()
    };
    assert_eq!(randoms(&f), 2);
    let out = f.call(&[]).unwrap();
    assert_ne!(out[0], out[1]);
    // Two draws on one state with equal inputs: distinct streams, distinct values.
    let s = tl::shared_with_type(Tensor::from(vec![1i64, 0]), "s", tl::TensorType::fixed(DType::I64, &[2]))
        .unwrap();
    let stream =
        |k| tl::random_draw(&s, Distribution::Uniform, DType::F64, [6], vec![0.0.into(), 1.0.into()], k);
    let f = Function::builder::<Var, _>(&[], &[&stream(0), &stream(1)]).build().unwrap();
    assert_eq!(randoms(&f), 2);
    let out = f.call(&[]).unwrap();
    assert_ne!(out[0], out[1]);
    // One state advances once, past the larger of its draws.
    assert_eq!(s.get_value().unwrap().to_vec::<i64>().unwrap(), vec![1, 3]);
    // A draw on a constant state is not folded: it stays a draw in the optimized graph.
    let c = tl::constant(Tensor::from(vec![9i64, 0]));
    let on_constant = tl::random_draw(
        &c,
        Distribution::Normal { truncate: false },
        DType::F64,
        [3],
        vec![0.0.into(), 1.0.into()],
        0,
    );
    let f = func(&on_constant, Mode::Jit);
    assert_eq!(randoms(&f), 1);
}

#[test]
fn choice_permutation_multinomial() {
    let rng = RandomStreams::new(17);
    // Permutations: every row a permutation of 0..n.
    let p = rng.permutation([50], 9);
    assert_eq!(p.ty().shape, vec![Some(50), None]);
    let rows = draw(&func(&p, Mode::Jit)).to_vec2::<i64>().unwrap();
    for row in &rows {
        let mut sorted = row.clone();
        sorted.sort();
        assert_eq!(sorted, (0..9).collect::<Vec<i64>>());
    }
    assert!(rows.iter().any(|r| *r != rows[0]));
    // Distinct choices of 7 among 10.
    let c = rng.choice([7], 10, false, None);
    for _ in 0..20 {
        let mut v = draw(&func(&c, Mode::Jit)).to_vec::<i64>().unwrap();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), 7);
        assert!(v.iter().all(|&x| (0..10).contains(&x)));
    }
    assert!(tl::function::<Var, _>(&[], &[&rng.choice([11], 10, false, None)]).unwrap().call(&[]).is_err());
    // Weighted choice with replacement: frequencies by chi-square.
    let probs = [0.1, 0.2, 0.3, 0.4];
    let w = rng.choice([20_000], 4, true, Some(&tl::constant(Tensor::from(probs.to_vec()))));
    let xs = draw(&func(&w, Mode::Jit)).to_vec::<i64>().unwrap();
    let mut counts = [0usize; 4];
    for &x in &xs {
        counts[x as usize] += 1;
    }
    let chi = chi_square(&counts, &probs);
    assert!(chi < 16.27, "weighted choice chi-square {chi} (3 degrees of freedom)");
    // Items of a vector.
    let items = tl::constant(Tensor::from(vec![10.0, 20.0, 30.0]));
    let picked = draw(&func(&rng.choice([8], &items, true, None), Mode::Jit));
    assert!(f64s(&picked).iter().all(|x| [10.0, 20.0, 30.0].contains(x)));
    // Multinomial: rows of counts summing to n, MRG's pvals matrix.
    let pvals = tl::constant(Tensor::from(ndarray::arr2(&[[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]]).into_dyn()));
    let m = rng.multinomial(tl::Size::Params, 5, &pvals);
    assert_eq!(m.ty().shape, vec![Some(2), Some(3)]);
    let counts = draw(&func(&m, Mode::Jit)).to_vec2::<i64>().unwrap();
    assert_eq!(counts[0].iter().sum::<i64>(), 5);
    assert_eq!(counts[1], vec![0, 5, 0]);
    // One-hot rows (n = 1) of a 3-vector, size (4,).
    let v = rng.multinomial([4], 1, tl::constant(Tensor::from(vec![0.5, 0.25, 0.25])));
    let rows = draw(&func(&v, Mode::Jit)).to_vec2::<i64>().unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.iter().sum::<i64>() == 1));
}

#[test]
fn draws_have_no_gradient() {
    let rng = RandomStreams::new(9);
    let (low, x) = (tl::dscalar("low"), tl::dvector("x"));
    let u = rng.uniform([4], &low, 1.0);
    // Disconnected from the parameters (as Theano's), an error unless asked for zeros.
    let err = tl::grad(&u.sum(), &low).unwrap_err();
    assert!(matches!(err, tl::GradError::Disconnected { .. }), "{err}");
    let opts = tl::GradOptions { disconnected: tl::Disconnected::Zero, ..Default::default() };
    let g = tl::grad_with(&u.sum(), &[&low], &opts).unwrap().remove(0);
    let f = tl::Function::builder(&[&low], &[&g]).on_unused_input(tl::OnUnusedInput::Ignore).build().unwrap();
    assert_eq!(f.call(&[0.5.into()]).unwrap()[0].to_f64().unwrap(), 0.0);
    // A draw multiplies like a constant: the gradient of sum(x * mask) is the mask.
    let mask = rng.binomial(tl::shape(&x), 1, 0.5).cast(DType::F64);
    let gx = tl::grad(&(&x * &mask).sum(), &x).unwrap();
    let f = Function::builder(&[&x], &[&gx, &mask]).build().unwrap();
    let out = f.call(&[vec![1.0; 64].into()]).unwrap();
    assert_eq!(out[0], out[1]);
}

#[test]
fn printing_and_the_text_form() {
    let rng = RandomStreams::new(10);
    let x = tl::dmatrix("x");
    let u = rng.uniform(vec![tl::Length::from(tl::shape_i(&x, 0)), 3.into()], -1.0, 1.0);
    let s = tl::pp(&u);
    assert!(s.starts_with("uniform{float64}(random_state_0, size=("), "{s}");
    assert!(s.contains("low=") && s.contains("high="), "{s}");
    assert!(
        tl::debugprint(std::slice::from_ref(&u)).contains("RandomFunction{uniform, float64, [?,3]}"),
        "{}",
        tl::debugprint(std::slice::from_ref(&u))
    );
    let b = rng.binomial([2], 1, 0.5);
    let state = b.random_state().unwrap();
    let second =
        tl::random_draw(state, Distribution::Binomial, DType::I32, [2], vec![1.into(), 0.5.into()], 3);
    let g = tl::graph::FunctionGraph::from_vars(&[&x], &[&u, &b, &second]).unwrap();
    let text = g.to_string();
    assert!(text.contains("random{uniform, float64, [?,3]}"), "{text}");
    assert!(text.contains("random{binomial, int32, [2], stream=3}"), "{text}");
    let back = tl::graph::FunctionGraph::parse(&text).expect("parses");
    assert_eq!(back.to_string(), text);
}

#[test]
fn a_shared_variable_has_a_default_update() {
    let count = tl::shared(0.0, "count");
    count.set_default_update(Some(&(&count + 1.0))).expect("fits");
    assert_eq!(tl::pp(&count.default_update().expect("set")), "(count + TensorConstant{1.0})");
    let x = tl::dscalar("x");
    let f = tl::function(&[&x], &[&(&x * &count)]).unwrap();
    assert_eq!(f.call1(2.0).unwrap().to_f64().unwrap(), 0.0);
    assert_eq!(f.call1(2.0).unwrap().to_f64().unwrap(), 2.0);
    assert_eq!(count.get_value().unwrap().to_f64().unwrap(), 2.0);
    // An explicit update wins; no_default_updates turns it off.
    let g = Function::builder(&[&x], &[&x])
        .update(&count, &(&count * 10.0))
        .on_unused_input(tl::OnUnusedInput::Ignore)
        .build()
        .unwrap();
    g.call(&[1.0.into()]).unwrap();
    assert_eq!(count.get_value().unwrap().to_f64().unwrap(), 20.0);
    let h = Function::builder(&[&x], &[&(&x * &count)]).no_default_updates(true).build().unwrap();
    h.call(&[1.0.into()]).unwrap();
    assert_eq!(count.get_value().unwrap().to_f64().unwrap(), 20.0);
    // A wrong type is refused; None removes it.
    assert!(count.set_default_update(Some(&tl::dvector("v"))).is_err());
    count.set_default_update(None).unwrap();
    f.call(&[1.0.into()]).unwrap();
    let k = tl::function(&[&x], &[&(&x * &count)]).unwrap();
    k.call(&[1.0.into()]).unwrap();
    assert_eq!(
        count.get_value().unwrap().to_f64().unwrap(),
        21.0,
        "the function built before keeps its update"
    );
    // The variable does not own a graph that owns it: dropping every handle frees it.
    let weak = {
        let s = tl::shared(vec![1.0, 2.0], "s");
        s.set_default_update(Some(&(&s * 2.0))).unwrap();
        s.downgrade()
    };
    assert!(weak.upgrade().is_none(), "no reference cycle");
}

#[allow(dead_code)]
#[path = "../examples/denoising_autoencoder.rs"]
mod denoising_autoencoder;

#[test]
fn the_denoising_autoencoder_example_learns() {
    // Two epochs of a small code (100 hidden units): the cost falls with its corruption.
    let costs = denoising_autoencoder::train(0.3, 2, 100).expect("trains");
    assert!(costs[1] < costs[0] - 5.0, "{costs:?}");
}
