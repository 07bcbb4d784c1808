"""Theano's ``x.name = ...`` (renames the variable in place, leaves included) and ``borrow``:
``get_value(borrow=True)`` is a read-only view of the variable's buffer, ``shared(v,
borrow=True)`` reads the caller's array in place (and gives it back)."""

import pickle
import threading

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import errors


def test_setting_a_leafs_name_renames_it_in_place():
    x = T.dvector()
    assert x.name is None
    y = T.exp(x * 2).sum()
    x.name = "x"
    assert x.name == "x" and str(x) == "x"
    assert "x" in theano.pp(y)
    assert "x" in theano.printing.debugprint(y, file="str")
    x.name = None
    assert x.name is None


def test_the_name_shows_in_messages_and_functions():
    x = T.dvector()
    x.name = "weights_in"
    f = theano.function([x], x * 2)
    with pytest.raises(ValueError, match=r"weights_in"):
        f(np.ones((2, 2)))
    z = T.dvector()
    with pytest.raises(errors.InvalidGraph, match="needs input weights_in"):
        theano.function([z], x + 1)
    assert "weights_in" in theano.printing.debugprint(f, file="str")


def test_intermediate_results_and_shared_variables_are_renamed_too():
    x = T.dscalar("x")
    y = (x - 4) * (x ** 2 + 6)
    y.name = "y"
    assert str(y) == "y" and "'y'" in theano.printing.debugprint(y, file="str").splitlines()[0]
    w = theano.shared(np.array([1.0, 2.0]), name="w")
    w.name = "weights"
    assert str(w) == "weights" and w.name == "weights"
    assert "weights" in theano.pp(w * 2)
    # Still the same shared variable: its value and updates are untouched.
    step = theano.function([], w, updates=[(w, w + 1)])
    step()
    np.testing.assert_array_equal(w.get_value(), [2.0, 3.0])


def test_renaming_changes_no_result_and_keeps_caching_sound():
    x = T.dvector("a")
    y = T.tanh(x) * 3
    f = theano.function([x], y)
    x.name = "b"
    g = theano.function([x], y)
    h = theano.function([x], y)
    v = np.array([0.25, -1.0])
    for fn in (f, g, h):
        np.testing.assert_array_equal(fn(v), np.tanh(v) * 3)
    # Each function shows the names its variables had when it was compiled.
    assert theano.pp(f.maker.fgraph.outputs[0]).endswith("(a)")
    assert theano.pp(g.maker.fgraph.outputs[0]).endswith("(b)")
    # A fresh variable that happens to have the old name is another variable.
    a = T.dvector("a")
    np.testing.assert_array_equal(theano.function([a], T.tanh(a) * 3)(v), np.tanh(v) * 3)


def test_a_renamed_variable_pickles_under_its_new_name():
    x = T.dvector()
    x.name = "x"
    w = theano.shared(np.arange(3.0), name="w")
    w.name = "w2"
    x2, w2 = pickle.loads(pickle.dumps((x, w)))
    assert (x2.name, w2.name) == ("x", "w2")


def test_names_are_strings_or_none():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="str or None"):
        x.name = 3
    with pytest.raises((TypeError, AttributeError)):
        del x.name
    assert x.name == "x"


def test_get_value_borrow_is_a_read_only_view_without_a_copy():
    data = np.arange(12.0).reshape(3, 4)
    w = theano.shared(data, name="w")
    a = w.get_value(borrow=True)
    b = w.get_value(borrow=True)
    assert a.shape == (3, 4) and a.dtype == np.float64
    np.testing.assert_array_equal(a, data)
    # Both views read the variable's one buffer: no copy was made.
    assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0, 0] = 5.0
    with pytest.raises(ValueError):
        a.flags.writeable = True
    # A copy (borrow=False) is the caller's own, writeable.
    c = w.get_value()
    assert c.flags.writeable and c.__array_interface__["data"][0] != a.__array_interface__["data"][0]
    c[0, 0] = -1.0
    np.testing.assert_array_equal(w.get_value(borrow=True), data)


