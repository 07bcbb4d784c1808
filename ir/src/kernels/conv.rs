//! Reference kernels of convolution and pooling, written as the direct loops of their
//! definitions: `conv2d` and its gradients with respect to the input and the filters,
//! `pool_2d` and its gradients. [`ConvGeometry`] and [`PoolGeometry`] check the run-time
//! shapes and give every length and index the kernels (and the native paths of the
//! runtime) use.

use super::num::FloatElem;
use super::KernelInput;
use crate::dtype::DType;
use crate::error::ValueError;
use crate::op::{ConvParams, Dim, PoolMode, PoolParams};
use crate::types::TensorType;
use crate::value::{check_alloc, Tensor, TensorElement};

/// The run-time geometry of a convolution: every length, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Images in the batch.
    pub batch: usize,
    /// Channel groups.
    pub groups: usize,
    /// Input channels of one group.
    pub in_channels: usize,
    /// Output channels (filters) of one group.
    pub out_channels: usize,
    /// The input's rows and columns.
    pub input: [usize; 2],
    /// The filters' rows and columns.
    pub kernel: [usize; 2],
    /// The output's rows and columns.
    pub output: [usize; 2],
    /// The padding before the first row and column.
    pub pad: [usize; 2],
    /// The strides.
    pub stride: [usize; 2],
    /// The filter dilation.
    pub dilation: [usize; 2],
    /// True convolution (the filters flipped).
    pub flip: bool,
}

