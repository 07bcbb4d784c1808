#!/usr/bin/env python3
"""Writes ``tests/common/scan_reference.rs``: values and gradients of nine ``scan`` programs
computed by JAX's ``lax.scan`` and ``jax.grad`` in float64, and checks them against a
Theano-like library's ``scan`` and ``T.grad`` and against explicit numpy loops.

The programs follow Theano 1.0's ``scan`` semantics: the outputs exclude the initial state;
a sequence with ``taps=[-2, 0]`` gives ``len - 2`` steps, step ``t`` seeing ``x[t]`` and
``x[t + 2]``; an output with ``taps=[-2, -1]`` takes ``initial[0]`` as ``h[-2]`` and
``initial[1]`` as ``h[-1]``; ``go_backwards=True`` visits the sequence from its end and
returns the outputs in the order they were computed; ``n_steps`` shorter than a sequence
uses its first ``n_steps`` entries.

Every input is built by formula so that a Rust test rebuilds it bit for bit:
``v(shape, a, b, s)`` is the array of ``shape`` whose flat element ``i`` (row-major) is
``s * sin(a * i + b)`` (``math.sin``, the C library's, as Rust's ``f64::sin``).

Each case ``CASE`` writes, for every forward output ``WHAT``, the loss (``LOSS``) and the
gradient of the loss with respect to every float input ``IN`` (``GRAD_IN``), a pair of
constants ``CASE_WHAT: &[f64]`` (row-major, the shortest decimal that reads back to the same
double: at most 17 significant digits, exact) and ``CASE_WHAT_SHAPE: &[usize]`` (``&[]``
for a scalar).

Usage::

    python make_scan_reference.py                     # JAX (jax_enable_x64): write the file
    THEANO_FLAGS=blas.ldflags= python make_scan_reference.py --check theano --record
    python make_scan_reference.py --check pytensor
    python make_scan_reference.py --check tensorlift

Writing also compares the numpy loops with JAX. ``--check LIB`` (JAX not needed) builds
every case with ``LIB.scan`` and ``T.grad``, compares it and the numpy loops with the
numbers in the Rust file, prints the largest absolute differences and exits non-zero above
1e-10; ``--record`` keeps the figures in the file's module doc.
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "common" / "scan_reference.rs"
TOL = 1e-10
CHECKS_BEGIN = "//! Cross-checks (largest absolute difference from the numbers below):"


def v(shape, a, b, s):
    """``s * sin(a * i + b)`` at flat index ``i`` of an array of ``shape`` (row-major)."""
    n = int(np.prod(shape, dtype=np.int64))
    return np.array([s * math.sin(a * i + b) for i in range(n)], dtype=np.float64).reshape(shape)


# --------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------
# Each case: name, doc (one line per Rust doc of the case), inputs [(name, array, formula)]
# (the float inputs, in the order of the gradients), outputs [names of the forward outputs],
# and three implementations returning ``(outputs, loss)``:
#   jax(xp, lax, *inputs), numpy(*inputs) and theano(theano, T, *symbolic inputs).

CASES = []


def case(name, doc, inputs, outputs):
    def deco(cls):
        cls.name, cls.doc, cls.inputs, cls.outputs = name, doc, inputs, outputs
        CASES.append(cls)
        return cls
    return deco


W_ACCUM = v((7, 3), 0.11, 0.0, 1.0)


@case("ACCUM", "acc_t = 0.9 * acc_{t-1} + x_t**2 over the rows of x, acc_{-1} = a0; "
      "loss = sum(acc * v((7,3), 0.11, 0, 1)), the weights a constant",
      [("x", v((7, 3), 0.37, 0.1, 1.0), "v((7,3), 0.37, 0.1, 1)"),
       ("a0", v((3,), 0.5, 0.2, 0.5), "v((3,), 0.5, 0.2, 0.5)")],
      ["acc"])
class Accum:
    @staticmethod
    def jax(xp, lax, x, a0):
        def step(acc, xt):
            acc = 0.9 * acc + xt ** 2
            return acc, acc
        _, acc = lax.scan(step, a0, x)
        return [acc], xp.sum(acc * W_ACCUM)

    @staticmethod
    def numpy(x, a0):
        acc, out = a0, []
        for t in range(x.shape[0]):
            acc = 0.9 * acc + x[t] ** 2
            out.append(acc)
        acc = np.stack(out)
        return [acc], np.sum(acc * W_ACCUM)

    @staticmethod
    def theano(theano, T, x, a0):
        acc, _ = theano.scan(lambda xt, acc: 0.9 * acc + xt ** 2, sequences=x, outputs_info=a0)
        return [acc], T.sum(acc * W_ACCUM)


@case("POLY", "the scan tutorial's polynomial: comp_i = coef[i] * x**i mapped over "
      "(coef, arange(6)) with x a non-sequence; loss = poly = sum(comp)",
      [("coef", v((6,), 0.5, 0.2, 1.0), "v((6,), 0.5, 0.2, 1)"),
       ("x", np.array(0.7), "0.7 (0-d)")],
      ["comp"])
class Poly:
    @staticmethod
    def jax(xp, lax, coef, x):
        def step(carry, cp):
            c, p = cp
            return carry, c * x ** p
        _, comp = lax.scan(step, None, (coef, xp.arange(6)))
        return [comp], xp.sum(comp)

    @staticmethod
    def numpy(coef, x):
        comp = np.array([coef[i] * x ** i for i in range(6)])
        return [comp], np.sum(comp)

    @staticmethod
    def theano(theano, T, coef, x):
        comp, _ = theano.scan(lambda c, p, x: c * x ** p, sequences=[coef, T.arange(6)],
                              non_sequences=x, outputs_info=None)
        return [comp], comp.sum()


@case("POWER", "the scan tutorial's A**k, elementwise: r_t = r_{t-1} * A, r_{-1} = ones_like(A), "
      "n_steps = 5, no sequences; loss = sum(r[-1]) + 0.1 * sum(r)",
      [("a", v((4,), 0.3, 0.4, 0.9), "v((4,), 0.3, 0.4, 0.9)")],
      ["r"])
class Power:
    @staticmethod
    def jax(xp, lax, a):
        def step(r, _):
            r = r * a
            return r, r
        _, r = lax.scan(step, xp.ones_like(a), None, length=5)
        return [r], xp.sum(r[-1]) + 0.1 * xp.sum(r)

    @staticmethod
    def numpy(a):
        r, out = np.ones_like(a), []
        for _ in range(5):
            r = r * a
            out.append(r)
        r = np.stack(out)
        return [r], np.sum(r[-1]) + 0.1 * np.sum(r)

    @staticmethod
    def theano(theano, T, a):
        r, _ = theano.scan(lambda prior, a: prior * a, outputs_info=T.ones_like(a),
                           non_sequences=a, n_steps=5)
        return [r], T.sum(r[-1]) + 0.1 * T.sum(r)


@case("MATPOW", "r_t = dot(r_{t-1}, A), r_{-1} = eye(3), n_steps = 4; loss = sum(r[-1]**2)",
      [("a", v((3, 3), 0.3, 0.4, 0.8), "v((3,3), 0.3, 0.4, 0.8)")],
      ["r"])
class Matpow:
    @staticmethod
    def jax(xp, lax, a):
        def step(r, _):
            r = r @ a
            return r, r
        _, r = lax.scan(step, xp.eye(3), None, length=4)
        return [r], xp.sum(r[-1] ** 2)

    @staticmethod
    def numpy(a):
        r, out = np.eye(3), []
        for _ in range(4):
            r = r @ a
            out.append(r)
        r = np.stack(out)
        return [r], np.sum(r[-1] ** 2)

    @staticmethod
    def theano(theano, T, a):
        r, _ = theano.scan(lambda prior, a: T.dot(prior, a), outputs_info=T.constant(np.eye(3)),
                           non_sequences=a, n_steps=4)
        return [r], T.sum(r[-1] ** 2)


@case("ELMAN", "an Elman network: h_t = tanh(dot(x_t, Win) + dot(h_{t-1}, Wh) + b), h_{-1} = h0, "
      "y_t = dot(h_t, Wout) (mapped, not fed back); loss = 0.5 * sum(h**2) + sum(sin(y))",
      [("x", v((6, 3, 4), 0.21, 0.3, 1.0), "v((6,3,4), 0.21, 0.3, 1)"),
       ("h0", v((3, 5), 0.13, 0.7, 0.5), "v((3,5), 0.13, 0.7, 0.5)"),
       ("win", v((4, 5), 0.17, 0.2, 0.5), "v((4,5), 0.17, 0.2, 0.5)"),
       ("wh", v((5, 5), 0.19, 0.5, 0.5), "v((5,5), 0.19, 0.5, 0.5)"),
       ("b", v((5,), 0.23, 0.9, 0.1), "v((5,), 0.23, 0.9, 0.1)"),
       ("wout", v((5, 2), 0.29, 0.1, 1.0), "v((5,2), 0.29, 0.1, 1)")],
      ["h", "y"])
class Elman:
    @staticmethod
    def jax(xp, lax, x, h0, win, wh, b, wout):
        def step(h, xt):
            h = xp.tanh(xt @ win + h @ wh + b)
            return h, (h, h @ wout)
        _, (h, y) = lax.scan(step, h0, x)
        return [h, y], 0.5 * xp.sum(h ** 2) + xp.sum(xp.sin(y))

    @staticmethod
    def numpy(x, h0, win, wh, b, wout):
        h, hs, ys = h0, [], []
        for t in range(x.shape[0]):
            h = np.tanh(x[t] @ win + h @ wh + b)
            hs.append(h)
            ys.append(h @ wout)
        h, y = np.stack(hs), np.stack(ys)
        return [h, y], 0.5 * np.sum(h ** 2) + np.sum(np.sin(y))

    @staticmethod
    def theano(theano, T, x, h0, win, wh, b, wout):
        def step(xt, h, win, wh, b, wout):
            h = T.tanh(T.dot(xt, win) + T.dot(h, wh) + b)
            return h, T.dot(h, wout)
        (h, y), _ = theano.scan(step, sequences=x, outputs_info=[h0, None],
                                non_sequences=[win, wh, b, wout])
        return [h, y], 0.5 * T.sum(h ** 2) + T.sum(T.sin(y))


W_MITSOT = v((8, 3), 0.07, 0.0, 1.0)


@case("MITSOT", "two taps of one output: outputs_info=dict(initial=init, taps=[-2, -1]) "
      "(init[0] is h_{-2}, init[1] is h_{-1}), h_t = 0.6 * h_{t-2} + 0.5 * tanh(h_{t-1} * w), "
      "n_steps = 8; loss = sum(out * v((8,3), 0.07, 0, 1)), the weights a constant",
      [("w", v((3,), 0.4, 0.2, 1.0) + 1.0, "1 + v((3,), 0.4, 0.2, 1)"),
       ("init", v((2, 3), 0.31, 0.5, 1.0), "v((2,3), 0.31, 0.5, 1)")],
      ["out"])
class Mitsot:
    @staticmethod
    def jax(xp, lax, w, init):
        def step(c, _):
            h2, h1 = c
            h = 0.6 * h2 + 0.5 * xp.tanh(h1 * w)
            return (h1, h), h
        _, out = lax.scan(step, (init[0], init[1]), None, length=8)
        return [out], xp.sum(out * W_MITSOT)

    @staticmethod
    def numpy(w, init):
        hs = [init[0], init[1]]
        for t in range(8):
            hs.append(0.6 * hs[-2] + 0.5 * np.tanh(hs[-1] * w))
        out = np.stack(hs[2:])
        return [out], np.sum(out * W_MITSOT)

    @staticmethod
    def theano(theano, T, w, init):
        out, _ = theano.scan(lambda h2, h1, w: 0.6 * h2 + 0.5 * T.tanh(h1 * w),
                             outputs_info=[dict(initial=init, taps=[-2, -1])],
                             non_sequences=w, n_steps=8)
        return [out], T.sum(out * W_MITSOT)


@case("SEQTAPS", "two taps of one sequence: sequences=dict(input=x, taps=[-2, 0]), "
      "out = tanh(x[t] * w - x[t-2]) for t = 2..8 (7 steps); loss = sum(out**2)",
      [("x", v((9, 2), 0.27, 0.8, 1.0), "v((9,2), 0.27, 0.8, 1)"),
       ("w", v((2,), 0.3, 1.5707963267948966, 1.0) + 0.5,
        "0.5 + v((2,), 0.3, FRAC_PI_2, 1) (b = pi/2 = 1.5707963267948966)")],
      ["out"])
class Seqtaps:
    @staticmethod
    def jax(xp, lax, x, w):
        def step(c, xs):
            xm2, x0 = xs
            return c, xp.tanh(x0 * w - xm2)
        _, out = lax.scan(step, None, (x[:-2], x[2:]))
        return [out], xp.sum(out ** 2)

    @staticmethod
    def numpy(x, w):
        out = np.stack([np.tanh(x[t] * w - x[t - 2]) for t in range(2, 9)])
        return [out], np.sum(out ** 2)

    @staticmethod
    def theano(theano, T, x, w):
        out, _ = theano.scan(lambda xm2, x0, w: T.tanh(x0 * w - xm2),
                             sequences=[dict(input=x, taps=[-2, 0])], non_sequences=w)
        return [out], T.sum(out ** 2)


W_BACKWARDS = v((5, 3), 0.13, 0.2, 1.0)


@case("BACKWARDS", "go_backwards=True: acc_t = acc_{t-1} * x_t + 1 visiting x[4], x[3], ..., x[0], "
      "acc_{-1} = ones(3); out[k] is the k-th computed (out[0] = x[4] + 1); "
      "loss = sum(out * v((5,3), 0.13, 0.2, 1)), the weights a constant",
      [("x", v((5, 3), 0.45, 0.3, 1.0), "v((5,3), 0.45, 0.3, 1)")],
      ["out"])
class Backwards:
    @staticmethod
    def jax(xp, lax, x):
        def step(acc, xt):
            acc = acc * xt + 1.0
            return acc, acc
        _, out = lax.scan(step, xp.ones(3), x[::-1])
        return [out], xp.sum(out * W_BACKWARDS)

    @staticmethod
    def numpy(x):
        acc, outs = np.ones(3), []
        for t in reversed(range(5)):
            acc = acc * x[t] + 1.0
            outs.append(acc)
        out = np.stack(outs)
        return [out], np.sum(out * W_BACKWARDS)

    @staticmethod
    def theano(theano, T, x):
        out, _ = theano.scan(lambda xt, acc: acc * xt + 1.0, sequences=x,
                             outputs_info=T.constant(np.ones(3)), go_backwards=True)
        return [out], T.sum(out * W_BACKWARDS)


@case("NSTEPS_SHORT", "ACCUM's step with n_steps=4 over the 7-row x (the first 4 rows are used): "
      "acc_t = 0.9 * acc_{t-1} + x_t**2, acc_{-1} = a0; loss = sum(acc**2) "
      "(GRAD_X's rows 4..6 are zero)",
      [("x", v((7, 3), 0.37, 0.1, 1.0), "v((7,3), 0.37, 0.1, 1)"),
       ("a0", v((3,), 0.5, 0.2, 0.5), "v((3,), 0.5, 0.2, 0.5)")],
      ["acc"])
class NstepsShort:
    @staticmethod
    def jax(xp, lax, x, a0):
        def step(acc, xt):
            acc = 0.9 * acc + xt ** 2
            return acc, acc
        _, acc = lax.scan(step, a0, x[:4])
        return [acc], xp.sum(acc ** 2)

    @staticmethod
    def numpy(x, a0):
        acc, out = a0, []
        for t in range(4):
            acc = 0.9 * acc + x[t] ** 2
            out.append(acc)
        acc = np.stack(out)
        return [acc], np.sum(acc ** 2)

    @staticmethod
    def theano(theano, T, x, a0):
        acc, _ = theano.scan(lambda xt, acc: 0.9 * acc + xt ** 2, sequences=x, outputs_info=a0,
                             n_steps=4)
        return [acc], T.sum(acc ** 2)


def names(c):
    """The constant names of case ``c``, in the order of its results (outputs, loss, grads)."""
    return ([f"{c.name}_{o.upper()}" for o in c.outputs] + [f"{c.name}_LOSS"]
            + [f"{c.name}_GRAD_{n.upper()}" for n, _, _ in c.inputs])


# --------------------------------------------------------------------------------------
# writing the Rust file
# --------------------------------------------------------------------------------------
def rust_f64(x):
    """The shortest decimal that reads back to ``x`` (``repr``), as a Rust ``f64`` literal."""
    s = repr(float(x))
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x}")
    return s if any(ch in s for ch in ".e") else s + ".0"


def rust_const(name, doc, arr):
    arr = np.asarray(arr, dtype=np.float64)
    lits = [rust_f64(x) for x in arr.ravel()]
    lines, line = [], "   "
    for lit in lits:
        if len(line) + len(lit) + 2 > 108:
            lines.append(line.rstrip())
            line = "   "
        line += " " + lit + ","
    lines.append(line.rstrip())
    shape = ", ".join(str(d) for d in arr.shape)
    return (f"/// {doc}\n#[rustfmt::skip]\npub const {name}: &[f64] = &[\n" + "\n".join(lines) + "\n];\n"
            f"/// The shape of [`{name}`].\npub const {name}_SHAPE: &[usize] = &[{shape}];\n")


def wrap_doc(prefix, text, width=106):
    words, lines, line = text.split(), [], prefix
    for w in words:
        if len(line) + 1 + len(w) > width and line != prefix:
            lines.append(line)
            line = prefix
        line += (" " if line != prefix or prefix.endswith("/") else "") + w
    lines.append(line)
    return "\n".join(lines)


def existing_checks():
    """The cross-check lines of the current file's module doc."""
    if not OUT.exists():
        return []
    text = OUT.read_text().splitlines()
    if CHECKS_BEGIN not in text:
        return []
    out = []
    for line in text[text.index(CHECKS_BEGIN) + 1:]:
        if not line.startswith("//! - "):
            break
        out.append(line)
    return out


