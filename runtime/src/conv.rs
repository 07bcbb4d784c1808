//! Native convolution and pooling for `Mode::Jit`: `conv2d` and both its gradients as
//! matrix products on the threaded kernel of `crate::matmul`, and pooling with its
//! gradients as loops over contiguous planes (`crate::pooling`). Any other dtype mix (inputs not all of
//! the result's float dtype) runs the reference kernel; so does `max_pool_grad_grad`.
//!
//! A convolution lays the input positions each output position reads out as the columns of
//! a matrix (im2col): for one image and one channel group, row `(c, u, v)` of the `K × N`
//! matrix (`K` = channels × filter rows × filter columns, `N` = output rows × columns) holds
//! the input at filter tap `(u, v)` of every output position, zero in the padding, the taps
//! ordered as the filter stores them (flipped for a true convolution). Then
//! - the output of the group's filters `W` (`out_channels × K`) is `W · col`;
//! - the filters' gradient is `Σ_images top · colᵀ`;
//! - the input's gradient is `Wᵀ · top` spread back over the input (col2im).
//!
//! Images are split over the threads (each with its own column matrix, one-thread
//! products); a batch smaller than the threads runs its products threaded instead, and a
//! convolution of fewer than `matmul::PARALLEL_FLOPS` multiply-adds runs on one thread.

use crate::images::{by_images, contiguous, slice, zeroed, Elem};
use crate::matmul::{gemm_on, PARALLEL_FLOPS};
use ndarray::{ArrayView2, ArrayViewMut2};
use tensorlift_ir::kernels::conv::{lengths, ConvGeometry};
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{DType, Element, Op, Tensor, TensorType, ValueError};