fn mismatch(op: &str, operands: &[(&KernelInput<'_>, &str)]) -> ValueError {
    ValueError::ShapeMismatch {
        op: op.into(),
        operands: operands.iter().map(|(i, _)| (i.name.to_string(), i.value.shape().to_vec())).collect(),
    }
}

impl ConvGeometry {
    /// Every length but the output's, from the parameters and the known lengths.
    #[allow(clippy::too_many_arguments)]
    fn new(
        p: &ConvParams,
        batch: usize,
        in_channels: usize,
        out_channels: usize,
        input: [usize; 2],
        kernel: [usize; 2],
    ) -> ConvGeometry {
        ConvGeometry {
            batch,
            groups: p.groups,
            in_channels,
            out_channels,
            input,
            kernel,
            output: [0, 0],
            pad: [p.pads(0, kernel[0]).0, p.pads(1, kernel[1]).0],
            stride: p.subsample,
            dilation: p.dilation,
            flip: p.filter_flip,
        }
    }

    /// The output lengths, or why the filter does not fit.
    fn with_output(mut self, op: &str, p: &ConvParams) -> Result<ConvGeometry, ValueError> {
        for axis in 0..2 {
            let (n, k) = (self.input[axis], self.kernel[axis]);
            self.output[axis] = p.out_len(axis, n, k).ok_or_else(|| {
                let (a, b) = p.pads(axis, k);
                ValueError::invalid(
                    op,
                    if k == 0 {
                        "the filters are empty (0 rows or columns)".to_string()
                    } else {
                        format!(
                            "the filter ({k} long, {} dilated) is larger than the padded input ({n} + {a} + {b}) \
                             on axis {}",
                            p.dilated(axis, k).map_or("overflowing".into(), |d| d.to_string()),
                            axis + 2
                        )
                    },
                )
            })?;
        }
        Ok(self)
    }

    /// The geometry of `conv2d(x, w)`.
    ///
    /// # Errors
    /// A shape mismatch when the channels disagree; `Invalid` when the filters do not split
    /// into the groups or are larger than the padded input.
    pub fn forward(
        p: &ConvParams,
        x: &KernelInput<'_>,
        w: &KernelInput<'_>,
    ) -> Result<ConvGeometry, ValueError> {
        let (xs, ws) = (x.value.shape(), w.value.shape());
        if xs.len() != 4 || ws.len() != 4 || xs[1] != ws[1] * p.groups || ws[0] % p.groups != 0 {
            return Err(mismatch("conv2d", &[(x, "input"), (w, "filters")]));
        }
        ConvGeometry::new(p, xs[0], ws[1], ws[0] / p.groups, [xs[2], xs[3]], [ws[2], ws[3]])
            .with_output("conv2d", p)
    }

    /// The geometry of `conv2d_grad_inputs(w, top)` for an input of spatial shape `input`.
    ///
    /// # Errors
    /// A shape mismatch when `top` is not the output of a convolution of such an input.
    pub fn grad_inputs(
        p: &ConvParams,
        w: &KernelInput<'_>,
        top: &KernelInput<'_>,
        input: [usize; 2],
    ) -> Result<ConvGeometry, ValueError> {
        let op = "conv2d_grad_inputs";
        let (ws, ts) = (w.value.shape(), top.value.shape());
        if ws.len() != 4 || ts.len() != 4 || ts[1] != ws[0] || ws[0] % p.groups != 0 {
            return Err(mismatch(op, &[(w, "filters"), (top, "gradient")]));
        }
        let g =
            ConvGeometry::new(p, ts[0], ws[1], ws[0] / p.groups, input, [ws[2], ws[3]]).with_output(op, p)?;
        if g.output != [ts[2], ts[3]] {
            return Err(ValueError::invalid(
                op,
                format!(
                    "{} of shape {ts:?} is not the output of a convolution of an input of {input:?} \
                     (rows, columns) with filters of shape {ws:?}, which has {:?}",
                    top.name, g.output
                ),
            ));
        }
        Ok(g)
    }

    /// The geometry of `conv2d_grad_weights(x, top)` for filters of spatial shape `kernel`.
    ///
    /// # Errors
    /// A shape mismatch when `top` is not the output of a convolution of `x` with such
    /// filters.
    pub fn grad_weights(
        p: &ConvParams,
        x: &KernelInput<'_>,
        top: &KernelInput<'_>,
        kernel: [usize; 2],
    ) -> Result<ConvGeometry, ValueError> {
        let op = "conv2d_grad_weights";
        let (xs, ts) = (x.value.shape(), top.value.shape());
        if xs.len() != 4 || ts.len() != 4 || xs[0] != ts[0] || xs[1] % p.groups != 0 || ts[1] % p.groups != 0
        {
            return Err(mismatch(op, &[(x, "input"), (top, "gradient")]));
        }
        let g = ConvGeometry::new(p, xs[0], xs[1] / p.groups, ts[1] / p.groups, [xs[2], xs[3]], kernel)
            .with_output(op, p)?;
        if g.output != [ts[2], ts[3]] {
            return Err(ValueError::invalid(
                op,
                format!(
                    "{} of shape {ts:?} is not the output of a convolution of {} of shape {xs:?} with \
                     filters of {kernel:?} (rows, columns), which has {:?}",
                    top.name, x.name, g.output
                ),
            ));
        }
        Ok(g)
    }

    /// The input's shape.
    pub fn x_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels * self.groups, self.input[0], self.input[1]]
    }

    /// The filters' shape.
    pub fn w_shape(&self) -> [usize; 4] {
        [self.out_channels * self.groups, self.in_channels, self.kernel[0], self.kernel[1]]
    }

    /// The output's shape.
    pub fn y_shape(&self) -> [usize; 4] {
        [self.batch, self.out_channels * self.groups, self.output[0], self.output[1]]
    }

    /// The input position on `axis` that output position `o` reads with filter tap `u`
    /// (taps counted along the input, before any flip), `None` in the padding.
    #[inline]
    pub fn src(&self, axis: usize, o: usize, u: usize) -> Option<usize> {
        (o * self.stride[axis] + u * self.dilation[axis])
            .checked_sub(self.pad[axis])
            .filter(|&q| q < self.input[axis])
    }

    /// The filter index on `axis` of tap `u`: flipped for a true convolution.
    #[inline]
    pub fn tap(&self, axis: usize, u: usize) -> usize {
        if self.flip {
            self.kernel[axis] - 1 - u
        } else {
            u
        }
    }
}

