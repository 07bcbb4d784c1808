#!/usr/bin/env python3
"""Fits the polynomial coefficients of `jit/src/math/exp.rs` and prints them as Rust arrays.

Requires mpmath (`pip install mpmath`). Each polynomial is a Chebyshev fit (`mpmath.chebyfit`,
close to the minimax polynomial) computed with 256-bit arithmetic; the coefficients are then
rounded to f64 and the error of the rounded polynomial (evaluated exactly) is measured on a
dense grid of the interval and printed, in units of 2^-53.

* `EXPM1_Q`: `Q(r) = (e^r - 1 - r) / r²` on `|r| ≤ ln 2 / 2` (slightly widened: the reduction's
  `r` can exceed ln 2 / 2 by a rounding), 11 coefficients (degree 10). `exp` and `expm1` are
  `1 + r + r²·Q(r)` and `r + r²·Q(r)`; an error `δ` of `Q` is an error below `r²·δ ≤ 0.061·δ`
  of `e^r`.
* `TANH_P`: `P(z) = (tanh(a) - a) / a³` with `z = a²`, on `0 ≤ a ≤ 0.25`, 8 coefficients
  (degree 7 in `z`); `tanh(a) = a + a³·P(a²)`, and an error `δ` of `P` is a relative error
  below `a²·δ·a/tanh(a) ≤ 0.064·δ` of `tanh(a)`.

Run: `python3 jit/tools/fit_coefficients.py`.
"""

import mpmath as mp

mp.mp.prec = 256


def expm1_q(r):
    if abs(r) < mp.mpf("1e-30"):
        return mp.mpf(1) / 2 + r / 6
    return (mp.expm1(r) - r) / (r * r)


def tanh_p(z):
    if z < mp.mpf("1e-60"):
        return -mp.mpf(1) / 3 + 2 * z / 15
    a = mp.sqrt(z)
    return (mp.tanh(a) - a) / (a * z)


def fit(name, f, lo, hi, n, weight):
    """Fits `f` on [lo, hi] with `n` coefficients; prints the rounded coefficients and the
    error of the rounded polynomial times `weight` (its effect on the final result)."""
    coeffs, _ = mp.chebyfit(f, [lo, hi], n, error=True)
    c = [float(v) for v in reversed(coeffs)]  # lowest degree first, rounded to f64
    worst = mp.mpf(0)
    grid = 4000
    for i in range(grid + 1):
        x = lo + (hi - lo) * mp.mpf(i) / grid
        p = mp.mpf(0)
        for ci in reversed(c):
            p = p * x + mp.mpf(ci)
        worst = max(worst, abs(p - f(x)) * weight(x))
    print(f"/// Max error of the f64 coefficients below {mp.nstr(worst / mp.mpf(2) ** -53, 3)}·2^-53 "
          "(measured by jit/tools/fit_coefficients.py).")
    print(f"const {name}: [f64; {n}] = [")
    for v in c:
        print(f"    {v!r},")
    print("];")


def main():
    h = mp.log(2) / 2 * mp.mpf("1.0001")
    # The error of `e^r = 1 + r + r²Q` from Q, relative to e^r (≥ √½).
    fit("EXPM1_Q", expm1_q, -h, h, 11, lambda r: r * r / mp.exp(r))
    t = mp.mpf("0.25")
    # The relative error of `tanh(a) = a + a³P(a²)` from P: a³·δ / tanh(a) with z = a².
    fit("TANH_P", tanh_p, mp.mpf(0), t * t, 8,
        lambda z: z * mp.sqrt(z) / mp.tanh(mp.sqrt(z)) if z > 0 else mp.mpf(0))


if __name__ == "__main__":
    main()
