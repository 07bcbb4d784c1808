//! Random streams (Theano's `RandomStreams` and `MRG_RandomStreams`): draws of uniform,
//! normal, binomial, integer, choice, permutation and multinomial samples, each reading a
//! generator state held by a shared variable.
//!
//! A draw is `Op::Random` on its state `[key, counter]` (see `op::random` and
//! `kernels::random`): a pure function of the state, so the same state gives the same
//! sample on any engine and thread count. What makes a stream a stream is the state's
//! update, [`advance`]: `state + [0, blocks the draw used]`, an ordinary expression that
//! `function` adds for every draw whose state is a shared variable the function does not
//! update itself (Theano's `default_update`). Nothing here holds a reference cycle: the state
//! is a plain shared variable, and the update is built when a function is compiled.

use super::elemwise::{elemwise, term_var, Term};
use super::shape::Length;
use crate::build::leaf::{constant, shared_with_type};
use crate::dtype::DType;
use crate::error::BuildError;
use crate::op::{Dim, Distribution, Idx, IndexEntry, Op, RandomDraw, ScalarOp};
use crate::shared::SharedVar;
use crate::types::TensorType;
use crate::value::Tensor;
use crate::var::Var;
use std::sync::{Arc, Mutex, MutexGuard};

/// The size of a draw (Theano's `size`): fixed or symbolic lengths, a symbolic int vector
/// such as `x.shape`, or the parameters' broadcast shape.
#[derive(Clone, Debug)]
pub enum Size {
    /// The shape the parameters broadcast to (Theano's `size=None`); a scalar for `choice`
    /// and `permutation`.
    Params,
    /// One length per axis.
    Lengths(Vec<Length>),
    /// An integer vector whose length is known when building (`shape(&x)`).
    Vector(Var),
}

impl From<&[usize]> for Size {
    fn from(s: &[usize]) -> Size {
        Size::Lengths(s.iter().map(|&n| Length::Fixed(n)).collect())
    }
}
impl From<Vec<usize>> for Size {
    fn from(s: Vec<usize>) -> Size {
        Size::from(&s[..])
    }
}
impl<const N: usize> From<[usize; N]> for Size {
    fn from(s: [usize; N]) -> Size {
        Size::from(&s[..])
    }
}
impl From<usize> for Size {
    fn from(n: usize) -> Size {
        Size::from(&[n][..])
    }
}
impl From<Vec<Length>> for Size {
    fn from(s: Vec<Length>) -> Size {
        Size::Lengths(s)
    }
}
impl From<&[Length]> for Size {
    fn from(s: &[Length]) -> Size {
        Size::Lengths(s.to_vec())
    }
}
impl From<Var> for Size {
    fn from(v: Var) -> Size {
        Size::Vector(v)
    }
}
impl From<&Var> for Size {
    fn from(v: &Var) -> Size {
        Size::Vector(v.clone())
    }
}