/// The spatial lengths of a gradient op: fixed, or read from its length inputs.
///
/// # Errors
/// `Invalid` for a negative length.
pub fn lengths(op: &str, shape: &[Dim; 2], inputs: &[KernelInput<'_>]) -> Result<[usize; 2], ValueError> {
    let mut held = inputs.iter();
    let mut out = [0; 2];
    for (o, d) in out.iter_mut().zip(shape) {
        *o = match d {
            Dim::Fixed(n) => *n,
            Dim::Input => {
                let v = held.next().ok_or_else(|| ValueError::invalid(op, "a length input is missing"))?;
                let n = v.value.cast(DType::I64).scalar::<i64>()?;
                usize::try_from(n).map_err(|_| ValueError::invalid(op, format!("negative length {n}")))?
            }
        };
    }
    Ok(out)
}

fn zero<F: FloatElem>() -> F {
    <F as num_traits::Zero>::zero()
}

/// The contiguous data of `t` as `F` (cast to `dtype` first).
fn data<F: TensorElement + Copy>(t: &Tensor, dtype: DType) -> Result<Vec<F>, ValueError> {
    let t = t.cast(dtype);
    let a = t.array::<F>()?;
    Ok(a.iter().copied().collect())
}

fn wrap<F: TensorElement>(shape: &[usize], v: Vec<F>) -> Result<Tensor, ValueError> {
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v)?;
    Ok(F::wrap(a.into_shared()))
}

