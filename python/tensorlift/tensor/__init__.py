"""``tensorlift.tensor`` (Theano's ``theano.tensor``, imported as ``T``): typed symbolic
tensors, the elementwise math library, reductions, shapes and products.

Every function here builds through the Rust library; the elementwise functions are made
from its op table, so each op of the library is here under its Theano name.
"""

import builtins as _builtins

import numpy as _np

from .. import _core
from .. import errors as _errors
from .._core import TensorConstant, TensorSharedVariable, TensorType, TensorVariable
from ..gradient import consider_constant, grad, hessian, jacobian, verify_grad
from . import nnet, shared_randomstreams, xlogx

__all__ = []  # filled below


def _export(name, fn):
    fn.__name__ = name
    fn.__qualname__ = name
    globals()[name] = fn
    __all__.append(name)
    return fn


# --------------------------------------------------------------------------------------
# Constructors: dscalar, fvector, lmatrix, ... (Theano's table), `floatX` without a prefix.
# --------------------------------------------------------------------------------------

_KINDS = {
    "scalar": (),
    "vector": (False,),
    "row": (True, False),
    "col": (False, True),
    "matrix": (False, False),
    "tensor3": (False, False, False),
    "tensor4": (False, False, False, False),
}
_PREFIXES = {"i": "int32", "l": "int64", "f": "float32", "d": "float64", "": None}
_UNSUPPORTED = {"b": "int8", "w": "int16", "c": "complex64", "z": "complex128"}


def _constructor(fixed_dtype, broadcastable, kind):
    if fixed_dtype is None:
        # `T.scalar(name, dtype=...)`: floatX unless a dtype is given.
        def make(name=None, dtype=None):
            return _core.tensor(name, dtype or _core.float_x(), [1 if b else None for b in broadcastable])
    else:
        def make(name=None):
            return _core.tensor(name, fixed_dtype, [1 if b else None for b in broadcastable])

    make.__doc__ = f"A symbolic {kind} of dtype {fixed_dtype or 'floatX'}."
    return make


def _unsupported(prefix, dtype, kind):
    def make(name=None):
        raise _errors.DTypeNotSupported(
            f"{prefix}{kind}: dtype {dtype} is not supported by tensorlift "
            "(bool, int32, int64, float32 and float64 are)"
        )

    make.__doc__ = f"Theano's {prefix}{kind}: raises ``DTypeNotSupported`` ({dtype} is not supported)."
    return make


def _plural(single):
    def make(*names, **kwargs):
        if len(names) == 1 and isinstance(names[0], int):
            return [single(**kwargs) for _ in range(names[0])]
        if len(names) == 1:
            return single(names[0], **kwargs)
        return [single(n, **kwargs) for n in names]

    make.__doc__ = f"Several variables at once: ``{single.__name__}s('a', 'b')`` (or a count)."
    return make


_PLURALS = {"scalar": "scalars", "vector": "vectors", "row": "rows", "col": "cols",
            "matrix": "matrices", "tensor3": "tensor3s", "tensor4": "tensor4s"}

