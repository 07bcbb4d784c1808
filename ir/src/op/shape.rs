//! Type rules of the shape family: dimshuffle, reshape, concatenate and its gradient's
//! split, basic indexing and its updates, `shape`, `shape_i`, `alloc` and `arange`; and the index
//! arithmetic they share with the kernels (`normalize_slice`, `checked_product`,
//! `shape_fits`).

use super::reduce::one;
use super::{Dim, Idx, IndexEntry, ReshapeDim, Rule};
use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::types::{checked_product, shape_fits, TensorType};

/// Reordered axes, new broadcastable ones, dropped broadcastable ones.
pub(super) fn dimshuffle(r: &Rule<'_>, order: &[Option<usize>]) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let x = one(ins, &name)?;
    let n = x.ty.ndim();
    let mut seen = vec![false; n];
    for &i in order.iter().flatten() {
        if i >= n || seen[i] {
            return Err(BuildErrorKind::Axis { op: name, axis: i as isize, operand: x.clone() });
        }
        seen[i] = true;
    }
    if let Some(dropped) = (0..n).find(|&i| !seen[i] && !x.ty.is_broadcastable(i)) {
        return Err(
            r.invalid(format!("cannot drop axis {dropped} of {x}: only broadcastable axes can be dropped"))
        );
    }
    let shape = order.iter().map(|o| o.map_or(Some(1), |i| x.ty.shape[i])).collect();
    Ok(TensorType::new(x.ty.dtype, shape))
}

/// A new shape with the same number of elements.
pub(super) fn reshape(r: &Rule<'_>, shape: &[ReshapeDim]) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let uses_donor = shape.iter().any(|d| matches!(d, ReshapeDim::Like(_)));
    let lengths = shape.iter().filter(|d| **d == ReshapeDim::Input).count();
    let wanted = 1 + uses_donor as usize + lengths;
    if ins.len() != wanted {
        return Err(r.invalid(format!("takes {wanted} inputs, got {}", ins.len())));
    }
    if let Some(o) = ins[wanted - lengths..].iter().find(|o| o.ty.ndim() != 0 || !o.ty.dtype.is_int()) {
        return Err(BuildErrorKind::DType {
            op: name,
            operand: o.clone(),
            expected: "an integer scalar length".into(),
        });
    }
    let x = &ins[0];
    let infers = shape.iter().filter(|d| **d == ReshapeDim::Infer).count();
    if infers > 1 {
        return Err(r.invalid("at most one axis can be inferred (-1)".into()));
    }
    let mut out = Vec::with_capacity(shape.len());
    for d in shape {
        out.push(match *d {
            ReshapeDim::Fixed(n) => Some(n),
            ReshapeDim::Keep(i) if i < x.ty.ndim() => x.ty.shape[i],
            ReshapeDim::Keep(i) => {
                return Err(BuildErrorKind::Axis { op: name, axis: i as isize, operand: x.clone() })
            }
            ReshapeDim::Infer | ReshapeDim::Input => None,
            ReshapeDim::Like(i) if i < ins[1].ty.ndim() => ins[1].ty.shape[i],
            ReshapeDim::Like(i) => {
                return Err(BuildErrorKind::Axis { op: name, axis: i as isize, operand: ins[1].clone() })
            }
        });
    }
    let total: Option<Option<usize>> =
        x.ty.shape.iter().copied().collect::<Option<Vec<usize>>>().map(checked_product);
    let too_large = || {
        r.invalid(format!(
            "cannot reshape {x} to {}: the shape is too large (its size overflows)",
            fmt_reshape(shape)
        ))
    };
    let known_dims: Vec<usize> = out.iter().flatten().copied().collect();
    if !shape_fits(&known_dims) {
        return Err(too_large());
    }
    // The inferred length and the element count are checked when every other length is
    // known (a symbolic one is checked at run time).
    let others_known = shape.iter().zip(&out).all(|(d, o)| *d == ReshapeDim::Infer || o.is_some());
    if let (Some(total), true) = (total, others_known) {
        let total = total.ok_or_else(too_large)?;
        let known = checked_product(out.iter().flatten().copied()).ok_or_else(too_large)?;
        if infers == 1 && known == 0 && total == 0 {
            // An empty tensor: the inferred axis takes the input axes no other
            // target axis keeps (flatten of (0, 3, 4) is (0, 12)).
            let kept: Vec<usize> = shape
                .iter()
                .filter_map(|d| if let ReshapeDim::Keep(i) = d { Some(*i) } else { None })
                .collect();
            let rest = (0..x.ty.ndim()).filter(|i| !kept.contains(i)).map(|i| x.ty.shape[i]);
            let pos = shape.iter().position(|d| *d == ReshapeDim::Infer).expect("one infer");
            out[pos] = rest.collect::<Option<Vec<usize>>>().and_then(checked_product);
        } else if infers == 1 {
            if known == 0 || total % known != 0 {
                return Err(r.invalid(format!("cannot reshape {x} to {}", fmt_reshape(shape))));
            }
            let pos = shape.iter().position(|d| *d == ReshapeDim::Infer).expect("one infer");
            out[pos] = Some(total / known);
        } else if out.iter().all(Option::is_some) && known != total {
            return Err(r.invalid(format!("cannot reshape {x} to {}", fmt_reshape(shape))));
        }
        if !shape_fits(&out.iter().flatten().copied().collect::<Vec<_>>()) {
            return Err(too_large());
        }
    }
    Ok(TensorType::new(x.ty.dtype, out))
}

