//! Kernels with transcendental functions over long arrays run chunk by chunk, with the
//! bulk (AVX-512/AVX2) routines: the results agree with the inline code (short runs of the
//! same kernel) and with the reference kernels, for f64, f32, mixed dtypes, nested
//! functions, scalar inputs and ranges that start and end inside a chunk.

use std::sync::Arc;
use tensorlift_ir::kernels::{eval, KernelInput};
use tensorlift_ir::{Op, ScalarProgram, Tensor, TensorType};
use tensorlift_jit::{compile_elementwise, KernelArg};

/// Inline runs are this long (the chunk plan starts at `CHUNKED_MIN` elements).
const SHORT: usize = tensorlift_jit::CHUNKED_MIN - 1;

fn program(text: &str) -> ScalarProgram {
    ScalarProgram::parse_text(text).expect("parses")
}

fn inputs_f64(n: usize, k: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7 + k * 13) % 1009) as f64 * 0.01 - 5.0).collect()
}

/// Relative-or-absolute distance, NaNs equal.
fn close(a: f64, b: f64, tol: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Runs `text` over `n` elements whole (chunked), in short pieces (inline), and with the
/// reference kernel; all three agree within `tol`.
fn check(text: &str, n: usize, tol: f64) {
    let p = program(text);
    let k = compile_elementwise(&p).expect("compiles");
    let data: Vec<Vec<f64>> = (0..p.inputs.len()).map(|i| inputs_f64(n, i)).collect();
    let data32: Vec<Vec<f32>> = data.iter().map(|v| v.iter().map(|&x| x as f32).collect()).collect();
    let args: Vec<KernelArg<'_>> = p
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| match d.name() {
            "float32" => KernelArg::F32(&data32[i]),
            _ => KernelArg::F64(&data[i]),
        })
        .collect();
    let tensors: Vec<Tensor> = p
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| match d.name() {
            "float32" => Tensor::from(data32[i].clone()),
            _ => Tensor::from(data[i].clone()),
        })
        .collect();
    let tys: Vec<TensorType> = p.inputs.iter().map(|&d| TensorType::unknown(d, 1)).collect();
    let ins: Vec<KernelInput<'_>> =
        tensors.iter().zip(&tys).map(|(value, ty)| KernelInput { value, ty, name: "x" }).collect();
    let out_ty = TensorType::unknown(p.out_dtype(), 1);
    let reference = eval(&Op::Composite(Arc::new(p.clone())), &ins, &out_ty).expect("reference").to_f64_vec();

    let (whole, pieces): (Vec<f64>, Vec<f64>) = match p.out_dtype().name() {
        "float32" => {
            let mut a = vec![0f32; n];
            k.run(&args, &mut a).unwrap();
            let mut b = vec![0f32; n];
            for s in (0..n).step_by(SHORT) {
                k.run_range(&args, &mut b, s..(s + SHORT).min(n)).unwrap();
            }
            (a.iter().map(|&x| x as f64).collect(), b.iter().map(|&x| x as f64).collect())
        }
        _ => {
            let mut a = vec![0f64; n];
            k.run(&args, &mut a).unwrap();
            let mut b = vec![0f64; n];
            for s in (0..n).step_by(SHORT) {
                k.run_range(&args, &mut b, s..(s + SHORT).min(n)).unwrap();
            }
            (a, b)
        }
    };
    for i in 0..n {
        assert!(
            close(whole[i], reference[i], tol),
            "{text}: [{i}] chunked {} vs reference {}",
            whole[i],
            reference[i]
        );
        assert!(
            close(pieces[i], reference[i], tol),
            "{text}: [{i}] inline {} vs reference {}",
            pieces[i],
            reference[i]
        );
    }
    // A range that starts and ends inside chunks writes exactly that range.
    if p.out_dtype().name() == "float64" {
        let mut c = vec![-7.0f64; n];
        let (b, e) = (1500, n - 333);
        k.run_range(&args, &mut c, b..e).unwrap();
        assert!(c[..b].iter().chain(&c[e..]).all(|&x| x == -7.0));
        assert!((b..e).all(|i| close(c[i], reference[i], tol)));
    }
}

