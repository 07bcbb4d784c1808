//! Advanced indexing (Theano's `AdvancedSubtensor1`/`AdvancedSubtensor` and their
//! `AdvancedIncSubtensor` updates, NumPy's rules): an index whose entries are positions,
//! slices and index arrays, each array an input of the node — integers (positions along
//! one axis, negative from the end) or booleans (a mask over as many axes as it has, the
//! positions of its true elements in row-major order).
//!
//! The result's shape follows NumPy: the index arrays (and the positions, which are 0-d
//! index arrays once an array is present) broadcast together; their broadcast axes take
//! the place of the first of them when they are adjacent in the index, and go in front
//! otherwise; each slice keeps its axis, and the axes after the index are taken whole.
//!
//! Here: the entry type, the layout of the result shared by the type rules, the kernels and
//! shape inference, and the type rules.

use super::shape::inc_value;
use super::{Idx, IndexEntry, Rule};
use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::types::{shape_fits, TensorType};

/// One entry of an advanced index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdvEntry {
    /// A position or a slice, as in basic indexing (its symbolic bounds are inputs).
    Basic(IndexEntry),
    /// An index array, the next input: integers index one axis, booleans as many axes as
    /// the mask has.
    Array,
}

/// One part of an advanced index's result, in the result's order (the axes after the
/// index follow, taken whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdvPart {
    /// The axis of the slice that is entry `k` of the index.
    Slice(usize),
    /// The broadcast axes of the index arrays and positions.
    Broadcast,
}

impl AdvEntry {
    /// `:`, the whole axis.
    pub const FULL: AdvEntry = AdvEntry::Basic(IndexEntry::FULL);

    /// How many inputs of the node the entry reads (after the data).
    pub fn n_inputs(&self) -> usize {
        match self {
            AdvEntry::Basic(e) => e.n_inputs(),
            AdvEntry::Array => 1,
        }
    }

    /// Whether the entry takes part in the broadcast (an array, or a position beside one).
    pub fn is_advanced(&self) -> bool {
        matches!(self, AdvEntry::Array | AdvEntry::Basic(IndexEntry::At(_)))
    }
}

/// The parts of the result of `index` (which holds an array), in order: the broadcast axes
/// where the first advanced entry is when the advanced entries are adjacent, in front
/// otherwise; each slice's axis in its place.
pub fn adv_parts(index: &[AdvEntry]) -> Vec<AdvPart> {
    let advanced: Vec<usize> = (0..index.len()).filter(|&k| index[k].is_advanced()).collect();
    let adjacent = advanced.windows(2).all(|w| w[1] == w[0] + 1);
    let mut parts = Vec::with_capacity(index.len());
    if !adjacent {
        parts.push(AdvPart::Broadcast);
    }
    for (k, e) in index.iter().enumerate() {
        match e {
            AdvEntry::Basic(IndexEntry::Slice { .. }) => parts.push(AdvPart::Slice(k)),
            _ if adjacent && advanced.first() == Some(&k) => parts.push(AdvPart::Broadcast),
            _ => {}
        }
    }
    parts
}

/// NumPy's broadcast of index shapes (aligned on their last axes), each length known or
/// not: `None` where two known lengths differ and neither is 1.
pub fn broadcast_index_shapes(shapes: &[Vec<Option<usize>>]) -> Option<Vec<Option<usize>>> {
    let ndim = shapes.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![Some(1); ndim];
    for s in shapes {
        for (d, len) in out[ndim - s.len()..].iter_mut().zip(s) {
            *d = match (*d, *len) {
                (Some(p), Some(q)) if p == q || q == 1 => Some(p),
                (Some(1), q) => q,
                (Some(_), Some(_)) => return None,
                (Some(p), None) => Some(p),
                (None, Some(q)) if q != 1 => Some(q),
                (None, _) => None,
            };
        }
    }
    Some(out)
}

/// `x[index]` with index arrays.
pub(super) fn advanced_subtensor(r: &Rule<'_>, index: &[AdvEntry]) -> Result<TensorType, BuildErrorKind> {
    let x = r.ins.first().ok_or_else(|| r.invalid("needs an input".into()))?;
    Ok(TensorType::new(x.ty.dtype, region(r, x, index, &r.ins[1..])?))
}

/// `x` with `x[index]` set to (or incremented by) `y`: the type of `x`.
pub(super) fn advanced_inc_subtensor(r: &Rule<'_>, index: &[AdvEntry]) -> Result<TensorType, BuildErrorKind> {
    if r.ins.len() < 2 {
        return Err(r.invalid("needs the tensor and the value".into()));
    }
    let (x, y) = (&r.ins[0], &r.ins[1]);
    let region = region(r, x, index, &r.ins[2..])?;
    inc_value(r, x, y, &region)?;
    Ok(x.ty.clone())
}

