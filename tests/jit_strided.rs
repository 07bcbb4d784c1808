//! Native elementwise kernels over inputs of any layout against the interpreter: transposed
//! 2-d and 3-d views, stepped and reversed slices, broadcasting along any mix of axes of a
//! rank-3 result, `float32`/`float64` mixes, arguments that are non-contiguous arrays
//! themselves, results written in place, and sizes split over the threads.
//!
//! Arithmetic must match the interpreter bit for bit (any NaN matching any NaN);
//! transcendental functions within the ulp bounds of the JIT's vector math (2 ulp). Every
//! case checks through `Function::native_runs` that the general strided path ran (not the
//! reference kernel), and runs once more under `Mode::Debug`, which compares each native
//! node with its reference kernel.

mod common;

use common::rng::Rng;
use ndarray::{ArrayD, IxDyn};
use tensorlift as tl;
use tl::{DType, Index, Mode, Tensor, Var};

/// A tensor of `shape` with seeded values in [-4, 4) of `dtype`, a few of them special.
fn array(shape: &[usize], dtype: DType, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let mut v: Vec<f64> = (0..n).map(|_| 8.0 * rng.uniform() - 4.0).collect();
    for (k, x) in [f64::NAN, -0.0, f64::INFINITY, 0.0].into_iter().enumerate() {
        if n > 24 {
            v[k * 7 + 3] = x;
        }
    }
    let t = Tensor::from(ArrayD::from_shape_vec(IxDyn(shape), v).expect("shape"));
    t.cast(dtype)
}

fn compile(inputs: &[&Var], outputs: &[Var], mode: Mode) -> tl::Function {
    tl::Function::builder(inputs, outputs).mode(mode).build().expect("compiles")
}

/// Distance in units in the last place between two floats of `dtype` (0 for equal bits or
/// two NaNs; `u64::MAX` for a NaN against a number).
fn ulps(dtype: DType, a: f64, b: f64) -> u64 {
    if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    // Floats ordered as integers: negative ones mirrored below zero.
    let ordered = |x: f64| -> i64 {
        let bits = if dtype == DType::F32 { (x as f32).to_bits() as i64 } else { x.to_bits() as i64 };
        let sign = if dtype == DType::F32 { 1 << 31 } else { i64::MIN };
        if bits & sign != 0 {
            sign.wrapping_sub(bits)
        } else {
            bits
        }
    };
    ordered(a).abs_diff(ordered(b))
}

/// Equal dtype, shape, and elements within `max_ulps` (0: bit for bit).
fn assert_close(got: &Tensor, want: &Tensor, max_ulps: u64, what: &str) {
    assert_eq!((got.dtype(), got.shape()), (want.dtype(), want.shape()), "{what}");
    let (g, w) = (got.to_f64_vec(), want.to_f64_vec());
    for (i, (&a, &b)) in g.iter().zip(&w).enumerate() {
        let d = ulps(got.dtype(), a, b);
        assert!(d <= max_ulps, "{what}: element {i}: jit {a:?}, interp {b:?} ({d} ulp)");
    }
}

/// Compiles `outputs` under the JIT, the interpreter and `Mode::Debug`, runs all three on
/// `args`, and checks that the JIT's results are within `max_ulps` of the interpreter's and
/// that its general strided path ran at least `min_strided` times.
fn check(inputs: &[&Var], outputs: &[Var], args: &[Tensor], max_ulps: u64, min_strided: u64, what: &str) {
    let args: Vec<tl::Arg> = args.iter().map(|t| tl::Arg::from(t.clone())).collect();
    let jit = compile(inputs, outputs, Mode::Jit);
    let interp = compile(inputs, outputs, Mode::Interp);
    assert!(jit.native_kernel_count() > 0, "{what}: nothing compiled\n{}", jit.debugprint());
    let before = jit.native_runs();
    let got = jit.call(&args).expect("jit runs");
    let runs = jit.native_runs();
    assert!(
        runs.strided - before.strided >= min_strided,
        "{what}: {runs:?} (before {before:?})\n{}",
        jit.debugprint()
    );
    assert_eq!(runs.reference, before.reference, "{what}: no node fell back to its reference kernel");
    let want = interp.call(&args).expect("interp runs");
    for (g, w) in got.iter().zip(&want) {
        assert_close(g, w, max_ulps, what);
    }
    let debug = compile(inputs, outputs, Mode::Debug);
    let before = debug.native_runs().strided;
    debug.call(&args).unwrap_or_else(|e| panic!("{what}: Mode::Debug: {e}"));
    assert!(debug.native_runs().strided - before >= min_strided, "{what}: Mode::Debug took the general path");
}

