//! The array functions for the Python package (Theano's `extra_ops`, `sort` and the array
//! functions of `theano.tensor.basic`): `cumsum`, `cumprod`, `sort`, `argsort`, `repeat`,
//! `tile`, `roll`, `eye` and `identity_like`, and the methods of `TensorVariable` that
//! spell them (`x.sort()`, `x.cumsum(axis=0)`, …).

use crate::convert::parse_dtype;
use crate::var::{as_var, term_req, wrap, PyVar};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use tensorlift as tl;
use tl::{CumOp, Length, Var};

/// The running reduction `op` (`"cumsum"` or `"cumprod"`) along `axis`, or over `x`
/// flattened for `None`.
#[pyfunction]
#[pyo3(signature = (x, op, axis=None))]
pub fn cumulative<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    op: &str,
    axis: Option<isize>,
) -> PyResult<Bound<'py, PyAny>> {
    let op = CumOp::ALL
        .into_iter()
        .find(|o| o.name() == op)
        .ok_or_else(|| PyValueError::new_err(format!("unknown running reduction {op:?}")))?;
    wrap(py, tl::cumulative(op, as_var(x)?, axis))
}

/// Checks NumPy's `kind` and `order` arguments of `sort`: every kind sorts alike here.
fn sort_options(kind: &str, order: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    if !["quicksort", "mergesort", "heapsort", "stable"].contains(&kind) {
        return Err(PyValueError::new_err(format!(
            "sort kind must be one of 'quicksort', 'mergesort', 'heapsort', 'stable', got {kind:?}"
        )));
    }
    if order.is_some_and(|o| !o.is_none()) {
        return Err(PyValueError::new_err("sort: order (fields of a structured array) must be None"));
    }
    Ok(())
}

/// Theano's `sort(a, axis=-1, kind='quicksort', order=None)` (`arg`: `argsort`).
#[pyfunction]
#[pyo3(signature = (a, axis=Some(-1), kind="quicksort", order=None, arg=false))]
pub fn sort<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    axis: Option<isize>,
    kind: &str,
    order: Option<&Bound<'py, PyAny>>,
    arg: bool,
) -> PyResult<Bound<'py, PyAny>> {
    sort_options(kind, order)?;
    let a = as_var(a)?;
    wrap(py, if arg { tl::argsort(&a, axis) } else { tl::sort(&a, axis) })
}

/// Theano's `repeat(x, repeats, axis=None)`: `repeats` an int, a list or array of counts, or
/// an integer variable.
#[pyfunction]
#[pyo3(signature = (x, repeats, axis=None))]
pub fn repeat<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    repeats: &Bound<'py, PyAny>,
    axis: Option<isize>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::repeat(as_var(x)?, term_req(repeats)?, axis))
}

/// A length or count (of `tile`, `alloc`, …, named `op` in errors): a non-negative int or
/// an integer scalar variable.
pub fn length(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Length> {
    if obj.cast::<PyVar>().is_err() {
        if let Ok(n) = obj.extract::<i64>() {
            return usize::try_from(n)
                .map(Length::Fixed)
                .map_err(|_| PyValueError::new_err(format!("{op}: negative length {n}")));
        }
    }
    as_var(obj).map(Length::Var)
}

/// Theano's `tile(x, reps, ndim=None)`: `reps` a list of counts (ints or integer scalar
/// variables), or an integer vector variable with `ndim`.
#[pyfunction]
#[pyo3(signature = (x, reps, ndim=None))]
pub fn tile<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    reps: &Bound<'py, PyAny>,
    ndim: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let x = as_var(x)?;
    if let Ok(v) = reps.cast::<PyVar>() {
        let v: Var = v.get().var.clone();
        if v.ndim() == 1 {
            let nd = ndim.ok_or_else(|| {
                PyValueError::new_err("tile: if reps is a vector variable, ndim must be given")
            })?;
            return wrap(py, tl::tile_vector(&x, &v, nd));
        }
        return wrap(py, tl::tile(&x, &[Length::Var(v)], ndim));
    }
    let counts: Vec<Length> = match reps.extract::<Vec<Bound<'py, PyAny>>>() {
        Ok(items) => items.iter().map(|r| length(r, "tile")).collect::<PyResult<_>>()?,
        Err(_) => vec![length(reps, "tile")?],
    };
    wrap(py, tl::tile(&x, &counts, ndim))
}

/// Theano's `roll(x, shift, axis=None)`: `shift` an int or an integer scalar variable.
#[pyfunction]
#[pyo3(signature = (x, shift, axis=None))]
pub fn roll<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    shift: &Bound<'py, PyAny>,
    axis: Option<isize>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::roll(as_var(x)?, term_req(shift)?, axis))
}

/// Theano's `eye(n, m=None, k=0, dtype=None)`: each of `n`, `m`, `k` an int or an integer
/// scalar variable; floatX unless `dtype` says.
#[pyfunction]
#[pyo3(signature = (n, m=None, k=None, dtype=None))]
pub fn eye<'py>(
    py: Python<'py>,
    n: &Bound<'py, PyAny>,
    m: Option<&Bound<'py, PyAny>>,
    k: Option<&Bound<'py, PyAny>>,
    dtype: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let m = m.filter(|m| !m.is_none()).map(term_req).transpose()?;
    let k = match k.filter(|k| !k.is_none()) {
        Some(k) => term_req(k)?,
        None => tl::Term::Int(0),
    };
    let dtype = dtype.filter(|d| !d.is_none()).map(parse_dtype).transpose()?;
    wrap(py, tl::eye(term_req(n)?, m, k, dtype))
}

/// Theano's `identity_like(x)`: the identity-like matrix of `x`'s shape and dtype.
#[pyfunction]
pub fn identity_like<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::identity_like(as_var(x)?))
}

#[pymethods]
impl PyVar {
    /// Theano's `x.sort(axis=-1, kind='quicksort', order=None)`.
    #[pyo3(name = "sort", signature = (axis=Some(-1), kind="quicksort", order=None))]
    fn sort_method<'py>(
        &self,
        py: Python<'py>,
        axis: Option<isize>,
        kind: &str,
        order: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        sort_options(kind, order)?;
        wrap(py, tl::sort(&self.var, axis))
    }

    /// Theano's `x.argsort(axis=-1, kind='quicksort', order=None)`.
    #[pyo3(name = "argsort", signature = (axis=Some(-1), kind="quicksort", order=None))]
    fn argsort_method<'py>(
        &self,
        py: Python<'py>,
        axis: Option<isize>,
        kind: &str,
        order: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        sort_options(kind, order)?;
        wrap(py, tl::argsort(&self.var, axis))
    }

    /// Theano's `x.cumsum(axis=None)`.
    #[pyo3(name = "cumsum", signature = (axis=None))]
    fn cumsum_method<'py>(&self, py: Python<'py>, axis: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::cumsum(&self.var, axis))
    }

    /// Theano's `x.cumprod(axis=None)`.
    #[pyo3(name = "cumprod", signature = (axis=None))]
    fn cumprod_method<'py>(&self, py: Python<'py>, axis: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::cumprod(&self.var, axis))
    }

    /// Theano's `x.repeat(repeats, axis=None)`.
    #[pyo3(name = "repeat", signature = (repeats, axis=None))]
    fn repeat_method<'py>(
        &self,
        py: Python<'py>,
        repeats: &Bound<'py, PyAny>,
        axis: Option<isize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if repeats.is_none() {
            return Err(PyTypeError::new_err("repeat: repeats must be given"));
        }
        wrap(py, tl::repeat(&self.var, term_req(repeats)?, axis))
    }
}
