//! `scan`, the loop op: its description ([`ScanInfo`], shared by a node and its output
//! projections through [`ScanRef`]) and the type rules of `Op::Scan` and `Op::ScanOutput`.
//!
//! A scan node runs its step — an inner graph of its own, kept as variables so that its
//! gradient is the ordinary `grad` — once per step. Its inputs are
//! `[n_steps, sequences…, initial carries…, non-sequences…]`; at step `t` the step reads row
//! `t` of every sequence, the carries' current values and the non-sequences, and returns
//! the carries' next values, the mapped outputs and, for a while-loop, a condition that ends
//! the loop after the step where it holds. The node's own result is the number of steps run
//! (int64); each output is a projection `Op::ScanOutput { index }` of it:
//! index `1 + k` is carry `k`'s trace (its value after every step), then `1 + C + m` mapped
//! output `m`'s trace, then `1 + C + M + k` carry `k`'s last value (its initial value when no
//! step runs), then `1 + 2C + M + k` carry `k`'s full trace: its initial value and its trace
//! (`n + 1` rows), one stored array of which the trace is a view — what a gradient reads as
//! the carries' values before each step. Taps, `go_backwards`, shared-variable updates and
//! loop invariants are lowered to this form by the builder (`build::scan`).
//!
//! A reverse scan (a gradient's loop, as `lax.scan(reverse=True)`) runs its steps from the
//! last row to the first: step `t` reads row `t` of each sequence and writes row `t` of each
//! trace, and a full trace has the initial value last.

use super::Rule;
use crate::dtype::DType;
use crate::error::BuildErrorKind;
use crate::types::TensorType;
use std::any::Any;
use std::sync::Arc;

/// What a scan loops over and computes. Inner inputs are, in order: one per sequence (a
/// row), one per carry (its current value), one per non-sequence; inner outputs: one per
/// carry (its next value), one per mapped output, then the `until` condition if any.
pub struct ScanInfo {
    /// The types of the step's inputs.
    pub inputs: Vec<TensorType>,
    /// The types of the step's outputs.
    pub outputs: Vec<TensorType>,
    /// The step itself: its inputs and outputs as variables (`build::scan::ScanStep`,
    /// held opaquely here so that ops do not depend on variables).
    pub step: Arc<dyn Any + Send + Sync>,
    /// Number of sequences.
    pub n_seqs: usize,
    /// Number of carried values.
    pub n_carries: usize,
    /// Number of mapped outputs (not fed back).
    pub n_mapped: usize,
    /// Whether the last inner output is a 0-d condition that ends the loop when true.
    pub until: bool,
    /// Reverse-mode gradients run over at most this many last steps (`None`: all).
    pub truncate_gradient: Option<usize>,
    /// The steps run from the last row to the first (see the module documentation).
    pub reverse: bool,
    /// A name for printing.
    pub name: String,
}

impl std::fmt::Debug for ScanInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanInfo")
            .field("name", &self.name)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("n_seqs", &self.n_seqs)
            .field("n_carries", &self.n_carries)
            .field("n_mapped", &self.n_mapped)
            .field("until", &self.until)
            .field("truncate_gradient", &self.truncate_gradient)
            .field("reverse", &self.reverse)
            .finish_non_exhaustive()
    }
}

impl ScanInfo {
    /// Number of non-sequences.
    pub fn n_nonseqs(&self) -> usize {
        self.inputs.len() - self.n_seqs - self.n_carries
    }

    /// Number of outputs (projections) besides the step count.
    pub fn n_outputs(&self) -> usize {
        3 * self.n_carries + self.n_mapped
    }

    /// The index of carry `k`'s trace.
    pub fn trace_index(&self, k: usize) -> usize {
        1 + k
    }

    /// The index of mapped output `j`'s trace.
    pub fn mapped_index(&self, j: usize) -> usize {
        1 + self.n_carries + j
    }

    /// The index of carry `k`'s last value.
    pub fn last_index(&self, k: usize) -> usize {
        1 + self.n_carries + self.n_mapped + k
    }

    /// The index of carry `k`'s full trace (its initial value and its trace).
    pub fn full_index(&self, k: usize) -> usize {
        1 + 2 * self.n_carries + self.n_mapped + k
    }

