//! Hand-written Rust baselines of the workloads, compiled by LLVM for this CPU (AVX-512 or
//! AVX2 chosen at run time): the physical-limit proxy the JIT is measured against. Where
//! the work is transcendental the loops call the fastest vector math available to Rust code
//! here, the runtime-dispatched AVX-512/AVX2 polynomials of `tensorlift_jit::bulk`, over
//! L1-sized blocks. `gemv`/`gemm` call `ndarray`'s matrix kernels (`matrixmultiply`)
//! directly. Each baseline either allocates its output per call, as a function returning a
//! new array must, or writes into a buffer allocated once (the `_into` variants); large
//! runs can be split over threads with rayon, like the JIT's.

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use tensorlift as tl;
use tensorlift_ir::MathFn;
use tensorlift_jit::bulk;
use tl::workloads::Case;
use tl::{Op, Tensor};

/// Elements per block of the transcendental baselines.
const BLOCK: usize = 1024;

/// A baseline: computes the case's output from its arguments.
pub type Baseline<'a> = Box<dyn FnMut() + 'a>;

fn slice(t: &Tensor) -> &[f64] {
    match t {
        Tensor::F64(a) => a.as_slice().expect("contiguous"),
        _ => panic!("float64 argument"),
    }
}

fn slice32(t: &Tensor) -> &[f32] {
    match t {
        Tensor::F32(a) => a.as_slice().expect("contiguous"),
        _ => panic!("float32 argument"),
    }
}

/// `out[i] = x[i] * x[i]`, vectorized for the best instruction set of the CPU.
fn square(x: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            return unsafe { square_avx512(x, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            return unsafe { square_avx2(x, out) };
        }
    }
    square_plain(x, out)
}

