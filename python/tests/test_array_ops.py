"""The array family against numpy: ``T.cumsum``, ``T.cumprod``, ``T.sort``, ``T.argsort``,
``T.repeat``, ``T.tile``, ``T.roll``, ``T.eye`` and ``T.identity_like`` (Theano's
``extra_ops``, ``sort`` and ``basic``) on random inputs of several shapes and axes, with
symbolic counts, shifts and lengths; the ``TensorVariable`` methods; gradients by finite
differences (``verify_grad``); and the errors. Every compiled test runs under
``FAST_RUN`` and ``FAST_COMPILE``."""

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


def var(shape, dtype="float64"):
    return T.tensor(dtype, [False] * len(shape), name="x")


SHAPES_AXES = [((7,), None), ((7,), 0), ((7,), -1), ((3, 4), None), ((3, 4), 0), ((3, 4), 1),
               ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4), None), ((0, 3), 1), ((4, 0), 0)]


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_cumsum_and_cumprod(shape, axis, mode, rng):
    x = var(shape)
    v = rng.normal(size=shape)
    s, p, m = run([x], [T.cumsum(x, axis), T.cumprod(x, axis=axis), x.cumsum(axis)], [v], mode)
    np.testing.assert_allclose(s, np.cumsum(v, axis=axis), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p, np.cumprod(v, axis=axis), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m, s, rtol=0, atol=0)


def test_cumsum_dtypes(mode):
    i, b = T.imatrix("i"), T.tensor("bool", [False], name="b")
    iv = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
    bv = np.array([True, False, True])
    si, pi, sb = run([i, b], [T.cumsum(i, axis=0), i.cumprod(axis=1), T.extra_ops.cumsum(b)], [iv, bv], mode)
    assert si.dtype == np.int32 and sb.dtype == np.int64
    np.testing.assert_array_equal(si, np.cumsum(iv, axis=0))
    np.testing.assert_array_equal(pi, np.cumprod(iv, axis=1))
    np.testing.assert_array_equal(sb, np.cumsum(bv))


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_sort_and_argsort(shape, axis, mode, rng):
    x = var(shape)
    v = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 3.0  # no ties
    s, a, ms, ma = run([x], [T.sort(x, axis), T.argsort(x, axis), x.sort(axis), x.argsort(axis=axis)], [v], mode)
    np.testing.assert_array_equal(s, np.sort(v, axis=axis))
    np.testing.assert_array_equal(a, np.argsort(v, axis=axis))
    assert a.dtype == np.int64
    np.testing.assert_array_equal(ms, s)
    np.testing.assert_array_equal(ma, a)


def test_sort_puts_nan_last_and_argsort_is_stable(mode):
    x, i = T.dvector("x"), T.lvector("i")
    v = np.array([2.0, np.nan, -np.inf, 0.5, np.nan, np.inf, -1.0])
    iv = np.array([3, 1, 3, 0, 1, 3])
    s, a, si, ai = run([x, i], [T.sort(x), T.argsort(x), T.sort(i, kind="mergesort"), T.argsort(i)],
                       [v, iv], mode)
    np.testing.assert_array_equal(s, np.sort(v))
    np.testing.assert_array_equal(a, np.argsort(v, kind="stable"))
    np.testing.assert_array_equal(si, np.sort(iv))
    np.testing.assert_array_equal(ai, np.argsort(iv, kind="stable"))


@pytest.mark.parametrize(
    "shape,repeats,axis",
    [((5,), 3, None), ((3, 4), 2, None), ((3, 4), 2, 0), ((3, 4), 0, 1), ((3, 4), [1, 0, 2], 0),
     ((3, 4), [2, 1, 0, 3], -1), ((2, 3, 2), [1, 3, 2], 1), ((2, 3), [2], 1), ((2, 2), [1, 2, 0, 3], None)],
)
def test_repeat(shape, repeats, axis, mode, rng):
    x = var(shape)
    v = rng.normal(size=shape)
    got, meth = run([x], [T.repeat(x, repeats, axis), x.repeat(repeats, axis=axis)], [v], mode)
    np.testing.assert_array_equal(got, np.repeat(v, repeats, axis=axis))
    np.testing.assert_array_equal(meth, got)


