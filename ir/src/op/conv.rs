//! Convolution and pooling: their parameters, the output lengths the type rules, the
//! kernels and the native paths share, the type rules of `conv2d` (Theano's abstract
//! `AbstractConv2d`), its two gradients (`AbstractConv2d_gradInputs`,
//! `AbstractConv2d_gradWeights`), `pool_2d` (Theano's `Pool`) and its gradients
//! (`MaxPoolGrad`, `AveragePoolGrad`, `DownsampleFactorMaxGradGrad`), and the text of their
//! parameters (`conv2d{valid, stride=[1,1], …}`), which the text form prints and reads back.
//!
//! A convolution's input is `(batch, channels, rows, cols)`, its filters `(out_channels,
//! channels / groups, rows, cols)`. With `filter_flip` (Theano's default) it is a true
//! convolution — the filter is flipped on both spatial axes — otherwise a cross-correlation.
//! On each spatial axis, with padding `(before, after)`, stride `s` and dilation `d`, a filter
//! of length `k` covers `(k - 1)·d + 1` positions, and the output has
//! `(n + before + after - ((k - 1)·d + 1)) / s + 1` positions.

use super::{Dim, Op, Rule};
use crate::dtype::DType;
use crate::error::{BuildErrorKind, Operand};
use crate::types::TensorType;

/// How a convolution pads its input with zeros (Theano's `border_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BorderMode {
    /// No padding: the filter only where it lies wholly inside the input.
    Valid,
    /// The dilated filter's length less one on each side: every partial overlap.
    Full,
    /// Half the dilated filter's length (rounded down) on each side: for odd filters and
    /// stride 1, the output has the input's size.
    Half,
    /// Explicit padding: `[(top, bottom), (left, right)]`.
    Pad([(usize, usize); 2]),
}

impl BorderMode {
    /// `valid`, `full` or `half` by name.
    pub fn from_name(name: &str) -> Option<BorderMode> {
        match name {
            "valid" => Some(BorderMode::Valid),
            "full" => Some(BorderMode::Full),
            "half" => Some(BorderMode::Half),
            _ => None,
        }
    }

    /// The same padding on both sides of each axis: `(rows, cols)`.
    pub fn symmetric(rows: usize, cols: usize) -> BorderMode {
        BorderMode::Pad([(rows, rows), (cols, cols)]).canonical()
    }

    /// No padding spelled as padding is `Valid`: one spelling per convolution.
    pub fn canonical(self) -> BorderMode {
        match self {
            BorderMode::Pad([(0, 0), (0, 0)]) => BorderMode::Valid,
            b => b,
        }
    }

    /// The padding `(before, after)` on an axis whose dilated filter covers `dilated`
    /// positions.
    pub fn pads(self, axis: usize, dilated: usize) -> (usize, usize) {
        match self {
            BorderMode::Valid => (0, 0),
            BorderMode::Full => (dilated - 1, dilated - 1),
            BorderMode::Half => (dilated / 2, dilated / 2),
            BorderMode::Pad(p) => p[axis],
        }
    }
}

impl std::fmt::Display for BorderMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BorderMode::Valid => write!(f, "valid"),
            BorderMode::Full => write!(f, "full"),
            BorderMode::Half => write!(f, "half"),
            BorderMode::Pad([(a, b), (c, d)]) => write!(f, "pad=[{a},{b},{c},{d}]"),
        }
    }
}

/// The parameters of a 2-d convolution, shared by `conv2d` and its gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvParams {
    /// The padding.
    pub border: BorderMode,
    /// The strides `(rows, cols)` (Theano's `subsample`), at least 1.
    pub subsample: [usize; 2],
    /// The filter dilation `(rows, cols)`, at least 1.
    pub dilation: [usize; 2],
    /// A true convolution (the filter flipped), else a cross-correlation.
    pub filter_flip: bool,
    /// The channel groups (at least 1): each group of output channels sees only its group of
    /// input channels.
    pub groups: usize,
}

