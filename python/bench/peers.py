#!/usr/bin/env python3
"""Same-run measurements of the ``tensorlift`` Python package beside numpy, PyTensor and JAX.

Four sections, all on one core (every thread pool is limited to one thread before numpy,
JAX or tensorlift is imported):

``overhead``
    The per-call cost of ``f(2.0)`` for ``f = function([x], x**2)`` (``x = T.dscalar('x')``),
    against ``np.square(2.0)``, PyTensor's C backend (mode ``CVM``: in PyTensor 3 ``FAST_RUN``
    is the Numba backend, timed too; ``trust_input``) and ``jax.jit``. Ratio tensorlift /
    ``np.square(2.0)`` (target <= 1.5).
``anatomy``
    Pieces of tensorlift's ``f(2.0)``: the floor of a call into the extension, a fresh 0-d
    numpy array, a function without inputs, a second input, keywords, the interpreter.
``W5``
    The logistic-regression SGD step of the Theano tutorial (400x784, shared ``w``, ``b``),
    written once for each peer; numpy is the hand-written step. Ratio tensorlift / numpy.
``W6c``
    Compiling the W6 MLP training step (784-512-10, tanh, softmax cross-entropy with one-hot
    targets, batch 256, gradients and SGD updates), cold: every sample is a fresh process
    that builds the graph, compiles it and calls it once, timed inside the process. PyTensor
    gets a fresh compile cache: its first process fills it (one sample, "empty cache"), the
    others read it ("warm cache", what a second run of a program sees).

The timing method is the one of ``peers_bench.py``: every peer of a case is prepared and its
result checked against numpy first; then the peers are timed round-robin, every sample a
batch of k calls lasting at least 20 ms, divided by k. Reported: median, min and max.

Usage::

    python peers.py                          # everything, a markdown table on stdout
    python peers.py --only overhead,W5 --out results.json
    python peers.py --quick                  # a smoke test
    taskset -c 1 python peers.py --cpu 1     # pinned to one CPU

A peer that is not installed is reported as "not installed"; a peer that fails is reported
with its error; neither stops the run.
"""

import os

# One core for everything, set before numpy, JAX or tensorlift is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS",
             "TENSORLIFT_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

warnings.simplefilter("ignore")
perf = time.perf_counter
TARGET_BATCH_S = 0.02
RESULTS = []          # one dict per (section, peer)
QUICK = False
PT_C = ("pytensor-C (CVM)", "CVM")
PT_NUMBA = ("pytensor-numba (FAST_RUN)", "NUMBA")


def log(*a):
    """Progress on stderr (stdout carries only the table)."""
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Peers and their availability
# --------------------------------------------------------------------------------------
MODULES = {}
MISSING = {}


def load(name):
    """The module ``name`` of a peer (``tensorlift``, ``pytensor``, ``jax``), or ``None``
    when it cannot be imported (the reason kept in ``MISSING``)."""
    if name in MODULES:
        return MODULES[name]
    if name in MISSING:
        return None
    try:
        if name == "jax":
            import jax
            jax.config.update("jax_enable_x64", True)
            import jax.numpy  # noqa: F401
            mod = jax
        elif name == "pytensor":
            import pytensor
            import pytensor.tensor  # noqa: F401
            mod = pytensor
        elif name == "tensorlift":
            import tensorlift
            import tensorlift.tensor  # noqa: F401
            mod = tensorlift
        else:
            mod = __import__(name)
    except ImportError as e:
        MISSING[name] = f"not installed ({e})"
        return None
    except Exception as e:  # noqa: BLE001 (a broken install is reported, not fatal)
        MISSING[name] = f"import failed: {type(e).__name__}: {e}"[:200]
        return None
    MODULES[name] = mod
    return mod


class Peer:
    """A contestant: ``setup()`` returns a zero-argument callable running the workload once
    and returning its result; ``check(result)`` says whether that result is right."""

    def __init__(self, name, setup, needs=None, note=""):
        self.name, self.setup, self.needs, self.note = name, setup, needs, note
        self.fn = None
        self.k = 1
        self.samples = []
        self.cpu = []          # process CPU seconds per wall second of each batch (cores busy)
        self.faults = []       # minor page faults per call
        self.ok = None
        self.err = None


