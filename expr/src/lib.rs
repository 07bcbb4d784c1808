//! `tensorlift-expr`: the expression language — Python/Theano spelling (`1/(1+T.exp(-x))`,
//! `sum(x**2, axis=1)`, `dot(W, x) + b`, `x[1:, ::2]`, `x.shape[0]`) parsed into a graph
//! built with the library's own builders, so a formula from a Theano notebook pastes into
//! Rust ([`parse_expr`], re-exported as `tensorlift::parse`) and into the `tensorlift`
//! command unchanged.
//!
//! - `parse`: lexer, Pratt parser with Python's precedence, syntax tree.
//! - `build`: from syntax tree to `Var`, with the table of known function names.
//! - `values`: literal values (`[[1,2],[3,4]]`) and the constants `pp` prints.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod build;
pub mod parse;
pub mod values;

use tensorlift_ir::{BuildError, Var};

/// Parses `src` into an expression over `vars` (each known in `src` by its name; an unnamed
/// variable cannot be referred to), type-checked as it is built. A syntax, name or type
/// error is a [`BuildError`] whose message shows the expression with a caret under the
/// offending part.
///
/// ```
/// use tensorlift_ir as tl;
///
/// let x = tl::dvector("x");
/// let s = tensorlift_expr::parse_expr("1/(1+T.exp(-x))", &[&x]).unwrap();
/// assert_eq!(tl::pp(&s), "(TensorConstant{1.0} / (TensorConstant{1.0} + exp((-x))))");
/// let e = tensorlift_expr::parse_expr("exp(x) +", &[&x]).unwrap_err();
/// assert!(e.to_string().contains("syntax error"));
/// ```
pub fn parse_expr(src: &str, vars: &[&Var]) -> Result<Var, BuildError> {
    let mut scope = build::Scope::new();
    for v in vars {
        if let Some(name) = v.name().filter(|n| !n.is_empty()) {
            scope.declare(&name, (*v).clone());
        }
    }
    build::build(src, &scope).map(|b| b.var).map_err(|e| BuildError::invalid("parse", e.render(src)))
}
