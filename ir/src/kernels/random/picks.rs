//! The draws that pick among items, written with the reference generator of the parent
//! module: choices (with or without replacement, weighted or not, by one probability vector
//! or by the rows of a matrix), permutations and multinomial counts. Each pick reads its own
//! slot (see the parent's layout), so a draw is the same on every engine; these draws run
//! on one thread.

use super::{bounded, param, to_tensor, unit52, words64, Philox};
use crate::dtype::DType;
use crate::error::ValueError;
use crate::kernels::KernelInput;
use crate::value::{check_alloc, Tensor};
use ndarray::IxDyn;
use std::collections::HashMap;

/// How far from 1 a row of probabilities may sum: NumPy's `choice` tolerance, the square
/// root of the machine epsilon of float32 probabilities, 1e-6 for others.
fn tolerance(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        f64::from(f32::EPSILON).sqrt()
    } else {
        1e-6
    }
}

/// A probability vector of `n` entries, checked (non-negative, summing to 1) and returned as
/// its cumulative sums normalized by the last.
pub(super) fn probabilities(op: &str, p: &KernelInput<'_>, n: usize) -> Result<Vec<f64>, ValueError> {
    let v = p.value.cast(DType::F64).into_array::<f64>()?;
    if v.len() != n {
        return Err(ValueError::invalid(
            op,
            format!("{} has {} probabilities for {n} items", p.name, v.len()),
        ));
    }
    let v: Vec<f64> = v.iter().copied().collect();
    cumulative(op, p, &v)
}

/// The cumulative sums of one row of probabilities `v` of `p`, normalized by the last,
/// once checked: non-negative, finite, summing to 1 (within [`tolerance`]).
fn cumulative(op: &str, p: &KernelInput<'_>, v: &[f64]) -> Result<Vec<f64>, ValueError> {
    if v.iter().any(|&x| x.is_nan() || x < 0.0 || !x.is_finite()) {
        return Err(ValueError::invalid(op, format!("{} has a negative or non-finite probability", p.name)));
    }
    let total: f64 = v.iter().sum();
    if (total - 1.0).abs() > tolerance(p.value.dtype()) {
        return Err(ValueError::invalid(op, format!("the probabilities {} sum to {total}, not 1", p.name)));
    }
    let mut acc = 0.0;
    let cdf: Vec<f64> = v
        .iter()
        .map(|&x| {
            acc += x;
            acc
        })
        .collect();
    let last = *cdf.last().unwrap_or(&1.0);
    Ok(cdf.into_iter().map(|c| c / last).collect())
}

/// `count` picks among the `n` categories of each row of the probability matrix `p` (Theano's
/// MRG `choice(p=matrix)`, its `ChoiceFromUniform`), row by row: with `replace`, independent
/// picks; without, distinct ones, each from the row's probabilities of the categories not
/// yet picked, renormalized. Pick `t` of row `r` comes from slot `r * count + t`.
pub(super) fn choice_rows(
    op: &str,
    gen: &Philox,
    n: usize,
    p: &KernelInput<'_>,
    count: usize,
    replace: bool,
) -> Result<Vec<i64>, ValueError> {
    let v = p.value.cast(DType::F64).into_array::<f64>()?;
    let (rows, k) = (v.shape()[0], v.shape()[1]);
    if k != n {
        return Err(ValueError::invalid(
            op,
            format!("{} has {k} probabilities per row for {n} items", p.name),
        ));
    }
    if rows == 0 || count == 0 {
        return Ok(Vec::new());
    }
    if !replace && count > n {
        return Err(ValueError::invalid(
            op,
            format!("cannot take {count} distinct items from a population of {n} (each row of {})", p.name),
        ));
    }
    let mut out = Vec::with_capacity(rows * count);
    for (r, row) in v.outer_iter().enumerate() {
        let row: Vec<f64> = row.iter().copied().collect();
        let cdf = cumulative(op, p, &row).map_err(|e| in_row(e, r))?;
        let first = (r * count) as u64;
        if replace {
            out.extend(choice_weighted(gen, first, &cdf, count));
        } else {
            out.extend(choice_weighted_distinct(op, gen, first, &cdf, count).map_err(|e| in_row(e, r))?);
        }
    }
    Ok(out)
}

/// An error about row `r` of a probability matrix, saying so.
fn in_row(e: ValueError, r: usize) -> ValueError {
    match e {
        ValueError::Invalid { op, reason } => {
            ValueError::Invalid { op, reason: format!("row {r}: {reason}") }
        }
        e => e,
    }
}

/// The first index whose cumulative probability exceeds `u` (NumPy's `searchsorted(cdf, u,
/// side='right')`), kept below `cdf.len()`.
fn pick(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}

/// `count` weighted picks with replacement, pick `t` from slot `first + t`.
pub(super) fn choice_weighted(gen: &Philox, first: u64, cdf: &[f64], count: usize) -> Vec<i64> {
    let mut words = vec![0u64; count];
    words64(gen, first as usize, &mut words);
    words.iter().map(|&w| pick(cdf, unit52(w)) as i64).collect()
}

