"""``tensorlift.tensor.nnet.abstract_conv`` (Theano's ``theano.tensor.nnet.abstract_conv``):
the 2-d convolution and its gradients, each one op of the library with a native kernel.

``conv2d`` convolves a batch ``(batch, channels, rows, cols)`` with filters
``(out_channels, channels / num_groups, rows, cols)``; ``filter_flip=True`` (the default)
is a true convolution, ``False`` a cross-correlation. ``border_mode`` is ``'valid'``,
``'full'``, ``'half'``, an int, or a pair whose entries are ints or ``(before, after)``
pairs. The gradient with respect to the input (``conv2d_grad_wrt_inputs``) is also the
transposed convolution (``conv2d_transpose``).
"""

import numbers
import warnings

from ... import _core


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _border(border_mode):
    """``(name, pads)`` for the library: name ``'valid'``, ``'full'``, ``'half'`` or ``'pad'``."""
    none = ((0, 0), (0, 0))
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(
                'invalid border_mode {}, which must be either "valid", "full", "half", an integer '
                "or a tuple of length 2".format(border_mode))
        return border_mode, none
    if _is_int(border_mode):
        if border_mode < 0:
            raise ValueError("invalid border_mode {}, which must be a non-negative integer".format(border_mode))
        return "pad", ((int(border_mode),) * 2,) * 2
    if isinstance(border_mode, (tuple, list)) and len(border_mode) == 2:
        pads = []
        for m in border_mode:
            if _is_int(m) and m >= 0:
                pads.append((int(m), int(m)))
            elif isinstance(m, (tuple, list)) and len(m) == 2 and all(_is_int(v) and v >= 0 for v in m):
                pads.append((int(m[0]), int(m[1])))
            else:
                raise ValueError(
                    "invalid border mode {}. The tuple can only contain integers or pairs of "
                    "integers".format(border_mode))
        return "pad", tuple(pads)
    raise ValueError(
        'invalid border_mode {}, which must be either "valid", "full", "half", an integer or a '
        "tuple of length 2".format(border_mode))


def _pair(v, what):
    if _is_int(v):
        return (int(v), int(v))
    v = tuple(v)
    if len(v) != 2:
        raise ValueError("{} must have 2 elements".format(what))
    if not all(_is_int(e) for e in v):
        raise TypeError("{} must be integers, got {}".format(what, v))
    return (int(v[0]), int(v[1]))


def _params(border_mode, subsample, filter_flip, filter_dilation, num_groups, unshared):
    if unshared:
        raise NotImplementedError("unshared (locally connected) convolution is not supported")
    if not _is_int(num_groups) or num_groups < 1:
        raise ValueError("num_groups must have value greater than zero")
    name, pads = _border(border_mode)
    return (name, pads, _pair(subsample, "subsample"), bool(filter_flip), _pair(filter_dilation, "filter_dilation"),
            int(num_groups))


