"""``tensorlift.tensor.nnet.conv`` (Theano's older ``theano.tensor.nnet.conv``): its
``conv2d`` is the abstract convolution (a true convolution, ``'valid'`` or ``'full'``)."""

from . import abstract_conv as _abstract


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1), **kargs):
    """The 2-d convolution of ``input`` with ``filters``, flipped (Theano's ``ConvOp``)."""
    if border_mode not in ("valid", "full"):
        raise ValueError("border_mode must be 'valid' or 'full', got {!r}".format(border_mode))
    return _abstract.conv2d(input, filters, input_shape=image_shape, filter_shape=filter_shape,
                            border_mode=border_mode, subsample=subsample)


__all__ = ["conv2d"]