def render(results, generator, checks):
    head = [
        "//! Values and gradients of scan programs computed by JAX's lax.scan in float64 by",
        "//! benches/peers/make_scan_reference.py; regenerate with",
        "//! `peers/bin/python benches/peers/make_scan_reference.py` (a venv with jax and numpy, see",
        "//! benches/peers/README.md) and cross-check with",
        "//! `THEANO_FLAGS=blas.ldflags= th10/bin/python benches/peers/make_scan_reference.py \\",
        "//! --check theano --record` (and `--check pytensor`, `--check tensorlift`).",
        "//!",
        "//! The programs follow Theano 1.0's `scan`: outputs exclude the initial state, sequence taps",
        "//! `[-2, 0]` give `len - 2` steps, output taps `[-2, -1]` read `initial[0]` as `h[-2]`,",
        "//! `go_backwards` returns the outputs in the order they were computed, and `n_steps` shorter",
        "//! than a sequence uses its first rows. Inputs are rebuilt with [`v`]. For each case `CASE`:",
        "//! `CASE_<OUTPUT>` (each forward output), `CASE_LOSS` and `CASE_GRAD_<INPUT>` (the gradient",
        "//! of the loss with respect to each float input), row-major, each with its `_SHAPE`. The",
        "//! numbers are the shortest decimals that read back to the computed doubles (exact).",
        f"//! Generated with {generator}.",
        "//!",
        CHECKS_BEGIN,
    ] + (checks or ["//! - (none recorded)"]) + [
        "",
        "#![allow(dead_code)]",
        "",
        "/// The array of `shape` whose flat element `i` (row-major) is `s * sin(a * i + b)`: the",
        "/// inputs of the cases, as `(shape, data)`.",
        "pub fn v(shape: &[usize], a: f64, b: f64, s: f64) -> (Vec<usize>, Vec<f64>) {",
        "    let n: usize = shape.iter().product();",
        "    (shape.to_vec(), (0..n).map(|i| s * (a * i as f64 + b).sin()).collect())",
        "}",
        "",
    ]
    body = []
    for c in CASES:
        body.append(f"// ---- {c.name} " + "-" * max(4, 100 - len(c.name)))
        body.append(wrap_doc("//", f"{c.name}: {c.doc}. Inputs: "
                             + "; ".join(f"{n} = {f}" for n, _, f in c.inputs) + "."))
        body.append("")
        what = ([f"forward output `{o}`" for o in c.outputs] + ["the loss"]
                + [f"the gradient of the loss with respect to `{n}`" for n, _, _ in c.inputs])
        for name, w, arr in zip(names(c), what, results[c.name]):
            body.append(rust_const(name, f"{c.name}: {w}.", arr))
    return "\n".join(head + body).rstrip() + "\n"


