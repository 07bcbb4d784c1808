"""``tensorlift.scalar`` (Theano's ``theano.scalar``): dtype helpers."""

import numpy as _np

_ORDER = ["bool", "int32", "int64", "float32", "float64"]


def upcast(dtype, *dtypes):
    """The dtype that holds every one of ``dtypes`` (numpy's promotion rules)."""
    out = _np.dtype(dtype)
    for d in dtypes:
        out = _np.promote_types(out, _np.dtype(d))
    return str(out)


__all__ = ["upcast"]
