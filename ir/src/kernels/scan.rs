//! The loop of `scan` (see `op::scan`), one place for every engine: the caller gives the
//! step — the interpreter's or the compiled plan of the inner graph — and this runs it once
//! per step, feeding rows of the sequences (views, not copies) and the carries, checking
//! what the step returns, and writing each kept trace into its stacked result in place.

use super::KernelInput;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::map_array;
use crate::op::ScanInfo;
use crate::value::{Tensor, TensorElement};
use ndarray::Axis;

/// Runs the loop of `info` on the node's inputs `ins` (`[n_steps, sequences…, initial
/// carries…, non-sequences…]`), calling `step` with the inner inputs of each step. Returns
/// every output of the node: the number of steps run, then each carry's trace, each mapped
/// output's trace and each carry's last value (see `ScanInfo::output_type`). A trace whose
/// `keep` entry (indexed by output) is false is not stored: an empty array stands for it.
pub fn run<E: From<ValueError>>(
    info: &ScanInfo,
    ins: &[KernelInput<'_>],
    keep: &[bool],
    mut step: impl FnMut(&[Tensor]) -> Result<Vec<Tensor>, E>,
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
    let mut traces: Vec<Option<Tensor>> = vec![None; c + m];
    let mut steps = 0;
    for t in 0..n {
        for k in 0..s {
            args[k] = map_array!(outer[k].value.clone(), a => a.index_axis_move(Axis(0), t));
        }
        let mut outs = step(&args)?;
        if outs.len() != c + m + usize::from(info.until) {
            return Err(err(format!("the step returned {} values, expected {}", outs.len(), c + m)).into());
        }
        steps = t + 1;
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
            if keeps(1 + j) {
                let trace = match &mut traces[j] {
                    Some(trace) => trace,
                    slot => {
                        let mut shape = vec![n];
                        shape.extend(out.shape());
                        crate::value::check_alloc("scan", &shape, out.dtype())?;
                        slot.insert(Tensor::zeros(out.dtype(), &shape))
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
            if j < c {
                args[s + j] = out;
            }
        }
        if stop {
            break;
        }
    }
    let mut result = Vec::with_capacity(1 + 2 * c + m);
    result.push(Tensor::from(steps as i64));
    for (j, trace) in traces.into_iter().enumerate() {
        let t = match trace {
            Some(t) if steps < n => map_array!(t, a => {
                let mut a = a;
                a.slice_axis_inplace(Axis(0), ndarray::Slice::from(..steps));
                a
            }),
            Some(t) => t,
            None => {
                // Not kept, or no step ran: an empty stack of the row's type.
                let row = if j < c {
                    args[s + j].shape().to_vec()
                } else {
                    info.outputs[j].shape.iter().map(|d| d.unwrap_or(0)).collect()
                };
                let mut shape = vec![0];
                shape.extend(row);
                Tensor::zeros(info.outputs[j].dtype, &shape)
            }
        };
        result.push(t);
    }
    result.extend(args.drain(s..s + c));
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
