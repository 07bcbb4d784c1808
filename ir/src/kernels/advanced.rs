//! Reference kernels of advanced indexing (`Op::AdvancedSubtensor`,
//! `Op::AdvancedIncSubtensor`), which are also the executed kernels.
//!
//! The index is resolved once per call into a [`Gather`]: the result is the product of a
//! few tables of offsets into `x`'s row-major data (one per slice, one for the broadcast
//! index arrays), each unit a run of contiguous elements (the axes after the index). A row
//! gather `W[ids]` is then one loop of contiguous row copies, `p[arange(n), y]` one loop of
//! single-element reads, and their scatter-adds the same loops writing: no allocation per
//! element. Every position is checked (after NumPy's negative wrap) before any is used.

use super::num::Num;
use super::shape::{bound_value, position, slice_positions};
use super::KernelInput;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::op::{adv_parts, AdvEntry, AdvPart, IndexEntry};
use crate::value::{check_alloc, checked_len, try_buffer, Tensor, TensorElement};
use ndarray::{ArrayD, IxDyn};

/// Where the elements of `x[index]` lie in `x`'s row-major data.
struct Gather {
    /// The shape of `x[index]`.
    shape: Vec<usize>,
    /// Offset tables in the result's order: a result unit is at the sum of one offset of
    /// each table (the last table varying fastest).
    groups: Vec<Vec<usize>>,
    /// The contiguous elements of one unit (the axes after the index, taken whole).
    block: usize,
}

