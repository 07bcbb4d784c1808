//! The gradient of `scan`: backpropagation through time as another scan, running the
//! steps in the opposite direction over the stored values (a reverse scan, which reads and
//! writes rows in place: no reversed copies), so it prints, optimizes, compiles and
//! differentiates again like any scan. The carries' values before each step are a view of
//! their full traces (the initial value and the trace, stored as one array).
//!
//! Forward step `t` maps `(x_t, c_t, w)` to `(c_{t+1}, y_t)`. The reverse step `t` receives
//! `x_t`, `c_t`, the stored `c_{t+1}` and `y_t` (which replace their recomputation), the
//! gradients reaching `c_{t+1}`'s trace and `y_t` from outside, and carries `ν` (the
//! gradient reaching `c_{t+1}` through later steps) and the running sum of the
//! non-sequences' gradients. It returns the sequences' gradients at `t` (mapped). After it,
//! `ν` is the initial carries' gradient and the sums are the non-sequences'. With
//! `truncate_gradient = k`, it runs over the last `k` steps only: earlier rows of the
//! sequences get zeros, and the initial carries zeros unless every step was covered.

use super::{backprop, zeros_like, Disconnected, GradError};
use crate::build::elemwise::{elemwise_inner, Term};
use crate::build::index::{try_subtensor, Index, SliceBound};
use crate::build::{apply_inner, leaf};
use crate::error::BuildError;
use crate::op::{Op, ScalarOp, ScanInfo, ScanRef};
use crate::var::Var;
use std::collections::HashSet;
use std::sync::Arc;

/// Output `index` of the scan `node`.
fn output(node: &Var, scan: &ScanRef, index: usize) -> Result<Var, BuildError> {
    apply_inner(Op::ScanOutput { scan: scan.clone(), index }, vec![node.clone()])
}

/// `a + b`, either absent.
fn add(a: Option<Var>, b: Var) -> Result<Var, BuildError> {
    match a {
        Some(a) => elemwise_inner(ScalarOp::Add, vec![a.into(), b.into()]),
        None => Ok(b),
    }
}

