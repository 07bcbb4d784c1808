//! `scan` (Theano's `theano.scan`): a loop whose step is a graph. [`Scan`] gathers the
//! sequences, the outputs' initial values and taps, the non-sequences and the number of
//! steps; [`Scan::build`] calls the step function once on placeholders and lowers
//! everything to the one loop op (`op::scan`):
//!
//! - a sequence read at several taps becomes one sliced sequence per tap, cut to the
//!   number of steps (the least of every sequence's usable length and `n_steps`), and
//!   reversed for `go_backwards`;
//! - an output fed back at taps `[-m, …, -1]` becomes `m` carries, carry `j` holding the
//!   value `j` steps back (each step shifts them by one);
//! - a shared variable updated by the step (an explicit update, or a default update such as
//!   a random stream's) becomes a carry; its last value is the returned update;
//! - what the step reads from outside — variables, shared variables, whole expressions that
//!   do not change from step to step — becomes a non-sequence computed once, outside the loop.

use super::elemwise::{elemwise_inner, Term};
use super::index::{try_subtensor, Index, SliceBound};
use super::{apply_inner, leaf};
use crate::dtype::DType;
use crate::error::BuildError;
use crate::op::{Op, ScalarOp, ScanInfo, ScanRef};
use crate::shared::SharedVar;
use crate::var::Var;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The step of a scan as variables: its inputs (`Op::Input` leaves, in the order of
/// `ScanInfo`) and its outputs. A [`ScanInfo`] holds one.
#[derive(Debug)]
pub struct ScanStep {
    /// The step's inputs.
    pub inputs: Vec<Var>,
    /// The step's outputs.
    pub outputs: Vec<Var>,
}

impl ScanStep {
    /// The step of `info`.
    pub fn of(info: &ScanInfo) -> Result<&ScanStep, BuildError> {
        info.step
            .downcast_ref::<ScanStep>()
            .ok_or_else(|| BuildError::invalid("scan", format!("scan {} holds no step graph", info.name)))
    }

    /// The description of a loop running this step: the first `n_seqs` inputs are rows of
    /// sequences, the next `n_carries` carries (as are the first `n_carries` outputs); the
    /// other outputs are mapped, but the last when `until`; `reverse` runs the steps from the
    /// last row to the first.
    pub(crate) fn into_info(
        self,
        n_seqs: usize,
        n_carries: usize,
        until: bool,
        truncate_gradient: Option<usize>,
        reverse: bool,
        name: String,
    ) -> ScanInfo {
        ScanInfo {
            inputs: self.inputs.iter().map(|v| v.ty().clone()).collect(),
            outputs: self.outputs.iter().map(|v| v.ty().clone()).collect(),
            n_seqs,
            n_carries,
            n_mapped: self.outputs.len() - n_carries - usize::from(until),
            until,
            truncate_gradient,
            reverse,
            name,
            step: Arc::new(self),
        }
    }
}

impl ScanStep {
    /// The description of a loop running this step, for code outside this crate (the
    /// optimizer's `scan_merge` makes one step of two): the first `n_seqs` inputs are rows
    /// of sequences, the next `n_carries` carries (as are the first `n_carries` outputs,
    /// each of its carry's dtype and rank); the other outputs are mapped, but the last, a
    /// 0-d condition, when `until`. Counts that do not fit the step are an error.
    pub fn try_into_info(
        self,
        n_seqs: usize,
        n_carries: usize,
        until: bool,
        truncate_gradient: Option<usize>,
        reverse: bool,
        name: String,
    ) -> Result<ScanInfo, BuildError> {
        let bad = |reason: String| Err(BuildError::invalid("scan", reason));
        if n_seqs + n_carries > self.inputs.len() {
            return bad(format!(
                "{n_seqs} sequences and {n_carries} carries for a step of {} inputs",
                self.inputs.len()
            ));
        }
        if n_carries + usize::from(until) > self.outputs.len() {
            return bad(format!("{n_carries} carries for a step of {} outputs", self.outputs.len()));
        }
        for k in 0..n_carries {
            let (inner, next) = (self.inputs[n_seqs + k].ty(), self.outputs[k].ty());
            if inner.dtype != next.dtype || inner.ndim() != next.ndim() {
                return bad(format!("carry {k} is {inner} but the step returns {next}"));
            }
        }
        if until && self.outputs.last().is_some_and(|c| c.ndim() != 0) {
            return bad("the until condition must be 0-d".into());
        }
        Ok(self.into_info(n_seqs, n_carries, until, truncate_gradient, reverse, name))
    }
}

/// A sequence of a scan and the taps each step reads (`0`: row `t`; `-2`: row `t - 2`; …).
#[derive(Clone, Debug)]
pub struct Sequence {
    /// The sequence (its first axis is iterated).
    pub input: Var,
    /// The taps, in the order the step function receives them.
    pub taps: Vec<isize>,
}

impl Sequence {
    /// `input` read at `taps` (Theano's `dict(input=x, taps=[-2, 0])`).
    pub fn taps(input: impl AsRef<Var>, taps: &[isize]) -> Sequence {
        Sequence { input: input.as_ref().clone(), taps: taps.to_vec() }
    }
}

impl From<Var> for Sequence {
    fn from(input: Var) -> Sequence {
        Sequence { input, taps: vec![0] }
    }
}
impl From<&Var> for Sequence {
    fn from(input: &Var) -> Sequence {
        Sequence::from(input.clone())
    }
}

/// One output of a scan: fed back from an initial value, or only mapped (Theano's `None`
/// in `outputs_info`).
#[derive(Clone, Debug)]
pub enum OutputInfo {
    /// Computed at every step, not fed back.
    Mapped,
    /// Fed back: the step receives the values `taps` steps back (negative); with taps
    /// `[-1]`, `initial` is the value before the first step, otherwise its last `m` rows are
    /// the `m` values before it (`m` the largest lag).
    Carried {
        /// The initial value (or values, stacked, for taps other than `[-1]`).
        initial: Var,
        /// The taps, negative, in the order the step function receives them.
        taps: Vec<isize>,
    },
}

impl OutputInfo {
    /// An output fed back at `taps` (Theano's `dict(initial=x, taps=[-2, -1])`).
    pub fn taps(initial: impl AsRef<Var>, taps: &[isize]) -> OutputInfo {
        OutputInfo::Carried { initial: initial.as_ref().clone(), taps: taps.to_vec() }
    }
}

impl From<Var> for OutputInfo {
    fn from(initial: Var) -> OutputInfo {
        OutputInfo::Carried { initial, taps: vec![-1] }
    }
}
impl From<&Var> for OutputInfo {
    fn from(initial: &Var) -> OutputInfo {
        OutputInfo::from(initial.clone())
    }
}

/// What a step function returns: its outputs (one per `outputs_info` entry), updates of
/// shared variables, and for a while-loop the condition that ends it after this step.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// The outputs.
    pub outputs: Vec<Var>,
    /// `(shared variable, its next value)` pairs.
    pub updates: Vec<(Var, Var)>,
    /// Stop after the step where this 0-d value is true (Theano's `until`).
    pub until: Option<Var>,
}

