//! Values across the boundary: Python numbers, nested lists and numpy arrays into
//! `Tensor`s, and `Tensor`s out as numpy arrays that own the Rust buffer.

use crate::errors::raise;
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

/// How a numpy array becomes a tensor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Copied into a buffer of the tensor's own.
    Copy,
    /// Read in place (see [`borrow_numpy`]); small or misaligned arrays are copied.
    Borrow,
}

/// Keeps a numpy array alive under the tensors that read its memory in place.
struct NumpyKeeper(Py<PyAny>);

/// The numpy array whose memory `t` reads in place, when `t` reads all of it as numpy
/// sees it (same data pointer, shape and strides).
pub fn borrowed_array<'py>(py: Python<'py>, t: &Tensor) -> Option<Bound<'py, PyAny>> {
    let Tensor::Borrowed(b) = t else { return None };
    let keeper = b.keeper()?.downcast_ref::<NumpyKeeper>()?;
    let arr = keeper.0.bind(py).cast::<PyUntypedArray>().ok()?;
    let itemsize = arr.dtype().itemsize() as isize;
    // SAFETY: `as_array_ptr` points to the live array object `arr` holds (with the GIL).
    let data = unsafe { (*arr.as_array_ptr()).fields.data };
    let same = data as *const u8 == b.as_ptr()
        && arr.shape() == b.shape()
        && arr.strides().iter().zip(b.strides()).all(|(&s, &e)| s == e * itemsize);
    same.then(|| arr.clone().into_any())
}

/// A tensor reading the numpy array `a` in place, kept alive by a reference to it.
///
/// Numpy has no lock: the array's owner must not write it while a function reads it (a
/// call running without the GIL on other threads), as for numpy's own functions that
/// release the GIL; a function never writes it (results are copied out of it).
fn borrow_numpy<T: numpy::Element + tl::TensorElement>(
    a: &Bound<'_, PyUntypedArray>,
) -> PyResult<Option<Tensor>> {
    let arr = a.cast::<PyArrayDyn<T>>()?;
    let view = arr.readonly();
    let v = view.as_array();
    if !(v.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()) || v.len() <= COPY_BELOW {
        return Ok(None);
    }
    let keeper: tl::value::Keeper = std::sync::Arc::new(NumpyKeeper(a.clone().into_any().unbind()));
    // SAFETY: the keeper holds a reference to the array, so its memory stays allocated (and
    // unresized: numpy refuses to resize an array others reference) while any tensor over
    // it lives; tensorlift only reads it, and the array's owner does not write it while a
    // function reads it (the documented contract above, numpy's own for GIL-free reads).
    let b = unsafe { tl::value::Borrowed::new(v, Some(keeper)) };
    Ok(Some(Tensor::Borrowed(b)))
}

/// A tensor from a numpy array of a supported dtype (`None` for other dtypes).
fn from_numpy(a: &Bound<'_, PyUntypedArray>, how: Take) -> PyResult<Option<Tensor>> {
    fn take<T: numpy::Element + tl::TensorElement>(
        a: &Bound<'_, PyUntypedArray>,
        how: Take,
    ) -> PyResult<Tensor> {
        if how == Take::Borrow {
            if let Some(t) = borrow_numpy::<T>(a)? {
                return Ok(t);
            }
        }
        let a = a.cast::<PyArrayDyn<T>>()?.readonly();
        Ok(T::wrap(a.as_array().to_owned().into_shared()))
    }
    let dt = a.dtype();
    let py = a.py();
    Ok(Some(if dt.is_equiv_to(&numpy::dtype::<f64>(py)) {
        take::<f64>(a, how)?
    } else if dt.is_equiv_to(&numpy::dtype::<f32>(py)) {
        take::<f32>(a, how)?
    } else if dt.is_equiv_to(&numpy::dtype::<i64>(py)) {
        take::<i64>(a, how)?
    } else if dt.is_equiv_to(&numpy::dtype::<i32>(py)) {
        take::<i32>(a, how)?
    } else if dt.is_equiv_to(&numpy::dtype::<bool>(py)) {
        take::<bool>(a, how)?
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
/// scalars and arrays. Python `int` is int64 and `float` float64, as in numpy. Copied.
pub fn to_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    to_tensor_as(obj, Take::Copy)
}

/// [`to_tensor`], with a numpy array of a supported dtype taken as `how` says.
pub fn to_tensor_as(obj: &Bound<'_, PyAny>, how: Take) -> PyResult<Tensor> {
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
    if let Some(t) = from_numpy(&arr, how)? {
        return Ok(t);
    }
    let dt = arr.dtype();
    let (kind, size) = (dt.kind() as char, dt.itemsize());
    match widened(kind, size) {
        Some(to) => {
            let wide = arr.call_method1("astype", (to,))?.cast_into::<PyUntypedArray>()?;
            Ok(from_numpy(&wide, Take::Copy)?.expect("a supported dtype"))
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
    let t = t.detach();
    if t.len() <= COPY_BELOW {
        return tl::with_array!(t, a => PyArray::from_array(py, &a).into_any());
    }
    match t {
        Tensor::F64(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::F32(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::I64(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::I32(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::Bool(a) => PyArray::from_owned_array(py, a.into_owned()).into_any(),
        Tensor::Borrowed(_) => unreachable!("detached above"),
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
    // A variable over a numpy array's memory gives that array back.
    if let Some(arr) = borrowed_array(py, &t) {
        return Ok(arr);
    }
    let t = t.detach();
    let keeper = Bound::new(py, TensorBuffer { tensor: t })?;
    let container = keeper.clone().into_any();
    macro_rules! view {
        ($a:expr) => {
            // SAFETY: `container` (the array's base object) owns the `ArcArray` `$a` and
            // lives as long as the numpy array; `$a` sits in a frozen pyclass, never mutably
            // borrowed, so its buffer is neither reallocated nor moved while the container
            // lives, and other references to the data never write it in place (see above).
            unsafe { PyArray::borrow_from_array($a, container) }.into_any()
        };
    }
    let array = match &keeper.get().tensor {
        Tensor::F64(a) => view!(a),
        Tensor::F32(a) => view!(a),
        Tensor::I64(a) => view!(a),
        Tensor::I32(a) => view!(a),
        Tensor::Bool(a) => view!(a),
        Tensor::Borrowed(_) => unreachable!("detached above"),
    };
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("write", false)?;
    array.call_method("setflags", (), Some(&kwargs))?;
    Ok(array)
}

/// The value of a Python argument for input `var`. A Python `float` given for a float32
/// input is rounded to float32, as Theano does for `floatX` inputs; everything else must
/// convert without loss (checked by the runtime).
pub fn arg_for(obj: &Bound<'_, PyAny>, var: &Var) -> PyResult<Tensor> {
    let t = to_tensor_as(obj, Take::Borrow)?;
    if obj.is_exact_instance_of::<PyFloat>() && var.dtype() == tl::DType::F32 {
        return Ok(t.cast(tl::DType::F32));
    }
    Ok(t)
}
