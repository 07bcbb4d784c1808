//! `tensorlift._core`, the extension module of the Python package: symbolic variables,
//! builders, gradients, printing and compiled functions, each a thin call into the Rust
//! library. The Python modules of the package (`tensorlift.tensor`, …) arrange them in
//! Theano's layout.

mod array;
mod conv;
mod convert;
mod errors;
mod function;
mod random;
mod scan;
mod var;

use convert::{parse_dtype, to_numpy, to_tensor};
use errors::{raise, IntoPy};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tensorlift as tl;
use tl::build::elemwise::Term;
use tl::{Index, Op, ScalarOp, Var};
use var::{as_var, term_req, var_of, wrap, PyVar};

/// The names of the elementwise ops, from the library's op table.
#[pyfunction]
fn scalar_ops() -> Vec<&'static str> {
    ScalarOp::ALL.iter().map(|op| op.name()).collect()
}

/// Applies the elementwise op named `name` to `operands`.
#[pyfunction]
#[pyo3(signature = (name, *operands))]
fn elemwise<'py>(py: Python<'py>, name: &str, operands: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    let op = ScalarOp::ALL
        .into_iter()
        .find(|op| op.name() == name)
        .ok_or_else(|| PyTypeError::new_err(format!("unknown elementwise op {name:?}")))?;
    let terms = operands.iter().map(|o| term_req(&o)).collect::<PyResult<Vec<Term>>>()?;
    if let Some(n) = op.arity() {
        if terms.len() != n {
            return Err(PyTypeError::new_err(format!("{name} takes {n} operand(s), got {}", terms.len())));
        }
    }
    wrap(py, tl::elemwise(op, terms))
}

/// A new symbolic input of `dtype` and static `shape` (`None` entries are unknown lengths).
#[pyfunction]
#[pyo3(signature = (name, dtype, shape))]
fn tensor<'py>(
    py: Python<'py>,
    name: Option<&str>,
    dtype: &Bound<'py, PyAny>,
    shape: Vec<Option<usize>>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::tensor(name.unwrap_or(""), parse_dtype(dtype)?, &shape))
}

/// A constant of `value` (cast to `dtype` if given).
#[pyfunction]
#[pyo3(signature = (value, name=None, dtype=None))]
fn constant<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    name: Option<&str>,
    dtype: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut t = to_tensor(value)?;
    if let Some(d) = dtype {
        t = t.cast(parse_dtype(d)?);
    }
    wrap(
        py,
        match name {
            Some(n) => tl::named_constant(t, n),
            None => tl::constant(t),
        },
    )
}

/// A variable of any operand (Theano's `as_tensor_variable`).
#[pyfunction]
fn as_tensor_variable<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if x.cast::<PyVar>().is_ok() {
        return Ok(x.clone());
    }
    wrap(py, as_var(x)?)
}

/// A shared variable holding `value`, of `dtype` if given: a copy, or with `borrow` the
/// numpy array itself, read in place (Theano's aliasing: the caller's writes to the array
/// are what functions read, until an update gives the variable a new buffer).
#[pyfunction]
#[pyo3(signature = (value, name=None, dtype=None, borrow=false))]
fn shared<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    name: Option<&str>,
    dtype: Option<&Bound<'py, PyAny>>,
    borrow: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let how = if borrow { convert::Take::Borrow } else { convert::Take::Copy };
    let mut t = convert::to_tensor_as(value, how)?;
    if let Some(d) = dtype {
        t = t.cast(parse_dtype(d)?);
    }
    wrap(py, tl::shared(t, name.unwrap_or("")))
}

/// `x` cast to `dtype`.
#[pyfunction]
fn cast<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    dtype: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::cast(term_req(x)?, parse_dtype(dtype)?))
}

/// Matrix, matrix-vector or inner product.
#[pyfunction]
fn dot<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, b: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::dot(term_req(a)?, term_req(b)?))
}

