//! Compiled functions in Python: `Function` (called positionally or by input name, with
//! defaults, the GIL released while it runs) and the compile entry point behind
//! `tensorlift.function`.

use crate::convert::{arg_for, to_numpy};
use crate::errors::{raise, IntoPy};
use crate::var::{as_var, var_of};
use numpy::PyArrayMethods;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyFloatMethods, PyList, PyTuple};
use tensorlift as tl;
use tl::{Tensor, Var};

/// A compiled function (Theano's `Function`).
#[pyclass(name = "Function", module = "tensorlift.compile", frozen)]
pub struct PyFunction {
    /// The compiled function.
    pub f: tl::Function,
    /// Input names, for keyword calls.
    names: Vec<Option<String>>,
    /// Default values of trailing inputs (`In(x, value=…)`).
    defaults: Vec<Option<Tensor>>,
    /// Arguments are converted to their input's dtype even with loss (kept for pickling;
    /// the runtime converts).
    downcast: bool,
    /// One output returned bare (not in a list).
    single: bool,
    /// Every value is 0-d: calls run without releasing the GIL (releasing and taking it
    /// back would cost more than the call).
    scalar: bool,
    /// What the function was compiled from, for `pickle` and `deepcopy`.
    spec: Spec,
}

/// The arguments of `compile`, kept to compile the function again after unpickling.
struct Spec {
    outputs: Vec<Var>,
    updates: Vec<(Var, Var)>,
    givens: Vec<(Var, Var)>,
    mode: String,
    name: Option<String>,
    on_unused_input: String,
    /// Theano's `no_default_updates`: all of them off, or those of these variables.
    no_default: NoDefault,
}

/// Which default updates a function leaves out.
#[derive(Clone)]
enum NoDefault {
    /// None: every default update applies.
    None,
    /// All of them.
    All,
    /// Those of these shared variables.
    These(Vec<Var>),
}

