"""``tensorlift.tensor`` and ``tensorlift.tensor.nnet`` against numpy: every public function
compiled under ``FAST_RUN`` (native code) and ``FAST_COMPILE`` (the interpreter), the
variables' methods and attributes, and Python's operators with numbers and arrays on
either side."""

import math

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import _core, errors

MODES = ["FAST_RUN", "FAST_COMPILE"]
TOL = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=2e-6, atol=1e-7)}


@pytest.fixture(params=MODES)
def mode(request):
    """Each compiled test runs in both modes."""
    return request.param


def run(inputs, outputs, values, mode):
    """Compiles ``outputs`` of ``inputs`` in ``mode`` and calls it on ``values``."""
    return theano.function(inputs, outputs, mode=mode)(*values)


def close(actual, expected, dtype="float64"):
    """``actual`` equals ``expected`` within the tolerance of ``dtype``, with numpy's dtype."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, **TOL.get(dtype, dict(rtol=0, atol=0)))


# --------------------------------------------------------------------------------------
# Constructors and types.
# --------------------------------------------------------------------------------------

KINDS = {
    "scalar": (),
    "vector": (False,),
    "row": (True, False),
    "col": (False, True),
    "matrix": (False, False),
    "tensor3": (False,) * 3,
    "tensor4": (False,) * 4,
}
PREFIXES = {"i": "int32", "l": "int64", "f": "float32", "d": "float64", "": "float64"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_constructors_have_theanos_type(prefix, kind):
    v = getattr(T, prefix + kind)("v")
    assert v.dtype == PREFIXES[prefix]
    assert v.ndim == len(KINDS[kind])
    assert list(v.broadcastable) == list(KINDS[kind])
    assert v.name == "v" and str(v) == "v"
    assert v.type == T.TensorType(PREFIXES[prefix], KINDS[kind])
    assert isinstance(v, T.TensorVariable)


def test_unnamed_constructor_has_no_name():
    v = T.dmatrix()
    assert v.name is None
    assert str(v) == repr(v) == "<TensorType(float64, (False, False))>"


def test_tensor_type_makes_variables():
    ty = T.TensorType("float32", (False, True))
    assert (ty.dtype, ty.ndim, list(ty.broadcastable)) == ("float32", 2, [False, True])
    assert repr(ty) == "TensorType(float32, (False, True))"
    v = ty("m")
    assert (v.name, v.dtype, list(v.broadcastable)) == ("m", "float32", [False, True])
    assert T.TensorType("float64", (False,)) == T.dvector().type
    assert T.TensorType("float64", (False,)) != T.fvector().type
    assert hash(T.TensorType("int64", ())) == hash(T.lscalar().type)


def test_tensor_function_takes_dtype_and_broadcastable():
    v = T.tensor("int32", (False, True), name="t")
    assert (v.dtype, list(v.broadcastable), v.name) == ("int32", [False, True], "t")


@pytest.mark.parametrize(
    "value, dtype, ndim",
    [
        (2, "int64", 0),
        (2.5, "float64", 0),
        (True, "bool", 0),
        ([1, 2, 3], "int64", 1),
        ([[1.0, 2.0]], "float64", 2),
        (np.float32(1.5), "float32", 0),
        (np.arange(6, dtype="int32").reshape(2, 3), "int32", 2),
    ],
)
def test_as_tensor_variable_and_constant(value, dtype, ndim, mode):
    v = T.as_tensor_variable(value)
    c = T.constant(value)
    for var in (v, c):
        assert (var.dtype, var.ndim) == (dtype, ndim)
        np.testing.assert_array_equal(var.eval(), np.asarray(value))
    assert isinstance(c, T.TensorConstant) and c.name is None
    np.testing.assert_array_equal(c.data, np.asarray(value))
    out = run([], v * 1, [], mode)
    np.testing.assert_array_equal(out, np.asarray(value) * 1)


def test_as_tensor_variable_passes_variables_and_checks_ndim():
    x = T.dvector("x")
    assert T.as_tensor_variable(x) is x
    assert T.as_tensor_variable(x + 1, name="y").name == "y"
    with pytest.raises(TypeError, match="expected 2 dimensions, got 1"):
        T.as_tensor_variable(x, ndim=2)



def test_named_constant():
    c = T.constant(2.0, name="two")
    assert c.name == "two" and str(c) == "two"


def test_as_tensor_variable_of_a_value_with_a_name():
    assert T.as_tensor_variable(np.ones(3), name="ones").name == "ones"


def test_constant_with_dtype():
    c = T.constant([1, 2], dtype="float32")
    assert c.dtype == "float32"
    np.testing.assert_array_equal(c.eval(), np.array([1.0, 2.0], dtype="float32"))


# --------------------------------------------------------------------------------------
# The elementwise library, made from the op table.
# --------------------------------------------------------------------------------------


def _erf(a):
    return np.vectorize(math.erf, otypes=[a.dtype])(a)


def _erfc(a):
    return np.vectorize(math.erfc, otypes=[a.dtype])(a)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# Theano name -> (numpy reference, domain of the test data)
UNARY = {
    "neg": (np.negative, "any"),
    "negative": (np.negative, "any"),
    "abs_": (np.abs, "any"),
    "abs": (np.abs, "any"),
    "sign": (np.sign, "any"),
    "sgn": (np.sign, "any"),
    "sqr": (np.square, "any"),
    "sqrt": (np.sqrt, "pos"),
    "inv": (np.reciprocal, "pos"),
    "reciprocal": (np.reciprocal, "pos"),
    "exp": (np.exp, "any"),
    "exp2": (np.exp2, "any"),
    "expm1": (np.expm1, "any"),
    "log": (np.log, "pos"),
    "log1p": (np.log1p, "pos"),
    "log2": (np.log2, "pos"),
    "log10": (np.log10, "pos"),
    "sin": (np.sin, "any"),
    "cos": (np.cos, "any"),
    "tan": (np.tan, "any"),
    "arcsin": (np.arcsin, "unit"),
    "arccos": (np.arccos, "unit"),
    "arctan": (np.arctan, "any"),
    "sinh": (np.sinh, "any"),
    "cosh": (np.cosh, "any"),
    "tanh": (np.tanh, "any"),
    "arcsinh": (np.arcsinh, "any"),
    "arccosh": (np.arccosh, "gt1"),
    "arctanh": (np.arctanh, "unit"),
    "sigmoid": (_sigmoid, "any"),
    "softplus": (lambda a: np.log1p(np.exp(a)), "any"),
    "erf": (_erf, "any"),
    "erfc": (_erfc, "any"),
    "cbrt": (np.cbrt, "any"),
    "floor": (np.floor, "any"),
    "ceil": (np.ceil, "any"),
    "round": (np.round, "half"),
    "trunc": (np.trunc, "any"),
}

BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "subtract": np.subtract,
    "mul": np.multiply,
    "multiply": np.multiply,
    "true_div": np.true_divide,
    "true_divide": np.true_divide,
    "divide": np.true_divide,
    "pow": np.power,
    "power": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "int_div": np.floor_divide,
    "floor_div": np.floor_divide,
    "floor_divide": np.floor_divide,
    "mod": np.mod,
    "mod_check": np.mod,
    "remainder": np.mod,
    "second": lambda a, b: np.broadcast_to(b, np.broadcast(a, b).shape),
    "fill": lambda a, b: np.broadcast_to(b, np.broadcast(a, b).shape),
}

COMPARISONS = {"lt": np.less, "gt": np.greater, "le": np.less_equal, "ge": np.greater_equal,
               "eq": np.equal, "neq": np.not_equal}
LOGICAL = {"and_": np.logical_and, "bitwise_and": np.logical_and, "or_": np.logical_or,
           "bitwise_or": np.logical_or, "xor": np.logical_xor, "bitwise_xor": np.logical_xor}
# The op table's names that Theano spells differently.
RENAMED = {"abs": "abs_", "and": "and_", "or": "or_", "not": "invert", "reciprocal": "inv"}


def data(domain, dtype, rng, shape=(3, 4)):
    """Test data in the domain of a function."""
    if domain == "pos":
        a = rng.uniform(0.1, 5.0, shape)
    elif domain == "unit":
        a = rng.uniform(-0.95, 0.95, shape)
    elif domain == "gt1":
        a = rng.uniform(1.05, 5.0, shape)
    elif domain == "half":
        a = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, -0.6, 3.7, -3.2, 0.0, 7.5]).reshape(shape)
    else:
        a = rng.uniform(-3.0, 3.0, shape)
    return a.astype(dtype)


def test_every_op_of_the_table_is_tested():
    tested = set(UNARY) | set(BINARY) | set(COMPARISONS) | set(LOGICAL) | {"invert", "switch", "clip"}
    for op in _core.scalar_ops():
        name = RENAMED.get(op, op)
        assert name in tested, f"op {op} ({name}) has no test"
        assert callable(getattr(T, name)), name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_elementwise_matches_numpy(name, dtype, mode, rng):
    ref, domain = UNARY[name]
    a = data(domain, dtype, rng)
    x = T.TensorType(dtype, (False, False))("x")
    out = run([x], getattr(T, name)(x), [a], mode)
    expected = ref(a)
    assert out.dtype == expected.dtype
    close(out, expected, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_elementwise_matches_numpy(name, dtype, mode, rng):
    a = data("pos", dtype, rng)
    b = data("any", dtype, rng, shape=(1, 4))  # a row: broadcast over the rows of a
    x = T.TensorType(dtype, (False, False))("x")
    y = T.TensorType(dtype, (True, False))("y")
    out = run([x, y], getattr(T, name)(x, y), [a, b], mode)
    expected = BINARY[name](a, b)
    assert out.dtype == expected.dtype
    close(out, expected, dtype)


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_give_bool(name, mode, rng):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    x, y = T.dmatrix("x"), T.dvector("y")
    out = run([x, y], getattr(T, name)(x, y), [a, b], mode)
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out, COMPARISONS[name](a, b))


@pytest.mark.parametrize("name", sorted(LOGICAL))
def test_logical_ops_of_bools(name, mode):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    x, y = T.dvector("x"), T.dvector("y")
    out = run([x, y], getattr(T, name)(x > 0, y > 0), [a * 2.0 - 1, b * 2.0 - 1], mode)
    np.testing.assert_array_equal(out, LOGICAL[name](a, b))


def test_invert_and_bitwise_not(mode):
    x = T.dvector("x")
    for fn in (T.invert, T.bitwise_not):
        out = run([x], fn(x > 0), [np.array([-1.0, 1.0])], mode)
        np.testing.assert_array_equal(out, [True, False])
    out = run([x], ~(x > 0), [np.array([-1.0, 1.0])], mode)
    np.testing.assert_array_equal(out, [True, False])


def test_nary_add_and_mul(mode, rng):
    a, b, c = (rng.uniform(-1, 1, 4) for _ in range(3))
    x, y, z = T.dvector("x"), T.dvector("y"), T.dvector("z")
    s, p = run([x, y, z], [T.add(x, y, z), T.mul(x, y, z)], [a, b, c], mode)
    close(s, a + b + c)
    close(p, a * b * c)
    with pytest.raises(TypeError, match="at least 2 operands"):
        T.add(x)


def test_switch_clip_cast(mode, rng):
    a = rng.uniform(-2, 2, (3, 4))
    x = T.dmatrix("x")
    sw, cl, ci, cf = run([x], [T.switch(x > 0, x, -2 * x), T.clip(x, -0.5, 0.5), T.cast(x, "int32"),
                               T.cast(x, "float32")], [a], mode)
    close(sw, np.where(a > 0, a, -2 * a))
    close(cl, np.clip(a, -0.5, 0.5))
    assert ci.dtype == np.int32 and cf.dtype == np.float32
    np.testing.assert_array_equal(ci, a.astype("int32"))
    np.testing.assert_array_equal(cf, a.astype("float32"))
    assert T.cast(x, "int64").dtype == "int64" and T.cast(x, "bool").dtype == "bool"
    np.testing.assert_array_equal(run([x], x.clip(0, 1), [a], mode), np.clip(a, 0, 1))


def test_zeros_like_ones_like(mode):
    x = T.imatrix("x")
    z, o, of = run([x], [T.zeros_like(x), T.ones_like(x), T.ones_like(x, dtype="float32")],
                   [np.arange(6, dtype="int32").reshape(2, 3)], mode)
    assert z.dtype == np.int32 and o.dtype == np.int32 and of.dtype == np.float32
    np.testing.assert_array_equal(z, np.zeros((2, 3)))
    np.testing.assert_array_equal(of, np.ones((2, 3)))


# --------------------------------------------------------------------------------------
# Reductions.
# --------------------------------------------------------------------------------------

REDUCTIONS = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "max": np.max, "min": np.min}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), [0, 2]])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_numpy(name, axis, keepdims, mode, rng):
    a = rng.uniform(0.5, 1.5, (2, 3, 4))
    x = T.dtensor3("x")
    fn_out, method_out = run([x], [getattr(T, name)(x, axis=axis, keepdims=keepdims),
                                   getattr(x, name)(axis=axis, keepdims=keepdims)], [a], mode)
    ax = tuple(axis) if isinstance(axis, list) else axis
    expected = REDUCTIONS[name](a, axis=ax, keepdims=keepdims)
    close(fn_out, expected)
    close(method_out, expected)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, axis, keepdims, mode, rng):
    a = rng.permutation(12).reshape(3, 4).astype("float64")
    x = T.dmatrix("x")
    out = run([x], getattr(T, name)(x, axis=axis, keepdims=keepdims), [a], mode)
    expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_all_any(axis, mode):
    a = np.array([[1.0, -1.0, 2.0], [1.0, 1.0, -3.0]])
    x = T.dmatrix("x")
    al, an = run([x], [T.all(x > 0, axis=axis), T.any(x > 1, axis=axis)], [a], mode)
    np.testing.assert_array_equal(al, np.all(a > 0, axis=axis))
    np.testing.assert_array_equal(an, np.any(a > 1, axis=axis))


def test_reduction_dtypes_follow_theano(mode):
    i = T.imatrix("i")
    a = np.arange(6, dtype="int32").reshape(2, 3)
    s, m, p = run([i], [T.sum(i), T.mean(i), T.prod(i + 1)], [a], mode)
    assert (s.dtype, m.dtype, p.dtype) == (np.int64, np.float64, np.int64)
    assert (int(s), float(m), int(p)) == (15, 2.5, 720)
    assert T.sum(i, dtype="float32").dtype == "float32"


def test_max_and_argmax(mode, rng):
    a = rng.uniform(size=(3, 4))
    x = T.dmatrix("x")
    m, am = run([x], list(T.max_and_argmax(x, axis=1)), [a], mode)
    close(m, a.max(axis=1))
    np.testing.assert_array_equal(am, a.argmax(axis=1))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_var_std_logsumexp(axis, keepdims, mode, rng):
    a = rng.uniform(-2, 2, (3, 4))
    x = T.dmatrix("x")
    v, s, lse, mv, ms = run([x], [T.var(x, axis=axis, keepdims=keepdims), T.std(x, axis=axis, keepdims=keepdims),
                                  T.logsumexp(x, axis=axis, keepdims=keepdims), x.var(axis=axis, keepdims=keepdims),
                                  x.std(axis=axis, keepdims=keepdims)], [a], mode)
    close(v, np.var(a, axis=axis, keepdims=keepdims))
    close(mv, np.var(a, axis=axis, keepdims=keepdims))
    close(s, np.std(a, axis=axis, keepdims=keepdims))
    close(ms, np.std(a, axis=axis, keepdims=keepdims))
    close(lse, np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)))


def test_logsumexp_is_stable(mode):
    x = T.dvector("x")
    out = run([x], T.logsumexp(x), [np.array([1000.0, 1000.0])], mode)
    close(out, 1000.0 + np.log(2.0))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_and_std_with_ddof_are_numpys(axis, ddof):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 5))
    x = T.dmatrix("x")
    f = theano.function([x], [T.var(x, axis=axis, ddof=ddof), T.std(x, axis=axis, ddof=ddof, keepdims=True)])
    v, s = f(a)
    np.testing.assert_allclose(v, a.var(axis=axis, ddof=ddof), rtol=1e-13)
    np.testing.assert_allclose(s, a.std(axis=axis, ddof=ddof, keepdims=True), rtol=1e-13)
    # Theano's `corrected` two-pass estimate: equal to the plain one up to rounding.
    c = theano.function([x], T.var(x, axis=axis, ddof=ddof, corrected=True))(a)
    np.testing.assert_allclose(c, a.var(axis=axis, ddof=ddof), rtol=1e-12)
    with pytest.raises(ValueError, match="ddof"):
        T.var(x, ddof=-1)


def test_rebroadcast_family():
    m = T.dmatrix("m")
    assert T.addbroadcast(m, 0).broadcastable == (True, False)
    assert T.unbroadcast(T.addbroadcast(m, 0, 1), 1).broadcastable == (True, False)
    assert T.patternbroadcast(m, (False, True)).broadcastable == (False, True)
    r = T.addbroadcast(m, 0)
    f = theano.function([m], r + np.ones((3, 2)))
    np.testing.assert_array_equal(f(np.array([[1.0, 2.0]])), np.array([[2.0, 3.0]] * 3))
    with pytest.raises(Exception, match="cannot broadcast"):
        f(np.ones((2, 2)))
    g = theano.function([m], T.grad(T.sum(T.addbroadcast(m, 0) * np.arange(6.0).reshape(3, 2)), m))
    np.testing.assert_array_equal(g(np.ones((1, 2))), [[6.0, 9.0]])


def test_size_xlogx_and_the_1hot_crossentropies():
    x = T.dmatrix("x")
    y = T.lvector("y")
    a = np.array([[0.0, 1.0, 2.0], [3.0, 0.5, 0.0]])
    assert theano.function([x], x.size)(a) == 6
    import tensorlift.tensor.xlogx as xl
    f = theano.function([x], [T.xlogx.xlogx(x), xl.xlogy0(x, x + 1)])
    got, got0 = f(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(got, np.where(a == 0, 0.0, a * np.log(a)))
    np.testing.assert_allclose(got0, np.where(a == 0, 0.0, a * np.log(a + 1)))
    nll, sm = theano.function([x, y], list(T.nnet.crossentropy_softmax_1hot(x, y)))(a, np.array([2, 0]))
    e = np.exp(a - a.max(axis=1, keepdims=True))
    want_sm = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sm, want_sm, rtol=1e-14)
    np.testing.assert_allclose(nll, -np.log(want_sm[[0, 1], [2, 0]]), rtol=1e-14)
    # Stable where the naive form overflows: logits of 1000.
    big = theano.function([x, y], T.nnet.crossentropy_softmax_1hot(x, y)[0])(
        np.array([[1000.0, 0.0]]), np.array([1]))
    np.testing.assert_allclose(big, [1000.0])


def test_softmax_of_a_vector_is_a_row_as_in_theano():
    v = T.dvector("v")
    out = theano.function([v], [T.nnet.softmax(v), T.nnet.softmax(v, axis=-1)])(np.array([0.0, np.log(3.0)]))
    assert out[0].shape == (1, 2) and out[1].shape == (2,)
    np.testing.assert_allclose(out[0], [[0.25, 0.75]])


# --------------------------------------------------------------------------------------
# Products, joins, shapes, subtensors.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)), ((4,), (4,))],
)
def test_dot(shape_a, shape_b, mode, rng):
    a, b = rng.uniform(-1, 1, shape_a), rng.uniform(-1, 1, shape_b)
    x = T.TensorType("float64", (False,) * len(shape_a))("x")
    y = T.TensorType("float64", (False,) * len(shape_b))("y")
    d, m, mm = run([x, y], [T.dot(x, y), x.dot(y), x @ y], [a, b], mode)
    for out in (d, m, mm):
        close(out, np.dot(a, b))


def test_dot_float32(mode, rng):
    a, b = rng.uniform(-1, 1, (5, 3)).astype("float32"), rng.uniform(-1, 1, (3, 2)).astype("float32")
    x, y = T.fmatrix("x"), T.fmatrix("y")
    out = run([x, y], T.dot(x, y), [a, b], mode)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)


def test_outer(mode, rng):
    a, b = rng.uniform(size=3), rng.uniform(size=4)
    x, y = T.dvector("x"), T.dvector("y")
    close(run([x, y], T.outer(x, y), [a, b], mode), np.outer(a, b))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_join_stack(axis, mode, rng):
    a, b = rng.uniform(size=(2, 3)), rng.uniform(size=(2, 3))
    x, y = T.dmatrix("x"), T.dmatrix("y")
    c, j, s, s2 = run([x, y], [T.concatenate([x, y], axis=axis), T.join(axis, x, y),
                               T.stack([x, y], axis=axis), T.stack(x, y, axis=axis)], [a, b], mode)
    close(c, np.concatenate([a, b], axis=axis))
    close(j, np.concatenate([a, b], axis=axis))
    close(s, np.stack([a, b], axis=axis))
    close(s2, np.stack([a, b], axis=axis))


def test_stack_of_scalars(mode):
    a, b = T.dscalar("a"), T.dscalar("b")
    close(run([a, b], T.stack([a, b, a + b]), [1.0, 2.0], mode), [1.0, 2.0, 3.0])


def test_transpose_reshape_flatten(mode, rng):
    a = rng.uniform(size=(2, 3, 4))
    x = T.dtensor3("x")
    outs = run([x], [T.transpose(x), T.transpose(x, (1, 0, 2)), x.transpose(2, 0, 1), x.T,
                     T.reshape(x, (6, 4)), x.reshape((4, -1)), x.reshape([24]), T.flatten(x),
                     T.flatten(x, 2), x.flatten(), x.flatten(2)], [a], mode)
    expected = [a.T, a.transpose(1, 0, 2), a.transpose(2, 0, 1), a.T, a.reshape(6, 4), a.reshape(4, -1),
                a.reshape(24), a.reshape(-1), a.reshape(2, -1), a.reshape(-1), a.reshape(2, -1)]
    for out, exp in zip(outs, expected):
        close(out, exp)


@pytest.mark.parametrize(
    "index",
    [(0,), (-1,), (slice(1, None),), (slice(None), 1), (slice(None, None, 2), slice(1, 3)), (1, slice(None, None, -1))],
)
def test_set_and_inc_subtensor(index, mode, rng):
    a = rng.uniform(size=(4, 5))
    x = T.dmatrix("x")
    s, i = run([x], [T.set_subtensor(x[index], 7.0), T.inc_subtensor(x[index], 2.0)], [a], mode)
    es, ei = a.copy(), a.copy()
    es[index] = 7.0
    ei[index] += 2.0
    close(s, es)
    close(i, ei)


def test_set_subtensor_with_symbolic_index_and_array_value(mode):
    x, k, v = T.dmatrix("x"), T.lscalar("k"), T.dvector("v")
    a = np.zeros((3, 2))
    out = run([x, k, v], T.set_subtensor(x[k], v), [a, 1, np.array([5.0, 6.0])], mode)
    close(out, [[0.0, 0.0], [5.0, 6.0], [0.0, 0.0]])
    out = run([x, k], T.inc_subtensor(x[k], 1.0, set_instead_of_inc=True), [a, 2], mode)
    close(out, [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])


# --------------------------------------------------------------------------------------
# nnet.
# --------------------------------------------------------------------------------------


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


NNET = {
    "sigmoid": (lambda x: T.nnet.sigmoid(x), _sigmoid),
    "T.sigmoid": (lambda x: T.sigmoid(x), _sigmoid),
    "ultra_fast_sigmoid": (lambda x: T.nnet.ultra_fast_sigmoid(x), _sigmoid),
    "hard_sigmoid": (lambda x: T.nnet.hard_sigmoid(x), lambda a: np.clip(0.2 * a + 0.5, 0, 1)),
    "softplus": (lambda x: T.nnet.softplus(x), lambda a: np.log1p(np.exp(a))),
    "relu": (lambda x: T.nnet.relu(x), lambda a: np.maximum(a, 0)),
    "relu_leaky": (lambda x: T.nnet.relu(x, alpha=0.1), lambda a: np.where(a > 0, a, 0.1 * a)),
    "elu": (lambda x: T.nnet.elu(x), lambda a: np.where(a > 0, a, np.expm1(a))),
    "selu": (lambda x: T.nnet.selu(x),
             lambda a: 1.0507009873554804934 * np.where(a > 0, a, 1.6732632423543772848 * np.expm1(a))),
    "softmax": (lambda x: T.nnet.softmax(x), _softmax),
    "softmax_axis0": (lambda x: T.nnet.softmax(x, axis=0), lambda a: _softmax(a, axis=0)),
    "logsoftmax": (lambda x: T.nnet.logsoftmax(x), lambda a: np.log(_softmax(a))),
    "log_softmax": (lambda x: T.nnet.log_softmax(x), lambda a: np.log(_softmax(a))),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(NNET))
def test_nnet_activations(name, dtype, mode, rng):
    build, ref = NNET[name]
    a = rng.uniform(-4, 4, (3, 5)).astype(dtype)
    x = T.TensorType(dtype, (False, False))("x")
    out = run([x], build(x), [a], mode)
    assert out.dtype == a.dtype
    close(out, ref(a.astype("float64")).astype(dtype), dtype)


def test_softmax_is_stable(mode):
    x = T.dmatrix("x")
    out = run([x], T.nnet.softmax(x), [np.array([[1000.0, 1000.0, -1000.0]])], mode)
    close(out, [[0.5, 0.5, 0.0]])


def test_cross_entropies(mode, rng):
    p = rng.uniform(0.05, 0.95, (4, 3))
    t = (rng.uniform(size=(4, 3)) > 0.5).astype("float64")
    z = rng.uniform(-3, 3, (4, 3))
    onehot = np.eye(3)[[0, 2, 1, 2]]
    probs = _softmax(z)
    P, Tg, Z, O = T.dmatrix("p"), T.dmatrix("t"), T.dmatrix("z"), T.dmatrix("o")
    bce, sbce, cce = run([P, Tg, Z, O], [T.nnet.binary_crossentropy(P, Tg),
                                         T.nnet.sigmoid_binary_crossentropy(Z, Tg),
                                         T.nnet.categorical_crossentropy(T.nnet.softmax(Z), O)],
                         [p, t, z, onehot], mode)
    close(bce, -(t * np.log(p) + (1 - t) * np.log(1 - p)))
    zs = _sigmoid(z)
    close(sbce, -(t * np.log(zs) + (1 - t) * np.log(1 - zs)), "float32")  # log(1 - sigmoid) loses digits
    close(cce, -np.sum(onehot * np.log(probs), axis=-1))


# --------------------------------------------------------------------------------------
# Variables: indexing, methods, attributes.
# --------------------------------------------------------------------------------------

A = np.arange(24.0).reshape(4, 6)


@pytest.mark.parametrize(
    "index",
    [
        (slice(1, None), slice(None, None, 2)),
        0,
        -1,
        (Ellipsis, 0),
        None,
        (slice(None), None),
        (1, slice(None, None, -1)),
        (slice(-3, -1), -2),
        (slice(None, 2), Ellipsis),
    ],
    ids=["1:,::2", "0", "-1", "...,0", "None", ":,None", "1,::-1", "-3:-1,-2", ":2,..."],
)
def test_indexing_matches_numpy(index, mode):
    x = T.dmatrix("x")
    out = run([x], x[index], [A], mode)
    close(out, A[index])
    assert x[index].ndim == A[index].ndim


def test_indexing_with_a_symbolic_scalar(mode):
    x, k = T.dmatrix("x"), T.lscalar("k")
    close(run([x, k], x[k, 1:], [A, 2], mode), A[2, 1:])
    close(run([x, k], x[k], [A, -1], mode), A[-1])


def test_new_axes_are_broadcastable():
    x = T.dmatrix("x")
    assert list(x[None].broadcastable) == [True, False, False]
    assert list(x[:, None].broadcastable) == [False, True, False]
    assert list(x.dimshuffle("x", 1, 0).broadcastable) == [True, False, False]


@pytest.mark.parametrize(
    "pattern, expected",
    [((1, 0), A.T), (("x", 0, 1), A[None]), ((0, "x", 1), A[:, None]), ([1, "x", 0], A.T[:, None])],
)
def test_dimshuffle(pattern, expected, mode):
    x = T.dmatrix("x")
    y = x.dimshuffle(pattern) if isinstance(pattern, list) else x.dimshuffle(*pattern)
    close(run([x], y, [A], mode), expected)


def test_dimshuffle_drops_broadcastable_axes(mode):
    r = T.drow("r")
    close(run([r], r.dimshuffle(1), [A[:1]], mode), A[0])


def test_attributes():
    x = T.fmatrix("x")
    assert x.ndim == 2 and x.dtype == "float32" and x.name == "x"
    assert x.type == T.TensorType("float32", (False, False))
    assert list(x.broadcastable) == [False, False]
    assert list(T.frow().broadcastable) == [True, False]
    assert list(T.fcol().broadcastable) == [False, True]
    assert x.T.ndim == 2 and x.sum().ndim == 0 and x.sum(axis=0).ndim == 1
    assert x.sum(axis=0, keepdims=True).broadcastable == (True, False)


def test_str_and_repr():
    x = T.dmatrix("x")
    assert str(x) == repr(x) == "x"
    assert str(x + 1) == "add.0"
    assert str(x.sum()) == "sum.0"
    assert str(T.constant(2.0)) == "TensorConstant{2.0}"
    assert str(theano.shared(np.ones(2), name="w")) == "w"
    assert str((x + 1).named("y")) == "y"


def test_eval():
    x, y = T.dvector("x"), T.dscalar("y")
    np.testing.assert_array_equal((x * 2).eval({x: np.array([1.0, 2.0])}), [2.0, 4.0])
    np.testing.assert_array_equal((x * y).eval({x: [1.0, 2.0], y: 3.0}), [3.0, 6.0])
    assert float(T.constant(3.0).eval()) == 3.0
    w = theano.shared(np.array([1.0, 2.0]))
    np.testing.assert_array_equal((w * 2).eval(), [2.0, 4.0])


def test_astype_and_named():
    x = T.dvector("x")
    assert x.astype("int32").dtype == "int32"
    assert x.astype(np.float32).dtype == "float32"
    y = x + 1
    assert y.named("z").name == "z" and y.name is None


# --------------------------------------------------------------------------------------
# Python operators with numbers and arrays on both sides.
# --------------------------------------------------------------------------------------

X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]])
OPERATORS = {
    "x + 2": (lambda x: x + 2, lambda a: a + 2),
    "2 + x": (lambda x: 2 + x, lambda a: 2 + a),
    "2 - x": (lambda x: 2 - x, lambda a: 2 - a),
    "x - 2.5": (lambda x: x - 2.5, lambda a: a - 2.5),
    "x * 3": (lambda x: x * 3, lambda a: a * 3),
    "3.5 * x": (lambda x: 3.5 * x, lambda a: 3.5 * a),
    "x / 3": (lambda x: x / 3, lambda a: a / 3),
    "3 / x": (lambda x: 3 / x, lambda a: 3 / a),
    "x ** 2": (lambda x: x ** 2, lambda a: a ** 2),
    "2 ** x": (lambda x: 2 ** x, lambda a: 2.0 ** a),
    "x ** 0.5 (abs)": (lambda x: abs(x) ** 0.5, lambda a: np.abs(a) ** 0.5),
    "abs(x)": (lambda x: abs(x), np.abs),
    "-x": (lambda x: -x, np.negative),
    "+x": (lambda x: +x, lambda a: +a),
    "np.float64(2) * x": (lambda x: np.float64(2) * x, lambda a: np.float64(2) * a),
    "x * np.float64(2)": (lambda x: x * np.float64(2), lambda a: a * np.float64(2)),
    "np.int64(3) - x": (lambda x: np.int64(3) - x, lambda a: np.int64(3) - a),
    "array + x": (lambda x: np.array([1.0, 2.0, 3.0]) + x, lambda a: np.array([1.0, 2.0, 3.0]) + a),
    "x * array": (lambda x: x * np.array([1.0, 2.0, 3.0]), lambda a: a * np.array([1.0, 2.0, 3.0])),
    "array / x": (lambda x: np.array([[1.0], [2.0]]) / x, lambda a: np.array([[1.0], [2.0]]) / a),
    "list + x": (lambda x: [1.0, 2.0, 3.0] + x, lambda a: [1.0, 2.0, 3.0] + a),
    "x @ array": (lambda x: x @ np.ones((3, 2)), lambda a: a @ np.ones((3, 2))),
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operators_match_numpy(name, mode):
    build, ref = OPERATORS[name]
    x = T.dmatrix("x")
    y = build(x)
    assert isinstance(y, T.TensorVariable), type(y)
    out = run([x], y, [X], mode)
    expected = ref(X)
    assert out.dtype == expected.dtype
    close(out, expected)


CMPS = {
    "x < 1": (lambda x: x < 1, lambda a: a < 1),
    "x <= 1": (lambda x: x <= 1, lambda a: a <= 1),
    "x > 1": (lambda x: x > 1, lambda a: a > 1),
    "x >= 1": (lambda x: x >= 1, lambda a: a >= 1),
    "1 < x": (lambda x: 1 < x, lambda a: 1 < a),
    "1.0 >= x": (lambda x: 1.0 >= x, lambda a: 1.0 >= a),
    "array < x": (lambda x: np.array([0.0, 0.0, 5.0]) < x, lambda a: np.array([0.0, 0.0, 5.0]) < a),
    "np.float64(1) > x": (lambda x: np.float64(1) > x, lambda a: np.float64(1) > a),
    "(x > 0) & (x < 2)": (lambda x: (x > 0) & (x < 2), lambda a: (a > 0) & (a < 2)),
    "(x > 2) | (x < 0)": (lambda x: (x > 2) | (x < 0), lambda a: (a > 2) | (a < 0)),
}


@pytest.mark.parametrize("name", sorted(CMPS))
def test_comparison_operators(name, mode):
    build, ref = CMPS[name]
    x = T.dmatrix("x")
    y = build(x)
    assert isinstance(y, T.TensorVariable) and y.dtype == "bool"
    out = run([x], y, [X], mode)
    np.testing.assert_array_equal(out, ref(X))
    assert out.dtype == np.bool_


def test_float32_operators_keep_float32(mode):
    fx = T.fvector("fx")
    a = np.array([1.0, 2.5], dtype="float32")
    for y in (np.float32(2) * fx, fx * np.float32(2), fx * 2, 2 * fx, fx / 2, fx + 0.5, fx ** 2, -fx, abs(fx)):
        assert y.dtype == "float32"
    out = run([fx], np.float32(2) * fx - 1, [a], mode)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.float32(2) * a - 1)


def test_integer_operators(mode):
    i = T.ivector("i")
    a = np.array([1, -2, 3], dtype="int32")
    add, neg, sq, ab = run([i], [i + 2, -i, i ** 2, abs(i)], [a], mode)
    for out, exp in [(add, a + 2), (neg, -a), (sq, a ** 2), (ab, np.abs(a))]:
        assert out.dtype == np.int32
        np.testing.assert_array_equal(out, exp)


def test_equality_is_identity_as_in_theano():
    x = T.dvector("x")
    assert (x == x) is True
    assert (x == 1) is False
    assert (x != T.dvector("x")) is True
    assert {x: 1}[x] == 1


def test_length_and_iteration_are_type_errors():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="no len"):
        len(x)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(x)


def test_constant_shape_constructors_match_numpy():
    f = theano.function([], [T.arange(5), T.arange(1.0, 2.0, 0.25), T.zeros((2, 3)), T.ones(4, dtype="int32"),
                             T.eye(3, k=1), T.alloc(2.5, 2, 2)])
    a, b, z, o, e, al = f()
    np.testing.assert_array_equal(a, np.arange(5))
    assert a.dtype == np.int64 and b.dtype == np.float64
    np.testing.assert_array_equal(b, np.arange(1.0, 2.0, 0.25))
    np.testing.assert_array_equal(z, np.zeros((2, 3)))
    assert o.dtype == np.int32 and o.tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(e, np.eye(3, k=1))
    np.testing.assert_array_equal(al, np.full((2, 2), 2.5))
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="integer scalar length"):
        T.zeros((x, 2))


def test_ifelse_selects_a_branch():
    from tensorlift.ifelse import ifelse

    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    f = theano.function([a, b, x, y], ifelse(T.lt(a, b), T.mean(x), T.mean(y)))
    ones, twos = np.ones((2, 2)), 2 * np.ones((2, 2))
    assert float(f(1.0, 2.0, ones, twos)) == 1.0 and float(f(3.0, 2.0, ones, twos)) == 2.0
    g = theano.function([a, b], ifelse(a > b, [a, b], [b, a]))
    assert [float(v) for v in g(1.0, 2.0)] == [2.0, 1.0]
    with pytest.raises(TypeError):
        ifelse(x, a, b)


def test_padding_and_squeezing_axes():
    v = T.dvector("v")
    f = theano.function([v], [T.shape_padleft(v), T.shape_padright(v, 2), T.shape_padaxis(v, -1),
                              T.squeeze(T.shape_padleft(v))])
    left, right, axis, sq = f(np.arange(3.0))
    assert (left.shape, right.shape, axis.shape, sq.shape) == ((1, 3), (3, 1, 1), (3, 1), (3,))
    assert T.shape_padleft(v).broadcastable == (True, False)
    with pytest.raises(IndexError):
        T.shape_padaxis(v, 3)


@pytest.mark.parametrize("mode", MODES)
def test_symbolic_shapes(mode):
    x = T.dmatrix("x")
    n = T.lscalar("n")
    a = np.arange(6.0).reshape(2, 3)
    f = theano.function([x, n], [x.shape, x.shape[1], T.shape(x)[-2], T.shape_i(x, 0),
                                 T.zeros(x.shape), T.ones((n, x.shape[1]), dtype="int32"),
                                 T.alloc(T.exp(x), n, x.shape[0], 3)], mode=mode)
    sh, cols, rows, rows_i, z, o, al = f(a, 4)
    np.testing.assert_array_equal(sh, [2, 3])
    assert sh.dtype == np.int64 and cols == 3 and rows == 2 and rows_i == 2
    np.testing.assert_array_equal(z, np.zeros((2, 3)))
    assert o.dtype == np.int32
    np.testing.assert_array_equal(o, np.ones((4, 3)))
    np.testing.assert_allclose(al, np.broadcast_to(np.exp(a), (4, 2, 3)))
    with pytest.raises(ValueError, match="negative"):
        f(a, -1)


def test_alloc_gradient_sums_over_broadcast_axes():
    v = T.dvector("v")
    w = np.arange(6.0).reshape(2, 3)
    g = T.grad(T.sum(T.alloc(v, 2, v.shape[0]) * w), v)
    np.testing.assert_allclose(theano.function([v], g)(np.ones(3)), w.sum(axis=0))


def test_ifelse_is_lazy_and_differentiable():
    from tensorlift.ifelse import ifelse

    c = T.iscalar("c")
    x = T.dvector("x")
    # The branch not taken would index out of range: it is not computed.
    bad = T.sum(x[np.array([99])])
    f = theano.function([c, x], ifelse(c, bad, T.sum(x), name="chosen"))
    assert float(f(0, np.arange(3.0))) == 3.0
    with pytest.raises(Exception, match="99"):
        f(1, np.arange(3.0))
    # The gradient flows to the branch taken only.
    g = theano.function([c, x], T.grad(T.sum(ifelse(c, x ** 2, T.sin(x))), x))
    xs = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(g(1, xs), 2 * xs)
    np.testing.assert_allclose(g(0, xs), np.cos(xs))
    # Branches of different lengths.
    h = theano.function([c, x], ifelse(c, x[:1], x))
    assert h(1, xs).shape == (1,) and h(0, xs).shape == (3,)
