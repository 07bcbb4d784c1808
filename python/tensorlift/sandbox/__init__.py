"""``tensorlift.sandbox`` (Theano's ``theano.sandbox``): ``rng_mrg``."""

from . import rng_mrg

__all__ = ["rng_mrg"]
