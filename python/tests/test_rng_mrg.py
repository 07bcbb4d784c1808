"""``MRG_RandomStreams.normal(truncate=True)``, ``truncated_normal`` and ``choice`` by the rows
of a probability matrix: Theano's tests (``theano/sandbox/tests/test_rng_mrg.py``'s
``test_normal_truncation`` and ``test_truncated_normal``, and
``theano/sandbox/tests/test_multinomial_wo_replacement.py``) with fewer steps, plus checks
of the exact law of the truncation and of the picks' frequencies, the engines' agreement and
the error cases."""

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T
from tensorlift import config
from tensorlift.sandbox.rng_mrg import MRG_RandomStreams

# Theano's construction truncates at 2 by drawing a new radius for the samples beyond it:
# its standard deviation is sqrt(0.793124198244479) (by quadrature), not a truncated
# normal's 0.8796.
TRUNCATED_STD = 0.793124198244479 ** 0.5


def basictest(f, steps, sample_size, inputs=(), target_avg=0.5, target_std=None, mean_rtol=0.01,
              std_tol=0.01):
    """Theano's ``basictest``: the running mean and mean square deviation of ``steps`` calls."""
    for i in range(steps):
        ival = np.asarray(f(*inputs))
        assert ival.shape == sample_size
        if i == 0:
            mean = np.array(ival, copy=True)
            avg_var = np.mean((ival - target_avg) ** 2)
        else:
            alpha = 1.0 / (1 + i)
            mean = alpha * ival + (1 - alpha) * mean
            avg_var = alpha * np.mean((ival - target_avg) ** 2) + (1 - alpha) * avg_var
    if hasattr(target_avg, "shape"):
        diff = np.mean(abs(mean - target_avg))
        assert np.all(diff < mean_rtol * (1 + abs(target_avg))), (mean, target_avg)
    else:
        mean = np.mean(mean)
        assert abs(mean - target_avg) < mean_rtol * (1 + abs(target_avg)), (mean, target_avg)
    std = np.sqrt(avg_var)
    if target_std is not None:
        assert abs(std - target_std) < std_tol * (1 + abs(target_std)), (std, target_std)


def truncation_cases(std, steps):
    sample_size = (999, 50)
    odd = (sample_size[0], sample_size[1] - 1)
    x = T.matrix()
    rtol = 0.01
    return x, [
        (sample_size, sample_size, [], [], -5.0, rtol, rtol),
        (x.shape, sample_size, [x], [np.zeros(sample_size, dtype=config.floatX)], -5.0, rtol, rtol),
        (x.shape, odd, [x], [np.zeros(odd, dtype=config.floatX)], -5.0, rtol, rtol),
        (sample_size, sample_size, [], [],
         np.arange(np.prod(sample_size), dtype="float32").reshape(sample_size),
         10.0 * std / np.sqrt(steps), rtol),
        ((), (), [], [], -5.0, rtol, 0.02),
        ((1,), (1,), [], [], -5.0, rtol, 0.02),
        ((3,), (3,), [], [], -5.0, rtol, 0.02),
    ]


def test_normal_truncation():
    # Theano's test_normal_truncation (50 steps there).
    steps, std = 4, 2.0
    target_std = 0.87962566103423978 * std
    _, cases = truncation_cases(std, steps)
    for size, const_size, var_input, inputs, avg, rtol, std_tol in cases:
        R = MRG_RandomStreams(234)
        n = R.normal(size=size, avg=avg, std=std, truncate=True, nstreams=None)
        f = theano.function(var_input, n)
        samples = f(*inputs)
        assert np.all(avg + 2 * std - samples >= 0), "bad upper bound"
        assert np.all(samples - (avg - 2 * std) >= 0), "bad lower bound"
        steps_ = steps * 200 if np.prod(const_size) < 10 else steps
        basictest(f, steps_, const_size, inputs=inputs, target_avg=avg, target_std=target_std,
                  mean_rtol=rtol, std_tol=std_tol)


