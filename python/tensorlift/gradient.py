"""``tensorlift.gradient`` (Theano's ``theano.gradient``): reverse-mode gradients,
Jacobians, Hessians and the finite-difference check."""

from collections import OrderedDict as _OrderedDict

from . import _core


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """The gradient of the 0-d ``cost`` with respect to ``wrt`` (a variable or a list).

    ``consider_constant`` lists expressions no gradient flows through;
    ``disconnected_inputs`` is ``'raise'``, ``'warn'`` or ``'ignore'`` (zeros for inputs
    the cost does not use); ``known_grads`` maps intermediate variables to their gradients.
    """
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    if cost is None:
        if not known_grads:
            raise ValueError("grad: cost is None and there are no known_grads")
        # Only the known gradients flow: a constant cost contributes nothing.
        cost = _core.constant(0.0)
    kg = list(known_grads.items()) if known_grads else []
    gs = _core.grad(cost, wrt_list, list(consider_constant or []), disconnected_inputs, kg)
    return gs[0] if single else gs


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of a vector ``expression`` with respect to ``wrt`` (or each of a list)."""
    if isinstance(wrt, (list, tuple)):
        return [_core.jacobian(expression, w) for w in wrt]
    return _core.jacobian(expression, wrt)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of a 0-d ``cost`` with respect to ``wrt`` (or each of a list)."""
    if isinstance(wrt, (list, tuple)):
        return [_core.hessian(cost, w) for w in wrt]
    return _core.hessian(cost, wrt)


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None,
                rel_tol=None, mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Checks the symbolic gradient of ``fun`` (a Python function of symbolic tensors) at
    the points ``pt`` (numpy arrays) against central finite differences; raises
    ``GradMismatch`` with the worst element when they differ."""
    seed = None
    if rng is not None:
        # numpy's RandomState (Theano's convention) or a Generator.
        draw = getattr(rng, "randint", None) or rng.integers
        seed = int(draw(0, 2**31 - 1))
    _core.verify_grad(fun, list(pt), rel_tol, abs_tol, eps, seed)


class DisconnectedType:
    """Theano's marker type of a disconnected gradient (kept for imports)."""


def zero_grad(x):
    """``x``, whose gradient is zero: what reaches the cost only through it gets zeros.
    Removed by the optimizer: it costs nothing when computing."""
    return _core.zero_grad(x)


def disconnected_grad(x):
    """``x``, disconnected from the gradient: what reaches the cost only through it is
    disconnected (``grad`` raises unless ``disconnected_inputs='ignore'``)."""
    return _core.disconnected_grad(x)


def consider_constant(x):
    """Theano's older spelling of ``zero_grad``."""
    return zero_grad(x)


__all__ = ["grad", "jacobian", "hessian", "verify_grad", "consider_constant", "disconnected_grad",
           "zero_grad"]
_ = _OrderedDict
