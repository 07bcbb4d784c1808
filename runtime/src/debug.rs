//! `Mode::Debug`: a natively computed value compared with its reference kernel's.
//!
//! The tolerance follows the narrowest float dtype the kernel's computation passes through
//! (its inputs, every value of its scalar program, its result), not the result's dtype
//! alone: `exp(x) + y` with a `float32` `x` and a `float64` `y` is a `float64` result that
//! carries `float32` rounding, and native code and the reference may round that `float32`
//! step one ulp apart.

use crate::error::Error;
use ndarray::Dimension;
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{DType, Op, Tensor};

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

/// How closely a native float value must match the reference: the tolerances of a dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Tolerance {
    rtol: f64,
    atol: f64,
}

impl Tolerance {
    /// The tolerances of `Mode::Debug` for values computed in `dtype` (`float64`'s for a
    /// non-float dtype, whose values are compared exactly anyway).
    pub(crate) fn of(dtype: DType) -> Tolerance {
        let (rtol, atol) = if dtype == DType::F32 { TOL_F32 } else { TOL_F64 };
        Tolerance { rtol, atol }
    }

    /// The tolerances for the node `op` of result dtype `out` on `inputs`: those of the
    /// narrowest float dtype among the inputs, the values of the op's scalar program (a
    /// `Composite` or the body of a `FusedReduce`) and the result.
    pub(crate) fn for_node(op: &Op, inputs: &[KernelInput<'_>], out: DType) -> Tolerance {
        let program = match op {
            Op::Composite(p) => Some(&**p),
            Op::FusedReduce { body, .. } => Some(&**body),
            _ => None,
        };
        let program_dtypes = program.into_iter().flat_map(|p| p.values().map(|v| p.dtype_of(v)));
        let narrowest = inputs
            .iter()
            .map(|i| i.ty.dtype)
            .chain(program_dtypes)
            .chain([out])
            .filter(|d| d.is_float())
            .min()
            .unwrap_or(out);
        let mut tol = Tolerance::of(narrowest);
        // A sum of many products (a convolution) rounds its partial sums in whatever order
        // its kernel takes: the absolute tolerance grows with the terms.
        if let Some(terms) = crate::conv::terms(op, inputs) {
            tol.atol *= terms.max(1) as f64;
        }
        tol
    }

    fn close(self, a: f64, b: f64) -> bool {
        a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= self.atol + self.rtol * b.abs()
    }
}

/// Compares `native` with `reference` element by element: equal shapes and dtypes, and
/// floats within `tol` (NaN equals NaN, infinities equal themselves); other dtypes exactly.
pub(crate) fn compare(native: &Tensor, reference: &Tensor, tol: Tolerance) -> Result<(), Mismatch> {
    let whole = |n: String, r: String| Mismatch { index: Vec::new(), native: n, reference: r };
    if native.dtype() != reference.dtype() || native.shape() != reference.shape() {
        return Err(whole(
            format!("{} of shape {:?}", native.dtype(), native.shape()),
            format!("{} of shape {:?}", reference.dtype(), reference.shape()),
        ));
    }
    let first_bad = match (native, reference) {
        (Tensor::F64(a), Tensor::F64(b)) => a
            .indexed_iter()
            .zip(b.iter())
            .find(|((_, &x), &y)| !tol.close(x, y))
            .map(|((ix, x), y)| (ix.slice().to_vec(), x.to_string(), y.to_string())),
        (Tensor::F32(a), Tensor::F32(b)) => a
            .indexed_iter()
            .zip(b.iter())
            .find(|((_, &x), &y)| !tol.close(x as f64, y as f64))
            .map(|((ix, x), y)| (ix.slice().to_vec(), x.to_string(), y.to_string())),
        _ if native == reference => None,
        _ => return Err(whole(native.to_string(), reference.to_string())),
    };
    match first_bad {
        None => Ok(()),
        Some((index, native, reference)) => Err(Mismatch { index, native, reference }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensorlift_ir::{ScalarProgram, TensorType};

    #[test]
    fn the_narrowest_float_dtype_sets_the_tolerance() {
        let f32v = TensorType::unknown(DType::F32, 1);
        let f64v = TensorType::unknown(DType::F64, 1);
        let (a, b) = (Tensor::from(vec![1.0f32]), Tensor::from(vec![0.0f64]));
        let ins = [
            KernelInput { value: &a, ty: &f32v, name: "x" },
            KernelInput { value: &b, ty: &f64v, name: "y" },
        ];
        let add = Op::Elemwise(tensorlift_ir::ScalarOp::Add);
        assert_eq!(Tolerance::for_node(&add, &ins, DType::F64), Tolerance::of(DType::F32));
        assert_eq!(Tolerance::for_node(&add, &ins[1..], DType::F64), Tolerance::of(DType::F64));
        // A float32 intermediate inside a program whose inputs and result are float64.
        let p = ScalarProgram::parse_text(
            "in float64 | t0 = cast.float32(i0) | t1 = cast.float64(t0) | return t1",
        )
        .expect("parses");
        let op = Op::Composite(std::sync::Arc::new(p));
        assert_eq!(Tolerance::for_node(&op, &ins[1..], DType::F64), Tolerance::of(DType::F32));
        // Integer inputs and results do not loosen anything.
        let i64v = TensorType::unknown(DType::I64, 1);
        let c = Tensor::from(vec![1i64]);
        let ints = [KernelInput { value: &c, ty: &i64v, name: "i" }];
        assert_eq!(Tolerance::for_node(&add, &ints, DType::F64), Tolerance::of(DType::F64));
    }

    #[test]
    fn one_float32_ulp_passes_the_float32_tolerance_only() {
        let x = -0.3841f32;
        let (lo, hi) = (x.exp() as f64, f32::from_bits(x.exp().to_bits() + 1) as f64);
        let (n, r) = (Tensor::from(vec![lo]), Tensor::from(vec![hi]));
        assert!(compare(&n, &r, Tolerance::of(DType::F64)).is_err());
        assert!(compare(&n, &r, Tolerance::of(DType::F32)).is_ok());
    }
}
