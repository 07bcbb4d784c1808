//! Native pooling (`Mode::Jit`) against the reference kernels (`Mode::Interp`), bit for
//! bit: `pool_2d` in every mode and `max_pool_grad` / `average_pool_grad`, over windows
//! side by side (2, 3 and 4 wide), partial windows at the edges (`ignore_border=False`),
//! strides longer and shorter than the window (gaps between windows, overlapping windows),
//! padding, odd sizes, a transposed (non-contiguous) input, float64 and float32, one and
//! two threads. The inputs are full of ties, signed zeros and `-inf`, so that which element
//! a maximum keeps and in which order a sum adds show in the bits. NaN inputs give NaN
//! where the reference gives NaN.

use tensorlift as tl;
use tl::{DType, Mode, PoolMode, PoolParams, Tensor, Var};

/// Values from a small set: many ties, `-0.0` next to `0.0`, `-inf`.
fn tied(shape: &[usize], seed: usize) -> Tensor {
    const SET: [f64; 7] = [-1.5, -0.0, 0.0, 0.25, 1.5, f64::NEG_INFINITY, 0.75];
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| SET[(i * 7 + i / 5 + seed) % SET.len()]).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
}

/// Finite values (the pooled gradients): no `-inf`, so no sum is NaN.
fn finite(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| ((i * 13 + seed) % 17) as f64 / 4.0 - 2.0).collect();
    Tensor::from(ndarray::ArrayD::from_shape_vec(shape, v).expect("shape"))
}

fn run(inputs: &[&Var], outputs: &[Var], args: &[Tensor], mode: Mode) -> Vec<Tensor> {
    let f = tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles");
    let args: Vec<tl::Arg> = args.iter().map(tl::Arg::from).collect();
    f.call(&args).expect("runs")
}

/// The same bits everywhere, NaN matching NaN.
fn assert_same_bits(got: &Tensor, want: &Tensor, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (g, w)) in got.to_f64_vec().into_iter().zip(want.to_f64_vec()).enumerate() {
        let same = if w.is_nan() { g.is_nan() } else { g.to_bits() == w.to_bits() };
        assert!(same, "{what}: element {i}: native {g:?}, reference {w:?}");
    }
}

/// Window, stride, padding, `ignore_border`.
type Geometry = ([usize; 2], [usize; 2], [usize; 2], bool);

const GEOMETRIES: [Geometry; 11] = [
    ([2, 2], [2, 2], [0, 0], true),
    ([3, 3], [3, 3], [0, 0], true),
    ([4, 4], [4, 4], [0, 0], true),
    ([2, 2], [2, 2], [0, 0], false),
    ([2, 3], [3, 4], [0, 0], true),
    ([2, 2], [3, 3], [0, 0], false),
    ([3, 2], [1, 2], [0, 0], false),
    ([3, 3], [2, 2], [1, 2], true),
    ([3, 3], [3, 3], [1, 1], true),
    ([1, 1], [1, 1], [0, 0], true),
    ([2, 1], [2, 1], [0, 0], true),
];

/// `pool_2d(x)` and the gradient of `sum(pool_2d(x) * gz)` with respect to `x`, native
/// against reference.
fn check(p: &PoolParams, xs: &[usize], dtype: DType, transposed: bool, what: &str) {
    let x = tl::tensor("x", dtype, &[None; 4]);
    let gz = tl::tensor("gz", dtype, &[None; 4]);
    // A transposed input is pooled through a view of the last two axes swapped.
    let input = if transposed { x.dimshuffle_pattern("0,1,3,2") } else { x.clone() };
    let y = tl::pool_2d(&input, p);
    let g = tl::grad(&tl::sum(&y * &gz), &x).expect("grad");
    let ins = if transposed { [xs[0], xs[1], xs[3], xs[2]] } else { [xs[0], xs[1], xs[2], xs[3]] };
    let ys = p.out_shape(&ins);
    let args = [tied(xs, 3).cast(dtype), finite(&ys, 5).cast(dtype)];
    let native = run(&[&x, &gz], &[y.clone(), g.clone()], &args, Mode::Jit);
    let reference = run(&[&x, &gz], &[y, g], &args, Mode::Interp);
    assert_same_bits(&native[0], &reference[0], &format!("{what}: pool_2d"));
    assert_same_bits(&native[1], &reference[1], &format!("{what}: gradient"));
}

