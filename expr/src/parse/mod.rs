//! The expression language: Python/Theano spelling, so a line from a Theano program pastes
//! in. `lexer` turns text into tokens, `parser` (a Pratt parser with Python's precedence)
//! turns tokens into an `ast::Expr`; the `build` module of the crate turns that into a graph.
//!
//! The grammar also accepts what `tensorlift::pp` prints (`TensorConstant{2.0}`,
//! `(W \dot x)`, `|x|`, `cast{float32}(x)`, `DimShuffle{0,x}(x)`, `x.T`, `fill(a, b)`,
//! `reshape(x, [@0,-1])`, `sum(x, axis=(1,), keepdims=True)`), so a printed graph parses back.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use ast::{Expr, ExprKind, Span};
pub use parser::parse;

use std::fmt;

/// A syntax error: where it is (a byte range of the source) and what was expected there.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// The offending part of the source.
    pub span: Span,
    /// What is wrong, e.g. "expected `)` to close the `(` at column 3, found end of input".
    pub message: String,
}

impl ParseError {
    /// An error at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> ParseError {
        ParseError { span, message: message.into() }
    }

    /// The message followed by the source with a caret line under the offending columns.
    pub fn render(&self, source: &str) -> String {
        format!("{}\n{}", self.message, caret(source, self.span))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at column {})", self.message, self.span.start + 1)
    }
}

impl std::error::Error for ParseError {}

/// The source on one line (indented by two spaces) and a line of `^` under `span`.
/// Columns count characters, not bytes, so the caret lines up under non-ASCII text too.
pub fn caret(source: &str, span: Span) -> String {
    let line: String = source.chars().map(|c| if c == '\n' || c == '\t' { ' ' } else { c }).collect();
    let start = source.get(..span.start.min(source.len())).map_or(0, |s| s.chars().count());
    let len = source
        .get(span.start.min(source.len())..span.end.clamp(span.start, source.len()))
        .map_or(1, |s| s.chars().count())
        .max(1);
    format!("  {line}\n  {}{}", " ".repeat(start), "^".repeat(len))
}
