"""Shared fixtures of the Python package's tests."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: every test sees the same data on every run."""
    return np.random.default_rng(1234)


@pytest.fixture
def same_on_both_engines():
    """``check(inputs, draw, *args)``: the random draw ``draw`` of the inputs, computed from
    one saved state natively (FAST_RUN) and by the interpreter (FAST_COMPILE), is the same
    array; returns it."""
    import tensorlift as theano

    def check(inputs, draw, *args):
        saved = draw.rng.get_value()
        fast = theano.function(inputs, draw, mode="FAST_RUN")(*args)
        draw.rng.set_value(saved)
        slow = theano.function(inputs, draw, mode="FAST_COMPILE")(*args)
        np.testing.assert_array_equal(fast, slow)
        return fast

    return check