def test_a_view_keeps_the_value_it_was_taken_from():
    w = theano.shared(np.zeros(4, dtype=np.float32), name="w")
    view = w.get_value(borrow=True)
    step = theano.function([], [], updates=[(w, w + 1)])
    step()
    step()
    np.testing.assert_array_equal(view, np.zeros(4, dtype=np.float32))
    np.testing.assert_array_equal(w.get_value(), np.full(4, 2.0, dtype=np.float32))
    w.set_value(np.ones(4, dtype=np.float32))
    np.testing.assert_array_equal(view, np.zeros(4, dtype=np.float32))
    # The view outlives the variable.
    del w, step
    np.testing.assert_array_equal(view + 1, np.ones(4, dtype=np.float32))


def test_views_of_every_dtype_and_of_empty_and_0d_values():
    for value in (np.arange(6, dtype=np.int32).reshape(2, 3), np.arange(3, dtype=np.int64),
                  np.array([True, False]), np.zeros((0, 3)), np.float64(2.5),
                  np.ones(5, dtype=np.float32)):
        v = theano.shared(value).get_value(borrow=True)
        assert v.dtype == np.asarray(value).dtype and v.shape == np.shape(value)
        np.testing.assert_array_equal(v, value)
        assert not v.flags.writeable


def test_a_view_read_while_functions_update_the_variable_in_threads():
    w = theano.shared(np.zeros(1000), name="w")
    step = theano.function([], [], updates=[(w, w + 1)])
    views = []

    def work():
        for _ in range(50):
            step()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(50):
        views.append(w.get_value(borrow=True))
    for t in threads:
        t.join()
    for v in views:
        # Each view is one consistent value: every element equal, never torn.
        assert (v == v[0]).all()
    assert w.get_value()[0] == 100.0


def test_shared_with_borrow_reads_the_callers_array_in_place():
    data = np.arange(100.0)
    w = theano.shared(data, borrow=True)
    total = theano.function([], w.sum())
    assert total() == data.sum()
    # Theano's aliasing: the caller's writes are what functions read, and
    # `get_value(borrow=True)` is the array itself.
    data[:] = 2.0
    assert total() == 200.0
    assert w.get_value(borrow=True) is data
    # A copy stays a copy.
    c = w.get_value()
    assert not np.shares_memory(c, data)
    # An update gives the variable a buffer of its own: the caller's array is never written.
    step = theano.function([], [], updates=[(w, w * 3)])
    step()
    np.testing.assert_array_equal(data, np.full(100, 2.0))
    np.testing.assert_array_equal(w.get_value(), np.full(100, 6.0))
    assert not np.shares_memory(w.get_value(borrow=True), data)
    # `set_value(borrow=True)` aliases again; without `borrow` it copies.
    fresh = np.ones(100)
    w.set_value(fresh, borrow=True)
    fresh[0] = 50.0
    assert total() == 149.0
    other = np.ones(100)
    w.set_value(other)
    other[0] = 50.0
    assert total() == 100.0


def test_shared_with_borrow_of_other_layouts_and_dtypes():
    f32 = np.arange(30, dtype=np.float32)
    v = theano.shared(f32, borrow=True)
    assert v.dtype == "float32"
    assert v.get_value(borrow=True) is f32
    # A transposed array is read in place too; a strided view of it as numpy sees it.
    m = np.arange(60.0).reshape(6, 10).T
    s = theano.shared(m, borrow=True)
    assert s.get_value(borrow=True) is m
    np.testing.assert_array_equal(theano.function([], s * 2)(), m * 2)
    # A small array, or a dtype converted on the way in, is copied.
    small = np.arange(3.0)
    t = theano.shared(small, borrow=True)
    small[0] = 9.0
    assert t.get_value()[0] == 0.0
    ints = np.arange(40, dtype=np.int16)
    u = theano.shared(ints, borrow=True)
    assert u.dtype == "int32" and not np.shares_memory(u.get_value(borrow=True), ints)


def test_a_borrowed_variable_keeps_the_array_alive():
    data = np.linspace(0.0, 1.0, 1000)
    expected = data.sum()
    w = theano.shared(data, borrow=True)
    f = theano.function([], w.sum())
    del data
    import gc
    gc.collect()
    assert abs(f() - expected) < 1e-12
