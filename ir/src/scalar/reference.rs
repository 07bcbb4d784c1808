//! Reference functions of the unary float ops that std lacks (the stable `sigmoid` and
//! `softplus`), and [`UnaryFloat`], which picks an op's reference function by float type.
//! The op table (`super`) names these functions; every backend is measured against them.

use super::ScalarOp;
use num_traits::Float;

/// `1 / (1 + e^-x)`, finite for every finite `x`.
pub fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::one() + e)
    }
}

/// `log(1 + e^x)` without overflow: `max(x, 0) + log1p(e^-|x|)`.
pub fn softplus<F: Float>(x: F) -> F {
    if x.is_nan() {
        return x;
    }
    x.max(F::zero()) + (-x.abs()).exp().ln_1p()
}

/// A float type with reference functions for the unary float ops (`f64` and `f32`).
pub trait UnaryFloat: Sized {
    /// The reference function of `op` in this type, `None` for ops that are not unary
    /// float functions.
    fn unary(op: ScalarOp) -> Option<fn(Self) -> Self>;
}

impl UnaryFloat for f64 {
    fn unary(op: ScalarOp) -> Option<fn(f64) -> f64> {
        op.unary_f64()
    }
}

impl UnaryFloat for f32 {
    fn unary(op: ScalarOp) -> Option<fn(f32) -> f32> {
        op.unary_f32()
    }
}