#[test]
fn transposed_matrices() {
    let x = tl::dmatrix("x");
    let y = tl::dmatrix("y");
    let outs = vec![x.t() + &y, (x.t() * 3.0 - &y) / (tl::abs(&y) + 1.0), tl::maximum(x.t(), &y).sqr()];
    // Odd sizes (vector bodies and scalar tails), a single row, and a size split over the
    // threads in the middle of a row.
    for (m, n) in [(37, 53), (1, 9), (9, 1), (190, 211)] {
        let args = [array(&[n, m], DType::F64, 1), array(&[m, n], DType::F64, 2)];
        // A transposed row or column is contiguous: the fast layouts take it.
        let strided = u64::from(m > 1 && n > 1);
        check(&[&x, &y], &outs, &args, 0, strided, &format!("x.T op y, {m}x{n}"));
    }
    // Both transposed: the inner loop reads both with a stride.
    let z = x.t() * y.t() + 1.0;
    check(
        &[&x, &y],
        &[z],
        &[array(&[64, 33], DType::F64, 3), array(&[64, 33], DType::F64, 4)],
        0,
        1,
        "x.T * y.T",
    );
}

#[test]
fn transposed_rank3_tensors() {
    let t = tl::dtensor3("t");
    let u = tl::dtensor3("u");
    let outs = [t.transpose(&[2, 0, 1]) * &u + 1.0, t.transpose(&[1, 2, 0]) - u.transpose(&[0, 2, 1])];
    for (a, b, c) in [(3, 4, 5), (17, 9, 33), (40, 30, 50)] {
        // Results of shape (a, b, c): from a `t` of shape (b, c, a), then (c, a, b).
        let args = [array(&[b, c, a], DType::F64, 5), array(&[a, b, c], DType::F64, 6)];
        check(&[&t, &u], &outs[..1], &args, 0, 1, &format!("t.transpose(2,0,1) * u, {a}x{b}x{c}"));
        let args = [array(&[c, a, b], DType::F64, 7), array(&[a, c, b], DType::F64, 8)];
        check(
            &[&t, &u],
            &outs[1..],
            &args,
            0,
            1,
            &format!("t.transpose(1,2,0) - u.transpose(0,2,1), {a}x{b}x{c}"),
        );
    }
    // A dimshuffle inserting a broadcast axis into a transposed view.
    let m = tl::dmatrix("m");
    let e = m.dimshuffle(&[Some(1), None, Some(0)]) + &t;
    check(
        &[&m, &t],
        &[e],
        &[array(&[6, 5], DType::F64, 9), array(&[5, 4, 6], DType::F64, 10)],
        0,
        1,
        "m.dimshuffle(1,x,0) + t",
    );
}

#[test]
fn stepped_and_reversed_slices() {
    let v = tl::dvector("v");
    let w = tl::dvector("w");
    let m = tl::dmatrix("m");
    let n = tl::dmatrix("n");
    for len in [1usize, 7, 1000, 70_001] {
        // A single element is contiguous: the fast layouts take it.
        let strided = u64::from(len > 1);
        let half = len.div_ceil(2);
        let args = [array(&[2 * half], DType::F64, 11), array(&[half], DType::F64, 12)];
        check(&[&v, &w], &[v.get(&[Index::step(2)]) + &w], &args, 0, strided, &format!("v[::2] + w, {len}"));
        let args = [array(&[len], DType::F64, 13), array(&[len], DType::F64, 14)];
        let e = v.get(&[Index::rev()]) * &w - tl::minimum(&w, 0.5);
        check(&[&v, &w], &[e], &args, 0, strided, &format!("v[::-1] * w, {len}"));
        // Reversed with a step, from an offset.
        let e = v.get(&[Index::slice(Some(-1), None, -3)]) + 2.0;
        let args = [array(&[3 * len], DType::F64, 15)];
        check(&[&v], &[e], &args, 0, strided, &format!("v[-1::-3] + 2, {len}"));
    }
    let e = m.get(&[Index::step(3), Index::slice(Some(1), None, 2)]) * 2.0 - &n;
    check(
        &[&m, &n],
        &[e],
        &[array(&[30, 41], DType::F64, 16), array(&[10, 20], DType::F64, 17)],
        0,
        1,
        "m[::3, 1::2]",
    );
    let e = m.get(&[Index::rev(), Index::step(-2)]) + n.t();
    check(
        &[&m, &n],
        &[e],
        &[array(&[11, 20], DType::F64, 18), array(&[10, 11], DType::F64, 19)],
        0,
        1,
        "m[::-1, ::-2]",
    );
}

