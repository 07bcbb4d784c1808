//! The logistic-regression example against a hand-derived gradient in plain ndarray: the
//! same final cost to 1e-9 relative after 10 000 steps, and training accuracy above 0.99.

mod common;

use common::logreg;

#[test]
fn tensorlift_matches_the_hand_derived_gradient() {
    let steps = 10_000;
    let mut trajectory = Vec::new();
    let ours = logreg::train_tensorlift(steps, |step, cost| trajectory.push((step, cost))).expect("trains");
    let by_hand = logreg::train_by_hand(steps);
    let rel = (ours.final_cost - by_hand.final_cost).abs() / by_hand.final_cost.abs();
    assert!(rel < 1e-9, "final cost {} vs {} by hand (rel {rel:e})", ours.final_cost, by_hand.final_cost);
    assert!(ours.accuracy > 0.99, "accuracy {}", ours.accuracy);
    assert_eq!(ours.accuracy, by_hand.accuracy);
    assert_eq!(trajectory.len(), 10);
    assert!(trajectory.windows(2).all(|w| w[1].1 < w[0].1), "the cost decreases: {trajectory:?}");
}