/// The gradients of the inputs of the scan `node` given those of its outputs (`(index,
/// gradient)` pairs, an index possibly repeated); `needed[i]` says whether input `i` leads
/// to a variable being differentiated.
pub(super) fn vjp(
    node: &Var,
    scan: &ScanRef,
    outs: Vec<(usize, Var)>,
    needed: &[bool],
) -> Result<Vec<Option<Var>>, GradError> {
    let info: &ScanInfo = scan;
    let (s, c, m) = (info.n_seqs, info.n_carries, info.n_mapped);
    if info.until {
        return Err(GradError::Unsupported {
            op: "grad".into(),
            reason: format!("scan {} ends on an until condition: a while loop has no gradient", info.name),
        });
    }
    if info.reverse && info.truncate_gradient.is_some() {
        return Err(GradError::Unsupported {
            op: "grad".into(),
            reason: format!("scan {} runs in reverse with a truncated gradient", info.name),
        });
    }
    // A full trace's row of the initial value (first, or last in a reverse scan) and its
    // other rows, the trace.
    let (initial_row, trace_rows) = if info.reverse {
        (Index::At(-1), Index::range(None, Some(SliceBound::Const(-1)), 1))
    } else {
        (Index::At(0), Index::range(Some(SliceBound::Const(1)), None, 1))
    };
    let mut g_trace: Vec<Option<Var>> = vec![None; c];
    let mut g_mapped: Vec<Option<Var>> = vec![None; m];
    let mut g_last: Vec<Option<Var>> = vec![None; c];
    // Gradients reaching the initial values through the full traces' rows.
    let mut g_initial: Vec<Option<Var>> = vec![None; c];
    for (index, g) in outs {
        let (slot, g) = match index {
            i if (1..=c).contains(&i) => (&mut g_trace[i - 1], g),
            i if i > c && i <= c + m => (&mut g_mapped[i - 1 - c], g),
            i if i <= 2 * c + m => (&mut g_last[i - 1 - c - m], g),
            i => {
                let k = i - 1 - 2 * c - m;
                let first = try_subtensor(&g, std::slice::from_ref(&initial_row))?;
                g_initial[k] = Some(add(g_initial[k].take(), first)?);
                (&mut g_trace[k], try_subtensor(&g, std::slice::from_ref(&trace_rows))?)
            }
        };
        *slot = Some(add(slot.take(), g)?);
    }
    let ins = node.inputs();
    let n = ins[0].clone();
    let st = crate::build::scan::ScanStep::of(info)?;
    let (fin, fout) = (&st.inputs, &st.outputs);
    let float = |v: &Var| v.dtype().is_float();
    let float_carries: Vec<usize> = (0..c).filter(|&k| float(&fin[s + k])).collect();
    let seq_wrt: Vec<usize> = (0..s).filter(|&i| float(&fin[i]) && needed[1 + i]).collect();
    let nonseq_wrt: Vec<usize> =
        (0..fin.len() - s - c).filter(|&j| float(&fin[s + c + j]) && needed[1 + s + c + j]).collect();

    // The reverse step's own inputs.
    let named = |label: &str, v: &Var| {
        leaf::input(&format!("{label}({})", v.name().as_deref().unwrap_or("v")), v.ty().clone())
    };
    let stored_next: Vec<(usize, Var)> =
        (0..c).filter(|&k| !fout[k].op().is_leaf()).map(|k| (k, named("next", &fin[s + k]))).collect();
    let stored_y: Vec<(usize, Var)> =
        (0..m).filter(|&j| !fout[c + j].op().is_leaf()).map(|j| (j, named("y", &fout[c + j]))).collect();
    let gc: Vec<(usize, Var)> =
        (0..c).filter_map(|k| g_trace[k].as_ref().map(|_| (k, named("g", &fin[s + k])))).collect();
    let gy: Vec<(usize, Var)> =
        (0..m).filter_map(|j| g_mapped[j].as_ref().map(|_| (j, named("g", &fout[c + j])))).collect();
    let nu: Vec<Var> = float_carries.iter().map(|&k| named("nu", &fin[s + k])).collect();
    let acc: Vec<Var> = nonseq_wrt.iter().map(|&j| named("acc", &fin[s + c + j])).collect();

    // The reverse step: the forward step's vector-Jacobian product.
    let mut seeds = Vec::new();
    for (pos, &k) in float_carries.iter().enumerate() {
        let from_trace = gc.iter().find(|(kk, _)| *kk == k).map(|(_, g)| g.clone());
        let lambda = add(from_trace, nu[pos].clone())?;
        seeds.push((fout[k].clone(), lambda));
    }
    for (j, g) in &gy {
        seeds.push((fout[c + j].clone(), g.clone()));
    }
    let wrt: Vec<Var> = float_carries
        .iter()
        .map(|&k| fin[s + k].clone())
        .chain(nonseq_wrt.iter().map(|&j| fin[s + c + j].clone()))
        .chain(seq_wrt.iter().map(|&i| fin[i].clone()))
        .collect();
    let grads = backprop(&seeds, &[], &wrt, &HashSet::new(), Disconnected::Zero)?;
    let (g_carry, rest) = grads.split_at(float_carries.len());
    let (g_nonseq, g_seq) = rest.split_at(nonseq_wrt.len());
    let mut routs: Vec<Var> = g_carry.to_vec();
    for (a, g) in acc.iter().zip(g_nonseq) {
        routs.push(add(Some(a.clone()), g.clone())?);
    }
    routs.extend(g_seq.iter().cloned());
    // Stored values replace their recomputation.
    let replace: Vec<(Var, Var)> = stored_next
        .iter()
        .map(|(k, p)| (fout[*k].clone(), p.clone()))
        .chain(stored_y.iter().map(|(j, p)| (fout[c + j].clone(), p.clone())))
        .collect();
    let routs = crate::build::clone_replace(&routs, &replace)?;

    // The reverse scan's sequences, read in place by a scan running the other way; with
    // `truncate_gradient = k`, their last `k` rows.
    let trunc = info.truncate_gradient;
    let steps = match trunc {
        Some(k) => elemwise_inner(ScalarOp::Minimum, vec![n.clone().into(), Term::Int(k as i64)])?,
        None => n.clone(),
    };
    let window = |x: Var| -> Result<Var, BuildError> {
        match trunc {
            Some(k) => try_subtensor(&x, &[Index::range(Some(SliceBound::Const(-(k as isize))), None, 1)]),
            None => Ok(x),
        }
    };
    let trace = |k: usize| output(node, scan, info.trace_index(k));
    let mut rin: Vec<Var> = Vec::new();
    let mut rseq: Vec<Var> = Vec::new();
    for (i, x) in ins[1..=s].iter().enumerate() {
        rin.push(fin[i].clone());
        rseq.push(window(x.clone())?);
    }
    for k in 0..c {
        // c_t: the full trace without the value after the last step.
        let full = output(node, scan, info.full_index(k))?;
        let before = if info.reverse {
            Index::range(Some(SliceBound::Const(1)), None, 1)
        } else {
            Index::range(None, Some(SliceBound::Const(-1)), 1)
        };
        rin.push(fin[s + k].clone());
        rseq.push(window(try_subtensor(&full, &[before])?)?);
    }
    for (k, p) in &stored_next {
        rin.push(p.clone());
        rseq.push(window(trace(*k)?)?);
    }
    for (j, p) in &stored_y {
        rin.push(p.clone());
        rseq.push(window(output(node, scan, info.mapped_index(*j))?)?);
    }
    for (k, p) in &gc {
        rin.push(p.clone());
        rseq.push(window(g_trace[*k].clone().expect("present"))?);
    }
    for (j, p) in &gy {
        rin.push(p.clone());
        rseq.push(window(g_mapped[*j].clone().expect("present"))?);
    }
    let n_rseq = rin.len();
    let mut rinit = Vec::new();
    for (pos, &k) in float_carries.iter().enumerate() {
        rin.push(nu[pos].clone());
        let init = &ins[1 + s + k];
        rinit.push(match &g_last[k] {
            Some(g) => super::fit(g.clone(), init.ty())?,
            None => zeros_like(init)?,
        });
    }
    for (pos, &j) in nonseq_wrt.iter().enumerate() {
        rin.push(acc[pos].clone());
        rinit.push(zeros_like(&ins[1 + s + c + j])?);
    }
    let n_rcarries = rinit.len();
    rin.extend(fin[s + c..].iter().cloned());
    let rinfo = crate::build::scan::ScanStep { inputs: rin, outputs: routs }.into_info(
        n_rseq,
        n_rcarries,
        false,
        None,
        !info.reverse,
        format!("grad_of_{}", info.name),
    );
    let rscan = ScanRef(Arc::new(rinfo));
    let mut rnode_inputs = vec![steps];
    rnode_inputs.extend(rseq);
    rnode_inputs.extend(rinit);
    rnode_inputs.extend(ins[1 + s + c..].iter().cloned());
    let rnode = apply_inner(Op::Scan(rscan.clone()), rnode_inputs)?;
    let last = |pos: usize| output(&rnode, &rscan, rscan.last_index(pos));

    let mut grads: Vec<Option<Var>> = vec![None; ins.len()];
    for (pos, &k) in float_carries.iter().enumerate() {
        if !needed[1 + s + k] {
            continue;
        }
        let g = last(pos)?;
        let g = match trunc {
            // Reached the initial values only when the truncation covered every step.
            Some(t) => {
                let whole = elemwise_inner(ScalarOp::Le, vec![n.clone().into(), Term::Int(t as i64)])?;
                let whole = elemwise_inner(ScalarOp::Cast(g.dtype()), vec![whole.into()])?;
                elemwise_inner(ScalarOp::Mul, vec![g.into(), whole.into()])?
            }
            None => g,
        };
        grads[1 + s + k] = Some(add(g_initial[k].take(), g)?);
    }
    for (pos, &j) in nonseq_wrt.iter().enumerate() {
        grads[1 + s + c + j] = Some(last(float_carries.len() + pos)?);
    }
    for (pos, &i) in seq_wrt.iter().enumerate() {
        let g = output(&rnode, &rscan, rscan.mapped_index(pos))?;
        grads[1 + i] = Some(match trunc {
            Some(k) => {
                let zeros = zeros_like(&ins[1 + i])?;
                let index = [Index::range(Some(SliceBound::Const(-(k as isize))), None, 1)];
                crate::build::index::set_subtensor(&zeros, &index, g).checked()?
            }
            None => g,
        });
    }
    Ok(grads)
}
