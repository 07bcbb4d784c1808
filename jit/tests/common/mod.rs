//! Helpers shared by the jit crate's tests.
#![allow(dead_code)]

use tensorlift_ir::kernels::float_unary;
use tensorlift_ir::ScalarOp;

/// The reference function of a unary float op in f64 (Rust std, and the reference kernels'
/// own `sigmoid`, `softplus` and `erf`).
pub fn std64(op: ScalarOp) -> fn(f64) -> f64 {
    float_unary::<f64>(op).expect("a unary float op")
}

/// The same in f32.
pub fn std32(op: ScalarOp) -> fn(f32) -> f32 {
    float_unary::<f32>(op).expect("a unary float op")
}
