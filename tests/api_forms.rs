//! The short forms of the Rust API a Theano user reaches for: `y.shape_i(0)`, `arange` in
//! NumPy's arities, slice bounds and positions from plain integer literals beside
//! variables, `shared_as` (Theano's `shared(asarray(v, dtype=floatX))`), and renaming a
//! variable in place (`set_name`, Theano's `x.name = …`). Values are checked against what
//! NumPy gives (written out), errors as typed errors.

use tensorlift as tl;
use tl::{idx, DType, Index, Tensor, Var};

fn run(inputs: &[&Var], out: &Var, args: &[tl::Arg]) -> Tensor {
    tl::function(inputs, &[out]).expect("compiles").call(args).expect("runs").remove(0)
}

#[test]
fn shape_i_is_a_method_too() -> tl::Result<()> {
    let x = tl::dtensor3("x");
    let (first, last) = (x.shape_i(0), x.shape_i(-1));
    for v in [&first, &last] {
        assert_eq!((v.dtype(), v.ndim()), (DType::I64, 0));
    }
    assert_eq!(tl::pp(&first), tl::pp(&tl::shape_i(&x, 0)));
    let f = tl::function(&[&x], &[&first, &last, &x.shape_i(1)])?;
    let out = f.call(&[Tensor::zeros(DType::F64, &[2, 3, 5]).into()])?;
    let lengths: Vec<i64> = out.iter().map(|t| t.scalar::<i64>()).collect::<Result<_, _>>()?;
    assert_eq!(lengths, [2, 5, 3]);
    // An axis out of range is a typed error naming the axis.
    let err = x.shape_i(3).check().unwrap_err();
    assert!(matches!(err.kind, tl::BuildErrorKind::Axis { axis: 3, .. }), "{err}");
    assert!(x.shape_i(-4).check().is_err());
    Ok(())
}

#[test]
fn arange_takes_numpys_arities() {
    let ints = |v: &Var| {
        assert_eq!(v.dtype(), DType::I64, "integers give int64");
        v.constant_value().expect("numbers fold to a constant").to_vec::<i64>().unwrap()
    };
    // np.arange(5), np.arange(2, 6), np.arange(10, 0, -3), np.arange(0), np.arange(-2)
    assert_eq!(ints(&tl::arange(5)), [0, 1, 2, 3, 4]);
    assert_eq!(ints(&tl::arange((2, 6))), [2, 3, 4, 5]);
    assert_eq!(ints(&tl::arange((10, 0, -3))), [10, 7, 4, 1]);
    assert_eq!(ints(&tl::arange(0)), Vec::<i64>::new());
    assert_eq!(ints(&tl::arange(-2)), Vec::<i64>::new());
    assert_eq!(ints(&tl::arange(3i64)), [0, 1, 2]);
    // np.arange(2.5) and np.arange(1, 2, 0.25): a float literal gives floatX.
    let halves = tl::arange(2.5);
    assert_eq!(halves.dtype(), tl::config::float_x());
    assert_eq!(halves.constant_value().unwrap().to_f64_vec(), [0.0, 1.0, 2.0]);
    assert_eq!(tl::arange((1, 2, 0.25)).constant_value().unwrap().to_f64_vec(), [1.0, 1.25, 1.5, 1.75]);
    // The three-bound form is the old one, parenthesized.
    assert_eq!(ints(&tl::arange((2, 11, 3))), [2, 5, 8]);
}