#[inline(always)]
fn square_plain(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v * v;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn square_avx512(x: &[f64], out: &mut [f64]) {
    square_plain(x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn square_avx2(x: &[f64], out: &mut [f64]) {
    square_plain(x, out)
}

/// The W9 expression over one block: `(sin(x)*cos(y) + exp(-x*y))*0.5 + tanh(x-y)`.
fn w9_block64(x: &[f64], y: &[f64], out: &mut [f64]) {
    let m = x.len();
    let (mut a, mut b, mut c, mut d) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    bulk::unary_f64(MathFn::Sin, x, &mut a[..m]);
    bulk::unary_f64(MathFn::Cos, y, &mut b[..m]);
    for i in 0..m {
        c[i] = -x[i] * y[i];
        d[i] = x[i] - y[i];
    }
    let (mut e, mut t) = ([0.0; BLOCK], [0.0; BLOCK]);
    bulk::unary_f64(MathFn::Exp, &c[..m], &mut e[..m]);
    bulk::unary_f64(MathFn::Tanh, &d[..m], &mut t[..m]);
    for i in 0..m {
        out[i] = (a[i] * b[i] + e[i]) * 0.5 + t[i];
    }
}

fn w9_block32(x: &[f32], y: &[f32], out: &mut [f32]) {
    let m = x.len();
    let (mut a, mut b, mut c, mut d) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    bulk::unary_f32(MathFn::Sin, x, &mut a[..m]);
    bulk::unary_f32(MathFn::Cos, y, &mut b[..m]);
    for i in 0..m {
        c[i] = -x[i] * y[i];
        d[i] = x[i] - y[i];
    }
    let (mut e, mut t) = ([0.0; BLOCK], [0.0; BLOCK]);
    bulk::unary_f32(MathFn::Exp, &c[..m], &mut e[..m]);
    bulk::unary_f32(MathFn::Tanh, &d[..m], &mut t[..m]);
    for i in 0..m {
        out[i] = (a[i] * b[i] + e[i]) * 0.5 + t[i];
    }
}

/// Runs `f` over `out` (and the matching ranges of the inputs) in blocks, on `threads`
/// threads.
fn blocks<T: Send + Sync + Copy>(threads: usize, out: &mut [T], f: &(dyn Fn(usize, &mut [T]) + Sync)) {
    if threads <= 1 {
        for (k, o) in out.chunks_mut(BLOCK).enumerate() {
            f(k * BLOCK, o);
        }
    } else {
        out.par_chunks_mut(BLOCK).enumerate().for_each(|(k, o)| f(k * BLOCK, o));
    }
}

/// The shared variable of `case`'s graph named `name`.
fn shared(case: &Case, name: &str) -> Tensor {
    let g = tl::FunctionGraph::from_outputs(&case.outputs).expect("a graph");
    g.ids()
        .find_map(|id| match &g.node(id).op {
            Op::Shared(s) if s.name() == name => Some(s.get()),
            _ => None,
        })
        .expect("the workload's shared variable")
}

/// The baseline of `case` on `threads` threads, writing a fresh output per call
/// (`into == false`) or into one buffer (`into == true`); `None` for workloads without one.
pub fn baseline(case: &Case, threads: usize, into: bool) -> Option<Baseline<'_>> {
    let n = case.elements();
    let mut buf64 = vec![0.0f64; if into { n } else { 0 }];
    let mut buf32 = vec![0.0f32; if into { n } else { 0 }];
    let fresh64 = move |buf: &mut Vec<f64>| -> Vec<f64> {
        if into {
            std::mem::take(buf)
        } else {
            vec![0.0; n]
        }
    };
    Some(match case.workload {
        "W1" => {
            let x = slice(&case.args[0]);
            Box::new(move || {
                let mut out = fresh64(&mut buf64);
                blocks(threads, &mut out, &|s, o| square(&x[s..s + o.len()], o));
                std::hint::black_box(&out);
                if into {
                    buf64 = out;
                }
            })
        }
        "W2" => {
            let x = slice(&case.args[0]);
            Box::new(move || {
                let mut out = fresh64(&mut buf64);
                blocks(threads, &mut out, &|s, o| bulk::unary_f64(MathFn::Sigmoid, &x[s..s + o.len()], o));
                std::hint::black_box(&out);
                if into {
                    buf64 = out;
                }
            })
        }
        "W9" => match (&case.args[0], &case.args[1]) {
            (Tensor::F64(_), Tensor::F64(_)) => {
                let (x, y) = (slice(&case.args[0]), slice(&case.args[1]));
                Box::new(move || {
                    let mut out = fresh64(&mut buf64);
                    blocks(threads, &mut out, &|s, o| w9_block64(&x[s..s + o.len()], &y[s..s + o.len()], o));
                    std::hint::black_box(&out);
                    if into {
                        buf64 = out;
                    }
                })
            }
            _ => {
                let (x, y) = (slice32(&case.args[0]), slice32(&case.args[1]));
                Box::new(move || {
                    let mut out = if into { std::mem::take(&mut buf32) } else { vec![0.0f32; n] };
                    blocks(threads, &mut out, &|s, o| w9_block32(&x[s..s + o.len()], &y[s..s + o.len()], o));
                    std::hint::black_box(&out);
                    if into {
                        buf32 = out;
                    }
                })
            }
        },
        "W4" if !into => {
            let (wt, bt) = (shared(case, "W"), shared(case, "b"));
            let w: Array2<f64> = wt.array::<f64>().ok()?.into_dimensionality().ok()?.to_owned();
            let b: Array1<f64> = bt.array::<f64>().ok()?.into_dimensionality().ok()?.to_owned();
            match &case.args[0] {
                Tensor::F64(x) if x.ndim() == 1 => {
                    let x: Array1<f64> = x.clone().into_dimensionality().ok()?.to_owned();
                    Box::new(move || {
                        let mut out = b.clone();
                        ndarray::linalg::general_mat_vec_mul(1.0, &w, &x, 1.0, &mut out);
                        std::hint::black_box(&out);
                    })
                }
                Tensor::F64(x) => {
                    let x: Array2<f64> = x.clone().into_dimensionality().ok()?.to_owned();
                    Box::new(move || {
                        let mut out = Array2::from_shape_fn((x.nrows(), w.ncols()), |(_, j)| b[j]);
                        ndarray::linalg::general_mat_mul(1.0, &x, &w, 1.0, &mut out);
                        std::hint::black_box(&out);
                    })
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}
