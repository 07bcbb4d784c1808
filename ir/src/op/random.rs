//! Random draws (`Op::Random`): what a draw is, its text spelling, and its type rule.
//!
//! A draw reads a generator state — an int64 vector `[key, counter]` — and computes a
//! sample as a pure function of it: element `i` of a draw comes from the Philox4x32-10
//! blocks at `counter + i / per_block` (see `kernels::random`), so the same state gives the
//! same sample whatever the thread count or engine. The state does not change by itself: a
//! function advances it by an ordinary update expression (`build::random::advance`), added
//! for every draw whose state is a shared variable the user does not update.
//!
//! Inputs: the state, then the distribution's parameters (`Distribution::params`, each
//! broadcasting against the size), then one integer scalar per `Dim::Input` of the size, as
//! in `Op::Alloc`.

use super::{Dim, Rule};
use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::types::{shape_fits, TensorType};

/// What a draw samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Distribution {
    /// Uniform on `[low, high)`: parameters `low, high`; a float result.
    Uniform,
    /// Normal with mean `avg` and standard deviation `std` (Box–Muller): parameters `avg,
    /// std`; a float result. With `truncate` every sample is within two standard deviations
    /// of the mean (Theano's MRG `normal(truncate=True)`): a standard sample of magnitude
    /// over 2 keeps its Box–Muller angle and takes a new radius `sqrt(-2 ln u)`, `u` uniform
    /// on `[e^-2, 1)`.
    Normal {
        /// Samples beyond two standard deviations are drawn again (see above).
        truncate: bool,
    },
    /// Successes among `n` trials of probability `p`: parameters `n` (integer), `p`.
    Binomial,
    /// Integers uniform on `[low, high]`, both ends included (Theano's `random_integers`):
    /// parameters `low, high`.
    Integers,
    /// Positions in `0..n` (parameter `n`, an integer scalar), each with the probability the
    /// vector `p` gives when `weighted` (a second parameter), all alike otherwise; with
    /// `replace: false` the positions of one draw are distinct (NumPy's `choice`). A
    /// weighted draw may take a matrix `p`, one distribution over `0..n` per row (Theano's
    /// MRG `choice(p=matrix)`): the result has one more axis in front, the rows, and each
    /// row draws the size's elements from its own distribution (distinct within the row
    /// without `replace`).
    Choice {
        /// Positions may repeat.
        replace: bool,
        /// The probabilities are a parameter.
        weighted: bool,
    },
    /// One permutation of `0..n` per element of the size: the result has one more axis, of
    /// length `n` (parameter `n`, an integer scalar).
    Permutation,
    /// Counts of `n` draws among the categories of `pvals` (their last axis): parameters `n`
    /// and `pvals`; the result has one more axis, the categories.
    Multinomial,
}

impl Distribution {
    /// Its name in the text form and `pp`.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Normal { truncate: false } => "normal",
            Distribution::Normal { truncate: true } => "normal_truncated",
            Distribution::Binomial => "binomial",
            Distribution::Integers => "random_integers",
            Distribution::Choice { replace: true, weighted: false } => "choice",
            Distribution::Choice { replace: true, weighted: true } => "choice_weighted",
            Distribution::Choice { replace: false, weighted: false } => "choice_distinct",
            Distribution::Choice { replace: false, weighted: true } => "choice_weighted_distinct",
            Distribution::Permutation => "permutation",
            Distribution::Multinomial => "multinomial",
        }
    }

    /// Every distribution, for the parser.
    pub const ALL: [Distribution; 11] = [
        Distribution::Uniform,
        Distribution::Normal { truncate: false },
        Distribution::Normal { truncate: true },
        Distribution::Binomial,
        Distribution::Integers,
        Distribution::Choice { replace: true, weighted: false },
        Distribution::Choice { replace: true, weighted: true },
        Distribution::Choice { replace: false, weighted: false },
        Distribution::Choice { replace: false, weighted: true },
        Distribution::Permutation,
        Distribution::Multinomial,
    ];

    /// The distribution of a name.
    pub fn from_name(name: &str) -> Option<Distribution> {
        Distribution::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The names of its parameters, in input order.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Distribution::Uniform | Distribution::Integers => &["low", "high"],
            Distribution::Normal { .. } => &["avg", "std"],
            Distribution::Binomial => &["n", "p"],
            Distribution::Choice { weighted: true, .. } => &["n", "p"],
            Distribution::Choice { weighted: false, .. } | Distribution::Permutation => &["n"],
            Distribution::Multinomial => &["n", "pvals"],
        }
    }

    /// Elements of the result that one Philox block serves (each element, or each unit of
    /// a joint draw, owns one slot; `dtype` is the result's).
    pub fn per_block(self, dtype: DType) -> usize {
        match self {
            Distribution::Uniform | Distribution::Normal { .. } if dtype == DType::F32 => 4,
            _ => 2,
        }
    }
}