/// The axes of a size and the length inputs of its symbolic ones.
fn resolve(size: Size, params: &[Var], dist: Distribution) -> Result<(Vec<Dim>, Vec<Var>), BuildError> {
    let lengths: Vec<Length> = match size {
        Size::Lengths(l) => l,
        Size::Vector(v) => {
            v.check()?;
            if v.ndim() != 1 || !v.dtype().is_int() {
                return Err(BuildError::invalid(
                    dist.name(),
                    format!("a size must be an integer vector, got {}", v.operand()),
                ));
            }
            if let Op::Shape = v.op() {
                let x = &v.inputs()[0];
                (0..x.ndim()).map(|k| Length::Var(crate::build::shape::shape_i(x, k as isize))).collect()
            } else if let Some(t) = v.constant_value() {
                t.cast(DType::I64)
                    .to_vec::<i64>()
                    .map_err(|e| BuildError::invalid(dist.name(), e.to_string()))?
                    .into_iter()
                    .map(|n| {
                        usize::try_from(n).map(Length::Fixed).map_err(|_| {
                            BuildError::invalid(dist.name(), format!("a size has the negative length {n}"))
                        })
                    })
                    .collect::<Result<_, _>>()?
            } else {
                let Some(n) = v.ty().shape[0] else {
                    return Err(BuildError::invalid(
                        dist.name(),
                        format!("the length of the size {} must be known when building", v.describe()),
                    ));
                };
                (0..n)
                    .map(|k| {
                        let at = vec![IndexEntry::At(Idx::Const(k as isize))];
                        super::apply_inner(Op::Subtensor { index: at }, vec![v.clone()]).map(Length::Var)
                    })
                    .collect::<Result<_, _>>()?
            }
        }
        Size::Params => params_shape(params, dist)?,
    };
    let mut dims = Vec::with_capacity(lengths.len());
    let mut inputs = Vec::new();
    for l in lengths {
        match l {
            Length::Fixed(n) => dims.push(Dim::Fixed(n)),
            Length::Var(v) => {
                v.check()?;
                match v.constant_value() {
                    Some(t) if t.ndim() == 0 && t.dtype().is_int() && t.to_f64().is_ok_and(|n| n >= 0.0) => {
                        dims.push(Dim::Fixed(t.to_f64().expect("checked") as usize))
                    }
                    _ => {
                        dims.push(Dim::Input);
                        inputs.push(v);
                    }
                }
            }
        }
    }
    Ok((dims, inputs))
}

/// The shape the parameters broadcast to: on each axis (aligned on the last), a fixed
/// length some parameter has, or the length of a parameter that does not broadcast there.
fn params_shape(params: &[Var], dist: Distribution) -> Result<Vec<Length>, BuildError> {
    let params: Vec<Var> = match dist {
        Distribution::Choice { .. } | Distribution::Permutation => return Ok(Vec::new()),
        // The categories' axis is the draw's own.
        Distribution::Multinomial => {
            let pvals = &params[1];
            let lead = if pvals.ndim() == 0 {
                pvals.clone()
            } else {
                super::apply_inner(
                    Op::Subtensor {
                        index: vec![IndexEntry::FULL; pvals.ndim() - 1]
                            .into_iter()
                            .chain([IndexEntry::At(Idx::Const(0))])
                            .collect(),
                    },
                    vec![pvals.clone()],
                )?
            };
            vec![params[0].clone(), lead]
        }
        _ => params.to_vec(),
    };
    let ndim = params.iter().map(Var::ndim).max().unwrap_or(0);
    let mut out = Vec::with_capacity(ndim);
    for axis in 0..ndim {
        let mut length = Length::Fixed(1);
        for p in &params {
            let Some(a) = (axis + p.ndim()).checked_sub(ndim) else { continue };
            match p.ty().shape[a] {
                Some(1) => {}
                Some(n) => {
                    length = Length::Fixed(n);
                    break;
                }
                None => {
                    if matches!(length, Length::Fixed(1)) {
                        length = Length::Var(crate::build::shape::shape_i(p, a as isize));
                    }
                }
            }
        }
        out.push(length);
    }
    Ok(out)
}

/// A draw of `dist` on the generator state `state` (an int64 vector `[key, counter]`):
/// `dtype` results of `size`, the distribution's parameters in order
/// (`Distribution::params`), and its stream number (draws on one state with distinct
/// stream numbers are independent; the same inputs and stream give the same sample). The
/// state does not advance by itself: see [`advance`] and the streams of
/// [`RandomStreams`].
#[track_caller]
pub fn random_draw(
    state: &Var,
    dist: Distribution,
    dtype: DType,
    size: impl Into<Size>,
    params: Vec<Term>,
    stream: u32,
) -> Var {
    Var::from_result(draw_inner(state, dist, dtype, size.into(), params, stream))
}