/// `y[b, o, i, j] = Σ x[b, c, i·s + u·d - pad, j·s + v·d - pad] · w[o, c', tap(u), tap(v)]`
/// over the group's channels and the taps inside the input.
fn conv_typed<F: FloatElem>(g: &ConvGeometry, x: &[F], w: &[F]) -> Vec<F> {
    let [_, ci, ih, iw] = g.x_shape();
    let [oc, cg, kh, kw] = g.w_shape();
    let [oh, ow] = g.output;
    let mut y = Vec::with_capacity(g.batch * oc * oh * ow);
    for b in 0..g.batch {
        for o in 0..oc {
            let group = o / g.out_channels;
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = zero::<F>();
                    for c in 0..cg {
                        let xc = (b * ci + group * cg + c) * ih;
                        let wc = (o * cg + c) * kh;
                        for u in 0..kh {
                            let Some(p) = g.src(0, i, u) else { continue };
                            for v in 0..kw {
                                let Some(q) = g.src(1, j, v) else { continue };
                                acc = acc + x[(xc + p) * iw + q] * w[(wc + g.tap(0, u)) * kw + g.tap(1, v)];
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
    }
    y
}

/// The gradient with respect to the input: every output gradient spread back over the
/// input positions its output read, weighted by the filter taps.
fn grad_inputs_typed<F: FloatElem>(g: &ConvGeometry, w: &[F], top: &[F]) -> Vec<F> {
    let [_, ci, ih, iw] = g.x_shape();
    let [oc, cg, kh, kw] = g.w_shape();
    let [oh, ow] = g.output;
    let mut gx = vec![zero::<F>(); g.batch * ci * ih * iw];
    for b in 0..g.batch {
        for o in 0..oc {
            let group = o / g.out_channels;
            for i in 0..oh {
                for j in 0..ow {
                    let t = top[((b * oc + o) * oh + i) * ow + j];
                    for c in 0..cg {
                        let xc = (b * ci + group * cg + c) * ih;
                        let wc = (o * cg + c) * kh;
                        for u in 0..kh {
                            let Some(p) = g.src(0, i, u) else { continue };
                            for v in 0..kw {
                                let Some(q) = g.src(1, j, v) else { continue };
                                let k = (xc + p) * iw + q;
                                gx[k] = gx[k] + t * w[(wc + g.tap(0, u)) * kw + g.tap(1, v)];
                            }
                        }
                    }
                }
            }
        }
    }
    gx
}

/// The gradient with respect to the filters: for each tap, the output gradients times the
/// input positions that tap read.
fn grad_weights_typed<F: FloatElem>(g: &ConvGeometry, x: &[F], top: &[F]) -> Vec<F> {
    let [_, ci, ih, iw] = g.x_shape();
    let [oc, cg, kh, kw] = g.w_shape();
    let [oh, ow] = g.output;
    let mut gw = vec![zero::<F>(); oc * cg * kh * kw];
    for o in 0..oc {
        let group = o / g.out_channels;
        for c in 0..cg {
            for u in 0..kh {
                for v in 0..kw {
                    let mut acc = zero::<F>();
                    for b in 0..g.batch {
                        let xc = (b * ci + group * cg + c) * ih;
                        for i in 0..oh {
                            let Some(p) = g.src(0, i, u) else { continue };
                            for j in 0..ow {
                                let Some(q) = g.src(1, j, v) else { continue };
                                acc = acc + top[((b * oc + o) * oh + i) * ow + j] * x[(xc + p) * iw + q];
                            }
                        }
                    }
                    gw[((o * cg + c) * kh + g.tap(0, u)) * kw + g.tap(1, v)] = acc;
                }
            }
        }
    }
    gw
}

/// Runs `f` in `out`'s float dtype.
macro_rules! by_dtype {
    ($out:expr, $f:ident($($arg:expr),*)) => {
        match $out.dtype {
            DType::F32 => $f::<f32>($($arg),*),
            DType::F64 => $f::<f64>($($arg),*),
            d => Err(ValueError::invalid("conv", format!("computes in float32 or float64, not {d}"))),
        }
    };
}

/// Which product of a convolution a kernel computes.
#[derive(Clone, Copy)]
enum ConvKernel {
    /// `conv2d(x, w)`.
    Forward,
    /// `conv2d_grad_inputs(w, top)`.
    GradInputs,
    /// `conv2d_grad_weights(x, top)`.
    GradWeights,
}

fn run_conv<F: FloatElem>(
    which: ConvKernel,
    g: &ConvGeometry,
    a: &Tensor,
    b: &Tensor,
) -> Result<Tensor, ValueError> {
    let (a, b) = (data::<F>(a, F::DTYPE)?, data::<F>(b, F::DTYPE)?);
    match which {
        ConvKernel::Forward => wrap(&g.y_shape(), conv_typed(g, &a, &b)),
        ConvKernel::GradInputs => wrap(&g.x_shape(), grad_inputs_typed(g, &a, &b)),
        ConvKernel::GradWeights => wrap(&g.w_shape(), grad_weights_typed(g, &a, &b)),
    }
}

/// `conv2d(x, w)`.
pub(super) fn conv2d(
    p: &ConvParams,
    ins: &[KernelInput<'_>],
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let g = ConvGeometry::forward(p, &ins[0], &ins[1])?;
    check_alloc("conv2d", &g.y_shape(), out.dtype)?;
    by_dtype!(out, run_conv(ConvKernel::Forward, &g, ins[0].value, ins[1].value))
}

/// `conv2d_grad_inputs(w, top, lengths…)`.
pub(super) fn conv2d_grad_inputs(
    p: &ConvParams,
    shape: &[Dim; 2],
    ins: &[KernelInput<'_>],
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let input = lengths("conv2d_grad_inputs", shape, &ins[2..])?;
    let g = ConvGeometry::grad_inputs(p, &ins[0], &ins[1], input)?;
    check_alloc("conv2d_grad_inputs", &g.x_shape(), out.dtype)?;
    by_dtype!(out, run_conv(ConvKernel::GradInputs, &g, ins[0].value, ins[1].value))
}

/// `conv2d_grad_weights(x, top, lengths…)`.
pub(super) fn conv2d_grad_weights(
    p: &ConvParams,
    shape: &[Dim; 2],
    ins: &[KernelInput<'_>],
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let kernel = lengths("conv2d_grad_weights", shape, &ins[2..])?;
    let g = ConvGeometry::grad_weights(p, &ins[0], &ins[1], kernel)?;
    check_alloc("conv2d_grad_weights", &g.w_shape(), out.dtype)?;
    by_dtype!(out, run_conv(ConvKernel::GradWeights, &g, ins[0].value, ins[1].value))
}

/// The run-time geometry of pooling: the input seen as `planes` images of `input` rows and
/// columns, pooled to `output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    /// The product of the leading axes.
    pub planes: usize,
    /// The input's last two lengths.
    pub input: [usize; 2],
    /// The pooled lengths.
    pub output: [usize; 2],
}

impl PoolGeometry {
    /// The geometry of pooling `x`, whose rank is at least 2.
    ///
    /// # Errors
    /// `Invalid` for a rank below 2.
    pub fn of(op: &str, p: &PoolParams, x: &KernelInput<'_>) -> Result<PoolGeometry, ValueError> {
        let s = x.value.shape();
        if s.len() < 2 {
            return Err(ValueError::invalid(op, format!("{} of shape {s:?} has fewer than 2 axes", x.name)));
        }
        let n = s.len();
        let input = [s[n - 2], s[n - 1]];
        Ok(PoolGeometry {
            planes: s[..n - 2].iter().product(),
            input,
            output: [p.out_len(0, input[0]), p.out_len(1, input[1])],
        })
    }

    /// Checks that `o` has the pooled shape of `x`.
    ///
    /// # Errors
    /// A shape mismatch naming both.
    pub fn check_pooled(
        op: &str,
        p: &PoolParams,
        x: &KernelInput<'_>,
        o: &KernelInput<'_>,
    ) -> Result<(), ValueError> {
        if o.value.shape() != p.out_shape(x.value.shape()).as_slice() {
            return Err(mismatch(op, &[(x, "input"), (o, "pooled")]));
        }
        Ok(())
    }

    /// Calls `f(plane, out_index, rows, cols)` for every window, `rows` and `cols` the input
    /// ranges it covers.
    #[inline]
    pub fn for_each_window(
        &self,
        p: &PoolParams,
        mut f: impl FnMut(usize, usize, std::ops::Range<usize>, std::ops::Range<usize>),
    ) {
        let [oh, ow] = self.output;
        let cols: Vec<(usize, usize)> = (0..ow).map(|j| p.window(1, j, self.input[1])).collect();
        for plane in 0..self.planes {
            for i in 0..oh {
                let (r0, r1) = p.window(0, i, self.input[0]);
                for (j, &(c0, c1)) in cols.iter().enumerate() {
                    f(plane, (plane * oh + i) * ow + j, r0..r1, c0..c1);
                }
            }
        }
    }

    /// Elements of one input plane.
    pub fn plane_len(&self) -> usize {
        self.input[0] * self.input[1]
    }
}

fn pool_typed<F: FloatElem>(p: &PoolParams, g: &PoolGeometry, x: &[F]) -> Vec<F> {
    let mut out = vec![zero::<F>(); g.planes * g.output[0] * g.output[1]];
    let iw = g.input[1];
    g.for_each_window(p, |plane, k, rows, cols| {
        let base = plane * g.plane_len();
        let (nr, nc) = (rows.len(), cols.len());
        out[k] = if p.mode == PoolMode::Max {
            let mut m = <F as num_traits::Float>::neg_infinity();
            for r in rows {
                for &v in &x[base + r * iw + cols.start..base + r * iw + cols.end] {
                    if v > m || num_traits::Float::is_nan(v) {
                        m = v;
                    }
                    if num_traits::Float::is_nan(m) {
                        break;
                    }
                }
            }
            m
        } else {
            let mut s = zero::<F>();
            for r in rows {
                for &v in &x[base + r * iw + cols.start..base + r * iw + cols.end] {
                    s = s + v;
                }
            }
            match p.divisor(nr, nc) {
                1 => s,
                d => s / F::from(d).expect("a count"),
            }
        };
    });
    out
}

/// Max pooling's gradient: `gz` of each window to every element equal to its maximum.
fn max_grad_typed<F: FloatElem>(p: &PoolParams, g: &PoolGeometry, x: &[F], maxout: &[F], gz: &[F]) -> Vec<F> {
    let mut gx = vec![zero::<F>(); x.len()];
    let iw = g.input[1];
    g.for_each_window(p, |plane, k, rows, cols| {
        let base = plane * g.plane_len();
        for r in rows {
            for c in cols.clone() {
                let e = base + r * iw + c;
                if x[e] == maxout[k] {
                    gx[e] = gx[e] + gz[k];
                }
            }
        }
    });
    gx
}

/// Sum and average pooling's gradient: `gz` of each window (divided as the average
/// divides) to every input element of the window.
fn avg_grad_typed<F: FloatElem>(p: &PoolParams, g: &PoolGeometry, x_len: usize, gz: &[F]) -> Vec<F> {
    let mut gx = vec![zero::<F>(); x_len];
    let iw = g.input[1];
    g.for_each_window(p, |plane, k, rows, cols| {
        let base = plane * g.plane_len();
        let v = match p.divisor(rows.len(), cols.len()) {
            1 => gz[k],
            d => gz[k] / F::from(d).expect("a count"),
        };
        for r in rows {
            for e in &mut gx[base + r * iw + cols.start..base + r * iw + cols.end] {
                *e = *e + v;
            }
        }
    });
    gx
}

/// The gradient of max pooling's gradient with respect to its `gz`: per window, the sum of
/// `ggx` over the elements equal to the window's maximum.
fn max_grad_grad_typed<F: FloatElem>(
    p: &PoolParams,
    g: &PoolGeometry,
    x: &[F],
    maxout: &[F],
    ggx: &[F],
) -> Vec<F> {
    let mut out = vec![zero::<F>(); maxout.len()];
    let iw = g.input[1];
    g.for_each_window(p, |plane, k, rows, cols| {
        let base = plane * g.plane_len();
        let mut s = zero::<F>();
        for r in rows {
            for c in cols.clone() {
                let e = base + r * iw + c;
                if x[e] == maxout[k] {
                    s = s + ggx[e];
                }
            }
        }
        out[k] = s;
    });
    out
}

/// Which pooling kernel runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PoolKernel {
    /// `pool_2d(x)`.
    Pool,
    /// `max_pool_grad(x, out, gz)`.
    MaxGrad,
    /// `average_pool_grad(x, gz)`.
    AverageGrad,
    /// `max_pool_grad_grad(x, out, ggx)`.
    MaxGradGrad,
}

fn run_pool<F: FloatElem>(
    which: PoolKernel,
    p: &PoolParams,
    g: &PoolGeometry,
    ins: &[KernelInput<'_>],
    shape: &[usize],
) -> Result<Tensor, ValueError> {
    let vals: Vec<Vec<F>> = ins.iter().map(|i| data::<F>(i.value, F::DTYPE)).collect::<Result<_, _>>()?;
    let v = match which {
        PoolKernel::Pool => pool_typed(p, g, &vals[0]),
        PoolKernel::MaxGrad => max_grad_typed(p, g, &vals[0], &vals[1], &vals[2]),
        PoolKernel::AverageGrad => avg_grad_typed(p, g, vals[0].len(), &vals[1]),
        PoolKernel::MaxGradGrad => max_grad_grad_typed(p, g, &vals[0], &vals[1], &vals[2]),
    };
    wrap(shape, v)
}

/// `pool_2d(x)`.
pub(super) fn pool(p: &PoolParams, ins: &[KernelInput<'_>], out: &TensorType) -> Result<Tensor, ValueError> {
    let g = PoolGeometry::of("pool_2d", p, &ins[0])?;
    let shape = p.out_shape(ins[0].value.shape());
    check_alloc("pool_2d", &shape, out.dtype)?;
    by_dtype!(out, run_pool(PoolKernel::Pool, p, &g, ins, &shape))
}

/// `max_pool_grad(x, out, gz)`, `average_pool_grad(x, gz)` and `max_pool_grad_grad(x, out,
/// ggx)`.
pub(super) fn pool_grad(
    op: &str,
    p: &PoolParams,
    ins: &[KernelInput<'_>],
    out: &TensorType,
) -> Result<Tensor, ValueError> {
    let x = &ins[0];
    let g = PoolGeometry::of(op, p, x)?;
    let which = match op {
        "max_pool_grad" => PoolKernel::MaxGrad,
        "average_pool_grad" => PoolKernel::AverageGrad,
        _ => PoolKernel::MaxGradGrad,
    };
    for (k, o) in ins.iter().enumerate().skip(1) {
        // max_pool_grad_grad's third input has x's shape; every other, the pooled shape.
        if which == PoolKernel::MaxGradGrad && k == 2 {
            if o.value.shape() != x.value.shape() {
                return Err(mismatch(op, &[(x, "input"), (o, "gradient")]));
            }
        } else {
            PoolGeometry::check_pooled(op, p, x, o)?;
        }
    }
    let shape = if which == PoolKernel::MaxGradGrad {
        p.out_shape(x.value.shape())
    } else {
        x.value.shape().to_vec()
    };
    check_alloc(op, &shape, out.dtype)?;
    by_dtype!(out, run_pool(which, p, &g, ins, &shape))
}
