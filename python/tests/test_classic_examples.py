"""The deeplearning.net programs of ``examples/python`` (``logistic_sgd.py``, ``mlp.py``,
``lenet.py``) train on tensorlift unchanged and reach the validation errors their docstrings
state for a short run; the logistic regression also matches the same SGD written in numpy.

A program whose ops tensorlift does not have yet (advanced indexing for the likelihood,
``conv2d`` and ``pool_2d`` for LeNet) is skipped, with the reason.
"""

import os
import runpy
from pathlib import Path

import numpy as np
import pytest

import classic_models as cm

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


@pytest.fixture
def examples_path(monkeypatch):
    """The examples' folder on ``sys.path``, as when a program runs from it."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delenv("DIGITS", raising=False)


def run(name, monkeypatch, program, epochs):
    pytest.importorskip("tensorlift")
    why = cm.missing_feature(cm.Backend("tensorlift"), program)
    if why:
        pytest.skip(why)
    monkeypatch.setenv("N_EPOCHS", str(epochs))
    return runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def numpy_logistic_sgd(epochs, learning_rate=0.13, batch_size=100):
    """``logistic_sgd.py``'s training in numpy: the best validation error."""
    import digits
    (tx, ty), (vx, vy), _ = digits.load()
    W, b = np.zeros((784, 10)), np.zeros(10)
    best = np.inf
    for _ in range(epochs):
        for i in range(len(tx) // batch_size):
            x, y = tx[i * batch_size:(i + 1) * batch_size], ty[i * batch_size:(i + 1) * batch_size]
            z = x @ W + b
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(batch_size), y] -= 1
            g = p / batch_size
            W, b = W - learning_rate * (x.T @ g), b - learning_rate * g.sum(axis=0)
        n = len(vx) // batch_size * batch_size
        best = min(best, np.mean(np.argmax(vx[:n] @ W + b, axis=1) != vy[:n]))
    return best


def test_digits_are_deterministic_and_balanced(examples_path):
    import digits
    (tx, ty), (vx, vy), (sx, sy) = digits.load()
    assert tx.shape == (3000, 784) and vx.shape == sx.shape == (1000, 784)
    assert tx.min() >= 0 and tx.max() <= 1
    assert np.bincount(ty).tolist() == [300] * 10
    again = digits.synthetic_digits(1000, 2024 + 1)
    np.testing.assert_array_equal(again[0], vx)
    np.testing.assert_array_equal(again[1], vy)


def test_logistic_sgd_matches_numpy_and_learns(examples_path, monkeypatch, capsys):
    g = run("logistic_sgd.py", monkeypatch, "logreg", epochs=5)
    capsys.readouterr()
    # the docstring's figure for 5 epochs: below 20 %
    assert g["best_validation_loss"] < 0.20
    assert abs(g["best_validation_loss"] - numpy_logistic_sgd(5)) <= 0.002


def test_mlp_learns(examples_path, monkeypatch, capsys):
    g = run("mlp.py", monkeypatch, "mlp", epochs=1)
    capsys.readouterr()
    assert g["best_validation_loss"] < 0.20  # the docstring's figure for 1 epoch


def test_lenet_learns(examples_path, monkeypatch, capsys):
    g = run("lenet.py", monkeypatch, "lenet", epochs=1)
    capsys.readouterr()
    assert g["best_validation_loss"] < 0.30  # the docstring's figure for 1 epoch


def test_the_programs_are_theano_code():
    """Only the imports name tensorlift (``benches/peers/run_examples_on.py`` runs the same
    files on Theano 1.0 and PyTensor by renaming them)."""
    for name in ["logistic_sgd.py", "mlp.py", "lenet.py"]:
        lines = [ln for ln in (EXAMPLES / name).read_text().splitlines() if "tensorlift" in ln]
        assert lines and all(ln.startswith(("import tensorlift", "from tensorlift")) for ln in lines), name
    assert os.path.exists(EXAMPLES / "digits.py")
