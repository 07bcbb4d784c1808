"""``theano.tensor.xlogx``: ``x * log(x)`` and ``x * log(y)`` taken as 0 where ``x`` is 0
(the limits that entropies and KL divergences need)."""

from .. import _core


def xlogx(x):
    """``x * log(x)``, 0 where ``x == 0``."""
    x = _core.as_tensor_variable(x)
    return _core.elemwise("switch", _core.elemwise("eq", x, 0), 0.0, x * _core.elemwise("log", x))


def xlogy0(x, y):
    """``x * log(y)``, 0 where ``x == 0``."""
    x, y = _core.as_tensor_variable(x), _core.as_tensor_variable(y)
    return _core.elemwise("switch", _core.elemwise("eq", x, 0), 0.0, x * _core.elemwise("log", y))


__all__ = ["xlogx", "xlogy0"]
