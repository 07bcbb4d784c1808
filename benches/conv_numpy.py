#!/usr/bin/env python3
"""NumPy figures for the `lenet layer 0 pieces` group of `benches/conv.rs`.

Usage:
    python3 benches/conv_numpy.py [--repeat N]

Times the NumPy equivalents of the group's cases on the same shapes and values, float64
(500, 20, 24, 24), and prints each median in milliseconds. Run it next to
`cargo bench --bench conv -- "layer 0 pieces"` on the same machine: only figures measured
together mean anything. NumPy runs these on one thread.
"""

import argparse
import time

import numpy as np


def array(shape, seed, scale):
    """The values of the Rust benchmark's `array`: deterministic, in [-scale, scale)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    v = ((i * np.uint64(2654435761) + np.uint64(seed * 97)) % np.uint64(2000)).astype(np.float64)
    return ((v / 1000.0 - 1.0) * scale).reshape(shape)


def median_ms(f, repeat):
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    shape = (500, 20, 24, 24)
    x = array(shape, 1, 1.0)
    pooled = x.reshape(500, 20, 12, 2, 12, 2).max(axis=(3, 5))
    gz = array((500, 20, 12, 12), 3, 1.0)
    b = array((20,), 4, 0.5)
    y = array(shape, 5, 0.5)

    def max_pool_grad():
        # Each window's gradient to every element equal to its maximum.
        xs = x.reshape(500, 20, 12, 2, 12, 2)
        hit = xs == pooled[:, :, :, None, :, None]
        return (hit * gz[:, :, :, None, :, None]).reshape(shape)

    cases = [
        ("pool_2d max 2x2", lambda: x.reshape(500, 20, 12, 2, 12, 2).max(axis=(3, 5))),
        ("max_pool_grad 2x2", max_pool_grad),
        ("tanh(x + bias x,0,x,x)", lambda: np.tanh(x + b[None, :, None, None])),
        ("tanh(x + y) full y", lambda: np.tanh(x + y)),
        ("sum axis (0,2,3)", lambda: x.sum(axis=(0, 2, 3))),
    ]
    print(f"numpy {np.__version__}, float64 {shape}, median of {args.repeat}")
    for name, f in cases:
        print(f"{name:28s} {median_ms(f, args.repeat):8.2f} ms")


if __name__ == "__main__":
    main()