def calibrate(fn):
    """The number of calls of ``fn`` that lasts ``TARGET_BATCH_S``, measured after a warm-up
    (the first calls of a function can be much slower than the rest: lazy set-up, cold
    allocator), from the fastest of three calls."""
    t_end = perf() + 5 * TARGET_BATCH_S
    n = 0
    while n < 3 or perf() < t_end:
        fn()
        n += 1
    ts = []
    for _ in range(3):
        t0 = perf()
        fn()
        ts.append(perf() - t0)
    dt = max(min(ts), 1e-9)
    return 1 if dt >= TARGET_BATCH_S else max(1, int(TARGET_BATCH_S / dt))


def run_case(section, peers, reps, check):
    """Prepares and checks every peer, then times them round-robin; appends one row per peer
    to ``RESULTS`` (missing and failed peers too)."""
    prepared = []
    load0 = os.getloadavg()[0]
    for p in peers:
        if p.needs and load(p.needs) is None:
            p.err = MISSING[p.needs]
            log(f"  [{section}] {p.name}: {p.err}")
            continue
        try:
            p.fn = p.setup()
            p.ok = bool(check(p.name, p.fn()))
            p.k = calibrate(p.fn)
            prepared.append(p)
        except Exception as e:  # noqa: BLE001
            p.err = f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
            log(f"  [{section}] {p.name} {p.err}")
    for _ in range(reps):
        for p in prepared:
            fn, k = p.fn, p.k
            f0 = minor_faults()
            c0 = time.process_time()
            t0 = perf()
            for _ in range(k):
                fn()
            t1 = perf()
            p.cpu.append((time.process_time() - c0) / (t1 - t0))
            p.faults.append((minor_faults() - f0) / k)
            p.samples.append((t1 - t0) / k)
    load1 = os.getloadavg()[0]
    for p in peers:
        row = dict(section=section, peer=p.name, note=p.note)
        if p.samples:
            s = p.samples
            row.update(median_s=statistics.median(s), min_s=min(s), max_s=max(s), reps=len(s),
                       inner=p.k, ok=p.ok, cores_used=statistics.median(p.cpu),
                       page_faults_per_call=statistics.median(p.faults), loadavg_1m=[load0, load1])
            log(f"  [{section}] {p.name:44s} median {fmt_t(row['median_s'])} (min {fmt_t(row['min_s'])},"
                f" max {fmt_t(row['max_s'])}, k={p.k}, cpu={row['cores_used']:.2f},"
                f" faults/call={row['page_faults_per_call']:.0f}, ok={p.ok})")
        else:
            row["error"] = p.err
        RESULTS.append(row)
        p.fn = None


