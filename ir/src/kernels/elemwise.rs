//! Elementwise kernels: inputs converted to the op's compute dtype, broadcast statically,
//! then mapped with one scalar function chosen before the loop.

use super::num::{FloatElem, Num};
use super::{broadcast_runtime, KernelInput};
use crate::dtype::DType;
use crate::error::ValueError;
use crate::scalar::ScalarOp;
use crate::types::TensorType;
use crate::value::{Tensor, TensorElement};
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};
use std::borrow::Cow;

pub(super) fn eval(op: ScalarOp, inputs: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    let shape = broadcast_runtime(op.name(), inputs)?;
    crate::value::check_alloc(op.name(), &shape, out.dtype)?;
    if let ScalarOp::Cast(d) = op {
        return Ok(inputs[0].value.cast(d));
    }
    if op == ScalarOp::Second {
        let v = inputs[1].value.cast(out.dtype);
        return Ok(
            crate::map_array!(&v, a => a.broadcast(IxDyn(&shape)).expect("checked shape").to_shared()),
        );
    }
    let dtypes: Vec<DType> = inputs.iter().map(|i| i.value.dtype()).collect();
    let cd = op.compute_dtype(&dtypes);
    if op == ScalarOp::Switch {
        let cond = inputs[0].value.cast(DType::Bool);
        let cond = cond.array::<bool>()?.broadcast(IxDyn(&shape)).expect("checked shape").to_owned();
        let a = inputs[1].value.cast(cd);
        let b = inputs[2].value.cast(cd);
        return Ok(crate::map_array!(&a, av => {
            let bv = b.array().expect("same dtype");
            let av = av.broadcast(IxDyn(&shape)).expect("checked shape");
            let bv = bv.broadcast(IxDyn(&shape)).expect("checked shape");
            Zip::from(&cond).and(&av).and(&bv).map_collect(|&c, &x, &y| if c { x } else { y }).into_shared()
        }));
    }
    let conv: Vec<Cow<'_, Tensor>> = inputs
        .iter()
        .map(|i| if i.value.dtype() == cd { Cow::Borrowed(i.value) } else { Cow::Owned(i.value.cast(cd)) })
        .collect();
    let ins: Vec<&Tensor> = conv.iter().map(|c| c.as_ref()).collect();
    if op == ScalarOp::Pow {
        match cd {
            DType::I64 => check_int_pow::<i64>(&ins, &shape)?,
            DType::I32 => check_int_pow::<i32>(&ins, &shape)?,
            _ => {}
        }
    }
    let result = match cd {
        DType::F64 => float_kernel::<f64>(op, &ins, &shape),
        DType::F32 => float_kernel::<f32>(op, &ins, &shape),
        DType::I64 => int_kernel::<i64>(op, &ins, &shape),
        DType::I32 => int_kernel::<i32>(op, &ins, &shape),
        DType::Bool => bool_kernel(op, &ins, &shape),
    };
    let t = result.ok_or_else(|| ValueError::invalid(op.name(), format!("not defined for {cd}")))?;
    debug_assert_eq!(t.dtype(), out.dtype, "{} result dtype", op.name());
    Ok(t)
}

fn views<'a, T: TensorElement>(ins: &[&'a Tensor], shape: &[usize]) -> Vec<ArrayViewD<'a, T>> {
    ins.iter()
        .map(|&t| t.broadcast_view::<T>(shape).expect("converted to compute dtype, checked shape"))
        .collect()
}

