"""``tensorlift.sandbox.rng_mrg`` (Theano's ``theano.sandbox.rng_mrg``): ``MRG_RandomStreams``.

Theano's MRG streams run the MRG31k3p generator; here they run the same counter-based
Philox4x32-10 generator as ``tensor.shared_randomstreams.RandomStreams`` (identical numbers
on every engine and thread count), with MRG's signatures: the default seed 12345,
``binomial(size, p, n)``, ``normal(..., truncate=False)``. ``nstreams`` is accepted and
changes nothing (the draws are not split into streams by hand).
"""

from ..tensor.shared_randomstreams import RandomStreams as _RandomStreams
from ..tensor.shared_randomstreams import _float_dtype

__all__ = ["MRG_RandomStreams"]


class MRG_RandomStreams(_RandomStreams):
    """Theano's ``MRG_RandomStreams(seed=12345)``."""

    def __init__(self, seed=12345):
        super().__init__(seed)

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Floats uniform on ``[low, high)``."""
        dtype = dtype or _float_dtype(low, high)
        return self._draw("uniform", dtype, size, [low, high], ndim)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False,
               **kwargs):
        """Normal floats of mean ``avg`` and standard deviation ``std``."""
        if truncate:
            raise NotImplementedError("normal(truncate=True) is not supported")
        dtype = dtype or _float_dtype(avg, std)
        return self._draw("normal", dtype, size, [avg, std], ndim)

    def binomial(self, size=None, p=None, n=1, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """Successes among ``n`` trials of probability ``p``: ``n=1`` is Theano's
        ``cast(uniform < p, dtype)``."""
        if p is None:
            p = kwargs.pop("prob", 0.5)
        return self._draw("binomial", dtype, size, [n, p], ndim)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """Counts of ``n`` picks per row of ``pvals`` (a matrix: one distribution per row,
        the result of its shape)."""
        if pvals is None:
            raise TypeError("multinomial needs pvals")
        return self._draw("multinomial", dtype, size, [n, pvals], ndim)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None,
               **kwargs):
        """Picks among ``a`` (``None``: the categories of ``p``), NumPy's ``choice``."""
        if a is None:
            if p is None:
                raise TypeError("choice needs a or p")
            a = p.shape[-1] if hasattr(p, "shape") and not isinstance(p, (list, tuple)) else len(p)
        return super().choice(size, a, replace, p, ndim, dtype)