/// The static shape of `x[index]`, checking the index inputs.
fn region(
    r: &Rule<'_>,
    x: &Operand,
    index: &[AdvEntry],
    idx_ins: &[Operand],
) -> Result<Vec<Option<usize>>, BuildErrorKind> {
    let wanted: usize = index.iter().map(AdvEntry::n_inputs).sum();
    if wanted != idx_ins.len() {
        return Err(r.invalid(format!("{wanted} index inputs expected, got {}", idx_ins.len())));
    }
    if !index.contains(&AdvEntry::Array) {
        return Err(r.invalid("an advanced index needs an index array".into()));
    }
    let ndim = x.ty.ndim();
    let too_many = |n: usize| r.invalid(format!("too many indices for {x}: {n} axes indexed, it has {ndim}"));
    let mut ins = idx_ins.iter();
    let mut axis = 0;
    let mut arrays: Vec<Vec<Option<usize>>> = Vec::new();
    let mut array_ops: Vec<Operand> = Vec::new();
    let mut slices: Vec<Option<usize>> = vec![None; index.len()];
    for (k, e) in index.iter().enumerate() {
        if axis >= ndim {
            return Err(too_many(axis + 1));
        }
        match *e {
            AdvEntry::Basic(b) => {
                for o in ins.by_ref().take(b.n_inputs()) {
                    if o.ty.ndim() != 0 || !o.ty.dtype.is_int() {
                        return Err(BuildErrorKind::DType {
                            op: r.name.clone(),
                            operand: o.clone(),
                            expected: "an integer scalar index".into(),
                        });
                    }
                }
                match b {
                    IndexEntry::At(i) => {
                        if let (Idx::Const(i), Some(n)) = (i, x.ty.shape[axis]) {
                            if i >= n as isize || i < -(n as isize) {
                                return Err(
                                    r.invalid(format!("index {i} is out of bounds for axis {axis} of {x}"))
                                );
                            }
                        }
                        arrays.push(Vec::new());
                    }
                    IndexEntry::Slice { step, .. } => {
                        if step == Idx::Const(0) {
                            return Err(r.invalid("slice step cannot be zero".into()));
                        }
                        slices[k] = x.ty.shape[axis]
                            .zip(b.fixed_slice())
                            .map(|(n, (a, z, s))| super::normalize_slice(a, z, s, n).1);
                    }
                }
                axis += 1;
            }
            AdvEntry::Array => {
                let a = ins.next().expect("counted");
                if a.ty.dtype == DType::Bool {
                    let k = a.ty.ndim();
                    if k == 0 {
                        return Err(BuildErrorKind::DType {
                            op: r.name.clone(),
                            operand: a.clone(),
                            expected: "a boolean mask of at least one axis".into(),
                        });
                    }
                    if axis + k > ndim {
                        return Err(too_many(axis + k));
                    }
                    let fits = a.ty.shape.iter().zip(&x.ty.shape[axis..]).all(|(m, n)| match (m, n) {
                        (Some(m), Some(n)) => m == n,
                        _ => true,
                    });
                    if !fits {
                        return Err(BuildErrorKind::ShapeMismatch {
                            op: r.name.clone(),
                            operands: vec![x.clone(), a.clone()],
                        });
                    }
                    arrays.push(vec![None]);
                    axis += k;
                } else if a.ty.dtype.is_int() {
                    arrays.push(a.ty.shape.clone());
                    axis += 1;
                } else {
                    return Err(BuildErrorKind::DType {
                        op: r.name.clone(),
                        operand: a.clone(),
                        expected: "an integer or boolean index array".into(),
                    });
                }
                array_ops.push(a.clone());
            }
        }
    }
    let Some(broadcast) = broadcast_index_shapes(&arrays) else {
        return Err(BuildErrorKind::ShapeMismatch { op: r.name.clone(), operands: array_ops });
    };
    let mut shape = Vec::new();
    for p in adv_parts(index) {
        match p {
            AdvPart::Slice(k) => shape.push(slices[k]),
            AdvPart::Broadcast => shape.extend_from_slice(&broadcast),
        }
    }
    shape.extend_from_slice(&x.ty.shape[axis..]);
    if !shape_fits(&shape.iter().flatten().copied().collect::<Vec<_>>()) {
        return Err(r.invalid("the result's shape is too large (its size overflows)".into()));
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_numpy() {
        use AdvEntry::{Array, Basic};
        let at = Basic(IndexEntry::At(Idx::Const(0)));
        let full = AdvEntry::FULL;
        // x[:, i] keeps the slice in front; x[i, :, j] puts the broadcast first.
        assert_eq!(adv_parts(&[full, Array]), vec![AdvPart::Slice(0), AdvPart::Broadcast]);
        assert_eq!(adv_parts(&[Array, full, Array]), vec![AdvPart::Broadcast, AdvPart::Slice(1)]);
        // A position beside an array is advanced: x[:, 0, i] stays in place, x[0, :, i] not.
        assert_eq!(adv_parts(&[full, at, Array]), vec![AdvPart::Slice(0), AdvPart::Broadcast]);
        assert_eq!(adv_parts(&[at, full, Array]), vec![AdvPart::Broadcast, AdvPart::Slice(1)]);
    }

    #[test]
    fn index_shapes_broadcast() {
        let b = |s: &[&[Option<usize>]]| {
            broadcast_index_shapes(&s.iter().map(|v| v.to_vec()).collect::<Vec<_>>())
        };
        assert_eq!(b(&[&[Some(3)], &[Some(3)]]), Some(vec![Some(3)]));
        assert_eq!(b(&[&[Some(2), Some(1)], &[Some(3)]]), Some(vec![Some(2), Some(3)]));
        assert_eq!(b(&[&[None], &[Some(1)]]), Some(vec![None]));
        assert_eq!(b(&[&[None], &[Some(4)]]), Some(vec![Some(4)]));
        assert_eq!(b(&[&[Some(2)], &[Some(3)]]), None);
        assert_eq!(b(&[&[], &[Some(5)]]), Some(vec![Some(5)]));
    }
}