impl PyFunction {
    /// The call of a function of float64 scalars on Python floats, with no tensor made
    /// (`Function::call_f64`); `None` when the function or the arguments are of another
    /// kind.
    fn call_plain_f64<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
    ) -> Option<PyResult<Bound<'py, PyAny>>> {
        const MAX: usize = 8;
        let n = args.len();
        // Fewer arguments (defaults) or more (an error) take the general path.
        if n > MAX || n != self.names.len() || !self.single {
            return None;
        }
        let mut values = [0f64; MAX];
        for (k, slot) in values[..n].iter_mut().enumerate() {
            *slot = args.get_borrowed_item(k).ok()?.cast::<PyFloat>().ok()?.value();
        }
        let out = self.f.call_f64(&values[..n])?;
        Some(out.py().map(|v| scalar_array(py, v)))
    }

    fn arg(&self, obj: &Bound<'_, PyAny>, k: usize) -> PyResult<Tensor> {
        arg_for(obj, &self.f.inputs()[k])
    }

    fn collect_args(
        &self,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<tl::Arg<'static>>> {
        let n = self.names.len();
        if args.len() > n {
            return Err(raise(
                "Arity",
                format!("{}: expected {} argument(s), got {}", self.f.name(), n, args.len()),
            ));
        }
        let mut values: Vec<Option<Tensor>> = Vec::with_capacity(n);
        for (k, a) in args.iter().enumerate() {
            values.push(Some(self.arg(&a, k)?));
        }
        values.resize(n, None);
        if let Some(kw) = kwargs {
            for (key, v) in kw.iter() {
                let key: String = key.extract()?;
                let Some(k) = self.names.iter().position(|n| n.as_deref() == Some(key.as_str())) else {
                    return Err(PyTypeError::new_err(format!(
                        "{}: unknown keyword argument {key:?} (the inputs are {})",
                        self.f.name(),
                        self.names
                            .iter()
                            .map(|n| n.as_deref().unwrap_or("<unnamed>"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                };
                if values[k].is_some() {
                    return Err(PyTypeError::new_err(format!(
                        "{}: argument {key:?} given twice",
                        self.f.name()
                    )));
                }
                values[k] = Some(self.arg(&v, k)?);
            }
        }
        values
            .into_iter()
            .enumerate()
            .map(|(k, v)| match v.or_else(|| self.defaults[k].clone()) {
                Some(t) => Ok(tl::Arg::from(t)),
                None => Err(raise(
                    "Arity",
                    format!(
                        "{}: missing argument {} ({})",
                        self.f.name(),
                        k,
                        self.names[k].as_deref().unwrap_or("unnamed input")
                    ),
                )),
            })
            .collect()
    }
}

#[pymethods]
impl PyFunction {
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if kwargs.is_none() {
            if let Some(out) = self.call_plain_f64(py, args) {
                return out;
            }
        }
        let args = self.collect_args(args, kwargs)?;
        let f = &self.f;
        let out = if self.scalar { f.call(&args) } else { py.detach(|| f.call(&args)) }.py()?;
        if self.single {
            return Ok(to_numpy(py, out.into_iter().next().expect("one output")));
        }
        let list = PyList::empty(py);
        for t in out {
            list.append(to_numpy(py, t))?;
        }
        Ok(list.into_any())
    }

    /// Pickling: the graphs the function was compiled from (outputs, update values and
    /// givens, over shared leaves) and its options; unpickling compiles it again.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let sp = &self.spec;
        let mut exprs = sp.outputs.clone();
        exprs.extend(sp.updates.iter().map(|(_, e)| e.clone()));
        exprs.extend(sp.givens.iter().map(|(_, e)| e.clone()));
        let (text, graph_inputs, graph_shared) = crate::var::save_graph(py, &exprs)?;
        let wrap_all = |vs: &mut dyn Iterator<Item = &Var>| -> PyResult<Vec<Bound<'py, PyAny>>> {
            vs.map(|v| crate::var::wrap(py, v.clone())).collect()
        };
        let state = PyDict::new(py);
        state.set_item("text", text)?;
        state.set_item("graph_inputs", graph_inputs)?;
        state.set_item("graph_shared", graph_shared)?;
        state.set_item("inputs", wrap_all(&mut self.f.inputs().iter())?)?;
        let defaults: Vec<Option<Bound<'py, PyAny>>> =
            self.defaults.iter().map(|d| d.clone().map(|t| to_numpy(py, t))).collect();
        state.set_item("defaults", defaults)?;
        state.set_item("names", self.names.clone())?;
        state.set_item("n_outputs", sp.outputs.len())?;
        state.set_item("update_targets", wrap_all(&mut sp.updates.iter().map(|(t, _)| t))?)?;
        state.set_item("givens_keys", wrap_all(&mut sp.givens.iter().map(|(k, _)| k))?)?;
        state.set_item("mode", &sp.mode)?;
        state.set_item("name", &sp.name)?;
        state.set_item("on_unused_input", &sp.on_unused_input)?;
        state.set_item("allow_input_downcast", self.downcast)?;
        state.set_item("single", self.single)?;
        match &sp.no_default {
            NoDefault::None => {}
            NoDefault::All => state.set_item("no_default_updates", true)?,
            NoDefault::These(vars) => {
                state.set_item("no_default_updates", wrap_all(&mut vars.iter())?)?;
            }
        }
        let module = PyModule::import(py, "tensorlift.compile.function_module")?;
        Ok((module.getattr("_restore_function")?, (state,).into_pyobject(py)?))
    }

    /// The timings of a function compiled with `profile=True` (`None` otherwise).
    #[getter]
    fn profile(slf: &Bound<'_, Self>) -> Option<ProfileStats> {
        let f = slf.get();
        f.f.profile().map(|_| ProfileStats { f: f.f.clone() })
    }

    /// Theano's `f.copy(share_memory=False, swap=None, delete_updates=False, name=None)`:
    /// the function compiled again; `swap` maps shared variables to their replacements, and
    /// the others are copied unless `share_memory`.
    #[pyo3(signature = (share_memory=false, swap=None, delete_updates=false, name=None))]
    fn copy<'py>(
        slf: &Bound<'py, Self>,
        share_memory: bool,
        swap: Option<Bound<'py, PyAny>>,
        delete_updates: bool,
        name: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let module = PyModule::import(slf.py(), "tensorlift.compile.function_module")?;
        module.getattr("_copy_function")?.call1((slf, share_memory, swap, delete_updates, name))
    }

    /// `pp` of optimized output `k`.
    fn pp_output(&self, k: usize) -> PyResult<String> {
        self.f.pp_output(k).py()
    }

    /// The number of outputs.
    #[getter]
    fn n_outputs(&self) -> usize {
        self.f.outputs().len()
    }

    /// The input variables.
    #[getter]
    fn inputs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.f.inputs().iter().map(|v| crate::var::wrap(py, v.clone())).collect()
    }

    /// Theano's `debugprint` of the optimized graph.
    fn debugprint(&self) -> String {
        self.f.debugprint()
    }

    /// One line per node of the optimized graph, in execution order.
    fn toposort(&self) -> Vec<String> {
        let g = self.f.optimized_graph();
        g.toposort()
            .into_iter()
            .filter(|&id| !g.node(id).op.is_leaf())
            .map(|id| tl::pp_graph_depth(g, id, 1))
            .collect()
    }

    /// A stage of compilation as text: `'graph'`, `'optimized'`, `'schedule'`, `'clif'`, `'asm'`.
    fn dump(&self, stage: &str) -> PyResult<String> {
        let stage: tl::Stage = stage.parse().map_err(|e: String| raise("InvalidValue", e))?;
        self.f.dump(stage).py()
    }

    /// Theano's `f.maker`: `f.maker.fgraph.outputs` are the optimized outputs.
    #[getter]
    fn maker<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let module = PyModule::import(slf.py(), "tensorlift.compile.function_module")?;
        module.getattr("FunctionMaker")?.call1((slf,))
    }

    /// The function's name.
    #[getter]
    fn name(&self) -> String {
        self.f.name().to_string()
    }

    /// The execution mode's name.
    #[getter]
    fn mode(&self) -> String {
        format!("{:?}", self.f.mode())
    }
}