/// Resolves `index` (its inputs `idx`) for an `x` of shape `xs` named `x_name`.
fn plan(
    op: &str,
    xs: &[usize],
    x_name: &str,
    index: &[AdvEntry],
    idx: &[KernelInput<'_>],
) -> Result<Gather, ValueError> {
    let ndim = xs.len();
    let mut strides = vec![1usize; ndim];
    for a in (0..ndim.saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * xs[a + 1];
    }
    // Trailing whole slices are the same as no entry: their axes join the block.
    let used = index.iter().rposition(|e| *e != AdvEntry::FULL).map_or(0, |k| k + 1);
    let index = &index[..used];
    let mut inputs = idx.iter();
    let mut axis = 0;
    // Each advanced entry's offsets, shaped as its index array.
    let mut arrays: Vec<ArrayD<usize>> = Vec::new();
    let mut array_shapes: Vec<(String, Vec<usize>)> = Vec::new();
    let mut slices: Vec<Vec<usize>> = vec![Vec::new(); index.len()];
    for (k, e) in index.iter().enumerate() {
        if axis >= ndim {
            return Err(ValueError::invalid(op, format!("too many indices for {x_name} of shape {xs:?}")));
        }
        match *e {
            AdvEntry::Basic(IndexEntry::At(i)) => {
                let j = position(bound_value(i, &mut inputs)?, axis, xs[axis])?;
                arrays.push(ArrayD::from_elem(IxDyn(&[]), j * strides[axis]));
                axis += 1;
            }
            AdvEntry::Basic(IndexEntry::Slice { start, stop, step }) => {
                let start = start.map(|i| bound_value(i, &mut inputs)).transpose()?;
                let stop = stop.map(|i| bound_value(i, &mut inputs)).transpose()?;
                let step = bound_value(step, &mut inputs)?;
                let (s, count, step) = slice_positions((start, stop, step), xs[axis])?;
                let st = strides[axis];
                slices[k] = (0..count).map(|c| (s + c as isize * step) as usize * st).collect();
                axis += 1;
            }
            AdvEntry::Array => {
                let a = inputs.next().expect("typed: one input per array");
                array_shapes.push((a.name.to_string(), a.value.shape().to_vec()));
                if a.value.dtype() == DType::Bool {
                    let m = a.value.array::<bool>()?;
                    let k = m.ndim();
                    if k == 0 || axis + k > ndim || m.shape() != &xs[axis..axis + k] {
                        return Err(ValueError::ShapeMismatch {
                            op: op.into(),
                            operands: vec![
                                (format!("{x_name} (the axes the mask indexes)"), xs[axis..].to_vec()),
                                (a.name.to_string(), m.shape().to_vec()),
                            ],
                        });
                    }
                    // The mask's axes are consecutive axes of x: a true element's offset is
                    // its row-major number in the mask times the stride of the mask's last axis.
                    let unit = strides[axis + k - 1];
                    let offsets: Vec<usize> =
                        m.iter().enumerate().filter(|(_, &b)| b).map(|(f, _)| f * unit).collect();
                    arrays.push(ArrayD::from_shape_vec(IxDyn(&[offsets.len()]), offsets)?);
                    axis += k;
                } else {
                    let v = a.value.cast(DType::I64);
                    let ids = v.array::<i64>()?;
                    let (n, st) = (xs[axis], strides[axis]);
                    let mut offsets = table_buffer(op, ids.shape())?;
                    for &i in ids.iter() {
                        offsets.push(position(i, axis, n)? * st);
                    }
                    arrays.push(ArrayD::from_shape_vec(IxDyn(ids.shape()), offsets)?);
                    axis += 1;
                }
            }
        }
    }
    let broadcast = broadcast_shape(&arrays)
        .ok_or_else(|| ValueError::ShapeMismatch { op: op.into(), operands: array_shapes.clone() })?;
    let mut shape = Vec::with_capacity(ndim + broadcast.len());
    let mut groups = Vec::new();
    for p in adv_parts(index) {
        match p {
            AdvPart::Slice(k) => {
                shape.push(slices[k].len());
                groups.push(std::mem::take(&mut slices[k]));
            }
            AdvPart::Broadcast => {
                shape.extend_from_slice(&broadcast);
                groups.push(offset_table(op, arrays.drain(..), &broadcast)?);
            }
        }
    }
    shape.extend_from_slice(&xs[axis..]);
    Ok(Gather { shape, groups, block: xs[axis..].iter().product() })
}

/// NumPy's broadcast of the index arrays' shapes, `None` when they do not broadcast.
fn broadcast_shape(arrays: &[ArrayD<usize>]) -> Option<Vec<usize>> {
    let ndim = arrays.iter().map(|a| a.ndim()).max().unwrap_or(0);
    let mut out = vec![1; ndim];
    for a in arrays {
        for (d, &n) in out[ndim - a.ndim()..].iter_mut().zip(a.shape()) {
            if *d == 1 {
                *d = n;
            } else if n != *d && n != 1 {
                return None;
            }
        }
    }
    Some(out)
}

/// The sum of the advanced entries' offsets at every position of the broadcast shape, in
/// row-major order.
fn offset_table(
    op: &str,
    mut arrays: impl ExactSizeIterator<Item = ArrayD<usize>>,
    shape: &[usize],
) -> Result<Vec<usize>, ValueError> {
    if arrays.len() == 1 {
        let a = arrays.next().expect("one");
        if a.shape() == shape && a.is_standard_layout() {
            return Ok(a.into_raw_vec_and_offset().0);
        }
    }
    let mut table = table_buffer(op, shape)?;
    table.resize(shape.iter().product(), 0);
    for a in arrays {
        let b = a.broadcast(IxDyn(shape)).expect("checked broadcast");
        for (t, o) in table.iter_mut().zip(b.iter()) {
            *t += o;
        }
    }
    Ok(table)
}

/// An empty table with room for the offsets of `shape`, or the memory error.
fn table_buffer(op: &str, shape: &[usize]) -> Result<Vec<usize>, ValueError> {
    let n = checked_len(op, shape, DType::I64)?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| ValueError::Memory {
        op: op.into(),
        shape: shape.to_vec(),
        dtype: DType::I64,
    })?;
    Ok(v)
}

/// Calls `f` with the offset of every unit of the result, in the result's order.
fn for_each_unit(groups: &[Vec<usize>], mut f: impl FnMut(usize)) {
    let Some((last, outer)) = groups.split_last() else {
        f(0);
        return;
    };
    if groups.iter().any(Vec::is_empty) {
        return;
    }
    let mut at = vec![0usize; outer.len()];
    loop {
        let base: usize = outer.iter().zip(&at).map(|(g, &i)| g[i]).sum();
        for &o in last {
            f(base + o);
        }
        // The next combination of the outer tables, the last varying fastest.
        let mut k = outer.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            at[k] += 1;
            if at[k] < outer[k].len() {
                break;
            }
            at[k] = 0;
        }
    }
}

fn gather<T: TensorElement>(x: &Tensor, g: &Gather) -> Result<Tensor, ValueError> {
    let a = x.array::<T>()?;
    let a = a.as_standard_layout();
    let data = a.as_slice().expect("standard layout");
    let mut out = try_buffer::<T>("advanced_subtensor", &g.shape)?;
    match g.block {
        0 => {}
        1 => for_each_unit(&g.groups, |o| out.push(data[o])),
        b => for_each_unit(&g.groups, |o| out.extend_from_slice(&data[o..o + b])),
    }
    Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(&g.shape), out)?.into_shared()))
}