#[test]
fn broadcasting_along_mixed_axes_of_rank3_results() {
    let a = tl::tensor("a", DType::F64, &[None, Some(1), None]);
    let b = tl::tensor("b", DType::F64, &[Some(1), None, Some(1)]);
    let t = tl::dtensor3("t");
    let c = tl::tensor("c", DType::F64, &[Some(1), None, None]);
    for (p, q, r) in [(2, 3, 4), (5, 1, 7), (33, 20, 60)] {
        // (p,1,r) with (1,q,1): an outer product of broadcasts at two split points. With
        // q = 1, every case is a fast layout (a single value, a full input).
        let strided = u64::from(q > 1);
        let args = [array(&[p, 1, r], DType::F64, 20), array(&[1, q, 1], DType::F64, 21)];
        check(&[&a, &b], &[&a * &b + 1.0], &args, 0, strided, &format!("(p,1,r) * (1,q,1), {p}x{q}x{r}"));
        // A full tensor with a bias broadcast along its middle axis, and a column of it.
        let args = [array(&[p, q, r], DType::F64, 22), array(&[p, 1, r], DType::F64, 23)];
        check(
            &[&t, &a],
            &[(&t - &a).sqr()],
            &args,
            0,
            u64::from(q > 1),
            &format!("t - (p,1,r), {p}x{q}x{r}"),
        );
        let args = [array(&[p, q, r], DType::F64, 24), array(&[1, q, 1], DType::F64, 25)];
        check(
            &[&t, &b],
            &[&t / &b],
            &args,
            0,
            u64::from(q > 1 && r > 1),
            &format!("t / (1,q,1), {p}x{q}x{r}"),
        );
        let args = [
            array(&[p, q, r], DType::F64, 26),
            array(&[1, q, r], DType::F64, 27),
            array(&[p, 1, r], DType::F64, 28),
        ];
        check(
            &[&t, &c, &a],
            &[&t * &c + &a],
            &args,
            0,
            u64::from(q > 1),
            &format!("t * (1,q,r) + (p,1,r), {p}x{q}x{r}"),
        );
    }
}

#[test]
fn float32_and_mixed_dtypes() {
    let fx = tl::fmatrix("fx");
    let fy = tl::fmatrix("fy");
    let y = tl::dmatrix("y");
    let args = [array(&[40, 30], DType::F32, 29), array(&[30, 40], DType::F32, 30)];
    check(&[&fx, &fy], &[fx.t() * &fy + 0.5], &args, 0, 1, "float32 x.T * y");
    // A float32 transposed view upcast against float64 data, and the reverse cast.
    let args = [array(&[40, 30], DType::F32, 31), array(&[30, 40], DType::F64, 32)];
    check(&[&fx, &y], &[fx.t() + &y], &args, 0, 1, "float32 x.T + float64 y");
    let e = fx.t() * y.cast(DType::F32) - 1.0;
    check(&[&fx, &y], &[e], &args, 0, 1, "float32 x.T * cast(y)");
    let args = [array(&[300, 200], DType::F32, 33), array(&[200, 300], DType::F64, 34)];
    check(&[&fx, &y], &[fx.t() + &y], &args, 0, 1, "float32 x.T + float64 y, threaded");
}

#[test]
fn transcendental_functions_over_strided_views() {
    let x = tl::dmatrix("x");
    let v = tl::dvector("v");
    let fv = tl::fvector("fv");
    // The result of one function, scaled exactly: within the functions' own ulp bound.
    let args = [array(&[45, 37], DType::F64, 35)];
    check(&[&x], &[tl::exp(x.t()), tl::tanh(x.t()) * 2.0, tl::sigmoid(x.t())], &args, 2, 3, "f(x.T)");
    // Rows long enough for the chunked plan: the strided input is copied for the bulk
    // routine, chunk by chunk.
    for len in [9000usize, 80_000] {
        let args = [array(&[2 * len], DType::F64, 36)];
        let outs = [tl::exp(v.get(&[Index::step(2)])), tl::log(tl::abs(v.get(&[Index::rev()])))];
        check(&[&v], &outs, &args, 2, 2, &format!("f(v[::2]), {len}"));
        let args = [array(&[2 * len], DType::F32, 37)];
        let outs = [tl::tanh(fv.get(&[Index::step(-2)])), tl::sin(fv.get(&[Index::step(2)])) * 4.0];
        check(&[&fv], &outs, &args, 2, 2, &format!("float32 f(v[::-2]), {len}"));
    }
}