#[test]
fn chunked_kernels_agree_with_inline_code_and_the_reference() {
    let n = 20_011;
    // W9's expression: sin(x)*cos(y) + exp(-x*y), times 0.5, plus tanh(x - y).
    check(
        "in float64 float64 | t0 = sin(i0) | t1 = cos(i1) | t2 = mul(t0, t1) | t3 = mul(i0, i1) | t4 = neg(t3) \
         | t5 = exp(t4) | t6 = add(t2, t5) | t7 = const float64 0.5 | t8 = mul(t6, t7) | t9 = sub(i0, i1) \
         | t10 = tanh(t9) | t11 = add(t8, t10) | return t11",
        n,
        1e-14,
    );
    // Nested functions, the argument of one being the result of another.
    check("in float64 | t0 = sigmoid(i0) | t1 = log(t0) | t2 = exp(t1) | return t2", n, 1e-14);
    check("in float32 | t0 = exp(i0) | t1 = log1p(t0) | return t1", n, 1e-6);
    // Mixed dtypes: an f32 input in an f64 function.
    check(
        "in float32 float64 | t0 = cast.float64(i0) | t1 = mul(t0, i1) | t2 = erf(t1) | return t2",
        n,
        1e-14,
    );
    // The function of an input directly, twice.
    check("in float64 | t0 = sin(i0) | t1 = cos(i0) | t2 = add(t0, t1) | return t2", n, 1e-14);
}

#[test]
fn scalar_inputs_broadcast_in_chunks() {
    let p = program(
        "in float64 float64 | t0 = mul(i0, i1) | t1 = exp(t0) | t2 = exp(i1) | t3 = add(t1, t2) | return t3",
    );
    let k = compile_elementwise(&p).unwrap();
    let n = 9000;
    let x = inputs_f64(n, 0);
    let mut out = vec![0.0; n];
    k.run(&[KernelArg::F64(&x), KernelArg::ScalarF64(0.25)], &mut out).unwrap();
    for i in 0..n {
        let want = (x[i] * 0.25).exp() + 0.25f64.exp();
        assert!(close(out[i], want, 1e-15), "[{i}] {} vs {want}", out[i]);
    }
}

#[test]
fn ops_without_a_matching_bulk_routine_stay_inline_in_the_chunk_kernels() {
    // float32 arccosh follows Rust std's float32 formula in the reference (the bulk routine
    // rounds the float64 result once); pow has no bulk routine.
    check("in float32 | t0 = abs(i0) | t1 = const float32 1.5 | t2 = add(t0, t1) | t3 = arccosh(t2) | t4 = exp(t3) | return t4", 20_011, 1e-6);
    check(
        "in float64 | t0 = abs(i0) | t1 = const float64 0.5 | t2 = pow(t0, t1) | t3 = sin(t2) | return t3",
        20_011,
        1e-14,
    );
}

/// #14 item 2: the chunk plan is the kernel owner's, built on the first long run (never on
/// a short one, never for a program without a bulk routine), and the long run's result is
/// the plan's; rows as long go through it too.
#[test]
fn the_chunk_plan_is_built_by_the_first_long_run_only() {
    let p = program("in float64 | t0 = exp(i0) | t1 = const float64 2.0 | t2 = mul(t0, t1) | return t2");
    let k = compile_elementwise(&p).expect("compiles");
    assert!(!k.is_chunked(), "compiling builds no plan");
    let x = inputs_f64(8192, 0);
    let mut out = vec![0.0; x.len()];
    k.run_range(&[KernelArg::F64(&x)], &mut out, 0..SHORT).expect("runs");
    assert!(!k.is_chunked(), "a short run builds no plan");
    k.run(&[KernelArg::F64(&x)], &mut out).expect("runs");
    assert!(k.is_chunked(), "a long run builds the plan");
    assert!(x.iter().zip(&out).all(|(&x, &y)| close(y, x.exp() * 2.0, 1e-15)));

    let rows = compile_elementwise(&p).expect("compiles");
    let mut out = vec![std::mem::MaybeUninit::new(f64::NAN); x.len()];
    rows.run_rows(&[KernelArg::F64(&x)], &[4096], 2, &mut out).expect("runs");
    assert!(rows.is_chunked(), "long rows build the plan");
    // SAFETY: every element was initialized when the buffer was made (and written since).
    let out: Vec<f64> = out.iter().map(|v| unsafe { v.assume_init() }).collect();
    assert!(x.iter().zip(&out).all(|(&x, &y)| close(y, x.exp() * 2.0, 1e-15)));

    let plain = compile_elementwise(&program("in float64 | t0 = sqr(i0) | return t0")).expect("compiles");
    let mut out = vec![0.0; x.len()];
    plain.run(&[KernelArg::F64(&x)], &mut out).expect("runs");
    assert!(!plain.is_chunked(), "no transcendental op, no plan");
}

