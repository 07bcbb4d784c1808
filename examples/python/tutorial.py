"""The Theano tutorial tensorlift grew from, cell by cell, in Python.

Every cell is written as a Theano 1.0 user writes it; only the imports differ
(``import tensorlift as theano``). Each derivative is checked a second way, with
SymPy ("always keep a second way to compute a thing: when one way goes wrong,
comparing with the other shows where").

Run it with ``python examples/python/tutorial.py``. SymPy and matplotlib are optional:
without SymPy the second-way checks are skipped, without matplotlib the sigmoid plot is
skipped; each skip prints a line saying so. Set ``TENSORLIFT_TUTORIAL_PLOT=sigmoid.png``
to save the plot to a file.
"""

import os
import re

import numpy as np
import tensorlift as theano
import tensorlift.tensor as T

try:
    import sympy
except ImportError:  # the second way is optional
    sympy = None

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # so is the plot
    plt = None


def cell(label, title):
    """Prints the header of a cell: ``[label] title``."""
    print(f"\n[{label}] {title}")


def sympy_skipped():
    """Says that a second-way check did not run; True when SymPy is missing."""
    if sympy is None:
        print("SymPy check skipped: sympy is not installed (pip install sympy)")
    return sympy is None


def assert_agree(compiled, derivative, symbols, points):
    """Asserts that the compiled gradient ``compiled`` and the SymPy expression
    ``derivative`` of ``symbols`` agree at every point of ``points``."""
    for point in points:
        exact = derivative.subs(dict(zip(symbols, point)))
        numeric = [float(sympy.N(p)) for p in point]
        got = float(compiled(*numeric))
        assert np.isclose(got, float(exact), rtol=1e-12, atol=1e-12), (point, got, exact)
    print(f"tensorlift and SymPy agree at {len(points)} points")


def sympy_from_pp(text, names):
    """Reads a formula printed by ``theano.pp`` of an optimized output into SymPy: a fused
    kernel ``Composite{body}(args)`` (or Theano's ``Elemwise{Composite{body}}(args)``) has
    its inputs ``i0, i1, ...`` replaced by its arguments; ``names`` maps the input names
    to SymPy symbols."""
    text = re.sub(r"TensorConstant\{([^}]*)\}", r"\1", text)
    local = dict(names, sqr=lambda a: a ** 2)
    kernel = re.fullmatch(r"(?:Elemwise\{)?Composite\{([^{}]*)\}\}?\((.*)\)", text)
    if kernel is None:
        return sympy.sympify(text, locals=local)
    body, args = kernel.groups()
    for k, arg in enumerate(args.split(", ")):
        local[f"i{k}"] = sympy.sympify(arg, locals=names)
    return sympy.sympify(body, locals=local)


# ---------------------------------------------------------------------------------------
# 1. Symbols, expressions, compiled functions
# ---------------------------------------------------------------------------------------
cell("1.1", "a symbol, an expression and a compiled function")
# the symbol x is a double scalar
x = T.dscalar('x')
print(type(x))
# a formula of symbols is again a symbol
y = x ** 2
print(type(y))
# compiled here
f = theano.function(inputs=[x], outputs=y)
print(type(f))

cell("1.1-values", "f(1), f(2), f(3), f(4)")
print(f(1))
print(f(2))
print(f(3))
print(f(4))

cell("1.2", "the same formula on a vector")
x = T.dvector('x')
y = x ** 2
f = theano.function(inputs=[x], outputs=y)
print(f([1, 2, 3]))

cell("1.3", "the same formula on a matrix")
x = T.dmatrix('x')
y = x ** 2
f = theano.function(inputs=[x], outputs=y)
print(f([[1, 2, 3], [4, 5, 6]]))

# ---------------------------------------------------------------------------------------
# 2. Sigmoid
# ---------------------------------------------------------------------------------------
cell("2-plot", "s(x) = 1 / (1 + exp(-x)) on [-5, 5]")
if plt is None:
    print("sigmoid plot skipped: matplotlib is not installed (pip install matplotlib)")
else:
    grid = np.linspace(-5, 5, 201)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(grid, 1 / (1 + np.exp(-grid)))
    ax.set_xlabel("x")
    ax.set_ylabel("s(x)")
    path = os.environ.get("TENSORLIFT_TUTORIAL_PLOT")
    if path:
        fig.savefig(path)
        print("sigmoid plot saved to", path)
    else:
        print("sigmoid plot drawn (set TENSORLIFT_TUTORIAL_PLOT=sigmoid.png to save it)")
    plt.close(fig)

cell("2", "the sigmoid of a matrix")
# the symbol
x = T.dmatrix('x')
# the formula
s = 1 / (1 + T.exp(-x))
# the compiled function
sigmoid = theano.function(inputs=[x], outputs=s)
# computed on values
print(sigmoid([[0, 1], [-1, -2]]))

# ---------------------------------------------------------------------------------------
# 3. Shared variables
# ---------------------------------------------------------------------------------------
cell("3", "a shared variable")
data = np.array([[1, 2, 3], [4, 5, 6]], dtype=theano.config.floatX)
X = theano.shared(data, name='X', borrow=True)
print(type(X))
print(X.get_value())

# ---------------------------------------------------------------------------------------
# 4. Linear regression y = W x + b with shared parameters
# ---------------------------------------------------------------------------------------
cell("4-shared", "W and b")
W = theano.shared(np.array([[1, 2, 3], [4, 5, 6]], dtype=theano.config.floatX), name='W', borrow=True)
b = theano.shared(np.array([1, 1], dtype=theano.config.floatX), name='b', borrow=True)
print(W.get_value())
print(b.get_value())