fn draw_inner(
    state: &Var,
    dist: Distribution,
    dtype: DType,
    size: Size,
    params: Vec<Term>,
    stream: u32,
) -> Result<Var, BuildError> {
    state.check()?;
    let wanted = dist.params().len();
    if params.len() != wanted {
        return Err(BuildError::invalid(
            dist.name(),
            format!("takes {wanted} parameter(s) ({}), got {}", dist.params().join(", "), params.len()),
        ));
    }
    let params: Vec<Var> = params.into_iter().map(term_var).collect();
    for p in &params {
        p.check()?;
    }
    let (shape, lengths) = resolve(size, &params, dist)?;
    let mut inputs = vec![state.clone()];
    inputs.extend(params);
    inputs.extend(lengths);
    super::apply_inner(Op::Random(RandomDraw { dist, dtype, shape, stream }), inputs)
}

/// The number of Philox blocks `draw` uses, an int64 scalar (`ceil(elements / per_block)`).
pub fn blocks_used(draw: &Var) -> Result<Var, BuildError> {
    draw.check()?;
    let Op::Random(d) = draw.op() else {
        return Err(BuildError::invalid("advance", format!("{} is not a random draw", draw.describe())));
    };
    let n_params = d.dist.params().len();
    let ins = draw.inputs();
    let mut fixed: i64 = 1;
    let mut symbolic: Vec<Var> = Vec::new();
    let mut lengths = ins[1 + n_params..].iter();
    for x in &d.shape {
        match x {
            Dim::Fixed(n) => fixed = fixed.wrapping_mul(*n as i64),
            Dim::Input => symbolic.push(lengths.next().expect("typed: one input per length").clone()),
        }
    }
    match d.dist {
        Distribution::Permutation => symbolic.push(ins[1].clone()),
        // A choice by the rows of a probability matrix: its picks for every row.
        Distribution::Choice { weighted: true, .. } if ins[2].ndim() == 2 => {
            match draw.ty().shape.first().copied().flatten() {
                Some(rows) => fixed = fixed.wrapping_mul(rows as i64),
                None => symbolic.push(crate::build::shape::shape_i(&ins[2], 0)),
            }
        }
        Distribution::Multinomial => match draw.ty().shape.last().copied().flatten() {
            Some(k) => fixed = fixed.wrapping_mul(k as i64),
            None => symbolic.push(crate::build::shape::shape_i(&ins[2], -1)),
        },
        _ => {}
    }
    let per = d.dist.per_block(d.dtype) as i64;
    if symbolic.is_empty() {
        return Ok(constant(Tensor::from(fixed.div_euclid(per) + (fixed.rem_euclid(per) != 0) as i64)));
    }
    let mut elements = constant(Tensor::from(fixed));
    for s in symbolic {
        let s = if s.dtype() == DType::I64 { s } else { s.cast(DType::I64) };
        elements = elemwise(ScalarOp::Mul, vec![Term::Var(elements), Term::Var(s)]);
    }
    let rounded =
        elemwise(ScalarOp::Add, vec![Term::Var(elements), Term::Var(constant(Tensor::from(per - 1)))]);
    elemwise(ScalarOp::IntDiv, vec![Term::Var(rounded), Term::Var(constant(Tensor::from(per)))]).checked()
}

/// The update of the generator state `state` after `draws` (draws on it, each with its own
/// stream): `state + [0, blocks]`, the counter moved past the most blocks any of them uses,
/// so the next call draws new numbers.
pub fn advance(state: &Var, draws: &[Var]) -> Result<Var, BuildError> {
    state.check()?;
    let mut blocks: Option<Var> = None;
    for d in draws {
        let b = blocks_used(d)?;
        blocks = Some(match blocks {
            None => b,
            Some(a) => elemwise(ScalarOp::Maximum, vec![Term::Var(a), Term::Var(b)]).checked()?,
        });
    }
    let blocks = blocks.unwrap_or_else(|| constant(Tensor::from(0i64)));
    let zero = constant(Tensor::from(0i64));
    let step = crate::build::shape::stack(&[zero, blocks], 0).checked()?;
    elemwise(ScalarOp::Add, vec![Term::Var(state.clone()), Term::Var(step)]).checked()
}

