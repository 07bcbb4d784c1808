//! Lowering decisions, made before any code is generated: which ops lower how (read from
//! the op table's `ScalarOp::lowering`), which values are live, each op's compute dtype,
//! the vector width, the Rust functions a kernel calls and their JIT symbols, and the exact
//! value of each constant in the dtype it is used in.

use crate::JitError;
use tensorlift_ir::{DType, ScalarNode, ScalarOp, ScalarProgram};

/// The most transcendental ops (`vmath`) a kernel inlines: each is 50–300 instructions per
/// vector group, so a program with more calls std for all of them (scalar loop).
const MAX_INLINE_VMATH: usize = 32;

/// How an op is lowered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lowering {
    /// Inline CLIF, with a vector form.
    Inline,
    /// A call to a Rust function per element (scalar loop only).
    Call,
}

pub(super) fn lowering(op: ScalarOp) -> Option<Lowering> {
    match op.lowering() {
        tensorlift_ir::Lowering::Inline | tensorlift_ir::Lowering::Math(_) => Some(Lowering::Inline),
        tensorlift_ir::Lowering::Call => Some(Lowering::Call),
        tensorlift_ir::Lowering::Reference => None,
    }
}

/// The JIT symbol of the Rust function for `op` in `dtype`.
pub(super) fn symbol_name(op: ScalarOp, dtype: DType) -> String {
    let suffix = if dtype == DType::F32 { "f32" } else { "f64" };
    format!("tl_{}_{suffix}", op.name())
}

/// The address of the `extern "C"` function computing `op` in `dtype` (`f64` or `f32`):
/// the op table's reference function of a unary op, `powf` for `pow`.
pub(super) fn std_fn(op: ScalarOp, dtype: DType) -> Option<*const u8> {
    extern "C" fn pow_f64(x: f64, y: f64) -> f64 {
        x.powf(y)
    }
    extern "C" fn pow_f32(x: f32, y: f32) -> f32 {
        x.powf(y)
    }
    match (op, dtype) {
        (ScalarOp::Pow, DType::F32) => Some(pow_f32 as *const u8),
        (ScalarOp::Pow, _) => Some(pow_f64 as *const u8),
        (_, DType::F32) => op.unary_c_f32().map(|f| f as *const u8),
        _ => op.unary_c_f64().map(|f| f as *const u8),
    }
}

/// What compilation needs to know about a program, found before any code is generated.
pub(super) struct Plan {
    /// Which values the result depends on (only those are computed).
    pub(super) live: Vec<bool>,
    /// Each live op's compute dtype (indexed by node).
    pub(super) compute: Vec<DType>,
    /// Elements per vector group, or `None` for a scalar loop only.
    pub(super) vector_width: Option<usize>,
    /// The transcendental ops are calls to std (more than [`MAX_INLINE_VMATH`] of them).
    pub(super) call_vmath: bool,
    /// The std functions called: (op, compute dtype); for `sin`, `cos`, `tan` (inline) the
    /// `f64` function of their huge-argument fallback.
    pub(super) callees: Vec<(ScalarOp, DType)>,
}

pub(super) fn plan(p: &ScalarProgram) -> Result<Plan, JitError> {
    p.validate()?;
    let n_in = p.inputs.len();
    let total = n_in + p.nodes.len();
    let mut live = vec![false; total];
    for v in p.outputs() {
        live[v.index()] = true;
    }
    for v in (n_in..total).rev() {
        if let (true, ScalarNode::Apply { args, .. }) = (live[v], &p.nodes[v - n_in]) {
            for a in args {
                live[a.index()] = true;
            }
        }
    }
    // Past a budget, inline transcendentals would make the function too big to compile
    // quickly (a 50 000-op `tanh` chain is tens of millions of instructions): call std.
    let n_vmath = p
        .nodes
        .iter()
        .enumerate()
        .filter(
            |(k, n)| matches!(n, ScalarNode::Apply { op, .. } if live[n_in + k] && op.math_fn().is_some()),
        )
        .count();
    let call_vmath = n_vmath > MAX_INLINE_VMATH;
    let mut any_f32 = false;
    let mut any_call = false;
    let mut callees = Vec::new();
    let mut compute = vec![DType::F64; p.nodes.len()];
    for (v, &d) in p.inputs.iter().enumerate() {
        if live[v] {
            if !d.is_float() {
                return Err(JitError::Unsupported { op: format!("{d} input {v}") });
            }
            any_f32 |= d == DType::F32;
        }
    }
    for (k, node) in p.nodes.iter().enumerate() {
        let ScalarNode::Apply { op, args, dtype } = node else { continue };
        if !live[n_in + k] {
            continue;
        }
        let name = || match op {
            ScalarOp::Cast(d) => format!("cast.{d}"),
            op => op.name().to_string(),
        };
        let mut lowering = lowering(*op).ok_or_else(|| JitError::Unsupported { op: name() })?;
        if call_vmath && op.math_fn().is_some() {
            lowering = Lowering::Call;
        }
        if !dtype.is_float() {
            return Err(JitError::Unsupported { op: format!("{} with a {dtype} result", name()) });
        }
        let dtypes: Vec<DType> = args.iter().map(|&a| p.dtype_of(a)).collect();
        let cd = op.compute_dtype(&dtypes);
        compute[k] = cd;
        // A cast computes in its source dtype: only a constant can be non-float there, and it
        // converts at compile time.
        any_f32 |= *dtype == DType::F32 || cd == DType::F32;
        if lowering == Lowering::Call {
            any_call = true;
            if !callees.contains(&(*op, cd)) {
                callees.push((*op, cd));
            }
        } else if op.math_fn().is_some_and(crate::vmath::needs_fallback)
            && !callees.contains(&(*op, DType::F64))
        {
            // Huge arguments (rare) fall back to the f64 std function, for f32 too.
            callees.push((*op, DType::F64));
        }
    }
    // Reached by a constant result (the ops' results were checked above).
    for out in p.outputs().iter().map(|&v| p.dtype_of(v)) {
        if !out.is_float() {
            return Err(JitError::Unsupported { op: format!("a {out} result") });
        }
        any_f32 |= out == DType::F32;
    }
    let vector_width = match (any_call, any_f32) {
        (true, _) => None,
        (false, true) => Some(4),
        (false, false) => Some(2),
    };
    Ok(Plan { live, compute, vector_width, callees, call_vmath })
}

/// The exact value of a constant of `dtype` converted to `cd` (a float dtype) as the
/// reference does it (`Tensor::full`, then `Tensor::cast`), held in an f64.
pub(super) fn const_value(dtype: DType, bits: u64, cd: DType) -> f64 {
    let v = f64::from_bits(bits);
    let to_cd = |x: f64| if cd == DType::F32 { x as f32 as f64 } else { x };
    match dtype {
        DType::Bool => {
            if v != 0.0 {
                1.0
            } else {
                0.0
            }
        }
        // Integers convert straight to the float type (no double rounding through f64).
        DType::I32 | DType::I64 => {
            let i = if dtype == DType::I32 { v as i32 as i64 } else { v as i64 };
            if cd == DType::F32 {
                i as f32 as f64
            } else {
                i as f64
            }
        }
        DType::F32 => to_cd(v as f32 as f64),
        DType::F64 => to_cd(v),
    }
}
