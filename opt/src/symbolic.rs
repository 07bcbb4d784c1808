//! Symbolic lengths, the values of shape inference (`crate::shape`): a leaf module, so
//! that the per-phase storage (`crate::scratch`) can hold them.

use smallvec::SmallVec;
use tensorlift_ir::NodeId;

/// The length of one axis, symbolically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymDim {
    /// Known when compiling.
    Const(usize),
    /// The run-time length of an axis of a node: `Of(n, k)` is axis `k` of `n`.
    Of(NodeId, usize),
}

/// A symbolic shape: one [`SymDim`] per axis.
pub type SymShape = SmallVec<[SymDim; 4]>;
