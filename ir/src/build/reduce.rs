//! Reduction builders: `sum mean prod max min all any argmax argmin` over all axes, one
//! axis or a set of axes, with `keepdims`; `softmax`, `log_softmax`, `logsumexp`.

use super::{apply_inner, norm_axis};
use crate::error::BuildError;
use crate::op::{ArgOp, Op, ReduceOp};
use crate::var::Var;

/// Which axes a reduction runs over. Negative axes count from the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Axes {
    /// Every axis.
    All,
    /// The listed axes.
    These(Vec<isize>),
}

impl From<isize> for Axes {
    fn from(a: isize) -> Axes {
        Axes::These(vec![a])
    }
}
impl From<i32> for Axes {
    fn from(a: i32) -> Axes {
        Axes::These(vec![a as isize])
    }
}
impl From<usize> for Axes {
    fn from(a: usize) -> Axes {
        // Lengths past isize::MAX cannot exist: such an axis is out of range, not negative.
        Axes::These(vec![isize::try_from(a).unwrap_or(isize::MAX)])
    }
}
impl From<&[isize]> for Axes {
    fn from(a: &[isize]) -> Axes {
        Axes::These(a.to_vec())
    }
}
impl<const N: usize> From<[isize; N]> for Axes {
    fn from(a: [isize; N]) -> Axes {
        Axes::These(a.to_vec())
    }
}
impl<const N: usize> From<[i32; N]> for Axes {
    fn from(a: [i32; N]) -> Axes {
        Axes::These(a.iter().map(|&x| x as isize).collect())
    }
}
impl From<Option<isize>> for Axes {
    fn from(a: Option<isize>) -> Axes {
        a.map_or(Axes::All, Axes::from)
    }
}

/// Resolves `axes` for `x`: sorted, distinct, non-negative.
#[track_caller]
pub(crate) fn resolve_axes(op: &str, x: &Var, axes: &Axes) -> Result<Vec<usize>, BuildError> {
    x.check()?;
    let mut out = match axes {
        Axes::All => (0..x.ndim()).collect(),
        Axes::These(list) => list.iter().map(|&a| norm_axis(op, a, x)).collect::<Result<Vec<_>, _>>()?,
    };
    let n = out.len();
    out.sort_unstable();
    out.dedup();
    if out.len() != n {
        return Err(BuildError::invalid(op, format!("repeated axis in {axes:?}")));
    }
    Ok(out)
}

/// The reduction `op` of `x` over `axes` (negative axes count from the end), keeping the
/// reduced axes with length 1 if `keepdims`: what `sum`, `max`, … build.
#[track_caller]
pub fn reduce(op: ReduceOp, x: &Var, axes: Axes, keepdims: bool) -> Var {
    Var::from_result(
        resolve_axes(op.name(), x, &axes)
            .and_then(|axes| apply_inner(Op::Reduce { op, axes, keepdims }, vec![x.clone()])),
    )
}

/// The index of the extremum `op` of `x` over `axes` (flattened in order): what `argmax`
/// and `argmin` build.
#[track_caller]
pub fn arg_reduce(op: ArgOp, x: &Var, axes: Axes, keepdims: bool) -> Var {
    Var::from_result(
        resolve_axes(op.name(), x, &axes)
            .and_then(|axes| apply_inner(Op::ArgReduce { op, axes, keepdims }, vec![x.clone()])),
    )
}

macro_rules! kind_op {
    (reduce, $op:ident) => {
        ReduceOp::$op
    };
    (arg_reduce, $op:ident) => {
        ArgOp::$op
    };
}

