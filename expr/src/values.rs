//! Concrete values written in the expression language: numbers (`2`, `-1.5e3`, `inf`,
//! `-inf`, `nan`), booleans, and nested lists (`[[1,2,3],[4,5,6]]`), for `--var x=VALUE`
//! and for list literals inside expressions; and the NumPy-printed arrays `pp` shows inside
//! `TensorConstant{[1. 2.]}`.

use crate::parse::ast::{Expr, ExprKind, Number, UnOp};
use crate::parse::parser::MAX_DEPTH;
use crate::parse::{ParseError, Span};
use tensorlift_ir as tl;

/// A scalar of a literal value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Names that stand for numbers.
pub const CONSTANT_NAMES: [(&str, f64); 5] = [
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
    ("NaN", f64::NAN),
    ("pi", std::f64::consts::PI),
    ("e", std::f64::consts::E),
];

/// The number a name stands for (`inf`, `nan`, `pi`, `e`), if any.
pub fn named_constant(name: &str) -> Option<f64> {
    CONSTANT_NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// True when the integer `i` converts to the float dtype `dtype` without rounding (for a
/// non-float dtype: true).
pub fn exact_in_float(i: i64, dtype: tl::DType) -> bool {
    // Through i128: `2^63 as i64` would saturate back to `i64::MAX` and look exact.
    match dtype {
        tl::DType::F32 => (i as f32) as i128 == i as i128,
        tl::DType::F64 => (i as f64) as i128 == i as i128,
        _ => true,
    }
}

/// A rectangular array of scalars, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    /// The lengths of the axes.
    pub shape: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<Scalar>,
}

impl Literal {
    /// The tensor: bool if every element is a bool, int64 if every element is an integer
    /// (NumPy's rule), float64 otherwise.
    pub fn to_tensor(&self) -> tl::Tensor {
        let shape = ndarray::IxDyn(&self.shape);
        if !self.data.is_empty() && self.data.iter().all(|s| matches!(s, Scalar::Bool(_))) {
            let v: Vec<bool> = self.data.iter().map(|s| matches!(s, Scalar::Bool(true))).collect();
            return tl::Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape matches data"));
        }
        if !self.data.is_empty() && self.data.iter().all(|s| matches!(s, Scalar::Int(_))) {
            let v: Vec<i64> = self.data.iter().map(|s| if let Scalar::Int(i) = s { *i } else { 0 }).collect();
            return tl::Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape matches data"));
        }
        tl::Tensor::from(ndarray::ArrayD::from_shape_vec(shape, self.to_f64()).expect("shape matches data"))
    }

    /// The elements as float64.
    pub fn to_f64(&self) -> Vec<f64> {
        self.data
            .iter()
            .map(|s| match *s {
                Scalar::Int(i) => i as f64,
                Scalar::Float(f) => f,
                Scalar::Bool(b) => b as u8 as f64,
            })
            .collect()
    }
}

/// An error in a literal value, at a place in its source.
pub type ValueResult<T> = Result<T, ParseError>;

/// The literal an expression denotes, if it is one: numbers, `-number`, `inf`/`nan`/`pi`,
/// `True`/`False`, and nested lists of those. Ragged lists are an error.
pub fn literal(e: &Expr) -> ValueResult<Literal> {
    match &e.kind {
        ExprKind::List(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for it in items {
                parts.push((literal(it)?, it.span));
            }
            stack(parts, e.span)
        }
        _ => Ok(Literal { shape: vec![], data: vec![scalar(e)?] }),
    }
}

/// Joins rows of equal shape along a new first axis.
fn stack(parts: Vec<(Literal, Span)>, span: Span) -> ValueResult<Literal> {
    let Some(first) = parts.first() else {
        return Ok(Literal { shape: vec![0], data: vec![] });
    };
    let inner = first.0.shape.clone();
    let mut data = Vec::new();
    for (k, (p, s)) in parts.iter().enumerate() {
        if p.shape != inner {
            return Err(ParseError::new(
                *s,
                format!(
                    "ragged nested list: element {k} has shape {:?}, element 0 has shape {:?} (every row needs the same length)",
                    p.shape, inner
                ),
            ));
        }
        data.extend_from_slice(&p.data);
    }
    let _ = span;
    let mut shape = vec![parts.len()];
    shape.extend(inner);
    Ok(Literal { shape, data })
}

/// The scalar an expression denotes.
pub fn scalar(e: &Expr) -> ValueResult<Scalar> {
    match &e.kind {
        ExprKind::Num(Number::Int(i)) => Ok(Scalar::Int(*i)),
        ExprKind::Num(Number::Float(f)) => Ok(Scalar::Float(*f)),
        ExprKind::Bool(b) => Ok(Scalar::Bool(*b)),
        ExprKind::Name(n) if named_constant(n).is_some() => Ok(Scalar::Float(named_constant(n).expect("checked"))),
        ExprKind::Attr(_, n) if named_constant(n).is_some() => Ok(Scalar::Float(named_constant(n).expect("checked"))),
        ExprKind::Unary(op @ (UnOp::Neg | UnOp::Pos), x) => match (op, scalar(x)?) {
            (UnOp::Pos, s) => Ok(s),
            (_, Scalar::Int(i)) => Ok(i.checked_neg().map_or(Scalar::Float(-(i as f64)), Scalar::Int)),
            (_, Scalar::Float(f)) => Ok(Scalar::Float(-f)),
            (_, Scalar::Bool(_)) => Err(ParseError::new(e.span, "cannot negate a boolean in a value")),
        },
        _ => Err(ParseError::new(
            e.span,
            "expected a value: a number (`2`, `-1.5`, `1e-3`, `inf`, `nan`), `True`/`False`, or a nested list such as `[[1,2],[3,4]]`",
        )),
    }
}

