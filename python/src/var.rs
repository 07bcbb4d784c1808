// Over 800 lines: Theano's TensorVariable — every operator and method — is one #[pymethods] block (PyO3 allows one per class).
//! Symbolic variables in Python: `TensorVariable` (with Theano's operators, indexing and
//! methods), its subclasses `TensorSharedVariable` and `TensorConstant`, and `TensorType`.
//! Every method builds through the Rust library; a graph that cannot be typed raises at the
//! line that built it.

mod advanced;

use crate::convert::{parse_dtype, to_numpy, to_numpy_view, to_tensor};
use crate::errors::{build_error, raise, IntoPy};
pub use advanced::is_array_entry;
use pyo3::exceptions::{PyNotImplementedError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyEllipsis, PyFloat, PyInt, PyNone, PySlice, PyTuple};
use tensorlift as tl;
use tl::build::elemwise::Term;
use tl::{Index, Op, ScalarOp, Var};

/// A symbolic tensor (Theano's `TensorVariable`).
#[pyclass(name = "TensorVariable", module = "tensorlift.tensor", subclass, frozen, weakref)]
pub struct PyVar {
    /// The Rust variable.
    pub var: Var,
    /// False for the result of a comparison: `bool(a < b)` raises, as in Theano, so that
    /// `a < b < c` is not silently `b < c`.
    nonzero: bool,
}

/// A shared variable (Theano's `TensorSharedVariable`): a `TensorVariable` with a value.
#[pyclass(name = "TensorSharedVariable", module = "tensorlift.tensor", extends = PyVar, frozen)]
pub struct PyShared;

/// A constant (Theano's `TensorConstant`): a `TensorVariable` with fixed `data`.
#[pyclass(name = "TensorConstant", module = "tensorlift.tensor", extends = PyVar, frozen)]
pub struct PyConstant;

/// Wraps a variable in the Python class of its kind, raising its build error if it has one.
pub fn wrap(py: Python<'_>, var: Var) -> PyResult<Bound<'_, PyAny>> {
    wrap_flag(py, var, true)
}

/// The live Python object of each input and shared variable, by the variable's identity:
/// one variable is one Python object (what `pickle` needs to keep leaves shared).
static LEAVES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn leaves(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    LEAVES
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(PyModule::import(py, "weakref")?.getattr("WeakValueDictionary")?.call0()?.unbind())
        })
        .map(|d| d.bind(py))
}

fn wrap_flag(py: Python<'_>, var: Var, nonzero: bool) -> PyResult<Bound<'_, PyAny>> {
    if let Err(e) = var.check() {
        return Err(build_error(&e));
    }
    let leaf = matches!(var.op(), Op::Input | Op::Shared(_));
    if leaf {
        if let Ok(obj) = leaves(py)?.call_method1("get", (var.key(),))?.cast::<PyVar>() {
            if obj.get().var.same(&var) {
                return Ok(obj.clone().into_any());
            }
        }
    }
    let key = var.key();
    let base = PyVar { var, nonzero };
    let obj = match base.var.op() {
        Op::Shared(_) => Bound::new(py, PyClassInitializer::from(base).add_subclass(PyShared))?.into_any(),
        Op::Constant(_) => {
            Bound::new(py, PyClassInitializer::from(base).add_subclass(PyConstant))?.into_any()
        }
        _ => Bound::new(py, base)?.into_any(),
    };
    if leaf {
        leaves(py)?.set_item(key, &obj)?;
    }
    Ok(obj)
}

/// An operand: a variable, a Python number, or anything numpy can make an array of (which
/// becomes a constant). `None` when the value is of no kind a tensor can be built from.
pub fn term(obj: &Bound<'_, PyAny>) -> PyResult<Option<Term>> {
    if let Ok(v) = obj.cast::<PyVar>() {
        return Ok(Some(Term::Var(v.get().var.clone())));
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(Some(Term::Bool(obj.extract()?)));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(v) => Ok(Some(Term::Int(v))),
            Err(_) => Err(raise("LossyConversion", format!("the integer {obj} does not fit int64"))),
        };
    }
    if obj.is_exact_instance_of::<PyFloat>() {
        return Ok(Some(Term::Float(obj.extract()?)));
    }
    if obj.is_none() || obj.is_callable() || obj.hasattr("keys")? {
        return Ok(None);
    }
    Ok(Some(Term::Var(tl::constant(to_tensor(obj)?))))
}

