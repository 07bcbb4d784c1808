//! Values across the boundary: Python numbers, nested lists and numpy arrays into
//! `Tensor`s, and `Tensor`s out as numpy arrays that own the Rust buffer.

use crate::errors::raise;
use ndarray::IxDyn;
use numpy::{
    PyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};
use tensorlift as tl;
use tl::{DType, Tensor, Var};

/// A tensorlift dtype from a name or a numpy dtype object (`'float32'`, `np.float64`, `'floatX'`).
pub fn parse_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    let name: String = match obj.extract::<String>() {
        Ok(s) => s,
        Err(_) => {
            let np = PyModule::import(obj.py(), "numpy")?;
            np.call_method1("dtype", (obj,))?.getattr("name")?.extract()?
        }
    };
    let name = if name == "floatX" { tl::config::float_x().name().to_string() } else { name };
    match name.as_str() {
        "int8" | "int16" | "uint8" | "uint16" | "uint32" | "uint64" | "float16" | "complex64"
        | "complex128" => Err(raise(
            "DTypeNotSupported",
            format!(
                "dtype {name} is not supported by tensorlift (bool, int32, int64, float32 and float64 are)"
            ),
        )),
        _ => DType::from_name(&name)
            .ok_or_else(|| raise("DTypeNotSupported", format!("unknown dtype {name:?}"))),
    }
}

/// A tensor from a numpy array of a supported dtype (copied; `None` for other dtypes).
fn from_numpy(a: &Bound<'_, PyUntypedArray>) -> PyResult<Option<Tensor>> {
    fn take<T: numpy::Element + Clone>(
        a: &Bound<'_, PyUntypedArray>,
    ) -> PyResult<ndarray::ArcArray<T, IxDyn>> {
        let a = a.cast::<PyArrayDyn<T>>()?.readonly();
        Ok(a.as_array().to_owned().into_shared())
    }
    let dt = a.dtype();
    let py = a.py();
    Ok(Some(if dt.is_equiv_to(&numpy::dtype::<f64>(py)) {
        Tensor::F64(take(a)?)
    } else if dt.is_equiv_to(&numpy::dtype::<f32>(py)) {
        Tensor::F32(take(a)?)
    } else if dt.is_equiv_to(&numpy::dtype::<i64>(py)) {
        Tensor::I64(take(a)?)
    } else if dt.is_equiv_to(&numpy::dtype::<i32>(py)) {
        Tensor::I32(take(a)?)
    } else if dt.is_equiv_to(&numpy::dtype::<bool>(py)) {
        Tensor::Bool(take(a)?)
    } else {
        return Ok(None);
    }))
}

/// The dtype a numpy array of an unsupported dtype is widened to without loss.
fn widened(kind: char, size: usize) -> Option<&'static str> {
    match (kind, size) {
        ('i', 1 | 2) | ('u', 1 | 2) => Some("int32"),
        ('u', 4) => Some("int64"),
        ('f', 2) => Some("float32"),
        _ => None,
    }
}

/// A tensor from any value numpy can turn into an array: numbers, nested lists, numpy
/// scalars and arrays. Python `int` is int64 and `float` float64, as in numpy.
pub fn to_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let py = obj.py();
    // The common scalar cases without a trip through numpy.
    // `float` and its subclasses (`np.float64`).
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Tensor::from(obj.extract::<f64>()?));
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(Tensor::from(obj.extract::<bool>()?));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(v) => Ok(Tensor::from(v)),
            Err(_) => Err(raise("LossyConversion", format!("the integer {obj} does not fit int64"))),
        };
    }
    let arr = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => {
            let np = PyModule::import(py, "numpy")?;
            let a = np.call_method1("asarray", (obj,)).map_err(|e| {
                raise("Ragged", format!("cannot make an array of {}: {}", short_repr(obj), e.value(py)))
            })?;
            a.cast_into::<PyUntypedArray>()?
        }
    };
    if let Some(t) = from_numpy(&arr)? {
        return Ok(t);
    }
    let dt = arr.dtype();
    let (kind, size) = (dt.kind() as char, dt.itemsize());
    match widened(kind, size) {
        Some(to) => {
            let wide = arr.call_method1("astype", (to,))?.cast_into::<PyUntypedArray>()?;
            Ok(from_numpy(&wide)?.expect("a supported dtype"))
        }
        None => Err(raise(
            "DTypeNotSupported",
            format!("arrays of dtype {} are not supported by tensorlift", dt.str()?),
        )),
    }
}

fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let s = obj.repr().map(|r| r.to_string()).unwrap_or_else(|_| "<value>".into());
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Outputs of at most this many elements are copied into an array numpy allocates: cheaper
/// than handing over the Rust buffer, which costs a keeper object per array.
const COPY_BELOW: usize = 16;

/// A numpy array owning the tensor's buffer (no copy when nothing else holds it); small
/// arrays are copied.
pub fn to_numpy(py: Python<'_>, t: Tensor) -> Bound<'_, PyAny> {
    if t.len() <= COPY_BELOW {
        return tl::with_array!(t, a => PyArray::from_array(py, &a).into_any());
    }
    match t {
        Tensor::F64(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::F32(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::I64(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::I32(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::Bool(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
    }
}

/// Keeps a tensor's buffer alive under the numpy arrays that view it ([`to_numpy_view`]):
/// the base object of those arrays.
#[pyclass(frozen, module = "tensorlift._core")]
pub struct TensorBuffer {
    tensor: Tensor,
}

/// A read-only numpy array over the tensor's own buffer, without a copy (Theano's
/// `get_value(borrow=True)`).
///
/// Sound because neither side can write the buffer while the array lives: the array is made
/// read-only before any Python code sees it, and numpy refuses to make it writeable again
/// (its base, a [`TensorBuffer`], offers no writeable buffer); on the Rust side the
/// `TensorBuffer` holds a reference to the data, and Rust writes a tensor's data in place
/// only when it holds the only reference (`ArcArray` copies on write otherwise; the
/// runtime's in-place updates check `Tensor::is_unique`), so a function updating the
/// variable writes a new buffer and the array keeps showing the value it was made from.
pub fn to_numpy_view(py: Python<'_>, t: Tensor) -> PyResult<Bound<'_, PyAny>> {
    let keeper = Bound::new(py, TensorBuffer { tensor: t })?;
    let container = keeper.clone().into_any();
    let array = tl::with_array!(&keeper.get().tensor, a => {
        // SAFETY: `container` (the array's base object) owns the `ArcArray` `a` and lives as
        // long as the numpy array; `a` sits in a frozen pyclass, never mutably borrowed, so its
        // buffer is neither reallocated nor moved while the container lives, and other
        // references to the data never write it in place (see above).
        unsafe { PyArray::borrow_from_array(a, container) }.into_any()
    });
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("write", false)?;
    array.call_method("setflags", (), Some(&kwargs))?;
    Ok(array)
}

/// The value of a Python argument for input `var`. A Python `float` given for a float32
/// input is rounded to float32, as Theano does for `floatX` inputs; everything else must
/// convert without loss (checked by the runtime).
pub fn arg_for(obj: &Bound<'_, PyAny>, var: &Var) -> PyResult<Tensor> {
    let t = to_tensor(obj)?;
    if obj.is_exact_instance_of::<PyFloat>() && var.dtype() == tl::DType::F32 {
        return Ok(t.cast(tl::DType::F32));
    }
    Ok(t)
}
