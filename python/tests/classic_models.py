"""The three classic Theano programs of the deeplearning.net tutorials, written once for any
Theano-like library, with the data they are checked on.

* logistic regression (``logistic_sgd.py``): ``softmax(x W + b)``, the negative
  log-likelihood ``-mean(log(p)[arange(n), y])``, the error rate ``mean(neq(argmax(p), y))``;
* the MLP (``mlp.py``): a tanh hidden layer, the logistic regression on top, L1 and L2
  penalties on both weight matrices;
* LeNet (``convolutional_mlp.py``): two conv (5x5, filters flipped as Theano's ``conv2d``) +
  2x2 max-pool (``ignore_border=True``) + tanh(+bias) layers, ``flatten(2)``, a tanh layer
  of 500, the logistic regression.

The model code takes a :class:`Backend` (``theano``, ``T``, ``conv2d``, ``pool_2d``,
``softmax``): tensorlift, Theano 1.0 and PyTensor run the very same expressions. The data
recipes use only numpy (``numpy.random.default_rng``), so a test, the reference-gradient
generator (``benches/peers/make_classic_grads.py``) and the benchmark
(``benches/peers/classic.py``) draw the same arrays from the same seeds.

This module is a helper of the tests and the benchmarks (no test is collected from it).
"""

import importlib
import math

import numpy as np

#: The programs, in the order the files list them.
PROGRAMS = ("logreg", "mlp", "lenet")

#: Parameter names of each program, in the order of the gradients.
PARAM_NAMES = {
    "logreg": ["W", "b"],
    "mlp": ["hidden.W", "hidden.b", "logreg.W", "logreg.b"],
    "lenet": ["layer0.W", "layer0.b", "layer1.W", "layer1.b",
              "layer2.W", "layer2.b", "layer3.W", "layer3.b"],
}

#: The MLP's penalty weights in the reference gradients and the benchmark: both non-zero, so
#: both penalties are differentiated (the tutorial's defaults are L1 0.00, L2 0.0001), and
#: small enough that the likelihood's part of the gradient is not drowned by them.
MLP_L1, MLP_L2 = 0.0001, 0.0001
N_IN, N_HIDDEN, N_OUT = 784, 500, 10
NKERNS = (20, 50)


# --------------------------------------------------------------------------------------
# Data: parameters and one batch, from a seed
# --------------------------------------------------------------------------------------

def _uniform(rng, n_in, n_out, shape):
    """The tutorials' initialisation: uniform in +-sqrt(6 / (fan_in + fan_out))."""
    bound = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=shape)


def make_params(name, rng):
    """The parameters of program ``name`` (float64), drawn from ``rng`` in the order of
    :data:`PARAM_NAMES` (weights uniform as the tutorials, biases normal with sd 0.1 so
    that their gradients are not those of zero biases)."""
    if name == "logreg":
        return [rng.normal(0.0, 0.05, (N_IN, N_OUT)), rng.normal(0.0, 0.1, N_OUT)]
    if name == "mlp":
        return [_uniform(rng, N_IN, N_HIDDEN, (N_IN, N_HIDDEN)), rng.normal(0.0, 0.1, N_HIDDEN),
                _uniform(rng, N_HIDDEN, N_OUT, (N_HIDDEN, N_OUT)), rng.normal(0.0, 0.1, N_OUT)]
    if name == "lenet":
        k0, k1 = NKERNS
        # fan_out of a conv layer: filters * 5 * 5 / pool size (convolutional_mlp.py).
        return [_uniform(rng, 1 * 25, k0 * 25 / 4, (k0, 1, 5, 5)), rng.normal(0.0, 0.1, k0),
                _uniform(rng, k0 * 25, k1 * 25 / 4, (k1, k0, 5, 5)), rng.normal(0.0, 0.1, k1),
                _uniform(rng, k1 * 16, N_HIDDEN, (k1 * 16, N_HIDDEN)), rng.normal(0.0, 0.1, N_HIDDEN),
                _uniform(rng, N_HIDDEN, N_OUT, (N_HIDDEN, N_OUT)), rng.normal(0.0, 0.1, N_OUT)]
    raise ValueError(f"unknown program {name!r}")