/// An operand that must exist (`TypeError` otherwise).
pub fn term_req(obj: &Bound<'_, PyAny>) -> PyResult<Term> {
    term(obj)?.ok_or_else(|| {
        PyTypeError::new_err(format!(
            "cannot make a tensor of {} object",
            obj.get_type().name().map_or("this".into(), |n| n.to_string())
        ))
    })
}

/// A variable from any operand (Theano's `as_tensor_variable`).
pub fn as_var(obj: &Bound<'_, PyAny>) -> PyResult<Var> {
    Ok(match term_req(obj)? {
        Term::Var(v) => v,
        Term::Float(f) => tl::constant(f),
        Term::Int(i) => tl::constant(i),
        Term::Bool(b) => tl::constant(b),
    })
}

/// The variable of a Python `TensorVariable` argument.
pub fn var_of(obj: &Bound<'_, PyAny>) -> PyResult<Var> {
    match obj.cast::<PyVar>() {
        Ok(v) => Ok(v.get().var.clone()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected a symbolic variable, got {}",
            obj.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))),
    }
}

/// Axes from Python: `None` for all, an int, or a sequence of ints.
pub fn axes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<tl::Axes> {
    match obj {
        None => Ok(tl::Axes::All),
        Some(o) if o.is_none() => Ok(tl::Axes::All),
        Some(o) => match o.extract::<isize>() {
            Ok(a) => Ok(tl::Axes::These(vec![a])),
            Err(_) => Ok(tl::Axes::These(o.extract::<Vec<isize>>()?)),
        },
    }
}