#[test]
fn arange_with_symbolic_bounds() -> tl::Result<()> {
    let (n, k) = (tl::lscalar("n"), tl::iscalar("k"));
    let (a, b, c) = (tl::arange(&n), tl::arange((&k, &n)), tl::arange((1, n.clone(), 2)));
    let f = tl::function(&[&n, &k], &[&a, &b, &c])?;
    // np.arange(7), np.arange(3, 7), np.arange(1, 7, 2)
    let out = f.call(&tl::args![7i64, 3i32])?;
    assert_eq!(out[0].to_vec::<i64>()?, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(out[1].to_vec::<i64>()?, [3, 4, 5, 6]);
    assert_eq!(out[2].to_vec::<i64>()?, [1, 3, 5]);
    // A float scalar bound gives its own dtype: np.arange(0, 1.0, 0.25) in float32.
    let x = tl::fscalar("x");
    let quarters = tl::arange((0, &x, 0.25));
    assert_eq!(quarters.dtype(), DType::F32);
    assert_eq!(run(&[&x], &quarters, &tl::args![1.0f32]).to_vec::<f32>()?, [0.0, 0.25, 0.5, 0.75]);
    // One row number per row, the length of the axis: `arange(y.shape[0])`.
    let m = tl::dmatrix("m");
    let rows = tl::arange(m.shape_i(0));
    assert_eq!(run(&[&m], &rows, &[Tensor::zeros(DType::F64, &[3, 2]).into()]).to_vec::<i64>()?, [0, 1, 2]);
    // A zero step is a typed error when the function runs.
    let s = tl::lscalar("s");
    let f = tl::function(&[&s], &[tl::arange((0, 5, &s))])?;
    let err = f.call1(0i64).unwrap_err();
    assert!(err.to_string().contains("step cannot be zero"), "{err}");
    // A bound that is no scalar is a type error when building.
    assert!(tl::arange(tl::dvector("v")).check().is_err());
    Ok(())
}

#[test]
fn slice_bounds_take_plain_literals_beside_variables() -> tl::Result<()> {
    let data = tl::dvector("data");
    let i = tl::lscalar("i");
    let values: Vec<f64> = (0..10).map(f64::from).collect();
    let call = |y: &Var, index: i64| -> Vec<f64> {
        tl::Function::builder(&[&data, &i], &[y])
            .on_unused_input(tl::OnUnusedInput::Ignore)
            .build()
            .unwrap()
            .call(&tl::args![values.clone(), index])
            .unwrap()[0]
            .to_vec()
            .unwrap()
    };
    // data[i * 4:(i + 1) * 4], the minibatch idiom, with unsuffixed literals.
    let batch = data.get(idx![(&i * 4)..((&i + 1) * 4)]);
    assert_eq!(call(&batch, 1), [4.0, 5.0, 6.0, 7.0]);
    assert_eq!(call(&batch, 2), [8.0, 9.0]);
    // A usize batch size, as Rust code has it, on either side of the variable.
    let bs: usize = 3;
    let batch = data.get(idx![(&i * bs)..(bs * (&i + 1))]);
    assert_eq!(call(&batch, 1), [3.0, 4.0, 5.0]);
    assert_eq!((&i * bs).dtype(), DType::I64);
    // Borrowed variables as range ends: data[i:], data[:i], data[i:i + 2].
    let next = &i + 2;
    assert_eq!(call(&data.get(idx![&i..]), 7), [7.0, 8.0, 9.0]);
    assert_eq!(call(&data.get(idx![..&i]), 2), [0.0, 1.0]);
    assert_eq!(call(&data.get(idx![&i..&next]), 4), [4.0, 5.0]);
    // A number and a variable in one slice: data[1:i], data[i:-1], data[-3:i].
    assert_eq!(call(&data.get(&[Index::span(1, &i)]), 4), [1.0, 2.0, 3.0]);
    assert_eq!(call(&data.get(&[Index::span(&i, -1)]), 6), [6.0, 7.0, 8.0]);
    assert_eq!(call(&data.get(&[Index::span(-3, &i)]), 9), [7.0, 8.0]);
    // Stepped, with a literal step: data[i::2], data[:i:-3].
    assert_eq!(call(&data.get(&[Index::range(Some((&i).into()), None, 2)]), 5), [5.0, 7.0, 9.0]);
    assert_eq!(call(&data.get(&[Index::range(None, Some((&i).into()), -3)]), 2), [9.0, 6.0, 3.0]);
    // Positions and ranges of every integer type a Rust program holds.
    let (k64, k32, ku): (i64, i32, usize) = (-1, 2, 3);
    assert_eq!(call(&data.index(k64), 0), [9.0]);
    assert_eq!(call(&data.index(k32), 0), [2.0]);
    assert_eq!(call(&data.index(ku), 0), [3.0]);
    assert_eq!(call(&data.get(idx![(ku - 1)..ku + 2]), 0), [2.0, 3.0, 4.0]);
    assert_eq!(call(&data.get(idx![..k64]), 0).len(), 9);
    assert_eq!(call(&data.get(idx![k32..]), 0).len(), 8);
    assert_eq!(call(&data.get(&[Index::span(1i64, 3usize)]), 0), [1.0, 2.0]);
    // A float bound is a type error, not a panic.
    let x = tl::dscalar("x");
    assert!(data.get(&[Index::span(&x, 3)]).check().is_err());
    Ok(())
}

#[test]
fn shared_as_converts_to_the_dtype() -> tl::Result<()> {
    // np.asarray([[0.1, 0.2], [0.3, 1e40]], dtype='float32'): rounded to nearest (1e40 is inf).
    let w = tl::shared_as(vec![vec![0.1, 0.2], vec![0.3, 1e40]], DType::F32, "W");
    assert_eq!((w.dtype(), w.ndim(), w.name().as_deref()), (DType::F32, 2, Some("W")));
    assert_eq!(w.get_value()?.to_vec::<f32>()?, [0.1f32, 0.2, 0.3, f32::INFINITY]);
    // np.asarray([1.7, -1.7, 2.5], dtype='int32'): truncated toward zero.
    let k = tl::shared_as(vec![1.7, -1.7, 2.5], DType::I32, "k");
    assert_eq!(k.get_value()?.to_vec::<i32>()?, [1, -1, 2]);
    // Integers to float64, and the same dtype unchanged.
    assert_eq!(tl::shared_as(vec![1i64, 2], DType::F64, "a").get_value()?.to_vec::<f64>()?, [1.0, 2.0]);
    assert_eq!(tl::shared_as(2.5f32, DType::F32, "s").get_value()?, Tensor::from(2.5f32));
    // The variable keeps its dtype: a float32 function of float32 parameters.
    let x = tl::fvector("x");
    let b = tl::shared_as(vec![0.5, 0.25], tl::config::float_x(), "b");
    if tl::config::float_x() == DType::F32 {
        let f = tl::function(&[&x], &[&x + &b])?;
        assert_eq!(f.call1(vec![1.0f32, 2.0])?.to_vec::<f32>()?, [1.5f32, 2.25]);
    }
    // Ragged data is an error `Var`, reported as `shared`'s.
    let bad = tl::shared_as(vec![vec![1.0], vec![]], DType::F32, "bad");
    let err = bad.check().unwrap_err().to_string();
    assert!(err.contains("shared") && err.contains("ragged"), "{err}");
    Ok(())
}

#[test]
fn set_name_renames_in_place() -> tl::Result<()> {
    let x = tl::dvector("");
    let y = (&x * 2.0).exp().sum();
    let f = tl::function(&[&x], &[&y])?;
    let before: f64 = f.call1(vec![0.5, 1.0])?.try_into()?;
    // Every handle on the input sees its new name, and so do the printers.
    let alias = x.clone();
    x.set_name(Some("x"));
    assert_eq!(alias.name().as_deref(), Some("x"));
    assert!(tl::pp(&y).contains("x * TensorConstant{2.0}"), "{}", tl::pp(&y));
    y.set_name(Some("cost"));
    let shown = tl::debugprint(std::slice::from_ref(&y));
    assert!(shown.lines().next().unwrap().ends_with("'cost'"), "{shown}");
    // Error messages name it.
    let g = tl::function(&[&x], &[&y])?;
    let err = g.call1([[1.0]]).unwrap_err().to_string();
    assert!(err.contains("argument 0 (x)"), "{err}");
    let err = tl::function(&[tl::dvector("z")], &[&y]).unwrap_err().to_string();
    assert!(err.contains("needs input x"), "{err}");
    // Results do not change: the function built before and the one built after agree.
    let after: f64 = g.call1(vec![0.5, 1.0])?.try_into()?;
    assert_eq!(before, after);
    assert_eq!(before, f.call1(vec![0.5, 1.0])?.try_into()?);
    // Renaming a shared variable keeps its value and its updates working.
    let w = tl::shared(vec![1.0, 2.0], "w");
    w.set_name(Some("weights"));
    let step = tl::Function::builder(&[&x], &[&w]).updates(&[(&w, &w + &x)]).build()?;
    step.call1(vec![1.0, 1.0])?;
    assert_eq!(w.get_value()?.to_vec::<f64>()?, [2.0, 3.0]);
    assert!(tl::pp(&(&w + 1.0)).contains("weights"));
    // None removes the name; `named` still makes a new variable of an expression, and
    // points a leaf at set_name.
    x.set_name(None);
    assert_eq!(x.name(), None);
    let z = (&x + 1.0).named("z");
    assert_eq!(z.name().as_deref(), Some("z"));
    let err = x.named("q").check().unwrap_err().to_string();
    assert!(err.contains("set_name"), "{err}");
    Ok(())
}

/// Renaming between two builds of the same graph: both compile, each computes the same, and
/// the one built after the rename shows the new name (even though built from the very same
/// variables as the first).
#[test]
fn renaming_does_not_confuse_the_function_cache() -> tl::Result<()> {
    let x = tl::dvector("a");
    let y = tl::tanh(&x) * 3.0;
    let f = tl::function(&[&x], &[&y])?;
    x.set_name(Some("b"));
    let g = tl::function(&[&x], &[&y])?;
    let h = tl::function(&[&x], &[&y])?;
    for fun in [&f, &g, &h] {
        let v = fun.call1(vec![0.25, -1.0])?.to_vec::<f64>()?;
        assert_eq!(v, [0.25f64.tanh() * 3.0, (-1.0f64).tanh() * 3.0]);
    }
    // Each function's graph shows the names its variables had when it was built.
    assert_eq!(f.pp_output(0)?, "Composite{(3.0 * tanh(i0))}(a)");
    assert_eq!(g.pp_output(0)?, "Composite{(3.0 * tanh(i0))}(b)");
    assert_eq!(h.pp_output(0)?, "Composite{(3.0 * tanh(i0))}(b)");
    // A graph built from a fresh variable of the new name is an ordinary cache entry.
    let x2 = tl::dvector("b");
    let k = tl::function(&[&x2], &[tl::tanh(&x2) * 3.0])?;
    assert_eq!(k.call1(vec![0.25])?.to_vec::<f64>()?, [0.25f64.tanh() * 3.0]);
    Ok(())
}
