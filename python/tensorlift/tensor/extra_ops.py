"""``tensorlift.tensor.extra_ops`` (Theano's ``theano.tensor.extra_ops``): the running sum
and product, ``repeat`` and ``squeeze``, the same functions as ``tensorlift.tensor``'s."""

from . import cumprod, cumsum, repeat, squeeze

__all__ = ["cumsum", "cumprod", "repeat", "squeeze"]
