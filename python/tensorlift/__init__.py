"""tensorlift: Theano 1.0's API, compiled to native code by Cranelift.

A Theano program runs with its imports changed::

    import tensorlift as theano
    import tensorlift.tensor as T

    x = T.dscalar('x')
    y = (x - 4) * (x ** 2 + 6)
    f = theano.function([x], T.grad(y, x))
    f(2.0)          # array(2.)
"""

from . import _core
from . import errors
from .configparser import config
from . import gradient
from .gradient import grad
from . import printing
from .printing import pp, debugprint, pydotprint
from . import compile
from .compile import Function, In, Mode, Out, function, shared
from . import tensor
from . import scalar
from . import ifelse
from . import scan_module
from .scan_module import scan
from . import sandbox


def clone(output, replace=None, strict=True, share_inputs=True, copy_inputs=None):
    """``output`` (a variable or a list) with the variables in ``replace`` (a dict or a list
    of pairs) substituted."""
    single = not isinstance(output, (list, tuple))
    outs = [output] if single else list(output)
    pairs = list(replace.items()) if isinstance(replace, dict) else list(replace or [])
    cloned = _core.clone_replace(outs, pairs)
    return cloned[0] if single else cloned


SharedVariable = tensor.TensorSharedVariable
Variable = tensor.TensorVariable
Constant = tensor.TensorConstant

__version__ = "0.1.0"
__all__ = ["function", "shared", "In", "Out", "Mode", "Function", "config", "pp", "debugprint",
           "pydotprint", "grad", "clone", "printing", "gradient", "tensor", "compile", "errors",
           "scalar", "ifelse", "sandbox", "scan", "scan_module", "SharedVariable", "Variable", "Constant"]