def rustfmt_check(path):
    exe = shutil.which("rustfmt") or str(Path.home() / ".cargo" / "bin" / "rustfmt")
    if not Path(exe).exists():
        print("rustfmt not found: layout not checked")
        return
    r = subprocess.run([exe, "--edition", "2021", "--check", "--config-path", str(ROOT / "rustfmt.toml"),
                        str(path)], check=False, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[:2000] + r.stderr[:2000])
        raise SystemExit("the generated file is not rustfmt-clean")
    print("rustfmt --check: clean")


def max_abs(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def generate():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax

    results = {}
    for c in CASES:
        ins = [jnp.asarray(a) for _, a, _ in c.inputs]

        def loss_fn(*xs, c=c):
            return c.jax(jnp, lax, *xs)[1]

        outs, loss = jax.jit(lambda *xs, c=c: c.jax(jnp, lax, *xs))(*ins)
        grads = jax.jit(jax.grad(loss_fn, argnums=tuple(range(len(ins)))))(*ins)
        res = [np.asarray(o) for o in outs] + [np.asarray(loss)] + [np.asarray(g) for g in grads]
        for r in res:
            assert r.dtype == np.float64, r.dtype
        np_outs, np_loss = c.numpy(*[a for _, a, _ in c.inputs])
        dev = max(max_abs(a, b) for a, b in zip(res, list(np_outs) + [np_loss]))
        print(f"{c.name:13s} loss {float(loss): .17g}; numpy loop differs by {dev:.1e}")
        assert dev < TOL, (c.name, dev)
        results[c.name] = res
    gen = f"jax {jax.__version__}, numpy {np.__version__}"
    OUT.write_text(render(results, gen, existing_checks()))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(OUT.read_text().splitlines())} lines)")
    rustfmt_check(OUT)


