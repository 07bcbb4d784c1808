//! Native 2-d pooling for `Mode::Jit`: `pool_2d` and the gradients of max and average
//! pooling (`max_pool_grad`, `average_pool_grad`), plane by plane (a plane: one image's
//! channel, the last two axes), the planes split over the threads. Every result is bit for
//! bit the reference kernel's (`tensorlift_ir::kernels::conv`), NaN payloads aside.
//!
//! Each row of windows is computed from whole input rows read left to right: the windows'
//! values along the row are kept in a row-long buffer (in L1) while the window's input rows
//! go by, so the input is read once, in order, and the result written once, in order.
//! Windows side by side (the window's width is its stride, no padding: LeNet's 2×2 and 3×3
//! pooling) are fixed-size chunks of the row, with kernels specialised for widths 2 and 3;
//! the loops carry no data-dependent branch (a maximum is a select), so the compiler
//! vectorises them.
//!
//! - A maximum is the window's elements in row-major order folded with "keep the first
//!   NaN, else the first of the largest": the value the reference's running maximum ends
//!   with. That fold is associative, so each row's piece of a window is folded first, then
//!   folded into the window's value.
//! - A sum (and an average's sum) adds the window's elements one by one from zero in
//!   row-major order, as the reference does; each window has its own accumulator.
//! - The gradients of windows that do not overlap (stride at least the window on both
//!   axes) write every element of the input's gradient once: `0 + gz` where the input
//!   equals its window's maximum (max pooling) or `0 + gz / divisor` (average pooling),
//!   zero elsewhere and outside every window — the reference's `0 + …` sum of one term.
//!   Overlapping windows are accumulated into a zeroed plane window after window, in the
//!   reference's order.

use crate::images::{by_images, contiguous, slice, zeroed, Elem};
use std::mem::MaybeUninit;
use tensorlift_ir::kernels::conv::PoolGeometry;
use tensorlift_ir::kernels::KernelInput;
use tensorlift_ir::{Element, PoolMode, PoolParams, Tensor, ValueError};

/// The windows of one plane: the input rows and columns each row and column of windows
/// covers.
struct Windows {
    rows: Vec<(usize, usize)>,
    cols: Vec<(usize, usize)>,
    /// `Some(w)` when the windows of a row are whole and side by side, `w` columns each
    /// (window `j` covers `j·w..(j + 1)·w`): they are then the row's first `w`-chunks.
    tiled: Option<usize>,
    /// The input's columns.
    iw: usize,
}

impl Windows {
    fn new(p: &PoolParams, g: &PoolGeometry) -> Windows {
        let windows = |axis: usize| -> Vec<(usize, usize)> {
            (0..g.output[axis]).map(|i| p.window(axis, i, g.input[axis])).collect()
        };
        let (rows, cols) = (windows(0), windows(1));
        let w = p.ws[1];
        let tiled = cols.iter().enumerate().all(|(j, &c)| c == (j * w, (j + 1) * w)).then_some(w);
        Windows { rows, cols, tiled, iw: g.input[1] }
    }

    fn ow(&self) -> usize {
        self.cols.len()
    }
}

/// The running maximum `a` of a window after its next element `e`: the first NaN stays,
/// else the first of equal values (`-0.0` and `0.0` are equal) — a select, no branch.
#[inline(always)]
fn keep_max<T: Elem>(a: T, e: T) -> T {
    #[allow(clippy::eq_op)]
    let a_is_nan = a != a;
    if a >= e || a_is_nan {
        a
    } else {
        e
    }
}

/// The maximum of a window's piece of one row, folded left to right.
#[inline(always)]
fn piece_max<T: Elem>(xs: &[T]) -> T {
    xs[1..].iter().fold(xs[0], |m, &e| keep_max(m, e))
}

/// Threads for a pooling pass over `elements` input elements.
fn threads(elements: usize) -> usize {
    crate::threads::for_len(elements)
}

