"""Advanced indexing (Theano's ``AdvancedSubtensor1``, ``AdvancedSubtensor`` and their
``AdvancedIncSubtensor`` updates) against numpy: integer vectors and matrices, lists and
numpy arrays as constant indices, shared index vectors, ``p[T.arange(n), y]``, boolean
masks, ``T.take``, ``set_subtensor``/``inc_subtensor`` with repeated positions, gradients
(numpy-derived and by finite differences), the integer-label cross-entropy, and the errors.
Every compiled test runs under ``FAST_RUN`` and ``FAST_COMPILE``."""

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import errors


@pytest.fixture(params=["FAST_RUN", "FAST_COMPILE"])
def mode(request):
    return request.param


def run(inputs, outputs, values, mode):
    return theano.function(inputs, outputs, mode=mode)(*values)


W = np.arange(15.0).reshape(5, 3) * 0.5 - 2
X3 = np.arange(24.0).reshape(2, 3, 4) - 7


def test_embedding_lookup(mode):
    w, ids, idm = T.dmatrix("W"), T.lvector("ids"), T.imatrix("idm")
    i = np.array([4, 0, -1, 2, 0])
    m = np.array([[1, 2], [0, -2]], dtype="int32")
    a, b = run([w, ids, idm], [w[ids], w[idm]], [W, i, m], mode)
    np.testing.assert_array_equal(a, W[i])
    np.testing.assert_array_equal(b, W[m])
    assert w[ids].ndim == 2 and w[idm].ndim == 3


@pytest.mark.parametrize(
    "key",
    [
        lambda: (slice(None), [2, 0, 2]),
        lambda: ([1, 0], slice(None), [3, 1]),
        lambda: (slice(None), 0, np.array([3, 1])),
        lambda: (0, slice(None), [3, 1]),
        lambda: (slice(1, None), np.array([[0], [2]]), slice(None, None, -2)),
        lambda: (Ellipsis, [1, -1]),
        lambda: ([[1], [0]], [0, 1, 2]),
        lambda: ([1, 0], None),
        lambda: (None, slice(None), [2, 1]),
        lambda: (slice(None), None, [2, 0]),
        lambda: ([1, 0], None, slice(None), [3, 1]),
        lambda: (Ellipsis, None, [1, -1]),
        lambda: (None, 1, [2, 0], None),
    ],
    ids=["slice-array", "separated", "position-adjacent", "position-separated", "matrix", "ellipsis",
         "broadcast", "array-newaxis", "newaxis-first", "newaxis-between", "newaxis-separates",
         "ellipsis-newaxis", "newaxes-around"],
)
def test_numpy_result_shapes(key, mode):
    x = T.dtensor3("x")
    k = key()
    out = run([x], x[k], [X3], mode)
    np.testing.assert_array_equal(out, X3[k])
    assert x[k].ndim == X3[k].ndim


def test_gradient_through_a_new_axis_beside_an_index_array(mode):
    w, ids = T.dmatrix("W"), T.lvector("ids")
    i = np.array([4, 0, 4])
    g = run([w, ids], T.grad(T.sum(w[ids, None] * np.arange(3.0)), w), [W, i], mode)
    want = np.zeros_like(W)
    np.add.at(want, i, np.arange(3.0))
    np.testing.assert_array_equal(g, want)


def test_shared_index_vector(mode):
    x = T.dmatrix("x")
    idx = theano.shared(np.array([3, 0, 3]), name="idx")
    out = run([x], x[:, idx], [W.T], mode)
    np.testing.assert_array_equal(out, W.T[:, [3, 0, 3]])


def test_one_element_per_row(mode):
    p, y = T.dmatrix("p"), T.lvector("y")
    pv = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5], [0.1, 0.8, 0.1]])
    yv = np.array([2, 0, 1, 1])
    symbolic = p[T.arange(p.shape[0]), y]
    constant = p[T.arange(4), y]
    a, b = run([p, y], [symbolic, constant], [pv, yv], mode)
    np.testing.assert_array_equal(a, pv[np.arange(4), yv])
    np.testing.assert_array_equal(b, pv[np.arange(4), yv])


def test_boolean_masks(mode):
    x, m = T.dtensor3("x"), T.tensor("bool", (False, False), name="m")
    mask = (np.arange(12).reshape(3, 4) % 3) == 1
    a, b, c = run([x, m], [x[x > 0], x[1][m], x[:, np.array([True, False, True])]], [X3, mask], mode)
    np.testing.assert_array_equal(a, X3[X3 > 0])
    np.testing.assert_array_equal(b, X3[1][mask])
    np.testing.assert_array_equal(c, X3[:, [True, False, True]])


def test_take(mode):
    a, i = T.dmatrix("a"), T.lvector("i")
    av = np.arange(12.0).reshape(3, 4)
    outs = [T.take(a, i), T.take(a, [[3, 0], [1, 1]], axis=1), a.take(i, axis=-2), T.take(a, 2, axis=1)]
    got = run([a, i], outs, [av, np.array([2, 0, -1])], mode)
    expect = [np.take(av, [2, 0, -1]), np.take(av, [[3, 0], [1, 1]], axis=1), np.take(av, [2, 0, -1], axis=-2),
              np.take(av, 2, axis=1)]
    for g, e in zip(got, expect):
        np.testing.assert_array_equal(g, e)
    with pytest.raises(NotImplementedError):
        T.take(a, i, mode="clip")


