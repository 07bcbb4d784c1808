//! Elementwise builders: `+ - * /` and unary `-` on every mix of `Var`, `&Var` and numbers
//! (`f64`, `f32`, `i64`, `i32`, `usize`), the math library (`exp`, `sigmoid`, …) as free
//! functions and methods, comparisons, logic, `switch`, `clip` and casts.
//!
//! Operands of lower rank are padded with leading broadcastable axes (Theano's rule).
//! A number takes the dtype of the tensors beside it when its kind allows (a float literal
//! beside an f32 tensor is f32, an integer literal beside an int32 tensor is int32), like
//! NumPy's weak scalars, as long as its value fits: an integer literal has, as in Theano,
//! the smallest integer dtype that holds it before upcasting (`int32 + 3000000000` is int64;
//! beside float32, one past the int16 range makes float64).

use super::{apply, apply_inner};
use crate::dtype::DType;
use crate::error::BuildError;
use crate::op::Op;
use crate::scalar::ScalarOp;
use crate::types::TensorType;
use crate::value::Tensor;
use crate::var::Var;

/// An operand of an elementwise op: a variable or a number.
#[derive(Clone, Debug)]
pub enum Term {
    /// A symbolic tensor.
    Var(Var),
    /// A float literal (weakly typed).
    Float(f64),
    /// An integer literal (weakly typed).
    Int(i64),
    /// A bool literal.
    Bool(bool),
}

impl From<Var> for Term {
    fn from(v: Var) -> Term {
        Term::Var(v)
    }
}
impl From<&Var> for Term {
    fn from(v: &Var) -> Term {
        Term::Var(v.clone())
    }
}
impl From<f64> for Term {
    fn from(v: f64) -> Term {
        Term::Float(v)
    }
}
impl From<f32> for Term {
    fn from(v: f32) -> Term {
        Term::Float(v as f64)
    }
}
impl From<i64> for Term {
    fn from(v: i64) -> Term {
        Term::Int(v)
    }
}
impl From<i32> for Term {
    fn from(v: i32) -> Term {
        Term::Int(v as i64)
    }
}
impl From<usize> for Term {
    /// A count or a length (`&i * batch_size`) as an integer literal; past `i64::MAX`, where
    /// no integer dtype holds it, a float literal.
    fn from(v: usize) -> Term {
        i64::try_from(v).map_or(Term::Float(v as f64), Term::Int)
    }
}
impl From<bool> for Term {
    fn from(v: bool) -> Term {
        Term::Bool(v)
    }
}

/// The constant of a literal: its dtype follows the tensors around it (`reference`), and it
/// has `ndim` broadcastable axes.
pub(crate) fn literal(t: &Term, reference: Option<DType>, ndim: usize) -> Var {
    let dtype = match (t, reference) {
        (Term::Float(_), Some(r)) if r.is_float() => r,
        (Term::Float(_), _) => DType::F64,
        (Term::Int(v), Some(r)) if r != DType::Bool => {
            // Theano's int8/int16 literals keep every other dtype; wider ones upcast it.
            if i16::try_from(*v).is_ok() {
                r
            } else if i32::try_from(*v).is_ok() {
                r.upcast(DType::I32)
            } else {
                r.upcast(DType::I64)
            }
        }
        (Term::Int(_), _) => DType::I64,
        (Term::Bool(_), _) => DType::Bool,
        (Term::Var(_), _) => unreachable!("not a literal"),
    };
    let shape = vec![1; ndim];
    let value = match *t {
        Term::Float(v) => Tensor::full(dtype, &shape, v),
        Term::Int(v) => match dtype {
            DType::I64 => Tensor::from(ndarray::ArrayD::from_elem(ndarray::IxDyn(&shape), v)),
            _ => Tensor::full(dtype, &shape, v as f64),
        },
        Term::Bool(v) => Tensor::full(dtype, &shape, v as u8 as f64),
        Term::Var(_) => unreachable!("not a literal"),
    };
    let ty = TensorType::fixed(dtype, &shape);
    Var::from_parts(Op::Constant(Box::new(value)), vec![], ty, None)
}

/// Pads `v` to `ndim` axes with leading broadcastable ones.
#[track_caller]
pub(crate) fn pad_rank(v: Var, ndim: usize) -> Result<Var, BuildError> {
    let n = v.ndim();
    if n >= ndim {
        return Ok(v);
    }
    let order = std::iter::repeat_n(None, ndim - n).chain((0..n).map(Some)).collect();
    apply_inner(Op::DimShuffle { order }, vec![v])
}