fn binary(py: Python<'_>, op: ScalarOp, a: Term, b: Term, nonzero: bool) -> PyResult<Bound<'_, PyAny>> {
    wrap_flag(py, tl::elemwise(op, vec![a, b]), nonzero)
}

/// `Ok(NotImplemented)` unless `other` is an operand.
macro_rules! operand_or_not_implemented {
    ($py:expr, $other:expr) => {
        match term($other)? {
            Some(t) => t,
            None => return Ok($py.NotImplemented().into_bound($py)),
        }
    };
}

/// A slice bound: `None`, a Python integer, or a 0-d integer variable (`i * batch_size`).
fn slice_bound(obj: Bound<'_, PyAny>) -> PyResult<Option<tl::SliceBound>> {
    if obj.is_none() {
        return Ok(None);
    }
    if let Ok(v) = obj.cast::<PyVar>() {
        let var = v.get().var.clone();
        if var.ndim() != 0 || !var.dtype().is_int() {
            return Err(PyTypeError::new_err(format!(
                "a slice bound must be an integer scalar, got {}",
                var.describe()
            )));
        }
        return Ok(Some(tl::SliceBound::Var(var)));
    }
    Ok(Some(tl::SliceBound::Const(obj.extract()?)))
}

/// One entry of an index: an int, a slice, or a 0-d integer variable.
fn index_entry(item: &Bound<'_, PyAny>) -> PyResult<Index> {
    if let Ok(s) = item.cast::<PySlice>() {
        let step = match slice_bound(s.getattr("step")?)? {
            Some(tl::SliceBound::Const(0)) => return Err(raise("InvalidGraph", "slice step cannot be zero")),
            Some(k) => k,
            None => tl::SliceBound::Const(1),
        };
        return Ok(Index::range(slice_bound(s.getattr("start")?)?, slice_bound(s.getattr("stop")?)?, step));
    }
    if let Ok(v) = item.cast::<PyVar>() {
        let var = v.get().var.clone();
        if var.ndim() != 0 {
            return Err(PyNotImplementedError::new_err(
                "indexing with an integer array is not supported yet (advanced indexing)",
            ));
        }
        return Ok(Index::AtVar(var));
    }
    if item.is_instance_of::<PyBool>() {
        return Err(PyNotImplementedError::new_err("boolean indices are not supported yet"));
    }
    match item.extract::<isize>() {
        Ok(i) => Ok(Index::At(i)),
        Err(_) => {
            let np = PyModule::import(item.py(), "numpy")?;
            if item.is_instance(&np.getattr("ndarray")?)? || item.hasattr("__len__")? {
                Err(PyNotImplementedError::new_err(
                    "indexing with an integer array is not supported yet (advanced indexing)",
                ))
            } else {
                Err(PyTypeError::new_err(format!("invalid index {}", item.repr()?)))
            }
        }
    }
}

#[pymethods]
impl PyVar {
    /// The variable's name, or `None`.
    #[getter]
    fn name(&self) -> Option<String> {
        self.var.name().filter(|n| !n.is_empty()).map(|n| n.to_string())
    }

    /// Renames the variable in place, as Theano's `x.name = "x"` (`None` removes the name):
    /// every reference to it sees the new name, in `str`, `pp`, `debugprint`, error messages
    /// and the functions compiled from then on. Results never depend on names.
    #[setter]
    fn set_name(&self, name: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        // PyO3 gives `None` for Python's `None` and refuses `del x.name` itself.
        let name = match name {
            None => None,
            Some(n) => Some(n.extract::<String>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "a variable's name must be a str or None, not {}",
                    n.get_type().name().map_or("this".into(), |t| t.to_string())
                ))
            })?),
        };
        self.var.set_name(name.as_deref());
        Ok(())
    }

    /// The generator state of the random draw this variable is (Theano's `draw.rng`),
    /// `None` for other variables.
    #[getter]
    fn rng<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        draw_of(&self.var).and_then(|d| d.random_state().cloned()).map(|s| wrap(py, s)).transpose()
    }

    /// `(state, new state)`: the update of the random draw this variable is (Theano's
    /// `draw.update`, what `function` applies by itself), `None` for other variables.
    #[getter]
    fn update<'py>(&self, py: Python<'py>) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        update_of(&self.var)?.map(|(s, u)| Ok((wrap(py, s)?, wrap(py, u)?))).transpose()
    }

    /// The number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.var.ndim()
    }

    /// The dtype's name (`'float64'`).
    #[getter]
    fn dtype(&self) -> &'static str {
        self.var.dtype().name()
    }

    /// The variable's `TensorType`.
    #[getter]
    fn r#type(&self) -> PyTensorType {
        PyTensorType { ty: self.var.ty().clone() }
    }

    /// Which axes have length 1 by type (broadcast against any length).
    #[getter]
    fn broadcastable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, pattern(self.var.ty()))
    }

    /// The transpose (all axes reversed).
    #[getter]
    #[pyo3(name = "T")]
    fn transposed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, self.var.t())
    }

    /// The same expression under a new name, as a new variable (`str` and `debugprint`
    /// show it); a leaf is renamed in place by setting `name` instead.
    fn named<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, self.var.named(name))
    }

    /// Theano's `dimshuffle`: axis numbers and `'x'` for a new broadcastable axis.
    #[pyo3(signature = (*pattern))]
    fn dimshuffle<'py>(&self, py: Python<'py>, pattern: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        let items: Vec<Bound<'py, PyAny>> =
            if pattern.len() == 1 && pattern.get_item(0)?.extract::<String>().is_err() {
                match pattern.get_item(0)?.try_iter() {
                    Ok(it) => it.collect::<PyResult<_>>()?,
                    Err(_) => pattern.iter().collect(),
                }
            } else {
                pattern.iter().collect()
            };
        let mut order = Vec::with_capacity(items.len());
        for it in items {
            if let Ok(s) = it.extract::<String>() {
                if s != "x" {
                    return Err(PyTypeError::new_err(format!("dimshuffle: invalid pattern entry {s:?}")));
                }
                order.push(None);
            } else {
                order.push(Some(it.extract::<usize>()?));
            }
        }
        wrap(py, self.var.dimshuffle(&order))
    }

    /// Reshape to `shape` (one entry may be -1); `ndim`, if given, must be its length.
    #[pyo3(signature = (shape, ndim=None))]
    fn reshape<'py>(
        &self,
        py: Python<'py>,
        shape: &Bound<'py, PyAny>,
        ndim: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // A number, a sequence of numbers and integer scalar variables (`x.shape[0]`, one
        // `-1`), or an integer vector of known length such as `y.shape`.
        let items: Vec<Bound<'py, PyAny>> = if let Ok(v) = shape.cast::<PyVar>() {
            let v = v.get().var.clone();
            match (v.ndim(), v.ty().shape.first().copied().flatten()) {
                (0, _) => vec![shape.clone()],
                (1, Some(n)) => (0..n).map(|i| wrap(py, v.index(i))).collect::<PyResult<_>>()?,
                _ => {
                    return Err(PyTypeError::new_err(format!(
                    "reshape: a shape is a sequence of lengths or an integer vector of known length, not {}",
                    v.describe()
                )))
                }
            }
        } else if shape.extract::<isize>().is_ok() {
            vec![shape.clone()]
        } else {
            shape.try_iter()?.collect::<PyResult<_>>()?
        };
        let dims = items
            .iter()
            .map(|d| match d.cast::<PyVar>() {
                Ok(v) => Ok(tl::ReshapeLen::Var(v.get().var.clone())),
                Err(_) => d.extract::<isize>().map(tl::ReshapeLen::Fixed),
            })
            .collect::<PyResult<Vec<_>>>()?;
        if ndim.is_some_and(|n| n != dims.len()) {
            return Err(raise(
                "InvalidGraph",
                format!(
                    "reshape: ndim={} does not match a shape of {} lengths",
                    ndim.unwrap_or_default(),
                    dims.len()
                ),
            ));
        }
        wrap(py, tl::reshape(&self.var, &dims))
    }

    /// Collapse the trailing axes so that `ndim` remain.
    #[pyo3(signature = (ndim=1))]
    fn flatten<'py>(&self, py: Python<'py>, ndim: usize) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, self.var.flatten(ndim))
    }

    /// Permute the axes (reverse them when none are given).
    #[pyo3(signature = (*axes))]
    fn transpose<'py>(&self, py: Python<'py>, axes: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        if axes.is_empty() {
            return wrap(py, self.var.t());
        }
        let order: Vec<usize> = if axes.len() == 1 { axes.get_item(0)?.extract()? } else { axes.extract()? };
        wrap(py, self.var.transpose(&order))
    }

    /// The variable cast to `dtype`.
    fn astype<'py>(&self, py: Python<'py>, dtype: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, self.var.cast(parse_dtype(dtype)?))
    }

    /// Matrix product with `other`.
    fn dot<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::dot(Term::Var(self.var.clone()), term_req(other)?))
    }

    /// `x.clip(lo, hi)`.
    fn clip<'py>(
        &self,
        py: Python<'py>,
        lo: &Bound<'py, PyAny>,
        hi: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::clip(Term::Var(self.var.clone()), term_req(lo)?, term_req(hi)?))
    }

    /// A reduction by name over `axis` (`None`: all), keeping reduced axes with `keepdims`.
    #[pyo3(signature = (op, axis=None, keepdims=false))]
    fn _reduce<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        axis: Option<&Bound<'py, PyAny>>,
        keepdims: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        reduce(py, &self.var, op, axis, keepdims)
    }

    /// Evaluates the variable, with `inputs_to_values` giving a value to each input.
    #[pyo3(signature = (inputs_to_values=None))]
    fn eval<'py>(
        &self,
        py: Python<'py>,
        inputs_to_values: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut inputs = Vec::new();
        let mut args = Vec::new();
        if let Some(d) = inputs_to_values {
            for (k, v) in d.iter() {
                let var = var_of(&k)?;
                args.push(tl::Arg::from(crate::convert::arg_for(&v, &var)?));
                inputs.push(var);
            }
        }
        let f = tl::Function::builder(&inputs, std::slice::from_ref(&self.var))
            .on_unused_input(tl::OnUnusedInput::Ignore)
            .build()
            .py()?;
        let out = py.detach(|| f.call(&args)).py()?;
        Ok(to_numpy(py, out.into_iter().next().expect("one output")))
    }

    /// NumPy's and Theano's `take`: the slices at integer `indices` along `axis`, or the
    /// elements of the flattened tensor when `axis` is `None`.
    #[pyo3(signature = (indices, axis=None, mode="raise"))]
    fn take<'py>(
        &self,
        py: Python<'py>,
        indices: &Bound<'py, PyAny>,
        axis: Option<isize>,
        mode: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        if mode != "raise" {
            return Err(PyNotImplementedError::new_err(format!(
                "take with mode={mode:?} is not supported yet (only 'raise')"
            )));
        }
        wrap(py, self.var.take(as_var(indices)?, axis))
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let items: Vec<Bound<'py, PyAny>> = match key.cast::<PyTuple>() {
            Ok(t) => t.iter().collect(),
            Err(_) => vec![key.clone()],
        };
        if items.iter().map(is_array_entry).collect::<PyResult<Vec<bool>>>()?.contains(&true) {
            return wrap(py, advanced::advanced_getitem(&self.var, &items)?);
        }
        // `...` stands for as many full slices as the other entries leave; `None` adds a
        // broadcastable axis after the indexing.
        let used = items.iter().filter(|i| !i.is(py.Ellipsis()) && !i.is_none()).count();
        let mut entries = Vec::new();
        let mut new_axes = Vec::new(); // positions in the result
        let mut out_axis = 0usize;
        let mut seen_ellipsis = false;
        for it in &items {
            if it.is_instance_of::<PyEllipsis>() {
                if seen_ellipsis {
                    return Err(raise("InvalidGraph", "an index can only have a single ellipsis ('...')"));
                }
                seen_ellipsis = true;
                for _ in used..self.var.ndim().max(used) {
                    entries.push(Index::slice(None, None, 1));
                    out_axis += 1;
                }
            } else if it.is_instance_of::<PyNone>() {
                new_axes.push(out_axis);
                out_axis += 1;
            } else {
                let e = index_entry(it)?;
                if !matches!(e, Index::At(_) | Index::AtVar(_)) {
                    out_axis += 1;
                }
                entries.push(e);
            }
        }
        let mut v = self.var.get(&entries);
        if !new_axes.is_empty() {
            v.check().map_err(|e| build_error(&e))?;
            let kept = v.ndim() + new_axes.len();
            let mut order = Vec::with_capacity(kept);
            let mut next = 0;
            for pos in 0..kept {
                if new_axes.contains(&pos) {
                    order.push(None);
                } else {
                    order.push(Some(next));
                    next += 1;
                }
            }
            v = v.dimshuffle(&order);
        }
        wrap(py, v)
    }

    /// The variable itself (variables are immutable).
    fn copy(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Pickling: an input by its name and type, a shared variable with its value, any other
    /// expression as graph text over its leaves (pickled as objects, so expressions pickled
    /// together share them again).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let core = PyModule::import(py, "tensorlift._core")?;
        let ty = self.var.ty();
        let name = self.var.name().map_or_else(String::new, |n| n.to_string());
        match self.var.op() {
            Op::Input => Ok((
                core.getattr("_restore_input")?,
                (name, ty.dtype.name(), ty.shape.clone()).into_pyobject(py)?,
            )),
            Op::Shared(_) => Ok((
                core.getattr("_restore_shared")?,
                (name, to_numpy(py, self.var.get_value().py()?), ty.shape.clone()).into_pyobject(py)?,
            )),
            _ => {
                let (text, inputs, shared) = save_graph(py, std::slice::from_ref(&self.var))?;
                Ok((core.getattr("_restore_var")?, (text, inputs, shared).into_pyobject(py)?))
            }
        }
    }

    fn __len__(&self) -> PyResult<usize> {
        Err(PyTypeError::new_err("a symbolic variable has no len(); use x.shape[0]"))
    }

    fn __iter__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err("a symbolic variable cannot be iterated"))
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.nonzero {
            Ok(true)
        } else {
            Err(PyTypeError::new_err("Variables do not support boolean operations."))
        }
    }

    fn __hash__(&self) -> u64 {
        self.var.key() as u64
    }

    fn __repr__(&self) -> String {
        describe(&self.var)
    }

    fn __str__(&self) -> String {
        describe(&self.var)
    }

    fn __neg__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, -&self.var)
    }

    fn __pos__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __abs__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, self.var.abs())
    }

    fn __invert__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, self.var.not())
    }
}

