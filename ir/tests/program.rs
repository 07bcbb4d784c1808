//! #14 item 3: `ScalarProgram` built through `ScalarProgramBuilder`, with typed value ids,
//! one list of outputs and typed errors (`ProgramError`) whose messages are the ones the
//! string errors had.

use tensorlift_ir::{
    DType, ProgramError, ScalarNode, ScalarOp, ScalarProgram, ScalarProgramBuilder, ScalarValue,
};
use DType::{F32, F64, I64};

/// `(i0 * 2.0) + sqr(i1)` and its square root as a second output.
fn two_outputs() -> ScalarProgram {
    let mut b = ScalarProgramBuilder::new();
    let x = b.add_input(F64).expect("input");
    let y = b.add_input(F32).expect("input");
    let two = b.add_const(F64, 2.0).expect("const");
    let x2 = b.apply(ScalarOp::Mul, &[x, two]).expect("mul");
    let y2 = b.apply(ScalarOp::Sqr, &[y]).expect("sqr");
    let s = b.apply(ScalarOp::Add, &[x2, y2]).expect("add");
    let r = b.apply(ScalarOp::Sqrt, &[s]).expect("sqrt");
    b.finish(&[s, r]).expect("valid")
}

#[test]
fn the_builder_numbers_values_in_order_and_infers_dtypes() {
    let p = two_outputs();
    assert_eq!(p.inputs, vec![F64, F32]);
    assert_eq!(p.n_values(), 7);
    assert_eq!(p.outputs(), &[ScalarValue::new(5), ScalarValue::new(6)]);
    assert_eq!(p.output(), ScalarValue::new(5));
    assert_eq!(p.n_outputs(), 2);
    // `sqr` of a float32 stays float32; adding it to a float64 upcasts.
    assert_eq!(p.dtype_of(ScalarValue::new(4)), F32);
    assert_eq!(p.out_dtype(), F64);
    assert_eq!(p.output_dtype(1), Some(F64));
    assert_eq!(p.output_dtype(2), None);
    assert_eq!(p.node_value(0), ScalarValue::new(2));
    assert!(matches!(p.node_of(ScalarValue::new(2)), Some(ScalarNode::Const { dtype: F64, .. })));
    assert_eq!(p.node_of(ScalarValue::new(1)), None);
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn builder_and_text_give_the_same_program_and_text() {
    let p = two_outputs();
    let text = "in float64 float32 | t0 = const float64 2.0 | t1 = mul(i0, t0) | t2 = sqr(i1) \
                | t3 = add(t1, t2) | t4 = sqrt(t3) | return t3, t4";
    assert_eq!(p.to_text(), text);
    assert_eq!(ScalarProgram::parse_text(text), Ok(p.clone()));
    assert_eq!(p.to_string(), "((i0 * 2.0) + sqr(i1)), sqrt(((i0 * 2.0) + sqr(i1)))");
    let one = p.clone().with_outputs(&[ScalarValue::new(6)]).expect("an existing value");
    assert_eq!(one.n_outputs(), 1);
    assert_eq!(one.to_text(), text.replace("return t3, t4", "return t4"));
}

#[test]
fn the_builder_refuses_malformed_programs_with_typed_errors() {
    let mut b = ScalarProgramBuilder::new();
    let x = b.add_input(F64).expect("input");
    let e = b.clone().apply(ScalarOp::Neg, &[ScalarValue::new(1)]).unwrap_err();
    assert_eq!(e, ProgramError::UndefinedArg { node: 0, value: 1 });
    assert_eq!(e.to_string(), "node 0 reads value 1, which is not computed before it");
    let e = b.clone().apply(ScalarOp::Sub, &[x]).unwrap_err();
    assert_eq!(e, ProgramError::Arity { op: "sub", expected: 2, got: 1 });
    assert_eq!(e.to_string(), "sub takes 2 arguments");
    let e = b.clone().apply(ScalarOp::Add, &[x]).unwrap_err();
    assert_eq!(e, ProgramError::TooFewArgs { op: "add", got: 1 });
    assert_eq!(e.to_string(), "add takes 2 or more arguments");
    let e = b.clone().finish(&[]).unwrap_err();
    assert_eq!(e, ProgramError::NoOutputs);
    let e = b.clone().finish(&[ScalarValue::new(3)]).unwrap_err();
    assert_eq!(e, ProgramError::UndefinedOutput { value: 3 });
    assert_eq!(e.to_string(), "output 3 does not exist");
    let c = b.add_const(I64, 1.0).expect("const");
    assert_eq!(b.dtype_of(c), Some(I64));
    assert_eq!(b.dtype_of(ScalarValue::new(9)), None);
    assert_eq!(b.clone().add_input(F32), Err(ProgramError::InputAfterNode { input: 1 }));
    // An op that does not take its arguments' dtypes: the op's own reason.
    let e = b.apply(ScalarOp::And, &[x, c]).unwrap_err();
    assert!(matches!(&e, ProgramError::ArgDTypes { op: "and", .. }), "{e:?}");
    assert_eq!(e.to_string(), "and needs bool or integer inputs, got float64");
}

#[test]
fn validate_reports_a_program_changed_after_it_was_built() {
    let mut p = two_outputs();
    let ScalarNode::Apply { dtype, .. } = &mut p.nodes[2] else { panic!("sqr is node 2") };
    *dtype = F64;
    let e = p.validate().unwrap_err();
    assert_eq!(e, ProgramError::NodeDType { node: 2, op: "sqr", expected: F32, got: F64 });
    assert_eq!(e.to_string(), "node 2: sqr gives float32, typed float64");
}

#[test]
fn text_errors_are_typed() {
    let err = |t: &str| ScalarProgram::parse_text(t).unwrap_err();
    assert_eq!(
        err("in float64 | t0 = nope(i0) | return t0"),
        ProgramError::Parse("unknown scalar op `nope`".into())
    );
    assert_eq!(err("in float64 | return t3"), ProgramError::Parse("undefined value `t3`".into()));
    assert_eq!(
        err("in float64 | t0 = sub(i0) | return t0"),
        ProgramError::Arity { op: "sub", expected: 2, got: 1 }
    );
}