#[test]
fn a_prepared_chunk_plan_compiles_nothing_in_the_first_long_run() {
    // W9's expression, compiled with its chunk plan.
    let p = program(
        "in float64 float64 | t0 = sin(i0) | t1 = cos(i1) | t2 = mul(t0, t1) | t3 = mul(i0, i1) | t4 = neg(t3) \
         | t5 = exp(t4) | t6 = add(t2, t5) | t7 = const float64 0.5 | t8 = mul(t6, t7) | t9 = sub(i0, i1) \
         | t10 = tanh(t9) | t11 = add(t8, t10) | return t11",
    );
    let k = compile_elementwise(&p).unwrap();
    assert!(!k.is_chunked());
    let before = tensorlift_jit::kernel::compilations();
    assert!(k.prepare_chunked());
    assert!(k.is_chunked());
    // (Other tests compile meanwhile: the count only tells that the plan's kernels did.)
    assert!(tensorlift_jit::kernel::compilations() > before, "the plan's kernels compile in prepare_chunked");
    // Prepared once: long runs use the plan built (the root test `memory` checks that a call
    // compiles nothing).
    assert!(k.prepare_chunked());
    let n = 20_000;
    let (x, y) = (inputs_f64(n, 0), inputs_f64(n, 1));
    let mut out = vec![0.0; n];
    k.run(&[KernelArg::F64(&x), KernelArg::F64(&y)], &mut out).unwrap();
    assert!(k.is_chunked());
    // A program without a transcendental function has no plan.
    let plain = compile_elementwise(&program("in float64 | t0 = mul(i0, i0) | return t0")).unwrap();
    assert!(!plain.prepare_chunked() && !plain.is_chunked());
}

/// Many rows (a bias broadcast along a middle axis: each row reads one bias value, stride
/// 0; or a bias row read by every row, row stride 0) go through the chunk plan: rows of a
/// few hundred elements each on its own, shorter rows in blocks of whole rows (a row length
/// that does not divide the chunk, a last block cut short); every element the same bits as
/// the plan gives the whole array with the bias written out. Too few elements in all keep
/// the inline code.
#[test]
fn many_short_rows_go_through_the_chunk_plan() {
    use std::mem::MaybeUninit;
    use tensorlift_jit::CHUNKED_MIN;
    let p = program("in float64 float64 | t0 = add(i0, i1) | t1 = tanh(t0) | return t1");
    let q = program(
        "in float64 float64 | t0 = mul(i0, i1) | t1 = exp(t0) | t2 = sin(i0) | t3 = add(t1, t2) | return t3",
    );
    for (p, rows, len) in [(&p, 40, 576), (&p, 40, 64), (&p, 333, 7), (&q, 37, 100), (&q, 5, 1)] {
        let x = inputs_f64(rows * len, 0);
        let col: Vec<f64> = (0..rows).map(|r| r as f64 * 0.05 - 1.0).collect();
        let row: Vec<f64> = (0..len).map(|c| c as f64 * 0.01 - 0.3).collect();
        let whole = compile_elementwise(p).expect("compiles");
        assert!(whole.prepare_chunked());
        for (bias, full, b, b_row) in [
            // One value per row (a column), written out.
            (
                &col,
                (0..rows * len).map(|i| col[i / len]).collect::<Vec<f64>>(),
                KernelArg::StridedF64 { data: &col, first: 0, stride: 0 },
                1,
            ),
            // One row for every row, written out.
            (
                &row,
                (0..rows * len).map(|i| row[i % len]).collect(),
                KernelArg::StridedF64 { data: &row, first: 0, stride: 1 },
                0,
            ),
        ] {
            let mut want = vec![0.0f64; rows * len];
            whole.run(&[KernelArg::F64(&x), KernelArg::F64(&full)], &mut want).expect("runs");
            let k = compile_elementwise(p).expect("compiles");
            let mut out = vec![MaybeUninit::new(f64::NAN); rows * len];
            k.run_rows(&[KernelArg::F64(&x), b], &[len as isize, b_row], rows, &mut out).expect("runs");
            assert_eq!(k.is_chunked(), rows * len >= CHUNKED_MIN, "{rows} rows of {len}");
            for (i, (o, w)) in out.iter().zip(&want).enumerate() {
                // SAFETY: every element was initialized when the buffer was made.
                let o = unsafe { o.assume_init() };
                assert_eq!(
                    o.to_bits(),
                    w.to_bits(),
                    "{rows}x{len} [{i}] rows {o} vs whole {w} (bias {})",
                    bias.len()
                );
            }
        }
    }
    // Too few elements in all: the inline code.
    let short = compile_elementwise(&p).expect("compiles");
    let (len, few) = (16, CHUNKED_MIN / 16 - 1);
    let x = inputs_f64(few * len, 0);
    let b = KernelArg::StridedF64 { data: &x, first: 0, stride: 0 };
    let mut out = vec![MaybeUninit::new(0.0); few * len];
    short.run_rows(&[KernelArg::F64(&x), b], &[len as isize, 1], few, &mut out).expect("runs");
    assert!(!short.is_chunked(), "{few} rows of {len} elements stay inline");
}
