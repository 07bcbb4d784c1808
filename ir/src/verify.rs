//! The verifier: checks a `FunctionGraph` is well formed — ids in range, no cycle, use
//! lists consistent with inputs, every node's type equal to what its op's rule gives, and
//! every `CompositeOutput` reading an output its composite has.
//! Passes run it after each step in tests.

use crate::error::GraphError;
use crate::graph::{FunctionGraph, NodeId};
use crate::op::Op;

impl FunctionGraph {
    /// Checks the graph; the first inconsistency found is returned.
    pub fn verify(&self) -> Result<(), GraphError> {
        let err = |id: NodeId, reason: String| Err(GraphError::Verify { node: id.to_string(), reason });
        let n = self.len();
        // Use lists: the live readers of each node, as a sorted multiset, must be what the
        // live nodes' inputs say, and the counts must agree.
        let mut expected: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for id in self.ids().filter(|&id| !self.is_dead(id)) {
            for &i in &self.node(id).inputs {
                if i.index() >= n {
                    return err(id, format!("input {i} does not exist"));
                }
                if self.is_dead(i) {
                    return err(id, format!("reads {i}, which was detached"));
                }
                expected[i.index()].push(id);
            }
        }
        for id in self.ids().filter(|&id| !self.is_dead(id)) {
            let mut uses = self.uses(id);
            uses.sort_unstable();
            if *uses != *expected[id.index()] || self.use_count(id) != uses.len() {
                return err(
                    id,
                    format!("use list {uses:?} disagrees with its readers {:?}", expected[id.index()]),
                );
            }
        }
        // Types and ops: every live node (nodes detached by `replace` are skipped).
        for id in self.toposort() {
            let node = self.node(id);
            if let Op::CompositeOutput { index, dtype } = &node.op {
                let source = &self.node(node.inputs[0]).op;
                let Op::Composite(p) = source else {
                    return err(
                        id,
                        format!("reads output {index} of a {}, not of a composite", source.name()),
                    );
                };
                if p.output_dtype(*index) != Some(*dtype) || *index == 0 {
                    return err(
                        id,
                        format!("output {index} of {dtype} of a composite with {} outputs", p.n_outputs()),
                    );
                }
            }
            let ty = self.ty(id);
            match &node.op {
                Op::Input => {
                    if !self.inputs().contains(&id) {
                        return err(id, "an input node that is not a graph input".into());
                    }
                }
                Op::Constant(t) => {
                    if t.dtype() != ty.dtype || !ty.accepts_shape(t.shape()) {
                        return err(id, format!("constant of {} {:?} typed {}", t.dtype(), t.shape(), ty));
                    }
                }
                Op::Shared(s) => {
                    if s.ty() != ty {
                        return err(id, format!("shared variable of type {} typed {}", s.ty(), ty));
                    }
                }
                op => match op.infer(&self.operands(&node.inputs)) {
                    Ok(inferred) if inferred == *ty => {}
                    Ok(inferred) => return err(id, format!("typed {ty} but its rule gives {inferred}")),
                    Err(e) => return err(id, format!("its inputs do not type: {e}")),
                },
            }
        }
        for &o in self.outputs() {
            if o.index() >= n {
                return err(o, "an output that does not exist".into());
            }
        }
        // Cycles: a topological order must place every live node after its inputs.
        let order = self.toposort();
        let mut pos = vec![usize::MAX; n];
        for (k, id) in order.iter().enumerate() {
            pos[id.index()] = k;
        }
        for &id in &order {
            for &i in &self.node(id).inputs {
                if pos[i.index()] >= pos[id.index()] {
                    return err(id, format!("cycle through {i}"));
                }
            }
        }
        Ok(())
    }
}
