"""The thin path end to end: variables, operators, gradients, functions, shared updates."""

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import errors


def test_tutorial_gradient_values_and_pp():
    x = T.dscalar("x")
    y = (x - 4) * (x ** 2 + 6)
    f = theano.function([x], T.grad(y, x))
    assert [float(f(v)) for v in (0.0, 1.0, 2.0)] == [6.0, 1.0, 2.0]
    assert theano.pp(f.maker.fgraph.outputs[0]) == "Composite{(6.0 + (2.0 * (-4.0 + i0) * i0) + sqr(i0))}(x)"


def test_single_output_is_a_bare_array_and_a_list_a_list():
    x = T.dvector("x")
    f = theano.function([x], x * 2)
    out = f([1.0, 2.0])
    assert isinstance(out, np.ndarray) and out.tolist() == [2.0, 4.0]
    g = theano.function([x], [x * 2, x.sum()])
    a, s = g(np.arange(3.0))
    assert a.tolist() == [0.0, 2.0, 4.0] and float(s) == 3.0
    assert theano.function([x], [], on_unused_input="ignore")([1.0]) == []


def test_scalar_output_is_a_0d_array_owned_by_the_caller():
    x = T.dscalar("x")
    out = theano.function([x], x ** 2)(3.0)
    assert isinstance(out, np.ndarray) and out.shape == () and out.flags.writeable
    assert float(out) == 9.0


def test_shared_updates_and_get_set_value():
    w = theano.shared(np.zeros(3), "w")
    step = theano.function([], w.sum(), updates=[(w, w + 1)])
    assert float(step()) == 0.0
    assert float(step()) == 3.0
    v = w.get_value()
    assert v.tolist() == [2.0, 2.0, 2.0]
    v[0] = 100.0  # a copy: the variable keeps its value
    assert w.get_value().tolist() == [2.0, 2.0, 2.0]
    w.set_value(np.ones(3))
    assert float(step()) == 3.0


def test_keyword_calls_and_defaults():
    x, lr = T.dscalar("x"), T.dscalar("lr")
    f = theano.function([x, theano.In(lr, value=0.5)], x * lr)
    assert float(f(4.0)) == 2.0
    assert float(f(4.0, 0.25)) == 1.0
    assert float(f(x=4.0, lr=2.0)) == 8.0
    with pytest.raises(TypeError):
        f(4.0, bogus=1.0)


def test_errors_are_typed_and_readable():
    x = T.dmatrix("x")
    f = theano.function([x], x.sum())
    with pytest.raises(errors.ArgShape) as e:
        f(np.ones(3))
    assert isinstance(e.value, ValueError) and "shape [3]" in str(e.value)
    with pytest.raises(errors.Arity) as e:
        f()
    assert isinstance(e.value, TypeError)
    with pytest.raises(errors.NonScalarCost):
        T.grad(x, x)
    with pytest.raises(errors.ShapeMismatch):
        T.dvector("a") + T.TensorType("float64", (False,), shape=(3,))("b") + np.ones(4)


def test_comparison_results_refuse_bool():
    a, b = T.dscalar("a"), T.dscalar("b")
    assert bool(a)
    with pytest.raises(TypeError):
        bool(a < b)


def test_givens_substitute_before_compiling():
    x, y = T.dscalar("x"), T.dscalar("y")
    f = theano.function([y], x * 2, givens={x: y + 1})
    assert float(f(3.0)) == 8.0


def test_floatx_constructors():
    assert T.vector("v").dtype == theano.config.floatX == "float64"
    with pytest.raises(NotImplementedError):
        T.bscalar("b")


def test_allow_input_downcast():
    x = T.fvector("x")
    strict = theano.function([x], x * 2)
    with pytest.raises(errors.ArgDType):
        strict(np.array([0.1, 2.0]))
    # A Python float for a float32 input is rounded, as Theano does for floatX.
    fs = T.fscalar("s")
    assert theano.function([fs], fs * 2)(0.1).dtype == np.float32
    loose = theano.function([x], x * 2, allow_input_downcast=True)
    out = loose(np.array([0.1, 2.0]))
    assert out.dtype == np.float32 and out.tolist() == [np.float32(0.1) * 2, 4.0]


def test_profile_counts_calls_and_times_nodes(capsys):
    x = T.dvector("x")
    f = theano.function([x], (T.exp(x) + 1).sum(), profile=True)
    assert theano.function([x], x * 2).profile is None
    for _ in range(4):
        f(np.arange(5.0))
    p = f.profile
    assert p.fct_callcount == 4 and p.fct_call_time > 0
    rows = p.apply_time()
    assert rows and all(runs == 4 for _, _, runs in rows)
    p.summary()
    out = capsys.readouterr().out
    assert "Time in 4 calls to Function.__call__" in out and "<% time>" in out
