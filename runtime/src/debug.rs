//! `Mode::Debug`: a natively computed value compared with its reference kernel's.

use crate::error::Error;
use ndarray::Dimension;
use tensorlift_ir::Tensor;

/// Where and how a native value and the reference differ.
#[derive(Debug)]
pub(crate) struct Mismatch {
    index: Vec<usize>,
    native: String,
    reference: String,
}

impl Mismatch {
    /// The error of `Mode::Debug`, naming the node (as `pp` shows it).
    pub(crate) fn into_error(self, node: String) -> Error {
        Error::DebugMismatch { node, index: self.index, native: self.native, reference: self.reference }
    }
}

/// Relative and absolute tolerances for `float64`.
const TOL_F64: (f64, f64) = (1e-9, 1e-12);
/// Relative and absolute tolerances for `float32`.
const TOL_F32: (f64, f64) = (1e-4, 1e-6);

/// Compares `native` with `reference` element by element: equal shapes and dtypes, and
/// floats within the tolerances of `Mode::Debug` (NaN equals NaN, infinities equal
/// themselves); other dtypes exactly.
pub(crate) fn compare(native: &Tensor, reference: &Tensor) -> Result<(), Mismatch> {
    let whole = |n: String, r: String| Mismatch { index: Vec::new(), native: n, reference: r };
    if native.dtype() != reference.dtype() || native.shape() != reference.shape() {
        return Err(whole(
            format!("{} of shape {:?}", native.dtype(), native.shape()),
            format!("{} of shape {:?}", reference.dtype(), reference.shape()),
        ));
    }
    let close = |(rtol, atol): (f64, f64), a: f64, b: f64| {
        a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= atol + rtol * b.abs()
    };
    let first_bad = match (native, reference) {
        (Tensor::F64(a), Tensor::F64(b)) => a
            .indexed_iter()
            .zip(b.iter())
            .find(|((_, &x), &y)| !close(TOL_F64, x, y))
            .map(|((ix, x), y)| (ix.slice().to_vec(), x.to_string(), y.to_string())),
        (Tensor::F32(a), Tensor::F32(b)) => a
            .indexed_iter()
            .zip(b.iter())
            .find(|((_, &x), &y)| !close(TOL_F32, x as f64, y as f64))
            .map(|((ix, x), y)| (ix.slice().to_vec(), x.to_string(), y.to_string())),
        _ if native == reference => None,
        _ => return Err(whole(native.to_string(), reference.to_string())),
    };
    match first_bad {
        None => Ok(()),
        Some((index, native, reference)) => Err(Mismatch { index, native, reference }),
    }
}
