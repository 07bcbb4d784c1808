//! Helpers shared by the jit crate's tests: the reference function of each op, and a
//! seeded generator.
#![allow(dead_code)]

use tensorlift_ir::ScalarOp;

/// The reference function of a unary float op in f64 (Rust std, and the reference kernels'
/// own `sigmoid`, `softplus` and `erf`).
pub fn std64(op: ScalarOp) -> fn(f64) -> f64 {
    op.unary_f64().expect("a unary float op")
}

/// The same in f32.
pub fn std32(op: ScalarOp) -> fn(f32) -> f32 {
    op.unary_f32().expect("a unary float op")
}

/// splitmix64: seeded, deterministic inputs.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
