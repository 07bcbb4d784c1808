"""pickle and deepcopy of variables, shared variables, graphs and compiled functions: a
program saves its trained model and loads it back to predict."""

import copy
import pickle

import numpy as np

import tensorlift as theano
import tensorlift.tensor as T


def model():
    x = T.dmatrix("x")
    w = theano.shared(np.array([[0.5], [-1.0]]), "w")
    b = theano.shared(np.array([0.25]), "b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    return x, w, b, p


def test_variables_round_trip_with_their_types_and_values():
    x, w, b, p = model()
    x2, w2, b2, p2 = pickle.loads(pickle.dumps((x, w, b, p)))
    assert (x2.name, x2.dtype, x2.broadcastable) == ("x", "float64", x.broadcastable)
    assert w2.get_value().tolist() == [[0.5], [-1.0]]
    assert theano.pp(p2) == theano.pp(p)
    # The restored expression reads the restored leaves, not the originals.
    f2 = theano.function([x2], p2)
    w2.set_value(np.zeros((2, 1)))
    np.testing.assert_allclose(f2(np.ones((1, 2))), [[1 / (1 + np.exp(-0.25))]])
    assert w.get_value().tolist() == [[0.5], [-1.0]]


def test_a_trained_function_saved_and_loaded_keeps_training_its_own_parameters():
    x, w, b, p = model()
    y = T.dmatrix("y")
    cost = T.mean((p - y) ** 2)
    gw, gb = T.grad(cost, [w, b])
    train = theano.function([x, y], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)])
    predict = theano.function([x], p)
    xs, ys = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([[1.0], [0.0]])
    for _ in range(3):
        train(xs, ys)
    blob = pickle.dumps((train, predict, w))
    train2, predict2, w2 = pickle.loads(blob)
    np.testing.assert_array_equal(predict2(xs), predict(xs))
    # Both loaded functions share the loaded w: training one moves the other's prediction.
    before = predict2(xs)
    train2(xs, ys)
    assert not np.array_equal(predict2(xs), before)
    np.testing.assert_array_equal(w.get_value(), pickle.loads(blob)[2].get_value())
    assert not np.array_equal(w2.get_value(), w.get_value())


def test_keyword_inputs_and_defaults_survive_pickling():
    x, lr = T.dscalar("x"), T.dscalar("lr")
    f = theano.function([x, theano.In(lr, value=0.5)], x * lr)
    f2 = pickle.loads(pickle.dumps(f))
    assert float(f2(4.0)) == 2.0 and float(f2(x=4.0, lr=2.0)) == 8.0


def test_deepcopy_of_a_function_copies_its_shared_variables():
    w = theano.shared(np.zeros(2), "w")
    step = theano.function([], w.sum(), updates=[(w, w + 1)])
    step2 = copy.deepcopy(step)
    step2()
    step2()
    assert w.get_value().tolist() == [0.0, 0.0]
    assert float(step2()) == 4.0


def test_deepcopy_of_a_graph_keeps_shared_subexpressions_together():
    x = T.dvector("x")
    y = T.exp(x)
    z = y + y * 2
    z2, x2 = copy.deepcopy((z, x))
    assert x2 is not x
    f = theano.function([x2], z2)
    np.testing.assert_allclose(f([0.0, 1.0]), 3 * np.exp([0.0, 1.0]))


def test_one_shared_variable_is_one_python_object():
    w = theano.shared(np.ones(3), "w")
    f = theano.function([], w * 2)
    a, b = pickle.loads(pickle.dumps((w, w)))
    assert a is b
    x = T.dscalar("x")
    g = theano.function([x], x + 1)
    assert g.maker.fgraph.inputs[0] is x
    assert float(f().sum()) == 6.0


def test_types_and_functions_with_givens_pickle():
    tt = T.TensorType("float64", (False, True))
    assert pickle.loads(pickle.dumps(tt)) == tt and copy.deepcopy(tt) == tt
    x, y = T.dscalar("x"), T.dscalar("y")
    f = theano.function([y], x * 2, givens={x: y + 1})
    assert float(pickle.loads(pickle.dumps(f))(3.0)) == 8.0