/// The default updates of what `roots` read: every shared variable not in `skip` with a
/// default update of its own (`Var::set_default_update`) gets it; every other generator
/// state that is a shared variable not in `skip` advances past every random draw on it
/// (`tensorlift_ir::advance`). In the order the variables are first met; the updates' own
/// graphs are followed too.
pub fn default_updates(roots: &[Var], skip: &[SharedVar]) -> Result<Vec<(Var, Var)>, BuildError> {
    let mut draws: Vec<(Var, Vec<Var>)> = Vec::new();
    let mut own: Vec<(Var, Var)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<Var> = roots.iter().rev().cloned().collect();
    let taken = |cell: &SharedVar, own: &[(Var, Var)]| {
        skip.contains(cell) || own.iter().any(|(s, _)| s.as_shared() == Some(cell))
    };
    while let Some(v) = stack.pop() {
        if !seen.insert(v.key()) {
            continue;
        }
        if v.as_shared().is_some_and(|c| !taken(c, &own)) {
            if let Some(update) = v.default_update() {
                // Its update may read more variables with default updates.
                stack.push(update.clone());
                own.push((v.clone(), update));
            }
        }
        if let Some(state) = v.random_state() {
            if let Some(cell) = state.as_shared().filter(|c| !skip.contains(c)) {
                match draws.iter_mut().find(|(s, _)| s.as_shared() == Some(cell)) {
                    Some((_, ds)) => ds.push(v.clone()),
                    None => draws.push((state.clone(), vec![v.clone()])),
                }
            }
        }
        stack.extend(v.inputs().iter().rev().cloned());
    }
    let mut out = own.clone();
    for (state, ds) in draws {
        let cell = state.as_shared().expect("a shared state");
        if !own.iter().any(|(s, _)| s.as_shared() == Some(cell)) {
            let update = advance(&state, &ds)?;
            out.push((state, update));
        }
    }
    Ok(out)
}

impl Var {
    /// The generator state a random draw reads (Theano's `draw.rng`), `None` for other
    /// variables.
    pub fn random_state(&self) -> Option<&Var> {
        match self.op() {
            Op::Random(_) => self.inputs().first(),
            _ => None,
        }
    }
}

/// The key of stream `index` of a `RandomStreams` seeded with `seed` (SplitMix64 of both):
/// distinct streams have unrelated keys.
pub fn stream_key(seed: u64, index: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    mix(mix(seed) ^ index)
}

/// A generator state `[key, counter]` for a key, the counter at 0.
pub fn state_value(key: u64) -> Tensor {
    Tensor::from(vec![key as i64, 0])
}

/// Theano's `RandomStreams` (and `MRG_RandomStreams`): a seed, and one generator state per
/// draw made from it — a shared int64 vector `[key, counter]` whose key comes from the seed
/// and the draw's number. A function that computes a draw advances its state on every call
/// (its default update), so every call draws new numbers; [`seed`](Self::seed) reseeds every
/// state, and a state's `get_value`/`set_value` saves and restores it.
///
/// ```
/// use tensorlift_ir::RandomStreams;
/// let rng = RandomStreams::new(42);
/// let u = rng.uniform([2, 3], 0.0, 1.0);
/// assert_eq!(u.ty().shape, vec![Some(2), Some(3)]);
/// assert!(u.random_state().is_some());
/// ```
#[derive(Clone, Debug)]
pub struct RandomStreams(Arc<Mutex<Streams>>);

#[derive(Debug)]
struct Streams {
    seed: u64,
    /// Each draw and its state, in the order they were made.
    draws: Vec<(Var, Var)>,
}

