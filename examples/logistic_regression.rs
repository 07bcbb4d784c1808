//! The classic Theano example: logistic regression on 400 seeded random samples of 784
//! features, trained by gradient descent with `grad` and `updates`.
//!
//! Run with `cargo run --release --example logistic_regression`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::logreg;

use tensorlift as tl;

fn main() -> tl::Result<()> {
    let steps = 10_000;
    println!(
        "logistic regression: {} samples x {} features, {steps} steps, learning rate {}",
        logreg::N,
        logreg::FEATS,
        logreg::LR
    );
    let trained = logreg::train_tensorlift(steps, |step, cost| println!("step {step:>5}  cost {cost:.6}"))?;
    println!("final cost {:.12}", trained.final_cost);
    println!("accuracy on the training data: {:.4}", trained.accuracy);
    Ok(())
}
