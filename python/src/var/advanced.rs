//! Advanced indexing from Python (Theano's `AdvancedSubtensor1`/`AdvancedSubtensor`):
//! `x[idx]`, `x[:, idx]`, `p[T.arange(n), y]`, `x[x > 0]`, with index arrays given as
//! integer or boolean variables, NumPy arrays, or lists (constants). `__getitem__` routes a
//! key here when one of its entries is an index array; positions and slices beside the
//! arrays are read as in basic indexing.

use super::{index_entry, PyVar};
use crate::convert::to_tensor;
use crate::errors::raise;
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

/// One entry of an advanced index key.
enum Entry {
    /// An index array, a position or a slice.
    Index(Index),
    /// `...`: the axes the other entries leave.
    Ellipsis,
    /// `None`: a new axis of length 1.
    NewAxis,
}

/// `x[items…]` where some item is an index array. `...` stands for the axes the other
/// entries leave (a mask takes as many as it has). A new axis (`None`) is inserted into `x`
/// first and then taken whole, which is NumPy's rule: it keeps its place, and it separates
/// the index arrays on either side of it (their axes then go first).
pub fn advanced_getitem(x: &Var, items: &[Bound<'_, PyAny>]) -> PyResult<Var> {
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    let mut used = 0;
    for it in items {
        if it.is_instance_of::<PyEllipsis>() {
            if entries.iter().any(|e| matches!(e, Entry::Ellipsis)) {
                return Err(raise("InvalidGraph", "an index can only have a single ellipsis ('...')"));
            }
            entries.push(Entry::Ellipsis);
        } else if it.is_none() {
            entries.push(Entry::NewAxis);
        } else if is_array_entry(it)? {
            let a = array_of(it)?;
            used += if a.dtype() == DType::Bool { a.ndim().max(1) } else { 1 };
            entries.push(Entry::Index(Index::Array(a)));
        } else {
            used += 1;
            entries.push(Entry::Index(index_entry(it)?));
        }
    }
    // The axes of `x` each entry reads, and where the new ones go.
    let mut order: Vec<Option<usize>> = Vec::with_capacity(x.ndim() + entries.len());
    let mut index = Vec::with_capacity(entries.len() + x.ndim());
    let mut axis = 0;
    let mut take = |n: usize, order: &mut Vec<Option<usize>>| {
        let n = n.min(x.ndim().saturating_sub(axis));
        order.extend((axis..axis + n).map(Some));
        axis += n;
    };
    for e in entries {
        match e {
            Entry::Index(e) => {
                let n = match &e {
                    Index::Array(a) if a.dtype() == DType::Bool => a.ndim().max(1),
                    _ => 1,
                };
                take(n, &mut order);
                index.push(e);
            }
            Entry::Ellipsis => {
                let rest = x.ndim().saturating_sub(used);
                take(rest, &mut order);
                index.extend((0..rest).map(|_| Index::slice(None, None, 1)));
            }
            Entry::NewAxis => {
                order.push(None);
                index.push(Index::slice(None, None, 1));
            }
        }
    }
    take(x.ndim(), &mut order);
    if order.iter().any(Option::is_none) {
        return Ok(x.dimshuffle(&order).get(&index));
    }
    Ok(x.get(&index))
}