def _check_shape(var, shape, what):
    """Theano asserts a given ``input_shape``/``filter_shape``; the static shape must fit."""
    if shape is None:
        return
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError("{} must have 4 elements, got {}".format(what, shape))
    known = getattr(var, "type", None)
    static = getattr(known, "shape", None)
    if static is None:
        return
    for k, (given, have) in enumerate(zip(shape, static)):
        if _is_int(given) and have is not None and int(given) != have:
            raise ValueError("AbstractConv shape mismatch: {}[{}] is {}, but the variable has {}".format(
                what, k, given, have))


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The 2-d convolution of ``input`` with ``filters`` (Theano's abstract ``conv2d``)."""
    input = _core.as_tensor_variable(input)
    filters = _core.as_tensor_variable(filters)
    _check_shape(input, input_shape, "input_shape")
    _check_shape(filters, filter_shape, "filter_shape")
    return _core.conv2d(input, filters, *_params(border_mode, subsample, filter_flip, filter_dilation,
                                                  num_groups, unshared))


def _spatial(shape, what):
    """The last two lengths of ``shape``: ints or integer scalar variables (a shape vector's
    entries)."""
    if shape is None:
        raise ValueError("{} is needed".format(what))
    if hasattr(shape, "ndim") and getattr(shape, "ndim", None) == 1:
        return shape[-2], shape[-1]
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError("{} must give the rows and columns".format(what))
    rows, cols = shape[-2], shape[-1]
    if rows is None or cols is None:
        raise ValueError("{}: the rows and columns must be given (an int or a symbolic scalar)".format(what))
    return rows, cols


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1,
                           unshared=False):
    """The gradient of ``conv2d`` with respect to its input, given the gradient of its
    output; ``input_shape`` gives the input's rows and columns (its last two entries)."""
    filters = _core.as_tensor_variable(filters)
    output_grad = _core.as_tensor_variable(output_grad)
    _check_shape(filters, filter_shape, "filter_shape")
    rows, cols = _spatial(input_shape, "input_shape")
    return _core.conv2d_grad_inputs(output_grad, filters, rows, cols,
                                    *_params(border_mode, subsample, filter_flip, filter_dilation, num_groups,
                                             unshared))


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",
                            subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1,
                            unshared=False):
    """The gradient of ``conv2d`` with respect to its filters, given its input and the
    gradient of its output; ``filter_shape`` gives the filters' rows and columns (its last
    two entries)."""
    input = _core.as_tensor_variable(input)
    output_grad = _core.as_tensor_variable(output_grad)
    _check_shape(input, input_shape, "input_shape")
    rows, cols = _spatial(filter_shape, "filter_shape")
    return _core.conv2d_grad_weights(input, output_grad, rows, cols,
                                     *_params(border_mode, subsample, filter_flip, filter_dilation, num_groups,
                                              unshared))


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid", input_dilation=(1, 1),
                     filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The transposed convolution of ``input`` to ``output_shape``: the gradient of the
    convolution whose strides are ``input_dilation``."""
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape, border_mode, input_dilation,
                                  filter_flip, filter_dilation, num_groups, unshared)


def get_conv_shape_1axis(image_shape, kernel_shape, border_mode, subsample, dilation=1):
    """The output length of one axis (Theano's helper); ``None`` where an input is."""
    if None in (image_shape, kernel_shape, border_mode, subsample, dilation):
        return None
    dil = (kernel_shape - 1) * dilation + 1
    if border_mode == "half":
        pad = (dil // 2, dil // 2)
    elif border_mode == "full":
        pad = (dil - 1, dil - 1)
    elif border_mode == "valid":
        pad = (0, 0)
    elif isinstance(border_mode, tuple):
        pad = border_mode
    else:
        pad = (border_mode, border_mode)
    return (image_shape + pad[0] + pad[1] - dil) // subsample + 1


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=None):
    """The output shape of a 2-d convolution (Theano's helper)."""
    bsize, imshp = image_shape[0], image_shape[2:]
    nkern, kshp = kernel_shape[0], kernel_shape[-2:]
    filter_dilation = filter_dilation or (1,) * len(subsample)
    if isinstance(border_mode, tuple):
        modes = border_mode
    else:
        modes = (border_mode,) * len(subsample)
    return (bsize, nkern) + tuple(get_conv_shape_1axis(imshp[i], kshp[i], modes[i], subsample[i], filter_dilation[i])
                                  for i in range(len(subsample)))


def _deprecated_image_shape(input_shape, image_shape):
    if image_shape is not None:
        warnings.warn("The `image_shape` keyword argument to `tensor.nnet.conv2d` is deprecated, it has been "
                      "renamed to `input_shape`.", stacklevel=3)
        if input_shape is None:
            return image_shape
    return input_shape


__all__ = ["conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights", "conv2d_transpose",
           "get_conv_output_shape", "get_conv_shape_1axis"]