/// Parses a value given on the command line (`--var x=[[1,2],[3,4]]`).
pub fn parse_value(src: &str) -> ValueResult<Literal> {
    let e = crate::parse::parse(src)?;
    literal(&e)
}

/// Parses the body of `TensorConstant{...}` as `pp` prints it: a number (`2.0`, `-4.0`,
/// `inf`, `NaN`, `3`), `true`/`false`, or a NumPy-printed array (`[[1. 2.] [3. 4.]]`).
pub fn parse_constant_body(body: &str) -> Result<Literal, String> {
    let b = body.trim();
    if b.starts_with('[') {
        if b.contains(" of ") {
            return Err(format!(
                "`TensorConstant{{{b}}}` is a printed summary of a large constant: its values are not in the text"
            ));
        }
        let mut chars = b.chars().peekable();
        let lit = numpy_array(&mut chars, 1)?;
        if chars.any(|c| !c.is_whitespace()) {
            return Err(format!("unexpected text after the array in `TensorConstant{{{b}}}`"));
        }
        return Ok(lit);
    }
    Ok(Literal { shape: vec![], data: vec![constant_scalar(b)?] })
}

fn constant_scalar(s: &str) -> Result<Scalar, String> {
    match s {
        "true" | "True" => return Ok(Scalar::Bool(true)),
        "false" | "False" => return Ok(Scalar::Bool(false)),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Scalar::Int(i));
    }
    let f = match s {
        "nan" | "NaN" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse::<f64>().map_err(|_| format!("`{s}` is not a number"))?,
    };
    Ok(Scalar::Float(f))
}

/// The array at a `[` that opens nesting level `depth` (1 for the outermost): deeper than
/// the parser's limit is an error, as for a nested list written in an expression.
fn numpy_array(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    depth: usize,
) -> Result<Literal, String> {
    if depth > MAX_DEPTH {
        return Err(format!("printed array nested too deeply (more than {MAX_DEPTH} levels)"));
    }
    // At '['.
    chars.next();
    let mut rows: Vec<(Literal, Span)> = Vec::new();
    let mut scalars: Vec<Scalar> = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.peek() {
            None => return Err("unterminated `[` in a printed array".into()),
            Some(']') => {
                chars.next();
                break;
            }
            Some('[') => rows.push((numpy_array(chars, depth + 1)?, Span::default())),
            Some(_) => {
                let mut tok = String::new();
                while chars.peek().is_some_and(|c| !c.is_whitespace() && *c != ']' && *c != '[' && *c != ',')
                {
                    tok.push(chars.next().expect("peeked"));
                }
                let tok = tok.strip_suffix('.').map_or(tok.clone(), |t| format!("{t}.0"));
                scalars.push(constant_scalar(&tok)?);
            }
        }
    }
    if !rows.is_empty() && !scalars.is_empty() {
        return Err("a printed array mixes numbers and rows".into());
    }
    if rows.is_empty() {
        let floatish = scalars.iter().any(|s| matches!(s, Scalar::Float(_)));
        let data = if floatish {
            scalars
                .into_iter()
                .map(|s| match s {
                    Scalar::Int(i) => Scalar::Float(i as f64),
                    o => o,
                })
                .collect::<Vec<_>>()
        } else {
            scalars
        };
        return Ok(Literal { shape: vec![data.len()], data });
    }
    stack(rows, Span::default()).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let l = parse_value("[[1,2,3],[4,5,6]]").unwrap();
        assert_eq!(l.shape, vec![2, 3]);
        assert_eq!(parse_value("-inf").unwrap().to_f64(), vec![f64::NEG_INFINITY]);
        assert!(parse_value("[[1,2],[3]]").unwrap_err().message.contains("ragged"));
        assert!(parse_value("x").is_err());
        assert_eq!(parse_value("[]").unwrap().shape, vec![0]);
    }

    #[test]
    fn printed_constants() {
        assert_eq!(parse_constant_body("2.0").unwrap().data, vec![Scalar::Float(2.0)]);
        assert_eq!(parse_constant_body("3").unwrap().data, vec![Scalar::Int(3)]);
        assert_eq!(parse_constant_body("true").unwrap().data, vec![Scalar::Bool(true)]);
        let l = parse_constant_body("[[1. 2.] [3. 4.]]").unwrap();
        assert_eq!(l.shape, vec![2, 2]);
        assert_eq!(l.to_f64(), vec![1.0, 2.0, 3.0, 4.0]);
        assert!(parse_constant_body("[2, 3] of float64").is_err());
        // #12 item 7: nesting beyond the parser's limit is an error, not a stack overflow.
        let deep = "[".repeat(30_000) + "1" + &"]".repeat(30_000);
        assert!(parse_constant_body(&deep).unwrap_err().contains("nested too deeply"));
        let ok = "[".repeat(MAX_DEPTH) + "1" + &"]".repeat(MAX_DEPTH);
        assert_eq!(parse_constant_body(&ok).unwrap().shape, vec![1; MAX_DEPTH]);
    }

    #[test]
    fn integers_exact_in_floats() {
        assert!(exact_in_float(1 << 53, tl::DType::F64));
        assert!(!exact_in_float((1 << 53) + 1, tl::DType::F64));
        assert!(exact_in_float(1 << 24, tl::DType::F32));
        assert!(!exact_in_float((1 << 24) + 1, tl::DType::F32));
        assert!(exact_in_float(i64::MIN, tl::DType::F64));
        assert!(!exact_in_float(i64::MAX, tl::DType::F64));
        assert!(!exact_in_float(i64::MAX, tl::DType::F32));
    }
}
