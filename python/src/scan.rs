//! `scan` for Python: the loop builder called with a Python step function. The Python side
//! (`tensorlift.scan_module`) normalizes Theano's many argument forms and the step's return
//! value; this module calls the step on the placeholders and builds the loop.

use crate::errors::build_error;
use crate::var::{as_var, var_of, wrap};
use pyo3::prelude::*;
use pyo3::types::PyList;
use tensorlift as tl;
use tl::{OutputInfo, Sequence, SharedVar, Var};

/// Why building a scan failed: the step function raised, or the graph does not type.
enum ScanError {
    Py(PyErr),
    Build(tl::BuildError),
}

impl From<tl::BuildError> for ScanError {
    fn from(e: tl::BuildError) -> Self {
        ScanError::Build(e)
    }
}

impl From<PyErr> for ScanError {
    fn from(e: PyErr) -> Self {
        ScanError::Py(e)
    }
}

/// The loop: `step(args)` receives the list of the sequences' and outputs' taps and returns
/// `(outputs, [(shared, value)…], condition or None)`. `sequences` are `(variable, taps)`,
/// `outputs_info` `None` (mapped) or `(initial, taps)`. Returns the outputs and the updates
/// `(shared, value)` (the shared variables as the step gave them where it named them).
#[pyfunction]
#[pyo3(signature = (step, sequences, outputs_info, n_steps=None, truncate_gradient=None, go_backwards=false, name=None))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub fn scan<'py>(
    py: Python<'py>,
    step: Bound<'py, PyAny>,
    sequences: Vec<(Bound<'py, PyAny>, Vec<isize>)>,
    outputs_info: Vec<Option<(Bound<'py, PyAny>, Vec<isize>)>>,
    n_steps: Option<Bound<'py, PyAny>>,
    truncate_gradient: Option<usize>,
    go_backwards: bool,
    name: Option<String>,
) -> PyResult<(Vec<Bound<'py, PyAny>>, Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>)> {
    let seqs = sequences
        .iter()
        .map(|(x, taps)| Ok(Sequence::taps(as_var(x)?, taps)))
        .collect::<PyResult<Vec<_>>>()?;
    let outs = outputs_info
        .iter()
        .map(|o| match o {
            None => Ok(OutputInfo::Mapped),
            Some((init, taps)) => Ok(OutputInfo::taps(as_var(init)?, taps)),
        })
        .collect::<PyResult<Vec<_>>>()?;
    let mut builder = tl::Scan::new().sequences(seqs).outputs_info(outs).go_backwards(go_backwards);
    if let Some(n) = &n_steps {
        builder = builder.n_steps(as_var(n)?);
    }
    if let Some(k) = truncate_gradient {
        builder = builder.truncate_gradient(k);
    }
    if let Some(name) = &name {
        builder = builder.name(name);
    }
    // The shared variables the step names in its updates, to return them as given.
    let mut named: Vec<(SharedVar, Bound<'py, PyAny>)> = Vec::new();
    let built = builder.try_build(|args: &[Var]| -> Result<tl::Step, ScanError> {
        let args = args.iter().map(|a| wrap(py, a.clone())).collect::<PyResult<Vec<_>>>()?;
        let ret = step.call1((PyList::new(py, args)?,))?;
        let (outputs, updates, until): (
            Vec<Bound<'py, PyAny>>,
            Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
            Option<Bound<'py, PyAny>>,
        ) = ret.extract()?;
        let mut st =
            tl::Step { outputs: outputs.iter().map(as_var).collect::<PyResult<_>>()?, ..tl::Step::default() };
        for (s, v) in &updates {
            let shared = var_of(s)?;
            if let Some(cell) = shared.as_shared() {
                named.push((cell.clone(), s.clone()));
            }
            st.updates.push((shared, as_var(v)?));
        }
        st.until = until.as_ref().map(as_var).transpose()?;
        Ok(st)
    });
    let result = match built {
        Ok(r) => r,
        Err(ScanError::Py(e)) => return Err(e),
        Err(ScanError::Build(e)) => return Err(build_error(&e)),
    };
    let outputs = result.outputs.into_iter().map(|v| wrap(py, v)).collect::<PyResult<Vec<_>>>()?;
    let updates = result
        .updates
        .into_iter()
        .map(|(s, v)| {
            let key = match named.iter().find(|(cell, _)| Some(cell) == s.as_shared()) {
                Some((_, obj)) => obj.clone(),
                None => wrap(py, s)?,
            };
            Ok((key, wrap(py, v)?))
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((outputs, updates))
}
