#!/usr/bin/env python3
"""classic.py -- the classic Theano programs as peer workloads.

The training steps of the three deeplearning.net programs -- logistic regression
(``logistic_sgd.py``), the MLP (``mlp.py``: tanh 500, softmax 10, L1 and L2 penalties) and
LeNet (``convolutional_mlp.py``: conv 20x5x5, pool 2x2, tanh, conv 50x5x5, pool 2x2, tanh,
tanh 500, softmax 10) -- one SGD update of every parameter on a minibatch of 500 taken from
shared data through ``givens`` and a symbolic ``index``, plus the forward ``conv2d`` of each
LeNet layer, timed on:

* **numpy**: the hand-written backpropagation (``python/tests/classic_models.py``);
* **JAX**: ``jax.jit`` of a ``value_and_grad`` step, the parameters passed and returned, the
  minibatch a ``dynamic_slice`` of the data by the index;
* **Theano-like libraries** running the same Theano code (``classic_models.build``):
  **tensorlift** (``FAST_RUN``), **PyTensor** (3.x: C backend ``CVM`` and the Numba backend
  ``NUMBA``, as ``peers_bench.py``; 2.8: ``FAST_RUN``, its C backend -- the last PyTensor with
  ``conv2d`` and ``pool_2d``), and **Theano 1.0** (``FAST_RUN``) where installed.

Theano 1.0.5 cannot probe numpy >= 1.20 for its BLAS flags: run it with
``THEANO_FLAGS=blas.ldflags=`` (it then calls BLAS through numpy).

A library that lacks an op (tensorlift without ``conv2d`` or advanced indexing, PyTensor 3
without ``conv2d``) is recorded as a failure with its error; the others still run. Each
environment times what it has: run the script in each and pass all the JSON files to
``--report``.

Sections (``--only``): ``LR``, ``MLP``, ``LENET`` (training steps, float64 and float32 unless
``--dtypes`` says otherwise), ``CONV`` (the two conv2d forwards, float64), ``RNG`` (1e7 float64
uniforms: NumPy's ``Generator.random(10**7)`` beside ``MRG_RandomStreams.uniform``),
``SCAN_RNN`` (an Elman RNN of 1000 steps, batch 32, input 64, hidden 64, float64:
``h_t = tanh(x_t W + h_{t-1} U + b)``, ``h_{-1} = 0``, loss ``sum(h**2) / h.size``; one call of
a compiled function returning the loss and its gradients with respect to ``W``, ``U``, ``b``:
the Theano program ``theano.scan`` + ``T.grad`` (the same code for every library with Theano's
API; tensorlift without ``scan`` is recorded as a failure), ``jit(value_and_grad)`` through
``lax.scan``, and numpy's hand-written backpropagation through time, the reference every peer
is checked against: loss within 1e-10, gradients 1e-9 relative. Theano 1.0.5's and PyTensor
2.8's Cython scan loop does not build on Python >= 3.11: their ``Scan`` then runs its Python
loop, and the peer's name says so). ``--one-hot``
writes the Theano programs' likelihood for one-hot targets (the same values without advanced
indexing; numpy and JAX are unchanged), its cases named "one-hot NLL". Parameters and
data: ``classic_models.make_problem`` with seeds 11 (LR), 12 (MLP), 13 (LENET), 14 (CONV);
4 minibatches of 500 (2000 rows of 784 pixels), the index cycling over them. Learning rates:
0.13 (logistic regression, as the tutorial), 0.1 (MLP, LeNet); the MLP's L1 and L2 weights
are both 1e-4.

Timing method (``peers_bench.py``'s): every peer of a case is prepared (built, compiled,
called once on minibatch 0 and its updated parameters checked against the numpy reference
step: 1e-9 relative in float64, 1e-3 in float32), then the peers are timed round-robin,
``reps`` samples each, every sample a batch of k calls lasting at least 20 ms, divided by k.
Reported: median / min / max per call. Every library runs on one thread: the thread
variables are set before any import (OMP, OpenBLAS, MKL, Numba, XLA, Rayon and
``TENSORLIFT_NUM_THREADS``). The JSON rows are those of ``peers_bench.py``.

Usage::

    python classic.py --out results/classic.json          # everything
    python classic.py --only LR,CONV --dtypes float64 --quick
    python classic.py --report a.json b.json              # markdown tables
"""