def make_problem(name, batch, seed, n_batches=1):
    """``(x, y, params)`` of program ``name`` from ``numpy.random.default_rng(seed)``:
    ``x`` of shape ``(batch * n_batches, 784)`` uniform in [0, 1) (pixels; LeNet reshapes a
    row to 1x28x28), ``y`` int32 labels in 0..9, then :func:`make_params` — drawn in that
    order, all float64."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch * n_batches, N_IN))
    y = rng.integers(0, N_OUT, size=batch * n_batches).astype(np.int32)
    return x, y, make_params(name, rng)


def make_probes(shapes, seed, count=8):
    """``count`` standard-normal probe arrays for each shape, from ``default_rng(seed)``,
    drawn shape after shape (each as one ``(count, *shape)`` array)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((count,) + tuple(s)) for s in shapes]


def summarize(grad, probes):
    """What the reference file stores of a gradient: its shape, Frobenius norm and dot
    products with each probe."""
    g = np.asarray(grad, dtype=np.float64)
    return {"shape": list(g.shape), "norm": float(np.sqrt(np.sum(g * g))),
            "probes": [float(np.sum(g * p)) for p in probes]}


# --------------------------------------------------------------------------------------
# The Theano code, for any Theano-like library
# --------------------------------------------------------------------------------------

class Backend:
    """A Theano-like library: ``theano`` (the package), ``T`` (its tensor module),
    ``conv2d`` and ``pool_2d`` (``None`` where the library has none; ``missing`` says why)
    and ``softmax`` (``T.nnet.softmax``, the softmax of each row; PyTensor 3's
    ``special.softmax(c, axis=-1)``)."""

    def __init__(self, name):
        self.name = name
        self.missing = {}
        self.theano = importlib.import_module(name)
        self.T = importlib.import_module(name + ".tensor")
        self.conv2d = self._load(name + ".tensor.nnet", "conv2d")
        self.pool_2d = self._load(name + ".tensor.signal.pool", "pool_2d")
        nnet = getattr(self.T, "nnet", None)
        if nnet is not None and hasattr(nnet, "softmax"):
            self.softmax = nnet.softmax
        else:  # PyTensor 3 dropped T.nnet; its softmax is over all axes unless told
            special = importlib.import_module(name + ".tensor.special")
            self.softmax = lambda c: special.softmax(c, axis=-1)
        self.version = getattr(self.theano, "__version__", "?")

    def _load(self, module, attr):
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            self.missing[attr] = f"{module}.{attr}: {type(e).__name__}: {e}"[:200]
            return None


def missing_feature(B, name):
    """Why the library ``B`` cannot express program ``name`` yet (``conv2d``, ``pool_2d``,
    the likelihood's advanced indexing ``log(p)[arange(n), y]``), or ``None``."""
    if name == "lenet" and (B.conv2d is None or B.pool_2d is None):
        return "no conv2d / pool_2d yet: " + "; ".join(B.missing.values())
    T = B.T
    try:
        p, y = T.dmatrix("p"), T.ivector("y")
        p[T.arange(y.shape[0]), y]
    except NotImplementedError as e:
        return f"no advanced indexing yet: {e}"
    return None


def logreg_layer(B, input, W, b):
    """The tutorial's ``LogisticRegression``: class probabilities and the prediction."""
    T = B.T
    p_y_given_x = B.softmax(T.dot(input, W) + b)
    y_pred = T.argmax(p_y_given_x, axis=1)
    return p_y_given_x, y_pred


def negative_log_likelihood(B, p_y_given_x, y):
    """``-mean(log(p)[arange(n), y])`` (advanced indexing by a symbolic ``arange``)."""
    T = B.T
    return -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])


def errors(B, y_pred, y):
    """The zero-one loss: the fraction of wrong predictions."""
    return B.T.mean(B.T.neq(y_pred, y))


def onehot_likelihood(B):
    """``(nll, errors)`` for one-hot targets ``Y`` (a float matrix) instead of labels: the
    same values, ``-mean(sum(Y * log(p), axis=1))`` without advanced indexing."""
    T = B.T

    def nll(p, Y):
        return -T.mean(T.sum(Y * T.log(p), axis=1))

    def errs(y_pred, Y):
        return T.mean(T.neq(y_pred, T.argmax(Y, axis=1)))
    return nll, errs


