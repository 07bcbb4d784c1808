//! Statistical tests shared by the random-stream tests: the Kolmogorov–Smirnov statistic and
//! its critical value, the standard normal CDF, Pearson's chi-square.

#![allow(dead_code)]

/// The Kolmogorov–Smirnov statistic of `xs` against the CDF `cdf`.
pub fn ks(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    xs.iter()
        .enumerate()
        .map(|(i, &x)| {
            let c = cdf(x);
            (c - i as f64 / n).max((i + 1) as f64 / n - c)
        })
        .fold(0.0, f64::max)
}

/// The KS critical value at level 1e-3 (asymptotic: sqrt(-ln(alpha / 2) / 2) / sqrt(n)).
pub fn ks_critical(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

/// The standard normal CDF, through the complementary error function (Numerical Recipes'
/// Chebyshev fit, relative error below 1.2e-7: far below the KS bound of 1e-2).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// Pearson's chi-square of observed counts against expected probabilities.
pub fn chi_square(counts: &[usize], probs: &[f64]) -> f64 {
    let n: usize = counts.iter().sum();
    counts.iter().zip(probs).map(|(&o, &p)| (o as f64 - n as f64 * p).powi(2) / (n as f64 * p)).sum()
}