import os

# One thread for everyone, before numpy, JAX, PyTensor or tensorlift is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS",
             "TENSORLIFT_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import classic_models as cm  # noqa: E402
from make_scan_reference import scan_python_loop_fallback  # noqa: E402

warnings.simplefilter("ignore")
perf = time.perf_counter
RESULTS = []          # one dict per (workload, case, peer)
FAILURES = []         # one dict per failed peer
QUICK = False
TARGET_BATCH_S = 0.02
BATCH, N_BATCHES = 500, 4
STEPS = {"LR": ("logreg", 0.13, 11), "MLP": ("mlp", 0.1, 12), "LENET": ("lenet", 0.1, 13)}
TITLES = {"LR": "logistic regression training step", "MLP": "MLP training step",
          "LENET": "LeNet training step", "CONV": "LeNet conv2d forward",
          "SCAN_RNN": "Elman RNN through scan, loss and gradients", "RNG": "random draws"}
RNN_STEPS, RNN_BATCH, RNN_IN, RNN_HIDDEN = 1000, 32, 64, 64


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def fmt_t(s):
    if s is None:
        return "-"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def R(n):
    """repetition count (2 with --quick)."""
    return 2 if QUICK else n


# --------------------------------------------------------------------------------------
# timing core
# --------------------------------------------------------------------------------------
class Peer:
    """A contestant: ``setup()`` returns ``(fn, ok)``, ``fn`` a zero-argument callable running
    the workload once, ``ok`` whether its first result matched the reference."""

    def __init__(self, name, setup, note=""):
        self.name, self.setup, self.note = name, setup, note
        self.fn = None
        self.k = 1
        self.samples, self.cpu, self.faults = [], [], []
        self.ok = None
        self.setup_s = None


def run_case(workload, case, peers, reps, flops=None, extra=None):
    """Prepare every peer (a failure is recorded, not fatal), then time them round-robin."""
    prepared = []
    load0 = os.getloadavg()[0]
    for p in peers:
        try:
            t0 = perf()
            p.fn, p.ok = p.setup()
            p.setup_s = perf() - t0
            t0 = perf()
            p.fn()
            dt = max(perf() - t0, 1e-9)
            p.k = 1 if dt >= TARGET_BATCH_S else max(1, int(TARGET_BATCH_S / dt))
            prepared.append(p)
            log(f"  [{workload}/{case}] {p.name}: ready in {p.setup_s:.1f} s, ok={p.ok}")
        except Exception as e:  # noqa: BLE001 (a peer that cannot run is reported)
            err = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
            FAILURES.append(dict(workload=workload, case=case, peer=p.name, error=err))
            log(f"  [{workload}/{case}] {p.name} FAILED: {err}")
    pt_ = time.process_time

    def minflt():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(reps):
        for p in prepared:
            fn, k = p.fn, p.k
            f0, c0, t0 = minflt(), pt_(), perf()
            for _ in range(k):
                fn()
            t1 = perf()
            p.cpu.append((pt_() - c0) / (t1 - t0))
            p.faults.append((minflt() - f0) / k)
            p.samples.append((t1 - t0) / k)
    load1 = os.getloadavg()[0]
    for p in prepared:
        s = p.samples
        row = dict(workload=workload, case=case, peer=p.name, median_s=statistics.median(s),
                   min_s=min(s), max_s=max(s), reps=len(s), inner=p.k, ok=p.ok,
                   setup_s=p.setup_s, note=p.note, cores_used=statistics.median(p.cpu),
                   page_faults_per_call=statistics.median(p.faults), loadavg_1m=(load0, load1))
        if flops:
            row["flops"] = flops
        if extra:
            row.update(extra)
        RESULTS.append(row)
        log(f"  [{workload}/{case}] {p.name:34s} median {fmt_t(row['median_s'])}"
            f"  (min {fmt_t(row['min_s'])}, max {fmt_t(row['max_s'])}, k={p.k}, "
            f"cpu={row['cores_used']:.2f}, ok={p.ok})")
        p.fn = None
    gc.collect()