def minor_faults():
    """The process's minor page faults so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def fmt_t(s):
    """A duration in the unit that suits it."""
    if s is None:
        return "-"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


# --------------------------------------------------------------------------------------
# Call overhead: f(2.0) of x**2
# --------------------------------------------------------------------------------------
def bench_overhead():
    """``f(2.0)`` for ``x**2`` on every peer."""
    log("== call overhead f(2.0) = x**2")

    def tl_fn():
        theano = MODULES["tensorlift"]
        x = theano.tensor.dscalar("x")
        return theano.function([x], x ** 2)

    def tl_call(arg):
        def setup():
            f = tl_fn()
            return lambda: f(arg)
        return setup

    def pt_setup(mode, trust):
        def setup():
            pytensor = MODULES["pytensor"]
            x = pytensor.tensor.dscalar("x")
            f = pytensor.function([x], x ** 2, mode=mode)
            if trust:
                f.trust_input = True
                a = np.array(2.0)
                return lambda: f(a)
            return lambda: f(2.0)
        return setup

    def jax_setup(device_arg):
        def setup():
            jax = MODULES["jax"]
            f = jax.jit(lambda v: v ** 2)
            a = jax.device_put(np.float64(2.0)) if device_arg else 2.0
            f(a)
            return lambda: f(a).block_until_ready()
        return setup

    a0 = np.array(2.0)
    peers = [
        Peer("python lambda v: v*v (floor)", lambda: (lambda f: lambda: f(2.0))(lambda v: v * v)),
        Peer("numpy np.square(2.0)", lambda: lambda: np.square(2.0)),
        Peer("numpy np.square(np.float64(2.0))", lambda: (lambda a: lambda: np.square(a))(np.float64(2.0))),
        Peer("numpy np.square(0-d array)", lambda: lambda: np.square(a0)),
        Peer("tensorlift f(2.0)", tl_call(2.0), needs="tensorlift"),
        Peer("tensorlift f(np.float64(2.0))", tl_call(np.float64(2.0)), needs="tensorlift"),
        Peer("tensorlift f(0-d array)", tl_call(a0), needs="tensorlift"),
        Peer(f"{PT_C[0]} f(2.0)", pt_setup(PT_C[1], False), needs="pytensor"),
        Peer(f"{PT_C[0]} trust_input f(0-d array)", pt_setup(PT_C[1], True), needs="pytensor"),
        Peer(f"{PT_NUMBA[0]} trust_input f(0-d array)", pt_setup(PT_NUMBA[1], True), needs="pytensor"),
        Peer("jax jit f(2.0).block_until_ready()", jax_setup(False), needs="jax"),
        Peer("jax jit f(device scalar).block_until_ready()", jax_setup(True), needs="jax"),
    ]
    run_case("overhead", peers, reps=3 if QUICK else 21,
             check=lambda name, out: float(np.asarray(out)) == 4.0)


def bench_anatomy():
    """Pieces of tensorlift's ``f(2.0)``: the floor of a call into the extension, a fresh
    0-d numpy array, a function with no input, one input more, keywords, the interpreter."""
    log("== anatomy of tensorlift's f(2.0)")

    def tl(build, call):
        def setup():
            theano = MODULES["tensorlift"]
            T = theano.tensor
            return call(build(theano, T))
        return setup

    def xsq(mode="FAST_RUN"):
        def build(theano, T):
            x = T.dscalar("x")
            return theano.function([x], x ** 2, mode=mode)
        return build

    def const(theano, T):
        return theano.function([], T.constant(2.0) ** 2)

    def xy(theano, T):
        x, y = T.dscalar("x"), T.dscalar("y")
        return theano.function([x, y], x * y)

    peers = [
        Peer("numpy np.square(2.0)", lambda: lambda: np.square(2.0)),
        Peer("numpy np.array(2.0) (a fresh 0-d array)", lambda: lambda: np.array(2.0)),
        Peer("tensorlift _core.float_x() (call floor)", lambda: MODULES["tensorlift"]._core.float_x,
             needs="tensorlift"),
        Peer("tensorlift f(2.0)", tl(xsq(), lambda f: lambda: f(2.0)), needs="tensorlift"),
        Peer("tensorlift g() (no input: 2.0**2)", tl(const, lambda f: f), needs="tensorlift"),
        Peer("tensorlift f(x=2.0)", tl(xsq(), lambda f: lambda: f(x=2.0)), needs="tensorlift"),
        Peer("tensorlift h(2.0, 2.0) of x*y", tl(xy, lambda f: lambda: f(2.0, 2.0)), needs="tensorlift"),
        Peer("tensorlift f(2.0), FAST_COMPILE (interpreter)", tl(xsq("FAST_COMPILE"), lambda f: lambda: f(2.0)),
             needs="tensorlift"),
    ]
    run_case("anatomy", peers, reps=3 if QUICK else 15,
             check=lambda name, out: out == "float64" if "float_x" in name else
             float(np.asarray(out)) == (2.0 if "np.array" in name else 4.0))


# --------------------------------------------------------------------------------------
# W5: the logistic-regression SGD step of the Theano tutorial
# --------------------------------------------------------------------------------------
N5, F5 = 400, 784


def w5_data():
    """The data of ``peers_bench.py``'s W5: X (400x784), labels y in {0, 1}, initial w."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N5, F5))
    y = rng.integers(0, 2, size=N5).astype(np.float64)
    w0 = rng.standard_normal(F5)
    return X, y, w0


def np_lr_step(state, X, y):
    """One hand-written numpy step: returns the predictions and the cross-entropies and
    updates ``state = [w, b]``."""
    w, b = state
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
    gz = (p - y) / X.shape[0]
    gw = X.T @ gz + 0.02 * w
    gb = gz.sum()
    w -= 0.1 * gw
    state[1] = b - 0.1 * gb
    return p > 0.5, xent