impl Step {
    /// A step returning `outputs`.
    pub fn new<V: AsRef<Var>>(outputs: &[V]) -> Step {
        Step { outputs: outputs.iter().map(|v| v.as_ref().clone()).collect(), ..Step::default() }
    }

    /// With the update `shared ← value`.
    pub fn update(mut self, shared: impl AsRef<Var>, value: impl AsRef<Var>) -> Step {
        self.updates.push((shared.as_ref().clone(), value.as_ref().clone()));
        self
    }

    /// Ending the loop after the step where `cond` is true.
    pub fn until(mut self, cond: impl AsRef<Var>) -> Step {
        self.until = Some(cond.as_ref().clone());
        self
    }
}

impl From<Var> for Step {
    fn from(v: Var) -> Step {
        Step { outputs: vec![v], ..Step::default() }
    }
}
impl From<Vec<Var>> for Step {
    fn from(outputs: Vec<Var>) -> Step {
        Step { outputs, ..Step::default() }
    }
}

/// What a scan returns: one variable per output (its values after every step, stacked),
/// and the updates of the shared variables the step updates (to pass to `function`).
#[derive(Clone, Debug)]
pub struct ScanResult {
    /// The outputs, in the order of `outputs_info`.
    pub outputs: Vec<Var>,
    /// `(shared variable, its value after the last step)` pairs.
    pub updates: Vec<(Var, Var)>,
}

