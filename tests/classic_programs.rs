//! The three classic training programs of `examples/` (`logistic_sgd.rs`, `mlp.rs`,
//! `lenet.rs`, the deeplearning.net tutorials), run small: each trains a few epochs on a
//! few hundred digits and its validation error must fall below a threshold with margin; the
//! cost of each is checked against finite differences on a tiny instance (`verify_grad`), and
//! the gradients of one training step agree between the native code and the reference
//! kernels. The digits themselves are checked to be deterministic, balanced and in range.
//!
//! The training runs in the process's mode (`TENSORLIFT_MODE=interp` runs them on the
//! reference kernels), except LeNet's, which trains only natively; under the interpreter
//! LeNet still takes one training step on a tiny minibatch.

#[allow(dead_code)]
#[path = "../examples/lenet.rs"]
mod lenet;

use lenet::mlp::{self, logistic_sgd};
use logistic_sgd::digits::{self, Rng, PIXELS};
use logistic_sgd::{LogisticRegression, Model, Settings};
use tensorlift as tl;
use tl::{Mode, Tensor, Var};

/// Small runs: `n_train` training and `n_valid` validation images (no test set), a fixed
/// number of epochs, nothing printed.
fn small(learning_rate: f64, batch_size: usize, n_train: usize, n_valid: usize, n_epochs: usize) -> Settings {
    Settings {
        learning_rate,
        n_epochs,
        fixed_epochs: true,
        patience: 0,
        batch_size,
        sizes: (n_train, n_valid, 0),
        seed: 7,
        mode: Mode::default(),
        verbose: false,
    }
}

fn interp_mode() -> bool {
    Mode::default() == Mode::Interp
}

/// A tensor of `shape` drawn uniformly in `[-scale, scale)`.
fn random(rng: &mut Rng, shape: &[usize], scale: f64) -> Tensor {
    let n = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| scale * (2.0 * rng.uniform() - 1.0)).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
}

/// `n` images of the digits as a constant, and their labels as an int32 constant.
fn tiny_batch(n: usize, seed: u64) -> (Var, Var) {
    let (x, y) = digits::synthetic_digits(n, seed);
    let y: Vec<i32> = y.into_iter().map(|l| l as i32).collect();
    (tl::constant(x), tl::constant(y))
}

#[test]
fn the_digits_are_deterministic_balanced_and_in_range() {
    let (x, y) = digits::synthetic_digits(200, 11);
    assert_eq!(x.dim(), (200, PIXELS));
    let (x2, y2) = digits::synthetic_digits(200, 11);
    assert_eq!((&x, &y), (&x2, &y2), "the same seed draws the same images");
    let (x3, _) = digits::synthetic_digits(200, 12);
    assert_ne!(x, x3, "another seed draws other images");
    for d in 0..10 {
        assert_eq!(y.iter().filter(|&&l| l == d).count(), 20, "digit {d}");
    }
    assert!(x.iter().all(|&p| (0.0..=1.0).contains(&p)));
    // Ink: a stroke covers some of the image, never most of it.
    for (k, row) in x.rows().into_iter().enumerate() {
        let dark = row.iter().filter(|&&p| p > 0.5).count();
        assert!((20..400).contains(&dark), "image {k} ({}): {dark} dark pixels", y[k]);
    }
}

#[test]
fn logistic_sgd_learns_the_digits() -> tl::Result<()> {
    // 10 epochs of 1000 images: measured 16.4 % on 500 validation images (the same natively
    // and on the reference kernels).
    let outcome = logistic_sgd::sgd_optimization_mnist(&small(0.13, 100, 1000, 500, 10))?;
    assert_eq!(outcome.validation_errors.len(), 10);
    assert!(outcome.best_validation_loss < 0.22, "{outcome:?}");
    assert!(outcome.validation_errors[9] < outcome.validation_errors[0], "{outcome:?}");
    Ok(())
}

#[test]
fn mlp_learns_the_digits() -> tl::Result<()> {
    // 5 epochs of 1000 images with 100 hidden units: measured 11.2 % on 500 validation
    // images (the same natively and on the reference kernels).
    let settings = small(0.1, 20, 1000, 500, 5);
    let outcome = mlp::test_mlp(&settings, 100)?;
    assert!(outcome.best_validation_loss < 0.16, "{outcome:?}");
    Ok(())
}

#[test]
fn lenet_learns_the_digits() -> tl::Result<()> {
    if interp_mode() {
        // One step of the whole program on the reference kernels: a minibatch of 20.
        let mut settings = small(0.1, 20, 20, 20, 1);
        settings.mode = Mode::Interp;
        let outcome = lenet::evaluate_lenet5(&settings, [4, 6])?;
        assert!(outcome.last_cost.is_finite() && outcome.last_cost > 0.0, "{outcome:?}");
        return Ok(());
    }
    // 5 epochs of 1000 images in minibatches of 50, with 10 and 20 filters: measured 8.8 %
    // on 500 validation images.
    let settings = small(0.1, 50, 1000, 500, 5);
    let outcome = lenet::evaluate_lenet5(&settings, [10, 20])?;
    assert!(outcome.best_validation_loss < 0.14, "{outcome:?}");
    Ok(())
}

