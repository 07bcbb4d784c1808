"""Errors: each raises its class of ``tensorlift.errors`` (which is also the built-in
exception a Python user expects) with a message that says what is wrong."""

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import errors


def raises(cls, base, match):
    """``pytest.raises`` of ``cls`` that also checks the built-in ``base`` and the message."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(cls, match=match)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert isinstance(self.info.value, base), type(self.info.value).__mro__
            assert isinstance(self.info.value, errors.TensorliftError)
            return handled

    return _Check()


def test_every_error_class_has_its_builtin_base():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.TensorliftError), name
        assert cls.__doc__, name
    assert issubclass(errors.ArgShape, ValueError) and issubclass(errors.Arity, TypeError)
    assert issubclass(errors.DTypeNotSupported, TypeError)
    assert issubclass(errors.DTypeNotSupported, NotImplementedError)
    assert issubclass(errors.IndexOutOfBounds, IndexError)


# --------------------------------------------------------------------------------------
# Calling a function.
# --------------------------------------------------------------------------------------


def test_wrong_arity():
    x, y = T.dscalar("x"), T.dscalar("y")
    f = theano.function([x, y], x + y)
    with raises(errors.Arity, TypeError, "expected 2 argument\\(s\\), got 3"):
        f(1.0, 2.0, 3.0)
    with raises(errors.Arity, TypeError, "missing argument 1 \\(y\\)"):
        f(1.0)


def test_unknown_keyword_argument():
    x = T.dscalar("x")
    f = theano.function([x], x * 2)
    with pytest.raises(TypeError, match='unknown keyword argument "z" \\(the inputs are x\\)'):
        f(z=1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        theano.function([x], x, bogus=True)


@pytest.mark.parametrize(
    "value, dtype",
    [(np.ones(3, dtype="float32"), "float32"), (np.ones(3), "float64"), ([1.5, 2.0], "float64")],
)
def test_float_data_for_an_int_input(value, dtype):
    i = T.ivector("i")
    f = theano.function([i], i * 2)
    with raises(errors.ArgDType, TypeError, f"argument 0 \\(i\\) must be int32: cannot convert {dtype} data"):
        f(value)


def test_float64_data_for_a_float32_input():
    v = T.fscalar("v")
    f = theano.function([v], v * 2)
    with raises(errors.ArgDType, TypeError, "must be float32"):
        f(np.float64(0.1))
    assert f(0.1).dtype == np.float32  # a Python float is rounded, as Theano does
    g = theano.function([v], v * 2, allow_input_downcast=True)
    assert float(g(np.float64(0.25))) == 0.5


@pytest.mark.parametrize("value, shape", [(np.ones(3), "\\[3\\]"), (2.0, "\\[\\]"), (np.ones((1, 2, 3)), "\\[1, 2, 3\\]")])
def test_wrong_shape(value, shape):
    m = T.dmatrix("m")
    f = theano.function([m], m.sum())
    with raises(errors.ArgShape, ValueError, f"argument 0 \\(m\\) has shape {shape}, which does not fit type float64\\[\\?,\\?\\]"):
        f(value)


def test_shape_mismatch_at_call_time():
    a, b = T.dvector("a"), T.dvector("b")
    f = theano.function([a, b], a + b)
    with raises(errors.ShapeMismatch, ValueError, "a has shape \\[3\\], b has shape \\[4\\]"):
        f(np.ones(3), np.ones(4))
    m = T.dmatrix("m")
    with raises(errors.ShapeMismatch, ValueError, "dot: shape mismatch"):
        theano.function([m, a], T.dot(m, a))(np.ones((2, 3)), np.ones(4))


def test_ragged_lists():
    m = T.dmatrix("m")
    f = theano.function([m], m.sum())
    with raises(errors.Ragged, ValueError, "cannot make an array of \\[\\[1, 2\\], \\[3\\]\\]"):
        f([[1, 2], [3]])


@pytest.mark.parametrize("value", [np.ones(2, dtype=complex), np.array(["a", "b"]), None])
def test_unsupported_argument_dtypes(value):
    v = T.dvector("v")
    f = theano.function([v], v.sum())
    with raises(errors.DTypeNotSupported, TypeError, "are not supported by tensorlift"):
        f(value)


def test_small_integer_arrays_are_widened():
    i = T.ivector("i")
    out = theano.function([i], i * 2)(np.array([1, 2], dtype="int8"))
    assert out.dtype == np.int32 and out.tolist() == [2, 4]


def test_index_out_of_bounds_at_call_time():
    m = T.dmatrix("m")
    with raises(errors.IndexOutOfBounds, IndexError, "index 5 is out of bounds for axis 0 with size 2"):
        theano.function([m], m[5])(np.ones((2, 2)))


def test_reshape_of_the_wrong_size_at_call_time():
    m = T.dmatrix("m")
    with raises(errors.InvalidValue, ValueError, "cannot reshape m of shape \\[2, 3\\] to \\[5\\]"):
        theano.function([m], m.reshape((5,)))(np.ones((2, 3)))


# --------------------------------------------------------------------------------------
# Building graphs and functions.
# --------------------------------------------------------------------------------------


def test_shape_mismatch_at_build_time():
    a = T.TensorType("float64", (False,), shape=(3,))("a")
    b = T.TensorType("float64", (False,), shape=(4,))("b")
    with raises(errors.ShapeMismatch, ValueError, "add: incompatible shapes: a \\(float64\\[3\\]\\) and b \\(float64\\[4\\]\\)"):
        a + b
    with raises(errors.ShapeMismatch, ValueError, "incompatible shapes"):
        a * np.ones(4)


def test_rank_errors():
    with raises(errors.RankError, TypeError, "outer: m .* has rank 2, expected 1"):
        T.outer(T.dmatrix("m"), T.dvector("v"))
    with raises(errors.RankError, TypeError, "concatenate: v .* has rank 1, expected 2"):
        T.concatenate([T.dmatrix("m"), T.dvector("v")])


def test_axis_out_of_range():
    with raises(errors.AxisError, ValueError, "sum: invalid axis 2 for x"):
        T.dmatrix("x").sum(axis=2)


def test_static_index_and_reshape_errors():
    v = T.TensorType("float64", (False, False), shape=(2, 3))("v")
    with raises(errors.InvalidGraph, ValueError, "index 5 is out of bounds for axis 0 of v"):
        v[5]
    with raises(errors.InvalidGraph, ValueError, "cannot reshape v \\(float64\\[2,3\\]\\) to \\[5\\]"):
        v.reshape((5,))
    with raises(errors.InvalidGraph, ValueError, "slice step cannot be zero"):
        v[::0]


def test_invalid_indices():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="invalid index 1.5"):
        x[1.5]
    with raises(errors.InvalidGraph, ValueError, "single ellipsis"):
        x[..., ...]


def test_bad_givens():
    x, y = T.dscalar("x"), T.dscalar("y")
    with raises(errors.InvalidGraph, ValueError, "givens: x \\(float64\\[\\]\\) cannot be replaced by .*float64\\[\\?\\]"):
        theano.function([y], x * 2, givens={x: T.dvector("v")})
    with raises(errors.InvalidGraph, ValueError, "cannot be replaced by .*int32"):
        theano.function([y], x * 2, givens={x: T.iscalar("i")})
    with pytest.raises(TypeError, match="givens must be a dict or a list of \\(variable, expression\\) pairs"):
        theano.function([y], x * 2, givens=[x])
    with pytest.raises(TypeError, match="expected a symbolic variable, got 1"):
        theano.function([y], y * 2, givens={1: y})


def test_missing_input():
    x, y = T.dscalar("x"), T.dscalar("y")
    with raises(errors.InvalidGraph, ValueError, "the graph needs input x \\(float64\\[\\]\\), which is not in the list of inputs"):
        theano.function([y], x + y)


def test_bad_inputs():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="inputs must be a list"):
        theano.function(x, x)
    with pytest.raises(TypeError, match="must be symbolic inputs"):
        theano.function([x + 1], x)
    with pytest.raises(TypeError, match="a shared variable is read by the function without being an input"):
        theano.function([theano.shared(1.0)], x, on_unused_input="ignore")


def test_bad_updates():
    x = T.dscalar("x")
    w = theano.shared(np.ones(3, dtype="int32"), "w")
    with raises(errors.UpdateError, ValueError, "the update of w has type float64\\[\\?\\], the variable has type int32\\[\\?\\]"):
        theano.function([], [], updates=[(w, w * 0.5)])
    with raises(errors.UpdateError, ValueError, "x is not a shared variable"):
        theano.function([x], x, updates=[(x, x + 1)])
    with raises(errors.UpdateError, ValueError, "w is updated twice"):
        theano.function([], [], updates=[(w, w + 1), (w, w + 2)])
    with pytest.raises(TypeError, match="updates must be a dict or a list of"):
        theano.function([], [], updates=[w])


def test_non_scalar_and_non_float_costs():
    m, i = T.dmatrix("m"), T.ivector("i")
    with raises(errors.NonScalarCost, TypeError, "the cost must be a 0-d tensor, got float64\\[\\?,\\?\\] \\(take its sum or mean first\\)"):
        T.grad(m, m)
    with raises(errors.NonFloatCost, TypeError, "the cost must be a float tensor, got int64\\[\\]"):
        T.grad(i.sum(), i)


def test_disconnected_and_integer_wrt():
    x, u = T.dscalar("x"), T.dscalar("u")
    with raises(errors.DisconnectedInputError, ValueError, "the cost does not depend on u; pass disconnected_inputs='ignore'"):
        T.grad(x ** 2, u)
    with raises(errors.InvalidValue, ValueError, "disconnected_inputs must be"):
        T.grad(x ** 2, x, disconnected_inputs="sometimes")
    k = T.lscalar("k")
    with raises(errors.IntegerWrt, TypeError, "k"):
        T.grad(x * k, k)


def test_unsupported_dtypes():
    for make in (T.bscalar, T.wvector, T.cmatrix, T.zmatrix, T.brow):
        with raises(errors.DTypeNotSupported, TypeError, "is not supported by tensorlift"):
            make()
    with raises(errors.DTypeNotSupported, TypeError, "dtype int8 is not supported"):
        T.TensorType("int8", (False,))
    with raises(errors.DTypeNotSupported, TypeError, "dtype int16 is not supported"):
        T.cast(T.dvector(), "int16")
    with raises(errors.DTypeNotSupported, TypeError, "arrays of dtype complex128 are not supported"):
        T.constant(np.ones(2) * 1j)
    with raises(errors.DTypeNotSupported, TypeError, "complex128"):
        theano.shared(np.ones(2, dtype=complex))
    with raises(errors.DTypeNotSupported, TypeError, "unknown dtype"):
        T.dvector().astype("float128x")


def test_unknown_mode():
    x = T.dscalar("x")
    with raises(errors.InvalidValue, ValueError, 'unknown mode "FOO"'):
        theano.function([x], x, mode="FOO")
    with raises(errors.InvalidValue, ValueError, "unknown mode 'FOO'"):
        theano.Mode("FOO")


def test_bad_on_unused_input():
    x, y = T.dscalar("x"), T.dscalar("y")
    with raises(errors.InvalidValue, ValueError, "on_unused_input must be 'raise', 'warn' or 'ignore'"):
        theano.function([x, y], x, on_unused_input="bogus")


def test_operands_of_no_tensor_kind():
    x = T.dvector("x")
    with pytest.raises(TypeError):
        x + None
    with pytest.raises(TypeError):
        x * {"a": 1}
    with pytest.raises(TypeError, match="cannot make a tensor of NoneType"):
        T.exp(None)
    with raises(errors.LossyConversion, TypeError, "does not fit int64"):
        x + 2 ** 70


def test_set_subtensor_needs_an_indexed_variable():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="take an indexed variable x\\[...\\]"):
        T.set_subtensor(x, 1.0)
    with raises(errors.ShapeMismatch, ValueError, "set_subtensor: shape mismatch"):
        theano.function([x], T.set_subtensor(x[0], np.ones(5)))(np.ones((2, 3)))


def test_wrong_arity_of_elementwise_ops():
    with pytest.raises(TypeError, match="exp takes 1 operand\\(s\\), got 2"):
        T.exp(T.dscalar(), T.dscalar())


def test_setting_a_name():
    x = T.dvector()
    x.name = "x"
    assert x.name == "x"
    with raises(errors.ArgShape, ValueError, "argument 0 \\(x\\)"):
        theano.function([x], x * 2)(np.ones((2, 2)))
