//! Helpers shared by the integration tests.

pub mod logreg;
pub mod rng;