/// `pool_2d(x)`.
pub(crate) fn pool<T: Elem>(p: &PoolParams, ins: &[KernelInput<'_>]) -> Result<Tensor, ValueError> {
    let g = PoolGeometry::of("pool_2d", p, &ins[0])?;
    let xa = contiguous::<T>(ins[0].value)?;
    let x = slice(&xa);
    let w = Windows::new(p, &g);
    let (in_plane, ow) = (g.plane_len(), w.ow());
    let out_plane = g.output[0] * ow;
    let shape = p.out_shape(ins[0].value.shape());
    by_images::<T>("pool_2d", &shape, out_plane, threads(x.len()), |first, chunk| {
        let mut acc = vec![<T as Element>::zero(); ow];
        for (k, out) in chunk.chunks_exact_mut(out_plane.max(1)).enumerate() {
            let plane = &x[(first + k) * in_plane..][..in_plane];
            for (&(r0, r1), out_row) in w.rows.iter().zip(out.chunks_exact_mut(ow.max(1))) {
                if p.mode == PoolMode::Max {
                    for r in r0..r1 {
                        max_row(&w, &plane[r * w.iw..][..w.iw], &mut acc, r == r0);
                    }
                    for (o, &a) in out_row.iter_mut().zip(&acc) {
                        o.write(a);
                    }
                    continue;
                }
                acc.fill(<T as Element>::zero());
                for r in r0..r1 {
                    sum_row(&w, &plane[r * w.iw..][..w.iw], &mut acc);
                }
                for ((o, &a), &(c0, c1)) in out_row.iter_mut().zip(&acc).zip(&w.cols) {
                    o.write(match p.divisor(r1 - r0, c1 - c0) {
                        1 => a,
                        d => a / T::from_f64(d as f64),
                    });
                }
            }
        }
    })
}

/// Folds one input row `xr` into the maxima `acc` of a row of windows (`first`: the
/// windows' first row, whose pieces start `acc`).
fn max_row<T: Elem>(w: &Windows, xr: &[T], acc: &mut [T], first: bool) {
    match w.tiled {
        Some(2) => max_tiled::<T, 2>(xr, acc, first),
        Some(3) => max_tiled::<T, 3>(xr, acc, first),
        Some(n) => {
            for (a, xs) in acc.iter_mut().zip(xr.chunks_exact(n)) {
                let m = piece_max(xs);
                *a = if first { m } else { keep_max(*a, m) };
            }
        }
        None => {
            for (a, &(c0, c1)) in acc.iter_mut().zip(&w.cols) {
                let m = piece_max(&xr[c0..c1]);
                *a = if first { m } else { keep_max(*a, m) };
            }
        }
    }
}

/// [`max_row`] for windows `N` wide side by side.
#[inline(always)]
fn max_tiled<T: Elem, const N: usize>(xr: &[T], acc: &mut [T], first: bool) {
    let (xs, _) = xr.as_chunks::<N>();
    if first {
        for (a, c) in acc.iter_mut().zip(xs) {
            *a = piece_max(c);
        }
    } else {
        for (a, c) in acc.iter_mut().zip(xs) {
            *a = keep_max(*a, piece_max(c));
        }
    }
}

/// Adds one input row `xr` to the sums `acc` of a row of windows, element by element.
fn sum_row<T: Elem>(w: &Windows, xr: &[T], acc: &mut [T]) {
    match w.tiled {
        Some(2) => sum_tiled::<T, 2>(xr, acc),
        Some(3) => sum_tiled::<T, 3>(xr, acc),
        Some(n) => {
            for (a, xs) in acc.iter_mut().zip(xr.chunks_exact(n)) {
                *a = xs.iter().fold(*a, |s, &e| s + e);
            }
        }
        None => {
            for (a, &(c0, c1)) in acc.iter_mut().zip(&w.cols) {
                *a = xr[c0..c1].iter().fold(*a, |s, &e| s + e);
            }
        }
    }
}

/// [`sum_row`] for windows `N` wide side by side.
#[inline(always)]
fn sum_tiled<T: Elem, const N: usize>(xr: &[T], acc: &mut [T]) {
    let (xs, _) = xr.as_chunks::<N>();
    for (a, c) in acc.iter_mut().zip(xs) {
        *a = c.iter().fold(*a, |s, &e| s + e);
    }
}

/// What a window sends to the elements of its input (`max_pool_grad`: to those equal to
/// its maximum; `average_pool_grad`: to all).
#[derive(Clone, Copy)]
enum Grad<'a, T> {
    /// The pooled maxima, plane after plane.
    Max(&'a [T]),
    /// Each window's gradient divided by its divisor.
    Average,
}

/// `max_pool_grad(x, out, gz)` and `average_pool_grad(x, gz)`.
pub(crate) fn pool_grad<T: Elem>(
    op: &str,
    p: &PoolParams,
    ins: &[KernelInput<'_>],
) -> Result<Tensor, ValueError> {
    let x = &ins[0];
    let g = PoolGeometry::of(op, p, x)?;
    for o in &ins[1..] {
        PoolGeometry::check_pooled(op, p, x, o)?;
    }
    let xa = contiguous::<T>(x.value)?;
    let xs = slice(&xa);
    let maxa = if p.mode == PoolMode::Max { Some(contiguous::<T>(ins[1].value)?) } else { None };
    let ga = contiguous::<T>(ins[ins.len() - 1].value)?;
    let gz = slice(&ga);
    let how = match &maxa {
        Some(m) => Grad::Max(slice(m)),
        None => Grad::Average,
    };
    let w = Windows::new(p, &g);
    let in_plane = g.plane_len();
    let out_plane = g.output[0] * w.ow();
    let disjoint = p.stride[0] >= p.ws[0] && p.stride[1] >= p.ws[1];
    by_images::<T>(op, x.value.shape(), in_plane, threads(xs.len()), |first, chunk| {
        let mut spread = Spread::new(w.iw);
        for (k, gx) in chunk.chunks_exact_mut(in_plane.max(1)).enumerate() {
            let plane = first + k;
            let xp = &xs[plane * in_plane..][..in_plane];
            let gzp = &gz[plane * out_plane..][..out_plane];
            let how = match how {
                Grad::Max(m) => Grad::Max(&m[plane * out_plane..][..out_plane]),
                Grad::Average => Grad::Average,
            };
            let planes = Plane { p, w: &w, x: xp, gz: gzp, how };
            if disjoint {
                planes.disjoint(gx, &mut spread);
            } else {
                planes.overlapping(zeroed(gx));
            }
        }
    })
}

/// One plane of a pooling gradient: its input, its pooled gradient and, for max pooling,
/// its maxima.
struct Plane<'a, T> {
    p: &'a PoolParams,
    w: &'a Windows,
    x: &'a [T],
    gz: &'a [T],
    how: Grad<'a, T>,
}

/// A row's windows spread over its columns: each column's window maximum and the value
/// the window sends (`0 + gz` or `0 + gz / divisor`); a column outside every window has a
/// NaN maximum (no element equals it) and sends zero.
struct Spread<T> {
    max: Vec<T>,
    value: Vec<T>,
}

impl<T: Elem> Spread<T> {
    fn new(iw: usize) -> Spread<T> {
        Spread { max: vec![T::from_f64(f64::NAN); iw], value: vec![<T as Element>::zero(); iw] }
    }
}

impl<T: Elem> Plane<'_, T> {
    /// What window `(i, j)` sends to its elements, before the zero they start from:
    /// `gz`, divided as the average divides.
    #[inline(always)]
    fn sent(&self, i: usize, j: usize, rows: usize, cols: usize) -> T {
        let gv = self.gz[i * self.w.ow() + j];
        match self.how {
            Grad::Max(_) => gv,
            Grad::Average => match self.p.divisor(rows, cols) {
                1 => gv,
                d => gv / T::from_f64(d as f64),
            },
        }
    }

    /// The gradient of windows that do not overlap, every element of `gx` written once.
    fn disjoint(&self, gx: &mut [MaybeUninit<T>], spread: &mut Spread<T>) {
        let (iw, ow, zero) = (self.w.iw, self.w.ow(), <T as Element>::zero());
        let mut done = 0;
        for (i, &(r0, r1)) in self.w.rows.iter().enumerate() {
            // Rows between windows (a stride longer than the window) get nothing.
            write_zeros(&mut gx[done * iw..r0 * iw]);
            done = r1;
            let maxima = match self.how {
                Grad::Max(m) => Some(&m[i * ow..][..ow]),
                Grad::Average => None,
            };
            let rows = r1 - r0;
            match (self.w.tiled, maxima) {
                (Some(n), Some(maxima)) => {
                    let gz_row = &self.gz[i * ow..][..ow];
                    for r in r0..r1 {
                        let (xr, gr) = (&self.x[r * iw..][..iw], &mut gx[r * iw..][..iw]);
                        match n {
                            2 => max_grad_tiled::<T, 2>(xr, gr, maxima, gz_row),
                            3 => max_grad_tiled::<T, 3>(xr, gr, maxima, gz_row),
                            _ => max_grad_tiled_any(n, xr, gr, maxima, gz_row),
                        }
                    }
                }
                (Some(n), None) => {
                    for r in r0..r1 {
                        let gr = &mut gx[r * iw..][..iw];
                        let (gs, tail) = gr.split_at_mut(ow * n);
                        for (j, piece) in gs.chunks_exact_mut(n).enumerate() {
                            let v = zero + self.sent(i, j, rows, n);
                            for e in piece {
                                e.write(v);
                            }
                        }
                        write_zeros(tail);
                    }
                }
                (None, _) => {
                    for (j, &(c0, c1)) in self.w.cols.iter().enumerate() {
                        let v = zero + self.sent(i, j, rows, c1 - c0);
                        let m = maxima.map_or(zero, |m| m[j]);
                        spread.max[c0..c1].fill(m);
                        spread.value[c0..c1].fill(v);
                    }
                    for r in r0..r1 {
                        let gr = &mut gx[r * iw..][..iw];
                        if maxima.is_some() {
                            let xr = &self.x[r * iw..][..iw];
                            for (((e, &v), &m), &s) in
                                gr.iter_mut().zip(xr).zip(&spread.max).zip(&spread.value)
                            {
                                e.write(if v == m { s } else { zero });
                            }
                        } else {
                            for (e, &s) in gr.iter_mut().zip(&spread.value) {
                                e.write(s);
                            }
                        }
                    }
                }
            }
        }
        write_zeros(&mut gx[done * iw..]);
    }

    /// The gradient of overlapping windows, added window by window (in the reference's
    /// order for every element) onto the zeroed `gx`.
    fn overlapping(&self, gx: &mut [T]) {
        let (iw, ow) = (self.w.iw, self.w.ow());
        for (i, &(r0, r1)) in self.w.rows.iter().enumerate() {
            for r in r0..r1 {
                let (xr, gr) = (&self.x[r * iw..][..iw], &mut gx[r * iw..][..iw]);
                for (j, &(c0, c1)) in self.w.cols.iter().enumerate() {
                    let v = self.sent(i, j, r1 - r0, c1 - c0);
                    match self.how {
                        Grad::Max(m) => {
                            let m = m[i * ow + j];
                            for (e, &x) in gr[c0..c1].iter_mut().zip(&xr[c0..c1]) {
                                if x == m {
                                    *e = *e + v;
                                }
                            }
                        }
                        Grad::Average => gr[c0..c1].iter_mut().for_each(|e| *e = *e + v),
                    }
                }
            }
        }
    }
}