/// Binary operators, forward and reflected (`2 * x`), with Theano's meaning.
macro_rules! binary_operators {
    ($($op:ident => $fwd:ident, $rev:ident;)*) => {
        #[pymethods]
        impl PyVar {
            $(
                fn $fwd<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                    let b = operand_or_not_implemented!(py, other);
                    binary(py, ScalarOp::$op, Term::Var(self.var.clone()), b, true)
                }
                fn $rev<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                    let a = operand_or_not_implemented!(py, other);
                    binary(py, ScalarOp::$op, a, Term::Var(self.var.clone()), true)
                }
            )*

            fn __pow__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>, modulo: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
                if modulo.is_some_and(|m| !m.is_none()) {
                    return Err(PyNotImplementedError::new_err("pow with a modulus"));
                }
                let b = operand_or_not_implemented!(py, other);
                binary(py, ScalarOp::Pow, Term::Var(self.var.clone()), b, true)
            }
            fn __rpow__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>, modulo: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
                if modulo.is_some_and(|m| !m.is_none()) {
                    return Err(PyNotImplementedError::new_err("pow with a modulus"));
                }
                let a = operand_or_not_implemented!(py, other);
                binary(py, ScalarOp::Pow, a, Term::Var(self.var.clone()), true)
            }
            fn __matmul__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let b = operand_or_not_implemented!(py, other);
                wrap(py, tl::dot(Term::Var(self.var.clone()), b))
            }
            fn __rmatmul__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let a = operand_or_not_implemented!(py, other);
                wrap(py, tl::dot(a, Term::Var(self.var.clone())))
            }
            fn __lt__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let b = operand_or_not_implemented!(py, other);
                binary(py, ScalarOp::Lt, Term::Var(self.var.clone()), b, false)
            }
            fn __le__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let b = operand_or_not_implemented!(py, other);
                binary(py, ScalarOp::Le, Term::Var(self.var.clone()), b, false)
            }
            fn __gt__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let b = operand_or_not_implemented!(py, other);
                binary(py, ScalarOp::Gt, Term::Var(self.var.clone()), b, false)
            }
            fn __ge__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let b = operand_or_not_implemented!(py, other);
                binary(py, ScalarOp::Ge, Term::Var(self.var.clone()), b, false)
            }
        }
    };
}

