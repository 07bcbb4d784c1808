//! Rewrites of loops: `scan_merge` (Theano's `scan_merge`), two scans over the same steps
//! as one loop whose step computes both steps.
//!
//! Two scan nodes merge when they read the same number-of-steps node, run in the same
//! direction with the same `truncate_gradient`, have no `until` condition, and neither is
//! computed from the other. The merged step reads the first scan's sequences, then those of
//! the second that are not the same outer value (a shared one is read through the first's
//! row placeholder), the carries of the first then of the second, and the non-sequences the
//! same way as the sequences; it returns the carries' next values of the first then of the
//! second, then the mapped outputs likewise. Every projection of either scan becomes the
//! matching projection of the merged node. A forward pass and a second loop over the same
//! sequence (two layers reading one input, a loss and a statistic), and their gradients'
//! reverse loops, then run as one loop: one pass over the rows, one step call per row.
//!
//! Each step is optimized on its own when the function is compiled, so the merged step's
//! two halves are optimized together then (sub-expressions they share are computed once).

use crate::pattern::Rw;
use std::collections::HashSet;
use std::sync::Arc;
use tensorlift_ir::{NodeId, Op, ScanInfo, ScanRef, ScanStep, Var};

/// True when a scan may take part in a merge: a for-loop (no `until`) whose step is held.
fn mergeable(info: &ScanInfo) -> bool {
    !info.until && ScanStep::of(info).is_ok()
}

/// The first scan node (by id) other than `id` that reads the same number of steps and may
/// merge with `id`'s scan `a`: the same direction and truncation, live, and neither node
/// computed from the other.
fn partner(rw: &Rw<'_>, id: NodeId, a: &ScanInfo) -> Option<NodeId> {
    let n = rw.inputs(id)[0];
    let mut candidates: Vec<NodeId> = rw.g.uses(n).into_iter().filter(|&u| u != id).collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates.into_iter().find(|&u| {
        let Op::Scan(b) = rw.op(u) else { return false };
        rw.inputs(u)[0] == n
            && !rw.g.is_dead(u)
            && rw.use_count(u) > 0
            && mergeable(b)
            && b.reverse == a.reverse
            && b.truncate_gradient == a.truncate_gradient
            && !rw.g.depends_on(u, id)
            && !rw.g.depends_on(id, u)
    })
}

/// Where output `index` of a scan of `c` carries and `m` mapped outputs goes in a merged
/// scan of `merged_c` carries and `merged_m` mapped outputs, in which this scan's carries
/// start at `c0` and its mapped outputs at `m0`.
fn remap(info: &ScanInfo, index: usize, merged: &ScanInfo, c0: usize, m0: usize) -> Option<usize> {
    let (c, m) = (info.n_carries, info.n_mapped);
    Some(match index {
        0 => 0,
        i if i <= c => merged.trace_index(c0 + i - 1),
        i if i <= c + m => merged.mapped_index(m0 + i - 1 - c),
        i if i <= 2 * c + m => merged.last_index(c0 + i - 1 - c - m),
        i if i <= 3 * c + m => merged.full_index(c0 + i - 1 - 2 * c - m),
        _ => return None,
    })
}