/// One input row of max pooling's gradient over windows `N` wide side by side: `0 + gz`
/// where the element equals its window's maximum, zero elsewhere and past the windows.
#[inline(always)]
fn max_grad_tiled<T: Elem, const N: usize>(xr: &[T], gr: &mut [MaybeUninit<T>], maxima: &[T], gz: &[T]) {
    let zero = <T as Element>::zero();
    let ow = maxima.len();
    let (gs, _) = gr[..ow * N].as_chunks_mut::<N>();
    let (xs, _) = xr[..ow * N].as_chunks::<N>();
    for (((g, x), &m), &gv) in gs.iter_mut().zip(xs).zip(maxima).zip(gz) {
        let v = zero + gv;
        for k in 0..N {
            g[k].write(if x[k] == m { v } else { zero });
        }
    }
    write_zeros(&mut gr[ow * N..]);
}

/// [`max_grad_tiled`] for windows `n` wide.
fn max_grad_tiled_any<T: Elem>(n: usize, xr: &[T], gr: &mut [MaybeUninit<T>], maxima: &[T], gz: &[T]) {
    let zero = <T as Element>::zero();
    let ow = maxima.len();
    let pieces = gr[..ow * n].chunks_exact_mut(n).zip(xr.chunks_exact(n));
    for (((g, x), &m), &gv) in pieces.zip(maxima).zip(gz) {
        let v = zero + gv;
        for (e, &x) in g.iter_mut().zip(x) {
            e.write(if x == m { v } else { zero });
        }
    }
    write_zeros(&mut gr[ow * n..]);
}

/// Zeros written over `buf`.
fn write_zeros<T: Elem>(buf: &mut [MaybeUninit<T>]) {
    for e in buf {
        e.write(<T as Element>::zero());
    }
}