fn map1<T: Copy, U: TensorElement>(v: &[ArrayViewD<'_, T>], f: impl Fn(T) -> U) -> Tensor {
    U::wrap(v[0].mapv(f).into_shared())
}

fn map2<T: Copy, U: TensorElement>(v: &[ArrayViewD<'_, T>], f: impl Fn(T, T) -> U) -> Tensor {
    U::wrap(Zip::from(&v[0]).and(&v[1]).map_collect(|&a, &b| f(a, b)).into_shared())
}

fn map3<T: Copy, U: TensorElement>(v: &[ArrayViewD<'_, T>], f: impl Fn(T, T, T) -> U) -> Tensor {
    U::wrap(Zip::from(&v[0]).and(&v[1]).and(&v[2]).map_collect(|&a, &b, &c| f(a, b, c)).into_shared())
}

/// n-ary fold for `add`/`mul`: one pass per extra operand.
fn fold<T: TensorElement>(v: &[ArrayViewD<'_, T>], f: fn(T, T) -> T) -> Tensor {
    let mut acc: ArrayD<T> = Zip::from(&v[0]).and(&v[1]).map_collect(|&a, &b| f(a, b));
    for w in &v[2..] {
        Zip::from(&mut acc).and(w).for_each(|a, &b| *a = f(*a, b));
    }
    T::wrap(acc.into_shared())
}

fn compare<T: TensorElement>(op: ScalarOp, v: &[ArrayViewD<'_, T>]) -> Option<Tensor> {
    use ScalarOp::*;
    Some(match op {
        Lt => map2(v, |a: T, b: T| a < b),
        Gt => map2(v, |a: T, b: T| a > b),
        Le => map2(v, |a: T, b: T| a <= b),
        Ge => map2(v, |a: T, b: T| a >= b),
        Eq => map2(v, |a: T, b: T| a == b),
        Neq => map2(v, |a: T, b: T| a != b),
        _ => return None,
    })
}

/// NaN-propagating maximum/minimum (NumPy's `maximum`/`minimum`).
fn max_nan<T: TensorElement>(a: T, b: T) -> T {
    if a.is_nan() || a >= b {
        a
    } else if b.is_nan() || b > a {
        b
    } else {
        a
    }
}

fn min_nan<T: TensorElement>(a: T, b: T) -> T {
    if a.is_nan() || a <= b {
        a
    } else if b.is_nan() || b < a {
        b
    } else {
        a
    }
}

fn clip<T: TensorElement>(x: T, lo: T, hi: T) -> T {
    min_nan(max_nan(x, lo), hi)
}

fn numeric<T: Num>(op: ScalarOp, v: &[ArrayViewD<'_, T>]) -> Option<Tensor> {
    use ScalarOp::*;
    Some(match op {
        Add => fold(v, T::add),
        Mul => fold(v, T::mul),
        Sub => map2(v, T::sub),
        Pow => map2(v, T::pow),
        IntDiv => map2(v, T::floor_div),
        Mod => map2(v, T::modulo),
        Maximum => map2(v, max_nan::<T>),
        Minimum => map2(v, min_nan::<T>),
        Neg => map1(v, T::neg),
        Abs => map1(v, T::abs),
        Sign => map1(v, T::sign),
        Sqr => map1(v, |a| T::mul(a, a)),
        Clip => map3(v, clip::<T>),
        _ => return compare(op, v),
    })
}

fn float_kernel<F: FloatElem>(op: ScalarOp, ins: &[&Tensor], shape: &[usize]) -> Option<Tensor> {
    let v = views::<F>(ins, shape);
    if op == ScalarOp::Div {
        return Some(map2(&v, |a: F, b: F| a / b));
    }
    match op.unary::<F>() {
        Some(unary) => Some(map1(&v, unary)),
        None => numeric(op, &v),
    }
}

trait Bits:
    Num
    + std::ops::BitAnd<Output = Self>
    + std::ops::BitOr<Output = Self>
    + std::ops::BitXor<Output = Self>
    + std::ops::Not<Output = Self>
{
}
impl Bits for i32 {}
impl Bits for i64 {}

/// Integer `0 ** -n` has no value (NumPy: "Integers to negative integer powers are not
/// allowed"): an error before anything is computed.
fn check_int_pow<I: Bits>(ins: &[&Tensor], shape: &[usize]) -> Result<(), ValueError> {
    let v = views::<I>(ins, shape);
    let zero = I::zero();
    if Zip::from(&v[0]).and(&v[1]).all(|&a, &b| a != zero || b >= zero) {
        return Ok(());
    }
    Err(ValueError::invalid(
        "pow",
        "integer 0 cannot be raised to a negative power (integers to negative integer powers have no value at 0)",
    ))
}

fn int_kernel<I: Bits>(op: ScalarOp, ins: &[&Tensor], shape: &[usize]) -> Option<Tensor> {
    let v = views::<I>(ins, shape);
    match op {
        ScalarOp::And => Some(map2(&v, |a: I, b: I| a & b)),
        ScalarOp::Or => Some(map2(&v, |a: I, b: I| a | b)),
        ScalarOp::Xor => Some(map2(&v, |a: I, b: I| a ^ b)),
        ScalarOp::Not => Some(map1(&v, |a: I| !a)),
        _ => numeric(op, &v),
    }
}

/// Bool kernels: logic, comparisons, and the arithmetic closed on bools (NumPy's: `add` and
/// `maximum` are or, `mul` and `minimum` and, `abs` and `sqr` the identity).
fn bool_kernel(op: ScalarOp, ins: &[&Tensor], shape: &[usize]) -> Option<Tensor> {
    let v = views::<bool>(ins, shape);
    match op {
        ScalarOp::And | ScalarOp::Minimum => Some(map2(&v, |a: bool, b: bool| a & b)),
        ScalarOp::Or | ScalarOp::Maximum => Some(map2(&v, |a: bool, b: bool| a | b)),
        ScalarOp::Xor => Some(map2(&v, |a: bool, b: bool| a ^ b)),
        ScalarOp::Add => Some(fold(&v, |a: bool, b: bool| a | b)),
        ScalarOp::Mul => Some(fold(&v, |a: bool, b: bool| a & b)),
        ScalarOp::Abs | ScalarOp::Sqr => Some(map1(&v, |a: bool| a)),
        ScalarOp::Clip => Some(map3(&v, |x: bool, lo: bool, hi: bool| (x | lo) & hi)),
        ScalarOp::Not => Some(map1(&v, |a: bool| !a)),
        _ => compare(op, &v),
    }
}
