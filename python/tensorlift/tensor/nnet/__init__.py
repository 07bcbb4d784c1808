"""``tensorlift.tensor.nnet`` (Theano's ``theano.tensor.nnet``): activations, softmax,
the cross-entropies and the 2-d convolution, built from the library's ops."""

from ... import _core
from . import abstract_conv, conv
from .abstract_conv import _deprecated_image_shape


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), num_groups=1, unshared=False, **kwargs):
    """The 2-d convolution of a batch ``(batch, channels, rows, cols)`` with filters
    ``(out_channels, channels / num_groups, rows, cols)`` (Theano's ``nnet.conv2d``, the
    abstract convolution): see ``abstract_conv``."""
    if kwargs:
        raise TypeError("conv2d() got unexpected keyword argument(s) {}".format(", ".join(sorted(kwargs))))
    input_shape = _deprecated_image_shape(input_shape, image_shape)
    return abstract_conv.conv2d(input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
                                filter_dilation, num_groups, unshared)


def sigmoid(x):
    """``1 / (1 + exp(-x))``, computed stably."""
    return _core.elemwise("sigmoid", x)


def softplus(x):
    """``log(1 + exp(x))``, computed stably."""
    return _core.elemwise("softplus", x)


def ultra_fast_sigmoid(x):
    """Theano's fast approximation of the sigmoid; here the exact sigmoid."""
    return sigmoid(x)


def hard_sigmoid(x):
    """``clip(0.2 * x + 0.5, 0, 1)``."""
    return _core.elemwise("clip", 0.2 * _core.as_tensor_variable(x) + 0.5, 0.0, 1.0)


def relu(x, alpha=0):
    """``max(x, 0)``, or ``x`` scaled by ``alpha`` where negative (leaky)."""
    x = _core.as_tensor_variable(x)
    if alpha == 0:
        return _core.elemwise("maximum", x, 0)
    return _core.elemwise("switch", x > 0, x, alpha * x)


def _rows(c, axis):
    """``c`` and the axis of the softmax: a vector without ``axis`` is one row ``(1, n)``,
    as Theano 1.0's ``softmax`` makes it."""
    c = _core.as_tensor_variable(c)
    if axis is None:
        return (c.dimshuffle("x", 0) if c.ndim == 1 else c), -1
    return c, axis


def softmax(c, axis=None):
    """The softmax of each row (along ``axis``, the last by default); a vector gives a
    ``(1, n)`` row as in Theano 1.0 (pass ``axis=-1`` to keep a vector)."""
    return _core.softmax(*_rows(c, axis))


def logsoftmax(c, axis=None):
    """The log of the softmax, computed stably; a vector gives a ``(1, n)`` row as
    ``softmax``."""
    return _core.log_softmax(*_rows(c, axis))


log_softmax = logsoftmax


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``."""
    output = _core.as_tensor_variable(output)
    return -(target * _core.elemwise("log", output) + (1.0 - target) * _core.elemwise("log", 1.0 - output))


def sigmoid_binary_crossentropy(output, target):
    """``binary_crossentropy(sigmoid(output), target)``, computed stably from the logits."""
    output = _core.as_tensor_variable(output)
    return softplus(-output) * target + softplus(output) * (1.0 - target)


def categorical_crossentropy(coding_dist, true_dist):
    """``-sum(true_dist * log(coding_dist), axis=-1)`` for one-hot (or soft) targets; for a
    vector of integer labels, ``-log(coding_dist[arange(n), true_dist])`` (Theano's
    ``crossentropy_categorical_1hot``), each row's probability of its label."""
    coding_dist = _core.as_tensor_variable(coding_dist)
    true_dist = _core.as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -_core.reduce(true_dist * _core.elemwise("log", coding_dist), "sum", coding_dist.ndim - 1)
    if coding_dist.ndim != 2 or true_dist.ndim != 1 or not true_dist.dtype.startswith("int"):
        raise TypeError(
            "categorical_crossentropy takes a matrix of probabilities with targets of its shape, "
            f"or a vector of integer labels; got {coding_dist.type} and {true_dist.type}")
    rows = _core.arange(0, _core.shape_i(coding_dist, 0), 1)
    return -_core.elemwise("log", coding_dist[rows, true_dist])


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """``-log(coding_dist[arange(n), true_one_of_n])``: each row's negative log-probability
    of its integer label."""
    return categorical_crossentropy(coding_dist, true_one_of_n)


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """``(nll, softmax(x + b))`` with ``nll[i] = -log(softmax(x + b)[i, y_idx[i]])``,
    computed stably (from the log-softmax, never the log of a softmax that underflowed)."""
    z = _core.as_tensor_variable(x) + _core.as_tensor_variable(b)
    y_idx = _core.as_tensor_variable(y_idx)
    if z.ndim != 2 or y_idx.ndim != 1 or not y_idx.dtype.startswith("int"):
        raise TypeError(f"crossentropy_softmax_1hot takes a matrix and a vector of integer labels; "
                        f"got {z.type} and {y_idx.type}")
    rows = _core.arange(0, _core.shape_i(z, 0), 1)
    return -_core.log_softmax(z, -1)[rows, y_idx], _core.softmax(z, -1)


def crossentropy_softmax_1hot(x, y_idx):
    """``crossentropy_softmax_1hot_with_bias`` without a bias: ``(nll, softmax(x))``."""
    return crossentropy_softmax_1hot_with_bias(x, 0.0, y_idx)


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """``(nll, softmax(x + b), argmax(x + b, axis=1))``."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    z = _core.as_tensor_variable(x) + _core.as_tensor_variable(b)
    return nll, sm, _core.reduce(z, "argmax", 1)


def elu(x, alpha=1):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    x = _core.as_tensor_variable(x)
    return _core.elemwise("switch", x > 0, x, alpha * _core.elemwise("expm1", x))


def selu(x):
    """The scaled ELU."""
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


__all__ = ["conv2d", "abstract_conv", "conv", "sigmoid", "softplus", "ultra_fast_sigmoid", "hard_sigmoid", "relu", "softmax",
           "logsoftmax", "log_softmax", "binary_crossentropy", "sigmoid_binary_crossentropy",
           "categorical_crossentropy", "crossentropy_categorical_1hot", "crossentropy_softmax_1hot",
           "crossentropy_softmax_1hot_with_bias", "crossentropy_softmax_argmax_1hot_with_bias", "elu", "selu"]
