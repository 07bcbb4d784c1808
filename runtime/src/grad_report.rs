//! `GradReport`: what `verify_grad` measured, also carried by `Error::GradMismatch`.

/// The element whose analytic and numeric derivatives differ most.
#[derive(Clone, Debug, PartialEq)]
pub struct WorstElement {
    /// Which input (position in `points`).
    pub input: usize,
    /// Row-major position in that input.
    pub index: usize,
    /// The symbolic gradient's value.
    pub analytic: f64,
    /// The finite-difference estimate.
    pub numeric: f64,
}

/// The outcome of `verify_grad`.
#[derive(Clone, Debug, PartialEq)]
pub struct GradReport {
    /// Largest absolute difference over all elements.
    pub max_abs_err: f64,
    /// Largest relative difference over the elements whose absolute difference exceeds
    /// `abs_tol`.
    pub max_rel_err: f64,
    /// Where the largest relative (else absolute) difference was found.
    pub worst: Option<WorstElement>,
    /// Number of elements compared.
    pub elements: usize,
}

impl std::fmt::Display for GradReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "max abs err {:.3e}, max rel err {:.3e} over {} elements",
            self.max_abs_err, self.max_rel_err, self.elements
        )?;
        if let Some(w) = &self.worst {
            write!(
                f,
                "; worst: input {} element {}: analytic {} vs numeric {}",
                w.input, w.index, w.analytic, w.numeric
            )?;
        }
        Ok(())
    }
}