#[test]
fn a_channel_bias_of_a_4d_result_runs_rows_through_the_chunk_plan() {
    // LeNet's `tanh(conv + b.dimshuffle('x', 0, 'x', 'x'))`: rows of 576 (through the
    // chunk plan, one bias value each) and of 64 (inline), float64 and float32.
    for (dtype, side) in [(DType::F64, 24), (DType::F32, 24), (DType::F64, 8)] {
        let x = tl::tensor("x", dtype, &[None; 4]);
        let b = tl::tensor("b", dtype, &[None]);
        let outs = [
            tl::tanh(&x + b.dimshuffle_pattern("x,0,x,x")),
            tl::exp(&x * 0.5 - b.dimshuffle_pattern("x,0,x,x")),
        ];
        let args = [array(&[4, 7, side, side], dtype, 38), array(&[7], dtype, 39)];
        check(&[&x, &b], &outs, &args, 2, 2, &format!("{dtype} channel bias over {side}x{side}"));
    }
}

#[test]
fn non_contiguous_arguments_run_in_place() {
    // The arguments themselves are views: a transposed and a reversed array.
    let x = tl::dmatrix("xa");
    let y = tl::dmatrix("ya");
    let xt = array(&[50, 70], DType::F64, 38).to_vec::<f64>().expect("f64");
    let xt = ndarray::Array2::from_shape_vec((50, 70), xt).expect("shape").reversed_axes();
    let mut yr =
        ndarray::Array2::from_shape_vec((70, 50), array(&[70, 50], DType::F64, 39).to_vec::<f64>().unwrap())
            .expect("shape")
            .into_shared();
    yr.invert_axis(ndarray::Axis(1));
    let args = [Tensor::from(xt), Tensor::from(yr)];
    assert!(args.iter().all(|t| matches!(t, Tensor::F64(a) if !a.is_standard_layout())));
    check(&[&x, &y], &[&x * &y + &x], &args, 0, 1, "view arguments");
}

#[test]
fn results_written_in_place() {
    let x = tl::dmatrix("xc");
    let y = tl::dmatrix("yc");
    let f = compile(&[&x, &y], &[x.t() - &y], Mode::Jit);
    let g = compile(&[&x, &y], &[x.t() - &y], Mode::Interp);
    let args: Vec<tl::Arg> = [array(&[300, 200], DType::F64, 40), array(&[200, 300], DType::F64, 41)]
        .into_iter()
        .map(tl::Arg::from)
        .collect();
    let mut outs = vec![Tensor::from(ArrayD::<f64>::zeros(IxDyn(&[200, 300])))];
    let before = f.native_runs().strided;
    f.call_into(&args, &mut outs).expect("runs");
    assert_eq!(f.native_runs().strided, before + 1);
    assert_close(&outs[0], &g.call(&args).expect("runs")[0], 0, "call_into");
}

#[test]
fn fused_reductions_of_strided_views() {
    let x = tl::dmatrix("xr");
    let y = tl::dmatrix("yr");
    let outs = vec![(x.t() * &y).sum_axis(1), (x.t() - &y).sqr().sum()];
    let args: Vec<tl::Arg> = [array(&[60, 40], DType::F64, 42), array(&[40, 60], DType::F64, 43)]
        .into_iter()
        .map(tl::Arg::from)
        .collect();
    let jit = compile(&[&x, &y], &outs, Mode::Jit);
    let interp = compile(&[&x, &y], &outs, Mode::Interp);
    let (a, b) = (jit.call(&args).expect("jit"), interp.call(&args).expect("interp"));
    for (g, w) in a.iter().zip(&b) {
        let ok = g.to_f64_vec().iter().zip(w.to_f64_vec()).all(|(&p, q)| {
            p.to_bits() == q.to_bits()
                || (p.is_nan() && q.is_nan())
                || (p - q).abs() <= 1e-12 * (1.0 + q.abs())
        });
        assert!(ok, "jit {g} vs interp {w}");
    }
    assert!(jit.native_runs().strided >= 2, "{:?}", jit.native_runs());
}

#[test]
fn integer_inputs_still_run_their_reference_kernel() {
    let i = tl::lmatrix("i");
    let x = tl::dmatrix("xi");
    let e = i.t() + &x;
    let args: Vec<tl::Arg> = vec![
        tl::Arg::from(Tensor::from(ArrayD::from_shape_fn(IxDyn(&[5, 4]), |ix| {
            (ix[0] * 4 + ix[1]) as i64 - 9
        }))),
        tl::Arg::from(array(&[4, 5], DType::F64, 44)),
    ];
    let a = compile(&[&i, &x], std::slice::from_ref(&e), Mode::Jit).call(&args).expect("jit");
    let b = compile(&[&i, &x], &[e], Mode::Interp).call(&args).expect("interp");
    assert_close(&a[0], &b[0], 0, "int64 i.T + x");
}
