//! `--var` declarations: `NAME:TYPE` (a symbolic input), `NAME:TYPE=VALUE` (with a value),
//! and `NAME=VALUE` (float64 of the value's rank). TYPE is a Theano constructor: a prefix
//! `b` (bool), `i` (int32), `l` (int64), `f` (float32), `d` (float64) or none (floatX), and a
//! kind `scalar`, `vector`, `matrix`, `tensor3`, `tensor4`, `row` or `col`.

use crate::build::{closest, Scope};
use crate::error::{CliError, CliResult};
use crate::parse::caret;
use crate::values;
use tensorlift as tl;
use tl::{DType, TensorType, Var};

/// One declared variable.
#[derive(Clone, Debug)]
pub struct VarDecl {
    /// Its name.
    pub name: String,
    /// The symbolic input.
    pub var: Var,
    /// Its value, if one was given.
    pub value: Option<tl::Tensor>,
}

/// The kinds of the Theano constructors, with their ranks (`row`/`col` are matrices with a
/// broadcastable axis).
const KINDS: [&str; 7] = ["scalar", "vector", "matrix", "tensor3", "tensor4", "row", "col"];

/// Every type name `--var` accepts.
pub fn type_names() -> Vec<String> {
    let mut v = Vec::new();
    for p in ["", "b", "i", "l", "f", "d"] {
        for k in KINDS {
            v.push(format!("{p}{k}"));
        }
    }
    v
}

/// The type a constructor name stands for.
pub fn type_of(name: &str) -> Option<TensorType> {
    let (dtype, kind) = KINDS.iter().find_map(|k| {
        let prefix = name.strip_suffix(k)?;
        let d = match prefix {
            "" => tl::config::float_x(),
            "b" => DType::Bool,
            "i" => DType::I32,
            "l" => DType::I64,
            "f" => DType::F32,
            "d" => DType::F64,
            _ => return None,
        };
        Some((d, *k))
    })?;
    Some(match kind {
        "scalar" => TensorType::unknown(dtype, 0),
        "vector" => TensorType::unknown(dtype, 1),
        "matrix" => TensorType::unknown(dtype, 2),
        "tensor3" => TensorType::unknown(dtype, 3),
        "tensor4" => TensorType::unknown(dtype, 4),
        "row" => TensorType::new(dtype, vec![Some(1), None]),
        _ => TensorType::new(dtype, vec![None, Some(1)]),
    })
}

/// The int64 constructor of the same kind as `ty_name` (or of rank `rank`): `lvector` for
/// `dvector`, `lscalar` for a 0-d value.
fn integer_type_name(ty_name: Option<&str>, rank: usize) -> String {
    let kind = ty_name
        .and_then(|t| KINDS.iter().find(|k| t.ends_with(*k)))
        .or_else(|| KINDS.get(rank))
        .copied()
        .unwrap_or("tensor4");
    format!("l{kind}")
}

fn valid_name(n: &str) -> bool {
    let mut cs = n.chars();
    cs.next().is_some_and(|c| c.is_alphabetic() || c == '_') && cs.all(|c| c.is_alphanumeric() || c == '_')
}

