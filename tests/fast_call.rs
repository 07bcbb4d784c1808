//! The fast call path (#16): a function that is one native step runs straight from its
//! arguments, and its last output is written again only once the caller dropped it.

use tensorlift as tl;

fn f64s(t: &tl::Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

#[test]
fn an_output_held_by_the_caller_never_changes() {
    let x = tl::dvector("x");
    let f = tl::function(&[&x], &[x.pow(2)]).unwrap();
    let s = tl::dscalar("s");
    let g = tl::function(&[&s], &[s.pow(2)]).unwrap();
    let mut held = Vec::new();
    let mut held_s = Vec::new();
    for k in 0..5 {
        let v = k as f64;
        held.push(f.call1(vec![v, v + 1.0]).unwrap());
        held_s.push(g.call1(v).unwrap());
        // A result dropped at once: its storage may be written by the next call.
        drop(f.call1(vec![-1.0, -2.0]).unwrap());
        drop(g.call1(-3.0).unwrap());
    }
    for (k, (t, u)) in held.iter().zip(&held_s).enumerate() {
        let v = k as f64;
        assert_eq!(f64s(t), vec![v * v, (v + 1.0) * (v + 1.0)], "call {k}");
        assert_eq!(f64s(u), vec![v * v], "call {k}");
    }
}

#[test]
fn a_dropped_output_is_written_again() {
    let x = tl::dvector("x");
    let f = tl::Function::builder(&[&x], &[&x * 3.0 + 1.0]).mode(tl::Mode::Jit).build().unwrap();
    let first = f.call1(vec![1.0, 2.0, 3.0]).unwrap();
    let addr = first.array::<f64>().unwrap().as_ptr() as usize;
    drop(first);
    let second = f.call1(vec![4.0, 5.0, 6.0]).unwrap();
    assert_eq!(second.array::<f64>().unwrap().as_ptr() as usize, addr);
    assert_eq!(f64s(&second), vec![13.0, 16.0, 19.0]);
    // Held: the next call writes elsewhere.
    let third = f.call1(vec![0.0, 0.0, 0.0]).unwrap();
    assert_ne!(third.array::<f64>().unwrap().as_ptr() as usize, addr);
    assert_eq!(f64s(&second), vec![13.0, 16.0, 19.0]);
    assert_eq!(f64s(&third), vec![1.0, 1.0, 1.0]);
}

#[test]
fn the_fast_path_gives_the_general_paths_results_and_errors() {
    let x = tl::dvector("x");
    let r = tl::tensor("r", tl::DType::F64, &[Some(1)]);
    let y = tl::dvector("y");
    let e = tl::exp(&x) * &r - &y / 2.0;
    let jit = tl::function(&[&x, &r, &y], &[&e]).unwrap();
    let interp = tl::Function::builder(&[&x, &r, &y], &[&e]).mode(tl::Mode::Interp).build().unwrap();
    let args = tl::args![vec![0.5, -1.0, 2.0], vec![3.0], vec![1.0, 2.0, 3.0]];
    let (a, b) = (jit.call(&args).unwrap(), interp.call(&args).unwrap());
    for (u, v) in f64s(&a[0]).iter().zip(f64s(&b[0])) {
        assert!((u - v).abs() <= 1e-15 * v.abs().max(1.0), "{u} vs {v}");
    }
    // A conversion (f32 data) and a length-one argument where the type does not broadcast
    // go down the general path: converted, or reported with the inputs' names.
    let conv = jit.call(&tl::args![vec![0.5f32, -1.0, 2.0], vec![3.0], vec![1.0, 2.0, 3.0]]).unwrap();
    assert_eq!(f64s(&conv[0]), f64s(&a[0]));
    let err = jit.call(&tl::args![vec![0.5], vec![3.0], vec![1.0, 2.0, 3.0]]).unwrap_err();
    assert!(err.to_string().contains("x has shape [1]"), "{err}");
    assert!(matches!(jit.call(&tl::args![vec![0.5]]), Err(tl::Error::Arity { .. })));
}

#[test]
fn a_caller_writes_every_call_into_the_same_arrays() {
    let x = tl::dvector("x");
    let y = tl::dvector("y");
    let f = tl::function(&[&x, &y], &[tl::exp(&x) * &y, &x + &y]).unwrap();
    let mut calls = f.caller();
    let mut addr = None;
    for k in 0..4 {
        let v = k as f64;
        let out = calls.call(&tl::args![vec![v; 50_000], vec![2.0; 50_000]]).unwrap();
        assert_eq!(out[0].to_f64_vec()[7], 2.0 * v.exp());
        assert_eq!(out[1].to_f64_vec()[7], v + 2.0);
        let here = out[0].array::<f64>().unwrap().as_ptr() as usize;
        assert_eq!(*addr.get_or_insert(here), here, "call {k} wrote elsewhere");
    }
    // Other shapes: new arrays of the new shape.
    let out = calls.call(&tl::args![vec![1.0; 3], vec![1.0; 3]]).unwrap();
    assert_eq!(out[1].to_f64_vec(), vec![2.0; 3]);
    assert_eq!(calls.outputs().len(), 2);
    assert!(calls.call(&tl::args![vec![1.0; 3], vec![1.0; 4]]).is_err());
}

#[test]
fn a_scalar_call_gives_the_general_paths_results() {
    // The 0-d float64 path runs the kernel at one point (`eval_f64`): the same values as
    // the interpreter, and bit for bit those of `call_f64`, on ordinary and special values.
    let (x, y) = (tl::dscalar("x"), tl::dscalar("y"));
    let e = x.pow(2) * tl::exp(&y) - &x;
    let jit = tl::Function::builder(&[&x, &y], &[&e]).mode(tl::Mode::Jit).build().unwrap();
    let interp = tl::Function::builder(&[&x, &y], &[&e]).mode(tl::Mode::Interp).build().unwrap();
    for (a, b) in [(2.0, 0.5), (-3.0, -1.0), (0.0, 700.0), (f64::NAN, 1.0), (1e300, 2.0), (-0.0, -800.0)] {
        let u = jit.call1((a, b)).unwrap().to_f64().unwrap();
        let v = interp.call1((a, b)).unwrap().to_f64().unwrap();
        let close = u == v || (u.is_nan() && v.is_nan()) || (u - v).abs() <= 1e-15 * v.abs();
        assert!(close, "f({a}, {b}): {u} vs {v}");
        let w = jit.call_f64(&[a, b]).expect("a float64 scalar function").unwrap();
        assert!(w.to_bits() == u.to_bits() || (w.is_nan() && u.is_nan()), "f({a}, {b}): {w} vs {u}");
    }
}