#[test]
fn native_pooling_and_its_gradients_are_the_reference_bit_for_bit() {
    for (ws, stride, pad, ignore_border) in GEOMETRIES {
        for mode in PoolMode::ALL {
            let p = PoolParams { ws, stride, pad, ignore_border, mode };
            for dtype in [DType::F64, DType::F32] {
                for xs in [[2, 3, 13, 11], [1, 2, 8, 12], [1, 1, 1, 5]] {
                    if p.out_shape(&xs).contains(&0) {
                        continue;
                    }
                    check(&p, &xs, dtype, false, &format!("{p:?} {dtype} {xs:?}"));
                }
                check(&p, &[2, 2, 9, 10], dtype, true, &format!("{p:?} {dtype} transposed"));
            }
        }
    }
}

#[test]
fn native_pooling_split_over_threads_is_the_reference_bit_for_bit() {
    // 2 × 9 × 45 × 43 elements: past the threshold where the planes are split.
    let before = tl::num_threads();
    tl::set_num_threads(2);
    for (ws, stride, pad, ignore_border) in [GEOMETRIES[0], GEOMETRIES[6], GEOMETRIES[8]] {
        for mode in [PoolMode::Max, PoolMode::AverageExcPad] {
            let p = PoolParams { ws, stride, pad, ignore_border, mode };
            check(&p, &[2, 9, 45, 43], DType::F64, false, &format!("{p:?} two threads"));
        }
    }
    tl::set_num_threads(before);
}

#[test]
fn native_pooling_runs_natively() {
    let x = tl::dtensor4("x");
    let gz = tl::dtensor4("gz");
    let y = tl::pool_2d(&x, &PoolParams::new([2, 2]));
    let avg = tl::pool_2d(&x, &PoolParams { mode: PoolMode::AverageIncPad, ..PoolParams::new([2, 2]) });
    let g = tl::grad(&(tl::sum(&y * &gz) + tl::sum(&avg)), &x).expect("grad");
    let f = tl::Function::builder(&[&x, &gz], &[y, g]).mode(Mode::Jit).build().expect("compiles");
    let plan = f.dump(tl::Stage::Schedule).expect("dump");
    for op in ["native pool_2d", "native max_pool_grad", "native average_pool_grad"] {
        assert!(plan.contains(op), "{op} missing from the plan:\n{plan}");
    }
}

#[test]
fn nan_inputs_pool_to_nan_where_the_reference_does() {
    let mut v = tied(&[2, 2, 7, 9], 1).to_f64_vec();
    for k in [0, 3, 10, 11, 40, 41, 50, 77, 100, 101, 200] {
        v[k] = f64::NAN;
    }
    let xv = Tensor::from(ndarray::ArrayD::from_shape_vec(&[2, 2, 7, 9][..], v).expect("shape"));
    for (ws, stride, pad, ignore_border) in GEOMETRIES {
        for mode in PoolMode::ALL {
            let p = PoolParams { ws, stride, pad, ignore_border, mode };
            let (x, gz) = (tl::dtensor4("x"), tl::dtensor4("gz"));
            let y = tl::pool_2d(&x, &p);
            let g = tl::grad(&tl::sum(&y * &gz), &x).expect("grad");
            let args = [xv.clone(), finite(&p.out_shape(&[2, 2, 7, 9]), 2)];
            let native = run(&[&x, &gz], &[y.clone(), g.clone()], &args, Mode::Jit);
            let reference = run(&[&x, &gz], &[y, g], &args, Mode::Interp);
            assert_same_bits(&native[0], &reference[0], &format!("{p:?}: pool_2d of NaN"));
            assert_same_bits(&native[1], &reference[1], &format!("{p:?}: gradient at NaN"));
        }
    }
}