impl RandomStreams {
    /// Streams seeded with `seed`.
    pub fn new(seed: u64) -> RandomStreams {
        RandomStreams(Arc::new(Mutex::new(Streams { seed, draws: Vec::new() })))
    }

    fn lock(&self) -> MutexGuard<'_, Streams> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The seed the states were last set from.
    pub fn current_seed(&self) -> u64 {
        self.lock().seed
    }

    /// Reseeds every state made so far (and the seed of those to come): state `k` becomes
    /// `[stream_key(seed, k), 0]`.
    pub fn seed(&self, seed: u64) {
        let mut s = self.lock();
        s.seed = seed;
        for (k, (_, state)) in s.draws.iter().enumerate() {
            state.set_value(state_value(stream_key(seed, k as u64))).expect("a state holds an int64 pair");
        }
    }

    /// The generator states made so far, one per draw, in order.
    pub fn states(&self) -> Vec<Var> {
        self.lock().draws.iter().map(|(_, s)| s.clone()).collect()
    }

    /// Every state with its update (Theano's `state_updates`): what `function` adds by
    /// itself unless told not to.
    pub fn state_updates(&self) -> Result<Vec<(Var, Var)>, BuildError> {
        let draws = self.lock().draws.clone();
        draws.into_iter().map(|(d, s)| Ok((s.clone(), advance(&s, &[d])?))).collect()
    }

    /// A draw of `dist` with its own new state (the general form of the methods below).
    #[track_caller]
    pub fn draw(&self, dist: Distribution, dtype: DType, size: impl Into<Size>, params: Vec<Term>) -> Var {
        let size = size.into();
        let mut s = self.lock();
        let k = s.draws.len();
        let name = format!("random_state_{k}");
        let state = match shared_with_type(
            state_value(stream_key(s.seed, k as u64)),
            &name,
            TensorType::fixed(DType::I64, &[2]),
        ) {
            Ok(v) => v,
            Err(e) => return Var::from_error(BuildError::invalid(dist.name(), e.to_string())),
        };
        let stream = state.as_shared().expect("a shared variable").next_stream();
        let d = Var::from_result(draw_inner(&state, dist, dtype, size, params, stream));
        if d.check().is_ok() {
            s.draws.push((d.clone(), state));
        }
        d
    }

    /// Uniform floats on `[low, high)` of dtype `floatX`.
    #[track_caller]
    pub fn uniform(&self, size: impl Into<Size>, low: impl Into<Term>, high: impl Into<Term>) -> Var {
        self.draw(Distribution::Uniform, crate::config::float_x(), size, vec![low.into(), high.into()])
    }

    /// Normal floats of mean `avg` and standard deviation `std`, of dtype `floatX`.
    #[track_caller]
    pub fn normal(&self, size: impl Into<Size>, avg: impl Into<Term>, std: impl Into<Term>) -> Var {
        let dist = Distribution::Normal { truncate: false };
        self.draw(dist, crate::config::float_x(), size, vec![avg.into(), std.into()])
    }

    /// Normal floats of mean `avg` and standard deviation `std` truncated at two standard
    /// deviations, of dtype `floatX` (Theano's MRG `normal(..., truncate=True)`): every
    /// sample is within `avg ± 2 std`. As Theano's, a standard sample beyond ±2 keeps its
    /// Box–Muller angle and takes a new radius `sqrt(-2 ln v)`, `v` uniform on `[e^-2, 1)`;
    /// so the samples' standard deviation is about `0.8906 std` (the variance `0.79312
    /// std²`), a little more than a truncated normal's `0.8796 std`.
    ///
    /// ```
    /// use tensorlift_ir::RandomStreams;
    /// let z = RandomStreams::new(1).normal_truncated([4, 5], 0.0, 1.0);
    /// assert_eq!(z.ty().shape, vec![Some(4), Some(5)]);
    /// ```
    #[track_caller]
    pub fn normal_truncated(&self, size: impl Into<Size>, avg: impl Into<Term>, std: impl Into<Term>) -> Var {
        let dist = Distribution::Normal { truncate: true };
        self.draw(dist, crate::config::float_x(), size, vec![avg.into(), std.into()])
    }

