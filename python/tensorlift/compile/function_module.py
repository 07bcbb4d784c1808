"""``function``: compiles inputs, outputs, updates and givens into a callable, with
Theano's argument conventions. The call itself runs in Rust (``_core.Function``)."""

import atexit
from collections.abc import Mapping

from .. import _core
from .. import errors as _errors
from .._core import Function

_MODES = {"FAST_RUN", "FAST_COMPILE", "py", "DebugMode", "JIT", "INTERP", "DEBUG_MODE"}


class Mode:
    """An execution mode: ``'FAST_RUN'`` (native code, the default), ``'FAST_COMPILE'`` or
    ``'py'`` (the op-by-op interpreter) and ``'DebugMode'`` (both, compared)."""

    def __init__(self, linker=None, optimizer="default", name=None):
        name = name or linker or "FAST_RUN"
        if name in ("cvm", "c", "c|py", "vm", "cvm_nogc"):
            name = "FAST_RUN"
        if name not in _MODES:
            raise _errors.InvalidValue(f"unknown mode {name!r} (FAST_RUN, FAST_COMPILE, py, DebugMode)")
        self.name = name
        self.optimizer = optimizer
        self.linker = linker

    def including(self, *tags):
        return self

    def excluding(self, *tags):
        return self

    def __repr__(self):
        return f"Mode({self.name!r})"


class In:
    """An input with options: ``In(x, value=1.0)`` gives ``x`` a default, so the function
    can be called without it; ``name`` is the keyword it is passed by."""

    def __init__(self, variable, name=None, value=None, update=None, mutable=False,
                 strict=False, allow_downcast=None, autoname=True, implicit=False, borrow=False):
        if update is not None:
            raise NotImplementedError("In(update=...) is not supported; pass updates= to function")
        self.variable = variable
        self.name = name
        self.value = value
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = borrow


class Out:
    """An output with options (``borrow`` is accepted: returned arrays are always owned by
    the caller)."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow


class FGraphOutput:
    """Output ``index`` of a compiled function's optimized graph; ``pp`` prints it."""

    def __init__(self, function, index):
        self.function = function
        self.index = index

    def __str__(self):
        return self.function.pp_output(self.index)

    __repr__ = __str__


class FunctionGraph:
    """The optimized graph of a compiled function (Theano's ``f.maker.fgraph``)."""

    def __init__(self, function):
        self._f = function

    @property
    def outputs(self):
        return [FGraphOutput(self._f, k) for k in range(self._f.n_outputs)]

    @property
    def inputs(self):
        return self._f.inputs

    def toposort(self):
        """The nodes in execution order, one line each."""
        return self._f.toposort()


class FunctionMaker:
    """Theano's ``f.maker``: holds the optimized graph ``fgraph``."""

    def __init__(self, function):
        self.function = function
        self.fgraph = FunctionGraph(function)