/// Theano's `tensordot(a, b, axes)`: `axes` the number of trailing axes of `a` summed with
/// the leading ones of `b`, or the two lists of paired axes.
#[pyfunction]
fn tensordot<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    axes: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (a, b) = (as_var(a)?, as_var(b)?);
    if let Ok(n) = axes.extract::<usize>() {
        return wrap(py, tl::tensordot_n(&a, &b, n));
    }
    let norm = |x: &Var, axes: Vec<isize>| -> Vec<usize> {
        axes.into_iter()
            .map(|k| if k < 0 { (k + x.ndim() as isize).max(0) as usize } else { k as usize })
            .collect()
    };
    let bad = || pyo3::exceptions::PyTypeError::new_err("tensordot: axes is an int or a pair of axis lists");
    if axes.len().ok() != Some(2) {
        return Err(bad());
    }
    let (pa, pb) = (axes.get_item(0).map_err(|_| bad())?, axes.get_item(1).map_err(|_| bad())?);
    let list = |p: &Bound<'py, PyAny>| -> PyResult<Vec<isize>> {
        p.extract::<isize>().map(|k| vec![k]).or_else(|_| p.extract::<Vec<isize>>())
    };
    let (la, lb) = (norm(&a, list(&pa)?), norm(&b, list(&pb)?));
    wrap(py, tl::tensordot(&a, &b, &la, &lb))
}

/// Theano's `batched_dot(x, y)`: `dot(x[i], y[i])` for each index of the leading axis.
#[pyfunction]
fn batched_dot<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::batched_dot(as_var(x)?, as_var(y)?))
}

/// Theano's `shape(x)`: the run-time shape, an int64 vector.
#[pyfunction]
fn shape<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::shape(as_var(x)?))
}

/// Theano's `Shape_i`: the run-time length of axis `i` (negative counts from the end).
#[pyfunction]
fn shape_i<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, i: isize) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::shape_i(as_var(x)?, i))
}

/// Theano's `alloc(value, *shape)`: each length a non-negative int or an integer scalar
/// variable.
#[pyfunction]
fn alloc<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    lengths: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let lengths = lengths.iter().map(|l| array::length(l, "alloc")).collect::<PyResult<Vec<_>>>()?;
    wrap(py, tl::alloc(term_req(value)?, &lengths))
}

/// Theano's `arange(start, stop, step)` with numbers or numeric scalar variables
/// (`arange(y.shape[0])`): int64 for integers, else the widest float.
#[pyfunction]
fn arange<'py>(
    py: Python<'py>,
    start: &Bound<'py, PyAny>,
    stop: &Bound<'py, PyAny>,
    step: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::arange((term_req(start)?, term_req(stop)?, term_req(step)?)))
}

/// Theano's `ifelse(condition, then_branch, else_branch)`: lazy, only the branch taken is
/// computed.
#[pyfunction]
fn ifelse<'py>(
    py: Python<'py>,
    condition: &Bound<'py, PyAny>,
    then_branch: &Bound<'py, PyAny>,
    else_branch: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::ifelse(term_req(condition)?, term_req(then_branch)?, term_req(else_branch)?))
}

/// Theano's `zero_grad(x)`: `x`, its gradient zero.
#[pyfunction]
fn zero_grad<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::zero_grad(as_var(x)?))
}

/// Theano's `disconnected_grad(x)`: `x`, disconnected from the gradient.
#[pyfunction]
fn disconnected_grad<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::disconnected_grad(as_var(x)?))
}

/// Outer product of two vectors.
#[pyfunction]
fn outer<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, b: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::outer(&as_var(a)?, &as_var(b)?))
}

/// Joins tensors along an existing axis.
#[pyfunction]
#[pyo3(signature = (xs, axis=0))]
fn concatenate<'py>(py: Python<'py>, xs: Vec<Bound<'py, PyAny>>, axis: isize) -> PyResult<Bound<'py, PyAny>> {
    let vs = xs.iter().map(as_var).collect::<PyResult<Vec<_>>>()?;
    wrap(py, tl::concatenate(&vs, axis))
}

/// Joins tensors along a new axis.
#[pyfunction]
#[pyo3(signature = (xs, axis=0))]
fn stack<'py>(py: Python<'py>, xs: Vec<Bound<'py, PyAny>>, axis: isize) -> PyResult<Bound<'py, PyAny>> {
    let vs = xs.iter().map(as_var).collect::<PyResult<Vec<_>>>()?;
    wrap(py, tl::stack(&vs, axis))
}

/// A reduction by name over `axis`.
#[pyfunction]
#[pyo3(signature = (x, op, axis=None, keepdims=false))]
fn reduce<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    op: &str,
    axis: Option<&Bound<'py, PyAny>>,
    keepdims: bool,
) -> PyResult<Bound<'py, PyAny>> {
    var::reduce(py, &as_var(x)?, op, axis, keepdims)
}