    /// Successes among `n` trials of probability `p`, int64 (`n = 1`: Theano's MRG
    /// `cast(uniform < p, 'int64')`).
    #[track_caller]
    pub fn binomial(&self, size: impl Into<Size>, n: impl Into<Term>, p: impl Into<Term>) -> Var {
        self.draw(Distribution::Binomial, DType::I64, size, vec![n.into(), p.into()])
    }

    /// Integers uniform on `[low, high]`, both included, int64.
    #[track_caller]
    pub fn random_integers(&self, size: impl Into<Size>, low: impl Into<Term>, high: impl Into<Term>) -> Var {
        self.draw(Distribution::Integers, DType::I64, size, vec![low.into(), high.into()])
    }

    /// Picks among `a`: an integer `n` (positions `0..n`, int64) or a vector (its elements);
    /// with `replace: false` the picks are distinct; `p` the probability of each.
    ///
    /// `p` may be a matrix of `n` columns, one distribution per row (Theano's MRG
    /// `choice(size, p=matrix)`): the result is `(rows, *size)`, each row's picks drawn from
    /// its own row (distinct within the row without replacement: each pick from the row's
    /// probabilities of the items not picked yet, renormalized). Each row must sum to 1; a
    /// row with fewer non-zero probabilities than the picks it needs without replacement
    /// is an error when the function runs.
    ///
    /// ```
    /// use tensorlift_ir::{constant, RandomStreams, Tensor};
    /// let p = constant(Tensor::from(ndarray::arr2(&[[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]]).into_dyn()));
    /// let picks = RandomStreams::new(3).choice([2], 3, false, Some(&p));
    /// assert_eq!(picks.ty().shape, vec![Some(2), Some(2)]);
    /// ```
    #[track_caller]
    pub fn choice(&self, size: impl Into<Size>, a: impl Into<Term>, replace: bool, p: Option<&Var>) -> Var {
        let a = term_var(a.into());
        if let Err(e) = a.check() {
            return Var::from_error(e);
        }
        let (n, items) = match a.ndim() {
            0 => (a.clone(), None),
            1 => (crate::build::shape::shape_i(&a, 0), Some(a.clone())),
            _ => {
                return Var::from_error(BuildError::invalid(
                    "choice",
                    format!("a must be an integer or a vector, got {}", a.operand()),
                ))
            }
        };
        let mut params = vec![Term::Var(n)];
        if let Some(p) = p {
            params.push(Term::Var(p.clone()));
        }
        let dist = Distribution::Choice { replace, weighted: p.is_some() };
        let picks = self.draw(dist, DType::I64, size, params);
        match items {
            None => picks,
            Some(items) => crate::build::advanced::take(&items, &picks, Some(0)),
        }
    }

    /// One permutation of `0..n` per element of `size` (an axis of length `n` added), int64.
    #[track_caller]
    pub fn permutation(&self, size: impl Into<Size>, n: impl Into<Term>) -> Var {
        self.draw(Distribution::Permutation, DType::I64, size, vec![n.into()])
    }

    /// Counts of `n` picks among the categories of `pvals` (its last axis), int64: the
    /// result is `size` plus the categories' axis (`Size::Params`: `pvals`'s own shape, as
    /// MRG's `multinomial(pvals=matrix)`).
    #[track_caller]
    pub fn multinomial(&self, size: impl Into<Size>, n: impl Into<Term>, pvals: impl Into<Term>) -> Var {
        self.draw(Distribution::Multinomial, DType::I64, size, vec![n.into(), pvals.into()])
    }
}