/// Finite differences of the cost with respect to every parameter.
fn check_grad(cost: impl Fn(&[Var]) -> Var, params: &[Tensor]) -> tl::Result<()> {
    let report =
        tl::verify_grad(cost, params, tl::VerifyGradOptions { rel_tol: 1e-6, ..Default::default() })?;
    assert!(report.max_rel_err < 1e-6, "{report}");
    Ok(())
}

#[test]
fn the_logistic_regression_cost_has_the_gradient_of_finite_differences() -> tl::Result<()> {
    let mut rng = Rng::new(1);
    let (x, y) = tiny_batch(6, 3);
    let params = [random(&mut rng, &[PIXELS, 10], 0.05), random(&mut rng, &[10], 0.5)];
    check_grad(
        |p| LogisticRegression::with_params(&x, p[0].clone(), p[1].clone()).negative_log_likelihood(&y),
        &params,
    )
}

#[test]
fn the_mlp_cost_has_the_gradient_of_finite_differences() -> tl::Result<()> {
    let mut rng = Rng::new(2);
    let (x, y) = tiny_batch(5, 4);
    let params = [
        random(&mut rng, &[PIXELS, 3], 0.1),
        random(&mut rng, &[3], 0.5),
        random(&mut rng, &[3, 10], 0.5),
        random(&mut rng, &[10], 0.5),
    ];
    // The L1 penalty too (the weights are nowhere 0, where |w| has no derivative).
    check_grad(
        |p| {
            mlp::Mlp::with_params(&x, &[p[0].clone(), p[1].clone(), p[2].clone(), p[3].clone()])
                .cost(&y, 0.01, 0.02)
        },
        &params,
    )
}

#[test]
fn the_lenet_cost_has_the_gradient_of_finite_differences() -> tl::Result<()> {
    let mut rng = Rng::new(3);
    let (x, y) = tiny_batch(2, 5);
    let (k0, k1, hidden) = (2, 3, 4);
    let params = [
        random(&mut rng, &[hidden, 10], 0.5),
        random(&mut rng, &[10], 0.5),
        random(&mut rng, &[k1 * 4 * 4, hidden], 0.3),
        random(&mut rng, &[hidden], 0.5),
        random(&mut rng, &[k1, k0, 5, 5], 0.3),
        random(&mut rng, &[k1], 0.5),
        random(&mut rng, &[k0, 1, 5, 5], 0.3),
        random(&mut rng, &[k0], 0.5),
    ];
    check_grad(
        |p| {
            let p: [Var; 8] = std::array::from_fn(|i| p[i].clone());
            let net = lenet::LeNet::with_params(&x, 2, &p);
            net.layer3.negative_log_likelihood(&y)
        },
        &params,
    )
}

/// The gradients of the cost with respect to every parameter for training minibatch 0,
/// computed natively and by the reference kernels, agree to 1e-12 of each gradient's
/// largest element. The parameters are first moved off their start (the zero biases of a
/// balanced minibatch have a zero gradient).
fn jit_and_interp_agree(model: &Model) -> tl::Result<()> {
    let mut rng = Rng::new(9);
    for p in &model.params {
        let value = p.get_value()?;
        let step = random(&mut rng, value.shape(), 0.05);
        p.set_value(Tensor::from(value.to_f64_array() + step.to_f64_array()))?;
    }
    let grads = tl::grad(&model.cost, &model.params)?;
    let outputs: Vec<Var> = std::iter::once(model.cost.clone()).chain(grads).collect();
    let run = |mode: Mode| -> tl::Result<Vec<Tensor>> {
        let f =
            tl::Function::builder(&[&model.index], &outputs).givens(&model.givens(0)).mode(mode).build()?;
        f.call(&tl::args![0i64])
    };
    let (jit, interp) = (run(Mode::Jit)?, run(Mode::Interp)?);
    for (k, (a, b)) in jit.iter().zip(&interp).enumerate() {
        assert_eq!(a.shape(), b.shape(), "output {k}");
        let (a, b) = (a.to_f64_vec(), b.to_f64_vec());
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "output {k} is all zeros");
        for (i, (u, v)) in a.iter().zip(&b).enumerate() {
            assert!((u - v).abs() <= 1e-12 * scale, "output {k} element {i}: native {u}, reference {v}");
        }
    }
    Ok(())
}

#[test]
fn one_training_step_has_the_same_gradients_natively_and_on_the_reference_kernels() -> tl::Result<()> {
    let settings = small(0.1, 20, 40, 20, 1);
    jit_and_interp_agree(&logistic_sgd::build_model(&settings))?;
    jit_and_interp_agree(&mlp::build_model(&settings, 30))?;
    jit_and_interp_agree(&lenet::build_model(&settings, [4, 6]))
}