    /// The type of output `index` (`1..=n_outputs()`), `None` out of range.
    pub fn output_type(&self, index: usize) -> Option<TensorType> {
        let (c, m) = (self.n_carries, self.n_mapped);
        let stacked = |t: &TensorType| {
            let mut shape = vec![None];
            shape.extend(&t.shape);
            TensorType::new(t.dtype, shape)
        };
        match index {
            0 => None,
            i if i <= c => Some(stacked(&self.inputs[self.n_seqs + i - 1])),
            i if i <= c + m => Some(stacked(&self.outputs[i - 1])),
            i if i <= 2 * c + m => Some(self.inputs[self.n_seqs + i - 1 - c - m].clone()),
            i if i <= 3 * c + m => Some(stacked(&self.inputs[self.n_seqs + i - 1 - 2 * c - m])),
            _ => None,
        }
    }

    /// What output `index` is, for printing: `trace k`, `mapped m` or `last k`.
    pub fn output_label(&self, index: usize) -> String {
        let (c, m) = (self.n_carries, self.n_mapped);
        match index {
            0 => "steps".into(),
            i if i <= c => format!("trace {}", i - 1),
            i if i <= c + m => format!("mapped {}", i - 1 - c),
            i if i <= 2 * c + m => format!("last {}", i - 1 - c - m),
            i => format!("full {}", i - 1 - 2 * c - m),
        }
    }
}

/// A shared [`ScanInfo`]: a scan node and its projections hold the same one. Two refs are
/// equal (and hash equal) when they are the same description, so two scans built apart
/// are never merged by mistake.
#[derive(Clone, Debug)]
pub struct ScanRef(pub Arc<ScanInfo>);

impl PartialEq for ScanRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for ScanRef {}
impl std::hash::Hash for ScanRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.0) as usize).hash(state)
    }
}

impl std::ops::Deref for ScanRef {
    type Target = ScanInfo;
    fn deref(&self) -> &ScanInfo {
        &self.0
    }
}

/// Whether a value of type `outer` may feed an inner input of type `inner`: one dtype, one
/// rank, and no static length that contradicts another.
fn fits(outer: &TensorType, inner: &TensorType) -> bool {
    outer.dtype == inner.dtype
        && outer.ndim() == inner.ndim()
        && outer.shape.iter().zip(&inner.shape).all(|(a, b)| a.is_none() || b.is_none() || a == b)
}

/// `scan`: `n_steps` an integer scalar; each sequence one axis more than its step input,
/// each initial carry and non-sequence the type of its step input. The result is the
/// number of steps run.
pub(super) fn scan(r: &Rule<'_>, info: &ScanInfo) -> Result<TensorType, BuildErrorKind> {
    let expected = 1 + info.inputs.len();
    if r.ins.len() != expected {
        return Err(r.invalid(format!("takes {expected} inputs, got {}", r.ins.len())));
    }
    let n = &r.ins[0];
    if n.ty.ndim() != 0 || !n.ty.dtype.is_int() {
        return Err(r.rank(n, "an integer 0-d number of steps"));
    }
    for (k, (o, inner)) in r.ins[1..].iter().zip(&info.inputs).enumerate() {
        let ok = if k < info.n_seqs {
            o.ty.ndim() == inner.ndim() + 1
                && fits(&TensorType::new(o.ty.dtype, o.ty.shape[1..].to_vec()), inner)
        } else {
            fits(&o.ty, inner)
        };
        if !ok {
            let role = if k < info.n_seqs {
                "a sequence of rows of"
            } else if k < info.n_seqs + info.n_carries {
                "an initial value of"
            } else {
                "a non-sequence of"
            };
            return Err(r.invalid(format!("{} must be {role} {}, got {}", o.name, inner, o.ty)));
        }
    }
    Ok(TensorType::new(DType::I64, vec![]))
}

/// `scan_output{index}`: output `index` of the scan it reads.
pub(super) fn scan_output(r: &Rule<'_>, info: &ScanInfo, index: usize) -> Result<TensorType, BuildErrorKind> {
    let [steps] = r.ins else {
        return Err(r.invalid(format!("takes the scan node, got {} inputs", r.ins.len())));
    };
    if steps.ty.ndim() != 0 || steps.ty.dtype != DType::I64 {
        return Err(r.rank(steps, "the scan node"));
    }
    info.output_type(index)
        .ok_or_else(|| r.invalid(format!("the scan has outputs 1 to {}, not {index}", info.n_outputs())))
}
