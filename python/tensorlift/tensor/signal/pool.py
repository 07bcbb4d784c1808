"""``tensorlift.tensor.signal.pool`` (Theano's ``theano.tensor.signal.pool``): pooling over
the last two axes, one op of the library with a native kernel and its gradients (max
pooling sends each window's gradient to every element equal to the window's maximum, as
Theano's ``MaxPoolGrad``)."""

import numbers
import warnings

from ... import _core


def _pair(v, what):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v), int(v))
    v = tuple(int(e) for e in v)
    if len(v) != 2:
        raise ValueError("{} must have 2 elements".format(what))
    return v


def _renamed(new, old, new_name, old_name, default_old=None):
    if old is not None and old != default_old:
        if new is not None and new != default_old:
            raise ValueError("You can't provide a tuple value to both '{}' and '{}'. Please provide a value only to "
                             "'{}'.".format(old_name, new_name, new_name))
        warnings.warn("DEPRECATION: the '{}' parameter is not going to exist anymore as it is going to be replaced "
                      "by the parameter '{}'.".format(old_name, new_name), stacklevel=3)
        return old
    return new


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None, st=None,
            padding=None):
    """Pools the last two axes of ``input`` (rank at least 2) over ``ws`` windows every
    ``stride`` (``ws`` by default), after ``pad`` zeros on each side; ``mode`` is ``'max'``,
    ``'sum'``, ``'average_inc_pad'`` or ``'average_exc_pad'``. With ``ignore_border`` only
    whole windows count; as in Theano 1.0 it defaults to False, with a warning."""
    ws = _renamed(ws, ds, "ws", "ds")
    if ws is None:
        raise ValueError("You must provide a tuple value for the window size.")
    stride = _renamed(stride, st, "stride", "st")
    pad = _renamed(pad, padding, "pad", "padding", default_old=(0, 0))
    if getattr(input, "ndim", 2) < 2:
        raise NotImplementedError("pool_2d requires a dimension >= 2")
    if ignore_border is None:
        warnings.warn("pool_2d() will have the parameter ignore_border default value changed to True (currently "
                      "False). To have consistent behavior with all Theano version, explicitly add the parameter "
                      "ignore_border=True.", stacklevel=2)
        ignore_border = False
    if mode == "max_deterministic":
        mode = "max"
    ws = _pair(ws, "ws")
    stride = ws if stride is None else _pair(stride, "stride")
    pad = (0, 0) if pad is None else _pair(pad, "pad")
    return _core.pool_2d(_core.as_tensor_variable(input), ws, stride, pad, bool(ignore_border), mode)


def max_pool_2d_same_size(input, patch_size):
    """``input`` with every element that is not the maximum of its non-overlapping
    ``patch_size`` patch set to zero (Theano's: the max pooling's gradient with the pooled
    values as the gradient)."""
    from ...gradient import grad

    input = _core.as_tensor_variable(input)
    out = pool_2d(input, patch_size, ignore_border=True)
    return grad(_core.reduce(out * _core.zero_grad(out), "sum", None, False), input)


__all__ = ["pool_2d", "max_pool_2d_same_size"]
