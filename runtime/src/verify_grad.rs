//! `verify_grad`: Theano's check of a symbolic gradient against central finite differences.
//! A non-scalar output is reduced to a scalar by a fixed random projection, so every
//! element of the output's Jacobian takes part.

use crate::error::{Error, Result};
use crate::function::Function;
pub use crate::grad_report::{GradReport, WorstElement};
use crate::mode::Mode;
use tensorlift_ir::grad::grad;
use tensorlift_ir::{Arg, Tensor, TensorType, Var};

/// Tolerances and step of `verify_grad`.
#[derive(Clone, Copy, Debug)]
pub struct VerifyGradOptions {
    /// Largest accepted `|analytic - numeric| / max(|analytic|, |numeric|)` …
    pub rel_tol: f64,
    /// … unless the absolute difference is below this.
    pub abs_tol: f64,
    /// Finite-difference step.
    pub eps: f64,
    /// Seed of the random projection of non-scalar outputs.
    pub seed: u64,
}

impl Default for VerifyGradOptions {
    fn default() -> Self {
        VerifyGradOptions { rel_tol: 1e-5, abs_tol: 1e-7, eps: 1e-6, seed: 42 }
    }
}

/// A small deterministic generator for the projection (SplitMix64).
fn uniform(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            0.5 + (z >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// Checks the gradient of `f` at `points` (one float tensor per input of `f`): the
/// symbolic gradient of `sum(f(x) * P)` (P a fixed random projection; `f(x)` itself when it
/// is 0-d) must match central differences within the tolerances. Runs under the
/// interpreter. On a mismatch the error carries the report.
pub fn verify_grad(
    f: impl Fn(&[Var]) -> Var,
    points: &[Tensor],
    opts: VerifyGradOptions,
) -> Result<GradReport> {
    let inputs: Vec<Var> = points
        .iter()
        .enumerate()
        .map(|(k, p)| tensorlift_ir::input(&format!("x{k}"), TensorType::unknown(p.dtype(), p.ndim())))
        .collect();
    let out = f(&inputs);
    out.check()?;
    let cost = if out.ndim() == 0 {
        out.clone()
    } else {
        let probe = Function::builder(&inputs, &[&out]).mode(Mode::Interp).build()?;
        let args: Vec<Arg> = points.iter().map(Arg::from).collect();
        let value = probe.call(&args)?.remove(0);
        let proj = Tensor::from(
            ndarray::ArrayD::from_shape_vec(value.shape(), uniform(opts.seed, value.len())).expect("shape"),
        )
        .cast(out.dtype());
        (&out * tensorlift_ir::constant(proj)).sum()
    };
    let grads = grad(&cost, &inputs)?;
    let cost_fn = Function::builder(&inputs, &[&cost]).mode(Mode::Interp).build()?;
    let grad_fn = Function::builder(&inputs, &grads).mode(Mode::Interp).build()?;
    let args: Vec<Arg> = points.iter().map(Arg::from).collect();
    let analytic = grad_fn.call(&args)?;

    let mut report = GradReport { max_abs_err: 0.0, max_rel_err: 0.0, worst: None, elements: 0 };
    let mut worst_key = (0.0f64, 0.0f64);
    for (k, point) in points.iter().enumerate() {
        let base = point.to_f64_array();
        let an = analytic[k].to_f64_vec();
        for (j, &a) in an.iter().enumerate() {
            let eval = |delta: f64| -> Result<f64> {
                let mut x = base.clone();
                if let Some(v) = x.iter_mut().nth(j) {
                    *v += delta;
                }
                let mut args: Vec<Arg> = points.iter().map(Arg::from).collect();
                args[k] = Arg::from(Tensor::from(x).cast(point.dtype()));
                Ok(cost_fn.call(&args)?[0].to_f64()?)
            };
            let numeric = (eval(opts.eps)? - eval(-opts.eps)?) / (2.0 * opts.eps);
            let abs = (a - numeric).abs();
            let rel = if abs <= opts.abs_tol { 0.0 } else { abs / a.abs().max(numeric.abs()) };
            report.max_abs_err = report.max_abs_err.max(abs);
            report.max_rel_err = report.max_rel_err.max(rel);
            report.elements += 1;
            if report.worst.is_none() || (rel, abs) > worst_key {
                worst_key = (rel, abs);
                report.worst = Some(WorstElement { input: k, index: j, analytic: a, numeric });
            }
        }
    }
    if report.max_rel_err > opts.rel_tol || report.max_abs_err.is_nan() {
        return Err(Error::GradMismatch(Box::new(report)));
    }
    Ok(report)
}