/// Softmax along `axis`.
#[pyfunction]
#[pyo3(signature = (x, axis=-1))]
fn softmax<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, axis: isize) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::softmax(&as_var(x)?, axis))
}

/// Log-softmax along `axis`.
#[pyfunction]
#[pyo3(signature = (x, axis=-1))]
fn log_softmax<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, axis: isize) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::log_softmax(&as_var(x)?, axis))
}

/// `log(sum(exp(x)))` over `axis`, computed stably.
#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false))]
fn logsumexp<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    axis: Option<&Bound<'py, PyAny>>,
    keepdims: bool,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::logsumexp(&as_var(x)?, var::axes(axis)?, keepdims))
}

/// Theano's `addbroadcast(x, *axes)`: the axes made broadcastable (checked to have length 1
/// when the function runs).
#[pyfunction]
#[pyo3(signature = (x, *axes))]
fn addbroadcast<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    axes: Vec<isize>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::addbroadcast(as_var(x)?, &axes))
}

/// Theano's `unbroadcast(x, *axes)`: the axes no longer broadcastable.
#[pyfunction]
#[pyo3(signature = (x, *axes))]
fn unbroadcast<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, axes: Vec<isize>) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::unbroadcast(as_var(x)?, &axes))
}

/// Theano's `patternbroadcast(x, broadcastable)`: one flag per axis.
#[pyfunction]
fn patternbroadcast<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    broadcastable: Vec<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::patternbroadcast(as_var(x)?, &broadcastable))
}

/// The variance over `axis`, divided by `N - ddof` (NumPy's).
#[pyfunction(name = "var")]
#[pyo3(signature = (x, axis=None, ddof=0, keepdims=false))]
fn variance<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    axis: Option<&Bound<'py, PyAny>>,
    ddof: usize,
    keepdims: bool,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::var(as_var(x)?, var::axes(axis)?, ddof, keepdims))
}

/// The base and index of `x[...]` (basic or advanced), for `set_subtensor`/`inc_subtensor`.
fn subtensor_parts(sub: &Var) -> PyResult<(Var, Vec<Index>)> {
    let ins = sub.inputs();
    let entries = match sub.op() {
        Op::Subtensor { index } => tl::index_of(index, &ins[1..]),
        Op::AdvancedSubtensor { index } => tl::adv_index_of(index, &ins[1..]),
        _ => {
            return Err(PyTypeError::new_err(format!(
                "set_subtensor/inc_subtensor take an indexed variable x[...] as first argument, got {}",
                sub.describe()
            )))
        }
    };
    Ok((ins[0].clone(), entries))
}

/// NumPy's and Theano's `take(a, indices, axis=None)`: the slices of `a` at integer
/// `indices` along `axis`, or the elements of `a` flattened.
#[pyfunction]
#[pyo3(signature = (a, indices, axis=None))]
fn take<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    indices: &Bound<'py, PyAny>,
    axis: Option<isize>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::take(as_var(a)?, as_var(indices)?, axis))
}

/// `x` with `x[index]` set to `y` (`sub` is `x[index]`).
#[pyfunction]
fn set_subtensor<'py>(
    py: Python<'py>,
    sub: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, index) = subtensor_parts(&var_of(sub)?)?;
    wrap(py, tl::set_subtensor(&x, &index, term_req(y)?))
}

/// `x` with `y` added to `x[index]` (`sub` is `x[index]`).
#[pyfunction]
fn inc_subtensor<'py>(
    py: Python<'py>,
    sub: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, index) = subtensor_parts(&var_of(sub)?)?;
    wrap(py, tl::inc_subtensor(&x, &index, term_req(y)?))
}