/// Inputs joined along `axis`.
pub(super) fn concatenate(r: &Rule<'_>, axis: &usize) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    if ins.is_empty() {
        return Err(r.invalid("needs at least one input".into()));
    }
    let ndim = ins[0].ty.ndim();
    if *axis >= ndim {
        return Err(BuildErrorKind::Axis { op: name, axis: *axis as isize, operand: ins[0].clone() });
    }
    if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
        return Err(r.rank(o, &format!("{ndim} like the other inputs")));
    }
    let mut shape = ins[0].ty.shape.clone();
    for o in &ins[1..] {
        for (i, d) in shape.iter_mut().enumerate() {
            if i == *axis {
                *d = match (*d, o.ty.shape[i]) {
                    (Some(p), Some(q)) => Some(p.checked_add(q).ok_or_else(|| BuildErrorKind::Invalid {
                        op: name.clone(),
                        reason: "the joined length overflows".into(),
                    })?),
                    _ => None,
                };
            } else {
                match (*d, o.ty.shape[i]) {
                    (Some(p), Some(q)) if p != q => {
                        return Err(BuildErrorKind::ShapeMismatch { op: name, operands: ins.to_vec() })
                    }
                    (None, q) => *d = q,
                    _ => {}
                }
            }
        }
    }
    let dtype = ins.iter().map(|o| o.ty.dtype).reduce(DType::upcast).expect("non-empty");
    Ok(TensorType::new(dtype, shape))
}

/// One piece of a concatenation (its gradient).
pub(super) fn split_part(r: &Rule<'_>, axis: &usize, part: &usize) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    if ins.len() < 2 || *part + 1 >= ins.len() {
        return Err(r.invalid(format!("part {part} of {} pieces", ins.len().saturating_sub(1))));
    }
    let whole = &ins[0];
    let ndim = whole.ty.ndim();
    if *axis >= ndim {
        return Err(BuildErrorKind::Axis { op: name, axis: *axis as isize, operand: whole.clone() });
    }
    if let Some(o) = ins.iter().find(|o| o.ty.ndim() != ndim) {
        return Err(r.rank(o, &format!("{ndim} like the whole")));
    }
    let piece = &ins[1 + part];
    let shape = (0..ndim)
        .map(|a| if a == *axis { piece.ty.shape[a] } else { whole.ty.shape[a].or(piece.ty.shape[a]) })
        .collect();
    Ok(TensorType::new(whole.ty.dtype, shape))
}

/// Basic indexing.
pub(super) fn subtensor(r: &Rule<'_>, index: &[IndexEntry]) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    let x = ins.first().ok_or_else(|| r.invalid("needs an input".into()))?;
    check_index_inputs(index, &ins[1..], &name)?;
    Ok(TensorType::new(x.ty.dtype, subtensor_shape(&x.ty, index, &name, x)?))
}

/// `set_subtensor`/`inc_subtensor`: the type of `x`.
pub(super) fn inc_subtensor(r: &Rule<'_>, index: &[IndexEntry]) -> Result<TensorType, BuildErrorKind> {
    let (name, ins) = (r.name.clone(), r.ins);
    if ins.len() < 2 {
        return Err(r.invalid("needs the tensor and the value".into()));
    }
    let (x, y) = (&ins[0], &ins[1]);
    check_index_inputs(index, &ins[2..], &name)?;
    let region = subtensor_shape(&x.ty, index, &name, x)?;
    inc_value(r, x, y, &region)?;
    Ok(x.ty.clone())
}