/// A loop, described as Theano's `scan` takes it: build it with [`Scan::build`].
///
/// ```
/// use tensorlift_ir as tl;
/// // The running sum of the rows of x.
/// let x = tl::dmatrix("x");
/// let acc0 = tl::dvector("acc0");
/// let r = tl::Scan::new()
///     .sequences([&x])
///     .outputs_info([&acc0])
///     .build(|a| (&a[1] + &a[0]).into())
///     .unwrap();
/// assert_eq!(r.outputs[0].ndim(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Scan {
    sequences: Vec<Sequence>,
    outputs_info: Vec<OutputInfo>,
    non_sequences: Vec<Var>,
    n_steps: Option<Var>,
    truncate_gradient: Option<usize>,
    go_backwards: bool,
    name: Option<String>,
}

impl Scan {
    /// A scan with nothing yet.
    pub fn new() -> Scan {
        Scan::default()
    }

    /// The sequences (a `Var` reads row `t`; [`Sequence::taps`] other rows).
    pub fn sequences<S: Into<Sequence>>(mut self, seqs: impl IntoIterator<Item = S>) -> Scan {
        self.sequences = seqs.into_iter().map(Into::into).collect();
        self
    }

    /// The outputs' initial values (a `Var` is fed back at tap -1; [`OutputInfo::Mapped`]
    /// is not fed back).
    pub fn outputs_info<O: Into<OutputInfo>>(mut self, outs: impl IntoIterator<Item = O>) -> Scan {
        self.outputs_info = outs.into_iter().map(Into::into).collect();
        self
    }

    /// Variables passed to the step function after the taps (the step may also read any
    /// other variable directly).
    pub fn non_sequences<V: AsRef<Var>>(mut self, vars: impl IntoIterator<Item = V>) -> Scan {
        self.non_sequences = vars.into_iter().map(|v| v.as_ref().clone()).collect();
        self
    }

    /// The number of steps (an integer scalar; with sequences, at most their length).
    pub fn n_steps(mut self, n: impl Into<Term>) -> Scan {
        self.n_steps = Some(match n.into() {
            Term::Var(v) => v,
            lit => super::elemwise::literal(&lit, Some(DType::I64), 0),
        });
        self
    }

    /// Gradients run back over at most `k` steps (Theano's `truncate_gradient`).
    pub fn truncate_gradient(mut self, k: usize) -> Scan {
        self.truncate_gradient = Some(k);
        self
    }

    /// Iterates the sequences from their last row to their first.
    pub fn go_backwards(mut self, yes: bool) -> Scan {
        self.go_backwards = yes;
        self
    }

    /// A name for printing.
    pub fn name(mut self, name: &str) -> Scan {
        self.name = Some(name.into());
        self
    }

    /// Builds the loop: `step` receives the sequences' taps, the outputs' taps, then the
    /// non-sequences, and returns the [`Step`].
    #[track_caller]
    pub fn build(self, step: impl FnOnce(&[Var]) -> Step) -> Result<ScanResult, BuildError> {
        self.try_build(|args| Ok::<Step, BuildError>(step(args))).map_err(BuildError::located)
    }