def test_repeat_with_symbolic_counts(mode, rng):
    x, n, c = T.dmatrix("x"), T.lscalar("n"), T.ivector("c")
    v = rng.normal(size=(3, 2))
    f = theano.function([x, n, c], [T.repeat(x, n, axis=0), T.repeat(x, c, axis=1)], mode=mode)
    for nv, cv in [(2, [1, 3]), (0, [0, 0]), (1, [4])]:
        a, b = f(v, nv, np.array(cv, dtype="int32"))
        np.testing.assert_array_equal(a, np.repeat(v, nv, axis=0))
        np.testing.assert_array_equal(b, np.repeat(v, cv, axis=1))


@pytest.mark.parametrize(
    "shape,reps,ndim",
    [((3,), 2, None), ((3,), (2, 2), None), ((2, 3), (2,), None), ((2, 3), (2, 1), None),
     ((2, 3), (1, 2, 3), None), ((2, 3), (3,), 3), ((2, 1, 3), (2, 2, 1), None), ((2, 3), (0, 2), None)],
)
def test_tile(shape, reps, ndim, mode, rng):
    x = var(shape)
    v = rng.normal(size=shape)
    (got,) = run([x], [T.tile(x, reps, ndim)], [v], mode)
    want = np.tile(v, reps)
    if ndim is not None:
        want = want.reshape((1,) * (ndim - want.ndim) + want.shape)
    np.testing.assert_array_equal(got, want)


def test_tile_with_symbolic_counts(mode, rng):
    x, a, r = T.dmatrix("x"), T.lscalar("a"), T.lvector("r")
    v = rng.normal(size=(2, 3))
    f = theano.function([x, a, r], [T.tile(x, [a, 2]), T.tile(x, r, ndim=3)], mode=mode)
    for av, rv in [(2, [2, 1]), (1, [3, 1, 2]), (3, [1])]:
        p, q = f(v, av, np.array(rv))
        np.testing.assert_array_equal(p, np.tile(v, (av, 2)))
        want = np.tile(v, rv)
        np.testing.assert_array_equal(q, want.reshape((1,) * (3 - want.ndim) + want.shape))


@pytest.mark.parametrize(
    "shape,shift,axis",
    [((6,), 2, None), ((6,), -7, 0), ((3, 4), 1, 1), ((3, 4), -1, 0), ((3, 4), 5, None),
     ((2, 3, 4), 2, -1), ((2, 3, 4), 11, 1), ((3, 4), 0, 1), ((0, 3), 2, 0)],
)
def test_roll(shape, shift, axis, mode, rng):
    x, s = var(shape), T.lscalar("s")
    v = rng.normal(size=shape)
    fixed, sym = run([x, s], [T.roll(x, shift, axis), T.roll(x, s, axis)], [v, shift], mode)
    np.testing.assert_array_equal(fixed, np.roll(v, shift, axis=axis))
    np.testing.assert_array_equal(sym, np.roll(v, shift, axis=axis))


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 4, 1), (4, 3, -1), (3, 3, 5), (0, 2, 0), (1, 1, 0)])
def test_eye(n, m, k, mode):
    ns, ms, ks = T.lscalar("n"), T.lscalar("m"), T.iscalar("k")
    const = T.eye(n, m, k)
    assert isinstance(const, T.TensorConstant)
    sym = T.eye(ns, ms, ks, dtype="int32")
    a, b = run([ns, ms, ks], [const, sym], [n, n if m is None else m, k], mode)
    np.testing.assert_array_equal(a, np.eye(n, m, k))
    assert a.dtype == theano.config.floatX and b.dtype == np.int32
    np.testing.assert_array_equal(b, np.eye(n, m, k, dtype="int32"))


