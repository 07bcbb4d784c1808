//! Building graphs: every public constructor of a `Var`. Each builder type-checks with the
//! op's rule (`Op::infer`) and returns a `Var` that carries any error with the caller's source
//! location; the `try_` forms return the error at once.
//!
//! Submodules: `leaf` (inputs, constants, shared), `elemwise` (operators and the math
//! library), `reduce` (reductions and the softmax family), `shape` (dimshuffle, reshape, alloc,
//! joins), `index` (indexing and `set/inc_subtensor`), `nnet` (Theano's activations and
//! cross-entropies), `products` (`dot` of any ranks, `outer`, `tensordot`, `batched_dot`),
//! `conv` (convolution and pooling), `advanced` (`take`), `control` (`ifelse`), `array`
//! (`cumsum`, `cumprod`, `sort`, `argsort`, `repeat`, `tile`, `roll`, `eye`, `identity_like`),
//! `random` (random streams and draws), `scan` (loops).

pub mod advanced;
pub mod array;
pub mod control;
pub mod conv;
pub mod elemwise;
pub mod index;
pub mod leaf;
pub mod nnet;
pub mod products;
pub mod random;
pub mod reduce;
pub mod scan;
pub mod shape;

use crate::error::{BuildError, BuildErrorKind, Operand};
use crate::op::Op;
use crate::var::Var;

/// Builds the node `op(inputs)`: the first input error is passed on unchanged; otherwise the
/// op's type rule gives the result type or an error located at the caller.
#[track_caller]
pub fn try_apply(op: Op, inputs: Vec<Var>) -> Result<Var, BuildError> {
    match apply_inner(op, inputs) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.located()),
    }
}

/// `try_apply` for the builders: a new error is left unlocated, for the public entry point
/// to stamp with its caller's location.
pub(crate) fn apply_inner(op: Op, inputs: Vec<Var>) -> Result<Var, BuildError> {
    for v in &inputs {
        v.check()?;
    }
    let operands: Vec<Operand> = inputs.iter().map(Var::operand).collect();
    let ty = op.infer(&operands).map_err(BuildError::new)?;
    Ok(Var::from_parts(op, inputs, ty, None))
}

/// `try_apply` whose error is carried by the returned `Var`.
#[track_caller]
pub fn apply(op: Op, inputs: Vec<Var>) -> Var {
    Var::from_result(try_apply(op, inputs))
}

/// Normalizes a possibly negative axis for a tensor of `ndim` axes.
#[track_caller]
pub(crate) fn norm_axis(op: &str, axis: isize, x: &Var) -> Result<usize, BuildError> {
    x.check()?;
    let n = x.ndim() as isize;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(BuildError::new(BuildErrorKind::Axis { op: op.into(), axis, operand: x.operand() }));
    }
    Ok(a as usize)
}

/// Theano's `clone_replace`: `outputs` rebuilt with each `(old, new)` pair substituted.
/// A replacement must have the same dtype and rank as what it replaces; nodes that do not
/// depend on a replaced variable are shared with the original graph.
#[track_caller]
pub fn clone_replace(outputs: &[Var], replace: &[(Var, Var)]) -> Result<Vec<Var>, BuildError> {
    use std::collections::HashMap;
    let mut map: HashMap<usize, Var> = HashMap::new();
    for (old, new) in replace {
        old.check()?;
        new.check()?;
        if old.dtype() != new.dtype() || old.ndim() != new.ndim() {
            return Err(BuildError::invalid(
                "givens",
                format!(
                    "{} ({}) cannot be replaced by {} ({})",
                    old.describe(),
                    old.ty(),
                    new.describe(),
                    new.ty()
                ),
            ));
        }
        map.insert(old.key(), new.clone());
    }
    let mut out = Vec::with_capacity(outputs.len());
    for o in outputs {
        o.check()?;
        let mut stack: Vec<(Var, bool)> = vec![(o.clone(), false)];
        while let Some((v, expanded)) = stack.pop() {
            if map.contains_key(&v.key()) {
                continue;
            }
            if !expanded && !v.inputs().is_empty() {
                stack.push((v.clone(), true));
                stack.extend(v.inputs().iter().map(|i| (i.clone(), false)));
                continue;
            }
            let new_inputs: Vec<Var> = v.inputs().iter().map(|i| map[&i.key()].clone()).collect();
            let changed = new_inputs.iter().zip(v.inputs()).any(|(a, b)| !a.same(b));
            let nv = if changed {
                let r = apply_inner(v.op().clone(), new_inputs)?;
                r.store_name(v.name().as_deref());
                r
            } else {
                v.clone()
            };
            map.insert(v.key(), nv);
        }
        out.push(map[&o.key()].clone());
    }
    Ok(out)
}