def parse_rust():
    """``{const name: array}`` from the Rust file."""
    text = OUT.read_text()
    vals = {m.group(1): np.array([float(t) for t in m.group(2).replace("\n", " ").split(",") if t.strip()])
            for m in re.finditer(r"pub const (\w+): &\[f64\] = &\[(.*?)\];", text, re.DOTALL)}
    shapes = {m.group(1): tuple(int(t) for t in m.group(2).split(",") if t.strip())
              for m in re.finditer(r"pub const (\w+)_SHAPE: &\[usize\] = &\[(.*?)\];", text, re.DOTALL)}
    return {k: a.reshape(shapes[k]) for k, a in vals.items()}


#: the module of each library's compiled loop of ``Scan`` (its Cython ``scan_perform``)
SCAN_PERFORM_EXT = {"theano": "theano.scan_module.scan_perform_ext",
                    "pytensor": "pytensor.scan.scan_perform_ext"}


def scan_python_loop_fallback(lib):
    """Whether ``lib``'s ``Scan`` runs its Python loop (``Scan.execute``, the same semantics,
    the inner function still compiled) because its Cython loop does not build here. Theano
    1.0.5's and PyTensor 2.8's pre-generated ``scan_perform.c`` do not compile against
    Python >= 3.11 (``longintrepr.h``, ``PyCode_New``, ``PyFrameObject``): the failed build
    raises from inside ``Scan.make_thunk`` instead of the ``ImportError`` it falls back on,
    so the module is marked missing (``sys.modules[name] = None``) and ``Scan`` takes its own
    fallback for a missing extension. Call before compiling a function with a scan."""
    import importlib

    name = SCAN_PERFORM_EXT.get(lib)
    if name is None:
        return False
    if name in sys.modules:
        return sys.modules[name] is None
    if lib == "theano" and sys.version_info >= (3, 11):
        sys.modules[name] = None     # known not to build: skip the half-minute attempt
        return True
    try:
        importlib.import_module(name)
        return False
    except ImportError:
        return True
    except Exception:  # noqa: BLE001 (the C compiler's failure)
        sys.modules[name] = None
        return True


