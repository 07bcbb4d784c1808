//! Random streams in Python: `_core.RandomStreams`, behind
//! `tensorlift.tensor.shared_randomstreams.RandomStreams` and
//! `tensorlift.sandbox.rng_mrg.MRG_RandomStreams` (which give Theano's signatures).

use crate::convert::parse_dtype;
use crate::errors::IntoPy;
use crate::var::{term_req, wrap, PyVar};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use tensorlift as tl;
use tl::{Distribution, Length, Size};

/// A seed and the generator states of the draws made from it (`tl::RandomStreams`).
#[pyclass(name = "RandomStreams", module = "tensorlift._core", frozen)]
pub struct PyRandomStreams {
    streams: tl::RandomStreams,
}

/// A draw's size from Python: `None` (the parameters' shape), an int, a symbolic int
/// vector (`x.shape`), or a tuple or list of ints and symbolic int scalars.
fn size_of(obj: &Bound<'_, PyAny>) -> PyResult<Size> {
    if obj.is_none() {
        return Ok(Size::Params);
    }
    if let Ok(v) = obj.cast::<PyVar>() {
        let var = v.get().var.clone();
        return Ok(if var.ndim() == 0 { Size::Lengths(vec![Length::Var(var)]) } else { Size::Vector(var) });
    }
    if let Ok(n) = obj.extract::<i64>() {
        return length(n).map(|l| Size::Lengths(vec![l]));
    }
    if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>() {
        let mut lengths = Vec::new();
        for item in obj.try_iter()? {
            let item = item?;
            if let Ok(v) = item.cast::<PyVar>() {
                lengths.push(Length::Var(v.get().var.clone()));
            } else {
                lengths.push(length(item.extract::<i64>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "a size's lengths must be integers or symbolic integers, got {item}"
                    ))
                })?)?);
            }
        }
        return Ok(Size::Lengths(lengths));
    }
    // A numpy array of lengths.
    let lengths: Vec<i64> = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!("size must be None, an int, a tuple or a symbolic vector, got {obj}"))
    })?;
    Ok(Size::Lengths(lengths.into_iter().map(length).collect::<PyResult<_>>()?))
}

fn length(n: i64) -> PyResult<Length> {
    usize::try_from(n)
        .map(Length::Fixed)
        .map_err(|_| crate::errors::raise("InvalidValue", format!("a size has the negative length {n}")))
}

fn distribution(name: &str) -> PyResult<Distribution> {
    Distribution::from_name(name)
        .ok_or_else(|| crate::errors::raise("InvalidValue", format!("unknown distribution {name:?}")))
}

#[pymethods]
impl PyRandomStreams {
    #[new]
    fn new(seed: u64) -> Self {
        PyRandomStreams { streams: tl::RandomStreams::new(seed) }
    }

    /// A draw of `dist` (`uniform`, `normal`, `normal_truncated`, `binomial`,
    /// `random_integers`, `permutation`, `multinomial`) with its own new state.
    fn draw<'py>(
        &self,
        py: Python<'py>,
        dist: &str,
        dtype: &Bound<'py, PyAny>,
        size: &Bound<'py, PyAny>,
        params: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dist = distribution(dist)?;
        let dtype = parse_dtype(dtype)?;
        let params = params.iter().map(term_req).collect::<PyResult<Vec<_>>>()?;
        wrap(py, self.streams.draw(dist, dtype, size_of(size)?, params))
    }

    /// Picks among `a` (an int: positions; a vector: its elements), distinct unless
    /// `replace`, with probabilities `p` (a vector, or a matrix: one distribution per row,
    /// the rows a first axis of the result).
    #[pyo3(signature = (size, a, replace, p=None))]
    fn choice<'py>(
        &self,
        py: Python<'py>,
        size: &Bound<'py, PyAny>,
        a: &Bound<'py, PyAny>,
        replace: bool,
        p: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = match p {
            Some(p) if !p.is_none() => Some(crate::var::as_var(p)?),
            _ => None,
        };
        wrap(py, self.streams.choice(size_of(size)?, term_req(a)?, replace, p.as_ref()))
    }

    /// Reseeds every state.
    fn seed(&self, seed: u64) {
        self.streams.seed(seed);
    }

    /// The seed the states were last set from.
    #[getter]
    fn current_seed(&self) -> u64 {
        self.streams.current_seed()
    }

    /// The generator states, one per draw.
    fn states<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.streams.states().into_iter().map(|s| wrap(py, s)).collect()
    }

    /// `(state, update)` pairs (Theano's `state_updates`).
    fn state_updates<'py>(&self, py: Python<'py>) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        let pairs = self.streams.state_updates().py()?;
        pairs.into_iter().map(|(s, u)| Ok((wrap(py, s)?, wrap(py, u)?))).collect()
    }
}