def test_set_and_inc_with_repeated_positions(mode):
    x, y, ids = T.dvector("x"), T.dvector("y"), T.lvector("ids")
    xv, yv, iv = np.arange(5.0), np.array([10.0, 20.0, 30.0]), np.array([1, 3, 1])
    s, inc = run([x, y, ids], [T.set_subtensor(x[ids], y), T.inc_subtensor(x[ids], y)], [xv, yv, iv], mode)
    es = xv.copy()
    es[iv] = yv  # numpy: the last write wins
    ei = xv.copy()
    np.add.at(ei, iv, yv)  # Theano's AdvancedIncSubtensor1: repeats accumulate
    np.testing.assert_array_equal(s, es)
    np.testing.assert_array_equal(inc, ei)
    # Rows of a matrix, a mask with a scalar, and set_instead_of_inc.
    w, v = T.dmatrix("W"), T.dmatrix("v")
    rows = run([w, v], T.inc_subtensor(w[[0, 2, 0]], v), [W, np.ones((3, 3))], mode)
    er = W.copy()
    np.add.at(er, [0, 2, 0], np.ones((3, 3)))
    np.testing.assert_array_equal(rows, er)
    relu = run([w], T.set_subtensor(w[w < 0], 0.0), [W], mode)
    np.testing.assert_array_equal(relu, np.maximum(W, 0))
    swap = run([w], T.inc_subtensor(w[:, [2, 0]], w[:, [0, 2]], set_instead_of_inc=True), [W], mode)
    np.testing.assert_array_equal(swap, W[:, [2, 1, 0]])


def test_gradient_of_a_gather_is_a_scatter_add(mode):
    w, ids = T.dmatrix("W"), T.lvector("ids")
    iv = np.array([0, 2, 0, -1])
    cost = (w[ids] * np.arange(12.0).reshape(4, 3)).sum()
    g = run([w, ids], T.grad(cost, w), [W, iv], mode)
    expect = np.zeros_like(W)
    np.add.at(expect, iv, np.arange(12.0).reshape(4, 3))
    np.testing.assert_array_equal(g, expect)


def test_nll_and_its_gradient(mode):
    p, y = T.dmatrix("p"), T.lvector("y")
    pv = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5], [0.1, 0.8, 0.1]])
    yv = np.array([2, 0, 1, 1])
    n = p.shape[0]
    nll = -T.mean(T.log(p)[T.arange(n), y])
    cost, g = run([p, y], [nll, T.grad(nll, p)], [pv, yv], mode)
    rows = np.arange(4)
    np.testing.assert_allclose(cost, -np.mean(np.log(pv)[rows, yv]), rtol=1e-15)
    expect = np.zeros_like(pv)
    expect[rows, yv] = -1.0 / (4 * pv[rows, yv])
    np.testing.assert_allclose(g, expect, rtol=1e-15)


def test_categorical_crossentropy_with_integer_labels(mode):
    z, y = T.dmatrix("z"), T.ivector("y")
    zv = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    yv = np.array([1, 2], dtype="int32")
    cce = T.nnet.categorical_crossentropy(T.nnet.softmax(z), y)
    out, g = run([z, y], [cce, T.grad(cce.sum(), z)], [zv, yv], mode)
    sm = np.exp(zv) / np.exp(zv).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, -np.log(sm[np.arange(2), yv]), rtol=1e-14)
    np.testing.assert_allclose(g, sm - np.eye(3)[yv], rtol=1e-12, atol=1e-15)
    with pytest.raises(TypeError):
        T.nnet.categorical_crossentropy(T.dtensor3(), y)


def test_verify_grad_through_advanced_indexing():
    rng = np.random.default_rng(7)
    theano.gradient.verify_grad(lambda w: w[[3, 0, 3, -1]], [rng.normal(size=(4, 3))], rng=rng)
    theano.gradient.verify_grad(lambda x: x[x > 0] ** 2, [rng.normal(size=(3, 4))], rng=rng)
    theano.gradient.verify_grad(
        lambda x, v: T.inc_subtensor(x[:, [2, 0, 2]], v ** 2), [rng.normal(size=(2, 4)), rng.normal(size=(2, 3))],
        rng=rng)
    theano.gradient.verify_grad(
        lambda x, v: T.set_subtensor(x[[1, 0]], v * 3), [rng.normal(size=(3, 2)), rng.normal(size=(2, 2))],
        rng=rng)


def test_errors():
    x = T.dmatrix("x")
    f = theano.function([x], x[[0, 3]])
    with pytest.raises(errors.IndexOutOfBounds, match="index 3 is out of bounds for axis 0 with size 3"):
        f(np.zeros((3, 2)))
    with pytest.raises(IndexError):
        theano.function([x], x[:, [-3]])(np.zeros((3, 2)))
    with pytest.raises(errors.DTypeError, match="integer or boolean index array"):
        x[T.dvector("f")]
    with pytest.raises(TypeError):
        x[np.array([0.5, 1.0])]
    with pytest.raises(errors.ShapeMismatch):
        theano.function([x], x[np.array([True, False])])(np.zeros((3, 2)))
    with pytest.raises(errors.InvalidGraph, match="ellipsis"):
        x[..., [0, 1], None, ...]
