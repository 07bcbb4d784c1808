//! `ifelse`: values of both branches (of different lengths), laziness (what only the branch
//! not taken reads is not computed, observed through a branch that would fail), nesting,
//! gradients (to the branch taken), updates, the optimizer's rules, the plan's text, and
//! the type errors.

use ndarray::{arr1, arr2};
use tensorlift as tl;
use tl::{Arg, Tensor, Var};

fn call(f: &tl::Function, args: Vec<Arg>) -> tl::Result<Vec<Tensor>> {
    f.call(&args)
}

fn vec_of(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

#[test]
fn picks_the_branch_its_condition_says() {
    let (c, x) = (tl::iscalar("c"), tl::dvector("x"));
    // The branches have different lengths: the result has the taken one's.
    let out = tl::ifelse(&c, tl::exp(&x), tl::sum(&x).dimshuffle(&[None]));
    let f = tl::function(&[&c, &x], &[&out]).unwrap();
    let xs = arr1(&[0.0, 1.0, 2.0]);
    let taken = call(&f, vec![Arg::from(1i32), Arg::from(xs.clone())]).unwrap();
    assert_eq!(vec_of(&taken[0]), xs.mapv(f64::exp).to_vec());
    let other = call(&f, vec![Arg::from(0i32), Arg::from(xs.clone())]).unwrap();
    assert_eq!(vec_of(&other[0]), vec![3.0]);
    // Any non-zero condition is true, as Python's `bool`.
    let neg = call(&f, vec![Arg::from(-7i32), Arg::from(xs)]).unwrap();
    assert_eq!(neg[0].shape(), &[3]);
}

/// A value that fails to compute unless `x` has at least 100 elements: an index out of
/// range is a typed error when computed.
fn fails_if_computed(x: &Var) -> Var {
    tl::take(x, tl::constant(Tensor::from(arr1(&[99i64]))), Some(0)) * 2.0
}

#[test]
fn the_branch_not_taken_is_not_computed() {
    let (c, x) = (tl::dscalar("c"), tl::dvector("x"));
    let out = tl::ifelse(tl::gt(&c, 0.0), tl::sum(fails_if_computed(&x)), tl::sum(&x));
    let f = tl::function(&[&c, &x], &[&out]).unwrap();
    let xs = arr1(&[1.0, 2.0, 4.0]);
    // Not taken: no error, the other branch's value.
    let v = call(&f, vec![Arg::from(-1.0), Arg::from(xs.clone())]).unwrap();
    assert_eq!(v[0].to_f64().unwrap(), 7.0);
    // Taken: the failing branch runs and reports its error.
    let err = call(&f, vec![Arg::from(1.0), Arg::from(xs.clone())]).unwrap_err();
    assert!(err.to_string().contains("99"), "{err}");
    // The plan says which steps are guarded and by what.
    let plan = f.dump(tl::Stage::Schedule).unwrap();
    assert!(plan.contains("lazy ifelse"), "{plan}");
    assert!(plan.contains("; if %") && plan.contains("; if not %"), "{plan}");
    // And the function still works after the error.
    let v = call(&f, vec![Arg::from(0.0), Arg::from(xs)]).unwrap();
    assert_eq!(v[0].to_f64().unwrap(), 7.0);
}

#[test]
fn a_value_read_outside_the_branch_is_computed_whatever_the_condition() {
    let (c, x) = (tl::bscalar("c"), tl::dvector("x"));
    let shared_work = tl::exp(&x);
    let out = tl::ifelse(&c, tl::sum(&shared_work), tl::constant(0.0));
    let f = tl::function(&[&c, &x], &[&out, &shared_work]).unwrap();
    let r = call(&f, vec![Arg::from(false), Arg::from(arr1(&[0.0, 0.0]))]).unwrap();
    assert_eq!(r[0].to_f64().unwrap(), 0.0);
    assert_eq!(vec_of(&r[1]), vec![1.0, 1.0]);
    let r = call(&f, vec![Arg::from(true), Arg::from(arr1(&[0.0, 0.0]))]).unwrap();
    assert_eq!(r[0].to_f64().unwrap(), 2.0);
}

#[test]
fn nested_ifelse_computes_only_the_path_taken() {
    let (a, b, x) = (tl::bscalar("a"), tl::bscalar("b"), tl::dvector("x"));
    let inner = tl::ifelse(&b, tl::sum(fails_if_computed(&x)), tl::max(&x));
    let out = tl::ifelse(&a, inner, tl::min(&x));
    let f = tl::function(&[&a, &b, &x], &[&out]).unwrap();
    let xs = || Arg::from(arr1(&[3.0, -1.0, 5.0]));
    let run = |a: bool, b: bool| call(&f, vec![Arg::from(a), Arg::from(b), xs()]);
    assert_eq!(run(false, true).unwrap()[0].to_f64().unwrap(), -1.0);
    assert_eq!(run(false, false).unwrap()[0].to_f64().unwrap(), -1.0);
    assert_eq!(run(true, false).unwrap()[0].to_f64().unwrap(), 5.0);
    assert!(run(true, true).is_err());
}

#[test]
fn the_condition_may_itself_be_computed_inside_a_branch() {
    // The inner condition is computed only on the outer branch that reads it.
    let (a, x) = (tl::bscalar("a"), tl::dvector("x"));
    let inner_cond = tl::gt(tl::sum(fails_if_computed(&x)), 0.0);
    let inner = tl::ifelse(inner_cond, tl::sum(&x), tl::prod(&x));
    let out = tl::ifelse(&a, inner, tl::mean(&x));
    let f = tl::function(&[&a, &x], &[&out]).unwrap();
    let r = call(&f, vec![Arg::from(false), Arg::from(arr1(&[1.0, 2.0, 3.0]))]).unwrap();
    assert_eq!(r[0].to_f64().unwrap(), 2.0);
    assert!(call(&f, vec![Arg::from(true), Arg::from(arr1(&[1.0, 2.0, 3.0]))]).is_err());
}

#[test]
fn scalar_graphs_stay_lazy() {
    let (c, x) = (tl::dscalar("c"), tl::dscalar("x"));
    let out = tl::ifelse(tl::lt(&c, 0.5), tl::sqr(&x) + 1.0, tl::sin(&x));
    let f = tl::function(&[&c, &x], &[&out]).unwrap();
    for (cv, xv) in [(0.0, 3.0), (1.0, 3.0), (0.25, -2.0)] {
        let got = call(&f, vec![Arg::from(cv), Arg::from(xv)]).unwrap()[0].to_f64().unwrap();
        let want = if cv < 0.5 { xv * xv + 1.0 } else { f64::sin(xv) };
        assert_eq!(got, want);
    }
}

#[test]
fn the_gradient_goes_to_the_branch_taken() {
    let (c, x) = (tl::bscalar("c"), tl::dvector("x"));
    let cost = tl::sum(tl::ifelse(&c, tl::sqr(&x), tl::sin(&x)));
    let gx = tl::grad(&cost, &x).unwrap();
    let f = tl::function(&[&c, &x], &[&gx]).unwrap();
    let xs = arr1(&[0.5, -1.0, 2.0]);
    let g = call(&f, vec![Arg::from(true), Arg::from(xs.clone())]).unwrap();
    assert_eq!(vec_of(&g[0]), xs.mapv(|v| 2.0 * v).to_vec());
    let g = call(&f, vec![Arg::from(false), Arg::from(xs.clone())]).unwrap();
    assert_eq!(vec_of(&g[0]), xs.mapv(f64::cos).to_vec());
    // Finite differences agree, for each condition.
    for cond in [1.0, 0.0] {
        let report = tl::verify_grad(
            |v| {
                let c = tl::constant(cond);
                let y = tl::ifelse(
                    tl::gt(c, 0.5),
                    tl::exp(&v[0]) * &v[1],
                    tl::dot(&v[0], &v[1]).dimshuffle(&[None]),
                );
                tl::sum(tl::sqr(y))
            },
            &[Tensor::from(arr1(&[0.3, -0.2])), Tensor::from(arr1(&[1.5, 0.7]))],
            tl::VerifyGradOptions::default(),
        );
        assert!(report.is_ok(), "{report:?}");
    }
}

#[test]
fn an_update_can_choose_between_values() {
    // A learning rate halved whenever the cost rose (a common training-loop pattern).
    let lr = tl::shared(Tensor::from(1.0), "lr");
    let (cost, best) = (tl::dscalar("cost"), tl::dscalar("best"));
    let step = tl::Function::builder(&[&cost, &best], &[&lr])
        .updates(&[(&lr, &tl::ifelse(tl::gt(&cost, &best), &lr * 0.5, &lr))])
        .build()
        .unwrap();
    for (c, b) in [(2.0, 1.0), (0.5, 1.0), (3.0, 1.0)] {
        step.call(&[Arg::from(c), Arg::from(b)]).unwrap();
    }
    assert_eq!(lr.get_value().unwrap().to_f64().unwrap(), 0.25);
}

#[test]
fn the_optimizer_removes_needless_choices() {
    let (x, c) = (tl::dmatrix("x"), tl::bscalar("c"));
    // A constant condition picks its branch; identical branches need no choice.
    let cases = [
        (vec![&x], tl::ifelse(tl::constant(1i64), tl::exp(&x), tl::log(&x))),
        (vec![&x, &c], tl::ifelse(&c, &x, &x)),
    ];
    for (ins, out) in cases {
        let f = tl::function(&ins, &[&out]).unwrap();
        let plan = f.dump(tl::Stage::Schedule).unwrap();
        assert!(!plan.contains("ifelse"), "{plan}");
    }
    let f = tl::function(&[&x], &[tl::ifelse(tl::constant(0i64), tl::exp(&x), tl::log(&x))]).unwrap();
    let r = f.call(&[Arg::from(arr2(&[[1.0, 1.0]]))]).unwrap();
    assert_eq!(vec_of(&r[0]), vec![0.0, 0.0]);
}

#[test]
fn prints_as_theano() {
    let (c, x) = (tl::bscalar("c"), tl::dvector("x"));
    let out = tl::ifelse(&c, tl::exp(&x), &x);
    assert_eq!(tl::pp(&out), "if{}(c, exp(x), x)");
}

#[test]
fn type_errors_are_reported() {
    let (c, x, m) = (tl::dscalar("c"), tl::dvector("x"), tl::dmatrix("m"));
    let e = tl::ifelse(&x, &x, &x).check().unwrap_err();
    assert!(e.to_string().contains("0-d condition"), "{e}");
    let e = tl::ifelse(&c, &x, &m).check().unwrap_err();
    assert!(e.to_string().contains("same dtype and number of dimensions"), "{e}");
    let e = tl::ifelse(&c, &x, tl::ivector("i")).check().unwrap_err();
    assert!(e.to_string().contains("same dtype"), "{e}");
    // A number takes the other branch's dtype.
    assert_eq!(tl::ifelse(&c, tl::fscalar("f"), 1.0).dtype(), tl::DType::F32);
}