cell("4-model", "y = T.dot(W, x) + b")
x = T.vector('x')
y = T.dot(W, x) + b
print(type(y))
f = theano.function([x], y)

cell("4-values", "f([1, 1, 1])")
print(f([1, 1, 1]))

# ---------------------------------------------------------------------------------------
# 5. Automatic differentiation
# ---------------------------------------------------------------------------------------
cell("5.1-pp", "dy/dx of y = x ** 2, the optimized graph")
x = T.dscalar('x')
y = x ** 2
gy = T.grad(cost=y, wrt=x)
f = theano.function(inputs=[x], outputs=gy)
print(theano.pp(f.maker.fgraph.outputs[0]))

cell("5.1-values", "f(2), f(3), f(4)")
print(f(2))
print(f(3))
print(f(4))

cell("5.1-sympy", "the same derivative with SymPy")
if not sympy_skipped():
    xs = sympy.Symbol('x')
    dydx = sympy.diff(xs ** 2, xs)
    print(dydx)
    print(dydx.subs(xs, 2))
    print(dydx.subs(xs, 3))
    print(dydx.subs(xs, 4))
    assert_agree(f, dydx, [xs], [(2,), (3,), (4,), (-1.5,)])

cell("5.2-pp", "dy/dx of y = sin(x), the optimized graph")
x = T.dscalar('x')
y = T.sin(x)
gy = T.grad(cost=y, wrt=x)
f = theano.function(inputs=[x], outputs=gy)
print(theano.pp(f.maker.fgraph.outputs[0]))

cell("5.2-values", "f(0), f(pi / 2), f(pi)")
print(f(0))
print(f(np.pi / 2))
print(f(np.pi))

cell("5.2-sympy", "the same derivative with SymPy")
if not sympy_skipped():
    xs = sympy.Symbol('x')
    dydx = sympy.diff(sympy.sin(xs), xs)
    print(dydx)
    print(dydx.subs(xs, 0), dydx.subs(xs, sympy.pi / 2), dydx.subs(xs, sympy.pi))
    assert_agree(f, dydx, [xs], [(0,), (sympy.pi / 2,), (sympy.pi,), (1,)])

cell("5.3-pp", "dy/dx of y = (x - 4) * (x ** 2 + 6), the optimized graph")
x = T.dscalar('x')
y = (x - 4) * (x ** 2 + 6)
gy = T.grad(cost=y, wrt=x)
f = theano.function(inputs=[x], outputs=gy)
print(theano.pp(f.maker.fgraph.outputs[0]))

cell("5.3-values", "f(0), f(1), f(2)")
print(f(0))
print(f(1))
print(f(2))

cell("5.3-sympy", "the printed formula, expanded, and the derivative with SymPy")
if not sympy_skipped():
    xs = sympy.Symbol('x')
    # The notebook copied Theano's printed formula by hand and expanded it.
    dy = 6 + xs ** 2 + (2 * (-4 + xs) * xs)
    print(sympy.expand(dy))
    # tensorlift's printed formula, read as it is printed.
    printed = sympy_from_pp(theano.pp(f.maker.fgraph.outputs[0]), {'x': xs})
    print(sympy.nsimplify(sympy.expand(printed)))
    dydx = sympy.diff((xs - 4) * (xs ** 2 + 6), xs)
    print(sympy.expand(dydx))
    assert sympy.expand(dy - dydx) == 0
    assert sympy.expand(sympy.nsimplify(printed) - dydx) == 0
    assert_agree(f, dydx, [xs], [(0,), (1,), (2,), (3.5,)])

cell("5.4-pp", "partial derivatives of z = (x + 2 * y) ** 2, the optimized graphs")
x = T.dscalar('x')
y = T.dscalar('y')
z = (x + 2 * y) ** 2
# dz/dx
gx = T.grad(cost=z, wrt=x)
# dz/dy
gy = T.grad(cost=z, wrt=y)
fgx = theano.function(inputs=[x, y], outputs=gx)
fgy = theano.function(inputs=[x, y], outputs=gy)
print(theano.pp(fgx.maker.fgraph.outputs[0]))
print(theano.pp(fgy.maker.fgraph.outputs[0]))

cell("5.4-values", "fgx(1, 2), fgx(2, 2), fgy(1, 2), fgy(2, 2)")
print(fgx(1, 2))
print(fgx(2, 2))
print(fgy(1, 2))
print(fgy(2, 2))

cell("5.4-sympy", "the same partial derivatives with SymPy")
if not sympy_skipped():
    xs, ys = sympy.symbols('x y')
    zs = (xs + 2 * ys) ** 2
    dzdx = sympy.expand(sympy.diff(zs, xs))
    dzdy = sympy.expand(sympy.diff(zs, ys))
    print(dzdx)
    print(dzdy)
    print(dzdx.subs({xs: 1, ys: 2}), dzdx.subs({xs: 2, ys: 2}), dzdy.subs({xs: 1, ys: 2}), dzdy.subs({xs: 2, ys: 2}))
    points = [(1, 2), (2, 2), (-0.5, 3)]
    assert_agree(fgx, dzdx, [xs, ys], points)
    assert_agree(fgy, dzdy, [xs, ys], points)
    for compiled, derivative in [(fgx, dzdx), (fgy, dzdy)]:
        printed = sympy_from_pp(theano.pp(compiled.maker.fgraph.outputs[0]), {'x': xs, 'y': ys})
        assert sympy.expand(sympy.nsimplify(printed) - derivative) == 0
    print("the printed graphs are the derivatives")
