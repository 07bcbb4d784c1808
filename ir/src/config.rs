//! Process-wide settings, as Theano's `config`: `floatX`, the dtype of the float
//! constructors without a prefix (`scalar`, `vector`, `matrix`, `tensor3`).

use crate::dtype::DType;
use std::sync::atomic::{AtomicU8, Ordering};

const UNSET: u8 = u8::MAX;
static FLOAT_X: AtomicU8 = AtomicU8::new(UNSET);

fn encode(d: DType) -> u8 {
    d as u8
}

fn decode(v: u8) -> DType {
    crate::dtype::ALL_DTYPES[v as usize]
}

/// The current `floatX`: `float64` unless set with `set_float_x` or the environment
/// variable `TENSORLIFT_FLOATX` (`float32` or `float64`), read on first use.
pub fn float_x() -> DType {
    let v = FLOAT_X.load(Ordering::Relaxed);
    if v != UNSET {
        return decode(v);
    }
    let d = match std::env::var("TENSORLIFT_FLOATX").as_deref() {
        Ok("float32") => DType::F32,
        _ => DType::F64,
    };
    // Keep a value set concurrently by `set_float_x`.
    let _ = FLOAT_X.compare_exchange(UNSET, encode(d), Ordering::Relaxed, Ordering::Relaxed);
    decode(FLOAT_X.load(Ordering::Relaxed))
}

/// Sets `floatX` for graphs built from now on. Only float dtypes are accepted.
pub fn set_float_x(dtype: DType) -> Result<(), crate::BuildError> {
    if !dtype.is_float() {
        return Err(crate::BuildError::invalid(
            "set_float_x",
            format!("floatX must be a float dtype, got {dtype}"),
        ));
    }
    FLOAT_X.store(encode(dtype), Ordering::Relaxed);
    Ok(())
}