/// Parses one `--var` argument.
pub fn parse_decl(spec: &str) -> CliResult<VarDecl> {
    let (head, value_src) = match spec.split_once('=') {
        Some((h, v)) => (h, Some(v)),
        None => (spec, None),
    };
    let (name, ty_name) = match head.split_once(':') {
        Some((n, t)) => (n.trim(), Some(t.trim())),
        None => (head.trim(), None),
    };
    if !valid_name(name) {
        return Err(CliError::user(format!(
            "--var {spec:?}: `{name}` is not a variable name; expected NAME:TYPE, NAME:TYPE=VALUE or NAME=VALUE (e.g. x:dmatrix=[[0,1],[-1,-2]])"
        )));
    }
    let value = match value_src {
        Some(src) => Some(values::parse_value(src).map_err(|e| {
            CliError::user(format!("--var {name}: bad value: {}\n{}", e.message, caret(src, e.span)))
        })?),
        None => None,
    };
    let ty = match (ty_name, &value) {
        (Some(t), _) => type_of(t).ok_or_else(|| {
            let names = type_names();
            let near = closest(t, names.iter().map(String::as_str));
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", near.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
            };
            CliError::user(format!(
                "--var {name}: unknown type `{t}`{hint}; expected a Theano constructor such as dscalar, fvector, dmatrix, lvector, itensor3"
            ))
        })?,
        (None, Some(v)) => TensorType::unknown(DType::F64, v.shape.len()),
        (None, None) => {
            return Err(CliError::user(format!(
                "--var {spec:?}: give a type or a value: {name}:dvector, {name}:dmatrix=[[1,2],[3,4]] or {name}=2.5"
            )))
        }
    };
    // Decimal text for a float type is rounded to it (`x:fvector=[0.1]`), but an integer is
    // converted only when the float type holds it exactly (the library's rule for every
    // other conversion, checked when the function is called).
    if let (Some(v), true) = (&value, ty.dtype.is_float()) {
        let inexact = v.data.iter().find_map(|s| match *s {
            values::Scalar::Int(i) if !values::exact_in_float(i, ty.dtype) => Some(i),
            _ => None,
        });
        if let Some(i) = inexact {
            let nearest =
                if ty.dtype == DType::F32 { format!("{:?}", i as f32) } else { format!("{:?}", i as f64) };
            let default = if ty_name.is_none() { " (the type of NAME=VALUE)" } else { "" };
            let int_ty = integer_type_name(ty_name, v.shape.len());
            return Err(CliError::user(format!(
                "--var {name}: the integer {i} is not exactly representable in {}{default}, which would round it to {nearest}; \
                 declare an integer type to keep it exact (--var {name}:{int_ty}={}) or write the float you mean ({nearest})",
                ty.dtype,
                value_src.unwrap_or_default().trim(),
            )));
        }
    }
    let tensor = value.map(|v| {
        let t = v.to_tensor();
        if ty.dtype.is_float() {
            t.cast(ty.dtype)
        } else {
            t
        }
    });
    if let Some(t) = &tensor {
        if !ty.accepts_shape(t.shape()) {
            return Err(CliError::user(format!(
                "--var {name}: the value has shape {:?}, which does not fit type {ty}",
                t.shape()
            )));
        }
    }
    let var = tl::input(name, ty);
    Ok(VarDecl { name: name.to_string(), var, value: tensor })
}

/// All declarations, and a scope with them. A name declared twice is an error.
pub fn parse_decls(specs: &[String]) -> CliResult<(Vec<VarDecl>, Scope)> {
    let mut decls: Vec<VarDecl> = Vec::new();
    let mut scope = Scope::new();
    for s in specs {
        let d = parse_decl(s)?;
        if decls.iter().any(|e| e.name == d.name) {
            return Err(CliError::user(format!("--var {}: declared twice", d.name)));
        }
        scope.declare(&d.name, d.var.clone());
        decls.push(d);
    }
    Ok((decls, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations() {
        let d = parse_decl("x:dmatrix=[[0,1],[-1,-2]]").unwrap();
        assert_eq!(d.var.ndim(), 2);
        assert_eq!(d.value.unwrap().dtype(), DType::F64);
        let d = parse_decl("y=[1,2]").unwrap();
        assert_eq!(d.value.unwrap().dtype(), DType::F64);
        assert_eq!(parse_decl("z:lvector").unwrap().var.dtype(), DType::I64);
        assert!(parse_decl("x:dmatrx").unwrap_err().to_string().contains("dmatrix"));
        assert!(parse_decl("x:dvector=[[1]]").is_err());
        assert!(parse_decl("x").is_err());
        assert!(parse_decl("x=[[1],[2,3]]").unwrap_err().to_string().contains("ragged"));
    }
}
