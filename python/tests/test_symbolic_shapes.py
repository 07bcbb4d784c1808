"""Symbolic slice bounds (Theano's minibatch idiom), symbolic ``arange``, and ``//``/``%``
with Python's signs, against NumPy."""

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T


BOUNDS = [None, -9, -7, -3, -1, 0, 1, 2, 6, 7, 10]
STEPS = [-8, -3, -1, 1, 2, 5]


def test_symbolic_slice_bounds_follow_numpy():
    x = T.dvector("x")
    a, b, k = T.lscalar("a"), T.lscalar("b"), T.lscalar("k")
    xv = np.arange(7.0) * 10 + 1
    f = theano.function([x, a, b, k], x[a:b:k])
    g = theano.function([x, a, k], x[a::k])
    for start in BOUNDS[1:]:
        for step in STEPS:
            np.testing.assert_array_equal(g(xv, start, step), xv[start::step])
            for stop in BOUNDS[1:]:
                np.testing.assert_array_equal(f(xv, start, stop, step), xv[start:stop:step])
    with pytest.raises(ValueError, match="step cannot be zero"):
        f(xv, 0, 3, 0)


def test_minibatches_through_givens_with_a_symbolic_index():
    data = np.arange(30.0).reshape(10, 3)
    labels = np.arange(10) % 3
    train_x = theano.shared(data, borrow=True)
    train_y = theano.shared(labels)
    index = T.lscalar("index")
    x, y = T.dmatrix("x"), T.lvector("y")
    bs = 4
    f = theano.function([index], [x.sum(axis=1), y * 2],
                        givens={x: train_x[index * bs:(index + 1) * bs],
                                y: train_y[index * bs:(index + 1) * bs]})
    for i in range(3):
        s, yy = f(i)
        np.testing.assert_array_equal(s, data[i * bs:(i + 1) * bs].sum(axis=1))
        np.testing.assert_array_equal(yy, labels[i * bs:(i + 1) * bs] * 2)


def test_symbolic_arange_and_shape():
    y = T.lvector("y")
    n = y.shape[0]
    r = T.arange(n)
    assert r.dtype == "int64"
    f = theano.function([y], [r, T.arange(1, n, 2), T.arange(n, dtype="float32")])
    a, b, c = f(np.array([5, 6, 7, 8, 9]))
    np.testing.assert_array_equal(a, np.arange(5))
    np.testing.assert_array_equal(b, np.arange(1, 5, 2))
    assert c.dtype == np.float32
    x = T.dscalar("x")
    h = theano.function([x], T.arange(0, x, 0.5))
    np.testing.assert_array_equal(h(2.2), np.arange(0, 2.2, 0.5))


def test_floor_division_and_modulo_follow_numpy():
    x, y = T.dvector("x"), T.dvector("y")
    i, j = T.lvector("i"), T.lvector("j")
    xv = np.array([-7.0, -7.5, -1.0, 0.5, 7.0, 7.5, 1.0])
    yv = np.array([2.0, -2.0, 0.1, 2.0, -2.0, 0.25, 0.1])
    iv = np.array([-7, -7, 7, 7, 0, -1])
    jv = np.array([2, -2, 2, -2, 3, 5])
    f = theano.function([x, y, i, j], [x // y, x % y, i // j, i % j, 7 // i, 7 % j, T.int_div(i, j), T.mod(x, y)])
    out = f(xv, yv, iv, jv)
    with np.errstate(divide="ignore"):  # NumPy, like tensorlift, gives 0 for 7 // 0
        want = [xv // yv, xv % yv, iv // jv, iv % jv, 7 // iv, 7 % jv, iv // jv, xv % yv]
    for got, w in zip(out, want):
        np.testing.assert_array_equal(got, w)
        assert got.dtype == w.dtype
    # `//` has zero gradient; `%` passes the gradient to its first operand.
    u = T.dscalar("u")
    g = theano.function([u], T.grad(u // 2.0 + u % 2.0, u))
    assert float(g(7.5)) == 1.0


def test_reshape_to_symbolic_lengths():
    x, m = T.dvector("x"), T.dmatrix("m")
    n = T.lscalar("n")
    f = theano.function([x, n, m], [x.reshape((n, -1)), x.reshape(m.shape), T.reshape(x, (m.shape[0], 2, -1))])
    xs = np.arange(12.0)
    a, b, c = f(xs, 3, np.zeros((3, 4)))
    np.testing.assert_array_equal(a, xs.reshape(3, -1))
    np.testing.assert_array_equal(b, xs.reshape(3, 4))
    np.testing.assert_array_equal(c, xs.reshape(3, 2, -1))
    with pytest.raises(ValueError, match="cannot reshape"):
        f(xs, 5, np.zeros((3, 4)))


def test_products_beyond_matrices_match_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))
    c, d = rng.normal(size=(3, 4, 2)), rng.normal(size=(2, 4, 5))
    x, y, z, w = T.dtensor3("x"), T.dmatrix("y"), T.dtensor3("z"), T.dtensor3("w")
    f = theano.function([x, y, z, w], [T.dot(x, y), T.tensordot(x, z, [[1, 2], [0, 1]]), T.tensordot(x, y, 1),
                                       T.batched_dot(d.transpose(0, 2, 1), w), x.dot(y)])
    got = f(a, b, c, d)
    want = [np.dot(a, b), np.tensordot(a, c, [[1, 2], [0, 1]]), np.tensordot(a, b, 1),
            np.einsum("bij,bjk->bik", d.transpose(0, 2, 1), d), np.dot(a, b)]
    for g, wv in zip(got, want):
        np.testing.assert_allclose(g, wv, rtol=1e-12, atol=1e-12)
    # The gradient of an LSTM-style `dot(state_below, W)` over a 3-d input.
    gw = theano.function([x, y], T.grad(T.dot(x, y).sum(), y))(a, b)
    np.testing.assert_allclose(gw, np.broadcast_to(a.sum(axis=(0, 1))[:, None], (4, 5)), rtol=1e-12)
