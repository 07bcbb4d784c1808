//! Theano's `tensor.nnet` activations and cross-entropies, written with the library's ops
//! (the stabilization phase turns their naive forms into stable ones: `log(softmax)` into
//! `log_softmax`, `log(sigmoid)` into `-softplus(-x)`, and so on).

use super::elemwise::{elemwise, term_var, Term};
use crate::op::{ReduceOp, ScalarOp};
use crate::var::Var;
use crate::Axes;

fn var(x: impl Into<Term>) -> Var {
    term_var(x.into())
}

/// `max(x, 0)`, or with `alpha ≠ 0` the leaky form `x` where positive, `alpha * x`
/// elsewhere (Theano's `relu(x, alpha)`).
#[track_caller]
pub fn relu(x: impl Into<Term>, alpha: f64) -> Var {
    let x = var(x);
    if alpha == 0.0 {
        return elemwise(ScalarOp::Maximum, vec![x.into(), 0.into()]);
    }
    // Theano's form: `0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * |x|`.
    let f1 = 0.5 * (1.0 + alpha);
    let f2 = 0.5 * (1.0 - alpha);
    &x * f1 + x.abs() * f2
}

/// `x` where positive, `alpha * (exp(x) - 1)` elsewhere (Theano's `elu`).
#[track_caller]
pub fn elu(x: impl Into<Term>, alpha: f64) -> Var {
    let x = var(x);
    elemwise(ScalarOp::Switch, vec![x.gt(0).into(), (&x).into(), (x.expm1() * alpha).into()])
}

/// The self-normalizing ELU: `scale * elu(x, alpha)` with Klambauer et al.'s constants.
#[track_caller]
pub fn selu(x: impl Into<Term>) -> Var {
    const ALPHA: f64 = 1.673_263_242_354_377_3;
    const SCALE: f64 = 1.050_700_987_355_480_5;
    elu(x, ALPHA) * SCALE
}

/// `clip(0.2 * x + 0.5, 0, 1)` (Theano's `hard_sigmoid`).
#[track_caller]
pub fn hard_sigmoid(x: impl Into<Term>) -> Var {
    let x = var(x);
    (x * 0.2 + 0.5).clip(0.0, 1.0)
}

/// `-(target * log(output) + (1 - target) * log(1 - output))`, elementwise (Theano's
/// `binary_crossentropy`); of a sigmoid it is rewritten to the stable form of
/// [`sigmoid_binary_crossentropy`].
#[track_caller]
pub fn binary_crossentropy(output: impl Into<Term>, target: impl Into<Term>) -> Var {
    let (o, t) = (var(output), var(target));
    let not_o: Var = 1.0 - &o;
    -(&t * o.log() + (1.0 - &t) * not_o.log())
}

/// `binary_crossentropy(sigmoid(output), target)` computed from the logits without overflow:
/// `target * softplus(-output) + (1 - target) * softplus(output)`.
#[track_caller]
pub fn sigmoid_binary_crossentropy(output: impl Into<Term>, target: impl Into<Term>) -> Var {
    let (o, t) = (var(output), var(target));
    &t * (-&o).softplus() + (1.0 - &t) * o.softplus()
}

/// `-sum(true_dist * log(coding_dist))` over the last axis, for one-hot (or soft) rows of
/// targets (Theano's `categorical_crossentropy` with a target of the same rank); for a
/// vector of integer labels and a matrix of probabilities, `-log(p[arange(n), labels])`
/// (Theano's `crossentropy_categorical_1hot`).
#[track_caller]
pub fn categorical_crossentropy(coding_dist: impl AsRef<Var>, true_dist: impl Into<Term>) -> Var {
    let p = coding_dist.as_ref();
    let t = var(true_dist);
    if t.dtype().is_int() && t.ndim() == 1 && p.ndim() == 2 {
        let rows = super::shape::arange(super::shape::shape_i(p, 0));
        return -p.get(&[super::index::Index::Array(rows), super::index::Index::Array(t)]).log();
    }
    let last = p.ndim().saturating_sub(1) as isize;
    -super::reduce::reduce(ReduceOp::Sum, &(t * p.log()), Axes::from(last), false)
}