def check(lib, record):
    import importlib

    warnings.simplefilter("ignore", DeprecationWarning)  # PyTensor 3: scan's return signature
    ref = parse_rust()
    theano = importlib.import_module(lib)
    python_loop = scan_python_loop_fallback(lib)
    T = importlib.import_module(lib + ".tensor")
    version = getattr(theano, "__version__", "?")
    if not hasattr(theano, "scan"):
        raise SystemExit(f"{lib} {version} has no scan")
    worst_lib, worst_np = 0.0, 0.0
    for c in CASES:
        want = [ref[n] for n in names(c)]
        np_outs, np_loss = c.numpy(*[a for _, a, _ in c.inputs])
        d_np = max(max_abs(a, b) for a, b in zip(list(np_outs) + [np_loss], want))
        worst_np = max(worst_np, d_np)
        syms = [[T.dscalar, T.dvector, T.dmatrix, T.dtensor3][a.ndim](n) for n, a, _ in c.inputs]
        outs, loss = c.theano(theano, T, *syms)
        grads = T.grad(loss, syms)
        f = theano.function(syms, list(outs) + [loss] + list(grads))
        got = f(*[a for _, a, _ in c.inputs])
        devs = [max_abs(g, w) for g, w in zip(got, want)]
        d = max(devs)
        worst_lib = max(worst_lib, d)
        print(f"{c.name:13s} {lib} {version}: {d:.1e} ("
              + ", ".join(f"{n[len(c.name) + 1:].lower()} {x:.0e}" for n, x in zip(names(c), devs))
              + f"); numpy loop: {d_np:.1e}")
    print(f"largest absolute difference: {lib} {version} {worst_lib:.2e}, numpy loops {worst_np:.2e}")
    if record:
        lines = [ln for ln in existing_checks() if not ln.startswith(f"//! - {lib} {version} ")
                 and not ln.startswith("//! - numpy loops") and not ln.startswith("//! - (none")]
        how = " (its Python loop)" if python_loop else ""
        lines.append(f"//! - {lib} {version} (`{lib}.scan`{how}, `T.grad`; values, loss and gradients): "
                     f"{worst_lib:.1e}")
        lines.append(f"//! - numpy loops (values and loss; numpy {np.__version__}): {worst_np:.1e}")
        text = OUT.read_text().splitlines()
        i = text.index(CHECKS_BEGIN) + 1
        j = i
        while j < len(text) and text[j].startswith("//! - "):
            j += 1
        OUT.write_text("\n".join(text[:i] + lines + text[j:]) + "\n")
        print(f"recorded in {OUT}")
    return max(worst_lib, worst_np)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", metavar="LIB", help="compare LIB's scan and T.grad with the file "
                    "(theano, pytensor, tensorlift)")
    ap.add_argument("--record", action="store_true", help="keep the --check figures in the module doc")
    args = ap.parse_args()
    if args.check:
        worst = check(args.check, args.record)
        sys.exit(0 if worst < TOL else 1)
    generate()


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
