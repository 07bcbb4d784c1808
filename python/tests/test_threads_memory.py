"""Compiled functions under threads and over many calls: results from 4 Python threads at
once equal the single-threaded ones, reference counts do not grow, and the resident memory
stays flat over many calls and many compile/drop cycles.

The soak counts come from ``TENSORLIFT_PY_CALLS`` (calls of a scalar function, default
200 000) and ``TENSORLIFT_PY_COMPILES`` (compile/drop cycles, default 2 000)."""

import gc
import os
import sys
import threading

import numpy as np
import pytest

import tensorlift as theano
import tensorlift.tensor as T

CALLS = int(os.environ.get("TENSORLIFT_PY_CALLS", "200000"))
COMPILES = int(os.environ.get("TENSORLIFT_PY_COMPILES", "2000"))
SLACK_MB = 20.0


def rss_mb():
    """The resident set size of this process, in MB (``VmRSS`` of ``/proc/self/status``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def run_threads(n, work):
    """Runs ``work(k)`` in ``n`` threads started together; returns their results in order
    and re-raises the first exception of any thread."""
    results, failures = [None] * n, []
    barrier = threading.Barrier(n)

    def body(k):
        try:
            barrier.wait()
            results[k] = work(k)
        except BaseException as e:  # noqa: BLE001 (reported below)
            failures.append(e)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return results


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_four_threads_give_the_single_threaded_results(mode, rng):
    # Large enough that each call spends its time with the GIL released.
    x, w = T.dmatrix("x"), T.dmatrix("w")
    f = theano.function([x, w], [T.tanh(T.dot(x, w)).sum(axis=1), T.exp(-x ** 2).mean()], mode=mode)
    inputs = [(rng.uniform(-1, 1, (300, 200)), rng.uniform(-1, 1, (200, 100))) for _ in range(4)]
    expected = [f(a, b) for a, b in inputs]

    def work(k):
        a, b = inputs[k]
        return [f(a, b) for _ in range(5)]

    for k, outs in enumerate(run_threads(4, work)):
        for out in outs:
            np.testing.assert_array_equal(out[0], expected[k][0])
            np.testing.assert_array_equal(out[1], expected[k][1])


def test_threads_updating_one_shared_variable_lose_no_update():
    counter = theano.shared(np.int64(0), "counter")
    acc = theano.shared(np.zeros(1000), "acc")
    step = theano.function([], [], updates=[(counter, counter + 1), (acc, acc + 1.0)])

    def work(_):
        for _ in range(250):
            step()

    run_threads(4, work)
    assert int(counter.get_value()) == 1000
    np.testing.assert_array_equal(acc.get_value(), np.full(1000, 1000.0))


def test_threads_compiling_at_once():
    def work(k):
        x = T.dvector("x")
        f = theano.function([x], (x * k + T.exp(x)).sum())
        return float(f(np.arange(4.0)))

    got = run_threads(4, work)
    expected = [(np.arange(4.0) * k + np.exp(np.arange(4.0))).sum() for k in range(4)]
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_reference_counts_do_not_grow():
    x = T.dvector("x")
    f = theano.function([x], [x * 2, x.sum()])
    a = np.arange(5.0)
    for _ in range(10):  # warm up
        f(a)
    before_in, before_f = sys.getrefcount(a), sys.getrefcount(f)
    outs = [f(a) for _ in range(1000)]
    assert sys.getrefcount(a) == before_in
    assert sys.getrefcount(f) == before_f
    # Each output is owned by the caller alone: the list element and getrefcount's argument.
    assert all(sys.getrefcount(o[0]) == 2 for o in outs[-3:])
    del outs
    w = theano.shared(np.ones(3), "w")
    g = theano.function([], w.sum(), updates=[(w, w * 1.0)])
    before_w = sys.getrefcount(w)
    for _ in range(1000):
        g()
        w.get_value()
    assert sys.getrefcount(w) == before_w


def test_rss_is_flat_over_many_calls():
    a = T.dscalar("a")
    f = theano.function([a], a * 2.0 + 1.0)
    for _ in range(min(CALLS, 20000)):  # warm up
        f(1.5)
    gc.collect()
    start = rss_mb()
    for k in range(CALLS):
        f(1.5)
    gc.collect()
    grown = rss_mb() - start
    print(f"RSS {start:.1f} MB -> {start + grown:.1f} MB over {CALLS} calls")
    assert float(f(1.5)) == 4.0
    assert grown < SLACK_MB, f"RSS grew by {grown:.1f} MB over {CALLS} calls"


def test_rss_is_flat_over_compile_drop_cycles():
    x = T.dvector("x")

    def cycle(k):
        f = theano.function([x], (T.exp(x) * k + 1.0).sum())
        return f

    for k in range(min(COMPILES, 300)):  # warm up: caches fill once
        cycle(k)
    gc.collect()
    start = rss_mb()
    for k in range(COMPILES):
        f = cycle(k)
        del f
    gc.collect()
    grown = rss_mb() - start
    print(f"RSS {start:.1f} MB -> {start + grown:.1f} MB over {COMPILES} compiles")
    assert float(cycle(3)(np.zeros(2))) == 8.0
    assert grown < SLACK_MB, f"RSS grew by {grown:.1f} MB over {COMPILES} compiles"