/// Theano's reduction methods: `x.sum(axis=None, keepdims=False)`, ….
macro_rules! reduction_methods {
    ($($name:ident),*) => {
        #[pymethods]
        impl PyVar {
            $(
                #[doc = concat!("`", stringify!($name), "` over `axis` (all axes when `None`).")]
                #[pyo3(signature = (axis=None, keepdims=false, dtype=None, acc_dtype=None))]
                fn $name<'py>(
                    &self,
                    py: Python<'py>,
                    axis: Option<&Bound<'py, PyAny>>,
                    keepdims: bool,
                    dtype: Option<&Bound<'py, PyAny>>,
                    acc_dtype: Option<&Bound<'py, PyAny>>,
                ) -> PyResult<Bound<'py, PyAny>> {
                    let _ = acc_dtype; // accepted for Theano's signature: sums accumulate as the library does
                    let out = reduce(py, &self.var, stringify!($name), axis, keepdims)?;
                    match dtype {
                        Some(d) if !d.is_none() => out.call_method1("astype", (d,)),
                        _ => Ok(out),
                    }
                }
            )*
        }
    };
}

reduction_methods!(sum, prod, mean, max, min, all, any, argmax, argmin);

/// Methods Theano variables have that are functions of `tensorlift.tensor`.
macro_rules! tensor_methods {
    ($($name:ident),*) => {
        #[pymethods]
        impl PyVar {
            $(
                #[doc = concat!("`tensorlift.tensor.", stringify!($name), "` of this variable.")]
                #[pyo3(signature = (*args, **kwargs))]
                fn $name<'py>(
                    slf: &Bound<'py, Self>,
                    args: &Bound<'py, PyTuple>,
                    kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
                ) -> PyResult<Bound<'py, PyAny>> {
                    let t = PyModule::import(slf.py(), "tensorlift.tensor")?;
                    let mut all = vec![slf.clone().into_any()];
                    all.extend(args.iter());
                    t.getattr(stringify!($name))?.call(PyTuple::new(slf.py(), all)?, kwargs)
                }
            )*
        }
    };
}

