"""Random streams with Theano's API: ``tensor.shared_randomstreams.RandomStreams`` and
``sandbox.rng_mrg.MRG_RandomStreams``; default updates, ``seed()``, saving and restoring a
state, ``no_default_updates``, a shared variable's ``default_update``; dropout and a
denoising autoencoder's corruption."""

import math

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift.sandbox.rng_mrg import MRG_RandomStreams
from tensorlift.tensor.shared_randomstreams import RandomStreams

STREAMS = [RandomStreams, MRG_RandomStreams]


@pytest.mark.parametrize("Streams", STREAMS)
def test_every_distribution_has_its_shape_range_and_dtype(Streams):
    s = Streams(234)
    draws = {
        "uniform": s.uniform((50, 40), low=-1.0, high=2.0),
        "normal": s.normal((2000,), avg=3.0, std=0.5),
        "binomial": s.binomial((1000,), n=4, p=0.25),
        "integers": s.random_integers((1000,), low=2, high=5),
        "choice": s.choice((6,), a=9, replace=False),
        "permutation": s.permutation((3,), n=5),
        "multinomial": s.multinomial((7,), n=10, pvals=[0.2, 0.3, 0.5]),
    }
    f = theano.function([], list(draws.values()))
    v = dict(zip(draws, f()))
    assert v["uniform"].shape == (50, 40) and v["uniform"].dtype == theano.config.floatX
    assert v["uniform"].min() >= -1.0 and v["uniform"].max() < 2.0
    assert abs(v["uniform"].mean() - 0.5) < 0.05
    assert abs(v["normal"].mean() - 3.0) < 0.05 and abs(v["normal"].std() - 0.5) < 0.03
    assert v["binomial"].dtype == np.int64 and set(np.unique(v["binomial"])) <= set(range(5))
    assert abs(v["binomial"].mean() - 1.0) < 0.1
    assert set(np.unique(v["integers"])) == {2, 3, 4, 5}
    assert len(set(v["choice"])) == 6 and v["choice"].max() < 9
    assert v["permutation"].shape == (3, 5)
    assert all(sorted(row) == list(range(5)) for row in v["permutation"])
    assert v["multinomial"].shape == (7, 3) and (v["multinomial"].sum(axis=1) == 10).all()


@pytest.mark.parametrize("Streams", STREAMS)
def test_calls_draw_anew_and_seed_replays(Streams):
    s = Streams(42)
    u = s.uniform((4,))
    z = s.normal((2, 2))
    f = theano.function([], [u, z])
    a, b = f(), f()
    assert not np.array_equal(a[0], b[0]) and not np.array_equal(a[1], b[1])
    s.seed(42)
    c = f()
    np.testing.assert_array_equal(a[0], c[0])
    np.testing.assert_array_equal(a[1], c[1])
    s.seed(7)
    assert not np.array_equal(f()[0], a[0])


def test_the_two_modules_draw_alike_and_streams_are_distinct():
    a, b = RandomStreams(5), MRG_RandomStreams(5)
    fa = theano.function([], a.uniform((6,)))
    fb = theano.function([], b.uniform((6,)))
    np.testing.assert_array_equal(fa(), fb())
    two = theano.function([], [a.uniform((6,)), a.uniform((6,))])
    x, y = two()
    assert not np.array_equal(x, y)
    assert MRG_RandomStreams().default_instance_seed == 12345


def test_a_state_saves_and_restores():
    s = RandomStreams(11)
    u = s.uniform((3, 2))
    f = theano.function([], u)
    saved = u.rng.get_value()
    assert saved.dtype == np.int64 and saved.shape == (2,)
    first, second = f(), f()
    u.rng.set_value(saved)
    np.testing.assert_array_equal(f(), first)
    np.testing.assert_array_equal(f(), second)
    # Theano's state_updates and draw.update name the state and its new value.
    [(state, new)] = s.state_updates
    assert state is u.rng
    assert u.update[0] is u.rng
    g = theano.function([], u, updates=s.state_updates, no_default_updates=True)
    u.rng.set_value(saved)
    np.testing.assert_array_equal(g(), first)
    with pytest.raises(Exception):
        u.rng.set_value(np.zeros(3, dtype=np.int64))


def test_no_default_updates():
    s = MRG_RandomStreams(3)
    u, w = s.uniform((5,)), s.uniform((5,))
    frozen = theano.function([], u, no_default_updates=True)
    np.testing.assert_array_equal(frozen(), frozen())
    one = theano.function([], [u, w], no_default_updates=[u.rng])
    a, b = one(), one()
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])


def test_a_shared_variable_default_update():
    count = theano.shared(np.float64(0.0), name="count")
    assert count.default_update is None
    count.default_update = count + 1
    x = T.dscalar("x")
    f = theano.function([x], x * count)
    assert f(2.0) == 0.0 and f(2.0) == 2.0
    assert count.get_value() == 2.0
    g = theano.function([x], x * count, updates=[(count, count * 10)])
    g(1.0)
    assert count.get_value() == 20.0
    h = theano.function([x], x * count, no_default_updates=True)
    h(1.0)
    assert count.get_value() == 20.0
    count.default_update = None
    theano.function([x], x * count)(1.0)
    assert count.get_value() == 20.0


