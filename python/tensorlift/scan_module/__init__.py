"""``tensorlift.scan_module`` (Theano's ``theano.scan_module``): ``scan``, loops whose step is
a symbolic function, compiled once into one native loop, with reverse-mode gradients
(backpropagation through time), and ``until`` for while-loops.
"""

from collections import OrderedDict

from .. import _core

__all__ = ["scan", "until", "OrderedUpdates"]


class OrderedUpdates(OrderedDict):
    """The updates a scan returns (Theano's ``theano.updates.OrderedUpdates``): shared
    variable → its new value, in order; pass it to ``function(updates=…)``."""


class until(object):
    """Ends a scan after the step where ``condition`` (a 0-d expression) is true; return it
    from the step function beside the outputs: ``return out, until(out > 100)``."""

    def __init__(self, condition):
        self.condition = condition


def _is_variable(x):
    return isinstance(x, _core.TensorVariable)


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _is_pairs(x):
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], _core.TensorSharedVariable)
        for p in x)


def _step_result(ret):
    """The step's return value as ``(outputs, update pairs, condition)`` (Theano accepts
    outputs, ``(outputs, updates)``, ``(outputs, until)``, ``(outputs, updates, until)`` in
    any order, updates as a dict or a list of pairs)."""
    if isinstance(ret, until):
        return [], [], ret.condition
    if isinstance(ret, dict):
        return [], list(ret.items()), None
    if not isinstance(ret, (list, tuple)):
        return [ret], [], None
    items = list(ret)
    if not any(isinstance(i, (until, dict)) or _is_pairs(i) for i in items):
        return items, [], None
    outputs, updates, cond = [], [], None
    for item in items:
        if isinstance(item, until):
            cond = item.condition
        elif isinstance(item, dict):
            updates = list(item.items())
        elif _is_pairs(item):
            updates = [tuple(p) for p in item]
        else:
            outputs = _as_list(item)
    return outputs, updates, cond


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, profile=False,
         allow_gc=None, strict=False, return_list=False):
    """Theano's ``scan``: applies ``fn`` step after step.

    ``fn`` receives, in order, the taps of every sequence (row ``t``, or the rows its
    ``dict(input=x, taps=[…])`` names), the previous values of every fed-back output (the
    taps of its ``dict(initial=x, taps=[-2, -1])``, default ``[-1]``), then the
    ``non_sequences``; it returns the outputs (and optionally a dict of shared-variable
    updates and an ``until`` condition). ``outputs_info`` gives each output's initial value,
    or ``None`` for an output not fed back. Returns ``(outputs, updates)``: the outputs'
    values after every step stacked along a new first axis (one variable when there is one
    output, unless ``return_list``), and the updates to pass to ``function``.
    """
    seqs = []
    for s in _as_list(sequences):
        if isinstance(s, dict):
            taps = s.get("taps", [0])
            seqs.append((s["input"], [0] if taps is None else list(_as_list(taps))))
        else:
            seqs.append((s, [0]))
    outs = []
    if outputs_info is not None:
        entries = outputs_info if isinstance(outputs_info, (list, tuple)) else [outputs_info]
        for o in entries:
            if isinstance(o, dict):
                init = o.get("initial")
                taps = o.get("taps", [-1])
                outs.append(None if init is None else (init, list(_as_list(taps)) or [-1]))
            elif o is None:
                outs.append(None)
            else:
                outs.append((o, [-1]))
    non_seqs = [x if _is_variable(x) else _core.as_tensor_variable(x) for x in _as_list(non_sequences)]

    def step(args):
        return _step_result(fn(*args, *non_seqs))

    trunc = None if truncate_gradient is None or truncate_gradient < 0 else int(truncate_gradient)
    outputs, updates = _core.scan(step, seqs, outs, n_steps, trunc, bool(go_backwards), name)
    result = OrderedUpdates(updates)
    if len(outputs) == 1 and not return_list:
        return outputs[0], result
    return outputs, result