def test_eye_of_a_symbolic_length_and_identity_like(mode, rng):
    x = T.fmatrix("x")
    v = rng.normal(size=(2, 5)).astype("float32")
    a, b = run([x], [T.eye(x.shape[1]), T.identity_like(x)], [v], mode)
    np.testing.assert_array_equal(a, np.eye(5))
    assert b.dtype == np.float32
    np.testing.assert_array_equal(b, np.eye(2, 5, dtype="float32"))


# --------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------


def test_verify_grad(rng):
    vg = theano.gradient.verify_grad
    m = rng.normal(size=(3, 4))
    vg(lambda x: T.cumsum(x, axis=1), [m], rng=rng)
    vg(lambda x: T.cumsum(x), [m], rng=rng)
    vg(lambda x: T.cumprod(x, axis=0), [rng.uniform(0.5, 1.5, size=(3, 4))], rng=rng)
    vg(lambda x: T.cumprod(x), [rng.uniform(-1.5, -0.5, size=(2, 3))], rng=rng)
    for axis in [0, 1, -1, None]:
        vg(lambda x: T.sort(x, axis), [m], rng=rng)
    vg(lambda x: T.repeat(x, 3, axis=0), [m], rng=rng)
    vg(lambda x: T.repeat(x, [2, 0, 1, 3], axis=1), [m], rng=rng)
    vg(lambda x: T.repeat(x, np.array([1, 2] * 6), axis=None), [m], rng=rng)
    vg(lambda x: T.tile(x, (2, 1, 2)), [m], rng=rng)
    vg(lambda x: T.roll(x, 3, axis=1), [m], rng=rng)
    vg(lambda x: T.roll(x, -5), [m], rng=rng)
    vg(lambda x: T.roll(x, x.shape[0] + 1, axis=0), [m], rng=rng)


def test_argsort_has_no_gradient():
    x = T.dvector("x")
    g = theano.grad((T.argsort(x) * x).sum(), x)
    np.testing.assert_array_equal(theano.function([x], g)(np.array([0.5, -1.0, 2.0])), [1.0, 0.0, 2.0])


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def test_errors_when_building():
    x, f = T.dmatrix("x"), T.dscalar("f")
    with pytest.raises(errors.AxisError):
        T.cumsum(x, axis=2)
    with pytest.raises(errors.AxisError):
        T.sort(x, axis=-3)
    with pytest.raises(errors.AxisError):
        T.repeat(x, 2, axis=2)
    with pytest.raises(ValueError, match="kind"):
        T.sort(x, kind="bogo")
    with pytest.raises(ValueError, match="order"):
        x.argsort(order="f0")
    with pytest.raises(errors.DTypeError):
        T.repeat(x, f)
    with pytest.raises(ValueError, match="repeats may not be negative"):
        T.repeat(x, -1)
    with pytest.raises(errors.ShapeMismatch):
        T.repeat(T.tensor("float64", shape=(3, 2)), [1, 2], axis=0)
    with pytest.raises(errors.DTypeError):
        T.roll(x, f)
    with pytest.raises(errors.DTypeError):
        T.eye(f)
    with pytest.raises(errors.RankError):
        T.identity_like(T.dvector("v"))
    with pytest.raises(ValueError, match="ndim"):
        T.tile(x, (2,), ndim=1)
    with pytest.raises(ValueError, match="ndim must be given"):
        T.tile(x, T.lvector("r"))


def test_errors_when_called():
    x, c, n = T.dmatrix("x"), T.lvector("c"), T.lscalar("n")
    f = theano.function([x, c], T.repeat(x, c, axis=1))
    with pytest.raises(errors.ShapeMismatch):
        f(np.zeros((2, 3)), np.array([1, 2]))
    with pytest.raises(ValueError, match="repeats may not be negative"):
        f(np.zeros((2, 3)), np.array([1, -2, 1]))
    with pytest.raises(ValueError, match="negative dimensions"):
        theano.function([n], T.eye(n))(-1)