def onehot(y, dtype="float64"):
    """The one-hot rows of labels ``y`` (10 classes)."""
    out = np.zeros((len(y), N_OUT), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def build(B, name, x, y, params, batch_size, l1=MLP_L1, l2=MLP_L2, one_hot=False):
    """``(cost, errors)`` of program ``name`` for the symbolic batch ``x`` (a matrix of rows
    of 784 pixels), labels ``y`` (an int vector; with ``one_hot``, a matrix of one-hot rows,
    see :func:`onehot_likelihood`) and the shared ``params`` (ordered as
    :data:`PARAM_NAMES`). LeNet reshapes ``x`` to ``(batch_size, 1, 28, 28)``."""
    T = B.T
    if one_hot:
        negative_log_likelihood_, errors_ = onehot_likelihood(B)
    else:
        negative_log_likelihood_ = lambda p, y: negative_log_likelihood(B, p, y)  # noqa: E731
        errors_ = lambda y_pred, y: errors(B, y_pred, y)  # noqa: E731
    if name == "logreg":
        W, b = params
        p, y_pred = logreg_layer(B, x, W, b)
        return negative_log_likelihood_(p, y), errors_(y_pred, y)
    if name == "mlp":
        W1, b1, W2, b2 = params
        hidden = T.tanh(T.dot(x, W1) + b1)
        p, y_pred = logreg_layer(B, hidden, W2, b2)
        L1 = abs(W1).sum() + abs(W2).sum()
        L2_sqr = (W1 ** 2).sum() + (W2 ** 2).sum()
        cost = negative_log_likelihood_(p, y) + l1 * L1 + l2 * L2_sqr
        return cost, errors_(y_pred, y)
    if name == "lenet":
        if B.conv2d is None or B.pool_2d is None:
            raise NotImplementedError(f"{B.name} has no conv2d/pool_2d: {B.missing}")
        W0, b0, W1, b1, W2, b2, W3, b3 = params
        k0, k1 = NKERNS
        layer0_input = x.reshape((batch_size, 1, 28, 28))
        out0 = conv_pool_layer(B, layer0_input, W0, b0, (k0, 1, 5, 5), (batch_size, 1, 28, 28))
        out1 = conv_pool_layer(B, out0, W1, b1, (k1, k0, 5, 5), (batch_size, k0, 12, 12))
        hidden = T.tanh(T.dot(out1.flatten(2), W2) + b2)
        p, y_pred = logreg_layer(B, hidden, W3, b3)
        return negative_log_likelihood_(p, y), errors_(y_pred, y)
    raise ValueError(f"unknown program {name!r}")


def conv_pool_layer(B, input, W, b, filter_shape, image_shape, poolsize=(2, 2)):
    """The tutorial's ``LeNetConvPoolLayer``: conv2d, max-pool, ``tanh(pooled + b)``."""
    conv_out = B.conv2d(input=input, filters=W, filter_shape=filter_shape, input_shape=image_shape)
    pooled_out = B.pool_2d(input=conv_out, ws=poolsize, ignore_border=True)
    return B.T.tanh(pooled_out + b.dimshuffle("x", 0, "x", "x"))


def cost_and_grads_graph(B, name, batch_size, params_values, one_hot=False, **kw):
    """``(inputs, [cost, *grads])``: the symbolic batch ``[x, y]`` and the cost of program
    ``name`` with its gradients (``T.grad``) with respect to shared variables holding
    ``params_values`` (``y`` int32 labels, or with ``one_hot`` a matrix of one-hot rows)."""
    theano, T = B.theano, B.T
    x = T.matrix("x", dtype=str(params_values[0].dtype))
    y = T.matrix("y", dtype=x.dtype) if one_hot else T.ivector("y")
    kw["one_hot"] = one_hot
    params = [theano.shared(v, name=n) for v, n in zip(params_values, PARAM_NAMES[name])]
    cost, _ = build(B, name, x, y, params, batch_size=batch_size, **kw)
    return [x, y], [cost] + list(T.grad(cost, params))


def cost_and_grads_function(B, name, x_value, y_value, params_values, mode=None, **kw):
    """A compiled function of no argument returning ``[cost, *grads]`` of program ``name``
    on the given batch (see :func:`cost_and_grads_graph`)."""
    inputs, outputs = cost_and_grads_graph(B, name, x_value.shape[0], params_values, **kw)
    f = B.theano.function(inputs, outputs, mode=mode)
    return lambda: f(x_value, y_value)


# --------------------------------------------------------------------------------------
# numpy: LeNet's pieces, the hand-written steps (the benchmark's reference)
# --------------------------------------------------------------------------------------

def np_conv2d(x, W):
    """Theano's ``conv2d(x, W)`` (valid, stride 1, filters flipped): ``(n, c, h, w)`` by
    ``(o, c, kh, kw)`` gives ``(n, o, h - kh + 1, w - kw + 1)``."""
    win = np.lib.stride_tricks.sliding_window_view(x, W.shape[2:], axis=(2, 3))
    return np.einsum("ncijuv,ocuv->noij", win, W[:, :, ::-1, ::-1], optimize=True)


def np_pool(a):
    """2x2 max-pool of an ``(n, c, h, w)`` array with even ``h``, ``w``."""
    n, c, h, w = a.shape
    return a.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _np_unpool(g, a, m):
    """The gradient of :func:`np_pool` (``m = np_pool(a)``) given the pooled gradient ``g``:
    ``g`` at each window's maximum (Theano's rule: every position equal to the maximum)."""
    up = lambda t: t.repeat(2, axis=2).repeat(2, axis=3)  # noqa: E731
    return (a == up(m)) * up(g)


def _np_conv_grads(x, W, d):
    """The gradients of ``np_conv2d(x, W)`` given the output's gradient ``d``."""
    kh, kw = W.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    gW = np.einsum("ncijuv,noij->ocuv", win, d, optimize=True)[:, :, ::-1, ::-1]
    dp = np.pad(d, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    dwin = np.lib.stride_tricks.sliding_window_view(dp, (kh, kw), axis=(2, 3))
    gx = np.einsum("noijuv,ocuv->ncij", dwin, W, optimize=True)
    return gx, gW


def _np_softmax_nll_grad(logits, y):
    """``(cost, d cost / d logits)`` of the mean negative log-likelihood."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = len(y)
    rows = np.arange(n)
    cost = -np.mean(z[rows, y] - np.log(s[:, 0]))
    d = e / s
    d[rows, y] -= 1.0
    return cost, d / n


def np_cost_and_grads(name, x, y, params, l1=MLP_L1, l2=MLP_L2):
    """``(cost, grads)`` of program ``name`` by hand-written backpropagation in numpy."""
    n = len(y)
    if name == "logreg":
        W, b = params
        cost, d = _np_softmax_nll_grad(x @ W + b, y)
        return cost, [x.T @ d, d.sum(axis=0)]
    if name == "mlp":
        W1, b1, W2, b2 = params
        h = np.tanh(x @ W1 + b1)
        cost, d = _np_softmax_nll_grad(h @ W2 + b2, y)
        cost += l1 * (np.abs(W1).sum() + np.abs(W2).sum()) + l2 * ((W1 ** 2).sum() + (W2 ** 2).sum())
        dz = (d @ W2.T) * (1.0 - h * h)
        return cost, [x.T @ dz + l1 * np.sign(W1) + 2 * l2 * W1, dz.sum(axis=0),
                      h.T @ d + l1 * np.sign(W2) + 2 * l2 * W2, d.sum(axis=0)]
    if name == "lenet":
        W0, b0, W1, b1, W2, b2, W3, b3 = params
        x0 = x.reshape(n, 1, 28, 28)
        a0 = np_conv2d(x0, W0)
        m0 = np_pool(a0)
        o0 = np.tanh(m0 + b0[:, None, None])
        a1 = np_conv2d(o0, W1)
        m1 = np_pool(a1)
        o1 = np.tanh(m1 + b1[:, None, None])
        f = o1.reshape(n, -1)
        h = np.tanh(f @ W2 + b2)
        cost, d = _np_softmax_nll_grad(h @ W3 + b3, y)
        gW3, gb3 = h.T @ d, d.sum(axis=0)
        dh = (d @ W3.T) * (1.0 - h * h)
        gW2, gb2 = f.T @ dh, dh.sum(axis=0)
        dm1 = (dh @ W2.T).reshape(o1.shape) * (1.0 - o1 * o1)
        gb1 = dm1.sum(axis=(0, 2, 3))
        do0, gW1 = _np_conv_grads(o0, W1, _np_unpool(dm1, a1, m1))
        dm0 = do0 * (1.0 - o0 * o0)
        gb0 = dm0.sum(axis=(0, 2, 3))
        _, gW0 = _np_conv_grads(x0, W0, _np_unpool(dm0, a0, m0))
        return cost, [gW0, gb0, gW1, gb1, gW2, gb2, gW3, gb3]
    raise ValueError(f"unknown program {name!r}")


# --------------------------------------------------------------------------------------
# JAX: the same costs (``jax_enable_x64`` for float64)
# --------------------------------------------------------------------------------------

def jax_cost(name, l1=MLP_L1, l2=MLP_L2):
    """``cost(params, x, y)`` of program ``name`` in JAX (a list of parameter arrays)."""
    import jax
    import jax.numpy as jnp

    def nll(logits, y):
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(logp[jnp.arange(y.shape[0]), y])

    def conv_pool(x, W, b):
        # Theano's conv2d flips the filters: a correlation with the flipped filters.
        c = jax.lax.conv_general_dilated(x, W[:, :, ::-1, ::-1], (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        n, k, h, w = c.shape
        pooled = c.reshape(n, k, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        return jnp.tanh(pooled + b[None, :, None, None])

    def cost(params, x, y):
        if name == "logreg":
            W, b = params
            return nll(x @ W + b, y)
        if name == "mlp":
            W1, b1, W2, b2 = params
            h = jnp.tanh(x @ W1 + b1)
            return (nll(h @ W2 + b2, y) + l1 * (jnp.abs(W1).sum() + jnp.abs(W2).sum())
                    + l2 * ((W1 ** 2).sum() + (W2 ** 2).sum()))
        W0, b0, W1, b1, W2, b2, W3, b3 = params
        o0 = conv_pool(x.reshape(x.shape[0], 1, 28, 28), W0, b0)
        o1 = conv_pool(o0, W1, b1)
        h = jnp.tanh(o1.reshape(x.shape[0], -1) @ W2 + b2)
        return nll(h @ W3 + b3, y)

    if name not in PROGRAMS:
        raise ValueError(f"unknown program {name!r}")
    return cost


# --------------------------------------------------------------------------------------
# The reference file (python/tests/data/classic_grads.json)
# --------------------------------------------------------------------------------------

def reference_problem(entry):
    """``(x, y, params, probes)`` of one program's entry of the reference file, rebuilt
    from its recipe (``batch``, ``data_seed``, ``probe_seed``, ``probe_count``)."""
    x, y, params = make_problem(entry["program"], entry["batch"], entry["data_seed"])
    probes = make_probes([p.shape for p in params], entry["probe_seed"], entry["probe_count"])
    return x, y, params, probes


def deviations(entry, cost, grads, probes):
    """The relative deviations of ``cost`` and ``grads`` from a reference entry: the cost's
    and each gradient's norm relative to the stored value, each probe's dot product relative
    to its natural scale ``|grad| * |probe|`` (a dot product near zero is not compared to
    itself). Returns ``{"cost": d, name: max over the norm and the probes, ...}``."""
    out = {"cost": abs(float(cost) - entry["cost"]) / abs(entry["cost"])}
    for (name, ref), g, ps in zip(entry["grads"].items(), grads, probes):
        g = np.asarray(g, dtype=np.float64)
        if list(g.shape) != ref["shape"]:
            out[name] = math.inf
            continue
        got = summarize(g, ps)
        devs = [abs(got["norm"] - ref["norm"]) / ref["norm"]]
        for p, a, b in zip(ps, got["probes"], ref["probes"]):
            devs.append(abs(a - b) / (ref["norm"] * float(np.sqrt(np.sum(p * p)))))
        out[name] = max(devs)
    return out