/// Reverse-mode gradients of a 0-d `cost` with respect to each of `wrt`.
#[pyfunction]
#[pyo3(signature = (cost, wrt, consider_constant, disconnected_inputs, known_grads))]
fn grad<'py>(
    py: Python<'py>,
    cost: &Bound<'py, PyAny>,
    wrt: Vec<Bound<'py, PyAny>>,
    consider_constant: Vec<Bound<'py, PyAny>>,
    disconnected_inputs: &str,
    known_grads: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let cost = as_var(cost)?;
    let wrt = wrt.iter().map(var_of).collect::<PyResult<Vec<_>>>()?;
    let disconnected = match disconnected_inputs {
        "raise" => tl::Disconnected::Raise,
        "ignore" | "warn" => tl::Disconnected::Zero,
        other => {
            return Err(raise(
                "InvalidValue",
                format!("disconnected_inputs must be 'raise', 'warn' or 'ignore', got {other:?}"),
            ))
        }
    };
    let opts = tl::GradOptions {
        consider_constant: consider_constant.iter().map(var_of).collect::<PyResult<_>>()?,
        disconnected,
        known_grads: known_grads
            .iter()
            .map(|(v, g)| Ok((var_of(v)?, as_var(g)?)))
            .collect::<PyResult<_>>()?,
    };
    let gs = tl::grad_with(&cost, &wrt, &opts).py()?;
    gs.into_iter().map(|g| wrap(py, g)).collect()
}

/// The Jacobian of `expr` with respect to `wrt`.
#[pyfunction]
fn jacobian<'py>(
    py: Python<'py>,
    expr: &Bound<'py, PyAny>,
    wrt: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::jacobian(&as_var(expr)?, &var_of(wrt)?).py()?)
}

/// The Hessian of a 0-d `cost` with respect to `wrt`.
#[pyfunction]
fn hessian<'py>(
    py: Python<'py>,
    cost: &Bound<'py, PyAny>,
    wrt: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::hessian(&as_var(cost)?, &var_of(wrt)?).py()?)
}

/// `outputs` with the variables of `replace` substituted (Theano's `clone`).
#[pyfunction]
fn clone_replace<'py>(
    py: Python<'py>,
    outputs: Vec<Bound<'py, PyAny>>,
    replace: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let outs = outputs.iter().map(as_var).collect::<PyResult<Vec<_>>>()?;
    let rep = replace.iter().map(|(a, b)| Ok((var_of(a)?, as_var(b)?))).collect::<PyResult<Vec<_>>>()?;
    let cloned = tl::clone_replace(&outs, &rep).py()?;
    cloned.into_iter().map(|v| wrap(py, v)).collect()
}

/// Theano's `pp`: the expression in infix form.
#[pyfunction]
fn pp(x: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(tl::pp(&var_of(x)?))
}

/// Theano's `debugprint` of the graph of `outputs`.
#[pyfunction]
fn debugprint(outputs: Vec<Bound<'_, PyAny>>) -> PyResult<String> {
    let vs = outputs.iter().map(var_of).collect::<PyResult<Vec<_>>>()?;
    Ok(tl::debugprint(&vs))
}

/// The graph of `outputs` in Graphviz's DOT language.
#[pyfunction]
fn dot_graph(outputs: Vec<Bound<'_, PyAny>>) -> PyResult<String> {
    let vs = outputs.iter().map(var_of).collect::<PyResult<Vec<_>>>()?;
    let g = tl::FunctionGraph::from_outputs(&vs).map_err(|e| raise("InvalidGraph", e.to_string()))?;
    Ok(tl::dot_graph(&g))
}

/// The optimized graph of a compiled function in DOT.
#[pyfunction]
fn function_dot_graph(f: &Bound<'_, function::PyFunction>) -> String {
    tl::dot_graph(f.get().f.optimized_graph())
}

/// The configured `floatX`.
#[pyfunction]
fn float_x() -> &'static str {
    tl::config::float_x().name()
}

/// Sets `floatX` (`'float32'` or `'float64'`).
#[pyfunction]
fn set_float_x(dtype: &Bound<'_, PyAny>) -> PyResult<()> {
    tl::config::set_float_x(parse_dtype(dtype)?).py()
}

/// Checks the gradient of the Python function `fun` at the points `pt` against finite
/// differences; raises `GradMismatch` with the report when they differ.
#[pyfunction]
#[pyo3(signature = (fun, pt, rel_tol=None, abs_tol=None, eps=None, seed=None))]
fn verify_grad(
    py: Python<'_>,
    fun: Bound<'_, PyAny>,
    pt: Vec<Bound<'_, PyAny>>,
    rel_tol: Option<f64>,
    abs_tol: Option<f64>,
    eps: Option<f64>,
    seed: Option<u64>,
) -> PyResult<()> {
    let points = pt.iter().map(to_tensor).collect::<PyResult<Vec<_>>>()?;
    let mut opts = tl::VerifyGradOptions::default();
    if let Some(v) = rel_tol {
        opts.rel_tol = v;
    }
    if let Some(v) = abs_tol {
        opts.abs_tol = v;
    }
    if let Some(v) = eps {
        opts.eps = v;
    }
    if let Some(v) = seed {
        opts.seed = v;
    }
    let failure = std::cell::RefCell::new(None);
    let build = |vars: &[Var]| -> Var {
        let result = (|| -> PyResult<Var> {
            let args = vars.iter().map(|v| wrap(py, v.clone())).collect::<PyResult<Vec<_>>>()?;
            as_var(&fun.call1(PyTuple::new(py, args)?)?)
        })();
        result.unwrap_or_else(|e| {
            *failure.borrow_mut() = Some(e);
            Var::from_error(tl::BuildError::invalid("verify_grad", "the function raised"))
        })
    };
    let r = tl::verify_grad(build, &points, opts);
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    r.py().map(drop)
}

