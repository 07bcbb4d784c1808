//! `TensorType`: a dtype plus a static shape, where `Some(1)` marks a broadcastable axis
//! (PyTensor's static shape), and the static broadcasting rule of elementwise ops.

use crate::dtype::DType;
use std::fmt;

/// The type of a symbolic tensor: its dtype and what is known of its shape.
///
/// Each axis is `Some(n)` when its length is fixed at build time and `None` otherwise.
/// Only axes of static length 1 broadcast, as in Theano.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorType {
    /// Element type.
    pub dtype: DType,
    /// Static length of each axis, `None` when it is known only at run time.
    pub shape: Vec<Option<usize>>,
}

impl TensorType {
    /// A type from a dtype and a static shape.
    pub fn new(dtype: DType, shape: Vec<Option<usize>>) -> Self {
        TensorType { dtype, shape }
    }

    /// A 0-d type.
    pub fn scalar(dtype: DType) -> Self {
        TensorType { dtype, shape: vec![] }
    }

    /// A type of `ndim` axes of unknown length.
    pub fn unknown(dtype: DType, ndim: usize) -> Self {
        TensorType { dtype, shape: vec![None; ndim] }
    }

    /// A type whose every axis length is known.
    pub fn fixed(dtype: DType, shape: &[usize]) -> Self {
        TensorType { dtype, shape: shape.iter().map(|&n| Some(n)).collect() }
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// True when axis `axis` has static length 1.
    pub fn is_broadcastable(&self, axis: usize) -> bool {
        self.shape[axis] == Some(1)
    }

    /// The same shape with another dtype.
    pub fn with_dtype(&self, dtype: DType) -> Self {
        TensorType { dtype, shape: self.shape.clone() }
    }

    /// True when a concrete array of this shape fits the type.
    pub fn accepts_shape(&self, shape: &[usize]) -> bool {
        shape.len() == self.shape.len()
            && self.shape.iter().zip(shape).all(|(s, &n)| s.is_none_or(|s| s == n))
    }

    /// Theano's name for the kind of tensor: `Scalar`, `Vector`, `Matrix`, `Tensor3`, …
    pub fn kind_name(&self) -> String {
        match self.ndim() {
            0 => "Scalar".into(),
            1 => "Vector".into(),
            2 => "Matrix".into(),
            n => format!("Tensor{n}"),
        }
    }
}

/// Formats a static shape as `[?,3]` (the text form of the graph uses it).
pub fn fmt_shape(shape: &[Option<usize>]) -> String {
    let dims: Vec<String> =
        shape.iter().map(|d| d.map_or_else(|| "?".to_string(), |n| n.to_string())).collect();
    format!("[{}]", dims.join(","))
}

impl fmt::Display for TensorType {
    /// `float64[?,3]`: the dtype and the static shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, fmt_shape(&self.shape))
    }
}

/// The static shape of an elementwise op over inputs of equal rank, or the index of the
/// axis where two inputs disagree.
pub fn broadcast_shapes(shapes: &[&[Option<usize>]]) -> Result<Vec<Option<usize>>, usize> {
    let ndim = shapes.first().map_or(0, |s| s.len());
    let mut out = Vec::with_capacity(ndim);
    for axis in 0..ndim {
        let mut dim = Some(1);
        let mut known: Option<usize> = None;
        for s in shapes {
            match s[axis] {
                Some(1) => {}
                Some(n) => {
                    if known.is_some_and(|k| k != n) {
                        return Err(axis);
                    }
                    known = Some(n);
                    dim = Some(n);
                }
                None => {
                    if dim == Some(1) {
                        dim = None;
                    }
                }
            }
        }
        out.push(known.or(dim));
    }
    Ok(out)
}

/// The product of lengths, `None` on overflow.
pub fn checked_product(dims: impl IntoIterator<Item = usize>) -> Option<usize> {
    dims.into_iter().try_fold(1usize, |acc, d| acc.checked_mul(d))
}

/// True when an array can have this shape: the product of its nonzero lengths is at most
/// `isize::MAX` (ndarray's limit, which holds even for an empty array).
pub fn shape_fits(dims: &[usize]) -> bool {
    checked_product(dims.iter().copied().filter(|&d| d != 0)).is_some_and(|n| n <= isize::MAX as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_broadcasting() {
        assert_eq!(broadcast_shapes(&[&[Some(1), None], &[Some(3), Some(1)]]), Ok(vec![Some(3), None]));
        assert_eq!(broadcast_shapes(&[&[Some(3)], &[Some(4)]]), Err(0));
        assert_eq!(broadcast_shapes(&[&[None], &[Some(4)]]), Ok(vec![Some(4)]));
        assert_eq!(broadcast_shapes(&[&[Some(1)], &[Some(1)]]), Ok(vec![Some(1)]));
    }

    #[test]
    fn display() {
        assert_eq!(TensorType::new(DType::F64, vec![None, Some(3)]).to_string(), "float64[?,3]");
    }
}