macro_rules! reductions {
    ($($(#[$doc:meta])* $name:ident, $axis:ident, $opts:ident => $kind:ident::$op:ident;)*) => {
        $(
            $(#[$doc])*
            #[doc = ""]
            #[doc = "Over every axis; see the methods for one axis, a set, and `keepdims`."]
            #[track_caller]
            pub fn $name(x: impl AsRef<Var>) -> Var {
                $kind(kind_op!($kind, $op), x.as_ref(), Axes::All, false)
            }
        )*
        impl Var {
            $(
                $(#[$doc])*
                #[doc = ""]
                #[doc = "Over every axis."]
                #[track_caller]
                pub fn $name(&self) -> Var {
                    $kind(kind_op!($kind, $op), self, Axes::All, false)
                }

                $(#[$doc])*
                #[doc = ""]
                #[doc = "Over one axis or a set of axes (`1`, `-1`, `[0, 2]`)."]
                #[track_caller]
                pub fn $axis(&self, axes: impl Into<Axes>) -> Var {
                    $kind(kind_op!($kind, $op), self, axes.into(), false)
                }

                $(#[$doc])*
                #[doc = ""]
                #[doc = "With every option: the axes (`Axes::All` for all) and `keepdims`."]
                #[track_caller]
                pub fn $opts(&self, axes: impl Into<Axes>, keepdims: bool) -> Var {
                    $kind(kind_op!($kind, $op), self, axes.into(), keepdims)
                }
            )*
        }
    };
}

reductions! {
    /// Sum of the elements.
    sum, sum_axis, sum_opts => reduce::Sum;
    /// Arithmetic mean.
    mean, mean_axis, mean_opts => reduce::Mean;
    /// Product of the elements.
    prod, prod_axis, prod_opts => reduce::Prod;
    /// Largest element (NaN if any is NaN).
    max, max_axis, max_opts => reduce::Max;
    /// Smallest element (NaN if any is NaN).
    min, min_axis, min_opts => reduce::Min;
    /// True when every element is nonzero.
    all, all_axis, all_opts => reduce::All;
    /// True when some element is nonzero.
    any, any_axis, any_opts => reduce::Any;
    /// Index of the first largest element (flat over the reduced axes), as int64.
    argmax, argmax_axis, argmax_opts => arg_reduce::ArgMax;
    /// Index of the first smallest element (flat over the reduced axes), as int64.
    argmin, argmin_axis, argmin_opts => arg_reduce::ArgMin;
}

/// Softmax along `axis` (`-1` for the last): `exp(x - max) / sum(exp(x - max))`.
#[track_caller]
pub fn softmax(x: impl AsRef<Var>, axis: isize) -> Var {
    let x = x.as_ref();
    if let Err(e) = x.check() {
        return Var::from_error(e);
    }
    Var::from_result(
        super::norm_axis("softmax", axis, x)
            .and_then(|axis| apply_inner(Op::Softmax { axis }, vec![x.clone()])),
    )
}

/// Log of the softmax along `axis`, computed stably.
#[track_caller]
pub fn log_softmax(x: impl AsRef<Var>, axis: isize) -> Var {
    let x = x.as_ref();
    if let Err(e) = x.check() {
        return Var::from_error(e);
    }
    Var::from_result(
        super::norm_axis("log_softmax", axis, x)
            .and_then(|axis| apply_inner(Op::LogSoftmax { axis }, vec![x.clone()])),
    )
}

/// `log(sum(exp(x)))` over `axes`, without overflow.
#[track_caller]
pub fn logsumexp(x: impl AsRef<Var>, axes: impl Into<Axes>, keepdims: bool) -> Var {
    let x = x.as_ref();
    let axes = axes.into();
    Var::from_result(
        resolve_axes("logsumexp", x, &axes)
            .and_then(|axes| apply_inner(Op::LogSumExp { axes, keepdims }, vec![x.clone()])),
    )
}

/// The variance over `axes`: the sum of squared deviations from the mean divided by
/// `N - ddof`, `N` the number of elements each result reduces (NumPy's `var`; Theano's for
/// one axis — over several, Theano divides by the product of each length minus `ddof`).
/// Integers give float64.
#[track_caller]
pub fn var(x: impl AsRef<Var>, axes: impl Into<Axes>, ddof: usize, keepdims: bool) -> Var {
    let (x, axes) = (x.as_ref(), axes.into());
    let resolved = match x.check().and_then(|()| resolve_axes("var", x, &axes)) {
        Ok(a) => a,
        Err(e) => return Var::from_error(e),
    };
    let these = || Axes::These(resolved.iter().map(|&a| a as isize).collect());
    let centered = x - &reduce(ReduceOp::Mean, x, these(), true);
    let squares = super::elemwise::sqr(&centered);
    if ddof == 0 {
        return reduce(ReduceOp::Mean, &squares, these(), keepdims);
    }
    let total = reduce(ReduceOp::Sum, &squares, these(), keepdims);
    let count =
        resolved.iter().fold(super::leaf::constant(1i64), |n, &a| n * super::shape::shape_i(x, a as isize));
    let count = super::elemwise::cast(count, total.dtype());
    total / (count - ddof as f64)
}

/// The standard deviation over `axes`: `sqrt(var(x, axes, ddof, keepdims))`.
#[track_caller]
pub fn std(x: impl AsRef<Var>, axes: impl Into<Axes>, ddof: usize, keepdims: bool) -> Var {
    super::elemwise::sqrt(var(x, axes, ddof, keepdims))
}