    /// [`build`](Self::build) with a step function that may fail (its error is returned).
    pub fn try_build<E: From<BuildError>>(
        self,
        step: impl FnOnce(&[Var]) -> Result<Step, E>,
    ) -> Result<ScanResult, E> {
        let name = self.name.clone().unwrap_or_else(|| "scan".into());
        let bad = |reason: String| BuildError::invalid("scan", reason);
        for v in self.sequences.iter().map(|s| &s.input).chain(&self.non_sequences).chain(&self.n_steps) {
            v.check()?;
        }
        // The number of steps: the least usable length of a sequence, and `n_steps`.
        let mut lengths = Vec::new();
        for seq in &self.sequences {
            if seq.input.ndim() == 0 {
                return Err(bad(format!(
                    "the sequence {} is 0-d: a sequence needs an axis to iterate",
                    seq.input.describe()
                ))
                .into());
            }
            let (lo, hi) =
                tap_span(&seq.taps).ok_or_else(|| bad("a sequence needs at least one tap".into()))?;
            let len = super::shape::shape_i(&seq.input, 0);
            lengths.push(if hi > lo {
                elemwise_inner(ScalarOp::Sub, vec![len.into(), Term::Int((hi - lo) as i64)])?
            } else {
                len
            });
        }
        if let Some(n) = &self.n_steps {
            if n.ndim() != 0 || !n.dtype().is_int() {
                return Err(bad(format!("n_steps must be an integer scalar, got {}", n.ty())).into());
            }
            lengths.push(if n.dtype() == DType::I64 {
                n.clone()
            } else {
                elemwise_inner(ScalarOp::Cast(DType::I64), vec![n.clone().into()])?
            });
        }
        let mut lengths = lengths.into_iter();
        let Some(first) = lengths.next() else {
            return Err(bad("give sequences or n_steps: nothing says how many steps to run".into()).into());
        };
        let n =
            lengths.try_fold(first, |a, b| elemwise_inner(ScalarOp::Minimum, vec![a.into(), b.into()]))?;

        let mut args = Vec::new();
        let (mut seq_inner, mut seq_outer) = (Vec::new(), Vec::new());
        for seq in &self.sequences {
            let (lo, _) = tap_span(&seq.taps).expect("checked");
            let row = crate::types::TensorType::new(seq.input.dtype(), seq.input.ty().shape[1..].to_vec());
            let label = seq.input.name().map_or_else(|| "seq".to_string(), |n| n.to_string());
            for &tap in &seq.taps {
                let start = (tap - lo) as i64;
                let stop = if start == 0 {
                    n.clone()
                } else {
                    elemwise_inner(ScalarOp::Add, vec![n.clone().into(), Term::Int(start)])?
                };
                let mut rows = try_subtensor(
                    &seq.input,
                    &[Index::range(Some(SliceBound::Const(start as isize)), Some(stop.into()), 1)],
                )?;
                if self.go_backwards {
                    rows = try_subtensor(&rows, &[Index::rev()])?;
                }
                let p = leaf::input(&format!("{label}[t{tap:+}]"), row.clone());
                args.push(p.clone());
                seq_inner.push(p);
                seq_outer.push(rows);
            }
        }
        // Carries: per fed-back output, one per lag (the first is the output itself).
        struct Carry {
            inner: Var,
            initial: Var,
            /// The next value: an output of the step, or (for a lag) the carry before it.
            next: Option<Var>,
        }
        let mut carries: Vec<Carry> = Vec::new();
        let mut first_carry: Vec<Option<usize>> = Vec::new();
        for (j, info) in self.outputs_info.iter().enumerate() {
            let OutputInfo::Carried { initial, taps } = info else {
                first_carry.push(None);
                continue;
            };
            initial.check()?;
            if taps.is_empty() || taps.iter().any(|&t| t >= 0) {
                return Err(bad(format!(
                    "output {j}: the taps of a fed-back output are negative, got {taps:?}"
                ))
                .into());
            }
            let lag = -taps.iter().min().expect("non-empty");
            let stacked = !(taps.len() == 1 && lag == 1);
            if stacked && initial.ndim() == 0 {
                return Err(bad(format!(
                    "output {j}: taps {taps:?} need initial values stacked along a first axis"
                ))
                .into());
            }
            let row = if stacked {
                crate::types::TensorType::new(initial.dtype(), initial.ty().shape[1..].to_vec())
            } else {
                initial.ty().clone()
            };
            let label = initial.name().map_or_else(|| format!("out{j}"), |n| n.to_string());
            first_carry.push(Some(carries.len()));
            let base = carries.len();
            for back in 1..=lag {
                let init =
                    if stacked { try_subtensor(initial, &[Index::At(-back)])? } else { initial.clone() };
                let inner = leaf::input(&format!("{label}[t-{back}]"), row.clone());
                let next = (back > 1).then(|| carries[base + back as usize - 2].inner.clone());
                carries.push(Carry { inner, initial: init, next });
            }
            for &tap in taps {
                args.push(carries[base + (-tap) as usize - 1].inner.clone());
            }
        }
        args.extend(self.non_sequences.iter().cloned());

        let step = step(&args)?;
        let mut outputs = step.outputs;
        for v in outputs.iter().chain(step.updates.iter().flat_map(|(a, b)| [a, b])).chain(&step.until) {
            v.check()?;
        }
        if self.outputs_info.is_empty() {
            first_carry = vec![None; outputs.len()];
        }
        if outputs.len() != first_carry.len() {
            return Err(bad(format!(
                "the step returned {} outputs for {} entries of outputs_info",
                outputs.len(),
                first_carry.len()
            ))
            .into());
        }
        let mut mapped = Vec::new();
        let mut mapped_of = vec![None; outputs.len()];
        for (j, out) in outputs.drain(..).enumerate() {
            match first_carry[j] {
                Some(k) => {
                    let want = carries[k].inner.ty();
                    if out.dtype() != want.dtype || out.ndim() != want.ndim() {
                        return Err(bad(format!(
                            "output {j} of the step is {}, but its initial value gives {want}: cast one of them",
                            out.ty()
                        ))
                        .into());
                    }
                    carries[k].next = Some(out);
                }
                None => {
                    mapped_of[j] = Some(mapped.len());
                    mapped.push(out);
                }
            }
        }
        // Updated shared variables, explicit and default (random streams), become carries.
        let mut updates: Vec<(Var, Var)> = step.updates;
        let mut roots: Vec<Var> =
            carries.iter().filter_map(|c| c.next.clone()).chain(mapped.iter().cloned()).collect();
        roots.extend(updates.iter().map(|(_, v)| v.clone()));
        roots.extend(step.until.iter().cloned());
        let explicit: Vec<SharedVar> = updates
            .iter()
            .map(|(s, _)| {
                s.as_shared()
                    .cloned()
                    .ok_or_else(|| bad(format!("{} is updated but is not a shared variable", s.describe())))
            })
            .collect::<Result<_, _>>()?;
        updates.extend(super::random::default_updates(&roots, &explicit)?);
        let mut shared_inner: Vec<(SharedVar, Var)> = Vec::new();
        let update_base = carries.len();
        for (s, value) in &updates {
            let cell = s.as_shared().expect("checked").clone();
            let value = if value.dtype() == s.dtype() {
                value.clone()
            } else {
                elemwise_inner(ScalarOp::Cast(s.dtype()), vec![value.clone().into()])?
            };
            if value.ndim() != s.ndim() {
                return Err(bad(format!(
                    "the update of {} is {}, not of its type {}",
                    s.describe(),
                    value.ty(),
                    s.ty()
                ))
                .into());
            }
            let inner = leaf::input(&format!("{}[t-1]", cell.name()), s.ty().clone());
            shared_inner.push((cell, inner.clone()));
            carries.push(Carry { inner, initial: s.clone(), next: Some(value) });
        }
        let until = step
            .until
            .map(|c| {
                if c.ndim() == 0 {
                    Ok(c)
                } else {
                    Err(bad(format!("until takes a 0-d condition, got {}", c.ty())))
                }
            })
            .transpose()?;

        // The step's graph, closed: shared variables updated by it read their carry, and what
        // does not change from step to step is computed outside and passed in.
        let mut outs: Vec<Var> =
            carries.iter().map(|c| c.next.clone().expect("every carry has its next value")).collect();
        outs.extend(mapped);
        outs.extend(until.iter().cloned());
        let placeholders: HashSet<usize> =
            seq_inner.iter().chain(carries.iter().map(|c| &c.inner)).map(Var::key).collect();
        let mut replace: Vec<(Var, Var)> = Vec::new();
        for leaf in leaves(&outs) {
            if let Some((_, inner)) = leaf.as_shared().and_then(|s| shared_inner.iter().find(|(c, _)| c == s))
            {
                replace.push((leaf.clone(), inner.clone()));
            }
        }
        let outs = super::clone_replace(&outs, &replace)?;
        let mut non_seq_outer = Vec::new();
        let mut non_seq_inner = Vec::new();
        let mut hoist = Vec::new();
        for v in invariants(&outs, &placeholders) {
            let p = leaf::input(
                &v.name().map_or_else(|| format!("invariant{}", non_seq_inner.len()), |n| n.to_string()),
                v.ty().clone(),
            );
            hoist.push((v.clone(), p.clone()));
            non_seq_outer.push(v);
            non_seq_inner.push(p);
        }
        let outs = super::clone_replace(&outs, &hoist)?;
        // Products of sequence rows by invariants: computed for every step at once, outside.
        let seqs: Vec<(Var, Var)> = seq_inner.iter().cloned().zip(seq_outer.iter().cloned()).collect();
        let invs: Vec<(Var, Var)> =
            non_seq_inner.iter().cloned().zip(non_seq_outer.iter().cloned()).collect();
        let (outs, pushed) = push_out(&outs, &seqs, &invs)?;
        for (inner, outer) in pushed {
            seq_inner.push(inner);
            seq_outer.push(outer);
        }
        // Sequences and non-sequences the step no longer reads are not passed (the carries
        // stay: each is an output too).
        let read: HashSet<usize> = leaves(&outs).iter().map(Var::key).collect();
        let keep = |inner: &mut Vec<Var>, outer: &mut Vec<Var>| {
            let kept: Vec<(Var, Var)> =
                inner.drain(..).zip(outer.drain(..)).filter(|(i, _)| read.contains(&i.key())).collect();
            for (i, o) in kept {
                inner.push(i);
                outer.push(o);
            }
        };
        keep(&mut seq_inner, &mut seq_outer);
        keep(&mut non_seq_inner, &mut non_seq_outer);

        let n_carries = carries.len();
        let n_mapped = outs.len() - n_carries - usize::from(until.is_some());
        let inputs =
            seq_inner.iter().chain(carries.iter().map(|c| &c.inner)).chain(&non_seq_inner).cloned().collect();
        let info = ScanStep { inputs, outputs: outs }.into_info(
            seq_inner.len(),
            n_carries,
            until.is_some(),
            self.truncate_gradient,
            false,
            name,
        );
        let mut node_inputs = vec![n];
        node_inputs.extend(seq_outer);
        node_inputs.extend(carries.iter().map(|c| c.initial.clone()));
        node_inputs.extend(non_seq_outer);
        let scan = ScanRef(Arc::new(info));
        let node = apply_inner(Op::Scan(scan.clone()), node_inputs)?;
        let out =
            |index: usize| apply_inner(Op::ScanOutput { scan: scan.clone(), index }, vec![node.clone()]);
        let outputs = (0..first_carry.len())
            .map(|j| match (first_carry[j], mapped_of[j]) {
                (Some(k), _) => out(1 + k),
                (None, Some(m)) => out(1 + n_carries + m),
                (None, None) => unreachable!("each output is carried or mapped"),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let updates = updates
            .iter()
            .enumerate()
            .map(|(u, (s, _))| Ok((s.clone(), out(1 + n_carries + n_mapped + update_base + u)?)))
            .collect::<Result<Vec<_>, BuildError>>()?;
        Ok(ScanResult { outputs, updates })
    }
}

/// Where a sub-expression of the step can be computed.
enum Place {
    /// From sequence rows and invariants alone: its value at every step, `(steps, …)`,
    /// computed outside (with whether it holds a product, which makes moving it worth it).
    Seq(Var, bool),
    /// The same at every step: its value outside.
    Inv(Var),
    /// Only in the loop.
    Loop,
}

/// The step's sub-expressions computed from sequence rows and invariants alone through
/// elementwise ops and products by an invariant (`dot(x_t, W) + b`), moved out of the loop:
/// each is computed for every step at once — one large product instead of one small product
/// per step, in the forward loop and in its gradient — and read as a new sequence (as
/// PyTensor's `scan_pushout_seqs_ops`, extended to products). `seqs` and `invs` pair the
/// placeholders with their outer values. Returns the step's new outputs and the new
/// sequences `(placeholder, outer value)`.
#[allow(clippy::type_complexity)]
fn push_out(
    outs: &[Var],
    seqs: &[(Var, Var)],
    invs: &[(Var, Var)],
) -> Result<(Vec<Var>, Vec<(Var, Var)>), BuildError> {
    let mut place: HashMap<usize, Place> = HashMap::new();
    let order = crate::var::post_order(outs, |_| true);
    for v in &order {
        let ins: Vec<&Place> = v.inputs().iter().map(|i| &place[&i.key()]).collect();
        let outer = |p: &Place| match p {
            Place::Seq(o, _) | Place::Inv(o) => Some(o.clone()),
            Place::Loop => None,
        };
        let p = if let Some((_, o)) = seqs.iter().find(|(i, _)| i.same(v)) {
            Place::Seq(o.clone(), false)
        } else if let Some((_, o)) = invs.iter().find(|(i, _)| i.same(v)) {
            Place::Inv(o.clone())
        } else if matches!(v.op(), Op::Constant(_)) {
            Place::Inv(v.clone())
        } else if !ins.is_empty() && ins.iter().all(|p| matches!(p, Place::Inv(_))) && !v.op().is_random() {
            // The same op outside, on the inputs' outer values.
            let ins = ins.iter().map(|p| outer(p).expect("invariant")).collect();
            Place::Inv(apply_inner(v.op().clone(), ins)?)
        } else {
            match (v.op(), ins.as_slice()) {
                (Op::Elemwise(op), _)
                    if ins.iter().all(|p| !matches!(p, Place::Loop))
                        && v.inputs()
                            .iter()
                            .zip(&ins)
                            .all(|(i, p)| !matches!(p, Place::Seq(..)) || i.ndim() == v.ndim()) =>
                {
                    let terms = ins.iter().map(|p| Term::Var(outer(p).expect("not in the loop"))).collect();
                    let dot = ins.iter().any(|p| matches!(p, Place::Seq(_, true)));
                    Place::Seq(elemwise_inner(*op, terms)?, dot)
                }
                (Op::Dot, [Place::Seq(a, _), Place::Inv(b)]) if v.inputs()[1].ndim() <= 2 => {
                    Place::Seq(super::products::dot(a, b).checked()?, true)
                }
                _ => Place::Loop,
            }
        };
        place.insert(v.key(), p);
    }
    // Moved: each product-holding expression a loop-bound node (or an output) reads.
    let movable = |v: &Var| !v.inputs().is_empty() && matches!(place[&v.key()], Place::Seq(_, true));
    let mut replace: Vec<(Var, Var)> = Vec::new();
    let mut pushed: Vec<(Var, Var)> = Vec::new();
    let mut take = |v: &Var| {
        if movable(v) && !replace.iter().any(|(r, _)| r.same(v)) {
            let Place::Seq(outer, _) = &place[&v.key()] else { unreachable!("movable") };
            let p = leaf::input(&format!("pushed{}[t]", pushed.len()), v.ty().clone());
            replace.push((v.clone(), p.clone()));
            pushed.push((p, outer.clone()));
        }
    };
    for v in order.iter().filter(|v| matches!(place[&v.key()], Place::Loop)) {
        v.inputs().iter().for_each(&mut take);
    }
    outs.iter().for_each(&mut take);
    if replace.is_empty() {
        return Ok((outs.to_vec(), pushed));
    }
    Ok((super::clone_replace(outs, &replace)?, pushed))
}

/// The lowest and highest tap (`None` for no taps).
fn tap_span(taps: &[isize]) -> Option<(isize, isize)> {
    Some((*taps.iter().min()?, *taps.iter().max()?))
}

/// The leaves (inputs, shared variables) of the graphs of `roots`, each once.
fn leaves(roots: &[Var]) -> Vec<Var> {
    let mut out = crate::var::post_order(roots, |_| true);
    out.retain(|v| matches!(v.op(), Op::Input | Op::Shared(_)));
    out
}

/// The largest sub-expressions of `roots` that read no placeholder yet read a variable (an
/// input, a shared variable or a random draw): the loop invariants to compute outside.
/// Expressions of constants alone stay inside, where the optimizer folds them.
fn invariants(roots: &[Var], placeholders: &HashSet<usize>) -> Vec<Var> {
    // Whether each node reads a placeholder, and whether it reads a variable.
    let mut varies: HashMap<usize, bool> = HashMap::new();
    let mut reads: HashMap<usize, bool> = HashMap::new();
    let order = crate::var::post_order(roots, |_| true);
    for v in &order {
        let ins = v.inputs();
        let vary = placeholders.contains(&v.key()) || ins.iter().any(|i| varies[&i.key()]);
        let read = matches!(v.op(), Op::Input | Op::Shared(_) | Op::Random(_))
            || ins.iter().any(|i| reads[&i.key()]);
        varies.insert(v.key(), vary);
        reads.insert(v.key(), read);
    }
    let hoisted = |v: &Var| !varies[&v.key()] && reads[&v.key()];
    let mut out: Vec<Var> = Vec::new();
    let mut taken = HashSet::new();
    let mut take = |v: &Var, out: &mut Vec<Var>| {
        if taken.insert(v.key()) {
            out.push(v.clone());
        }
    };
    for r in roots {
        if hoisted(r) {
            take(r, &mut out);
        }
    }
    for v in &order {
        if varies[&v.key()] {
            for i in v.inputs() {
                if hoisted(i) {
                    take(i, &mut out);
                }
            }
        }
    }
    out
}