def test_symbolic_sizes_and_engines_agree(same_on_both_engines):
    s = RandomStreams(8)
    x = T.dmatrix("x")
    by_shape = s.uniform(size=x.shape)
    mixed = s.normal(size=(x.shape[0], 10))
    vector = s.random_integers(size=T.stack([x.shape[1], x.shape[0]]), low=0, high=3)
    xv = np.zeros((4, 6))
    outs = theano.function([x], [by_shape, mixed, vector])(xv)
    assert [o.shape for o in outs] == [(4, 6), (4, 10), (6, 4)]
    # The same state gives the same numbers natively and in the interpreter.
    same_on_both_engines([x], by_shape, xv)


def test_a_failed_call_leaves_the_state_and_bad_parameters_raise():
    s = RandomStreams(2)
    x = T.dvector("x")
    u = s.uniform((3,))
    f = theano.function([x], u + x)
    saved = u.rng.get_value()
    with pytest.raises(Exception):
        f(np.ones(2))
    np.testing.assert_array_equal(u.rng.get_value(), saved)
    p = T.dscalar("p")
    b = s.binomial((4,), p=p)
    g = theano.function([p], b)
    with pytest.raises(Exception, match="probability"):
        g(1.5)


def test_draws_have_no_gradient_through_their_parameters():
    s = RandomStreams(1)
    low = T.dscalar("low")
    u = s.uniform((3,), low=low, high=low + 1.0)
    with pytest.raises(Exception):
        T.grad(u.sum(), low)
    x = T.dvector("x")
    mask = s.binomial(x.shape, p=0.5, dtype="float64")
    gx = T.grad((x * mask).sum(), x)
    out, m = theano.function([x], [gx, mask])(np.ones(100))
    np.testing.assert_array_equal(out, m)


def test_dropout():
    s = MRG_RandomStreams(99)
    x = T.dmatrix("x")
    keep = 0.7
    dropped = x * s.binomial(size=x.shape, p=keep, dtype=theano.config.floatX) / keep
    f = theano.function([x], dropped)
    xv = np.full((200, 100), 2.0)
    a, b = f(xv), f(xv)
    assert set(np.unique(a)) <= {0.0, 2.0 / keep}
    assert abs((a != 0).mean() - keep) < 0.02
    assert abs(a.mean() - 2.0) < 0.05
    assert not np.array_equal(a, b)


def test_denoising_autoencoder_corruption():
    # deeplearning.net's dA: theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
    # dtype=theano.config.floatX) * input.
    theano_rng = RandomStreams(np.random.RandomState(123).randint(2 ** 30))
    x = T.matrix("x")
    corruption_level = 0.3
    tilde_x = theano_rng.binomial(size=x.shape, n=1, p=1 - corruption_level, dtype=theano.config.floatX) * x
    f = theano.function([x], tilde_x)
    xv = np.random.default_rng(0).uniform(0.1, 1.0, (300, 64)).astype(theano.config.floatX)
    out = f(xv)
    zeroed = (out == 0).mean()
    assert abs(zeroed - corruption_level) < 0.02
    kept = out != 0
    np.testing.assert_array_equal(out[kept], xv[kept])


def test_choice_weighted_and_items():
    s = RandomStreams(6)
    w = s.choice((20000,), a=3, p=[0.2, 0.3, 0.5])
    counts = np.bincount(theano.function([], w)(), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.2, 0.3, 0.5], atol=0.02)
    items = s.choice((10,), a=np.array([1.5, 2.5, 3.5]))
    got = theano.function([], items)()
    assert set(got) <= {1.5, 2.5, 3.5}
    m = MRG_RandomStreams(4).multinomial(pvals=np.array([[0.1, 0.9], [1.0, 0.0]]))
    rows = theano.function([], m)()
    assert rows.shape == (2, 2) and (rows.sum(axis=1) == 1).all() and list(rows[1]) == [1, 0]


def test_normal_by_kolmogorov_smirnov():
    s = MRG_RandomStreams(77)
    z = theano.function([], s.normal((10000,), dtype="float64"))()
    z.sort()
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    n = len(z)
    d = max((cdf - np.arange(n) / n).max(), (np.arange(1, n + 1) / n - cdf).max())
    assert d < 1.949 / math.sqrt(n)


def test_the_denoising_autoencoder_example_learns():
    import os
    import runpy
    import sys
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples" / "python"
    old_env, old_path = os.environ.get("N_EPOCHS"), list(sys.path)
    os.environ["N_EPOCHS"] = "2"
    sys.path.insert(0, str(examples))
    try:
        g = runpy.run_path(str(examples / "dA.py"), run_name="__main__")
    finally:
        sys.path[:] = old_path
        if old_env is None:
            os.environ.pop("N_EPOCHS", None)
        else:
            os.environ["N_EPOCHS"] = old_env
    costs = g["costs"]
    for corruption in (0.0, 0.3):
        first, second = costs[corruption]
        assert second < first - 5, (corruption, costs[corruption])
    # Corruption makes the reconstruction harder.
    assert costs[0.3][0] > costs[0.0][0]
