"""``scan``: Theano's scan tutorial cells, taps, until, updates, random streams inside a
step, gradients (verify_grad, truncate_gradient), and an Elman network trained by BPTT."""

import os
import sys

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python")


def test_power_by_repeated_multiplication():
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A,
                                  outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    power = theano.function(inputs=[A, k], outputs=result[-1], updates=updates)
    np.testing.assert_allclose(power(np.arange(10, dtype=theano.config.floatX), 2), np.arange(10) ** 2)


def test_polynomial_over_coefficients():
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    components, updates = theano.scan(
        fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
        outputs_info=None, sequences=[coefficients, T.arange(10000)], non_sequences=x)
    f = theano.function(inputs=[coefficients, x], outputs=components.sum())
    assert f(np.asarray([1, 0, 2], dtype=np.float32), 3) == pytest.approx(19.0)


def test_running_sum_and_jacobian_by_scan():
    a = T.dvector("a")
    s, _ = theano.scan(lambda v, acc: acc + v, sequences=a, outputs_info=T.constant(0.0))
    np.testing.assert_array_equal(theano.function([a], s)(np.arange(5.0)), [0, 1, 3, 6, 10])
    x = T.dvector("x")
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                             non_sequences=[y, x])
    np.testing.assert_allclose(theano.function([x], J, updates=updates)([4, 4]), [[8, 0], [0, 8]])


def test_taps_and_go_backwards():
    x = T.dvector("x")
    out, _ = theano.scan(lambda xm2, x0: x0 - xm2, sequences=dict(input=x, taps=[-2, 0]))
    xs = np.arange(6.0) ** 2
    np.testing.assert_allclose(theano.function([x], out)(xs), xs[2:] - xs[:-2])
    init = T.dvector("init")
    fib, _ = theano.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=6)
    np.testing.assert_array_equal(theano.function([init], fib)([1.0, 1.0]), [2, 3, 5, 8, 13, 21])
    rev, _ = theano.scan(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=T.constant(0.0),
                         go_backwards=True)
    np.testing.assert_array_equal(theano.function([x], rev)(np.array([1.0, 2.0, 3.0])), [3, 32, 321])


def test_until_and_updates():
    def power_of_2(previous_power, max_value):
        return previous_power * 2, theano.scan_module.until(previous_power * 2 > max_value)

    max_value = T.scalar()
    values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.), non_sequences=max_value, n_steps=1024)
    np.testing.assert_array_equal(theano.function([max_value], values)(45), [2, 4, 8, 16, 32, 64])

    count = theano.shared(0.0, "count")
    x = T.dvector("x")
    out, updates = theano.scan(lambda v: (v * count, {count: count + 1}), sequences=x)
    assert list(updates.keys()) == [count]
    f = theano.function([x], out, updates=updates)
    np.testing.assert_array_equal(f(np.ones(3)), [0, 1, 2])
    assert count.get_value() == 3


def test_random_draws_inside_a_step_advance_every_step():
    srng = T.shared_randomstreams.RandomStreams(seed=3)
    out, updates = theano.scan(lambda: srng.uniform((2,)), n_steps=5)
    assert len(updates) == 1
    f = theano.function([], out, updates=updates)
    a, b = f(), f()
    assert a.shape == (5, 2)
    assert len({tuple(r) for r in a}) == 5
    assert not np.array_equal(a, b)


def test_gradients_through_scan():
    def model(x, w):
        h, _ = theano.scan(lambda xt, hp: T.tanh(xt * w + hp), sequences=x, outputs_info=T.zeros_like(w))
        return (h ** 2).sum()

    rng = np.random.RandomState(0)
    theano.gradient.verify_grad(lambda x, w: model(x, w), [rng.randn(5, 3), rng.randn(3)], rng=rng)

    x = T.dvector("x")
    s, _ = theano.scan(lambda v, acc: acc * 0.5 + v ** 2, sequences=x, outputs_info=T.constant(0.0),
                       truncate_gradient=2)
    g = theano.function([x], T.grad(s[-1], x))(np.ones(5))
    np.testing.assert_allclose(g, [0, 0, 0, 1.0, 2.0])


def test_elman_network_learns_by_bptt():
    sys.path.insert(0, EXAMPLES)
    try:
        import rnn
    finally:
        sys.path.pop(0)
    losses = rnn.train(epochs=120, verbose=False)
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:10])
