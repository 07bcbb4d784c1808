//! The loop of `scan` (see `op::scan`), one place for every engine: the caller gives the
//! step — the interpreter's or the compiled plan of the inner graph — and this runs it once
//! per step, feeding rows of the sequences (views, not copies) and the carries, checking
//! what the step returns, and writing each kept trace into its stacked result in place.
//!
//! Each step is offered, for each of its outputs, a sink to write its result into (a native
//! kernel does; a reference kernel makes its own array, which is then copied):
//!
//! - for an output whose trace is stored, its row of the trace (`value::Stack` lends each
//!   row once): the step writes its result straight into the stacked result, and a carry's
//!   next step reads that row as its previous value. Its inputs never overlap the row being
//!   written — the rows of earlier steps, the sequences and non-sequences from outside —,
//!   and the row is written no more once the step hands it out;
//! - else a buffer of the right shape that nothing else holds any more — a carry's value
//!   from two steps back (double-buffered), a mapped output's from the step before.
//!
//! A loop in the steady state thus allocates no carried value and copies no row;
//! [`row_copies`] counts the copies made.

use super::KernelInput;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::map_array;
use crate::op::ScanInfo;
use crate::value::{Sink, Stack, StackRow, Tensor};
use ndarray::Axis;
use std::cell::Cell;

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
/// write its output `k` into `sinks[k]` (the output's row of its stored trace, or a buffer
/// of the output's earlier value held by nothing else) and return the sink's tensor.
pub fn run<E: From<ValueError>>(
    info: &ScanInfo,
    ins: &[KernelInput<'_>],
    keep: &[bool],
    zeros: &Zeros<'_>,
    mut step: impl FnMut(&[Tensor], &mut [Option<Sink<'_>>]) -> Result<Vec<Tensor>, E>,
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
    let stack = |t: Tensor| Stack::new(t).map_err(|_| err("a stored trace is shared".into()));
    // Carries' full traces (allocated now, with the initial value), then mapped traces
    // (allocated now when the step's type gives the row's shape, else on the first step).
    let mut traces: Vec<Option<Stack>> = (0..c + m).map(|_| None).collect();
    for (k, trace) in traces.iter_mut().enumerate().take(c) {
        if keeps(info.trace_index(k)) || keeps(info.full_index(k)) {
            let init = &args[s + k];
            let mut shape = vec![n + 1];
            shape.extend(init.shape());
            let mut full = stack(zeros(init.dtype(), &shape)?)?;
            full.write(initial_row, init)?;
            *trace = Some(full);
        }
    }
    for (j, trace) in traces.iter_mut().enumerate().skip(c) {
        let ty = &info.outputs[j];
        let row: Option<Vec<usize>> = ty.shape.iter().copied().collect();
        if let Some(row) = row.filter(|_| keeps(info.mapped_index(j - c))) {
            let mut shape = vec![n];
            shape.extend(row);
            *trace = Some(stack(zeros(ty.dtype, &shape)?)?);
        }
    }
    // Buffers the next step may write the outputs without a stored trace into (see the
    // module documentation).
    let mut spare: Vec<Option<Tensor>> = vec![None; c + m];
    let mut steps = 0;
    for i in 0..n {
        let t = if info.reverse { n - 1 - i } else { i };
        for k in 0..s {
            args[k] = crate::view_array!(outer[k].value, a => a.clone().index_axis_move(Axis(0), t));
        }
        // Each output's sink: its row of its stored trace, else a spare buffer.
        let mut offered = std::mem::replace(&mut spare, vec![None; c + m]);
        let mut sinks: Vec<Option<Sink<'_>>> = traces
            .iter_mut()
            .zip(offered.iter_mut())
            .enumerate()
            .map(|(j, (trace, buffer))| match trace {
                Some(trace) => trace.lend(if j < c { t + full_row } else { t }).map(Sink::row),
                None => buffer.as_mut().map(Sink::owned),
            })
            .collect();
        let outs = step(&args, &mut sinks);
        let rows: Vec<Option<StackRow<'_>>> = sinks.into_iter().map(|s| s.and_then(Sink::into_row)).collect();
        let mut outs = outs?;
        if outs.len() != c + m + usize::from(info.until) {
            return Err(err(format!("the step returned {} values, expected {}", outs.len(), c + m)).into());
        }
        steps = i + 1;
        let stop = if info.until { outs.pop().expect("counted").is_true()? } else { false };
        for (j, out) in outs.iter().enumerate() {
            let inner = if j < c { &info.inputs[s + j] } else { &info.outputs[j] };
            // A mapped output's row, from its stored trace.
            let row = rows[j].as_ref().map(StackRow::shape).filter(|_| j >= c);
            if out.dtype() != inner.dtype
                || (j < c && out.shape() != args[s + j].shape())
                || !inner.accepts_shape(out.shape())
            {
                let before = if j < c { args[s + j].shape() } else { row.unwrap_or(&[]) };
                let what = if j < c { format!("carry {j}") } else { format!("mapped output {}", j - c) };
                return Err(err(format!(
                    "step {t}: {what} is {} of shape {:?}, expected {} of shape {before:?}",
                    out.dtype(),
                    out.shape(),
                    inner.dtype
                ))
                .into());
            }
            if let Some(row) = row.filter(|row| out.shape() != *row) {
                return Err(err(format!(
                    "step {t}: mapped output {} has shape {:?}, earlier steps {row:?}",
                    j - c,
                    out.shape(),
                ))
                .into());
            }
        }
        // The rows of the stored traces: written in place by the step, or copied now (a
        // reference kernel made its own array, or the step returned an input or a view).
        let mut written: Vec<Option<Tensor>> = Vec::with_capacity(c + m);
        for (row, out) in rows.into_iter().zip(&outs) {
            written.push(match row {
                Some(mut row) => {
                    if !row.holds(out) {
                        count_copy();
                        row.assign(out)?;
                    }
                    Some(row.into_tensor())
                }
                None => None,
            });
        }
        // A buffer written into now belongs to the output alone; one not written is offered
        // again.
        for (j, buffer) in offered.into_iter().enumerate() {
            if let Some(b) = buffer.filter(|b| !outs.iter().any(|o| o.shares_data(b))) {
                spare[j] = Some(b);
            }
        }
        for (j, (out, row)) in outs.into_iter().zip(written).enumerate() {
            if j < c {
                // A stored carry is read from its trace's row (the next step writes another).
                let before = std::mem::replace(&mut args[s + j], row.unwrap_or(out));
                // Without a trace, the value before this step is read by nothing now (unless
                // the step returned a view of it, or it is the initial value the caller
                // holds): the next step but one may write into it.
                if traces[j].is_none() && before.is_unique() {
                    spare[j] = Some(before);
                }
                continue;
            }
            if row.is_some() {
                continue;
            }
            if keeps(info.mapped_index(j - c)) {
                // The first step: the row's shape is known now.
                let mut shape = vec![n];
                shape.extend(out.shape());
                let mut trace = stack(zeros(out.dtype(), &shape)?)?;
                count_copy();
                trace.write(t, &out)?;
                traces[j] = Some(trace);
            } else if out.is_unique() {
                spare[j] = Some(out);
            }
        }
        if stop {
            break;
        }
    }
    let traces: Vec<Option<Tensor>> = traces.into_iter().map(|t| t.map(Stack::into_tensor)).collect();
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

thread_local! {
    /// Step results copied into a stored trace by the loops run on this thread.
    static ROW_COPIES: Cell<usize> = const { Cell::new(0) };
}

/// How many step results the loops run on this thread copied into their stored traces,
/// rather than the step writing them in place (a diagnostic: tests use it to check that a
/// compiled loop's native kernels write straight into the traces). A copy is made when a
/// reference kernel made its own array, the step returned an input or a view, or for a
/// mapped output's first row when only the step gives the row's shape.
pub fn row_copies() -> usize {
    ROW_COPIES.with(Cell::get)
}

/// Counts one copy into a stored trace (see [`row_copies`]).
fn count_copy() {
    ROW_COPIES.with(|c| c.set(c.get() + 1));
}
