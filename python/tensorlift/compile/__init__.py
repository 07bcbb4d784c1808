"""``tensorlift.compile`` (Theano's ``theano.compile``): ``function``, ``In``, ``Out``,
``Mode`` and shared variables."""

from .function_module import Function, FunctionMaker, In, Mode, Out, function, shared

__all__ = ["function", "Function", "FunctionMaker", "In", "Out", "Mode", "shared"]