for _kind, _bc in _KINDS.items():
    for _p, _dt in _PREFIXES.items():
        _single = _export(_p + _kind, _constructor(_dt, _bc, _kind))
        _export(_p + _PLURALS[_kind], _plural(_single))
    for _p, _dt in _UNSUPPORTED.items():
        _export(_p + _kind, _unsupported(_p, _dt, _kind))


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A symbolic tensor of ``dtype`` with the given broadcastable pattern (or static shape)."""
    if shape is None:
        shape = [1 if b else None for b in (broadcastable or ())]
    return _core.tensor(name, dtype or _core.float_x(), list(shape))


__all__.append("tensor")


def as_tensor_variable(x, name=None, ndim=None):
    """A symbolic variable for ``x``: variables pass through, values become constants."""
    if name is not None and not isinstance(x, TensorVariable):
        v = _core.constant(x, name)
    else:
        v = _core.as_tensor_variable(x)
        v = v.named(name) if name is not None else v
    if ndim is not None and v.ndim != ndim:
        raise TypeError(f"as_tensor_variable: expected {ndim} dimensions, got {v.ndim}")
    return v


def constant(x, name=None, ndim=None, dtype=None):
    """A constant holding ``x``."""
    v = _core.constant(x, name, dtype)
    if ndim is not None and v.ndim != ndim:
        raise TypeError(f"constant: expected {ndim} dimensions, got {v.ndim}")
    return v


__all__ += ["as_tensor_variable", "constant", "TensorType", "TensorVariable", "TensorConstant",
            "TensorSharedVariable", "grad", "jacobian", "hessian", "verify_grad",
            "consider_constant", "nnet", "xlogx"]

# --------------------------------------------------------------------------------------
# The elementwise library, from the op table.
# --------------------------------------------------------------------------------------

# Theano's names where they differ from the library's.
_THEANO_NAMES = {
    "abs": ["abs_", "abs"],
    "and": ["and_", "bitwise_and"],
    "xor": ["xor", "bitwise_xor"],
    "or": ["or_", "bitwise_or"],
    "not": ["invert", "bitwise_not"],
    "reciprocal": ["inv", "reciprocal"],
    "second": ["second", "fill"],
    "pow": ["pow", "power"],
    "true_div": ["true_div", "true_divide", "divide"],
    "int_div": ["int_div", "floor_div", "floor_divide"],
    "mod": ["mod", "mod_check", "remainder"],
    "sub": ["sub", "subtract"],
    "mul": ["mul", "multiply"],
    "neg": ["neg", "negative"],
}


def _elemwise_fn(op):
    def fn(*operands):
        return _core.elemwise(op, *operands)

    fn.__doc__ = f"Elementwise ``{op}`` of the operands (broadcast, Theano's dtype rules)."
    return fn


for _op in _core.scalar_ops():
    if _op in ("clip", "add", "mul"):  # defined below (n-ary, at least 2 operands)
        continue
    for _name in _THEANO_NAMES.get(_op, [_op]):
        _export(_name, _elemwise_fn(_op))


def add(*operands):
    """The sum of two or more operands."""
    if len(operands) < 2:
        raise TypeError("add takes at least 2 operands")
    return _core.elemwise("add", *operands)


def mul(*operands):
    """The product of two or more operands."""
    if len(operands) < 2:
        raise TypeError("mul takes at least 2 operands")
    return _core.elemwise("mul", *operands)


def clip(x, min, max):
    """``x`` clipped to ``[min, max]``."""
    return _core.elemwise("clip", x, min, max)


def cast(x, dtype):
    """``x`` converted to ``dtype`` (as numpy's ``astype``)."""
    return _core.cast(x, dtype)


def zeros_like(x, dtype=None):
    """Zeros of the shape (and dtype) of ``x``."""
    x = as_tensor_variable(x)
    return second(x, constant(0, dtype=dtype or x.dtype))


def ones_like(x, dtype=None):
    """Ones of the shape (and dtype) of ``x``."""
    x = as_tensor_variable(x)
    return second(x, constant(1, dtype=dtype or x.dtype))


def exp2(x):
    """``2 ** x``."""
    return 2.0 ** as_tensor_variable(x)


def sgn(x):
    """The sign of ``x``."""
    return sign(x)  # noqa: F821 (made from the op table)


for _f in [add, mul, clip, cast, zeros_like, ones_like, exp2, sgn]:
    _export(_f.__name__, _f)
multiply = mul
__all__.append("multiply")

# --------------------------------------------------------------------------------------
# Reductions.
# --------------------------------------------------------------------------------------


def _reduction(op):
    def fn(input, axis=None, keepdims=False, dtype=None, acc_dtype=None):
        out = _core.reduce(input, op, axis, keepdims)
        return out.astype(dtype) if dtype is not None else out

    fn.__doc__ = f"``{op}`` over ``axis`` (all axes when ``None``), keeping them with ``keepdims``."
    return fn


for _op in ["sum", "prod", "mean", "max", "min", "all", "any", "argmax", "argmin"]:
    _export(_op, _reduction(_op))


def max_and_argmax(a, axis=None, keepdims=False):
    """The maximum and its position along ``axis``."""
    return max(a, axis, keepdims), argmax(a, axis, keepdims)  # noqa: F821


def var(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """The variance over ``axis``: squared deviations summed and divided by ``N - ddof``
    (NumPy's rule; over several axes Theano divides by each length minus ``ddof`` in turn).
    ``corrected`` subtracts the two-pass estimate of the rounding error, as Theano's."""
    if isinstance(ddof, bool) or not isinstance(ddof, (int, _np.integer)) or ddof < 0:
        raise ValueError(f"var: ddof must be a non-negative integer, got {ddof!r}")
    input = as_tensor_variable(input)
    v = _core.var(input, axis, int(ddof), keepdims)
    if corrected:
        # The elements each result reduces: all of them over the result's size.
        kept = mean(input, axis, keepdims=True)  # noqa: F821
        count = cast(prod(shape(input)), v.dtype) / cast(prod(shape(kept)), v.dtype)  # noqa: F821
        error = sqr(sum(input - kept, axis, keepdims=keepdims)) / (count * (count - ddof))  # noqa: F821
        v = v - error
    return v


def std(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """The standard deviation over ``axis``: ``sqrt(var(...))``."""
    return sqrt(var(input, axis, ddof, keepdims, corrected))  # noqa: F821


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    return _core.logsumexp(x, axis, keepdims)


addbroadcast = _core.addbroadcast
unbroadcast = _core.unbroadcast
patternbroadcast = _core.patternbroadcast
__all__ += ["addbroadcast", "unbroadcast", "patternbroadcast"]

for _f in [max_and_argmax, var, std, logsumexp]:
    _export(_f.__name__, _f)

# --------------------------------------------------------------------------------------
# Shapes, products, indexing.
# --------------------------------------------------------------------------------------


def dot(a, b):
    """Matrix, matrix-vector or inner product."""
    return _core.dot(a, b)


def outer(x, y):
    """The outer product of two vectors."""
    return _core.outer(x, y)


def tensordot(a, b, axes=2):
    """Theano's ``tensordot``: the sum over the last ``axes`` axes of ``a`` and the first
    ``axes`` of ``b``, or over the paired axes of ``axes = [a_axes, b_axes]``."""
    return _core.tensordot(a, b, axes)


def batched_dot(a, b):
    """Theano's ``batched_dot``: ``dot(a[i], b[i])`` for every index ``i`` of the leading
    axis (``(B, M, K)`` by ``(B, K, N)`` gives ``(B, M, N)``)."""
    return _core.batched_dot(a, b)


def concatenate(tensor_list, axis=0):
    """Joins tensors along an existing axis."""
    return _core.concatenate(list(tensor_list), axis)


def join(axis, *tensors):
    """Theano's ``join(axis, *tensors)``: ``concatenate`` with the axis first."""
    return _core.concatenate(list(tensors), axis)


def stack(*tensors, axis=0):
    """Joins tensors along a new axis (``stack([a, b])`` or ``stack(a, b)``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return _core.stack(list(tensors), axis)


def transpose(x, axes=None):
    """Permutes the axes of ``x`` (reverses them by default)."""
    x = as_tensor_variable(x)
    return x.transpose() if axes is None else x.transpose(*axes)


def reshape(x, newshape, ndim=None):
    """``x`` with shape ``newshape``."""
    return as_tensor_variable(x).reshape(newshape, ndim)


def flatten(x, ndim=1, outdim=None):
    """``x`` with its trailing axes collapsed so that ``ndim`` remain."""
    return as_tensor_variable(x).flatten(outdim or ndim)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """The tensor indexed by ``x`` (an ``a[...]`` expression) with that region set to ``y``."""
    return _core.set_subtensor(x, y)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """The tensor indexed by ``x`` (an ``a[...]`` expression) with ``y`` added to that region."""
    if set_instead_of_inc:
        return _core.set_subtensor(x, y)
    return _core.inc_subtensor(x, y)


def take(a, indices, axis=None, mode="raise"):
    """Theano's and NumPy's ``take``: the slices of ``a`` at the integer ``indices`` along
    ``axis`` (the result has ``a``'s axes with ``axis`` replaced by the indices' axes), or
    the elements of ``a`` flattened when ``axis`` is None. A position out of range raises
    when the function runs (``mode='raise'``, the only mode supported)."""
    if mode != "raise":
        raise NotImplementedError(f"take with mode={mode!r} is not supported yet (only 'raise')")
    return _core.take(as_tensor_variable(a), as_tensor_variable(indices), axis)


def arange(start, stop=None, step=1, dtype=None):
    """``numpy.arange`` with Theano's dtype rule (int64 for integers, else the widest
    float); each argument a number or a numeric scalar variable (``T.arange(y.shape[0])``)."""
    if stop is None:
        start, stop = 0, start
    if _builtins.any(isinstance(v, TensorVariable) for v in (start, stop, step)):
        r = _core.arange(start, stop, step)
        return r if dtype is None or r.dtype == dtype else cast(r, dtype)
    if dtype is None:
        floats = _builtins.any(isinstance(v, (float, _np.floating)) for v in (start, stop, step))
        dtype = _core.float_x() if floats else "int64"
    return constant(_np.arange(start, stop, step, dtype=dtype))


def _lengths(shape):
    """A shape argument (a number, a list or tuple of numbers and integer scalar variables,
    or a symbolic shape vector such as ``x.shape``) as a list of lengths."""
    if isinstance(shape, TensorVariable):
        if shape.ndim == 0:
            return [shape]
        if shape.ndim == 1 and shape.type.shape[0] is not None:
            return [shape[i] for i in range(shape.type.shape[0])]
        raise TypeError(f"a shape is a list of lengths or an integer vector of known length, not {shape.type}")
    return list(shape) if isinstance(shape, (list, tuple)) else [shape]


def zeros(shape, dtype=None):
    """Zeros of ``shape`` (numbers, integer scalar variables, or ``x.shape``), of ``dtype``
    or floatX."""
    return alloc(constant(_np.zeros((), dtype=dtype or _core.float_x())), *_lengths(shape))


def ones(shape, dtype=None):
    """Ones of ``shape`` (numbers, integer scalar variables, or ``x.shape``), of ``dtype`` or
    floatX."""
    return alloc(constant(_np.ones((), dtype=dtype or _core.float_x())), *_lengths(shape))


def eye(n, m=None, k=0, dtype=None):
    """Theano's ``eye``: the ``n x m`` matrix (``m`` defaults to ``n``) with ones on diagonal
    ``k`` and zeros elsewhere, of ``dtype`` (floatX by default); each of ``n``, ``m``, ``k``
    a number or an integer scalar variable (``T.eye(x.shape[0])``). Numbers alone give a
    constant."""
    return _core.eye(n, m, k, dtype)


def identity_like(x):
    """Theano's ``identity_like``: the identity-like matrix of the shape and dtype of the
    matrix ``x``."""
    return _core.identity_like(as_tensor_variable(x))


def alloc(value, *shape):
    """``value`` broadcast to ``shape`` (Theano's ``Alloc``): each length a number or an
    integer scalar variable such as ``x.shape[0]``."""
    return _core.alloc(value, list(shape))


def shape_padleft(t, n_ones=1):
    """``t`` with ``n_ones`` broadcastable axes added in front."""
    t = as_tensor_variable(t)
    return t.dimshuffle(["x"] * n_ones + list(range(t.ndim)))


def shape_padright(t, n_ones=1):
    """``t`` with ``n_ones`` broadcastable axes added at the end."""
    t = as_tensor_variable(t)
    return t.dimshuffle(list(range(t.ndim)) + ["x"] * n_ones)


def shape_padaxis(t, axis):
    """``t`` with a broadcastable axis inserted at ``axis`` (negative counts from the end)."""
    t = as_tensor_variable(t)
    if not -t.ndim - 1 <= axis <= t.ndim:
        raise IndexError(f"axis {axis} is out of bounds for a tensor of {t.ndim} dimensions")
    if axis < 0:
        axis += t.ndim + 1
    pattern = list(range(t.ndim))
    pattern.insert(axis, "x")
    return t.dimshuffle(pattern)


def squeeze(t):
    """``t`` without its broadcastable (length-1 by type) axes."""
    t = as_tensor_variable(t)
    return t.dimshuffle([i for i, b in enumerate(t.broadcastable) if not b])


def shape(x):
    """Theano's symbolic ``shape``: the run-time shape of ``x``, an int64 vector."""
    return _core.shape(as_tensor_variable(x))


def shape_i(x, i):
    """Theano's ``Shape_i``: the run-time length of axis ``i`` of ``x``, an int64 scalar."""
    return _core.shape_i(as_tensor_variable(x), i)


for _f in [dot, outer, tensordot, concatenate, join, stack, transpose, reshape, flatten,
           set_subtensor, inc_subtensor, take, arange, zeros, ones, eye, identity_like, alloc,
           shape_padleft, shape_padright, shape_padaxis, squeeze, shape, shape_i]:
    _export(_f.__name__, _f)

# --------------------------------------------------------------------------------------
# Running sums, sorting, repeating, tiling, rolling (Theano's extra_ops, sort, basic).
# --------------------------------------------------------------------------------------


def cumsum(x, axis=None):
    """Theano's ``cumsum``: the running sum along ``axis``, or over ``x`` flattened when
    ``axis`` is None. The result has ``x``'s dtype (booleans count in int64)."""
    return _core.cumulative(x, "cumsum", axis)


def cumprod(x, axis=None):
    """Theano's ``cumprod``: the running product along ``axis``, or over ``x`` flattened
    when ``axis`` is None."""
    return _core.cumulative(x, "cumprod", axis)


def sort(a, axis=-1, kind="quicksort", order=None):
    """Theano's ``sort``: ``a`` sorted along ``axis`` (``a`` flattened when None), NaN last
    as in NumPy. Every ``kind`` sorts alike; ``order`` must be None."""
    return _core.sort(a, axis, kind, order)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """Theano's ``argsort``: the int64 positions that sort ``a`` along ``axis`` (``a``
    flattened when None), NaN last, equal elements in their order (a stable sort). It has
    no gradient."""
    return _core.sort(a, axis, kind, order, True)


def repeat(x, repeats, axis=None):
    """Theano's ``repeat``: each slice of ``x`` along ``axis`` (each element of ``x``
    flattened when None) repeated ``repeats`` times: an int or integer scalar variable for
    every slice, or a list, array or integer vector variable with one count per slice."""
    return _core.repeat(x, repeats, axis)


def tile(x, reps, ndim=None):
    """Theano's ``tile``: ``x`` repeated ``reps[i]`` times along axis ``i``; ``reps`` an int,
    an integer scalar variable, a list of them, or an integer vector variable (then ``ndim``
    is required). The result has ``ndim`` axes (default: the larger of ``len(reps)`` and
    ``x.ndim``)."""
    if isinstance(reps, _np.ndarray):
        reps = reps.tolist()
    return _core.tile(x, reps, ndim)


def roll(x, shift, axis=None):
    """Theano's ``roll``: the elements of ``x`` shifted ``shift`` places along ``axis`` (an
    int or an integer scalar variable), those past the end coming back in front; ``x``
    flattened and reshaped back when ``axis`` is None."""
    return _core.roll(x, shift, axis)


for _f in [cumsum, cumprod, sort, argsort, repeat, tile, roll]:
    _export(_f.__name__, _f)

# Theano's sigmoid family also lives in nnet; `T.nnet.sigmoid` and `T.sigmoid` are one op.
from .nnet import relu, softmax  # noqa: E402
from . import extra_ops  # noqa: E402

del _kind, _bc, _p, _dt, _op, _name, _f, _single