/// Per-node timings of a profiled function (Theano's `ProfileStats`).
#[pyclass(name = "ProfileStats", module = "tensorlift.compile", frozen)]
pub struct ProfileStats {
    f: tl::Function,
}

#[pymethods]
impl ProfileStats {
    /// The number of calls profiled.
    #[getter]
    fn fct_callcount(&self) -> u64 {
        self.f.profile().map_or(0, |p| p.calls().0)
    }

    /// The total time of the profiled calls, in seconds.
    #[getter]
    fn fct_call_time(&self) -> f64 {
        self.f.profile().map_or(0.0, |p| p.calls().1.as_secs_f64())
    }

    /// `(node, seconds, runs)` for each node that ran, slowest first.
    fn apply_time(&self) -> Vec<(String, f64, u64)> {
        let g = self.f.optimized_graph();
        self.f
            .profile()
            .map(|p| p.nodes())
            .unwrap_or_default()
            .into_iter()
            .map(|n| (tl::pp_graph_depth(g, n.node, 1), n.time.as_secs_f64(), n.runs))
            .collect()
    }

    /// The summary as text.
    fn summary_text(&self) -> String {
        self.f.profile_summary().unwrap_or_default()
    }

    /// Prints Theano's profile summary to `file` (standard output by default).
    #[pyo3(signature = (file=None, n_ops_to_print=20, n_apply_to_print=20))]
    fn summary(
        &self,
        py: Python<'_>,
        file: Option<Bound<'_, PyAny>>,
        n_ops_to_print: usize,
        n_apply_to_print: usize,
    ) -> PyResult<()> {
        let _ = n_ops_to_print; // accepted for Theano's signature: there is no per-op table
        let text = self.summary_text();
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines.iter().position(|l| l.starts_with("<% time>")).map_or(lines.len(), |k| k + 1);
        lines.truncate((header + n_apply_to_print).min(lines.len()));
        let file = match file {
            Some(f) if !f.is_none() => f,
            _ => PyModule::import(py, "sys")?.getattr("stdout")?,
        };
        file.call_method1("write", (lines.join("\n") + "\n",))?;
        Ok(())
    }
}

/// An input as `tensorlift.function` passes it: the variable, its default, its keyword.
type InputSpec<'py> = (Bound<'py, PyAny>, Option<Bound<'py, PyAny>>, Option<String>);

