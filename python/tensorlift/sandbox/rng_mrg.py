"""``tensorlift.sandbox.rng_mrg`` (Theano's ``theano.sandbox.rng_mrg``): ``MRG_RandomStreams``.

Theano's MRG streams run the MRG31k3p generator; here they run the same counter-based
Philox4x32-10 generator as ``tensor.shared_randomstreams.RandomStreams`` (identical numbers
on every engine and thread count), with MRG's signatures: the default seed 12345,
``binomial(size, p, n)``, ``normal(..., truncate=False)``, ``truncated_normal``,
``choice(size=1, a=None, replace=True, p=matrix)``. ``nstreams`` is accepted and changes
nothing (the draws are not split into streams by hand).

``normal(..., truncate=True)`` follows Theano's construction: a Box–Muller sample beyond two
standard deviations keeps its angle and takes a new radius ``sqrt(-2 ln u)``, ``u`` uniform
on ``[exp(-2), 1)``, so every sample is within ``avg ± 2 std`` and the samples' standard
deviation is about ``0.8906 std``. ``truncated_normal`` is Theano's: ``std`` divided by
``0.8796…`` (a truncated normal's standard deviation), then ``normal(truncate=True)``.

``choice`` with a probability matrix ``p`` is Theano's ``ChoiceFromUniform``: a result of
shape ``(p.shape[0], size)``, row ``i`` drawn from row ``i`` of ``p`` (without replacement:
each pick from the row's probabilities of the categories not picked yet, renormalized; a
row needs at least ``size`` non-zero probabilities). Theano implements only
``replace=False``; here ``replace=True`` draws ``size`` independent picks per row. As in
Theano, ``a`` must then be ``None`` (``TypeError``) and ``ndim`` unused (``ValueError``).
Without a matrix ``p``, ``choice`` is NumPy's (``a`` an int or a vector, ``p`` a vector).
"""

import numpy as _np

from ..tensor.shared_randomstreams import RandomStreams as _RandomStreams
from ..tensor.shared_randomstreams import _float_dtype

__all__ = ["MRG_RandomStreams"]

# scipy.stats.truncnorm.std(a=-2, b=2): Theano's ``truncated_normal`` divides ``std`` by it.
_TRUNCNORM_STD = 0.87962566103423978


def _ndim_of(p):
    """The number of axes of a probability argument (a variable, an array or nested lists)."""
    ndim = getattr(p, "ndim", None)
    return ndim if ndim is not None else _np.ndim(p)


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
        """Normal floats of mean ``avg`` and standard deviation ``std``; with ``truncate``,
        every sample within two standard deviations of the mean (Theano's construction, see
        the module's documentation)."""
        dtype = dtype or _float_dtype(avg, std)
        return self._draw("normal_truncated" if truncate else "normal", dtype, size, [avg, std], ndim)

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """Theano's ``truncated_normal``: ``normal(truncate=True)`` with ``std`` divided by a
        truncated normal's standard deviation (``0.8796…``)."""
        return self.normal(size, avg, std / _TRUNCNORM_STD, ndim=ndim, dtype=dtype, truncate=True)

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
        """Picks among the categories of ``p``: with ``p`` a matrix, ``size`` picks per row
        (a result of shape ``(p.shape[0], size)``, distinct within a row unless
        ``replace``); otherwise NumPy's ``choice`` among ``a``."""
        if p is not None and _ndim_of(p) == 2:
            if a is not None:
                raise TypeError("For now, a has to be None in MRG_RandomStreams.choice. "
                                "Sampled values are between 0 and p.shape[1]-1")
            if ndim is not None:
                raise ValueError("ndim argument to MRG_RandomStreams.choice is not used.")
            a = p.shape[1] if hasattr(p, "shape") else len(p[0])
            return super().choice(size, a, replace, p, None, dtype)
        if a is None:
            if p is None:
                raise TypeError("choice needs a or p")
            a = p.shape[-1] if hasattr(p, "shape") and not isinstance(p, (list, tuple)) else len(p)
        return super().choice(size, a, replace, p, ndim, dtype)

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                                   nstreams=None, **kwargs):
        """Theano's deprecated ``multinomial_wo_replacement``: ``choice(size=n, p=pvals,
        replace=False)``."""
        if size is not None:
            raise ValueError("multinomial_wo_replacement takes no size (n picks per row of pvals)")
        return self.choice(size=n, a=None, replace=False, p=pvals, ndim=ndim, dtype=dtype)
