//! The classic Theano logistic-regression example, shared by
//! `examples/logistic_regression.rs` and `tests/logistic_regression.rs`: seeded data, the
//! model trained with tensorlift (`grad` + `updates`), and the same training with a
//! hand-derived gradient in plain ndarray, the second way to compute it.

#![allow(dead_code)]

use super::rng::Rng;
use ndarray::{Array1, Array2};
use tensorlift as tl;

/// Samples.
pub const N: usize = 400;
/// Features.
pub const FEATS: usize = 784;
/// Learning rate.
pub const LR: f64 = 0.1;
/// L2 penalty.
pub const L2: f64 = 0.01;

/// `D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))`, and the initial
/// weights `0.01 * rng.randn(feats)`. (Theano's example starts from `randn` unscaled and
/// relies on its stabilizing rewrites to keep `log(1 - p)` finite where `p` rounds to 1;
/// the small start keeps the plain formula finite everywhere.)
pub fn data(seed: u64) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let mut rng = Rng::new(seed);
    let x = Array2::from_shape_fn((N, FEATS), |_| rng.normal());
    let y = Array1::from_shape_fn(N, |_| if rng.uniform() < 0.5 { 0.0 } else { 1.0 });
    let w0 = Array1::from_shape_fn(FEATS, |_| 0.01 * rng.normal());
    (x, y, w0)
}

/// The result of a training run.
pub struct Trained {
    /// The cost at the final parameters.
    pub final_cost: f64,
    /// Accuracy of `p > 0.5` on the training data.
    pub accuracy: f64,
}

/// Trains with tensorlift for `steps` steps; `report(step, cost)` is called every 1000 steps.
pub fn train_tensorlift(steps: usize, mut report: impl FnMut(usize, f64)) -> tl::Result<Trained> {
    let (data_x, data_y, w0) = data(1234);
    let x = tl::dmatrix("x");
    let y = tl::dvector("y");
    let w = tl::shared(w0, "w");
    let b = tl::shared(0.0, "b");

    let p_1: tl::Var = 1.0 / (1.0 + tl::exp(-tl::dot(&x, &w) - &b)); // probability that the target is 1
    let prediction = p_1.gt(0.5);
    let xent = -&y * tl::log(&p_1) - (1.0 - &y) * tl::log(1.0 - &p_1); // cross-entropy
    let cost = xent.mean() + L2 * (&w * &w).sum();
    let g = tl::grad(&cost, &[&w, &b])?;

    let train = tl::Function::builder(&[&x, &y], &[&cost])
        .updates(&[(&w, &w - LR * &g[0]), (&b, &b - LR * &g[1])])
        .name("train")
        .build()?;
    let predict = tl::Function::builder(&[&x], &[&prediction]).name("predict").build()?;
    let evaluate = tl::Function::builder(&[&x, &y], &[&cost]).name("cost").build()?;

    let (tx, ty) = (tl::Tensor::from(data_x.clone()), tl::Tensor::from(data_y.clone()));
    for step in 0..steps {
        let c = train.call(&tl::args![&tx, &ty])?[0].to_f64()?;
        if step % 1000 == 0 {
            report(step, c);
        }
    }
    let final_cost = evaluate.call(&tl::args![&tx, &ty])?[0].to_f64()?;
    let pred = predict.call1(&tx)?.to_vec::<bool>()?;
    let correct = pred.iter().zip(data_y.iter()).filter(|(p, t)| (**p as u8 as f64) == **t).count();
    Ok(Trained { final_cost, accuracy: correct as f64 / N as f64 })
}

/// The same model and training with the gradient derived by hand:
/// `dcost/dw = Xᵀ(p - y)/N + 2·L2·w`, `dcost/db = mean(p - y)`.
pub fn train_by_hand(steps: usize) -> Trained {
    let (x, y, mut w) = data(1234);
    let mut b = 0.0;
    let probs = |w: &Array1<f64>, b: f64| (x.dot(w) + b).mapv(|z| 1.0 / (1.0 + (-z).exp()));
    for _ in 0..steps {
        let p = probs(&w, b);
        let err = &p - &y;
        let gw = x.t().dot(&err) / N as f64 + 2.0 * L2 * &w;
        let gb = err.mean().expect("non-empty");
        w = &w - LR * &gw;
        b -= LR * gb;
    }
    let p = probs(&w, b);
    let xent = p.iter().zip(y.iter()).map(|(&p, &t)| -t * p.ln() - (1.0 - t) * (1.0 - p).ln());
    let final_cost = xent.sum::<f64>() / N as f64 + L2 * w.mapv(|v| v * v).sum();
    let correct = p.iter().zip(y.iter()).filter(|(&p, &t)| ((p > 0.5) as u8 as f64) == t).count();
    Trained { final_cost, accuracy: correct as f64 / N as f64 }
}