/// Builds `op(terms…)` with rank padding and literal typing.
#[track_caller]
pub fn try_elemwise(op: ScalarOp, terms: Vec<Term>) -> Result<Var, BuildError> {
    match elemwise_inner(op, terms) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.located()),
    }
}

pub(crate) fn elemwise_inner(op: ScalarOp, terms: Vec<Term>) -> Result<Var, BuildError> {
    let vars: Vec<&Var> =
        terms.iter().filter_map(|t| if let Term::Var(v) = t { Some(v) } else { None }).collect();
    for v in &vars {
        v.check()?;
    }
    let ndim = vars.iter().map(|v| v.ndim()).max().unwrap_or(0);
    // Switch's condition does not take part in the dtype of its branches.
    let data_vars = vars
        .iter()
        .enumerate()
        .filter(|(i, _)| !(op == ScalarOp::Switch && *i == 0 && matches!(terms[0], Term::Var(_))));
    let reference = data_vars.map(|(_, v)| v.dtype()).reduce(DType::upcast);
    let mut inputs = Vec::with_capacity(terms.len());
    for t in &terms {
        inputs.push(match t {
            Term::Var(v) => pad_rank(v.clone(), ndim)?,
            lit => literal(lit, reference, ndim),
        });
    }
    apply_inner(Op::Elemwise(op), inputs)
}

/// `try_elemwise` whose error is carried by the returned `Var`.
#[track_caller]
pub fn elemwise(op: ScalarOp, terms: Vec<Term>) -> Var {
    Var::from_result(try_elemwise(op, terms))
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<T: Into<Term>> std::ops::$trait<T> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: T) -> Var {
                elemwise($op, vec![Term::Var(self), rhs.into()])
            }
        }
        impl<T: Into<Term>> std::ops::$trait<T> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: T) -> Var {
                elemwise($op, vec![Term::Var(self.clone()), rhs.into()])
            }
        }
        binary_operator!(@lhs $trait, $method, $op, f64, f32, i64, i32, usize);
    };
    (@lhs $trait:ident, $method:ident, $op:expr, $($num:ty),*) => {
        $(
            impl std::ops::$trait<Var> for $num {
                type Output = Var;
                #[track_caller]
                fn $method(self, rhs: Var) -> Var {
                    elemwise($op, vec![Term::from(self), Term::Var(rhs)])
                }
            }
            impl std::ops::$trait<&Var> for $num {
                type Output = Var;
                #[track_caller]
                fn $method(self, rhs: &Var) -> Var {
                    elemwise($op, vec![Term::from(self), Term::Var(rhs.clone())])
                }
            }
        )*
    };
}

binary_operator!(Add, add, ScalarOp::Add);
binary_operator!(Sub, sub, ScalarOp::Sub);
binary_operator!(Mul, mul, ScalarOp::Mul);
binary_operator!(Div, div, ScalarOp::Div);
binary_operator!(Rem, rem, ScalarOp::Mod);

impl std::ops::Neg for Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        elemwise(ScalarOp::Neg, vec![Term::Var(self)])
    }
}

impl std::ops::Neg for &Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        elemwise(ScalarOp::Neg, vec![Term::Var(self.clone())])
    }
}

macro_rules! unary_functions {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(x: impl Into<Term>) -> Var {
                elemwise(ScalarOp::$op, vec![x.into()])
            }
        )*
        impl Var {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self) -> Var {
                    elemwise(ScalarOp::$op, vec![Term::Var(self.clone())])
                }
            )*
        }
    };
}