def theano_lr_graph(theano, w0, mode, outputs):
    """The tutorial's program for a Theano-like module (tensorlift or PyTensor): returns the
    training function (compiled in ``mode``) and the shared ``w``. ``outputs`` is ``"tutorial"`` (prediction and
    cross-entropies, as the tutorial and the numpy step) or ``"cost"``."""
    T = theano.tensor
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(w0.copy(), name="w")
    b = theano.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = theano.grad(cost, [w, b])
    outs = [prediction, xent] if outputs == "tutorial" else cost
    return theano.function([x, y], outs, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=mode), w


def bench_w5():
    """W5 on every peer; the check compares ``w`` after one step with numpy's."""
    log("== W5 logistic-regression step 400x784")
    X, y, w0 = w5_data()
    ref = [w0.copy(), 0.0]
    np_lr_step(ref, X, y)
    w_ref = ref[0]
    w_after = {}

    def np_setup():
        st = [w0.copy(), 0.0]
        w_after["numpy (hand-written step)"] = lambda: st[0]
        return lambda: np_lr_step(st, X, y)

    def theano_setup(name, modname, mode, outputs):
        def setup():
            f, w = theano_lr_graph(MODULES[modname], w0, mode, outputs)
            w_after[name] = w.get_value
            return lambda: f(X, y)
        return setup

    def jax_setup(name, stable):
        def setup():
            jax = MODULES["jax"]
            jnp = jax.numpy

            def step(w, b, X, y):
                def cost(w, b):
                    z = X @ w + b
                    if stable:
                        # jax has no rewrite that stabilizes the tutorial's formula
                        p = jax.nn.sigmoid(z)
                        xent = -y * jax.nn.log_sigmoid(z) - (1 - y) * jax.nn.log_sigmoid(-z)
                    else:
                        p = 1 / (1 + jnp.exp(-(X @ w) - b))
                        xent = -y * jnp.log(p) - (1 - y) * jnp.log(1 - p)
                    return xent.mean() + 0.01 * (w ** 2).sum(), (p, xent)
                (_, (p, xent)), (gw, gb) = jax.value_and_grad(cost, argnums=(0, 1), has_aux=True)(w, b)
                return w - 0.1 * gw, b - 0.1 * gb, p > 0.5, xent
            step = jax.jit(step)
            Xj, yj = jax.device_put(X), jax.device_put(y)
            st = [jax.device_put(w0), jax.device_put(np.float64(0.0))]
            w_after[name] = lambda: np.asarray(st[0])

            def call():
                w, b, pred, xent = step(st[0], st[1], Xj, yj)
                st[0], st[1] = w, b
                xent.block_until_ready()
                return pred, xent
            return call
        return setup

    peers = [
        Peer("numpy (hand-written step)", np_setup),
        Peer("tensorlift [prediction, xent]", theano_setup("tensorlift [prediction, xent]", "tensorlift",
                                                         "FAST_RUN", "tutorial"), needs="tensorlift"),
        Peer("tensorlift cost", theano_setup("tensorlift cost", "tensorlift", "FAST_RUN", "cost"),
             needs="tensorlift"),
        Peer(PT_C[0], theano_setup(PT_C[0], "pytensor", PT_C[1], "tutorial"), needs="pytensor"),
        Peer(PT_NUMBA[0], theano_setup(PT_NUMBA[0], "pytensor", PT_NUMBA[1], "tutorial"), needs="pytensor"),
        Peer("jax (jit step, log_sigmoid form)", jax_setup("jax (jit step, log_sigmoid form)", True),
             needs="jax"),
        Peer("jax (jit step, tutorial formula)", jax_setup("jax (jit step, tutorial formula)", False),
             needs="jax", note="NaN: log(1 - p) of a saturated p (this data has |z| ~ 30)"),
    ]

    def check(name, _out):
        # one step was taken from w0: its w must be numpy's
        return np.allclose(w_after[name](), w_ref, rtol=1e-10, atol=1e-12)
    run_case("W5", peers, reps=3 if QUICK else 21, check=check)


# --------------------------------------------------------------------------------------
# W6 compile, cold: one fresh process per sample
# --------------------------------------------------------------------------------------
B6, I6, H6, O6, LR6 = 256, 784, 512, 10, 0.01


