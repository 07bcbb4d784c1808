//! The parameters of ops: reductions, running reductions and arg-reductions, basic index
//! entries and their (possibly symbolic) positions, reshape and alloc lengths, gradient
//! barriers.

use crate::dtype::DType;

/// A reduction over a set of axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum (integers accumulate in int64, floats in float64; the sum of nothing is `+0.0`).
    Sum,
    /// Product (integers accumulate in int64, floats in float64).
    Prod,
    /// Maximum, NaN if any element is NaN.
    Max,
    /// Minimum, NaN if any element is NaN.
    Min,
    /// Arithmetic mean (integers average in float64; float32 accumulates in float64).
    Mean,
    /// True if every element is nonzero.
    All,
    /// True if some element is nonzero.
    Any,
}

impl ReduceOp {
    /// The name used by `pp` and the text form.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::Mean => "mean",
            ReduceOp::All => "all",
            ReduceOp::Any => "any",
        }
    }

    /// Every reduction, for the parser.
    pub const ALL: [ReduceOp; 7] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::Mean,
        ReduceOp::All,
        ReduceOp::Any,
    ];

    /// The result dtype for an input dtype.
    pub fn out_dtype(self, input: DType) -> DType {
        match self {
            ReduceOp::Sum | ReduceOp::Prod if !input.is_float() => DType::I64,
            ReduceOp::Mean => input.to_float(),
            ReduceOp::All | ReduceOp::Any => DType::Bool,
            _ => input,
        }
    }
}

/// Which running reduction a `Cumulative` op computes (Theano's `CumOp` modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CumOp {
    /// The running sum (`cumsum`, Theano's mode `add`).
    Sum,
    /// The running product (`cumprod`, Theano's mode `mul`).
    Prod,
}

impl CumOp {
    /// Both modes, for the parser.
    pub const ALL: [CumOp; 2] = [CumOp::Sum, CumOp::Prod];

    /// The name used by `pp`, the text form and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            CumOp::Sum => "cumsum",
            CumOp::Prod => "cumprod",
        }
    }

    /// The result dtype for an input dtype: the input's (Theano's `CumOp`), booleans
    /// counting in int64 (NumPy's).
    pub fn out_dtype(self, input: DType) -> DType {
        if input == DType::Bool {
            DType::I64
        } else {
            input
        }
    }
}

/// Which arg-extremum an `ArgReduce` finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgOp {
    /// Index of the first maximum (of the first NaN, if any).
    ArgMax,
    /// Index of the first minimum (of the first NaN, if any).
    ArgMin,
}

impl ArgOp {
    /// Both arg-extrema, for the parser.
    pub const ALL: [ArgOp; 2] = [ArgOp::ArgMax, ArgOp::ArgMin];

    /// The name used by `pp` and the text form.
    pub fn name(self) -> &'static str {
        match self {
            ArgOp::ArgMax => "argmax",
            ArgOp::ArgMin => "argmin",
        }
    }
}

/// One axis of a `Subtensor` index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexEntry {
    /// A single position (negative counts from the end); the axis disappears.
    At(Idx),
    /// `start:stop:step` with NumPy's meaning of omitted and negative bounds; each bound
    /// fixed or symbolic (an index input, in the order start, stop, step).
    Slice {
        /// First position, `None` for the natural start.
        start: Option<Idx>,
        /// One past the last position, `None` for the natural end.
        stop: Option<Idx>,
        /// Stride, never 0.
        step: Idx,
    },
}

/// A single index or slice bound: a number fixed when building, or a symbolic integer
/// scalar input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Idx {
    /// A fixed position.
    Const(isize),
    /// The next index input of the node (after the data inputs).
    Input,
}

impl IndexEntry {
    /// `:`, the whole axis.
    pub const FULL: IndexEntry = IndexEntry::Slice { start: None, stop: None, step: Idx::Const(1) };

    /// A slice with fixed bounds.
    pub fn slice(start: Option<isize>, stop: Option<isize>, step: isize) -> IndexEntry {
        IndexEntry::Slice { start: start.map(Idx::Const), stop: stop.map(Idx::Const), step: Idx::Const(step) }
    }

    /// How many symbolic index inputs the entry reads.
    pub fn n_inputs(&self) -> usize {
        match self {
            IndexEntry::At(i) => i.is_input() as usize,
            IndexEntry::Slice { start, stop, step } => {
                [*start, *stop].iter().flatten().filter(|i| i.is_input()).count() + step.is_input() as usize
            }
        }
    }

    /// The slice's bounds when none is symbolic (`None` for a position or a symbolic bound).
    pub fn fixed_slice(&self) -> Option<(Option<isize>, Option<isize>, isize)> {
        match *self {
            IndexEntry::Slice { start, stop, step } => {
                let b = |v: Option<Idx>| v.map_or(Some(None), |i| i.fixed().map(Some));
                Some((b(start)?, b(stop)?, step.fixed()?))
            }
            IndexEntry::At(_) => None,
        }
    }
}

impl Idx {
    /// The fixed number, `None` for a symbolic index.
    pub fn fixed(self) -> Option<isize> {
        match self {
            Idx::Const(c) => Some(c),
            Idx::Input => None,
        }
    }

    /// Whether the index is an input of the node.
    pub fn is_input(self) -> bool {
        self == Idx::Input
    }
}

/// One axis of a `Reshape` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReshapeDim {
    /// A fixed length.
    Fixed(usize),
    /// The length of the input's axis with this number.
    Keep(usize),
    /// Whatever length makes the element count match (at most one per reshape).
    Infer,
    /// The length of axis `i` of the reshape's second input, a shape donor (how the
    /// gradient of a reshape restores its input's run-time shape).
    Like(usize),
    /// The length held by the next length input: an integer scalar such as `x.shape[0]`,
    /// after the input and its shape donor, if any.
    Input,
}

/// One axis of an `Alloc` result: a length fixed when building, or a symbolic one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A fixed length.
    Fixed(usize),
    /// The length held by the next length input of the node (an integer scalar, after the
    /// value).
    Input,
}

/// What a gradient barrier ([`Op::GradBarrier`](super::Op::GradBarrier)) lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Barrier {
    /// The gradient is zero (Theano's `zero_grad`, `consider_constant`).
    Zero,
    /// No gradient: the input is disconnected from the cost through it (Theano's
    /// `disconnected_grad`).
    Disconnected,
}
