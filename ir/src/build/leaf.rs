//! Leaves of a graph: typed inputs under every Theano spelling (`dscalar`, `fvector`,
//! `lmatrix`, `row`, `tensor`, …), constants, and shared variables.

use crate::config::float_x;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::op::Op;
use crate::shared::SharedVar;
use crate::types::TensorType;
use crate::value::{IntoTensor, Tensor};
use crate::var::Var;

/// A graph input of any type: `tensor("x", DType::F64, &[None, Some(3)])`.
pub fn tensor(name: &str, dtype: DType, shape: &[Option<usize>]) -> Var {
    Var::from_parts(Op::Input, vec![], TensorType::new(dtype, shape.to_vec()), Some(name.into()))
}

/// A graph input of a given type.
pub fn input(name: &str, ty: TensorType) -> Var {
    Var::from_parts(Op::Input, vec![], ty, Some(name.into()))
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $dtype:expr, $ndim:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(name: &str) -> Var {
                input(name, TensorType::unknown($dtype, $ndim))
            }
        )*
    };
}

constructors! {
    /// A float64 0-d input.
    dscalar => DType::F64, 0;
    /// A float64 vector input.
    dvector => DType::F64, 1;
    /// A float64 matrix input.
    dmatrix => DType::F64, 2;
    /// A float64 3-d input.
    dtensor3 => DType::F64, 3;
    /// A float64 4-d input.
    dtensor4 => DType::F64, 4;
    /// A float32 0-d input.
    fscalar => DType::F32, 0;
    /// A float32 vector input.
    fvector => DType::F32, 1;
    /// A float32 matrix input.
    fmatrix => DType::F32, 2;
    /// A float32 3-d input.
    ftensor3 => DType::F32, 3;
    /// A float32 4-d input.
    ftensor4 => DType::F32, 4;
    /// An int64 0-d input.
    lscalar => DType::I64, 0;
    /// An int64 vector input.
    lvector => DType::I64, 1;
    /// An int64 matrix input.
    lmatrix => DType::I64, 2;
    /// An int64 3-d input.
    ltensor3 => DType::I64, 3;
    /// An int64 4-d input.
    ltensor4 => DType::I64, 4;
    /// An int32 0-d input.
    iscalar => DType::I32, 0;
    /// An int32 vector input.
    ivector => DType::I32, 1;
    /// An int32 matrix input.
    imatrix => DType::I32, 2;
    /// An int32 3-d input.
    itensor3 => DType::I32, 3;
    /// An int32 4-d input.
    itensor4 => DType::I32, 4;
    /// A bool 0-d input.
    bscalar => DType::Bool, 0;
    /// A bool vector input.
    bvector => DType::Bool, 1;
    /// A bool matrix input.
    bmatrix => DType::Bool, 2;
    /// A bool 3-d input.
    btensor3 => DType::Bool, 3;
    /// A bool 4-d input.
    btensor4 => DType::Bool, 4;
}

/// A `floatX` 0-d input (see `config::float_x`).
pub fn scalar(name: &str) -> Var {
    input(name, TensorType::unknown(float_x(), 0))
}

/// A `floatX` vector input.
pub fn vector(name: &str) -> Var {
    input(name, TensorType::unknown(float_x(), 1))
}

/// A `floatX` matrix input.
pub fn matrix(name: &str) -> Var {
    input(name, TensorType::unknown(float_x(), 2))
}

/// A `floatX` 3-d input.
pub fn tensor3(name: &str) -> Var {
    input(name, TensorType::unknown(float_x(), 3))
}

/// A `floatX` 4-d input.
pub fn tensor4(name: &str) -> Var {
    input(name, TensorType::unknown(float_x(), 4))
}

/// A `floatX` row: a matrix whose first axis has length 1 and broadcasts.
pub fn row(name: &str) -> Var {
    input(name, TensorType::new(float_x(), vec![Some(1), None]))
}

/// A `floatX` column: a matrix whose second axis has length 1 and broadcasts.
pub fn col(name: &str) -> Var {
    input(name, TensorType::new(float_x(), vec![None, Some(1)]))
}

/// A float64 row (Theano's `drow`): a matrix whose first axis has length 1.
pub fn drow(name: &str) -> Var {
    input(name, TensorType::new(DType::F64, vec![Some(1), None]))
}

/// A float64 column (Theano's `dcol`): a matrix whose second axis has length 1.
pub fn dcol(name: &str) -> Var {
    input(name, TensorType::new(DType::F64, vec![None, Some(1)]))
}

/// A float32 row (Theano's `frow`).
pub fn frow(name: &str) -> Var {
    input(name, TensorType::new(DType::F32, vec![Some(1), None]))
}

/// A float32 column (Theano's `fcol`).
pub fn fcol(name: &str) -> Var {
    input(name, TensorType::new(DType::F32, vec![None, Some(1)]))
}

/// A constant whose static shape is the value's shape.
pub fn constant(value: impl Into<Tensor>) -> Var {
    let t: Tensor = value.into();
    let ty = TensorType::fixed(t.dtype(), t.shape());
    Var::from_parts(Op::Constant(Box::new(t)), vec![], ty, None)
}

/// A constant with a name, shown by `pp` and `debugprint` (Theano's
/// `constant(value, name=…)`).
pub fn named_constant(value: impl Into<Tensor>, name: &str) -> Var {
    let t: Tensor = value.into();
    let ty = TensorType::fixed(t.dtype(), t.shape());
    Var::from_parts(Op::Constant(Box::new(t)), vec![], ty, Some(name.to_string()))
}

