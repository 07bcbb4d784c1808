//! Control flow: `ifelse`, the lazy choice between two values.

use super::elemwise::{literal, Term};
use crate::op::Op;
use crate::var::Var;

/// `then` where the 0-d `cond` is non-zero, else `other` (Theano's `ifelse`). Lazy: what
/// only the branch not taken needs is not computed. The branches have one dtype and one
/// rank (a number takes the other branch's dtype); their lengths may differ.
#[track_caller]
pub fn ifelse(cond: impl Into<Term>, then: impl Into<Term>, other: impl Into<Term>) -> Var {
    let (then, other) = (then.into(), other.into());
    let dtype_of = |t: &Term| match t {
        Term::Var(v) if v.check().is_ok() => Some(v.dtype()),
        _ => None,
    };
    let as_var = |t: Term, reference| match t {
        Term::Var(v) => v,
        lit => literal(&lit, reference, 0),
    };
    let (then_dtype, other_dtype) = (dtype_of(&then), dtype_of(&other));
    let cond = as_var(cond.into(), None);
    let then = as_var(then, other_dtype);
    let other = as_var(other, then_dtype);
    super::apply(Op::IfElse, vec![cond, then, other])
}