# --------------------------------------------------------------------------------------
# the peers
# --------------------------------------------------------------------------------------
M = {}


def imports():
    """The libraries of this environment: ``M["jax"]`` and one ``classic_models.Backend``
    per Theano-like library (``M["theano-like"]``), the missing ones recorded."""
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy  # noqa: F401
        M["jax"] = jax
    except Exception as e:  # noqa: BLE001
        FAILURES.append(dict(workload="import", case="", peer="jax", error=repr(e)[:300]))
        log(f"import jax failed: {e!r}")
    M["theano-like"] = []
    for name in ("tensorlift", "pytensor", "theano"):
        try:
            M["theano-like"].append(cm.Backend(name))
        except Exception as e:  # noqa: BLE001
            FAILURES.append(dict(workload="import", case="", peer=name, error=repr(e)[:300]))
            log(f"import {name} failed: {e!r}")


def modes(B):
    """``[(peer name, mode)]`` of a Theano-like library."""
    if B.name == "pytensor":
        major = int(B.version.split(".")[0])
        if major >= 3 or B.version.startswith("2.9") or B.version.startswith("2.1"):
            return [("pytensor-C (CVM)", "CVM"), ("pytensor-numba (NUMBA)", "NUMBA")]
        return [(f"pytensor-{B.version} C (FAST_RUN)", "FAST_RUN")]
    if B.name == "theano":
        return [(f"theano-{B.version} C (FAST_RUN)", "FAST_RUN")]
    return [(f"{B.name} (FAST_RUN)", "FAST_RUN")]


def close(got, ref, rtol):
    """Every array of ``got`` equals ``ref``'s to ``rtol`` relative to its largest value."""
    return all(np.asarray(g).shape == r.shape and
               float(np.max(np.abs(np.asarray(g, dtype=np.float64) - r))) <= rtol * float(np.max(np.abs(r)))
               for g, r in zip(got, ref))


# --------------------------------------------------------------------------------------
# training steps
# --------------------------------------------------------------------------------------
def theano_train_model(B, name, lr, x_all, y_all, params0, mode, one_hot=False):
    """The tutorial's ``train_model``: ``train_model(index)`` updates the shared parameters
    on ``train_set_x[index * batch:(index + 1) * batch]`` (and its labels) and returns the
    cost. Returns ``(train_model, shared parameters)``."""
    theano = B.theano
    dtype = str(x_all.dtype)
    old_floatx = theano.config.floatX
    theano.config.floatX = dtype  # as a float32 Theano program runs: Python floats autocast to it
    try:
        return _train_model(B, name, lr, x_all, y_all, params0, mode, dtype, one_hot)
    finally:
        theano.config.floatX = old_floatx


