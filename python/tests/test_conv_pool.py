"""Convolution and pooling from Python (Theano's ``nnet.conv2d``, ``abstract_conv`` and
``signal.pool``): values against direct NumPy loops (and SciPy when installed), in the
native mode and the reference interpreter; gradients by finite differences; the gradient
functions against ``T.grad``; Theano's parameter spellings and errors."""

import warnings

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import errors
from tensorlift.tensor.nnet import abstract_conv, conv2d
from tensorlift.tensor.nnet import conv as old_conv
from tensorlift.tensor.signal import pool

MODES = ["FAST_RUN", "FAST_COMPILE"]


def np_conv2d(x, w, pads=((0, 0), (0, 0)), stride=(1, 1), dil=(1, 1), flip=True, groups=1):
    """The definition, as direct loops."""
    b, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    dkh, dkw = (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
    oh = (xp.shape[2] - dkh) // stride[0] + 1
    ow = (xp.shape[3] - dkw) // stride[1] + 1
    wf = w[:, :, ::-1, ::-1] if flip else w
    og = o // groups
    y = np.zeros((b, o, oh, ow))
    for n in range(b):
        for k in range(o):
            g = k // og
            for i in range(oh):
                for j in range(ow):
                    patch = xp[n, g * cg:(g + 1) * cg, i * stride[0]:i * stride[0] + dkh:dil[0],
                               j * stride[1]:j * stride[1] + dkw:dil[1]]
                    y[n, k, i, j] = np.sum(patch * wf[k])
    return y


def pads_of(border_mode, w, dil=(1, 1)):
    kh, kw = w.shape[2:]
    dk = ((kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1)
    if border_mode == "valid":
        return ((0, 0), (0, 0))
    if border_mode == "full":
        return ((dk[0] - 1,) * 2, (dk[1] - 1,) * 2)
    if border_mode == "half":
        return ((dk[0] // 2,) * 2, (dk[1] // 2,) * 2)
    if isinstance(border_mode, int):
        return ((border_mode,) * 2,) * 2
    return tuple(m if isinstance(m, tuple) else (m, m) for m in border_mode)


CASES = [
    dict(border_mode="valid"),
    dict(border_mode="full"),
    dict(border_mode="half"),
    dict(border_mode=2),
    dict(border_mode=(1, (0, 2))),
    dict(border_mode="half", subsample=(2, 3)),
    dict(border_mode="valid", filter_dilation=(2, 1)),
    dict(border_mode="full", filter_flip=False, subsample=(1, 2), filter_dilation=(1, 2)),
    dict(border_mode=(1, 1), num_groups=2),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_direct_loops(rng, case, mode):
    groups = case.get("num_groups", 1)
    xv = rng.standard_normal((2, 4, 7, 6))
    wv = rng.standard_normal((6, 4 // groups, 3, 2))
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = theano.function([x, w], conv2d(x, w, **case), mode=mode)
    want = np_conv2d(xv, wv, pads_of(case["border_mode"], wv, case.get("filter_dilation", (1, 1))),
                     case.get("subsample", (1, 1)), case.get("filter_dilation", (1, 1)),
                     case.get("filter_flip", True), groups)
    np.testing.assert_allclose(f(xv, wv), want, rtol=1e-12, atol=1e-12)


def test_conv2d_matches_scipy_per_channel(rng):
    signal = pytest.importorskip("scipy.signal")
    xv, wv = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 4))
    x, w = T.dtensor4("x"), T.dtensor4("w")
    for border, flip, fn in [("valid", True, signal.convolve2d), ("full", True, signal.convolve2d),
                             ("valid", False, signal.correlate2d)]:
        got = theano.function([x, w], conv2d(x, w, border_mode=border, filter_flip=flip))(xv, wv)
        want = np.array([[sum(fn(xv[b, c], wv[o, c], mode=border) for c in range(3)) for o in range(4)]
                         for b in range(2)])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32(rng):
    x, w = T.ftensor4("x"), T.ftensor4("w")
    y = pool.pool_2d(conv2d(x, w), (2, 2), ignore_border=True)
    assert y.dtype == "float32"
    xv, wv = rng.standard_normal((3, 2, 9, 8)).astype("float32"), rng.standard_normal((5, 2, 3, 3)).astype("float32")
    got = theano.function([x, w], y)(xv, wv)
    assert got.dtype == np.float32
    full = np_conv2d(xv.astype(float), wv.astype(float))
    want = full[:, :, :6, :6].reshape(3, 5, 3, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_gradients_pass_finite_differences(rng, case):
    groups = case.get("num_groups", 1)
    xv = rng.standard_normal((2, 4, 6, 5))
    wv = rng.standard_normal((2, 4 // groups, 3, 2))
    theano.gradient.verify_grad(lambda x, w: conv2d(x, w, **case), [xv, wv], rng=np.random.RandomState(1))


def test_gradient_functions_are_tgrad(rng):
    x, w, top = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("top")
    kw = dict(border_mode="half", subsample=(2, 2), filter_flip=False)
    y = conv2d(x, w, **kw)
    gx, gw = T.grad((y * top).sum(), [x, w])
    gi = abstract_conv.conv2d_grad_wrt_inputs(top, w, x.shape, **kw)
    gwf = abstract_conv.conv2d_grad_wrt_weights(x, top, (3, 3, 3, 2), **kw)
    tr = abstract_conv.conv2d_transpose(top, w, (None, None, 7, 6), border_mode="half", input_dilation=(2, 2),
                                        filter_flip=False)
    f = theano.function([x, w, top], [gx, gi, gw, gwf, tr])
    xv, wv, tv = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal((2, 4, 4, 4))
    a, b, c, d, e = f(xv, wv, tv)
    np.testing.assert_allclose(a, b, rtol=1e-13)
    np.testing.assert_allclose(c, d, rtol=1e-13)
    np.testing.assert_allclose(a, e, rtol=1e-13)
    assert b.shape == xv.shape and d.shape == (4, 3, 3, 2)


def np_pool(x, ws, stride, pad, ignore_border, mode):
    """Theano's windows, as loops."""
    def out_len(n, w, s, p):
        r = n + 2 * p
        if ignore_border:
            return max(0, (r - w) // s + 1)
        return (r - 1) // s + 1 if s >= w else max(0, (r - 1 - w + s) // s) + 1

    def window(i, n, w, s, p):
        a, b = i * s, i * s + w
        return max(a, p) - p, min(b, n + p) - p

    h, wd = x.shape[-2:]
    oh, ow = out_len(h, ws[0], stride[0], pad[0]), out_len(wd, ws[1], stride[1], pad[1])
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        r0, r1 = window(i, h, ws[0], stride[0], pad[0])
        for j in range(ow):
            c0, c1 = window(j, wd, ws[1], stride[1], pad[1])
            reg = x[..., r0:r1, c0:c1]
            if mode == "max":
                v = reg.max(axis=(-1, -2))
            elif mode == "sum":
                v = reg.sum(axis=(-1, -2))
            elif mode == "average_inc_pad" and ignore_border:
                v = reg.sum(axis=(-1, -2)) / (ws[0] * ws[1])
            else:
                v = reg.mean(axis=(-1, -2))
            out[..., i, j] = v
    return out


POOLS = [
    ((2, 2), None, (0, 0), True),
    ((2, 2), None, (0, 0), False),
    ((3, 2), (1, 2), (0, 0), False),
    ((3, 3), (2, 2), (1, 2), True),
    ((2, 3), (2, 1), (1, 0), True),
]


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ws,stride,pad,ignore_border", POOLS)
def test_pool_2d_matches_direct_loops_and_differentiates(rng, ws, stride, pad, ignore_border, mode):
    xv = rng.standard_normal((2, 3, 7, 8))
    x = T.dtensor4("x")
    y = pool.pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    want = np_pool(xv, ws, stride or ws, pad, ignore_border, mode)
    for fmode in MODES:
        np.testing.assert_allclose(theano.function([x], y, mode=fmode)(xv), want, rtol=1e-13)
    theano.gradient.verify_grad(
        lambda v: pool.pool_2d(v, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode), [xv[:1]],
        rng=np.random.RandomState(2))


def test_max_pool_gradient_goes_to_every_tied_maximum():
    xv = np.array([[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0]]])
    x = T.dtensor3("x")
    g = T.grad(pool.pool_2d(x, (2, 2), ignore_border=True).sum(), x)
    np.testing.assert_array_equal(theano.function([x], g)(xv), [[[0, 1, 1, 0], [1, 0, 0, 1]]])
    same = pool.max_pool_2d_same_size(x, (2, 2))
    np.testing.assert_array_equal(theano.function([x], same)(xv), [[[0, 3, 3, 0], [3, 0, 0, 3]]])


def test_theano_spellings_of_pool_2d():
    x = T.dmatrix("x")
    xv = np.arange(35.0).reshape(5, 7)
    with pytest.warns(UserWarning, match="ignore_border"):
        y = pool.pool_2d(x, (2, 2))
    assert theano.function([x], y)(xv).shape == (3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = pool.pool_2d(x, ds=(2, 2), st=(1, 1), ignore_border=True)
    assert theano.function([x], z)(xv).shape == (4, 6)
    with pytest.raises(ValueError):
        pool.pool_2d(x, (2, 2), ds=(2, 2), ignore_border=True)
    with pytest.raises(ValueError):
        pool.pool_2d(x, (2, 2), ignore_border=True, mode="median")
    with pytest.raises(ValueError, match="ignore_border"):
        pool.pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))


def test_errors_are_theanos():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.raises(ValueError, match="invalid border_mode"):
        conv2d(x, w, border_mode="same")
    with pytest.raises(ValueError, match="subsample must have 2 elements"):
        conv2d(x, w, subsample=(1, 1, 1))
    with pytest.raises(NotImplementedError):
        conv2d(x, w, unshared=True)
    f = theano.function([x, w], conv2d(x, w))
    with pytest.raises(errors.ShapeMismatch):
        f(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        f(np.zeros((1, 3, 2, 5)), np.zeros((2, 3, 3, 3)))
    xs = T.tensor(dtype="float64", shape=(2, 3, 5, 5), name="xs")
    with pytest.raises(ValueError, match="shape mismatch"):
        conv2d(xs, w, input_shape=(2, 4, 5, 5))
    ws = T.tensor(dtype="float64", shape=(4, 2, 3, 3), name="ws")
    with pytest.raises(errors.ShapeMismatch):
        conv2d(xs, ws)


def test_old_conv_module_and_output_shape_helper(rng):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    xv, wv = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    got = theano.function([x, w], old_conv.conv2d(x, w, border_mode="full"))(xv, wv)
    np.testing.assert_allclose(got, np_conv2d(xv, wv, ((2, 2), (2, 2))), rtol=1e-12)
    assert abstract_conv.get_conv_output_shape((1, 2, 6, 6), (3, 2, 3, 3), "full", (1, 1)) == (1, 3, 8, 8)


def test_a_lenet_step_lowers_the_cost(rng):
    x, y = T.dtensor4("x"), T.dmatrix("y")
    w1 = theano.shared(rng.standard_normal((4, 1, 5, 5)) * 0.3, "w1")
    w2 = theano.shared(rng.standard_normal((36, 3)) * 0.3, "w2")
    h = T.tanh(pool.pool_2d(conv2d(x, w1), (2, 2), ignore_border=True))
    p = T.nnet.softmax(T.dot(h.flatten(2), w2))
    cost = -T.mean(T.sum(y * T.log(p), axis=1))
    g1, g2 = T.grad(cost, [w1, w2])
    f = theano.function([x, y], cost, updates=[(w1, w1 - 0.1 * g1), (w2, w2 - 0.1 * g2)])
    xv = rng.standard_normal((8, 1, 10, 10))
    yv = np.eye(3)[np.arange(8) % 3]
    c0 = f(xv, yv)
    c1 = f(xv, yv)
    assert c1 < c0