/// One draw: its distribution, result dtype, size, and stream number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RandomDraw {
    /// What it samples.
    pub dist: Distribution,
    /// The result's dtype.
    pub dtype: DType,
    /// The size: the result's axes (permutations and multinomials add one more after it, a
    /// choice by the rows of a probability matrix one before it).
    pub shape: Vec<Dim>,
    /// Which of the draws built on one state this is: draws on one state read distinct
    /// Philox counters (word 3 of the counter), so two draws are never one value and are
    /// never merged.
    pub stream: u32,
}

impl RandomDraw {
    /// True when each element of the result is drawn on its own from its own slot (uniform,
    /// normal, binomial, integers, choice among equally likely items with replacement): the
    /// result has the size's shape, and any run of its elements can be generated alone.
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self.dist,
            Distribution::Uniform
                | Distribution::Normal { .. }
                | Distribution::Binomial
                | Distribution::Integers
                | Distribution::Choice { replace: true, weighted: false }
        )
    }

    /// The parameters of the text form: `uniform, float64, [3,?]`, and `, stream=k` when `k`
    /// is not 0.
    pub fn fmt_params(&self) -> String {
        let stream = if self.stream == 0 { String::new() } else { format!(", stream={}", self.stream) };
        format!("{}, {}, {}{stream}", self.dist.name(), self.dtype, super::fmt_alloc(&self.shape))
    }
}