/// A shared variable: state that lives outside every function, usable as a `Var`.
/// Its type has the value's dtype and rank with no fixed axis length, so `set_value` may
/// change lengths but not dtype or rank.
/// Data that does not form a tensor (ragged nested `Vec`s) gives an error `Var`.
#[track_caller]
pub fn shared(value: impl IntoTensor, name: &str) -> Var {
    match value.into_tensor() {
        Ok(t) => {
            let ty = TensorType::unknown(t.dtype(), t.ndim());
            Var::from_result(
                shared_with_type(t, name, ty)
                    .map_err(|e| crate::BuildError::invalid("shared", e.to_string())),
            )
        }
        Err(e) => Var::from_error(crate::BuildError::invalid("shared", e.to_string())),
    }
}

/// A shared variable holding `value` converted to `dtype`: Theano's
/// `shared(numpy.asarray(value, dtype=floatX), name)`, the usual way to make parameters of the
/// configured float width from `f64` data. The conversion is NumPy's `astype` (float64 to
/// float32 rounds to nearest, floats to integers truncate toward zero); otherwise as
/// [`shared`].
///
/// ```
/// use tensorlift_ir as tl;
/// let w = tl::shared_as(vec![vec![0.1, 0.2], vec![0.3, 0.4]], tl::DType::F32, "W");
/// assert_eq!(w.dtype(), tl::DType::F32);
/// assert_eq!(w.get_value().unwrap().to_vec::<f32>().unwrap(), [0.1f32, 0.2, 0.3, 0.4]);
/// // The configured float type (`floatX`), as Theano's tutorials write it.
/// let b = tl::shared_as(vec![0.0; 3], tl::config::float_x(), "b");
/// assert_eq!(b.dtype(), tl::config::float_x());
/// ```
#[track_caller]
pub fn shared_as(value: impl IntoTensor, dtype: DType, name: &str) -> Var {
    match value.into_tensor() {
        Ok(t) => shared(t.cast(dtype), name),
        Err(e) => Var::from_error(crate::BuildError::invalid("shared", e.to_string())),
    }
}

/// A shared variable with an explicit type (e.g. static lengths or broadcastable axes).
pub fn shared_with_type(value: impl Into<Tensor>, name: &str, ty: TensorType) -> Result<Var, ValueError> {
    let cell = SharedVar::new(name, ty.clone(), value.into())?;
    Ok(Var::from_parts(Op::Shared(cell), vec![], ty, Some(name.into())))
}

impl Var {
    /// The storage of a shared variable, `None` for other variables.
    pub fn as_shared(&self) -> Option<&SharedVar> {
        match self.op() {
            Op::Shared(s) => Some(s),
            _ => None,
        }
    }

    /// The current value of a shared variable.
    pub fn get_value(&self) -> Result<Tensor, ValueError> {
        self.as_shared().map(SharedVar::get).ok_or_else(|| {
            ValueError::invalid("get_value", format!("{} is not a shared variable", self.describe()))
        })
    }

    /// Sets a shared variable; a value of another dtype or rank is refused and the old
    /// value stays.
    pub fn set_value(&self, value: impl IntoTensor) -> Result<(), ValueError> {
        self.as_shared()
            .ok_or_else(|| {
                ValueError::invalid("set_value", format!("{} is not a shared variable", self.describe()))
            })?
            .set(value.into_tensor()?)
    }

    /// Sets the default update of a shared variable (Theano's `default_update`): the new
    /// value a function writes after each call when it does not update the variable
    /// itself (and unless built with `no_default_updates`). `None` removes it. The
    /// expression may read the variable (`v + 1`); it is kept with the variable replaced by
    /// a placeholder, so the variable never owns a graph that owns it.
    #[track_caller]
    pub fn set_default_update(&self, update: Option<&Var>) -> Result<(), crate::BuildError> {
        let cell = self.as_shared().ok_or_else(|| {
            crate::BuildError::invalid(
                "default_update",
                format!("{} is not a shared variable", self.describe()),
            )
        })?;
        let Some(update) = update else {
            cell.set_attachment(None);
            return Ok(());
        };
        update.check()?;
        if update.dtype() != self.dtype() || update.ndim() != self.ndim() {
            return Err(crate::BuildError::invalid(
                "default_update",
                format!(
                    "the update of {} has type {}, the variable has type {}",
                    self.describe(),
                    update.ty(),
                    self.ty()
                ),
            ));
        }
        let placeholder = input(self.name().as_deref().unwrap_or("shared"), self.ty().clone());
        let expr = crate::build::clone_replace(
            std::slice::from_ref(update),
            &[(self.clone(), placeholder.clone())],
        )?
        .remove(0);
        cell.set_attachment(Some(std::sync::Arc::new(DefaultUpdate { placeholder, expr })));
        Ok(())
    }

    /// The default update of a shared variable, reading the variable itself; `None` when
    /// it has none (or is not shared).
    pub fn default_update(&self) -> Option<Var> {
        let attached = self.as_shared()?.attachment()?;
        let d = attached.downcast_ref::<DefaultUpdate>()?;
        crate::build::clone_replace(std::slice::from_ref(&d.expr), &[(d.placeholder.clone(), self.clone())])
            .ok()
            .map(|mut v| v.remove(0))
    }

    /// The value of a constant, `None` for other variables.
    pub fn constant_value(&self) -> Option<&Tensor> {
        match self.op() {
            Op::Constant(t) => Some(t),
            _ => None,
        }
    }
}

/// A shared variable's default update as it is kept: `expr` reads `placeholder` (an input
/// of the variable's type) where it reads the variable.
struct DefaultUpdate {
    placeholder: Var,
    expr: Var,
}
