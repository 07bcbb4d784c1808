//! Element types (`DType`), NumPy/Theano upcasting, and the `Element` trait that ties each
//! dtype to its Rust scalar type.

use std::fmt;

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`.
    Bool,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
}

/// Every dtype, in upcasting order.
pub const ALL_DTYPES: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

impl DType {
    /// NumPy's name of the dtype (`float64`, `int32`, `bool`, …).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses a NumPy dtype name.
    pub fn from_name(s: &str) -> Option<DType> {
        ALL_DTYPES.into_iter().find(|d| d.name() == s)
    }

    /// True for `f32` and `f64`.
    pub const fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// True for `i32` and `i64`.
    pub fn is_int(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// The smallest dtype both `self` and `other` convert to, as NumPy and Theano upcast:
    /// bool < int32 < int64 < float32 < float64, except that an integer beside `float32`
    /// needs `float64` to hold all its values.
    pub fn upcast(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (F32, I32 | I64) | (I32 | I64, F32) => F64,
            (a, b) => a.max(b),
        }
    }

    /// The float type an integer or bool is computed in by float functions (`exp`, `/`, …).
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F64
        }
    }

    /// The kind rank used by lossless input conversion: bool 0, integers 1, floats 2.
    pub(crate) fn kind(self) -> u8 {
        match self {
            DType::Bool => 0,
            DType::I32 | DType::I64 => 1,
            DType::F32 | DType::F64 => 2,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The upcast of a list of dtypes (`None` for an empty list).
pub fn upcast_all(dtypes: impl IntoIterator<Item = DType>) -> Option<DType> {
    dtypes.into_iter().reduce(DType::upcast)
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for bool {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A Rust scalar type that is the element of one `DType`: `bool`, `i32`, `i64`, `f32`, `f64`.
pub trait Element:
    sealed::Sealed + Copy + Send + Sync + PartialEq + PartialOrd + fmt::Debug + 'static
{
    /// The dtype of this element type.
    const DTYPE: DType;
    /// Converts to f64 (exact for every type but large i64).
    fn to_f64(self) -> f64;
    /// Converts from f64 as Rust's `as` does (saturating for integers, `!= 0` for bool).
    fn from_f64(v: f64) -> Self;
    /// Converts from i64 as Rust's `as` does.
    fn from_i64(v: i64) -> Self;
    /// Converts to i64 as Rust's `as` does.
    fn to_i64(self) -> i64;
    /// Zero (false).
    fn zero() -> Self;
    /// One (true).
    fn one() -> Self;
    /// True when the value is NaN (never for bool and integers).
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! element_num {
    ($t:ty, $d:ident, $nan:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn zero() -> Self {
                0 as $t
            }
            fn one() -> Self {
                1 as $t
            }
            #[allow(clippy::redundant_closure_call)]
            fn is_nan(self) -> bool {
                ($nan)(self)
            }
        }
    };
}
element_num!(i32, I32, |_v: i32| false);
element_num!(i64, I64, |_v: i64| false);
element_num!(f32, F32, |v: f32| v.is_nan());
element_num!(f64, F64, |v: f64| v.is_nan());

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upcast_follows_numpy() {
        use DType::*;
        assert_eq!(I32.upcast(F32), F64);
        assert_eq!(Bool.upcast(F32), F32);
        assert_eq!(I32.upcast(I64), I64);
        assert_eq!(F32.upcast(F64), F64);
        assert_eq!(Bool.upcast(I32), I32);
        assert_eq!(F32.upcast(F32), F32);
    }
}
