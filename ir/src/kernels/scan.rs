//! The loop of `scan` (see `op::scan`), one place for every engine: the caller gives the
//! step — the interpreter's or the compiled plan of the inner graph — and this runs it once
//! per step, feeding rows of the sequences (views, not copies) and the carries, checking
//! what the step returns, and writing each kept trace into its stacked result in place.
//!
//! Carries are double-buffered: each step is offered, for each of its outputs, a buffer
//! of the right shape that nothing else holds any more — a carry's value from two steps
//! back, a mapped output's from the step before — to write its result into (a native kernel
//! does; a reference kernel makes its own), so a loop in the steady state allocates no
//! carried value.

use super::KernelInput;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::map_array;
use crate::op::ScanInfo;
use crate::value::{Tensor, TensorElement};
use ndarray::Axis;

/// Makes a zero-filled array of a dtype and shape (a stored trace), or says why it cannot.
pub type Zeros<'a> = dyn Fn(DType, &[usize]) -> Result<Tensor, ValueError> + 'a;

/// Runs the loop of `info` on the node's inputs `ins` (`[n_steps, sequences…, initial
/// carries…, non-sequences…]`), calling `step` with the inner inputs of each step. Returns
/// every output of the node: the number of steps run, then each carry's trace, each mapped
/// output's trace, each carry's last value and each carry's full trace (see
/// `ScanInfo::output_type`). A trace whose `keep` entry (indexed by output) is false is not
/// stored: an empty array stands for it. A carry's trace and full trace are one array. The
/// stored traces are zero-filled arrays `zeros(dtype, shape)` makes (the caller's buffers),
/// written row by row. `step(args, sinks)` runs one step on the inner inputs `args`; it may
/// write its output `k` into `sinks[k]` (a buffer of the output's last value, held by
/// nothing else) and return that buffer.
pub fn run<E: From<ValueError>>(
    info: &ScanInfo,
    ins: &[KernelInput<'_>],
    keep: &[bool],
    zeros: &Zeros<'_>,
    mut step: impl FnMut(&[Tensor], &mut [Option<&mut Tensor>]) -> Result<Vec<Tensor>, E>,
) -> Result<Vec<Tensor>, E> {
    let err = |reason: String| ValueError::invalid(format!("scan {}", info.name), reason);
    let n = ins[0].value.cast(DType::I64).scalar::<i64>()?;
    let n = usize::try_from(n).map_err(|_| err(format!("the number of steps is negative ({n})")))?;
    let (s, c, m) = (info.n_seqs, info.n_carries, info.n_mapped);
    let outer = &ins[1..];
    // Every outer value against its inner input's type: rows of the sequences, carries and
    // non-sequences; the sequences at least `n` long.
    for (k, (o, inner)) in outer.iter().zip(&info.inputs).enumerate() {
        let shape = o.value.shape();
        let row = if k < s { &shape[1.min(shape.len())..] } else { shape };
        if (k < s && shape.first().is_none_or(|&len| len < n)) || !inner.accepts_shape(row) {
            let what = if k < s { format!("rows of {inner} for {n} steps") } else { inner.to_string() };
            return Err(err(format!("{} has shape {shape:?}, expected {what}", o.name)).into());
        }
    }
    let mut args: Vec<Tensor> = outer.iter().map(|o| o.value.clone()).collect();
    let keeps = |index: usize| keep.get(index).copied().unwrap_or(true);
    // Where the value after step `t` goes in a carry's full trace (`n + 1` rows, the
    // initial value first, or last in a reverse scan), and a mapped output's row.
    let (full_row, initial_row) = if info.reverse { (0, n) } else { (1, 0) };
    // Carries' full traces (allocated now, with the initial value), then mapped traces
    // (allocated on the first step, when the row's shape is known).
    let mut traces: Vec<Option<Tensor>> = vec![None; c + m];
    for (k, trace) in traces.iter_mut().enumerate().take(c) {
        if keeps(info.trace_index(k)) || keeps(info.full_index(k)) {
            let init = &args[s + k];
            let mut shape = vec![n + 1];
            shape.extend(init.shape());
            let mut full = zeros(init.dtype(), &shape)?;
            write_row(&mut full, initial_row, init);
            *trace = Some(full);
        }
    }
    // Buffers the next step may write its outputs into (see the module documentation).
    let mut spare: Vec<Option<Tensor>> = vec![None; c + m];
    let mut steps = 0;
    for i in 0..n {
        let t = if info.reverse { n - 1 - i } else { i };
        for k in 0..s {
            args[k] = map_array!(outer[k].value.clone(), a => a.index_axis_move(Axis(0), t));
        }
        let mut offered = std::mem::replace(&mut spare, vec![None; c + m]);
        let mut sinks: Vec<Option<&mut Tensor>> = offered.iter_mut().map(Option::as_mut).collect();
        let mut outs = step(&args, &mut sinks)?;
        drop(sinks);
        if outs.len() != c + m + usize::from(info.until) {
            return Err(err(format!("the step returned {} values, expected {}", outs.len(), c + m)).into());
        }
        // A buffer written into now belongs to the output alone; one not written is offered
        // again.
        for (j, buffer) in offered.into_iter().enumerate() {
            if let Some(b) = buffer.filter(|b| !outs.iter().any(|o| o.shares_data(b))) {
                spare[j] = Some(b);
            }
        }
        steps = i + 1;
        let stop = if info.until { outs.pop().expect("counted").is_true()? } else { false };
        for (j, out) in outs.into_iter().enumerate() {
            let inner = if j < c { &info.inputs[s + j] } else { &info.outputs[j] };
            if out.dtype() != inner.dtype
                || (j < c && out.shape() != args[s + j].shape())
                || !inner.accepts_shape(out.shape())
            {
                let before = if j < c {
                    args[s + j].shape()
                } else {
                    traces[j].as_ref().map_or(&[][..], |tr| &tr.shape()[1..])
                };
                let what = if j < c { format!("carry {j}") } else { format!("mapped output {}", j - c) };
                return Err(err(format!(
                    "step {t}: {what} is {} of shape {:?}, expected {} of shape {before:?}",
                    out.dtype(),
                    out.shape(),
                    inner.dtype
                ))
                .into());
            }
            if j < c {
                if let Some(full) = &mut traces[j] {
                    write_row(full, t + full_row, &out);
                }
                let before = std::mem::replace(&mut args[s + j], out);
                // The value before this step is read by nothing now (unless the step
                // returned a view of it, or it is the initial value the caller holds).
                if before.is_unique() {
                    spare[j] = Some(before);
                }
                continue;
            }
            if keeps(info.mapped_index(j - c)) {
                let trace = match &mut traces[j] {
                    Some(trace) => trace,
                    slot => {
                        let mut shape = vec![n];
                        shape.extend(out.shape());
                        slot.insert(zeros(out.dtype(), &shape)?)
                    }
                };
                if trace.shape()[1..] != *out.shape() {
                    return Err(err(format!(
                        "step {t}: mapped output {} has shape {:?}, earlier steps {:?}",
                        j - c,
                        out.shape(),
                        &trace.shape()[1..]
                    ))
                    .into());
                }
                write_row(trace, t, &out);
            }
            if out.is_unique() {
                spare[j] = Some(out);
            }
        }
        if stop {
            break;
        }
    }
    // The rows written: all, or those of the steps run before `until` held.
    let rows = |from: usize, to: usize| -> ndarray::Slice {
        if info.reverse {
            ndarray::Slice::from(n - steps + from..n + to)
        } else {
            ndarray::Slice::from(from..steps + to)
        }
    };
    let cut = |t: Tensor, slice: ndarray::Slice| {
        map_array!(t, a => {
            let mut a = a;
            a.slice_axis_inplace(Axis(0), slice);
            a
        })
    };
    // An empty stack of `row`-shaped values of `dtype` (a trace not kept).
    let empty = |dtype: DType, row: &[usize]| {
        let mut shape = vec![0];
        shape.extend(row);
        Tensor::zeros(dtype, &shape)
    };
    let mut result = Vec::with_capacity(1 + 3 * c + m);
    result.push(Tensor::from(steps as i64));
    let mut fulls = Vec::with_capacity(c);
    for (j, trace) in traces.into_iter().enumerate() {
        if j < c {
            let (full, trace) = match trace {
                Some(full) => {
                    // Without the initial value's row (first, or last in a reverse scan).
                    let trace = cut(full.clone(), rows(full_row, full_row));
                    (cut(full, rows(0, 1)), trace)
                }
                None => {
                    let e = empty(args[s + j].dtype(), args[s + j].shape());
                    (e.clone(), e)
                }
            };
            result.push(trace);
            fulls.push(full);
        } else {
            result.push(match trace {
                Some(t) => cut(t, rows(0, 0)),
                None => {
                    // Not kept, or no step ran.
                    let row: Vec<usize> = info.outputs[j].shape.iter().map(|d| d.unwrap_or(0)).collect();
                    empty(info.outputs[j].dtype, &row)
                }
            });
        }
    }
    result.extend(args.drain(s..s + c));
    result.extend(fulls);
    Ok(result)
}

/// Writes `src` as row `t` of `dst` (same dtype, `src` of `dst`'s row shape).
fn write_row(dst: &mut Tensor, t: usize, src: &Tensor) {
    fn typed<T: TensorElement>(dst: &mut Tensor, t: usize, src: &Tensor) {
        let (Some(d), Some(s)) = (T::array_mut(dst), T::array(src)) else { unreachable!("dtypes checked") };
        d.index_axis_mut(Axis(0), t).assign(s);
    }
    match src.dtype() {
        DType::Bool => typed::<bool>(dst, t, src),
        DType::I32 => typed::<i32>(dst, t, src),
        DType::I64 => typed::<i64>(dst, t, src),
        DType::F32 => typed::<f32>(dst, t, src),
        DType::F64 => typed::<f64>(dst, t, src),
    }
}