def w6_data():
    """The data of ``peers_bench.py``'s W6: X (256x784), one-hot Y (256x10), parameters."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((B6, I6))
    labels = rng.integers(0, O6, size=B6)
    Y = np.zeros((B6, O6))
    Y[np.arange(B6), labels] = 1.0
    params = [rng.standard_normal((I6, H6)) / math.sqrt(I6), np.zeros(H6),
              rng.standard_normal((H6, O6)) / math.sqrt(H6), np.zeros(O6)]
    return X, Y, params


def np_mlp_w1(P, X, Y):
    """``W1`` after one numpy SGD step (the reference of every peer)."""
    W1, b1, W2, b2 = P
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    d = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    dz = (d @ W2.T) * (1 - h * h)
    return W1 - LR6 * (X.T @ dz)


def w6_child(peer):
    """Runs in a fresh process: imports ``peer``, builds, compiles and calls the W6 step,
    and prints one JSON line ``W6JSON:{...}`` with the times (seconds)."""
    t0 = perf()
    out = {"peer": peer}
    X, Y, P0 = w6_data()
    if peer == "jax":
        jax = load("jax")
        jnp = jax.numpy
        out["import_s"] = perf() - t0
        Xj, Yj = jax.device_put(X), jax.device_put(Y)
        P = [jax.device_put(p) for p in P0]
        t = perf()

        def loss_fn(P, X, Y):
            W1, b1, W2, b2 = P
            h = jnp.tanh(X @ W1 + b1)
            z = h @ W2 + b2
            return -jnp.mean(jnp.sum(Y * jnp.log(jax.nn.softmax(z, axis=1)), axis=1))

        def step(P, X, Y):
            loss, g = jax.value_and_grad(loss_fn)(P, X, Y)
            return [p - LR6 * gp for p, gp in zip(P, g)], loss
        out["build_s"] = perf() - t
        t = perf()
        f = jax.jit(step)
        out["function_s"] = perf() - t
        t = perf()
        P1, loss = f(P, Xj, Yj)
        loss.block_until_ready()
        out["first_call_s"] = perf() - t
        call = lambda: f(P, Xj, Yj)[1].block_until_ready()  # noqa: E731
        w1 = np.asarray(P1[0])
    else:
        if peer == "tensorlift":
            theano = load("tensorlift")
            mode = "FAST_RUN"
        else:
            theano = load("pytensor")
            mode = peer.split(":")[1]
        T = theano.tensor
        out["import_s"] = perf() - t0
        t = perf()
        x = T.dmatrix("X")
        y = T.dmatrix("Y")
        sh = [theano.shared(p.copy(), name=n) for p, n in zip(P0, ["W1", "b1", "W2", "b2"])]
        W1, b1, W2, b2 = sh
        h = T.tanh(T.dot(x, W1) + b1)
        z = T.dot(h, W2) + b2
        softmax = T.nnet.softmax if peer == "tensorlift" else T.special.softmax  # PyTensor moved it
        cost = -T.mean(T.sum(y * T.log(softmax(z, axis=-1)), axis=1))
        grads = theano.grad(cost, sh)
        updates = [(p, p - LR6 * g) for p, g in zip(sh, grads)]
        out["build_s"] = perf() - t
        t = perf()
        f = theano.function([x, y], cost, updates=updates, mode=mode)
        out["function_s"] = perf() - t
        t = perf()
        f(X, Y)
        out["first_call_s"] = perf() - t
        w1 = sh[0].get_value()
        sh[0].set_value(P0[0].copy())
        sh[1].set_value(P0[1].copy())
        sh[2].set_value(P0[2].copy())
        sh[3].set_value(P0[3].copy())
        call = lambda: f(X, Y)  # noqa: E731
    out["ok"] = bool(np.allclose(w1, np_mlp_w1(P0, X, Y), rtol=1e-10, atol=1e-12))
    ts = []
    for _ in range(5):
        t = perf()
        call()
        ts.append(perf() - t)
    out["steady_call_s"] = statistics.median(ts)
    out["to_first_result_s"] = out["build_s"] + out["function_s"] + out["first_call_s"]
    print("W6JSON:" + json.dumps(out), flush=True)


def run_child(peer, env):
    """One W6 compile sample in a fresh process; its JSON record."""
    cmd = [sys.executable, os.path.abspath(__file__), "--w6-child", peer]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    for line in p.stdout.splitlines():
        if line.startswith("W6JSON:"):
            return json.loads(line[7:])
    last = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
    raise RuntimeError(f"child failed rc={p.returncode}: {last[:300]}")


def bench_w6_compile(samples):
    """W6 compile, cold, ``samples`` fresh processes per peer. PyTensor gets its own compile
    cache: the first process fills it (reported apart as ``empty cache``), the others read it,
    as a second run of a program does."""
    log(f"== W6 compile, cold, {samples} fresh processes per peer")
    cache = tempfile.mkdtemp(prefix="peers_w6_cache_")
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = ",".join(x for x in [env.get("PYTENSOR_FLAGS", ""), f"base_compiledir={cache}"] if x)
    env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba")
    plan = [("tensorlift", "tensorlift", "tensorlift", False),
            (f"{PT_C[0]}, empty cache", "pytensor", f"pytensor:{PT_C[1]}", True),
            (f"{PT_C[0]}, warm cache", "pytensor", f"pytensor:{PT_C[1]}", False),
            (f"{PT_NUMBA[0]}, empty cache", "pytensor", f"pytensor:{PT_NUMBA[1]}", True),
            (f"{PT_NUMBA[0]}, warm cache", "pytensor", f"pytensor:{PT_NUMBA[1]}", False),
            ("jax (jit + first call)", "jax", "jax", False)]
    records = {name: [] for name, *_ in plan}
    errors = {}
    try:
        # the empty-cache samples first (one each: they fill the cache), then round-robin
        for name, needs, child, empty in plan:
            if load(needs) is None:
                errors[name] = MISSING[needs]
            elif empty:
                try:
                    records[name].append(run_child(child, env))
                except Exception as e:  # noqa: BLE001
                    errors[name] = f"failed: {e}"[:300]
        for _ in range(samples):
            for name, needs, child, empty in plan:
                if empty or name in errors:
                    continue
                try:
                    records[name].append(run_child(child, env))
                except Exception as e:  # noqa: BLE001
                    errors[name] = f"failed: {e}"[:300]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    for name, *_ in plan:
        row = dict(section="W6c", peer=name)
        rs = records[name]
        if name in errors and not rs:
            row["error"] = errors[name]
        else:
            for key in ("function_s", "to_first_result_s", "build_s", "first_call_s", "steady_call_s",
                        "import_s"):
                vals = [r[key] for r in rs]
                row[key] = dict(median=statistics.median(vals), min=min(vals), max=max(vals))
            row.update(median_s=row["function_s"]["median"], min_s=row["function_s"]["min"],
                       max_s=row["function_s"]["max"], reps=len(rs), ok=all(r["ok"] for r in rs))
            if name.startswith("jax"):
                # jit() is lazy: its compile is the first call
                row.update(median_s=row["to_first_result_s"]["median"], min_s=row["to_first_result_s"]["min"],
                           max_s=row["to_first_result_s"]["max"])
            log(f"  [W6c] {name:44s} compile {fmt_t(row['median_s'])} to first result "
                f"{fmt_t(row['to_first_result_s']['median'])} (n={len(rs)}, ok={row['ok']})")
        RESULTS.append(row)


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
def find(section, peer):
    """The result row of ``peer`` in ``section`` (or ``None``)."""
    for r in RESULTS:
        if r["section"] == section and r["peer"] == peer:
            return r
    return None


def ratio(section, num, den):
    """median(num) / median(den), or ``None`` when either is missing."""
    a, b = find(section, num), find(section, den)
    if a and b and "median_s" in a and "median_s" in b:
        return a["median_s"] / b["median_s"]
    return None


def cell(r):
    """``median (min–max)`` of a row, or its error."""
    if "median_s" not in r:
        return r.get("error", "-"), "", "", "", ""
    ok = str(r.get("ok")) + (f" ({r['note']})" if r.get("note") else "")
    return (fmt_t(r["median_s"]), f"{fmt_t(r['min_s'])} – {fmt_t(r['max_s'])}", f"{r['cores_used']:.2f}",
            f"{r['page_faults_per_call']:.0f}", ok)


def table():
    """The results as markdown."""
    lines = [f"Machine: {machine()}; Python {platform.python_version()}; {versions()}", ""]
    titles = {"overhead": "Call overhead `f(2.0)` of `x**2` (per call)",
              "anatomy": "Anatomy of tensorlift's `f(2.0)` (per call)",
              "W5": "W5 logistic-regression SGD step 400×784 (per step)"}
    for section, base, tl in (("overhead", "numpy np.square(2.0)", "tensorlift f(2.0)"),
                              ("anatomy", "numpy np.square(2.0)", "tensorlift f(2.0)"),
                              ("W5", "numpy (hand-written step)", "tensorlift [prediction, xent]")):
        rows = [r for r in RESULTS if r["section"] == section]
        if not rows:
            continue
        lines += [f"### {titles[section]}", "", "| peer | median | min – max | cores busy | page faults/call | checked | / numpy |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            rr = ratio(section, r["peer"], base)
            lines.append(f"| {r['peer']} | {' | '.join(cell(r))} | {f'{rr:.2f}' if rr else ''} |")
        rr = ratio(section, tl, base)
        target = " (target ≤ 1.5)" if section == "overhead" else ""
        if section == "anatomy":
            lines.append("")
        else:
            lines += ["", f"**{tl} / {base} = {rr:.2f}**{target}" if rr else "", ""]
    rows = [r for r in RESULTS if r["section"] == "W6c"]
    if rows:
        lines += ["### W6 compile, cold (784-512-10, batch 256; a fresh process per sample)", "",
                  "`function()` is the compile call (`jax.jit` + its first call for JAX); "
                  "`to first result` = graph + grad + compile + first call.", "",
                  "| peer | n | compile median | min – max | to first result | graph + grad | "
                  "first call | steady call | import | checked |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if "median_s" not in r:
                lines.append(f"| {r['peer']} | | {r.get('error', '-')} | | | | | | | |")
                continue
            m = {k: fmt_t(r[k]["median"]) for k in ("to_first_result_s", "build_s", "first_call_s",
                                                      "steady_call_s", "import_s")}
            lines.append(f"| {r['peer']} | {r['reps']} | {fmt_t(r['median_s'])} | {fmt_t(r['min_s'])} – "
                         f"{fmt_t(r['max_s'])} | {m['to_first_result_s']} | {m['build_s']} | "
                         f"{m['first_call_s']} | {m['steady_call_s']} | {m['import_s']} | {r['ok']} |")
        tl = find("W6c", "tensorlift")
        if tl and "median_s" in tl:
            lines += ["", f"**tensorlift W6 compile = {fmt_t(tl['median_s'])}** (target ≤ 10 ms)", ""]
    return "\n".join(lines)


def machine():
    """The CPU model and core count."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"