/// The type of a draw: the state (an int64 vector), the parameters, the lengths.
pub(super) fn random(r: &Rule<'_>, d: &RandomDraw) -> Result<TensorType, BuildErrorKind> {
    let params = d.dist.params();
    let wanted = d.shape.iter().filter(|x| **x == Dim::Input).count();
    if r.ins.len() != 1 + params.len() + wanted {
        return Err(r.invalid(format!(
            "takes the state, {} parameter(s) ({}) and {wanted} length(s), got {} inputs",
            params.len(),
            params.join(", "),
            r.ins.len()
        )));
    }
    let state = &r.ins[0];
    if state.ty.ndim() != 1 || state.ty.dtype != DType::I64 || state.ty.shape[0].is_some_and(|n| n != 2) {
        return Err(dtype_err(r, state, "an int64 vector [key, counter] (a generator state)"));
    }
    let ps = &r.ins[1..1 + params.len()];
    if let Some(o) = r.ins[1 + params.len()..].iter().find(|o| o.ty.ndim() != 0 || !o.ty.dtype.is_int()) {
        return Err(dtype_err(r, o, "an integer scalar length"));
    }
    let size: Vec<Option<usize>> = d
        .shape
        .iter()
        .map(|x| match x {
            Dim::Fixed(n) => Some(*n),
            Dim::Input => None,
        })
        .collect();
    let numeric = |o: &Operand| o.ty.dtype != DType::Bool;
    let int = |o: &Operand| o.ty.dtype.is_int();
    // Parameters broadcast against the size, aligned on its last axes.
    let fits = |o: &Operand, ndim: usize| -> Result<(), BuildErrorKind> {
        if o.ty.ndim() > ndim {
            return Err(r.rank(o, &format!("at most {ndim} (the size's)")));
        }
        let pad = ndim - o.ty.ndim();
        for (a, len) in o.ty.shape.iter().enumerate() {
            if let (Some(m), Some(n)) = (len, size[pad + a]) {
                if *m != 1 && *m != n {
                    return Err(
                        r.invalid(format!("{o} does not broadcast to length {n} on axis {}", pad + a))
                    );
                }
            }
        }
        Ok(())
    };
    let mut shape = size.clone();
    match d.dist {
        Distribution::Uniform | Distribution::Normal { .. } => {
            if !d.dtype.is_float() {
                return Err(r.invalid(format!("draws floats, not {}", d.dtype)));
            }
            for p in ps {
                if !numeric(p) {
                    return Err(dtype_err(r, p, "a numeric parameter"));
                }
                fits(p, size.len())?;
            }
        }
        Distribution::Binomial | Distribution::Integers => {
            if d.dtype == DType::Bool || (d.dist == Distribution::Integers && !d.dtype.is_int()) {
                return Err(r.invalid(format!("cannot draw {}", d.dtype)));
            }
            let (first, second) = (&ps[0], &ps[1]);
            if !int(first) {
                return Err(dtype_err(r, first, "an integer parameter"));
            }
            if d.dist == Distribution::Integers && !int(second) {
                return Err(dtype_err(r, second, "an integer parameter"));
            }
            if !numeric(second) {
                return Err(dtype_err(r, second, "a numeric parameter"));
            }
            fits(first, size.len())?;
            fits(second, size.len())?;
        }
        Distribution::Choice { .. } | Distribution::Permutation => {
            if !d.dtype.is_int() {
                return Err(r.invalid(format!("draws integer positions, not {}", d.dtype)));
            }
            let n = &ps[0];
            if n.ty.ndim() != 0 || !int(n) {
                return Err(dtype_err(r, n, "an integer scalar (the number of items)"));
            }
            if let Distribution::Choice { weighted: true, .. } = d.dist {
                let p = &ps[1];
                if !(1..=2).contains(&p.ty.ndim()) || !numeric(p) {
                    return Err(dtype_err(r, p, "a vector of probabilities, or a matrix of one per row"));
                }
                if p.ty.ndim() == 2 {
                    shape.insert(0, p.ty.shape[0]);
                }
            }
            if d.dist == Distribution::Permutation {
                shape.push(None);
            }
        }
        Distribution::Multinomial => {
            if d.dtype == DType::Bool {
                return Err(r.invalid("cannot draw counts as bool".into()));
            }
            let (n, pvals) = (&ps[0], &ps[1]);
            if !int(n) {
                return Err(dtype_err(r, n, "an integer parameter"));
            }
            fits(n, size.len())?;
            if pvals.ty.ndim() == 0 || !numeric(pvals) {
                return Err(dtype_err(r, pvals, "probabilities with the categories on the last axis"));
            }
            let lead = Operand {
                name: pvals.name.clone(),
                ty: TensorType::new(pvals.ty.dtype, pvals.ty.shape[..pvals.ty.ndim() - 1].to_vec()),
            };
            fits(&lead, size.len())?;
            shape.push(*pvals.ty.shape.last().expect("rank checked"));
        }
    }
    if !shape_fits(&shape.iter().flatten().copied().collect::<Vec<_>>()) {
        return Err(r.invalid("the size is too large (its element count overflows)".into()));
    }
    Ok(TensorType::new(d.dtype, shape))
}

fn dtype_err(r: &Rule<'_>, o: &Operand, expected: &str) -> BuildErrorKind {
    BuildErrorKind::DType { op: r.name.clone(), operand: o.clone(), expected: expected.into() }
}
