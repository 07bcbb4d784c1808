//! Running random draws in the random-stream tests: a function of no input that leaves its
//! state alone, its result, and the check that a draw is the same on every thread count and
//! engine.

#![allow(dead_code)]

use tensorlift as tl;
use tl::{Function, Mode, Tensor, Var};

/// The first result of a call of `f`, a function of no input.
pub fn draw(f: &Function) -> Tensor {
    f.call(&[]).expect("runs").remove(0)
}

/// A function of no input computing `out`, in `mode`, its state left alone (every call
/// draws the same numbers).
pub fn frozen(out: &Var, mode: Mode) -> Function {
    Function::builder::<Var, _>(&[], &[out]).mode(mode).no_default_updates(true).build().expect("compiles")
}

/// The results of `out` with 1, 2 and 3 threads and in the interpreter, all equal.
pub fn assert_same_everywhere(out: &Var) -> Tensor {
    let (jit, interp) = (frozen(out, Mode::Jit), frozen(out, Mode::Interp));
    let before = tl::num_threads();
    tl::set_num_threads(1);
    let one = draw(&jit);
    tl::set_num_threads(2);
    let two = draw(&jit);
    tl::set_num_threads(3);
    let three = draw(&jit);
    tl::set_num_threads(before);
    assert_eq!(one, two, "{}: 1 and 2 threads", tl::pp(out));
    assert_eq!(one, three, "{}: 1 and 3 threads", tl::pp(out));
    assert_eq!(one, draw(&interp), "{}: JIT and interpreter", tl::pp(out));
    one
}