/// Checks the value `y` of an update of the region of `x` of shape `region`: it fits the
/// region (only an axis its type says is 1 stretches) and converts to `x`'s dtype.
pub(super) fn inc_value(
    r: &Rule<'_>,
    x: &Operand,
    y: &Operand,
    region: &[Option<usize>],
) -> Result<(), BuildErrorKind> {
    let name = r.name.clone();
    if y.ty.ndim() > region.len() {
        return Err(r.rank(y, &format!("at most {} (the indexed region's)", region.len())));
    }
    let pad = region.len() - y.ty.ndim();
    for (r, yd) in region[pad..].iter().zip(&y.ty.shape) {
        // Only an axis of y whose type says length 1 stretches over the region.
        if let (Some(p), Some(q)) = (r, yd) {
            if p != q && *q != 1 {
                return Err(BuildErrorKind::ShapeMismatch { op: name, operands: vec![x.clone(), y.clone()] });
            }
        }
    }
    if y.ty.dtype.upcast(x.ty.dtype) != x.ty.dtype {
        return Err(BuildErrorKind::DType {
            op: name,
            operand: y.clone(),
            expected: format!("one that converts to {} without loss", x.ty.dtype),
        });
    }
    Ok(())
}

fn check_index_inputs(index: &[IndexEntry], idx_ins: &[Operand], op: &str) -> Result<(), BuildErrorKind> {
    let wanted: usize = index.iter().map(IndexEntry::n_inputs).sum();
    if wanted != idx_ins.len() {
        return Err(BuildErrorKind::Invalid {
            op: op.into(),
            reason: format!("{wanted} symbolic indices, {} index inputs", idx_ins.len()),
        });
    }
    for o in idx_ins {
        if o.ty.ndim() != 0 || !o.ty.dtype.is_int() {
            return Err(BuildErrorKind::DType {
                op: op.into(),
                operand: o.clone(),
                expected: "an integer scalar index".into(),
            });
        }
    }
    Ok(())
}

/// Normalizes `start:stop:step` for an axis of length `n` as NumPy does: the first position,
/// and the number of elements taken.
pub fn normalize_slice(start: Option<isize>, stop: Option<isize>, step: isize, n: usize) -> (isize, usize) {
    let n = n as isize;
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let fix = |v: isize| (if v < 0 { v + n } else { v }).clamp(lo, hi);
    let s = start.map_or(if step > 0 { 0 } else { n - 1 }, fix);
    let e = stop.map_or(if step > 0 { n } else { -1 }, fix);
    // In i128: no bound or step (even isize::MIN) can overflow.
    let (s128, e128, step128) = (s as i128, e as i128, step as i128);
    let count =
        if step > 0 { (e128 - s128 + step128 - 1) / step128 } else { (s128 - e128 - step128 - 1) / -step128 };
    (s, count.max(0) as usize)
}

fn subtensor_shape(
    ty: &TensorType,
    index: &[IndexEntry],
    op: &str,
    x: &Operand,
) -> Result<Vec<Option<usize>>, BuildErrorKind> {
    if index.len() > ty.ndim() {
        return Err(BuildErrorKind::Invalid {
            op: op.into(),
            reason: format!("{} indices for {x} of rank {}", index.len(), ty.ndim()),
        });
    }
    let mut shape = Vec::new();
    for (axis, e) in index.iter().enumerate() {
        match *e {
            IndexEntry::At(Idx::Const(i)) => {
                if let Some(n) = ty.shape[axis] {
                    if i >= n as isize || i < -(n as isize) {
                        return Err(BuildErrorKind::Invalid {
                            op: op.into(),
                            reason: format!("index {i} is out of bounds for axis {axis} of {x}"),
                        });
                    }
                }
            }
            IndexEntry::At(Idx::Input) => {}
            IndexEntry::Slice { step, .. } => {
                if step == Idx::Const(0) {
                    return Err(BuildErrorKind::Invalid {
                        op: op.into(),
                        reason: "slice step cannot be zero".into(),
                    });
                }
                // A symbolic bound leaves the length to run time.
                let fixed = e.fixed_slice();
                shape.push(ty.shape[axis].zip(fixed).map(|(n, (a, b, k))| normalize_slice(a, b, k, n).1));
            }
        }
    }
    shape.extend_from_slice(&ty.shape[index.len()..]);
    Ok(shape)
}

/// `x` with the static broadcastability of some axes changed: an axis made broadcastable
/// must not have a static length other than 1; one made not broadcastable forgets its
/// static length 1.
pub(super) fn rebroadcast(r: &Rule<'_>, axes: &[(usize, bool)]) -> Result<TensorType, BuildErrorKind> {
    let x = one(r.ins, &r.name)?;
    let mut shape = x.ty.shape.clone();
    for (k, &(axis, broadcastable)) in axes.iter().enumerate() {
        if axis >= shape.len() || axes[..k].iter().any(|&(a, _)| a == axis) {
            return Err(BuildErrorKind::Axis { op: r.name.clone(), axis: axis as isize, operand: x.clone() });
        }
        shape[axis] = match (broadcastable, x.ty.shape[axis]) {
            (true, Some(n)) if n != 1 => {
                return Err(r.invalid(format!("axis {axis} of {x} has length {n}: it cannot broadcast")))
            }
            (true, _) => Some(1),
            (false, Some(1)) => None,
            (false, len) => len,
        };
    }
    Ok(TensorType::new(x.ty.dtype, shape))
}

