"""numpy arguments are read in place: a float array of the input's dtype, of any layout
(C or Fortran order, transposed, stepped, reversed), reaches the compiled code without a
copy; what a function returns is never the caller's memory."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T


def test_a_large_argument_is_not_copied():
    # Peak memory in a fresh process: a 200 MB argument read in place adds nothing to it; a
    # copy would add 200 MB.
    code = textwrap.dedent("""
        import resource
        import numpy as np
        import tensorlift as theano
        import tensorlift.tensor as T
        x = T.dmatrix('x')
        f = theano.function([x], [x.sum(), T.dot(x, x[0]), T.exp(x.T[0]).sum()])
        a = np.ones((5000, 5000))
        f(a[:10])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        s, d, e = f(a)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert s == 25e6 and d.shape == (5000,) and (d == 5000).all(), (s, d)
        print(after - before)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown_kb = int(out.stdout.strip().splitlines()[-1])
    assert grown_kb < 50_000, f"a call on a 200 MB argument raised the peak by {grown_kb} kB"


LAYOUTS = {
    "C": lambda a: a,
    "Fortran": np.asfortranarray,
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
    "stepped": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
    "reversed": lambda a: np.ascontiguousarray(a[::-1])[::-1],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_layout_gives_numpys_results(layout, dtype):
    x = T.matrix("x", dtype=dtype)
    y = T.vector("y", dtype=dtype)
    f = theano.function([x, y], [T.exp(x) * 2 + y, T.dot(x, y), x.sum(axis=0), T.tanh(x.T)])
    rng = np.random.default_rng(3)
    a = LAYOUTS[layout](rng.standard_normal((30, 40)).astype(dtype))
    b = rng.standard_normal(40).astype(dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for got, want in zip(f(a, b), [np.exp(a) * 2 + b, a @ b, a.sum(axis=0), np.tanh(a.T)]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_outputs_and_updates_are_never_the_callers_memory():
    x = T.dmatrix("x")
    s = theano.shared(np.zeros((20, 30)), name="s")
    f = theano.function([x], [x, x.T, x[1:], x.reshape((600,))], updates=[(s, x)])
    a = np.arange(600.0).reshape(20, 30)
    outs = f(a)
    for out, want in zip(outs, [a, a.T, a[1:], a.reshape(600)]):
        np.testing.assert_array_equal(out, want)
        assert not np.shares_memory(out, a) and out.flags.writeable
    assert not np.shares_memory(s.get_value(borrow=True), a)
    outs[0][0, 0] = -1.0
    assert a[0, 0] == 0.0
    np.testing.assert_array_equal(s.get_value(), a)


def test_an_argument_of_another_dtype_or_misaligned_is_converted():
    x = T.dvector("x")
    f = theano.function([x], x * 2)
    np.testing.assert_array_equal(f(np.arange(50, dtype=np.int32)), np.arange(50) * 2.0)
    raw = np.zeros(50 * 8 + 1, dtype=np.uint8)[1:].view(np.float64)
    raw[:] = np.arange(50.0)
    assert not raw.flags.aligned
    np.testing.assert_array_equal(f(raw), np.arange(50.0) * 2)
