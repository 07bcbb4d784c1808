"""``tensorlift.ifelse`` (Theano's ``theano.ifelse``): choose between two expressions by a
scalar condition, lazily — what only the branch not taken needs is not computed.
"""

from . import _core


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` where the 0-d ``condition`` is non-zero, else ``else_branch``; lists
    of branches give lists of results. Only the branch taken runs. The branches must have
    the same dtype and number of dimensions (their lengths may differ)."""
    if isinstance(then_branch, (list, tuple)):
        if not isinstance(else_branch, (list, tuple)) or len(then_branch) != len(else_branch):
            raise ValueError("ifelse: both branches must be lists of the same length")
        outs = [_core.ifelse(condition, a, b) for a, b in zip(then_branch, else_branch)]
        return outs if name is None else [o.named(f"{name}[{k}]") for k, o in enumerate(outs)]
    out = _core.ifelse(condition, then_branch, else_branch)
    return out if name is None else out.named(name)


__all__ = ["ifelse"]