impl Default for ConvParams {
    /// Theano's defaults: `valid`, strides and dilation 1, flipped filters, one group.
    fn default() -> ConvParams {
        ConvParams {
            border: BorderMode::Valid,
            subsample: [1, 1],
            dilation: [1, 1],
            filter_flip: true,
            groups: 1,
        }
    }
}

impl ConvParams {
    /// Why these parameters mean nothing, if they don't.
    pub fn check(&self) -> Result<(), String> {
        if self.subsample.contains(&0) {
            return Err(format!("the strides must be at least 1, got {:?}", self.subsample));
        }
        if self.dilation.contains(&0) {
            return Err(format!("the filter dilation must be at least 1, got {:?}", self.dilation));
        }
        if self.groups == 0 {
            return Err("num_groups must be at least 1".into());
        }
        Ok(())
    }

    /// The positions a filter of length `k` covers on `axis` once dilated (`None` for an empty
    /// filter or an overflowing length).
    pub fn dilated(&self, axis: usize, k: usize) -> Option<usize> {
        (k - 1).checked_mul(self.dilation[axis])?.checked_add(1).filter(|_| k > 0)
    }

    /// The padding `(before, after)` on `axis` for a filter of length `k` (at least 1).
    pub fn pads(&self, axis: usize, k: usize) -> (usize, usize) {
        self.border.pads(axis, self.dilated(axis, k).unwrap_or(1))
    }

    /// The output length on `axis` for an input of length `n` and a filter of length `k`;
    /// `None` when the dilated filter is longer than the padded input (or empty).
    pub fn out_len(&self, axis: usize, n: usize, k: usize) -> Option<usize> {
        let dk = self.dilated(axis, k)?;
        let (a, b) = self.pads(axis, k);
        let padded = n.checked_add(a)?.checked_add(b)?;
        padded.checked_sub(dk).map(|r| r / self.subsample[axis] + 1)
    }
}

/// What a pooling window computes (Theano's `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolMode {
    /// The largest element (NaN if any is NaN); padding is never part of a window.
    Max,
    /// The sum of the elements.
    Sum,
    /// The average, counting the padding (its zeros) when `ignore_border` is set.
    AverageIncPad,
    /// The average of the input's elements only.
    AverageExcPad,
}

impl PoolMode {
    /// Every mode.
    pub const ALL: [PoolMode; 4] =
        [PoolMode::Max, PoolMode::Sum, PoolMode::AverageIncPad, PoolMode::AverageExcPad];

    /// Theano's name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Max => "max",
            PoolMode::Sum => "sum",
            PoolMode::AverageIncPad => "average_inc_pad",
            PoolMode::AverageExcPad => "average_exc_pad",
        }
    }

    /// The mode of a name (Theano's `max_deterministic` is `max`).
    pub fn from_name(name: &str) -> Option<PoolMode> {
        if name == "max_deterministic" {
            return Some(PoolMode::Max);
        }
        PoolMode::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The parameters of 2-d pooling over the last two axes, shared by `pool_2d` and its
/// gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolParams {
    /// The window `(rows, cols)`, at least 1.
    pub ws: [usize; 2],
    /// The step between windows `(rows, cols)`, at least 1.
    pub stride: [usize; 2],
    /// Zero padding on both sides `(rows, cols)`, smaller than the window; only with
    /// `ignore_border`.
    pub pad: [usize; 2],
    /// Only whole windows (`true`), or also the partial ones at the bottom and right edges.
    pub ignore_border: bool,
    /// What a window computes.
    pub mode: PoolMode,
}

impl PoolParams {
    /// Max pooling over `ws` windows that do not overlap, whole windows only.
    pub fn new(ws: [usize; 2]) -> PoolParams {
        PoolParams { ws, stride: ws, pad: [0, 0], ignore_border: true, mode: PoolMode::Max }
    }

    /// Why these parameters mean nothing, if they don't.
    pub fn check(&self) -> Result<(), String> {
        if self.ws.contains(&0) {
            return Err(format!("the window must be at least 1 by 1, got {:?}", self.ws));
        }
        if self.stride.contains(&0) {
            return Err(format!("the stride must be at least 1, got {:?}", self.stride));
        }
        if self.pad != [0, 0] && !self.ignore_border {
            return Err("padding works only with ignore_border=True".into());
        }
        if self.pad[0] >= self.ws[0] || self.pad[1] >= self.ws[1] {
            return Err(format!("the padding {:?} must be smaller than the window {:?}", self.pad, self.ws));
        }
        Ok(())
    }

