"""The classic Theano programs in ``examples/python`` run unchanged and compute what the
same algorithm written in numpy computes."""

import os
import runpy
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def run_example(name, **env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        return runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_logistic_regression_matches_numpy_and_fits_its_data(capsys):
    steps = 300
    g = run_example("logistic_regression.py", TRAINING_STEPS=steps, SEED=7)
    capsys.readouterr()
    # The same steps in numpy, from the same random draws.
    rng = np.random.RandomState(7)
    X, Y = rng.randn(400, 784), rng.randint(size=400, low=0, high=2)
    w, b = rng.randn(784), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w - b))
        gz = (p - Y) / len(Y)
        w, b = w - 0.1 * (X.T @ gz + 0.02 * w), b - 0.1 * gz.sum()
    np.testing.assert_allclose(g["w"].get_value(), w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g["b"].get_value(), b, rtol=1e-9, atol=1e-12)
    predicted = g["predict"](g["D"][0])
    np.testing.assert_array_equal(predicted, 1 / (1 + np.exp(-X @ w - b)) > 0.5)
    # 784 features for 400 examples: training fits the data.
    assert (predicted == (Y == 1)).mean() > 0.95


def test_the_cross_entropy_gradient_is_finite_at_huge_logits():
    import tensorlift as theano
    import tensorlift.tensor as T

    x, y = T.dvector("x"), T.dvector("y")
    p = 1 / (1 + T.exp(-x))
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    g = theano.function([x, y], T.grad(xent.sum(), x))
    z = np.array([-1000.0, 30.0, 1000.0])
    with np.errstate(over="ignore"):
        p_minus_y = 1 / (1 + np.exp(-z)) - [1.0, 0.0, 0.0]
    np.testing.assert_allclose(g(z, np.array([1.0, 0.0, 0.0])), p_minus_y, rtol=1e-15)


def test_scan_tutorial_cells(capsys):
    g = run_example("scan_tutorial.py")
    capsys.readouterr()
    np.testing.assert_allclose(g["power_result"], np.arange(10) ** 2)
    assert g["polynomial_value"] == 19.0
    np.testing.assert_allclose(g["jacobian_value"], [[8, 0], [0, 8]])
    np.testing.assert_allclose(g["running_sum"], [1, 3, 6, 10, 15])
    np.testing.assert_allclose(g["powers"], [2, 4, 8, 16, 32, 64])
    np.testing.assert_allclose(g["scaled_value"], [0, 1, 2, 3])
    assert g["counter"].get_value() == 4