/// Compiles a function; `tensorlift.function` prepares the arguments.
#[pyfunction]
#[pyo3(signature = (inputs, outputs, updates, givens, mode, name, on_unused_input, allow_input_downcast, single, profile=false, no_default_updates=None))]
#[allow(clippy::too_many_arguments)]
pub fn compile(
    py: Python<'_>,
    inputs: Vec<InputSpec<'_>>,
    outputs: Vec<Bound<'_, PyAny>>,
    updates: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    givens: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    mode: &str,
    name: Option<String>,
    on_unused_input: &str,
    allow_input_downcast: bool,
    single: bool,
    profile: bool,
    no_default_updates: Option<Bound<'_, PyAny>>,
) -> PyResult<PyFunction> {
    // `no_default_updates`: a bool, or a list of shared variables.
    let no_default = match &no_default_updates {
        None => NoDefault::None,
        Some(o) if o.is_none() => NoDefault::None,
        Some(o) => match o.extract::<bool>() {
            Ok(true) => NoDefault::All,
            Ok(false) => NoDefault::None,
            Err(_) => NoDefault::These(o.try_iter()?.map(|v| var_of(&v?)).collect::<PyResult<Vec<_>>>()?),
        },
    };
    let mut vars = Vec::with_capacity(inputs.len());
    let mut names = Vec::with_capacity(inputs.len());
    let mut defaults = Vec::with_capacity(inputs.len());
    for (v, default, n) in &inputs {
        let var = var_of(v)?;
        if !matches!(var.op(), tl::Op::Input) {
            return Err(PyTypeError::new_err(format!(
                "function inputs must be symbolic inputs (from T.dscalar(...) etc.), got {}{}",
                var.describe(),
                if matches!(var.op(), tl::Op::Shared(_)) {
                    "; a shared variable is read by the function without being an input"
                } else {
                    ""
                }
            )));
        }
        defaults.push(match default {
            Some(d) if !d.is_none() => Some(arg_for(d, &var)?),
            _ => None,
        });
        names.push(n.clone().or_else(|| var.name().filter(|s| !s.is_empty()).map(|s| s.to_string())));
        vars.push(var);
    }
    let outs = outputs.iter().map(as_var).collect::<PyResult<Vec<_>>>()?;
    let mut pairs = Vec::with_capacity(updates.len());
    for (s, e) in &updates {
        let shared = var_of(s)?;
        let mut e = as_var(e)?;
        // Theano casts an update to the variable's dtype when that loses nothing.
        if e.dtype() != shared.dtype() && e.dtype().upcast(shared.dtype()) == shared.dtype() {
            e = e.cast(shared.dtype());
        }
        pairs.push((shared, e));
    }
    let givens = givens.iter().map(|(a, b)| Ok((var_of(a)?, as_var(b)?))).collect::<PyResult<Vec<_>>>()?;
    let mode_name = mode.to_string();
    let mode = match mode {
        "FAST_RUN" | "JIT" => tl::Mode::Jit,
        "FAST_COMPILE" | "py" | "INTERP" => tl::Mode::Interp,
        "DebugMode" | "DEBUG_MODE" => tl::Mode::Debug,
        other => {
            return Err(raise(
                "InvalidValue",
                format!("unknown mode {other:?} (FAST_RUN, FAST_COMPILE, py, DebugMode)"),
            ))
        }
    };
    let on_unused = match on_unused_input {
        "raise" => tl::OnUnusedInput::Raise,
        "ignore" | "warn" => tl::OnUnusedInput::Ignore,
        other => {
            return Err(raise(
                "InvalidValue",
                format!("on_unused_input must be 'raise', 'warn' or 'ignore', got {other:?}"),
            ))
        }
    };
    let mut b = tl::Function::builder(&vars, &outs)
        .updates(&pairs)
        .givens(&givens)
        .mode(mode)
        .on_unused_input(on_unused)
        .allow_input_downcast(allow_input_downcast)
        .profile(profile);
    b = match &no_default {
        NoDefault::None => b,
        NoDefault::All => b.no_default_updates(true),
        NoDefault::These(vars) => b.no_default_updates_for(vars),
    };
    if let Some(n) = &name {
        b = b.name(n.clone());
    }
    let f = py.detach(|| b.build()).py()?;
    let scalar = f.is_scalar();
    let spec = Spec {
        outputs: outs,
        updates: pairs,
        givens,
        mode: mode_name,
        name,
        on_unused_input: on_unused_input.to_string(),
        no_default,
    };
    Ok(PyFunction { f, names, defaults, downcast: allow_input_downcast, single, scalar, spec })
}

/// A new 0-d float64 array holding `v` (what Theano returns for a 0-d output), made
/// directly: no intermediate Rust array.
fn scalar_array(py: Python<'_>, v: f64) -> Bound<'_, PyAny> {
    // SAFETY: a new 0-d array of one element, uninitialized until written just below, before
    // any Python code can see it.
    let a = unsafe { numpy::PyArray0::<f64>::new(py, (), false) };
    // SAFETY: `data` points to the array's one element, which nothing else references yet.
    unsafe { a.data().write(v) };
    a.into_any()
}
