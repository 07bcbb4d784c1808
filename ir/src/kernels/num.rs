//! Scalar arithmetic shared by the kernels: wrapping integer arithmetic (kernels never
//! panic on overflow) and IEEE float arithmetic.

use crate::scalar::reference::UnaryFloat;
use crate::value::TensorElement;
use num_traits::Float;

/// Arithmetic on a numeric element type: integers wrap, floats follow IEEE.
pub trait Num: TensorElement {
    /// `a + b`.
    fn add(a: Self, b: Self) -> Self;
    /// `a - b`.
    fn sub(a: Self, b: Self) -> Self;
    /// `a * b`.
    fn mul(a: Self, b: Self) -> Self;
    /// `-a`.
    fn neg(a: Self) -> Self;
    /// `|a|`.
    fn abs(a: Self) -> Self;
    /// -1, 0, 1 (NaN for NaN).
    fn sign(a: Self) -> Self;
    /// `a ** b`.
    fn pow(a: Self, b: Self) -> Self;
    /// `a // b`, rounded toward -inf (integers: 0 for a zero divisor, as in NumPy).
    fn floor_div(a: Self, b: Self) -> Self;
    /// `a % b` with the sign of `b` (integers: 0 for a zero divisor, as in NumPy).
    fn modulo(a: Self, b: Self) -> Self;
    /// The identity of `add` that keeps every value, `-0.0` for floats (`-0.0 + x` is `x`
    /// for every x, while `0.0 + -0.0` is `+0.0`), so `sum([-0.0])` is `-0.0` as in NumPy.
    fn add_identity() -> Self;
}

macro_rules! int_num {
    ($t:ty) => {
        impl Num for $t {
            fn add(a: Self, b: Self) -> Self {
                a.wrapping_add(b)
            }
            fn sub(a: Self, b: Self) -> Self {
                a.wrapping_sub(b)
            }
            fn mul(a: Self, b: Self) -> Self {
                a.wrapping_mul(b)
            }
            fn neg(a: Self) -> Self {
                a.wrapping_neg()
            }
            fn abs(a: Self) -> Self {
                a.wrapping_abs()
            }
            fn sign(a: Self) -> Self {
                a.signum()
            }
            fn add_identity() -> Self {
                0
            }
            fn floor_div(a: Self, b: Self) -> Self {
                if b == 0 {
                    return 0;
                }
                // `MIN / -1` wraps like NumPy's integer arithmetic.
                let q = a.wrapping_div(b);
                if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                }
            }
            fn modulo(a: Self, b: Self) -> Self {
                if b == 0 {
                    return 0;
                }
                let r = a.wrapping_rem(b);
                if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                }
            }
            fn pow(a: Self, b: Self) -> Self {
                if b >= 0 {
                    // Square-and-multiply over the whole exponent, wrapping like NumPy's
                    // integer arithmetic.
                    let (mut base, mut e, mut acc): (Self, u64, Self) = (a, b as u64, 1);
                    while e > 0 {
                        if e & 1 == 1 {
                            acc = acc.wrapping_mul(base);
                        }
                        base = base.wrapping_mul(base);
                        e >>= 1;
                    }
                    acc
                } else {
                    // Integer powers with negative exponents: exact where the result is an
                    // integer, truncated toward 0 otherwise. `0 ** -n` has no value: the
                    // elementwise kernel refuses it before computing (here it is 0).
                    match a {
                        1 => 1,
                        -1 => {
                            if b % 2 == 0 {
                                1
                            } else {
                                -1
                            }
                        }
                        _ => 0,
                    }
                }
            }
        }
    };
}
int_num!(i32);
int_num!(i64);

macro_rules! float_num {
    ($t:ty) => {
        impl Num for $t {
            fn add(a: Self, b: Self) -> Self {
                a + b
            }
            fn sub(a: Self, b: Self) -> Self {
                a - b
            }
            fn mul(a: Self, b: Self) -> Self {
                a * b
            }
            fn neg(a: Self) -> Self {
                -a
            }
            fn abs(a: Self) -> Self {
                a.abs()
            }
            fn sign(a: Self) -> Self {
                if a.is_nan() || a == 0.0 {
                    a * 0.0 + a
                } else {
                    a.signum()
                }
            }
            fn pow(a: Self, b: Self) -> Self {
                a.powf(b)
            }
            fn add_identity() -> Self {
                -0.0
            }
            fn floor_div(a: Self, b: Self) -> Self {
                // Python's float `//` (CPython's `_float_div_mod`): the quotient of the exact
                // remainder, not `floor(a / b)` (which rounds 1 // 0.1 up to 10).
                if b == 0.0 {
                    return a / b;
                }
                let m = a % b;
                let mut q = (a - m) / b;
                if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
                    q -= 1.0;
                }
                if q == 0.0 {
                    (0.0 as Self).copysign(a / b)
                } else {
                    let f = q.floor();
                    if q - f > 0.5 {
                        f + 1.0
                    } else {
                        f
                    }
                }
            }
            fn modulo(a: Self, b: Self) -> Self {
                // Python's float `%`: `fmod`, moved to the divisor's sign; a zero remainder
                // takes the divisor's sign too.
                let r = a % b;
                if r != 0.0 {
                    if (r < 0.0) != (b < 0.0) {
                        r + b
                    } else {
                        r
                    }
                } else {
                    (0.0 as Self).copysign(b)
                }
            }
        }
    };
}
float_num!(f32);
float_num!(f64);

/// A float element type: arithmetic, and the reference functions of the unary float ops.
pub trait FloatElem: Num + Float + UnaryFloat {}

impl FloatElem for f32 {}
impl FloatElem for f64 {}