/// Evaluates a constant-only expression (used by `get_scalar_constant_value`).
#[pyfunction]
fn constant_value<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(var_of(x)?.constant_value().cloned().map(|t| to_numpy(py, t)))
}

/// Unpickles an input variable.
#[pyfunction]
fn _restore_input<'py>(
    py: Python<'py>,
    name: &str,
    dtype: &Bound<'py, PyAny>,
    shape: Vec<Option<usize>>,
) -> PyResult<Bound<'py, PyAny>> {
    wrap(py, tl::tensor(name, parse_dtype(dtype)?, &shape))
}

/// Unpickles a shared variable.
#[pyfunction]
fn _restore_shared<'py>(
    py: Python<'py>,
    name: &str,
    value: &Bound<'py, PyAny>,
    shape: Vec<Option<usize>>,
) -> PyResult<Bound<'py, PyAny>> {
    let t = to_tensor(value)?;
    let ty = tl::TensorType::new(t.dtype(), shape);
    wrap(py, tl::shared_with_type(t, name, ty).py()?)
}

/// Unpickles an expression (see `TensorVariable.__reduce__`).
#[pyfunction]
fn _restore_var<'py>(
    py: Python<'py>,
    text: &str,
    inputs: Vec<Bound<'py, PyAny>>,
    shared: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let v = var::load_graph(text, &inputs, &shared)?.remove(0);
    wrap(py, v)
}

/// Unpickles several expressions saved together.
#[pyfunction]
fn _restore_vars<'py>(
    py: Python<'py>,
    text: &str,
    inputs: Vec<Bound<'py, PyAny>>,
    shared: Vec<Bound<'py, PyAny>>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    var::load_graph(text, &inputs, &shared)?.into_iter().map(|v| wrap(py, v)).collect()
}

/// Registers each function in the module.
macro_rules! add_functions {
    ($m:expr, $($f:path),* $(,)?) => {
        $($m.add_function(wrap_pyfunction!($f, $m)?)?;)*
    };
}

/// The module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVar>()?;
    m.add_class::<var::PyShared>()?;
    m.add_class::<var::PyConstant>()?;
    m.add_class::<var::PyTensorType>()?;
    m.add_class::<function::PyFunction>()?;
    m.add_class::<function::ProfileStats>()?;
    m.add_class::<random::PyRandomStreams>()?;
    add_functions!(
        m,
        _restore_input,
        _restore_shared,
        _restore_var,
        _restore_vars,
        scalar_ops,
        elemwise,
        tensor,
        constant,
        as_tensor_variable,
        shared,
        cast,
        dot,
        shape,
        shape_i,
        alloc,
        arange,
        ifelse,
        variance,
        addbroadcast,
        unbroadcast,
        patternbroadcast,
        tensordot,
        batched_dot,
        zero_grad,
        disconnected_grad,
        outer,
        concatenate,
        stack,
        reduce,
        softmax,
        log_softmax,
        logsumexp,
        set_subtensor,
        inc_subtensor,
        take,
        grad,
        jacobian,
        hessian,
        clone_replace,
        pp,
        debugprint,
        dot_graph,
        function_dot_graph,
        float_x,
        set_float_x,
        verify_grad,
        constant_value,
        conv::conv2d,
        conv::conv2d_grad_inputs,
        conv::conv2d_grad_weights,
        conv::pool_2d,
        array::cumulative,
        array::sort,
        array::repeat,
        array::tile,
        array::roll,
        array::eye,
        array::identity_like,
        function::compile,
        scan::scan
    );
    Ok(())
}
