#!/usr/bin/env python3
"""Writes ``python/tests/data/classic_grads.json``: the cost and the gradients of the three
classic Theano programs (logistic regression, the MLP, LeNet) computed by JAX in float64,
and checks them against a Theano-like library.

The programs and their data are those of ``python/tests/classic_models.py``: for each
program, fixed parameters and one batch drawn with ``numpy.random.default_rng(data_seed)``
(batch 20 of 784 features for the logistic regression and the MLP, batch 4 of 1x28x28 for
LeNet). Every gradient is stored compactly: its shape, its Frobenius norm, and its dot
products with 8 standard-normal probe arrays drawn with ``default_rng(probe_seed)`` (one
``(8, *shape)`` array per parameter, in the order of the parameters). The seeds are in the
file, beside the numbers.

Usage::

    python make_classic_grads.py                 # JAX (jax_enable_x64): write the file
    python make_classic_grads.py --check pytensor --record
    python make_classic_grads.py --check theano  --record

``--check LIB`` computes the same costs and gradients with ``T.grad`` of the library
``LIB`` (``pytensor``, ``theano``, ``tensorlift``) and prints the largest relative deviation
from the stored JAX values (the metric of ``classic_models.deviations``); ``--record`` keeps
that figure in the file's ``cross_checks``. It runs in any environment where ``LIB`` is
installed (JAX is not needed).
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "tests"))

import numpy as np  # noqa: E402

import classic_models as cm  # noqa: E402

OUT = ROOT / "python" / "tests" / "data" / "classic_grads.json"

#: program -> (batch, data seed, probe seed)
RECIPES = {"logreg": (20, 1, 1001), "mlp": (20, 2, 1002), "lenet": (4, 3, 1003)}
PROBES = 8


def generate():
    import jax
    jax.config.update("jax_enable_x64", True)
    programs = {}
    for name, (batch, data_seed, probe_seed) in RECIPES.items():
        entry = {"program": name, "batch": batch, "data_seed": data_seed, "probe_seed": probe_seed,
                 "probe_count": PROBES}
        if name == "mlp":
            entry.update(L1_reg=cm.MLP_L1, L2_reg=cm.MLP_L2)
        x, y, params, probes = cm.reference_problem(entry)
        cost, grads = jax.value_and_grad(cm.jax_cost(name))(params, x, y)
        entry["cost"] = float(cost)
        entry["grads"] = {pn: cm.summarize(np.asarray(g), ps)
                          for pn, g, ps in zip(cm.PARAM_NAMES[name], grads, probes)}
        # The hand-written numpy backpropagation agrees (a check of the recipe, not stored).
        np_cost, np_grads = cm.np_cost_and_grads(name, x, y, params)
        dev = max(cm.deviations(entry, np_cost, np_grads, probes).values())
        print(f"{name}: cost {entry['cost']:.17g}; numpy backprop deviates by {dev:.2e}")
        assert dev < 1e-12, (name, dev)
        programs[name] = entry
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    data = {
        "about": "Cost and gradients of the classic Theano programs (python/tests/classic_models.py) "
                 "computed by JAX in float64, written by benches/peers/make_classic_grads.py. Each "
                 "gradient: shape, Frobenius norm, and dot products with probe_count standard-normal "
                 "probes from numpy.random.default_rng(probe_seed), one (probe_count, *shape) array per "
                 "parameter in order. Data: classic_models.make_problem(program, batch, data_seed).",
        "generator": {"jax": jax.__version__, "numpy": np.__version__, "dtype": "float64"},
        "programs": programs,
        "cross_checks": old.get("cross_checks", {}),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


def check(lib, record):
    data = json.loads(OUT.read_text())
    B = cm.Backend(lib)
    worst = {}
    for name, entry in data["programs"].items():
        x, y, params, probes = cm.reference_problem(entry)
        try:
            f = cm.cost_and_grads_function(B, name, x, y, params)
        except NotImplementedError as e:
            print(f"{name}: not built by {lib} {B.version}: {e}")
            continue
        out = f()
        dev = cm.deviations(entry, out[0], out[1:], probes)
        worst[name] = max(dev.values())
        print(f"{name}: {lib} {B.version} deviates from JAX by at most {worst[name]:.2e} "
              f"(" + ", ".join(f"{k} {v:.1e}" for k, v in dev.items()) + ")")
    if record and worst:
        data["cross_checks"][f"{lib} {B.version}"] = {
            "max_relative_deviation": {k: float(f"{v:.3g}") for k, v in worst.items()},
            "linker": str(getattr(B.theano.config, "linker", "?")),
        }
        OUT.write_text(json.dumps(data, indent=1) + "\n")
        print(f"recorded in {OUT}")
    return max(worst.values(), default=0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", metavar="LIB", help="compare LIB's T.grad to the stored JAX values")
    ap.add_argument("--record", action="store_true", help="keep the --check figures in the file")
    args = ap.parse_args()
    if args.check:
        worst = check(args.check, args.record)
        sys.exit(0 if worst <= 1e-10 else 1)
    generate()


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