/// The result of a convolution or pooling op computed natively, or `None` for the
/// reference kernel.
pub(crate) fn eval(op: &Op, ins: &[KernelInput<'_>], out: &TensorType) -> Option<Result<Tensor, ValueError>> {
    let tensors = match op {
        Op::Conv2d(_) | Op::Conv2dGradInputs { .. } | Op::Conv2dGradWeights { .. } => &ins[..2],
        Op::Pool(_) | Op::MaxPoolGrad(_) | Op::AveragePoolGrad(_) => ins,
        _ => return None,
    };
    if tensors.iter().any(|i| i.value.dtype() != out.dtype) {
        return None;
    }
    Some(match out.dtype {
        DType::F64 => typed::<f64>(op, ins),
        DType::F32 => typed::<f32>(op, ins),
        _ => return None,
    })
}

/// True for the ops this module runs natively (given inputs of the result's float dtype).
pub(crate) fn handles(op: &Op) -> bool {
    matches!(
        op,
        Op::Conv2d(_)
            | Op::Conv2dGradInputs { .. }
            | Op::Conv2dGradWeights { .. }
            | Op::Pool(_)
            | Op::MaxPoolGrad(_)
            | Op::AveragePoolGrad(_)
    )
}

/// The products summed into one element of a convolution op's result (its native kernel
/// sums them in another order than the reference); `None` for other ops.
pub(crate) fn terms(op: &Op, ins: &[KernelInput<'_>]) -> Option<usize> {
    let shape = |k: usize| ins.get(k).map(|i| i.value.shape()).filter(|s| s.len() == 4);
    match op {
        Op::Conv2d(_) => shape(1).map(|w| w[1] * w[2] * w[3]),
        Op::Conv2dGradInputs { conv, .. } => shape(0).map(|w| w[0] / conv.groups.max(1) * w[2] * w[3]),
        Op::Conv2dGradWeights { .. } => shape(1).map(|t| t[0] * t[2] * t[3]),
        _ => None,
    }
}

fn typed<T: Elem>(op: &Op, ins: &[KernelInput<'_>]) -> Result<Tensor, ValueError> {
    match op {
        Op::Conv2d(p) => {
            forward::<T>(&ConvGeometry::forward(p, &ins[0], &ins[1])?, ins[0].value, ins[1].value)
        }
        Op::Conv2dGradInputs { conv, shape } => {
            let input = lengths("conv2d_grad_inputs", shape, &ins[2..])?;
            let g = ConvGeometry::grad_inputs(conv, &ins[0], &ins[1], input)?;
            grad_inputs::<T>(&g, ins[0].value, ins[1].value)
        }
        Op::Conv2dGradWeights { conv, shape } => {
            let kernel = lengths("conv2d_grad_weights", shape, &ins[2..])?;
            let g = ConvGeometry::grad_weights(conv, &ins[0], &ins[1], kernel)?;
            grad_weights::<T>(&g, ins[0].value, ins[1].value)
        }
        Op::Pool(p) => crate::pooling::pool::<T>(p, ins),
        Op::MaxPoolGrad(p) | Op::AveragePoolGrad(p) => crate::pooling::pool_grad::<T>(&op.name(), p, ins),
        _ => Err(ValueError::invalid(op.name(), "has no native kernel")),
    }
}

/// Threads over images and threads per product for a convolution of `macs`
/// multiply-adds over `batch` images.
fn threads_for(batch: usize, macs: usize) -> (usize, usize) {
    let t = crate::threads::num_threads();
    if t <= 1 || macs < PARALLEL_FLOPS {
        (1, 1)
    } else if batch >= t {
        (t, 1)
    } else {
        (1, t)
    }
}

/// Filter rows · columns · channels of one group (`K`), output positions (`N`).
fn sizes(g: &ConvGeometry) -> (usize, usize) {
    (g.in_channels * g.kernel[0] * g.kernel[1], g.output[0] * g.output[1])
}

/// Multiply-adds of one product of the convolution, times the products.
fn macs(g: &ConvGeometry) -> usize {
    let (k, n) = sizes(g);
    g.batch.saturating_mul(g.groups).saturating_mul(g.out_channels).saturating_mul(k).saturating_mul(n)
}

/// The output positions `j0..j1` of `axis` whose tap `u` reads inside the input.
fn inside(g: &ConvGeometry, axis: usize, u: usize) -> (usize, usize) {
    let (s, off) = (g.stride[axis], u * g.dilation[axis]);
    let (pad, n, out) = (g.pad[axis], g.input[axis], g.output[axis]);
    let j0 = pad.saturating_sub(off).div_ceil(s).min(out);
    let j1 = (n + pad).checked_sub(off).map_or(0, |e| e.div_ceil(s)).clamp(j0, out);
    (j0, j1)
}

/// The column matrix (`K × N`) of one image's channel group `x` (channels × rows × cols).
fn im2col<T: Elem>(g: &ConvGeometry, x: &[T], col: &mut [T]) {
    let ([ih, iw], [oh, ow], [kh, kw]) = (g.input, g.output, g.kernel);
    let (n, (s, d, pad)) = (oh * ow, (g.stride[1], g.dilation[1], g.pad[1]));
    let zero = <T as Element>::zero();
    for c in 0..g.in_channels {
        for uu in 0..kh {
            let u = g.tap(0, uu);
            for vv in 0..kw {
                let v = g.tap(1, vv);
                let (j0, j1) = inside(g, 1, v);
                let row = &mut col[((c * kh + uu) * kw + vv) * n..][..n];
                for (i, dst) in row.chunks_exact_mut(ow).enumerate() {
                    let Some(p) = g.src(0, i, u) else {
                        dst.fill(zero);
                        continue;
                    };
                    let src = &x[(c * ih + p) * iw..][..iw];
                    dst[..j0].fill(zero);
                    dst[j1..].fill(zero);
                    let q0 = j0 * s + v * d - pad;
                    if s == 1 {
                        dst[j0..j1].copy_from_slice(&src[q0..q0 + (j1 - j0)]);
                    } else {
                        for (e, q) in dst[j0..j1].iter_mut().zip((q0..).step_by(s)) {
                            *e = src[q];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the column matrix `col` (`K × N`) back onto one image's channel group `gx`.
fn col2im<T: Elem>(g: &ConvGeometry, col: &[T], gx: &mut [T]) {
    let ([ih, iw], [oh, ow], [kh, kw]) = (g.input, g.output, g.kernel);
    let (n, (s, d, pad)) = (oh * ow, (g.stride[1], g.dilation[1], g.pad[1]));
    for c in 0..g.in_channels {
        for uu in 0..kh {
            let u = g.tap(0, uu);
            for vv in 0..kw {
                let v = g.tap(1, vv);
                let (j0, j1) = inside(g, 1, v);
                if j0 == j1 {
                    continue;
                }
                let row = &col[((c * kh + uu) * kw + vv) * n..][..n];
                for (i, src) in row.chunks_exact(ow).enumerate() {
                    let Some(p) = g.src(0, i, u) else { continue };
                    let dst = &mut gx[(c * ih + p) * iw..][..iw];
                    let q0 = j0 * s + v * d - pad;
                    if s == 1 {
                        for (e, &a) in dst[q0..q0 + (j1 - j0)].iter_mut().zip(&src[j0..j1]) {
                            *e = *e + a;
                        }
                    } else {
                        for (q, &a) in (q0..).step_by(s).zip(&src[j0..j1]) {
                            dst[q] = dst[q] + a;
                        }
                    }
                }
            }
        }
    }
}

fn view<T>(shape: (usize, usize), data: &[T]) -> ArrayView2<'_, T> {
    ArrayView2::from_shape(shape, &data[..shape.0 * shape.1]).expect("sized by the geometry")
}

fn view_mut<T>(shape: (usize, usize), data: &mut [T]) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape(shape, &mut data[..shape.0 * shape.1]).expect("sized by the geometry")
}

/// `conv2d(x, w)`.
fn forward<T: Elem>(g: &ConvGeometry, x: &Tensor, w: &Tensor) -> Result<Tensor, ValueError> {
    let (xa, wa) = (contiguous::<T>(x)?, contiguous::<T>(w)?);
    let (x, w) = (slice(&xa), slice(&wa));
    let (k, n) = sizes(g);
    let (og, x_group) = (g.out_channels, g.in_channels * g.input[0] * g.input[1]);
    let (threads, inner) = threads_for(g.batch, macs(g));
    let per_image = g.groups * og * n;
    let failed = std::sync::atomic::AtomicBool::new(false);
    let t = by_images::<T>("conv2d", &g.y_shape(), per_image, threads, |first, chunk| {
        let mut col = vec![<T as Element>::zero(); k * n];
        for (b, y) in chunk.chunks_exact_mut(per_image).enumerate() {
            let y = zeroed(y);
            let image = &x[(first + b) * g.groups * x_group..];
            for gi in 0..g.groups {
                im2col(g, &image[gi * x_group..], &mut col);
                let a = view((og, k), &w[gi * og * k..]);
                let c = view_mut((og, n), &mut y[gi * og * n..]);
                if gemm_on(inner, <T as Element>::one(), a, view((k, n), &col), <T as Element>::zero(), c)
                    .is_err()
                {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    })?;
    product_ok(failed, "conv2d", t)
}

/// A product that failed had shapes the geometry did not size: an internal error, reported.
fn product_ok(failed: std::sync::atomic::AtomicBool, op: &str, t: Tensor) -> Result<Tensor, ValueError> {
    if failed.into_inner() {
        return Err(ValueError::invalid(op, "a matrix product of the convolution had mismatched shapes"));
    }
    Ok(t)
}

/// `conv2d_grad_inputs(w, top)`.
fn grad_inputs<T: Elem>(g: &ConvGeometry, w: &Tensor, top: &Tensor) -> Result<Tensor, ValueError> {
    let (wa, ta) = (contiguous::<T>(w)?, contiguous::<T>(top)?);
    let (w, top) = (slice(&wa), slice(&ta));
    let (k, n) = sizes(g);
    let (og, x_group) = (g.out_channels, g.in_channels * g.input[0] * g.input[1]);
    let (threads, inner) = threads_for(g.batch, macs(g));
    let per_image = g.groups * x_group;
    let failed = std::sync::atomic::AtomicBool::new(false);
    let t = by_images::<T>("conv2d_grad_inputs", &g.x_shape(), per_image, threads, |first, chunk| {
        let mut col = vec![<T as Element>::zero(); k * n];
        for (b, gx) in chunk.chunks_exact_mut(per_image).enumerate() {
            let gx = zeroed(gx);
            let top_image = &top[(first + b) * g.groups * og * n..];
            for gi in 0..g.groups {
                // Wᵀ: the group's filters (og × K) seen transposed, no copy.
                let wt = view((og, k), &w[gi * og * k..]).reversed_axes();
                let c = view_mut((k, n), &mut col);
                let t = view((og, n), &top_image[gi * og * n..]);
                if gemm_on(inner, <T as Element>::one(), wt, t, <T as Element>::zero(), c).is_err() {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                col2im(g, &col, &mut gx[gi * x_group..]);
            }
        }
    })?;
    product_ok(failed, "conv2d_grad_inputs", t)
}

/// `conv2d_grad_weights(x, top)`: each thread sums the products of its images, then the
/// threads' sums are added.
fn grad_weights<T: Elem>(g: &ConvGeometry, x: &Tensor, top: &Tensor) -> Result<Tensor, ValueError> {
    let (xa, ta) = (contiguous::<T>(x)?, contiguous::<T>(top)?);
    let (x, top) = (slice(&xa), slice(&ta));
    let (k, n) = sizes(g);
    let (og, x_group) = (g.out_channels, g.in_channels * g.input[0] * g.input[1]);
    let (threads, inner) = threads_for(g.batch, macs(g));
    let len = g.groups * og * k;
    // The images of each thread, summed into its own filters' gradient.
    let part = |images: std::ops::Range<usize>| -> Option<Vec<T>> {
        let mut gw = vec![<T as Element>::zero(); len];
        let mut col = vec![<T as Element>::zero(); k * n];
        for b in images {
            let image = &x[b * g.groups * x_group..];
            let top_image = &top[b * g.groups * og * n..];
            for gi in 0..g.groups {
                im2col(g, &image[gi * x_group..], &mut col);
                // colᵀ (N × K): the column matrix seen transposed.
                let colt = view((k, n), &col).reversed_axes();
                let t = view((og, n), &top_image[gi * og * n..]);
                let c = view_mut((og, k), &mut gw[gi * og * k..]);
                gemm_on(inner, <T as Element>::one(), t, colt, <T as Element>::one(), c).ok()?;
            }
        }
        Some(gw)
    };
    let per = g.batch.div_ceil(threads.max(1)).max(1);
    let parts: Vec<Option<Vec<T>>> = if threads <= 1 {
        vec![part(0..g.batch)]
    } else {
        let mut parts = vec![None; g.batch.div_ceil(per)];
        rayon::scope(|s| {
            for (t, slot) in parts.iter_mut().enumerate() {
                let part = &part;
                s.spawn(move |_| *slot = part(t * per..((t + 1) * per).min(g.batch)));
            }
        });
        parts
    };
    let mut out: Vec<T> = crate::pool::buffer("conv2d_grad_weights", &g.w_shape())?;
    out.resize(len, <T as Element>::zero());
    for p in parts {
        let p = p.ok_or_else(|| {
            ValueError::invalid(
                "conv2d_grad_weights",
                "a matrix product of the convolution had mismatched shapes",
            )
        })?;
        for (o, v) in out.iter_mut().zip(p) {
            *o = *o + v;
        }
    }
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&g.w_shape()), out)?;
    Ok(T::wrap(a.into_shared()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taps_inside_the_input_are_those_whose_source_is_inside() {
        for (pad, stride, dil, k, n) in
            [(0, 1, 1, 3, 7), (2, 1, 1, 5, 6), (1, 2, 1, 3, 8), (3, 3, 2, 3, 9), (4, 1, 2, 3, 4)]
        {
            let p = tensorlift_ir::ConvParams {
                border: tensorlift_ir::BorderMode::symmetric(pad, pad),
                subsample: [stride, stride],
                dilation: [dil, dil],
                ..Default::default()
            };
            let out = p.out_len(1, n, k).expect("fits");
            let g = ConvGeometry {
                batch: 1,
                groups: 1,
                in_channels: 1,
                out_channels: 1,
                input: [n, n],
                kernel: [k, k],
                output: [out, out],
                pad: [pad, pad],
                stride: [stride, stride],
                dilation: [dil, dil],
                flip: false,
            };
            for u in 0..k {
                let (j0, j1) = inside(&g, 1, u);
                let want: Vec<usize> = (0..out).filter(|&j| g.src(1, j, u).is_some()).collect();
                assert_eq!((j0..j1).collect::<Vec<_>>(), want, "pad {pad} stride {stride} dil {dil} tap {u}");
            }
        }
    }
}
