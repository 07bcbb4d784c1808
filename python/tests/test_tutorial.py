"""The seed tutorial in Python (``examples/python/tutorial.py`` and ``tutorial.ipynb``):
every cell runs and prints the values of the original notebook."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parents[2] / "examples" / "python"
SCRIPT = EXAMPLES / "tutorial.py"
NOTEBOOK = EXAMPLES / "tutorial.ipynb"

HAVE_SYMPY = importlib.util.find_spec("sympy") is not None
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# The cells of tutorial.md, in order.
LABELS = ["1.1", "1.1-values", "1.2", "1.3", "2-plot", "2", "3", "4-shared", "4-model", "4-values",
          "5.1-pp", "5.1-values", "5.1-sympy", "5.2-pp", "5.2-values", "5.2-sympy", "5.3-pp",
          "5.3-values", "5.3-sympy", "5.4-pp", "5.4-values", "5.4-sympy"]

# The values each cell prints, one list per printed line (tutorial.md's expected values).
VALUES = {
    "1.1-values": [[1.0], [4.0], [9.0], [16.0]],
    "1.2": [[1.0, 4.0, 9.0]],
    "1.3": [[1.0, 4.0, 9.0], [16.0, 25.0, 36.0]],
    "2": [[0.5, 0.73105858], [0.26894142, 0.11920292]],
    "3": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
    "4-shared": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [1.0, 1.0]],
    "4-values": [[7.0, 16.0]],
    "5.1-values": [[4.0], [6.0], [8.0]],
    "5.2-values": [[1.0], [6.12323399574e-17], [-1.0]],
    "5.3-values": [[6.0], [1.0], [2.0]],
    "5.4-values": [[10.0], [12.0], [20.0], [24.0]],
}

# The optimized graphs of the gradients, as tensorlift prints them.
PP = {
    "5.1-pp": ["(TensorConstant{2.0} * x)"],
    "5.2-pp": ["cos(x)"],
    "5.3-pp": ["Composite{(6.0 + (2.0 * (-4.0 + i0) * i0) + sqr(i0))}(x)"],
    "5.4-pp": ["Composite{(2.0 * (i0 + (2.0 * i1)))}(x, y)",
               "Composite{(4.0 * (i0 + (2.0 * i1)))}(x, y)"],
}

# What the SymPy cells print.
SYMPY = {
    "5.1-sympy": ["2*x", "4", "6", "8", "tensorlift and SymPy agree at 4 points"],
    "5.2-sympy": ["cos(x)", "1 0 -1", "tensorlift and SymPy agree at 4 points"],
    "5.3-sympy": ["3*x**2 - 8*x + 6"] * 3 + ["tensorlift and SymPy agree at 4 points"],
    "5.4-sympy": ["2*x + 4*y", "4*x + 8*y", "10 12 20 24"]
                 + ["tensorlift and SymPy agree at 3 points"] * 2
                 + ["the printed graphs are the derivatives"],
}

SYMPY_SKIPPED = "SymPy check skipped: sympy is not installed (pip install sympy)"
PLOT_SKIPPED = "sigmoid plot skipped: matplotlib is not installed (pip install matplotlib)"

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def run_script(cwd, **env):
    """Runs the tutorial script in a fresh interpreter; returns its stdout."""
    proc = subprocess.run([sys.executable, str(SCRIPT)], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def cells(stdout):
    """The printed lines of each cell, by label (``[label] title`` headers)."""
    out, label = {}, None
    for line in stdout.splitlines():
        header = re.match(r"\[([^\]]+)\] ", line)
        if header:
            label = header.group(1)
            assert label not in out, f"cell {label} printed twice"
            out[label] = []
        elif line.strip():
            assert label is not None, f"output before the first cell: {line!r}"
            out[label].append(line)
    return out


def numbers(line):
    """The numbers of one printed line."""
    return [float(n) for n in NUMBER.findall(line)]


def assert_values(lines, expected):
    """Each printed line holds the expected numbers (to the printed precision)."""
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected):
        got = numbers(line)
        assert len(got) == len(want), (line, want)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=0)


@pytest.fixture(scope="module")
def plot_path(tmp_path_factory):
    """Where the script saves the sigmoid plot."""
    return tmp_path_factory.mktemp("plot") / "sigmoid.png"


@pytest.fixture(scope="module")
def printed(plot_path):
    """The cells the script prints, run once for the module."""
    return cells(run_script(plot_path.parent, TENSORLIFT_TUTORIAL_PLOT=str(plot_path)))


def test_every_cell_runs_in_order(printed):
    assert list(printed) == LABELS


@pytest.mark.parametrize("label", sorted(VALUES))
def test_cell_values(printed, label):
    lines = [line for line in printed[label] if not line.startswith("<class")]
    assert_values(lines, VALUES[label])


def test_array_layout_is_numpys(printed):
    """Arrays print as ndarray does: a vector on one line, a matrix one row a line."""
    assert printed["1.2"] == ["[1. 4. 9.]"]
    assert printed["1.3"] == ["[[ 1.  4.  9.]", " [16. 25. 36.]]"]
    assert printed["4-values"] == ["[ 7. 16.]"]
    assert printed["5.2-values"][1] == "6.123233995736766e-17"


def test_types_of_symbols_expressions_and_functions(printed):
    assert printed["1.1"] == ["<class 'tensorlift.tensor.TensorVariable'>",
                              "<class 'tensorlift.tensor.TensorVariable'>",
                              "<class 'tensorlift.compile.Function'>"]
    assert printed["3"][0] == "<class 'tensorlift.tensor.TensorSharedVariable'>"
    assert printed["4-model"] == ["<class 'tensorlift.tensor.TensorVariable'>"]


@pytest.mark.parametrize("label", sorted(PP))
def test_pp_of_the_optimized_gradients(printed, label):
    assert printed[label] == PP[label]


@pytest.mark.parametrize("label", sorted(SYMPY))
def test_sympy_cells(printed, label):
    if HAVE_SYMPY:
        assert printed[label] == SYMPY[label]
    else:
        assert printed[label] == [SYMPY_SKIPPED]


def test_sigmoid_plot_is_saved(printed, plot_path):
    if not HAVE_MATPLOTLIB:
        assert printed["2-plot"] == [PLOT_SKIPPED]
        return
    assert printed["2-plot"] == [f"sigmoid plot saved to {plot_path}"]
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_without_sympy_and_matplotlib(tmp_path):
    """On a fresh machine (only numpy and tensorlift) every Theano cell still runs; the
    optional cells say that they were skipped."""
    for missing in ["sympy", "matplotlib"]:
        package = tmp_path / "blocked" / missing
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('{missing} is blocked')\n")
    blocked = str(tmp_path / "blocked")
    path = os.pathsep.join(filter(None, [blocked, os.environ.get("PYTHONPATH")]))
    printed = cells(run_script(tmp_path, PYTHONPATH=path))
    assert list(printed) == LABELS
    assert printed["2-plot"] == [PLOT_SKIPPED]
    for label in SYMPY:
        assert printed[label] == [SYMPY_SKIPPED]
    for label, expected in VALUES.items():
        assert_values([line for line in printed[label] if not line.startswith("<class")], expected)
    for label, expected in PP.items():
        assert printed[label] == expected


# --------------------------------------------------------------------------------------
# The notebook.
# --------------------------------------------------------------------------------------


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert any(c["cell_type"] == "markdown" for c in nb["cells"])


def test_notebook_is_valid_nbformat_4():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install nbformat)")
    nbformat.validate(nbformat.read(NOTEBOOK, as_version=4))


def cell_text(cell):
    """The text a code cell printed (its streams and plain-text results, joined)."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "execute_result":
            parts.append(out.data.get("text/plain", "") + "\n")
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run top to bottom by a Jupyter kernel."""
    reason = "the notebook test needs nbclient, nbformat and ipykernel (pip install nbclient nbformat ipykernel)"
    nbformat = pytest.importorskip("nbformat", reason=reason)
    nbclient = pytest.importorskip("nbclient", reason=reason)
    pytest.importorskip("ipykernel", reason=reason)
    pytest.importorskip("matplotlib", reason="the notebook draws with matplotlib (pip install matplotlib)")
    pytest.importorskip("sympy", reason="the notebook checks with sympy (pip install sympy)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cwd = tmp_path_factory.mktemp("notebook")
    # A kernel of this interpreter (the one tensorlift is installed in), whatever other
    # `python3` kernels the machine has.
    spec = cwd / "jupyter" / "kernels" / "tensorlift-tests"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "tensorlift tests",
                                                  "language": "python"}))
    path = os.pathsep.join(filter(None, [str(cwd / "jupyter"), os.environ.get("JUPYTER_PATH")]))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", path)
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="tensorlift-tests",
                                         resources={"metadata": {"path": str(cwd)}})
        client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    return nb


def test_notebook_cells_raise_nothing(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))


def test_notebook_prints_the_tutorials_values_in_order(executed):
    texts = [cell_text(c) for c in executed.cells if c.cell_type == "code"]
    expected = [
        "<class 'tensorlift.tensor.TensorVariable'>",
        "<class 'tensorlift.compile.Function'>",
        "1.0\n4.0\n9.0\n16.0\n",
        "[1. 4. 9.]",
        "[[ 1.  4.  9.]\n [16. 25. 36.]]",
        "[[0.5        0.73105858]\n [0.26894142 0.11920292]]",
        "<class 'tensorlift.tensor.TensorSharedVariable'>\n[[1. 2. 3.]\n [4. 5. 6.]]",
        "[[1. 2. 3.]\n [4. 5. 6.]]\n[1. 1.]",
        "[ 7. 16.]",
        PP["5.1-pp"][0],
        "4.0\n6.0\n8.0\n",
        "2*x\n4\n6\n8\n",
        "cos(x)\n",
        "1.0\n6.123233995736766e-17\n-1.0\n",
        "cos(x)\n1 0 -1\n",
        PP["5.3-pp"][0],
        "6.0\n1.0\n2.0\n",
        "3*x**2 - 8*x + 6\n3*x**2 - 8*x + 6\n",
        "\n".join(PP["5.4-pp"]),
        "10.0\n12.0\n20.0\n24.0\n",
        "2*x + 4*y\n4*x + 8*y\n",
        "10 12 20 24\n",
    ]
    k = 0
    for want in expected:
        while k < len(texts) and want not in texts[k]:
            k += 1
        assert k < len(texts), f"not printed (in order): {want!r}"


def test_notebook_draws_the_sigmoid_inline(executed):
    images = [c for c in executed.cells if c.cell_type == "code"
              and any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert len(images) == 1
    assert "plt.plot" in images[0].source and "sympy.exp(-xs)" in images[0].source