/// `shape(x)`: an int64 vector as long as x's rank.
pub(super) fn shape(r: &Rule<'_>) -> Result<TensorType, BuildErrorKind> {
    let x = one(r.ins, &r.name)?;
    Ok(TensorType::new(DType::I64, vec![Some(x.ty.ndim())]))
}

/// `shape_i(x)`: an int64 scalar, for an axis x has.
pub(super) fn shape_i(r: &Rule<'_>, axis: usize) -> Result<TensorType, BuildErrorKind> {
    let x = one(r.ins, &r.name)?;
    if axis >= x.ty.ndim() {
        return Err(BuildErrorKind::Axis { op: r.name.clone(), axis: axis as isize, operand: x.clone() });
    }
    Ok(TensorType::scalar(DType::I64))
}

/// `alloc(v, lengths…)`: v's dtype, one axis per `Dim`; v's axes align with the last ones
/// and must fit where both lengths are known.
pub(super) fn alloc(r: &Rule<'_>, shape: &[Dim]) -> Result<TensorType, BuildErrorKind> {
    let Some((v, lengths)) = r.ins.split_first() else {
        return Err(r.invalid("needs the value".into()));
    };
    let wanted = shape.iter().filter(|d| **d == Dim::Input).count();
    if lengths.len() != wanted {
        return Err(r.invalid(format!("{wanted} symbolic lengths, {} length inputs", lengths.len())));
    }
    if let Some(o) = lengths.iter().find(|o| o.ty.ndim() != 0 || !o.ty.dtype.is_int()) {
        return Err(BuildErrorKind::DType {
            op: r.name.clone(),
            operand: o.clone(),
            expected: "an integer scalar length".into(),
        });
    }
    if v.ty.ndim() > shape.len() {
        return Err(r.rank(v, &format!("at most {} (the result's)", shape.len())));
    }
    let pad = shape.len() - v.ty.ndim();
    let mut out = Vec::with_capacity(shape.len());
    for (axis, d) in shape.iter().enumerate() {
        let vd = axis.checked_sub(pad).map(|a| v.ty.shape[a]);
        out.push(match (*d, vd) {
            (Dim::Fixed(n), Some(Some(m))) if m != n && m != 1 => {
                return Err(r.invalid(format!("cannot broadcast {v} to length {n} on axis {axis}")))
            }
            (Dim::Fixed(n), _) => Some(n),
            // A symbolic length: the value's own, unless the value broadcasts there.
            (Dim::Input, Some(Some(m))) if m != 1 => Some(m),
            (Dim::Input, _) => None,
        });
    }
    if !shape_fits(&out.iter().flatten().copied().collect::<Vec<_>>()) {
        return Err(r.invalid("the shape is too large (its size overflows)".into()));
    }
    Ok(TensorType::new(v.ty.dtype, out))
}

/// `arange(start, stop, step)`: three numeric scalars give a vector of `dtype` whose length
/// is known at run time.
pub(super) fn arange(r: &Rule<'_>, dtype: DType) -> Result<TensorType, BuildErrorKind> {
    if r.ins.len() != 3 {
        return Err(r.invalid(format!("takes start, stop and step, got {} inputs", r.ins.len())));
    }
    if let Some(o) = r.ins.iter().find(|o| o.ty.ndim() != 0 || o.ty.dtype == DType::Bool) {
        return Err(BuildErrorKind::DType {
            op: r.name.clone(),
            operand: o.clone(),
            expected: "a numeric scalar".into(),
        });
    }
    if dtype == DType::Bool {
        return Err(r.invalid("the result's dtype must be numeric, not bool".into()));
    }
    Ok(TensorType::new(dtype, vec![None]))
}

/// Formats an alloc shape as `[2,?]` (`?` for a length input).
pub fn fmt_alloc(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => n.to_string(),
            Dim::Input => "?".into(),
        })
        .collect();
    format!("[{}]", parts.join(","))
}

/// Formats a reshape target as `[2,-1,@0,^1]` (`@i` keeps input axis `i`, `^i` takes axis
/// `i` of the shape donor).
pub fn fmt_reshape(shape: &[ReshapeDim]) -> String {
    let parts: Vec<String> = shape
        .iter()
        .map(|d| match d {
            ReshapeDim::Fixed(n) => n.to_string(),
            ReshapeDim::Keep(i) => format!("@{i}"),
            ReshapeDim::Infer => "-1".into(),
            ReshapeDim::Like(i) => format!("^{i}"),
            ReshapeDim::Input => "?".into(),
        })
        .collect();
    format!("[{}]", parts.join(","))
}