tensor_methods!(std, var, zeros_like, ones_like, round, sqrt, exp, log, tanh, sigmoid, abs, sign);

/// The binary operators of `PyVar`. PyO3's `#[pymethods]` expanded inside `macro_rules!`
/// generates the number-protocol slots as calls of its own `unsafe fn` trampolines without
/// an `unsafe` block, which `unsafe_op_in_unsafe_fn` denies; the generated code is PyO3's
/// and the methods themselves are safe code.
#[allow(unsafe_op_in_unsafe_fn)]
mod binary {
    use super::*;

    binary_operators! {
        Add => __add__, __radd__;
        Sub => __sub__, __rsub__;
        Mul => __mul__, __rmul__;
        Div => __truediv__, __rtruediv__;
        IntDiv => __floordiv__, __rfloordiv__;
        Mod => __mod__, __rmod__;
        And => __and__, __rand__;
        Xor => __xor__, __rxor__;
        Or => __or__, __ror__;
    }
}

/// Theano's `str` of a variable: its name, or the op that computes it.
fn describe(v: &Var) -> String {
    if let Some(n) = v.name().filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    match v.op() {
        Op::Constant(_) => tl::pp(v),
        Op::Input | Op::Shared(_) => format!("<{}>", PyTensorType { ty: v.ty().clone() }.__repr__()),
        op => format!("{}.0", op.name()),
    }
}

/// A reduction by name (`sum`, `mean`, `max`, `argmax`, …).
pub fn reduce<'py>(
    py: Python<'py>,
    x: &Var,
    op: &str,
    axis: Option<&Bound<'py, PyAny>>,
    keepdims: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let ax = axes(axis)?;
    let v = match op {
        "sum" => x.sum_opts(ax, keepdims),
        "prod" => x.prod_opts(ax, keepdims),
        "mean" => x.mean_opts(ax, keepdims),
        "max" => x.max_opts(ax, keepdims),
        "min" => x.min_opts(ax, keepdims),
        "all" => x.all_opts(ax, keepdims),
        "any" => x.any_opts(ax, keepdims),
        "argmax" => x.argmax_opts(ax, keepdims),
        "argmin" => x.argmin_opts(ax, keepdims),
        _ => return Err(PyTypeError::new_err(format!("unknown reduction {op:?}"))),
    };
    wrap(py, v)
}