def versions():
    """The versions of the peers that are installed."""
    out = [f"numpy {np.__version__}"]
    for name in ("tensorlift", "pytensor", "jax"):
        mod = load(name)
        out.append(f"{name} {getattr(mod, '__version__', '?')}" if mod else f"{name} not installed")
    return ", ".join(out)


def main():
    """Parses the options and runs the sections."""
    global QUICK
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="overhead,anatomy,W5,W6c",
                    help="sections: overhead, anatomy, W5, W6c (comma list)")
    ap.add_argument("--quick", action="store_true", help="a smoke test: few samples")
    ap.add_argument("--out", help="write the results as JSON to this file")
    ap.add_argument("--samples", type=int, default=None, help="fresh processes per peer for W6c (default 7)")
    ap.add_argument("--cpu", type=int, default=None, help="pin this process and its children to one CPU")
    ap.add_argument("--w6-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if args.w6_child:
        w6_child(args.w6_child)
        return
    QUICK = args.quick
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - {"overhead", "anatomy", "W5", "W6c"}
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)} (overhead, anatomy, W5, W6c)")
    started = time.time()
    for name in ("tensorlift", "pytensor", "jax"):
        load(name)
    if "overhead" in sections:
        bench_overhead()
    if "anatomy" in sections:
        bench_anatomy()
    if "W5" in sections:
        bench_w5()
    if "W6c" in sections:
        bench_w6_compile(args.samples or (2 if QUICK else 7))
    print(table())
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(machine=machine(), versions=versions(), python=platform.python_version(),
                           started=started, seconds=time.time() - started, argv=sys.argv,
                           env={k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                               "MKL_NUM_THREADS", "RAYON_NUM_THREADS",
                                                               "TENSORLIFT_NUM_THREADS", "XLA_FLAGS")},
                           results=RESULTS), f, indent=1)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