def _pairs(obj, what):
    if obj is None:
        return []
    if isinstance(obj, Mapping):
        return list(obj.items())
    pairs = list(obj)
    for p in pairs:
        if not (isinstance(p, (tuple, list)) and len(p) == 2):
            raise TypeError(f"{what} must be a dict or a list of (variable, expression) pairs, got {p!r}")
    return [tuple(p) for p in pairs]


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, rebuild_strict=True, allow_input_downcast=None,
             profile=None, on_unused_input=None):
    """Compiles a function of ``inputs`` computing ``outputs``, as Theano's ``function``.

    A single output (not in a list) is returned as one array, a list as a list.
    ``updates`` (a dict or a list of pairs) are written to their shared variables after each
    call, all together; ``givens`` substitutes expressions for variables before compiling.
    A shared variable the function does not update gets its ``default_update``, and the
    generator state of a random draw advances (every call draws new numbers), unless
    ``no_default_updates`` is True or lists that variable.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("function: inputs must be a list of variables (e.g. [x])")
    ins = []
    for i in inputs:
        if isinstance(i, In):
            ins.append((i.variable, i.value, i.name))
        else:
            ins.append((i, None, None))
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    outs = [] if outputs is None else ([outputs] if single else list(outputs))
    outs = [o.variable if isinstance(o, Out) else o for o in outs]
    if isinstance(mode, Mode):
        mode_name = mode.name
    else:
        mode_name = mode or "FAST_RUN"
    if no_default_updates not in (True, False, None):
        no_default_updates = list(no_default_updates)
    f = _core.compile(ins, outs, _pairs(updates, "updates"), _pairs(givens, "givens"), mode_name,
                      name, on_unused_input or "raise", bool(allow_input_downcast), single,
                      bool(profile), no_default_updates)
    if profile:
        # As Theano: the summaries of profiled functions are printed when the program ends.
        _PROFILED.append(f)
        if len(_PROFILED) == 1:
            atexit.register(_print_profiles)
    return f


_PROFILED = []


def _print_profiles():
    for f in _PROFILED:
        if f.profile.fct_callcount:
            f.profile.summary()


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """A shared variable holding ``value``: functions read it and ``updates`` write it.
    ``get_value()``/``set_value(v)`` read and replace it.

    ``value`` is copied; with ``borrow=True`` a numpy array of a supported dtype is read in
    place, without a copy, as in Theano: the caller's writes to the array are what functions
    read, and ``get_value(borrow=True)`` returns the array itself, until an update gives the
    variable a new buffer (tensorlift never writes the caller's array). As for numpy's own
    functions, do not write the array while a function that reads it runs on another
    thread. Without ``borrow``, ``get_value(borrow=True)`` returns a read-only view of the
    variable's buffer."""
    return _core.shared(value, name, None, borrow)


__all__ = ["function", "Function", "FunctionMaker", "In", "Out", "Mode", "shared"]


def _restore_function(state):
    """Unpickles a compiled function: restores its graphs and compiles them again."""
    exprs = _core._restore_vars(state["text"], state["graph_inputs"], state["graph_shared"])
    if "text_drop" in state:
        n_out, n_upd = state["text_drop"]
        exprs = exprs[:n_out] + exprs[n_out + n_upd:]
    n_out, targets = state["n_outputs"], state["update_targets"]
    outputs = exprs[:n_out]
    updates = list(zip(targets, exprs[n_out:n_out + len(targets)]))
    givens = list(zip(state["givens_keys"], exprs[n_out + len(targets):]))
    inputs = list(zip(state["inputs"], state["defaults"], state["names"]))
    return _core.compile(inputs, outputs, updates, givens, state["mode"], state["name"],
                         state["on_unused_input"], state["allow_input_downcast"], state["single"],
                         False, state.get("no_default_updates"))


def _copy_function(f, share_memory=False, swap=None, delete_updates=False, name=None):
    """``f.copy(...)``: the function compiled again, its shared variables replaced as ``swap``
    says and, unless ``share_memory``, the others copied."""
    import copy as _copy

    _, (state,) = f.__reduce__()
    state = dict(state)
    memo = {}
    for old, new in (swap or {}).items():
        memo[id(old)] = new
    if not share_memory:
        state["graph_shared"] = _copy.deepcopy(state["graph_shared"], memo)
        state["update_targets"] = _copy.deepcopy(state["update_targets"], memo)
    else:
        state["graph_shared"] = [memo.get(id(v), v) for v in state["graph_shared"]]
        state["update_targets"] = [memo.get(id(v), v) for v in state["update_targets"]]
    if delete_updates:
        n_out, n_upd = state["n_outputs"], len(state["update_targets"])
        state["update_targets"] = []
        # The update expressions follow the outputs in the saved graph; drop their roots.
        state["text_drop"] = (n_out, n_upd)
        # An input only the updates read is no longer an error (as Theano's copy).
        state["on_unused_input"] = "ignore"
    if name is not None:
        state["name"] = name
    return _restore_function(state)
