"""``tensorlift.ifelse`` (Theano's ``theano.ifelse``): choose between two expressions by a
scalar condition.

Theano's ``ifelse`` is lazy (only the chosen branch runs); here both branches are computed
and the result selected elementwise, which gives the same values.
"""

from . import _core


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` where the 0-d ``condition`` is true, else ``else_branch``; lists of
    branches give lists of results."""
    cond = _core.as_tensor_variable(condition)
    if cond.ndim != 0:
        raise TypeError(f"ifelse: the condition must be a scalar, got {cond.ndim} dimensions")
    if isinstance(then_branch, (list, tuple)):
        if not isinstance(else_branch, (list, tuple)) or len(then_branch) != len(else_branch):
            raise ValueError("ifelse: both branches must be lists of the same length")
        return [_core.elemwise("switch", cond, a, b) for a, b in zip(then_branch, else_branch)]
    return _core.elemwise("switch", cond, then_branch, else_branch)


__all__ = ["ifelse"]