/// `count` distinct positions below `n`: a partial Fisher–Yates shuffle (sparse: it stores
/// only the swapped positions), pick `t` from slot `t`.
pub(super) fn choice_distinct(gen: &Philox, n: u64, count: usize) -> Vec<i64> {
    let mut swapped: HashMap<u64, u64> = HashMap::new();
    (0..count as u64)
        .map(|t| {
            let r = t + bounded(gen, t, gen.word64(t, 0), n - t);
            let at_r = *swapped.get(&r).unwrap_or(&r);
            let at_t = *swapped.get(&t).unwrap_or(&t);
            swapped.insert(r, at_t);
            at_r as i64
        })
        .collect()
}

/// `count` distinct weighted positions: each pick from the probabilities of the positions
/// not yet picked, renormalized (NumPy's `choice(replace=False, p=…)`), pick `t` from slot
/// `first + t`.
pub(super) fn choice_weighted_distinct(
    op: &str,
    gen: &Philox,
    first: u64,
    cdf: &[f64],
    count: usize,
) -> Result<Vec<i64>, ValueError> {
    let mut p: Vec<f64> = cdf.iter().scan(0.0, |prev, &c| Some(c - std::mem::replace(prev, c))).collect();
    if p.iter().filter(|&&x| x > 0.0).count() < count {
        return Err(ValueError::invalid(op, "fewer items with a non-zero probability than the size"));
    }
    let mut out = Vec::with_capacity(count);
    for t in 0..count {
        let total: f64 = p.iter().sum();
        let target = unit52(gen.word64(first + t as u64, 0)) * total;
        let mut acc = 0.0;
        let mut chosen = p.iter().rposition(|&x| x > 0.0).expect("a position is left");
        for (k, &x) in p.iter().enumerate() {
            acc += x;
            if x > 0.0 && target < acc {
                chosen = k;
                break;
            }
        }
        p[chosen] = 0.0;
        out.push(chosen as i64);
    }
    Ok(out)
}

/// A permutation of `0..n` from slots `first..first + n` (Fisher–Yates).
pub(super) fn shuffle(gen: &Philox, first: u64, n: usize) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n as i64).collect();
    for t in 0..n.saturating_sub(1) {
        let s = first + t as u64;
        let r = t + bounded(gen, s, gen.word64(s, 0), (n - t) as u64) as usize;
        v.swap(t, r);
    }
    v
}

/// Multinomial counts: for each element of the size, `n` picks among the categories of
/// `pvals`'s last axis.
pub(super) fn multinomial(
    op: &str,
    gen: &Philox,
    params: &[KernelInput<'_>],
    size: &[usize],
    dtype: DType,
) -> Result<Tensor, ValueError> {
    let n = param::<i64>(op, &params[0], size)?;
    let pv = params[1].value.cast(DType::F64).into_array::<f64>()?;
    let k = *pv.shape().last().expect("typed: pvals has a category axis");
    let mut lead = size.to_vec();
    lead.push(k);
    let pb = pv.broadcast(IxDyn(&lead)).ok_or_else(|| ValueError::ShapeMismatch {
        op: op.into(),
        operands: vec![(params[1].name.to_string(), pv.shape().to_vec()), ("size".into(), size.to_vec())],
    })?;
    crate::value::checked_len(op, &lead, DType::I64)?;
    check_alloc(op, &lead, DType::I64)?;
    let rows: usize = size.iter().product();
    if k == 0 && rows > 0 {
        return Err(ValueError::invalid(op, "pvals has no category"));
    }
    let flat: Vec<f64> = pb.iter().copied().collect();
    let mut out = vec![0i64; rows * k];
    let mut cdf = vec![0.0; k];
    for r in 0..rows {
        let row = &flat[r * k..(r + 1) * k];
        if row.iter().any(|&x| !(0.0..=1.0).contains(&x)) {
            return Err(ValueError::invalid(
                op,
                format!("{} has a probability outside [0, 1]", params[1].name),
            ));
        }
        let head: f64 = row[..k - 1].iter().sum();
        if head > 1.0 + 1e-12 {
            return Err(ValueError::invalid(
                op,
                format!("the probabilities {} (but the last) sum to {head}, more than 1", params[1].name),
            ));
        }
        let mut acc = 0.0;
        for (c, &x) in cdf.iter_mut().zip(row) {
            acc += x;
            *c = acc;
        }
        cdf[k - 1] = f64::INFINITY;
        let trials = n.at(r);
        if trials < 0 {
            return Err(ValueError::invalid(
                op,
                format!("{} has a negative number of trials", params[0].name),
            ));
        }
        let slot = (r * k) as u64;
        let counts = &mut out[r * k..(r + 1) * k];
        for t in 0..trials {
            let u = unit52(gen.word64(slot, t as u32));
            counts[pick(&cdf, u)] += 1;
        }
    }
    to_tensor(out, &lead, dtype)
}