def _train_model(B, name, lr, x_all, y_all, params0, mode, dtype, one_hot):
    theano, T = B.theano, B.T
    batch_size = BATCH
    train_set_x = theano.shared(x_all, borrow=True)
    if one_hot:
        train_set_y = theano.shared(cm.onehot(y_all, dtype), borrow=True)
        y = T.matrix("y", dtype=dtype)
    else:
        train_set_y = T.cast(theano.shared(y_all.astype(dtype), borrow=True), "int32")
        y = T.ivector("y")
    params = [theano.shared(p.copy(), name=n) for p, n in zip(params0, cm.PARAM_NAMES[name])]
    index = T.lscalar()
    x = T.matrix("x", dtype=dtype)
    cost, _ = cm.build(B, name, x, y, params, batch_size=batch_size, one_hot=one_hot)
    grads = T.grad(cost, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    train_model = theano.function(
        [index], cost, updates=updates, mode=mode,
        givens={x: train_set_x[index * batch_size:(index + 1) * batch_size],
                y: train_set_y[index * batch_size:(index + 1) * batch_size]})
    return train_model, params


def jax_train_step(name, lr):
    """``step(params, X, Y, index) -> (params, cost)``, jitted."""
    jax = M["jax"]
    cost = cm.jax_cost(name)

    def step(params, X, Y, index):
        xb = jax.lax.dynamic_slice_in_dim(X, index * BATCH, BATCH)
        yb = jax.lax.dynamic_slice_in_dim(Y, index * BATCH, BATCH)
        c, g = jax.value_and_grad(cost)(params, xb, yb)
        return [p - lr * gp for p, gp in zip(params, g)], c
    return jax.jit(step)


def cycler():
    """0, 1, ..., N_BATCHES - 1, 0, 1, ...: the minibatch of each call."""
    state = [N_BATCHES - 1]

    def nxt():
        state[0] = (state[0] + 1) % N_BATCHES
        return state[0]
    return nxt


def bench_step(wl, dtype, one_hot=False):
    name, lr, seed = STEPS[wl]
    case = f"{name} step B={BATCH} {dtype}" + (" one-hot NLL" if one_hot else "")
    log(f"== {wl}: {case}")
    x64, y_all, p64 = cm.make_problem(name, BATCH, seed, n_batches=N_BATCHES)
    _, g0 = cm.np_cost_and_grads(name, x64[:BATCH], y_all[:BATCH], p64)
    ref = [p - lr * g for p, g in zip(p64, g0)]   # one step on minibatch 0, float64
    rtol = 1e-9 if dtype == "float64" else 1e-3
    x_all = x64.astype(dtype)
    params0 = [p.astype(dtype) for p in p64]

    def np_setup():
        P = [p.copy() for p in params0]
        nxt = cycler()

        def call():
            i = nxt()
            c, g = cm.np_cost_and_grads(name, x_all[i * BATCH:(i + 1) * BATCH],
                                        y_all[i * BATCH:(i + 1) * BATCH], P)
            for p, gp in zip(P, g):
                p -= lr * gp
            return c
        call()
        return call, close(P, ref, rtol)
    peers = [Peer("numpy (hand-written grads)", np_setup)]

    if "jax" in M:
        def jax_setup():
            jax = M["jax"]
            step = jax_train_step(name, lr)
            X, Y = jax.device_put(x_all), jax.device_put(y_all)
            st = [[jax.device_put(p) for p in params0]]
            nxt = cycler()

            def call():
                st[0], c = step(st[0], X, Y, nxt())
                return c.block_until_ready()
            call()
            return call, close(st[0], ref, rtol)
        peers.append(Peer("jax (jit step)", jax_setup))

    for B in M["theano-like"]:
        for pname, mode in modes(B):
            def tl_setup(B=B, mode=mode):
                train_model, params = theano_train_model(B, name, lr, x_all, y_all, params0, mode, one_hot)
                nxt = cycler()

                def call():
                    return train_model(nxt())
                call()
                return call, close([p.get_value() for p in params], ref, rtol)
            peers.append(Peer(pname, tl_setup, note="the Theano program: givens, symbolic index"
                              + (", one-hot targets" if one_hot else "")))
    run_case(wl, case, peers, reps=R(7 if wl == "LENET" else 15), flops=step_flops(name),
             extra={"dtype": dtype, "batch": BATCH, "one_hot": one_hot})


def conv_flops(n, c, h, w, o, k):
    return 2 * n * o * (h - k + 1) * (w - k + 1) * c * k * k


def step_flops(name):
    """Multiply-adds of the forward pass (x2) times 3 (forward and backward): indicative."""
    dense = {"logreg": [(784, 10)], "mlp": [(784, 500), (500, 10)],
             "lenet": [(800, 500), (500, 10)]}[name]
    fwd = sum(2 * BATCH * a * b for a, b in dense)
    if name == "lenet":
        fwd += conv_flops(BATCH, 1, 28, 28, 20, 5) + conv_flops(BATCH, 20, 12, 12, 50, 5)
    return 3 * fwd


# --------------------------------------------------------------------------------------
# conv2d forward
# --------------------------------------------------------------------------------------
def bench_conv():
    rng = np.random.default_rng(14)
    for layer, (c, h, o) in enumerate([(1, 28, 20), (20, 12, 50)]):
        case = f"layer{layer} conv2d {BATCH}x{c}x{h}x{h} * {o}x{c}x5x5 float64"
        log(f"== CONV: {case}")
        x = rng.random((BATCH, c, h, h))
        W = rng.uniform(-0.1, 0.1, (o, c, 5, 5))
        ref = cm.np_conv2d(x, W)
        peers = [Peer("numpy (sliding windows + einsum)", lambda x=x, W=W: (
            (lambda: cm.np_conv2d(x, W)), True))]
        if "jax" in M:
            def jax_setup(x=x, W=W, ref=ref):
                jax = M["jax"]
                f = jax.jit(lambda x, W: jax.lax.conv_general_dilated(
                    x, W[:, :, ::-1, ::-1], (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")))
                xj, Wj = jax.device_put(x), jax.device_put(W)
                out = f(xj, Wj)
                return (lambda: f(xj, Wj).block_until_ready()), close([out], [ref], 1e-10)
            peers.append(Peer("jax (jit lax.conv, filters flipped)", jax_setup))
        for B in M["theano-like"]:
            for pname, mode in modes(B):
                def tl_setup(B=B, mode=mode, x=x, W=W, ref=ref):
                    if B.conv2d is None:
                        raise NotImplementedError(f"{B.name} has no conv2d: {B.missing.get('conv2d')}")
                    T = B.T
                    xs, Ws = T.tensor4("x"), T.tensor4("W")
                    out = B.conv2d(xs, Ws, input_shape=x.shape, filter_shape=W.shape)
                    f = B.theano.function([xs, Ws], out, mode=mode)
                    return (lambda: f(x, W)), close([f(x, W)], [ref], 1e-10)
                peers.append(Peer(pname, tl_setup))
        run_case("CONV", case, peers, reps=R(9), flops=conv_flops(BATCH, c, h, h, o, 5),
                 extra={"dtype": "float64", "batch": BATCH})


def bench_rng():
    """1e7 float64 uniforms: NumPy's ``Generator.random`` (PCG64) beside a compiled function
    returning ``MRG_RandomStreams(1).uniform((10**7,))`` (its state advanced by the default
    update at every call)."""
    import importlib

    n = 10 ** 7
    case = "uniform float64 1e7"
    log(f"== RNG: {case}")

    def np_setup():
        g = np.random.default_rng(1)
        out = g.random(n)
        return (lambda: g.random(n)), bool(abs(out.mean() - 0.5) < 1e-3)

    peers = [Peer("numpy Generator.random (PCG64)", np_setup)]
    for B in M["theano-like"]:
        for pname, mode in modes(B):
            def tl_setup(B=B, mode=mode):
                try:
                    rng_mrg = importlib.import_module(B.theano.__name__ + ".sandbox.rng_mrg")
                    draw = rng_mrg.MRG_RandomStreams(1).uniform((n,), dtype="float64")
                except ModuleNotFoundError:
                    # PyTensor has no MRG streams any more: its own RandomStream (NumPy's
                    # generator behind a shared state with a default update).
                    utils = importlib.import_module(B.theano.__name__ + ".tensor.random.utils")
                    draw = utils.RandomStream(1).uniform(size=(n,), dtype="float64")
                f = B.theano.function([], draw, mode=mode)
                out = f()
                return f, bool(out.shape == (n,) and abs(out.mean() - 0.5) < 1e-3)
            peers.append(Peer(f"{pname} RandomStreams.uniform", tl_setup))
    run_case("RNG", case, peers, reps=R(9), extra={"dtype": "float64", "n": n})


# --------------------------------------------------------------------------------------
# the Elman RNN through scan
# --------------------------------------------------------------------------------------
def rnn_problem(steps=RNN_STEPS, batch=RNN_BATCH, n_in=RNN_IN, hidden=RNN_HIDDEN, seed=15):
    """``x`` (steps, batch, n_in) and the parameters ``W`` (n_in, hidden), ``U`` (hidden,
    hidden), ``b`` (hidden,): standard normal ``x``, ``W`` scaled by ``1/sqrt(n_in)``, ``U`` by
    ``0.9/sqrt(hidden)`` (spectral radius near 0.9), ``b`` by 0.1."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, n_in))
    W = rng.standard_normal((n_in, hidden)) / math.sqrt(n_in)
    U = rng.standard_normal((hidden, hidden)) * (0.9 / math.sqrt(hidden))
    b = 0.1 * rng.standard_normal(hidden)
    return x, W, U, b


def np_rnn_loss_and_grads(x, W, U, b):
    """The hand-written backpropagation through time: ``h_t = tanh(x_t W + h_{t-1} U + b)``,
    ``h_{-1} = 0``, loss ``sum(h**2) / h.size``; returns ``[loss, dW, dU, db]``."""
    steps, batch, _ = x.shape
    h = np.empty((steps, batch, W.shape[1]))
    prev = np.zeros((batch, W.shape[1]))
    for t in range(steps):
        prev = h[t] = np.tanh(x[t] @ W + prev @ U + b)
    loss = np.sum(h ** 2) / h.size
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    carry = np.zeros((batch, W.shape[1]))
    for t in reversed(range(steps)):
        da = (2.0 / h.size * h[t] + carry) * (1.0 - h[t] ** 2)
        dW += x[t].T @ da
        if t > 0:
            dU += h[t - 1].T @ da
        db += da.sum(0)
        carry = da @ U.T
    return [np.float64(loss), dW, dU, db]


def theano_rnn(theano, T, mode):
    """The Theano program (the same code for every library with Theano's API): ``f(x, W, U, b)
    -> [loss, dW, dU, db]`` with ``h = scan(step, sequences=x, outputs_info=zeros,
    non_sequences=[W, U, b])`` and ``T.grad``."""
    x, W, U, b = T.dtensor3("x"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    h0 = T.zeros((x.shape[1], W.shape[1]), dtype="float64")

    def step(x_t, h_prev, W, U, b):
        return T.tanh(T.dot(x_t, W) + T.dot(h_prev, U) + b)

    h, _ = theano.scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    loss = T.sum(h ** 2) / T.cast(h.size, "float64")
    return theano.function([x, W, U, b], [loss] + T.grad(loss, [W, U, b]), mode=mode)


def jax_rnn():
    """``jit(value_and_grad)`` of the loss through ``lax.scan``: ``f(x, W, U, b) -> (loss,
    (dW, dU, db))``."""
    jax = M["jax"]
    jnp = jax.numpy

    def loss(W, U, b, x):
        def step(h, x_t):
            h = jnp.tanh(x_t @ W + h @ U + b)
            return h, h
        _, h = jax.lax.scan(step, jnp.zeros((x.shape[1], W.shape[1]), x.dtype), x)
        return jnp.sum(h ** 2) / h.size
    vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
    return lambda x, W, U, b: vg(W, U, b, x)


def rnn_ok(got, ref):
    """The loss within 1e-10 of the reference's, the gradients within 1e-9 relative to their
    largest element."""
    loss, grads = float(got[0]), got[1:]
    return bool(abs(loss - float(ref[0])) <= 1e-10) and close(grads, ref[1:], 1e-9)


def bench_scan_rnn():
    """One call of a compiled function returning the loss and its gradients with respect to
    ``W``, ``U`` and ``b`` of a ``RNN_STEPS``-step Elman RNN (forward and backward through the
    scan), float64; every peer checked against the numpy backpropagation."""
    x, W, U, b = rnn_problem()
    case = f"{RNN_STEPS} steps, batch {RNN_BATCH}, input {RNN_IN}, hidden {RNN_HIDDEN}, float64"
    log(f"== SCAN_RNN: {case}")
    ref = np_rnn_loss_and_grads(x, W, U, b)
    log(f"  numpy loss {float(ref[0]):.17g}")
    peers = [Peer("numpy (hand-written BPTT)", lambda: (
        (lambda: np_rnn_loss_and_grads(x, W, U, b)), True))]
    if "jax" in M:
        def jax_setup():
            jax = M["jax"]
            f = jax_rnn()
            args = [jax.device_put(a) for a in (x, W, U, b)]
            loss, grads = f(*args)
            return ((lambda: jax.block_until_ready(f(*args))),
                    rnn_ok([np.asarray(loss)] + [np.asarray(g) for g in grads], ref))
        peers.append(Peer("jax (jit value_and_grad, lax.scan)", jax_setup))
    for B in M["theano-like"]:
        python_loop = scan_python_loop_fallback(B.name)
        for pname, mode in modes(B):
            def tl_setup(B=B, mode=mode):
                if not hasattr(B.theano, "scan"):
                    raise NotImplementedError(f"{B.name} {B.version} has no scan yet")
                f = theano_rnn(B.theano, B.T, mode)
                return (lambda: f(x, W, U, b)), rnn_ok(f(x, W, U, b), ref)
            note = "theano.scan + T.grad"
            if python_loop:
                note += ("; Scan's Python loop: its Cython scan_perform does not build on Python "
                         f"{sys.version_info[0]}.{sys.version_info[1]}")
            peers.append(Peer(pname + (", scan loop in Python" if python_loop else ""), tl_setup,
                              note=note))
    flops = 3 * 2 * RNN_STEPS * RNN_BATCH * RNN_HIDDEN * (RNN_IN + RNN_HIDDEN)
    run_case("SCAN_RNN", case, peers, reps=R(9), flops=flops,
             extra={"dtype": "float64", "batch": RNN_BATCH, "steps": RNN_STEPS})


# --------------------------------------------------------------------------------------
# metadata, report
# --------------------------------------------------------------------------------------
def versions():
    from importlib import metadata
    v = {"python": platform.python_version()}
    for p in ["numpy", "tensorlift", "pytensor", "theano", "jax", "jaxlib", "numba", "scipy"]:
        try:
            v[p] = metadata.version(p)
        except Exception:  # noqa: BLE001
            v[p] = "not installed"
    return v


def machine():
    info = {"nproc": os.cpu_count(), "platform": platform.platform()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["cpu_affinity"] = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    info["env"] = {k: os.environ.get(k) for k in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                                                  "TENSORLIFT_NUM_THREADS", "PYTENSOR_FLAGS", "THEANO_FLAGS",
                                                  "XLA_FLAGS"]}
    return info


def blas_info():
    try:
        import threadpoolctl
        return [{k: d.get(k) for k in ["internal_api", "prefix", "version", "architecture", "num_threads"]}
                | {"file": os.path.basename(d.get("filepath", ""))} for d in threadpoolctl.threadpool_info()]
    except Exception as e:  # noqa: BLE001
        return [{"error": repr(e)}]


def report(paths):
    runs = [json.load(open(p)) for p in paths]
    out = []
    w = out.append
    w("<!-- generated by classic.py --report -->\n")
    for run in runs:
        m = run["machine"]
        w(f"- run `{run['label']}`: started {run['started']}, wall {run['wall_s']:.0f} s, "
          f"{'quick' if run['quick'] else 'full'}; {m.get('cpu')}, {m.get('nproc')} cores; versions: "
          + ", ".join(f"{k} {v}" for k, v in run["versions"].items() if v != "not installed"))
    w("")
    # the run's label beside each peer when several runs are shown
    rows = [dict(r, peer=f"{r['peer']} [{run['label']}]") if len(runs) > 1 else r
            for run in runs for r in run["results"]]
    for wl in ["LR", "MLP", "LENET", "CONV", "SCAN_RNN", "RNG"]:
        wrows = [r for r in rows if r["workload"] == wl]
        cases = list(dict.fromkeys(r["case"] for r in wrows))
        for case in cases:
            cr = sorted((r for r in wrows if r["case"] == case), key=lambda r: r["median_s"])
            tl = [r for r in cr if r["peer"].startswith("tensorlift ")]
            la = cr[0].get("loadavg_1m")
            w(f"### {TITLES[wl]}: {case}" + (f"  (1-min load {la[0]:.1f} -> {la[1]:.1f})" if la else "") + "\n")
            hdr = ["peer", "median", "min", "max", "GFLOP/s", "x fastest"]
            if tl:
                hdr.append("peer / tensorlift")
            hdr += ["cores busy", "correct"]
            w("| " + " | ".join(hdr) + " |\n|" + "---|" * len(hdr))
            best = cr[0]["median_s"]
            for r in cr:
                cells = [r["peer"], fmt_t(r["median_s"]), fmt_t(r["min_s"]), fmt_t(r["max_s"]),
                         f"{r['flops'] / r['median_s'] / 1e9:.1f}" if r.get("flops") else "-",
                         f"{r['median_s'] / best:.2f}"]
                if tl:
                    cells.append(f"{r['median_s'] / tl[0]['median_s']:.2f}")
                cells += [f"{r.get('cores_used', 0):.2f}", {True: "yes", False: "**NO**", None: "-"}[r.get("ok")]]
                w("| " + " | ".join(cells) + " |")
            w("")
    fails = [f for run in runs for f in run["failures"]]
    w("### Failures recorded by the script\n")
    if not fails:
        w("none\n")
    for f in fails:
        w(f"- {f['workload']} {f['case']} {f['peer']}: `{f['error']}`")
    return "\n".join(out) + "\n"


def dump(args, started, t0):
    d = dict(label=args.label, started=started, wall_s=perf() - t0, quick=QUICK, versions=versions(),
             machine=machine(), blas=blas_info(), results=RESULTS, failures=FAILURES)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(d, f, indent=1, default=str)


def main():
    global QUICK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="LR,MLP,LENET,CONV,RNG,SCAN_RNN",
                    help="comma list of sections: LR,MLP,LENET,CONV,RNG,SCAN_RNN")
    ap.add_argument("--dtypes", default="float64,float32", help="dtypes of the training steps")
    ap.add_argument("--label", default=None, help="the run's name (default: the libraries found)")
    ap.add_argument("--out", default=None, help="write raw results JSON here")
    ap.add_argument("--quick", action="store_true", help="few repetitions (smoke test)")
    ap.add_argument("--one-hot", action="store_true",
                    help="the Theano programs' likelihood of one-hot targets, -mean(sum(Y * log(p), 1)), "
                         "instead of -mean(log(p)[arange(n), y]) (for a library without advanced indexing)")
    ap.add_argument("--report", nargs="+", help="render markdown tables from result JSON files")
    args = ap.parse_args()
    if args.report:
        sys.stdout.write(report(args.report))
        return
    QUICK = args.quick
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = perf()
    imports()
    if args.label is None:
        args.label = " ".join([f"{B.name}-{B.version}" for B in M["theano-like"]]
                              + ([f"jax-{M['jax'].__version__}"] if "jax" in M else [])) or "numpy"
    for s in [s.strip() for s in args.only.split(",") if s.strip()]:
        try:
            if s == "CONV":
                bench_conv()
            elif s == "SCAN_RNN":
                bench_scan_rnn()
            elif s == "RNG":
                bench_rng()
            elif s in STEPS:
                for dt in args.dtypes.split(","):
                    bench_step(s, dt.strip(), args.one_hot)
            else:
                raise ValueError(f"unknown section {s!r}")
        except Exception as e:  # noqa: BLE001
            FAILURES.append(dict(workload=s, case="(section)", peer="", error=repr(e)[:400]))
            log(f"section {s} crashed:\n{traceback.format_exc()}")
        if args.out:   # checkpoint after every section
            dump(args, started, t0)


if __name__ == "__main__":
    main()