def test_truncated_normal():
    # Theano's test_truncated_normal: std divided by a truncated normal's standard deviation.
    steps, std = 4, 2.0
    _, cases = truncation_cases(std, steps)
    for size, const_size, var_input, inputs, avg, rtol, std_tol in cases:
        R = MRG_RandomStreams(234)
        n = R.truncated_normal(size=size, avg=avg, std=std)
        f = theano.function(var_input, n)
        steps_ = steps * 200 if np.prod(const_size) < 10 else steps
        basictest(f, steps_, const_size, inputs=inputs, target_avg=avg, target_std=std,
                  mean_rtol=rtol, std_tol=std_tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncation_bounds_and_exact_std(dtype):
    R = MRG_RandomStreams(5)
    z = theano.function([], R.normal((200000,), avg=1.5, std=0.5, truncate=True, dtype=dtype))()
    assert z.dtype == dtype
    assert z.min() >= 0.5 and z.max() <= 2.5
    # The standard deviation of the estimate is about 0.0016 (in std units): 0.008 is 5 of them.
    assert abs(z.std() / 0.5 - TRUNCATED_STD) < 0.008, z.std() / 0.5
    assert abs(z.mean() - 1.5) < 0.005
    # About 4.55% of the Box–Muller samples were redrawn: the plain draw of the same state
    # differs there only.
    plain = MRG_RandomStreams(5).normal((200000,), avg=1.5, std=0.5, dtype=dtype)
    p = theano.function([], plain)()
    inside = np.abs(p - 1.5) <= 1.0
    np.testing.assert_array_equal(p[inside], z[inside])
    assert abs((~inside).mean() - 0.0455) < 0.003


def test_truncation_is_the_same_on_both_engines(same_on_both_engines):
    R = MRG_RandomStreams(8)
    x = T.dmatrix("x")
    z = R.normal(size=x.shape, truncate=True)
    xv = np.zeros((301, 7))
    same_on_both_engines([x], z, xv)


# Theano's test_multinomial_wo_replacement.py, test_function.


def test_select_distinct():
    th_rng = MRG_RandomStreams(12345)
    p = T.fmatrix()
    n = T.iscalar()
    for m in (th_rng.multinomial_wo_replacement(pvals=p, n=n), th_rng.choice(size=n, p=p, replace=False)):
        f = theano.function([p, n], m, allow_input_downcast=True)
        n_elements = 1000
        all_indices = range(n_elements)
        np.random.seed(12345)
        for i in [5, 10, 50, 100, 500, n_elements]:
            pvals = np.random.randint(1, 100, (1, n_elements)).astype(config.floatX)
            pvals /= pvals.sum(1)
            res = f(pvals, i)
            assert res.shape == (1, i) and res.dtype == np.int64
            res = np.squeeze(res)
            assert len(res) == i
            assert len(np.unique(res)) == i
            assert np.all(np.isin(np.unique(res), all_indices)), res


def test_fail_select_alot():
    th_rng = MRG_RandomStreams(12345)
    p = T.fmatrix()
    n = T.iscalar()
    m = th_rng.multinomial_wo_replacement(pvals=p, n=n)
    f = theano.function([p, n], m, allow_input_downcast=True)
    n_elements, n_selected = 100, 200
    np.random.seed(12345)
    pvals = np.random.randint(1, 100, (1, n_elements)).astype(config.floatX)
    pvals /= pvals.sum(1)
    with pytest.raises(ValueError, match="distinct"):
        f(pvals, n_selected)


def test_select_proportional_to_weight():
    # Theano calls the function 10000 times on one row; here one call on 10000 copies of it.
    th_rng = MRG_RandomStreams(12345)
    p = T.fmatrix()
    n = T.iscalar()
    m = th_rng.choice(size=n, p=p, replace=False)
    f = theano.function([p, n], m, allow_input_downcast=True)
    n_elements, n_selected, mean_rtol = 100, 10, 0.0005
    np.random.seed(12345)
    pvals = np.random.randint(1, 100, (1, n_elements)).astype(config.floatX)
    pvals /= pvals.sum(1)
    res = f(np.repeat(pvals, 10000, axis=0), n_selected)
    assert res.shape == (10000, n_selected)
    assert all(len(set(row)) == n_selected for row in res[:500])
    avg_pvals = np.bincount(res.ravel(), minlength=n_elements).astype(config.floatX)
    avg_pvals /= avg_pvals.sum()
    avg_diff = np.mean(abs(avg_pvals - pvals))
    assert avg_diff < mean_rtol, avg_diff


def test_choice_by_rows_with_replacement_and_first_picks():
    pvals = np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 1.0, 0.0]])
    R = MRG_RandomStreams(3)
    # Theano's example: p = [[.98, .01, .01], [.01, .49, .50]], size 2.
    ex = theano.function([], R.choice(size=2, p=[[0.98, 0.01, 0.01], [0.01, 0.49, 0.50]], replace=False))()
    assert ex.shape == (2, 2) and ex[0, 0] in (0, 1, 2) and ex[0, 0] != ex[0, 1]
    with_r = theano.function([], R.choice(size=6, p=pvals))()
    assert with_r.shape == (2, 6) and list(with_r[1]) == [2] * 6
    # Default size 1: one pick per row, the certain row's always 2.
    one = theano.function([], R.choice(p=pvals, replace=False))
    for _ in range(20):
        assert one()[1, 0] == 2
    # Chi-square of 20000 first picks against the row (3 degrees of freedom, level 1e-3).
    many = np.repeat(pvals[:1], 20000, axis=0)
    first = theano.function([], R.choice(size=2, p=many, replace=False))()[:, 0]
    counts = np.bincount(first, minlength=4)
    expected = 20000 * pvals[0]
    assert ((counts - expected) ** 2 / expected).sum() < 16.27, counts
    # dtype, and a symbolic matrix.
    q = T.dmatrix("q")
    i32 = R.choice(size=3, p=q, replace=False, dtype="int32")
    assert i32.dtype == "int32"
    out = theano.function([q], i32)(np.full((5, 4), 0.25))
    assert out.shape == (5, 3) and out.dtype == np.int32


def test_choice_by_rows_is_the_same_on_both_engines(same_on_both_engines):
    R = MRG_RandomStreams(21)
    q = T.dmatrix("q")
    c = R.choice(size=4, p=q, replace=False)
    qv = np.random.default_rng(0).uniform(0.1, 1.0, (2001, 9))
    qv /= qv.sum(axis=1, keepdims=True)
    same_on_both_engines([q], c, qv)


def test_choice_errors():
    R = MRG_RandomStreams(1)
    pvals = np.array([[0.5, 0.5]])
    with pytest.raises(TypeError):
        R.choice(size=1, a=2, p=pvals, replace=False)
    with pytest.raises(ValueError):
        R.choice(size=1, p=pvals, replace=False, ndim=2)
    with pytest.raises(TypeError):
        R.choice(size=1)
    with pytest.raises(ValueError):
        R.multinomial_wo_replacement(size=(1,), pvals=pvals)
    q = T.dmatrix("q")
    f = theano.function([q], R.choice(size=2, p=q, replace=False))
    with pytest.raises(ValueError, match="non-zero probability"):
        f(np.array([[1.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="sum to"):
        f(np.array([[0.5, 0.6, 0.0]]))
    # Without a matrix, choice is NumPy's.
    v = theano.function([], R.choice(size=(5,), a=3, replace=True))()
    assert v.shape == (5,) and set(v) <= {0, 1, 2}
