"""``tensorlift.printing`` (Theano's ``theano.printing``): ``pp``, ``debugprint`` and
``pydotprint`` of expressions and compiled functions."""

import os
import shutil
import subprocess
import sys

from . import _core


def pp(obj):
    """The expression in infix form, as Theano's ``pp``; for ``f.maker.fgraph.outputs[k]``
    the optimized output (fused kernels shown as ``Composite{...}``)."""
    from .compile.function_module import FGraphOutput

    if isinstance(obj, FGraphOutput):
        return obj.function.pp_output(obj.index)
    return _core.pp(obj)


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False,
               done=None, print_storage=False):
    """Theano's ``debugprint``: one line per node, children indented. ``obj`` is a variable,
    a list of variables or a compiled function. Prints to ``file`` (stdout by default); with
    ``file='str'`` returns the text."""
    text = _text(obj)
    if file == "str":
        return text
    (file or sys.stdout).write(text if text.endswith("\n") else text + "\n")
    return None


def _text(obj):
    from ._core import Function

    if isinstance(obj, Function):
        return obj.debugprint()
    if isinstance(obj, (list, tuple)):
        return _core.debugprint(list(obj))
    return _core.debugprint([obj])


def _dot(obj):
    from ._core import Function

    if isinstance(obj, Function):
        return _core.function_dot_graph(obj)
    if isinstance(obj, (list, tuple)):
        return _core.dot_graph(list(obj))
    return _core.dot_graph([obj])


def pydotprint(fct, outfile=None, compact=True, format="png", with_ids=False, high_contrast=True,
               cond_highlight=None, colorCodes=None, max_label_size=70, scan_graphs=False,
               var_with_name_simple=False, print_output_file=True, return_image=False):
    """Writes the graph of ``fct`` (a compiled function or variables) as an image through
    Graphviz's ``dot``; ``format='dot'`` writes the DOT text without Graphviz."""
    source = _dot(fct)
    if outfile is None:
        outfile = os.path.join(os.getcwd(), "tensorlift_pydotprint." + format)
    if format == "dot":
        with open(outfile, "w") as f:
            f.write(source)
    else:
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "pydotprint needs Graphviz's `dot` program on PATH to write "
                f"{format!r} (install graphviz), or use format='dot' for the DOT text"
            )
        subprocess.run([dot, "-T" + format, "-o", outfile], input=source.encode(), check=True)
    if print_output_file:
        print("The output file is available at", outfile)
    if return_image:
        with open(outfile, "rb") as f:
            return f.read()
    return None


__all__ = ["pp", "debugprint", "pydotprint"]
