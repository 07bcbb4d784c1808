//! Graphs of `Var`s saved as text and restored, with their leaves kept apart: how a binding
//! stores expressions (Python's `pickle` and `deepcopy`). The text is the graph text form
//! (`text`); input variables and shared variables are not written into it but returned
//! to the caller, who stores them its own way (a shared variable with its value) and hands
//! them back to `load`, so that expressions saved together share their leaves again.

use crate::error::GraphError;
use crate::graph::FunctionGraph;
use crate::op::Op;
use crate::var::Var;
use rustc_hash::FxHashMap as HashMap;

/// Expressions as text plus the leaves they read.
#[derive(Clone, Debug)]
pub struct Saved {
    /// The graph text of the expressions (`FunctionGraph`'s text form).
    pub text: String,
    /// The input variables the text reads, in the order of its `input` lines.
    pub inputs: Vec<Var>,
    /// The shared variables the text reads, in the order of its `shared` lines.
    pub shared: Vec<Var>,
}

/// Saves `outputs`: the text of their graph and the leaves it reads.
pub fn save(outputs: &[Var]) -> Result<Saved, GraphError> {
    // The leaves in a fixed order: inputs become the graph's listed inputs, shared
    // variables are matched to their nodes by identity.
    let mut inputs = Vec::new();
    let mut shared: HashMap<usize, Var> = HashMap::default();
    let mut seen: HashMap<usize, ()> = HashMap::default();
    let mut stack: Vec<Var> = outputs.to_vec();
    while let Some(v) = stack.pop() {
        if seen.insert(v.key(), ()).is_some() {
            continue;
        }
        match v.op() {
            Op::Input => inputs.push(v.clone()),
            Op::Shared(cell) => {
                shared.insert(cell.id(), v.clone());
            }
            _ => stack.extend(v.inputs().iter().cloned()),
        }
    }
    let g = FunctionGraph::from_vars(&inputs, outputs)?;
    let shared = g
        .ids()
        .filter_map(|id| match &g.node(id).op {
            Op::Shared(cell) => shared.get(&cell.id()).cloned(),
            _ => None,
        })
        .collect();
    Ok(Saved { text: g.to_string(), inputs, shared })
}

/// Restores the expressions saved as `text`, reading `inputs` and `shared` (the leaves
/// `save` returned, or variables standing for them, of the same types).
pub fn load(text: &str, inputs: &[Var], shared: &[Var]) -> Result<Vec<Var>, GraphError> {
    let g = FunctionGraph::parse(text)?;
    let invalid = |msg: String| GraphError::Build(crate::BuildError::invalid("load", msg));
    if g.inputs().len() != inputs.len() {
        return Err(invalid(format!(
            "the text reads {} inputs, {} were given",
            g.inputs().len(),
            inputs.len()
        )));
    }
    let mut vars: Vec<Option<Var>> = vec![None; g.len()];
    for (&id, v) in g.inputs().iter().zip(inputs) {
        if v.ty() != g.ty(id) {
            return Err(invalid(format!(
                "input {} has type {}, the text expects {}",
                v.describe(),
                v.ty(),
                g.ty(id)
            )));
        }
        vars[id.index()] = Some(v.clone());
    }
    let mut shared_left = shared.iter();
    for id in g.toposort() {
        if vars[id.index()].is_some() {
            continue;
        }
        let node = g.node(id);
        let v = match &node.op {
            Op::Shared(_) => {
                let v = shared_left
                    .next()
                    .ok_or_else(|| invalid("more shared variables in the text than given".into()))?;
                if v.ty() != g.ty(id) {
                    return Err(invalid(format!(
                        "{} has type {}, the text expects {}",
                        v.describe(),
                        v.ty(),
                        g.ty(id)
                    )));
                }
                v.clone()
            }
            op => {
                let ins =
                    node.inputs.iter().map(|i| vars[i.index()].clone().expect("inputs come first")).collect();
                Var::from_parts(op.clone(), ins, g.ty(id).clone(), g.name(id).map(str::to_string))
            }
        };
        vars[id.index()] = Some(v);
    }
    if shared_left.next().is_some() {
        return Err(invalid("fewer shared variables in the text than given".into()));
    }
    Ok(g.outputs().iter().map(|o| vars[o.index()].clone().expect("every node restored")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dvector, exp, shared, sum};

    #[test]
    fn expressions_saved_together_share_their_leaves_again() {
        let x = dvector("x");
        let w = shared(vec![1.0, 2.0], "w");
        let y = exp(&x * &w) + 1.5;
        let z = sum(&y);
        let saved = save(&[y.clone(), z.clone()]).unwrap();
        assert_eq!((saved.inputs.len(), saved.shared.len()), (1, 1));
        assert!(saved.inputs[0].same(&x) && saved.shared[0].same(&w));
        let x2 = dvector("x");
        let back = load(&saved.text, std::slice::from_ref(&x2), std::slice::from_ref(&w)).unwrap();
        // The restored graphs print as the originals, over the new input.
        assert_eq!(crate::pp(&back[0]), crate::pp(&y));
        assert_eq!(crate::pp(&back[1]), crate::pp(&z));
        assert!(back[1].inputs()[0].same(&back[0]), "the shared subexpression stays shared");
        // A leaf of the wrong type is refused.
        assert!(load(&saved.text, &[crate::dmatrix("m")], &[w]).is_err());
    }
}