/// The op table's callback: a builder function and a `Var` method for every unary float
/// function (the `inline` and `math` sections), named as the op.
macro_rules! unary_float_builders {
    (
        ops { $($ops:tt)* }
        inline { $( $(#[$im:meta])* $i:ident($iname:ident, $($inline:tt)*); )* }
        math { $( $(#[$mm:meta])* $m:ident($mname:ident, $($math:tt)*); )* }
    ) => {
        unary_functions! {
            $( $(#[$im])* $iname => $i; )*
            $( $(#[$mm])* $mname => $m; )*
        }
    };
}

crate::scalar::scalar_op_table!(unary_float_builders);

unary_functions! {
    /// `|x|`.
    abs => Abs;
    /// -1, 0 or 1 by the sign of `x`.
    sign => Sign;
    /// `-x`.
    neg => Neg;
    /// `x * x`.
    sqr => Sqr;
}

macro_rules! binary_functions {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(a: impl Into<Term>, b: impl Into<Term>) -> Var {
                elemwise(ScalarOp::$op, vec![a.into(), b.into()])
            }
        )*
        impl Var {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: impl Into<Term>) -> Var {
                    elemwise(ScalarOp::$op, vec![Term::Var(self.clone()), other.into()])
                }
            )*
        }
    };
}

binary_functions! {
    /// `a ** b`; the exponent may be a number or a tensor.
    pow => Pow;
    /// Elementwise larger value (NaN wins).
    maximum => Maximum;
    /// Elementwise smaller value (NaN wins).
    minimum => Minimum;
    /// `a < b` (bool).
    lt => Lt;
    /// `a > b` (bool).
    gt => Gt;
    /// `a <= b` (bool).
    le => Le;
    /// `a >= b` (bool).
    ge => Ge;
    /// `a == b` (bool), elementwise.
    eq => Eq;
    /// `a != b` (bool), elementwise.
    neq => Neq;
    /// Logical and (bitwise on integers).
    and => And;
    /// Logical or (bitwise on integers).
    or => Or;
    /// Logical exclusive or (bitwise on integers).
    xor => Xor;
    /// `a // b`, rounded toward -inf as in Python (Theano's `int_div`); zero gradient.
    int_div => IntDiv;
    /// `a // b` (Theano's `floor_div`, the same op as `int_div`).
    floor_div => IntDiv;
    /// `a % b` with the sign of `b`, as in Python (Theano's `mod`); also the `%` operator.
    modulo => Mod;
}

/// Logical not (bitwise on integers).
#[track_caller]
pub fn not(x: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Not, vec![x.into()])
}

/// `a + b`, as a function.
#[track_caller]
pub fn add(a: impl Into<Term>, b: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Add, vec![a.into(), b.into()])
}

/// `a - b`, as a function.
#[track_caller]
pub fn sub(a: impl Into<Term>, b: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Sub, vec![a.into(), b.into()])
}

/// `a * b`, as a function.
#[track_caller]
pub fn mul(a: impl Into<Term>, b: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Mul, vec![a.into(), b.into()])
}

/// `a / b`, true division, as a function.
#[track_caller]
pub fn true_div(a: impl Into<Term>, b: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Div, vec![a.into(), b.into()])
}

/// `cond ? a : b` elementwise; `cond` is bool or integer (nonzero is true).
#[track_caller]
pub fn switch(cond: impl Into<Term>, a: impl Into<Term>, b: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Switch, vec![cond.into(), a.into(), b.into()])
}

/// Zeros of the shape and dtype of `x` (Theano's `zeros_like`).
#[track_caller]
pub fn zeros_like(x: impl AsRef<Var>) -> Var {
    elemwise(ScalarOp::Second, vec![x.as_ref().into(), Term::Int(0)])
}

/// Ones of the shape and dtype of `x` (Theano's `ones_like`).
#[track_caller]
pub fn ones_like(x: impl AsRef<Var>) -> Var {
    elemwise(ScalarOp::Second, vec![x.as_ref().into(), Term::Int(1)])
}

/// `x` limited to `[lo, hi]`.
#[track_caller]
pub fn clip(x: impl Into<Term>, lo: impl Into<Term>, hi: impl Into<Term>) -> Var {
    elemwise(ScalarOp::Clip, vec![x.into(), lo.into(), hi.into()])
}

/// `x` converted to `dtype` (NumPy's `astype`: floats to integers truncate toward 0).
#[track_caller]
pub fn cast(x: impl Into<Term>, dtype: DType) -> Var {
    elemwise(ScalarOp::Cast(dtype), vec![x.into()])
}

impl Var {
    /// Logical not (bitwise on integers).
    #[track_caller]
    pub fn not(&self) -> Var {
        not(self)
    }

    /// `self` limited to `[lo, hi]`.
    #[track_caller]
    pub fn clip(&self, lo: impl Into<Term>, hi: impl Into<Term>) -> Var {
        clip(self, lo, hi)
    }

    /// `self` converted to `dtype`.
    #[track_caller]
    pub fn cast(&self, dtype: DType) -> Var {
        cast(self, dtype)
    }

    /// `self` converted to `dtype` (NumPy's spelling).
    #[track_caller]
    pub fn astype(&self, dtype: DType) -> Var {
        cast(self, dtype)
    }
}

/// A constant or error `Var` for any term (the builders of non-elementwise ops use it).
#[track_caller]
pub(crate) fn term_var(t: Term) -> Var {
    match t {
        Term::Var(v) => v,
        lit => literal(&lit, None, 0),
    }
}

/// Applies a unary elementwise op to a `Var` (used by graph-level helpers).
#[track_caller]
pub fn unary(op: ScalarOp, x: &Var) -> Var {
    apply(Op::Elemwise(op), vec![x.clone()])
}