/// `x[index]`.
pub(super) fn advanced_subtensor(
    inputs: &[KernelInput<'_>],
    index: &[AdvEntry],
) -> Result<Tensor, ValueError> {
    let x = inputs[0];
    let g = plan("advanced_subtensor", x.value.shape(), x.name, index, &inputs[1..])?;
    match x.value.dtype() {
        DType::Bool => gather::<bool>(x.value, &g),
        DType::I32 => gather::<i32>(x.value, &g),
        DType::I64 => gather::<i64>(x.value, &g),
        DType::F32 => gather::<f32>(x.value, &g),
        DType::F64 => gather::<f64>(x.value, &g),
    }
}

fn scatter<T: TensorElement>(
    op: &str,
    mut x: Tensor,
    y: KernelInput<'_>,
    g: &Gather,
    set: bool,
    add: fn(T, T) -> T,
) -> Result<Tensor, ValueError> {
    let yc = y.value.cast(T::DTYPE);
    let yv = yc.array::<T>()?;
    let region = &g.shape[..];
    // Static broadcasting: only axes whose type says length 1 stretch.
    let pad = region.len().saturating_sub(yv.ndim());
    let fits = yv.ndim() <= region.len()
        && yv
            .shape()
            .iter()
            .zip(&region[pad..])
            .zip(&y.ty.shape)
            .all(|((&p, &q), d)| p == q || *d == Some(1));
    if !fits {
        return Err(ValueError::ShapeMismatch {
            op: op.into(),
            operands: vec![("x[index]".into(), region.to_vec()), (y.name.into(), yv.shape().to_vec())],
        });
    }
    check_alloc(op, region, T::DTYPE)?;
    let yb = yv.broadcast(IxDyn(region)).expect("checked broadcast");
    let yb = yb.as_standard_layout();
    let ys = yb.as_slice().expect("standard layout");
    let got = x.dtype();
    // Written in place: borrowed data is copied first.
    x = x.detach();
    let out = T::array_mut(&mut x).ok_or(ValueError::DType { expected: T::DTYPE, got })?;
    if !out.is_standard_layout() {
        *out = out.as_standard_layout().into_owned().into_shared();
    }
    // Copies the data first unless this is its only holder (copy on write).
    let data = out.as_slice_mut().expect("standard layout");
    let b = g.block;
    let mut u = 0;
    match (b, set) {
        (0, _) => {}
        (1, true) => for_each_unit(&g.groups, |o| {
            data[o] = ys[u];
            u += 1;
        }),
        (1, false) => for_each_unit(&g.groups, |o| {
            data[o] = add(data[o], ys[u]);
            u += 1;
        }),
        (_, true) => for_each_unit(&g.groups, |o| {
            data[o..o + b].copy_from_slice(&ys[u..u + b]);
            u += b;
        }),
        (_, false) => for_each_unit(&g.groups, |o| {
            for (d, &s) in data[o..o + b].iter_mut().zip(&ys[u..u + b]) {
                *d = add(*d, s);
            }
            u += b;
        }),
    }
    Ok(x)
}

/// `x` with `x[index]` set to `y`, or with `y` added to it (every repeated position
/// accumulating): `x` is written in place when nothing else holds its storage, copied
/// first otherwise. `inputs` are `y` then the index inputs; `x_name` names `x` in errors.
pub fn advanced_inc_subtensor_owned(
    x: Tensor,
    x_name: &str,
    inputs: &[KernelInput<'_>],
    index: &[AdvEntry],
    set: bool,
) -> Result<Tensor, ValueError> {
    let y = inputs[0];
    let op = if set { "advanced_set_subtensor" } else { "advanced_inc_subtensor" };
    let g = plan(op, x.shape(), x_name, index, &inputs[1..])?;
    match x.dtype() {
        DType::Bool => scatter::<bool>(op, x, y, &g, set, |a, b| a | b),
        DType::I32 => scatter::<i32>(op, x, y, &g, set, <i32 as Num>::add),
        DType::I64 => scatter::<i64>(op, x, y, &g, set, <i64 as Num>::add),
        DType::F32 => scatter::<f32>(op, x, y, &g, set, <f32 as Num>::add),
        DType::F64 => scatter::<f64>(op, x, y, &g, set, <f64 as Num>::add),
    }
}

/// `x` with `x[index]` set to `y`, or with `y` added to it, as a new tensor.
pub(super) fn advanced_inc_subtensor(
    inputs: &[KernelInput<'_>],
    index: &[AdvEntry],
    set: bool,
) -> Result<Tensor, ValueError> {
    let x = inputs[0];
    advanced_inc_subtensor_owned(x.value.clone(), x.name, &inputs[1..], index, set)
}