    /// The number of windows on `axis` (0 or 1) over an input of length `n` (Theano's
    /// `Pool.out_shape`; an empty input has no windows).
    pub fn out_len(&self, axis: usize, n: usize) -> usize {
        let (ws, st) = (self.ws[axis], self.stride[axis]);
        let r = n + 2 * self.pad[axis];
        if n == 0 {
            0
        } else if self.ignore_border {
            r.checked_sub(ws).map_or(0, |d| d / st + 1)
        } else if st >= ws {
            (r - 1) / st + 1
        } else {
            (r - 1 + st).checked_sub(ws).map_or(0, |d| d / st) + 1
        }
    }

    /// Window `idx` on `axis` over an input of length `n`: the input positions
    /// `start..end` it covers (the padding excluded).
    pub fn window(&self, axis: usize, idx: usize, n: usize) -> (usize, usize) {
        let pad = self.pad[axis];
        let start = idx * self.stride[axis];
        let end = (start + self.ws[axis]).min(n + pad);
        (start.max(pad) - pad, end - pad)
    }

    /// What an average divides a window's sum by, given the rows and columns of input it
    /// covers (1 for `max` and `sum`, which do not divide).
    pub fn divisor(&self, rows: usize, cols: usize) -> usize {
        match self.mode {
            PoolMode::Max | PoolMode::Sum => 1,
            PoolMode::AverageIncPad if self.ignore_border => self.ws[0] * self.ws[1],
            _ => rows * cols,
        }
    }

    /// The pooled shape of a tensor of `shape` (rank at least 2).
    pub fn out_shape(&self, shape: &[usize]) -> Vec<usize> {
        let nd = shape.len();
        let mut out = shape.to_vec();
        out[nd - 2] = self.out_len(0, shape[nd - 2]);
        out[nd - 1] = self.out_len(1, shape[nd - 1]);
        out
    }
}

/// The float dtype of a convolution of `operands`, or the error naming the one that is not.
fn float_dtype(r: &Rule<'_>, operands: &[&Operand]) -> Result<DType, BuildErrorKind> {
    for o in operands {
        if !o.ty.dtype.is_float() {
            return Err(BuildErrorKind::DType {
                op: r.name.clone(),
                operand: (*o).clone(),
                expected: "float32 or float64".into(),
            });
        }
    }
    Ok(operands.iter().map(|o| o.ty.dtype).reduce(DType::upcast).expect("operands"))
}

fn rank4(r: &Rule<'_>, o: &Operand) -> Result<(), BuildErrorKind> {
    if o.ty.ndim() != 4 {
        return Err(r.rank(o, "4 (batch, channels, rows, cols)"));
    }
    Ok(())
}

/// Length inputs: one integer scalar per `Dim::Input`.
fn check_lengths(r: &Rule<'_>, shape: &[Dim; 2], lengths: &[Operand]) -> Result<(), BuildErrorKind> {
    let wanted = shape.iter().filter(|d| **d == Dim::Input).count();
    if lengths.len() != wanted {
        return Err(r.invalid(format!("{wanted} symbolic lengths, {} length inputs", lengths.len())));
    }
    if let Some(o) = lengths.iter().find(|o| o.ty.ndim() != 0 || !o.ty.dtype.is_int()) {
        return Err(BuildErrorKind::DType {
            op: r.name.clone(),
            operand: o.clone(),
            expected: "an integer scalar length".into(),
        });
    }
    Ok(())
}

fn fixed(d: Dim) -> Option<usize> {
    match d {
        Dim::Fixed(n) => Some(n),
        Dim::Input => None,
    }
}

/// `Some` when both are known and differ.
fn differ(a: Option<usize>, b: Option<usize>) -> bool {
    matches!((a, b), (Some(p), Some(q)) if p != q)
}