#[pymethods]
impl PyShared {
    /// The current value: a copy the caller owns; with `borrow=True` a read-only view of
    /// the variable's buffer, without a copy (what `get_value(borrow=True).shape` wants of a
    /// large dataset). The view keeps showing the value it was taken from: a function that
    /// updates the variable writes a new buffer. `return_internal_type` changes nothing (the
    /// value is a numpy array).
    #[pyo3(signature = (borrow=false, return_internal_type=false))]
    fn get_value<'py>(
        slf: PyRef<'py, Self>,
        py: Python<'py>,
        borrow: bool,
        return_internal_type: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = return_internal_type; // accepted for Theano's signature
        let t = slf.as_super().var.get_value().py()?;
        if borrow {
            return to_numpy_view(py, t);
        }
        // The tensor shares its buffer with the variable: `to_numpy` copies it into an array
        // the caller owns, so writes to it never reach the variable.
        Ok(to_numpy(py, t))
    }

    /// Replaces the value (of the variable's dtype and a shape its type accepts; Python
    /// numbers and lists are converted). The value is copied, or with `borrow=True` a numpy
    /// array of the variable's dtype is read in place (the caller's later writes to it are
    /// what functions read, as in Theano).
    #[pyo3(signature = (value, borrow=false))]
    fn set_value(slf: PyRef<'_, Self>, value: &Bound<'_, PyAny>, borrow: bool) -> PyResult<()> {
        let var = &slf.as_super().var;
        let how = if borrow { crate::convert::Take::Borrow } else { crate::convert::Take::Copy };
        let t = crate::convert::to_tensor_as(value, how)?;
        var.set_value(t).py()
    }

    /// The default update (Theano's `default_update`): the value a function writes after
    /// each call when it does not update the variable itself; `None` when unset.
    #[getter]
    fn get_default_update<'py>(
        slf: PyRef<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        slf.as_super().var.default_update().map(|u| wrap(py, u)).transpose()
    }

    /// Sets (`None`: removes) the default update.
    #[setter]
    fn set_default_update(slf: PyRef<'_, Self>, update: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let var = &slf.as_super().var;
        let update = match update {
            Some(u) if !u.is_none() => {
                let mut u = as_var(u)?;
                // As an update: cast to the variable's dtype when that loses nothing.
                if u.dtype() != var.dtype() && u.dtype().upcast(var.dtype()) == var.dtype() {
                    u = u.cast(var.dtype());
                }
                Some(u)
            }
            _ => None,
        };
        var.set_default_update(update.as_ref()).py()
    }

    /// The current value, copied (Theano's `container.value`).
    #[getter(value)]
    fn current_value<'py>(slf: PyRef<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::get_value(slf, py, false, false)
    }
}

#[pymethods]
impl PyConstant {
    /// The constant's value.
    #[getter]
    fn data<'py>(slf: PyRef<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = slf.as_super().var.constant_value().expect("a constant").clone();
        Ok(to_numpy(py, t))
    }

    /// The constant's value (Theano's alias of `data`).
    #[getter(value)]
    fn constant_value<'py>(slf: PyRef<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::data(slf, py)
    }
}

/// Which axes of `ty` have length 1 by type (Theano's broadcastable pattern).
fn pattern(ty: &tl::TensorType) -> Vec<bool> {
    (0..ty.ndim()).map(|a| ty.is_broadcastable(a)).collect()
}

/// A tensor type (Theano's `TensorType(dtype, broadcastable)`): calling it with a name makes
/// a variable of the type.
#[pyclass(name = "TensorType", module = "tensorlift.tensor", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyTensorType {
    /// The Rust type.
    pub ty: tl::TensorType,
}

#[pymethods]
impl PyTensorType {
    #[new]
    #[pyo3(signature = (dtype, broadcastable, shape=None))]
    fn new(
        dtype: &Bound<'_, PyAny>,
        broadcastable: Vec<bool>,
        shape: Option<Vec<Option<usize>>>,
    ) -> PyResult<Self> {
        let dtype = parse_dtype(dtype)?;
        let shape = match shape {
            Some(s) => s,
            None => broadcastable.iter().map(|&b| if b { Some(1) } else { None }).collect(),
        };
        Ok(PyTensorType { ty: tl::TensorType::new(dtype, shape) })
    }