/// `scan_merge`: the scan node `id` and a partner (see the module documentation) → one
/// scan computing both; the partner and every projection of either are replaced too. A
/// canonicalization rule: it fires once the number-of-steps nodes are one node.
pub(crate) fn scan_merge(rw: &mut Rw<'_>, id: NodeId) -> Option<NodeId> {
    let Op::Scan(a) = rw.op(id).clone() else { return None };
    if !mergeable(&a) {
        return None;
    }
    let other = partner(rw, id, &a)?;
    let Op::Scan(b) = rw.op(other).clone() else { return None };
    let (sa, sb) = (ScanStep::of(&a).ok()?, ScanStep::of(&b).ok()?);
    let (ins_a, ins_b) = (rw.inputs(id), rw.inputs(other));
    let (s_a, c_a) = (a.n_seqs, a.n_carries);
    let (s_b, c_b) = (b.n_seqs, b.n_carries);

    // The second step's placeholders: the first's where both read one outer value as the
    // same type, fresh ones where the two steps hold the same variable (two gradients of
    // one loop share the forward step's placeholders), themselves otherwise.
    let held: HashSet<usize> = sa.inputs.iter().map(Var::key).collect();
    let mut replace: Vec<(Var, Var)> = Vec::new();
    let own = |p: &Var, replace: &mut Vec<(Var, Var)>| {
        if held.contains(&p.key()) {
            let name = p.name().map_or_else(|| "v".to_string(), |n| n.to_string());
            let q = tensorlift_ir::input(&name, p.ty().clone());
            replace.push((p.clone(), q.clone()));
            q
        } else {
            p.clone()
        }
    };
    // Sequences (range `first` of the first step, `second` of the second) deduplicated.
    let shared = |first: std::ops::Range<usize>,
                  second: std::ops::Range<usize>,
                  inner: &mut Vec<Var>,
                  outer: &mut Vec<NodeId>,
                  replace: &mut Vec<(Var, Var)>| {
        inner.extend(sa.inputs[first.clone()].iter().cloned());
        outer.extend(first.clone().map(|k| ins_a[1 + k]));
        for j in second {
            let (p, o) = (&sb.inputs[j], ins_b[1 + j]);
            let same = first.clone().find(|&k| ins_a[1 + k] == o && sa.inputs[k].ty() == p.ty());
            match same {
                Some(k) => replace.push((p.clone(), sa.inputs[k].clone())),
                None => {
                    inner.push(own(p, replace));
                    outer.push(o);
                }
            }
        }
    };
    let (mut seq_inner, mut seq_outer) = (Vec::new(), Vec::new());
    shared(0..s_a, 0..s_b, &mut seq_inner, &mut seq_outer, &mut replace);
    let (mut non_inner, mut non_outer) = (Vec::new(), Vec::new());
    shared(
        s_a + c_a..sa.inputs.len(),
        s_b + c_b..sb.inputs.len(),
        &mut non_inner,
        &mut non_outer,
        &mut replace,
    );
    let carries_b: Vec<Var> = sb.inputs[s_b..s_b + c_b].iter().map(|p| own(p, &mut replace)).collect();
    let outs_b = if replace.is_empty() {
        sb.outputs.clone()
    } else {
        tensorlift_ir::clone_replace(&sb.outputs, &replace).ok()?
    };

    let n_seqs = seq_inner.len();
    let mut inputs = seq_inner;
    inputs.extend(sa.inputs[s_a..s_a + c_a].iter().cloned());
    inputs.extend(carries_b);
    inputs.extend(non_inner);
    let mut outputs: Vec<Var> = sa.outputs[..c_a].to_vec();
    outputs.extend(outs_b[..c_b].iter().cloned());
    outputs.extend(sa.outputs[c_a..c_a + a.n_mapped].iter().cloned());
    outputs.extend(outs_b[c_b..c_b + b.n_mapped].iter().cloned());
    let name = format!("{}&{}", a.name, b.name);
    let info = ScanStep { inputs, outputs }
        .try_into_info(n_seqs, c_a + c_b, false, a.truncate_gradient, a.reverse, name)
        .ok()?;
    let merged = ScanRef(Arc::new(info));
    let mut node_inputs = vec![ins_a[0]];
    node_inputs.extend(seq_outer);
    node_inputs.extend(&ins_a[1 + s_a..1 + s_a + c_a]);
    node_inputs.extend(&ins_b[1 + s_b..1 + s_b + c_b]);
    node_inputs.extend(non_outer);
    let node = rw.add(Op::Scan(merged.clone()), node_inputs)?;

    // Every projection of either scan, as the merged node's.
    let mut pairs = Vec::new();
    for (scan, info, c0, m0) in [(id, &a, 0, 0), (other, &b, c_a, a.n_mapped)] {
        let mut readers: Vec<NodeId> = rw.g.uses(scan).into_iter().collect();
        readers.sort_unstable();
        readers.dedup();
        for u in readers {
            // A reader other than a projection reads the step count, which the merged node
            // gives as well.
            let Op::ScanOutput { scan: s, index } = rw.op(u) else { continue };
            if s != info {
                return None;
            }
            let index = remap(info, *index, &merged, c0, m0)?;
            let new = rw.add(Op::ScanOutput { scan: merged.clone(), index }, vec![node])?;
            pairs.push((u, new));
        }
        if scan == other {
            pairs.push((other, node));
        }
    }
    for (old, new) in pairs {
        rw.also_replace(old, new);
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use crate::{optimize, OptConfig, Optimized};
    use tensorlift_ir::{dmatrix, dscalar, dvector, iscalar, FunctionGraph, Op, Scan, Step, Var};

    /// `acc_t = 0.9 acc_{t-1} + x_t²` over the rows of `x`.
    fn accumulate(x: &Var, a0: &Var) -> Var {
        let r = Scan::new().sequences([x]).outputs_info([a0]).build(|p| (&p[1] * 0.9 + &p[0] * &p[0]).into());
        r.unwrap().outputs[0].clone()
    }

    /// `tanh(x_t · w)` for each row of `x`, mapped.
    fn mapped(x: &Var, w: &Var) -> Var {
        let r = Scan::new().sequences([x]).build(|p| tensorlift_ir::tanh(&p[0] * w).into());
        r.unwrap().outputs[0].clone()
    }

    /// The graph of `outputs` (inputs `inputs`) optimized with the default options.
    fn optimized(inputs: &[&Var], outputs: &[Var]) -> Optimized {
        let g = FunctionGraph::from_vars(inputs, outputs).expect("builds");
        optimize(&g, &OptConfig { verify: true, ..OptConfig::default() }).expect("optimizes")
    }

    /// The scan nodes of a graph.
    fn scans(g: &FunctionGraph) -> Vec<&tensorlift_ir::ScanRef> {
        g.ids()
            .filter_map(|id| match &g.node(id).op {
                Op::Scan(s) if !g.is_dead(id) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn two_scans_over_one_sequence_become_one() {
        let (x, a0, w) = (dmatrix("x"), dvector("a0"), dscalar("w"));
        let (acc, y) = (accumulate(&x, &a0), mapped(&x, &w));
        let opt = optimized(&[&x, &a0, &w], &[acc, y]);
        assert!(opt.trace.fired("scan_merge"), "{}", opt.trace);
        let s = scans(&opt.graph);
        assert_eq!(s.len(), 1, "{}", opt.graph);
        // One sequence (x read once), one carry, one mapped output, the non-sequence w.
        assert_eq!((s[0].n_seqs, s[0].n_carries, s[0].n_mapped, s[0].n_nonseqs()), (1, 1, 1, 1));
        assert_eq!(s[0].name, "scan&scan");
        // The outputs read the merged node: the trace of the carry, then the mapped output.
        let outs: Vec<&Op> = opt.graph.outputs().iter().map(|&o| &opt.graph.node(o).op).collect();
        assert!(matches!(outs[0], Op::ScanOutput { index: 1, .. }), "{outs:?}");
        assert!(matches!(outs[1], Op::ScanOutput { index: 2, .. }), "{outs:?}");
        // The text form round-trips the merged step.
        let text = opt.graph.to_string();
        assert_eq!(FunctionGraph::parse(&text).expect("parses").to_string(), text);
    }

    #[test]
    fn three_scans_over_one_sequence_become_one() {
        let (x, a0, w) = (dmatrix("x"), dvector("a0"), dscalar("w"));
        let outs = [accumulate(&x, &a0), mapped(&x, &w), mapped(&x, &(&w * 2.0))];
        let opt = optimized(&[&x, &a0, &w], &outs);
        let s = scans(&opt.graph);
        assert_eq!(s.len(), 1, "{}", opt.graph);
        assert_eq!((s[0].n_seqs, s[0].n_carries, s[0].n_mapped), (1, 1, 2));
    }

    #[test]
    fn a_scan_reading_another_is_not_merged() {
        let (x, a0, w) = (dmatrix("x"), dvector("a0"), dscalar("w"));
        let acc = accumulate(&x, &a0);
        // Same number of steps (the rows of x), but it reads the first loop's trace.
        let y = mapped(&acc, &w);
        let opt = optimized(&[&x, &a0, &w], &[y]);
        assert_eq!(scans(&opt.graph).len(), 2, "{}", opt.graph);
        assert!(!opt.trace.fired("scan_merge"));
    }

    #[test]
    fn scans_of_different_lengths_are_not_merged() {
        let (x, z, a0, w) = (dmatrix("x"), dmatrix("z"), dvector("a0"), dscalar("w"));
        let opt = optimized(&[&x, &z, &a0, &w], &[accumulate(&x, &a0), mapped(&z, &w)]);
        assert_eq!(scans(&opt.graph).len(), 2, "{}", opt.graph);
    }

    #[test]
    fn a_while_loop_is_not_merged() {
        let (x, a0, w) = (dmatrix("x"), dvector("a0"), dscalar("w"));
        let r = Scan::new()
            .sequences([&x])
            .outputs_info([&a0])
            .build(|p| {
                let next = &p[1] + &p[0];
                let stop = tensorlift_ir::gt(tensorlift_ir::sum(&next), 10.0);
                Step::new(&[next]).until(stop)
            })
            .unwrap();
        let opt = optimized(&[&x, &a0, &w], &[r.outputs[0].clone(), mapped(&x, &w)]);
        assert_eq!(scans(&opt.graph).len(), 2, "{}", opt.graph);
    }

    #[test]
    fn excluded_it_does_not_fire() {
        let (x, a0, w) = (dmatrix("x"), dvector("a0"), dscalar("w"));
        let g = FunctionGraph::from_vars(&[&x, &a0, &w], &[accumulate(&x, &a0), mapped(&x, &w)]).unwrap();
        let opt = optimize(&g, &OptConfig::default().excluding("scan_merge")).unwrap();
        assert_eq!(scans(&opt.graph).len(), 2);
    }

    #[test]
    fn scans_with_one_step_count_input_merge() {
        // n_steps given: both loops run min(rows, k) steps, one node.
        let (x, a0, w, k) = (dmatrix("x"), dvector("a0"), dscalar("w"), iscalar("k"));
        let r1 = Scan::new().sequences([&x]).outputs_info([&a0]).n_steps(&k);
        let r1 = r1.build(|p| (&p[1] * 0.5 + &p[0]).into()).unwrap();
        let r2 =
            Scan::new().sequences([&x]).n_steps(&k).build(|p| tensorlift_ir::exp(&p[0] * &w).into()).unwrap();
        let opt = optimized(&[&x, &a0, &w, &k], &[r1.outputs[0].clone(), r2.outputs[0].clone()]);
        assert_eq!(scans(&opt.graph).len(), 1, "{}", opt.graph);
    }
}
