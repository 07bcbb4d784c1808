"""``tensorlift.tensor.shared_randomstreams`` (Theano's ``theano.tensor.shared_randomstreams``):
``RandomStreams``, symbolic random draws whose generator states are shared variables.

Each draw has its own state, a shared int64 vector ``[key, counter]`` (``draw.rng``): the
key comes from the seed and the draw's number, and a draw is a pure function of the state
(Philox4x32-10, counter-based), so the numbers are the same on every engine and thread
count. A function computing a draw advances its state after every call (the state's default
update, ``draw.update``), unless it updates the state itself or is built with
``no_default_updates``. ``seed(s)`` reseeds every state; ``rng.get_value()`` and
``rng.set_value(v)`` save and restore one.

The values differ from Theano's (which draws from NumPy's ``RandomState``); the
distributions and the API are Theano's.
"""

import os as _os

from .. import _core

__all__ = ["RandomStreams"]


def _seed64(seed):
    """A seed as an unsigned 64-bit number: a fresh random one for ``None``."""
    if seed is None:
        return int.from_bytes(_os.urandom(8), "little")
    return int(seed) % (1 << 64)


def _float_dtype(*params):
    """Theano's default dtype of a float draw: floatX, upcast with the parameters' float
    dtypes."""
    dtype = _core.float_x()
    for p in params:
        if isinstance(p, _core.TensorVariable) and p.dtype == "float64":
            dtype = "float64"
    return dtype


def _check_ndim(size, ndim):
    if ndim is not None and isinstance(size, (tuple, list)) and len(size) != ndim:
        raise ValueError(f"ndim={ndim} does not match the size {size!r}")


class RandomStreams:
    """Theano's ``RandomStreams(seed)``: a source of symbolic random draws, each with its
    own generator state; ``seed=None`` seeds from the operating system."""

    def __init__(self, seed=None):
        self.default_instance_seed = seed
        self._streams = _core.RandomStreams(_seed64(seed))

    # State -------------------------------------------------------------------------------

    @property
    def state_updates(self):
        """``[(state, new_state), ...]``: every draw's state and its update."""
        return self._streams.state_updates()

    def updates(self):
        """The state updates (Theano's ``RandomStreams.updates()``)."""
        return list(self.state_updates)

    @property
    def states(self):
        """The generator states (shared int64 vectors ``[key, counter]``), one per draw."""
        return self._streams.states()

    def seed(self, seed=None):
        """Reseeds every state made so far, and those to come."""
        seed = self.default_instance_seed if seed is None else seed
        self._streams.seed(_seed64(seed))

    # Draws -------------------------------------------------------------------------------

    def _draw(self, dist, dtype, size, params, ndim=None):
        _check_ndim(size, ndim)
        return self._streams.draw(dist, dtype, size, list(params))

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Floats uniform on ``[low, high)``."""
        dtype = dtype or _float_dtype(low, high)
        return self._draw("uniform", dtype, size, [low, high], ndim)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal floats of mean ``avg`` and standard deviation ``std``."""
        dtype = dtype or _float_dtype(avg, std)
        return self._draw("normal", dtype, size, [avg, std], ndim)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """Successes among ``n`` trials of probability ``p`` (``n=1``: ``uniform < p``)."""
        if prob is not None:
            p = prob
        return self._draw("binomial", dtype, size, [n, p], ndim)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers uniform on ``[low, high]``, both included."""
        return self._draw("random_integers", dtype, size, [low, high], ndim)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Picks among ``a`` (an int: ``0..a-1``; a vector: its elements), distinct unless
        ``replace``, with probabilities ``p`` (NumPy's ``choice``)."""
        _check_ndim(size, ndim)
        out = self._streams.choice(size, a, bool(replace), p)
        return out if out.dtype == dtype or out.dtype.startswith("float") else out.astype(dtype)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """A permutation of ``0..n-1`` per element of ``size`` (an axis of ``n`` added)."""
        return self._draw("permutation", dtype, size, [n], ndim)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64"):
        """Counts of ``n`` picks among the categories of ``pvals`` (its last axis): the
        result is ``size`` plus the categories' axis (``size=None``: ``pvals``'s shape)."""
        if pvals is None:
            pvals = [0.5, 0.5]
        return self._draw("multinomial", dtype, size, [n, pvals], ndim)