/// Checks that `top`'s spatial lengths are those of the convolution of an input of spatial
/// lengths `input` with filters of spatial lengths `kernel`, where all are known.
fn check_top(
    r: &Rule<'_>,
    p: &ConvParams,
    input: [Option<usize>; 2],
    kernel: [Option<usize>; 2],
    top: &Operand,
) -> Result<(), BuildErrorKind> {
    for axis in 0..2 {
        if let (Some(n), Some(k)) = (input[axis], kernel[axis]) {
            match p.out_len(axis, n, k) {
                None => return Err(too_large(r, axis, n, k, p)),
                Some(o) if differ(Some(o), top.ty.shape[2 + axis]) => {
                    return Err(r.invalid(format!(
                        "{top} does not have the output shape of a convolution of an input of \
                         {n} {} with a filter of {k} (it would have {o})",
                        axis_name(axis)
                    )))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn axis_name(axis: usize) -> &'static str {
    if axis == 0 {
        "rows"
    } else {
        "columns"
    }
}

fn too_large(r: &Rule<'_>, axis: usize, n: usize, k: usize, p: &ConvParams) -> BuildErrorKind {
    if k == 0 {
        return r.invalid("the filters are empty (0 rows or columns)".into());
    }
    let (a, b) = p.pads(axis, k);
    r.invalid(format!(
        "the filter ({k} {}, {} dilated) is larger than the padded input ({n} {} + {a} + {b} of padding)",
        axis_name(axis),
        p.dilated(axis, k).map_or("overflowing".into(), |d| d.to_string()),
        axis_name(axis),
    ))
}

fn check_params(r: &Rule<'_>, p: &ConvParams) -> Result<(), BuildErrorKind> {
    p.check().map_err(|reason| r.invalid(reason))
}

/// `conv2d(input, filters)`.
pub(super) fn conv2d(r: &Rule<'_>, p: &ConvParams) -> Result<TensorType, BuildErrorKind> {
    let [x, w] = r.ins else {
        return Err(r.invalid(format!("takes 2 inputs (input, filters), got {}", r.ins.len())));
    };
    check_params(r, p)?;
    rank4(r, x)?;
    rank4(r, w)?;
    let dtype = float_dtype(r, &[x, w])?;
    check_channels(r, p, x, w)?;
    let (xs, ws) = (&x.ty.shape, &w.ty.shape);
    let mut shape = vec![xs[0], ws[0]];
    for axis in 0..2 {
        shape.push(match (xs[2 + axis], ws[2 + axis]) {
            (Some(n), Some(k)) => Some(p.out_len(axis, n, k).ok_or_else(|| too_large(r, axis, n, k, p))?),
            (_, Some(0)) => return Err(r.invalid("the filters are empty (0 rows or columns)".into())),
            _ => None,
        });
    }
    Ok(TensorType::new(dtype, shape))
}

/// The input's channels are the filters' times the groups, and the groups divide the
/// filters.
fn check_channels(r: &Rule<'_>, p: &ConvParams, x: &Operand, w: &Operand) -> Result<(), BuildErrorKind> {
    if let Some(o) = w.ty.shape[0] {
        if o % p.groups != 0 {
            return Err(r.invalid(format!("{w}: its {o} filters do not split into {} groups", p.groups)));
        }
    }
    if differ(x.ty.shape[1], w.ty.shape[1].map(|c| c * p.groups)) {
        return Err(BuildErrorKind::ShapeMismatch {
            op: r.name.clone(),
            operands: vec![x.clone(), w.clone()],
        });
    }
    Ok(())
}

/// `conv2d_grad_inputs(filters, top, lengths…)`: the gradient of a convolution with respect
/// to its input, of spatial shape `shape`.
pub(super) fn grad_inputs(
    r: &Rule<'_>,
    p: &ConvParams,
    shape: &[Dim; 2],
) -> Result<TensorType, BuildErrorKind> {
    let [w, top, lengths @ ..] = r.ins else {
        return Err(r.invalid("takes the filters, the output gradient and the lengths".into()));
    };
    check_params(r, p)?;
    rank4(r, w)?;
    rank4(r, top)?;
    check_lengths(r, shape, lengths)?;
    let dtype = float_dtype(r, &[w, top])?;
    if let Some(o) = w.ty.shape[0] {
        if o % p.groups != 0 {
            return Err(r.invalid(format!("{w}: its {o} filters do not split into {} groups", p.groups)));
        }
    }
    if differ(w.ty.shape[0], top.ty.shape[1]) {
        return Err(BuildErrorKind::ShapeMismatch {
            op: r.name.clone(),
            operands: vec![w.clone(), top.clone()],
        });
    }
    let input = [fixed(shape[0]), fixed(shape[1])];
    check_top(r, p, input, [w.ty.shape[2], w.ty.shape[3]], top)?;
    let channels = w.ty.shape[1].and_then(|c| c.checked_mul(p.groups));
    Ok(TensorType::new(dtype, vec![top.ty.shape[0], channels, input[0], input[1]]))
}

/// `conv2d_grad_weights(input, top, lengths…)`: the gradient of a convolution with respect
/// to its filters, of spatial shape `shape`.
pub(super) fn grad_weights(
    r: &Rule<'_>,
    p: &ConvParams,
    shape: &[Dim; 2],
) -> Result<TensorType, BuildErrorKind> {
    let [x, top, lengths @ ..] = r.ins else {
        return Err(r.invalid("takes the input, the output gradient and the lengths".into()));
    };
    check_params(r, p)?;
    rank4(r, x)?;
    rank4(r, top)?;
    check_lengths(r, shape, lengths)?;
    let dtype = float_dtype(r, &[x, top])?;
    for (o, what) in [(x, "channels"), (top, "output channels")] {
        if let Some(c) = o.ty.shape[1] {
            if c % p.groups != 0 {
                return Err(r.invalid(format!("{o}: its {c} {what} do not split into {} groups", p.groups)));
            }
        }
    }
    if differ(x.ty.shape[0], top.ty.shape[0]) {
        return Err(BuildErrorKind::ShapeMismatch {
            op: r.name.clone(),
            operands: vec![x.clone(), top.clone()],
        });
    }
    let kernel = [fixed(shape[0]), fixed(shape[1])];
    if kernel.contains(&Some(0)) {
        return Err(r.invalid("the filters are empty (0 rows or columns)".into()));
    }
    check_top(r, p, [x.ty.shape[2], x.ty.shape[3]], kernel, top)?;
    Ok(TensorType::new(
        dtype,
        vec![top.ty.shape[1], x.ty.shape[1].map(|c| c / p.groups), kernel[0], kernel[1]],
    ))
}

/// The pooled static shape of `x`.
fn pooled(p: &PoolParams, x: &Operand) -> Vec<Option<usize>> {
    let nd = x.ty.ndim();
    let mut shape = x.ty.shape.clone();
    for axis in 0..2 {
        shape[nd - 2 + axis] = x.ty.shape[nd - 2 + axis].map(|n| p.out_len(axis, n));
    }
    shape
}

fn check_pool(r: &Rule<'_>, p: &PoolParams, x: &Operand) -> Result<(), BuildErrorKind> {
    p.check().map_err(|reason| r.invalid(reason))?;
    if x.ty.ndim() < 2 {
        return Err(r.rank(x, "at least 2 (pooling the last two axes)"));
    }
    float_dtype(r, &[x])?;
    Ok(())
}

/// Checks that `o` has the pooled shape of `x` where both are known.
fn check_pooled(r: &Rule<'_>, p: &PoolParams, x: &Operand, o: &Operand) -> Result<(), BuildErrorKind> {
    if o.ty.ndim() != x.ty.ndim() {
        return Err(r.rank(o, &format!("{} like the pooled input", x.ty.ndim())));
    }
    let want = pooled(p, x);
    if want.iter().zip(&o.ty.shape).any(|(a, b)| differ(*a, *b)) {
        return Err(BuildErrorKind::ShapeMismatch {
            op: r.name.clone(),
            operands: vec![x.clone(), o.clone()],
        });
    }
    Ok(())
}

/// `pool_2d(x)`.
pub(super) fn pool(r: &Rule<'_>, p: &PoolParams) -> Result<TensorType, BuildErrorKind> {
    let [x] = r.ins else {
        return Err(r.invalid(format!("takes 1 input, got {}", r.ins.len())));
    };
    check_pool(r, p, x)?;
    Ok(TensorType::new(x.ty.dtype, pooled(p, x)))
}

/// `max_pool_grad(x, out, gz)` (Theano's `MaxPoolGrad`): `x`'s type.
pub(super) fn max_pool_grad(r: &Rule<'_>, p: &PoolParams) -> Result<TensorType, BuildErrorKind> {
    let [x, out, gz] = r.ins else {
        return Err(r.invalid(format!("takes 3 inputs (x, its pooling, the gradient), got {}", r.ins.len())));
    };
    check_max(r, p)?;
    check_pool(r, p, x)?;
    check_pooled(r, p, x, out)?;
    check_pooled(r, p, x, gz)?;
    let dtype = float_dtype(r, &[x, out, gz])?;
    Ok(TensorType::new(dtype, x.ty.shape.clone()))
}

/// `max_pool_grad_grad(x, out, ggx)` (Theano's `DownsampleFactorMaxGradGrad`): the pooled
/// type.
pub(super) fn max_pool_grad_grad(r: &Rule<'_>, p: &PoolParams) -> Result<TensorType, BuildErrorKind> {
    let [x, out, ggx] = r.ins else {
        return Err(r.invalid(format!("takes 3 inputs (x, its pooling, the gradient), got {}", r.ins.len())));
    };
    check_max(r, p)?;
    check_pool(r, p, x)?;
    check_pooled(r, p, x, out)?;
    if ggx.ty.ndim() != x.ty.ndim() || x.ty.shape.iter().zip(&ggx.ty.shape).any(|(a, b)| differ(*a, *b)) {
        return Err(BuildErrorKind::ShapeMismatch {
            op: r.name.clone(),
            operands: vec![x.clone(), ggx.clone()],
        });
    }
    let dtype = float_dtype(r, &[x, out, ggx])?;
    Ok(TensorType::new(dtype, pooled(p, x)))
}

fn check_max(r: &Rule<'_>, p: &PoolParams) -> Result<(), BuildErrorKind> {
    if p.mode != PoolMode::Max {
        return Err(r.invalid(format!("is the gradient of max pooling, not of {}", p.mode.name())));
    }
    Ok(())
}

/// `average_pool_grad(x, gz)` (Theano's `AveragePoolGrad`, also for `sum`): `x`'s type.
pub(super) fn average_pool_grad(r: &Rule<'_>, p: &PoolParams) -> Result<TensorType, BuildErrorKind> {
    let [x, gz] = r.ins else {
        return Err(r.invalid(format!("takes 2 inputs (x, the gradient), got {}", r.ins.len())));
    };
    if p.mode == PoolMode::Max {
        return Err(r.invalid("is the gradient of sum and average pooling, not of max".into()));
    }
    check_pool(r, p, x)?;
    check_pooled(r, p, x, gz)?;
    let dtype = float_dtype(r, &[x, gz])?;
    Ok(TensorType::new(dtype, x.ty.shape.clone()))
}

/// The parameters of a convolution or pooling op as the text form writes them inside its
/// braces (`None` for other ops).
pub fn fmt_params(op: &Op) -> Option<String> {
    let conv = |p: &ConvParams| {
        format!(
            "{}, stride=[{},{}], dilation=[{},{}], flip={}, groups={}",
            p.border, p.subsample[0], p.subsample[1], p.dilation[0], p.dilation[1], p.filter_flip, p.groups
        )
    };
    let dims = |shape: &[Dim; 2]| super::fmt_alloc(shape);
    let pool = |p: &PoolParams| {
        format!(
            "{}, ws=[{},{}], stride=[{},{}], pad=[{},{}], ignore_border={}",
            p.mode.name(),
            p.ws[0],
            p.ws[1],
            p.stride[0],
            p.stride[1],
            p.pad[0],
            p.pad[1],
            p.ignore_border
        )
    };
    Some(match op {
        Op::Conv2d(p) => conv(p),
        Op::Conv2dGradInputs { conv: p, shape } | Op::Conv2dGradWeights { conv: p, shape } => {
            format!("{}, shape={}", conv(p), dims(shape))
        }
        Op::Pool(p) | Op::MaxPoolGrad(p) | Op::AveragePoolGrad(p) | Op::MaxPoolGradGrad(p) => pool(p),
        _ => return None,
    })
}

/// The names of the convolution and pooling ops in the text form.
pub const TEXT_NAMES: [&str; 7] = [
    "conv2d",
    "conv2d_grad_inputs",
    "conv2d_grad_weights",
    "pool_2d",
    "max_pool_grad",
    "average_pool_grad",
    "max_pool_grad_grad",
];

/// The `key=value` items of a parameter list, read in order.
struct Items<'a> {
    items: Vec<&'a str>,
    at: usize,
}

impl<'a> Items<'a> {
    /// The next item, which should be `what`.
    fn next(&mut self, what: &str) -> Result<&'a str, String> {
        self.at += 1;
        self.items.get(self.at - 1).copied().ok_or_else(|| format!("missing {what}"))
    }

    /// The value of the next item, `key=value`.
    fn value(&mut self, key: &str) -> Result<&'a str, String> {
        let item = self.next(key)?;
        item.strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .ok_or_else(|| format!("expected `{key}=…`, found `{item}`"))
    }

    /// `[a,b,…]` as numbers.
    fn list(s: &str) -> Result<Vec<usize>, String> {
        let inner = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or(format!("expected `[…]`, found `{s}`"))?;
        inner
            .split(',')
            .map(|v| v.trim().parse::<usize>().map_err(|_| format!("invalid number `{v}`")))
            .collect()
    }

    /// `key=[a,b]`.
    fn pair(&mut self, key: &str) -> Result<[usize; 2], String> {
        let s = self.value(key)?;
        match Self::list(s)?[..] {
            [a, b] => Ok([a, b]),
            _ => Err(format!("expected two numbers, found `{s}`")),
        }
    }

    /// `key=true` or `key=false`.
    fn boolean(&mut self, key: &str) -> Result<bool, String> {
        match self.value(key)? {
            "true" => Ok(true),
            "false" => Ok(false),
            s => Err(format!("expected `true` or `false`, found `{s}`")),
        }
    }

    /// Fails unless every item was read.
    fn end(&self) -> Result<(), String> {
        match self.items.get(self.at..) {
            Some([]) | None => Ok(()),
            Some(rest) => Err(format!("unexpected `{}`", rest.join(", "))),
        }
    }
}

/// Reads back what [`fmt_params`] wrote for op `name` (one of [`TEXT_NAMES`]).
pub fn parse_params(name: &str, text: &str) -> Result<Op, String> {
    let mut it = Items { items: text.split(", ").map(str::trim).collect(), at: 0 };
    let op = if name.starts_with("conv2d") {
        let border_text = it.next("the border mode")?;
        let border = match BorderMode::from_name(border_text) {
            Some(b) => b,
            None => {
                let pads =
                    border_text.strip_prefix("pad=").ok_or(format!("unknown border mode `{border_text}`"))?;
                match Items::list(pads)?[..] {
                    [a, b, c, d] => BorderMode::Pad([(a, b), (c, d)]),
                    _ => return Err(format!("expected four paddings, found `{border_text}`")),
                }
            }
        };
        let subsample = it.pair("stride")?;
        let dilation = it.pair("dilation")?;
        let filter_flip = it.boolean("flip")?;
        let groups = it.value("groups")?.parse().map_err(|_| "invalid number of groups".to_string())?;
        let conv = ConvParams { border, subsample, dilation, filter_flip, groups };
        if name == "conv2d" {
            Op::Conv2d(conv)
        } else {
            let text = it.value("shape")?;
            let inner =
                text.strip_prefix('[').and_then(|s| s.strip_suffix(']')).ok_or("expected `shape=[…]`")?;
            let dims: Vec<Dim> = inner
                .split(',')
                .map(|d| match d.trim() {
                    "?" => Ok(Dim::Input),
                    n => n.parse().map(Dim::Fixed).map_err(|_| format!("invalid length `{n}`")),
                })
                .collect::<Result<_, String>>()?;
            let [a, b] = dims[..] else { return Err("expected two lengths in the shape".into()) };
            if name == "conv2d_grad_inputs" {
                Op::Conv2dGradInputs { conv, shape: [a, b] }
            } else {
                Op::Conv2dGradWeights { conv, shape: [a, b] }
            }
        }
    } else {
        let mode_text = it.next("the mode")?;
        let mode =
            PoolMode::from_name(mode_text).ok_or_else(|| format!("unknown pooling mode `{mode_text}`"))?;
        let ws = it.pair("ws")?;
        let stride = it.pair("stride")?;
        let pad = it.pair("pad")?;
        let ignore_border = it.boolean("ignore_border")?;
        let p = PoolParams { ws, stride, pad, ignore_border, mode };
        match name {
            "pool_2d" => Op::Pool(p),
            "max_pool_grad" => Op::MaxPoolGrad(p),
            "average_pool_grad" => Op::AveragePoolGrad(p),
            _ => Op::MaxPoolGradGrad(p),
        }
    };
    it.end()?;
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_back_as_written() {
        let convs = [
            ConvParams::default(),
            ConvParams {
                border: BorderMode::Pad([(1, 0), (2, 3)]),
                subsample: [2, 1],
                dilation: [1, 3],
                filter_flip: false,
                groups: 4,
            },
            ConvParams { border: BorderMode::Full, ..ConvParams::default() },
            ConvParams { border: BorderMode::Half, ..ConvParams::default() },
        ];
        let mut ops = Vec::new();
        for p in convs {
            ops.push(Op::Conv2d(p));
            ops.push(Op::Conv2dGradInputs { conv: p, shape: [Dim::Fixed(28), Dim::Input] });
            ops.push(Op::Conv2dGradWeights { conv: p, shape: [Dim::Input, Dim::Fixed(5)] });
        }
        for mode in PoolMode::ALL {
            let p = PoolParams { ws: [3, 2], stride: [1, 2], pad: [1, 0], ignore_border: true, mode };
            ops.extend([Op::Pool(p), Op::MaxPoolGrad(p), Op::AveragePoolGrad(p), Op::MaxPoolGradGrad(p)]);
        }
        for op in ops {
            let text = fmt_params(&op).expect("a conv or pool op");
            assert_eq!(parse_params(&op.name(), &text), Ok(op.clone()), "{text}");
        }
        assert!(parse_params("conv2d", "same, stride=[1,1], dilation=[1,1], flip=true, groups=1").is_err());
        assert!(parse_params("pool_2d", "max, ws=[2,2], stride=[2,2], pad=[0,0], ignore_border=true, x=1")
            .is_err());
    }

    #[test]
    fn output_lengths_follow_the_border_modes() {
        let p = |border| ConvParams { border, ..ConvParams::default() };
        assert_eq!(p(BorderMode::Valid).out_len(0, 28, 5), Some(24));
        assert_eq!(p(BorderMode::Full).out_len(0, 28, 5), Some(32));
        assert_eq!(p(BorderMode::Half).out_len(0, 28, 5), Some(28));
        assert_eq!(p(BorderMode::Half).out_len(0, 28, 4), Some(29));
        assert_eq!(p(BorderMode::Valid).out_len(0, 4, 5), None);
        assert_eq!(p(BorderMode::Valid).out_len(0, 4, 0), None);
        let strided = ConvParams { subsample: [3, 3], dilation: [2, 2], ..ConvParams::default() };
        // A 3-tap filter dilated by 2 covers 5 positions: (12 - 5) / 3 + 1.
        assert_eq!(strided.out_len(1, 12, 3), Some(3));
        assert_eq!(BorderMode::symmetric(0, 0), BorderMode::Valid);
    }
}