    /// Pickling: the constructor's arguments.
    fn __getnewargs__(&self) -> (&'static str, Vec<bool>, Vec<Option<usize>>) {
        (self.ty.dtype.name(), pattern(&self.ty), self.ty.shape.clone())
    }

    /// A new input variable of this type.
    #[pyo3(signature = (name=None))]
    fn __call__<'py>(&self, py: Python<'py>, name: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::input(name.unwrap_or(""), self.ty.clone()))
    }

    /// The dtype's name.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.ty.dtype.name()
    }

    /// The broadcastable pattern.
    #[getter]
    fn broadcastable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, pattern(&self.ty))
    }

    /// The number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.ty.ndim()
    }

    /// The static shape, as PyTensor's `TensorType.shape`: a length where the type knows
    /// it, `None` elsewhere.
    #[getter]
    fn shape(&self) -> Vec<Option<usize>> {
        self.ty.shape.clone()
    }

    fn __repr__(&self) -> String {
        let b: Vec<&str> = pattern(&self.ty).iter().map(|&b| if b { "True" } else { "False" }).collect();
        let inner = if b.len() == 1 { format!("{},", b[0]) } else { b.join(", ") };
        format!("TensorType({}, ({}))", self.ty.dtype.name(), inner)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.ty.dtype.name().hash(&mut h);
        self.ty.shape.hash(&mut h);
        h.finish()
    }
}

/// The graph text of `vars` and the Python objects of its inputs and shared variables.
#[allow(clippy::type_complexity)]
pub fn save_graph<'py>(
    py: Python<'py>,
    vars: &[Var],
) -> PyResult<(String, Vec<Bound<'py, PyAny>>, Vec<Bound<'py, PyAny>>)> {
    let saved = tl::persist::save(vars).map_err(|e| raise("InvalidGraph", e.to_string()))?;
    let inputs = saved.inputs.into_iter().map(|v| wrap(py, v)).collect::<PyResult<Vec<_>>>()?;
    let shared = saved.shared.into_iter().map(|v| wrap(py, v)).collect::<PyResult<Vec<_>>>()?;
    Ok((saved.text, inputs, shared))
}

/// The expressions saved by `save_graph`, over the given leaves.
pub fn load_graph(
    text: &str,
    inputs: &[Bound<'_, PyAny>],
    shared: &[Bound<'_, PyAny>],
) -> PyResult<Vec<Var>> {
    let inputs = inputs.iter().map(var_of).collect::<PyResult<Vec<_>>>()?;
    let shared = shared.iter().map(var_of).collect::<PyResult<Vec<_>>>()?;
    tl::persist::load(text, &inputs, &shared).map_err(|e| raise("InvalidGraph", e.to_string()))
}

/// Theano's class attributes of `TensorVariable` that numpy reads, and the attributes of
/// features tensorlift does not have yet.
#[pymethods]
impl PyVar {
    /// NumPy defers binary operators to the variable (`np.arange(3.) * x` is `x.__rmul__`).
    #[classattr]
    fn __array_priority__() -> f64 {
        1000.0
    }

    /// NumPy ufuncs and operators never take a variable as an array of objects.
    #[classattr]
    fn __array_ufunc__(py: Python<'_>) -> Py<PyAny> {
        py.None()
    }

    /// Theano's `x.shape`: the run-time shape, a symbolic int64 vector (`x.shape[0]` is
    /// the length of axis 0).
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::shape(&self.var))
    }

    /// Theano's `x.size`: the number of elements, a symbolic int64 scalar.
    #[getter]
    fn size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wrap(py, tl::prod(tl::shape(&self.var)))
    }
}

/// The random draw a variable is (or, through a cast or an indexing, comes from).
pub fn draw_of(v: &Var) -> Option<Var> {
    let mut at = v.clone();
    for _ in 0..3 {
        if at.random_state().is_some() {
            return Some(at);
        }
        at = at.inputs().iter().rev().find(|i| !i.op().is_leaf())?.clone();
    }
    None
}

/// `(state, update)` of the draw a variable comes from (Theano's `draw.update`).
pub fn update_of(v: &Var) -> PyResult<Option<(Var, Var)>> {
    let Some(d) = draw_of(v) else { return Ok(None) };
    let state = d.random_state().expect("a draw").clone();
    let update = tl::advance(&state, std::slice::from_ref(&d)).py()?;
    Ok(Some((state, update)))
}
