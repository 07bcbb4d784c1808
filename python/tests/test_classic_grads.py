"""The gradients of the classic Theano programs (logistic regression, the MLP, LeNet), taken
by ``T.grad``, against JAX's in float64 (``data/classic_grads.json``, written by
``benches/peers/make_classic_grads.py``; Theano 1.0.5 and PyTensor agree with it to 1e-15,
see its ``cross_checks``).

The programs are the tutorials' code (``classic_models.py``), the same batch and parameters
are rebuilt from the file's seeds, and the cost, every gradient's norm and its dot products
with 8 probe arrays must agree to 1e-10 (relative). A program whose ops tensorlift does not
have yet (``conv2d``, ``pool_2d``, advanced indexing) is skipped, with the reason; the test
runs by itself once they are there.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import classic_models as cm

DATA = json.loads((Path(__file__).parent / "data" / "classic_grads.json").read_text())
RTOL = 1e-10


def check_against_jax(name, mode, one_hot):
    pytest.importorskip("tensorlift")
    B = cm.Backend("tensorlift")
    why = cm.missing_feature(B, name)
    if why and not (one_hot and why.startswith("no advanced indexing")):
        pytest.skip(why)
    entry = DATA["programs"][name]
    x, y, params, probes = cm.reference_problem(entry)
    try:
        inputs, outputs = cm.cost_and_grads_graph(B, name, entry["batch"], params, one_hot=one_hot)
    except NotImplementedError as e:
        pytest.skip(f"tensorlift cannot build {name} yet: {e}")
    f = B.theano.function(inputs, outputs, mode=mode)
    out = f(x, cm.onehot(y) if one_hot else y)
    assert len(out) == 1 + len(params)
    for g, p in zip(out[1:], params):
        assert np.shape(g) == p.shape
    dev = cm.deviations(entry, out[0], out[1:], probes)
    bad = {k: v for k, v in dev.items() if not v <= RTOL}
    assert not bad, f"{name} ({mode}): relative deviations from JAX above {RTOL}: {bad}"


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("name", cm.PROGRAMS)
def test_grads_match_jax(name, mode):
    """The programs as written: the likelihood ``-mean(log(p)[arange(n), y])``."""
    check_against_jax(name, mode, one_hot=False)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("name", cm.PROGRAMS)
def test_grads_match_jax_with_one_hot_targets(name, mode):
    """The same costs with the likelihood ``-mean(sum(Y * log(p), axis=1))`` of one-hot
    targets (the same values, no advanced indexing): everything else of the programs."""
    check_against_jax(name, mode, one_hot=True)


def test_reference_file_is_consistent():
    """The stored recipe rebuilds data whose hand-written numpy backpropagation gives the
    stored JAX numbers (the file and ``classic_models`` describe the same problems)."""
    for name, entry in DATA["programs"].items():
        assert list(entry["grads"]) == cm.PARAM_NAMES[name]
        x, y, params, probes = cm.reference_problem(entry)
        assert x.shape == (entry["batch"], 784) and y.dtype == np.int32
        cost, grads = cm.np_cost_and_grads(name, x, y, params)
        dev = cm.deviations(entry, cost, grads, probes)
        assert max(dev.values()) < 1e-12, (name, dev)
