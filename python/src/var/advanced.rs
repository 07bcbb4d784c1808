//! Advanced indexing from Python (Theano's `AdvancedSubtensor1`/`AdvancedSubtensor`):
//! `x[idx]`, `x[:, idx]`, `p[T.arange(n), y]`, `x[x > 0]`, with index arrays given as
//! integer or boolean variables, NumPy arrays, or lists (constants). `__getitem__` routes a
//! key here when one of its entries is an index array; positions and slices beside the
//! arrays are read as in basic indexing.

use super::{index_entry, PyVar};
use crate::convert::to_tensor;
use crate::errors::raise;
use pyo3::exceptions::PyNotImplementedError;
use pyo3::prelude::*;
use pyo3::types::{PyEllipsis, PyList, PyTuple};
use tensorlift as tl;
use tl::{DType, Index, Var};

/// Whether an entry of an index key is an index array: a variable of one axis or more (or
/// of dtype bool), a NumPy array of one axis or more (or of dtype bool), or a list or tuple.
pub fn is_array_entry(item: &Bound<'_, PyAny>) -> PyResult<bool> {
    if let Ok(v) = item.cast::<PyVar>() {
        let var = &v.get().var;
        return Ok(var.ndim() > 0 || var.dtype() == DType::Bool);
    }
    if item.is_instance_of::<PyList>() || item.is_instance_of::<PyTuple>() {
        return Ok(true);
    }
    let np = PyModule::import(item.py(), "numpy")?;
    if item.is_instance(&np.getattr("ndarray")?)? {
        let ndim: usize = item.getattr("ndim")?.extract()?;
        let kind: String = item.getattr("dtype")?.getattr("kind")?.extract()?;
        return Ok(ndim > 0 || kind == "b");
    }
    Ok(false)
}

/// The index array of an entry: the variable itself, or a constant of the data (an empty
/// list is an empty int64 array, as NumPy takes it).
fn array_of(item: &Bound<'_, PyAny>) -> PyResult<Var> {
    if let Ok(v) = item.cast::<PyVar>() {
        return Ok(v.get().var.clone());
    }
    let t = to_tensor(item)?;
    let t = if t.is_empty() && t.dtype().is_float() { t.cast(DType::I64) } else { t };
    Ok(tl::constant(t))
}

/// `x[items…]` where some item is an index array. `...` stands for the axes the other
/// entries leave (a mask takes as many as it has); `None` (a new axis) beside an index
/// array is not supported.
pub fn advanced_getitem(x: &Var, items: &[Bound<'_, PyAny>]) -> PyResult<Var> {
    if items.iter().any(|i| i.is_none()) {
        return Err(PyNotImplementedError::new_err(
            "a new axis (None) beside an index array is not supported yet: index, then dimshuffle",
        ));
    }
    let mut entries: Vec<Option<Index>> = Vec::with_capacity(items.len());
    let mut used = 0;
    for it in items {
        if it.is_instance_of::<PyEllipsis>() {
            if entries.iter().any(Option::is_none) {
                return Err(raise("InvalidGraph", "an index can only have a single ellipsis ('...')"));
            }
            entries.push(None);
        } else if is_array_entry(it)? {
            let a = array_of(it)?;
            used += if a.dtype() == DType::Bool { a.ndim().max(1) } else { 1 };
            entries.push(Some(Index::Array(a)));
        } else {
            used += 1;
            entries.push(Some(index_entry(it)?));
        }
    }
    let mut index = Vec::with_capacity(entries.len() + x.ndim());
    for e in entries {
        match e {
            Some(e) => index.push(e),
            None => {
                for _ in used..x.ndim().max(used) {
                    index.push(Index::slice(None, None, 1));
                }
            }
        }
    }
    Ok(x.get(&index))
}
