"""The exceptions of tensorlift.

Every error of the Rust library arrives as an instance of the class named after its
variant. Each class derives from ``TensorliftError`` and from the built-in exception a
Python user expects: a wrong dtype or arity is a ``TypeError``, a wrong shape or value a
``ValueError``.
"""


class TensorliftError(Exception):
    """Base class of every tensorlift error."""


def _define(name, base, doc):
    bases = base if isinstance(base, tuple) else (base,)
    cls = type(name, (TensorliftError,) + bases, {"__doc__": doc, "__module__": __name__})
    globals()[name] = cls
    return cls


for _name, _base, _doc in [
    # Building a graph.
    ("ShapeMismatch", ValueError, "Shapes that do not broadcast or do not match."),
    ("RankError", TypeError, "An operand of the wrong number of dimensions."),
    ("DTypeError", TypeError, "An operand of a dtype the op does not accept."),
    ("AxisError", ValueError, "An axis out of range."),
    ("InvalidGraph", ValueError, "A graph that cannot be built or typed."),
    ("DTypeNotSupported", (TypeError, NotImplementedError),
     "A dtype tensorlift does not have (int8, complex, ...): also a ``NotImplementedError``."),
    # Gradients.
    ("NonScalarCost", TypeError, "grad of a cost that is not 0-d."),
    ("NonFloatCost", TypeError, "grad of a cost that is not a float."),
    ("DisconnectedInputError", ValueError, "grad with respect to a variable the cost does not use."),
    ("IntegerWrt", TypeError, "grad with respect to an integer variable."),
    ("GradUnsupported", NotImplementedError, "A gradient tensorlift cannot build."),
    ("GradMismatch", ValueError, "verify_grad: the gradient differs from finite differences."),
    # Calling a function.
    ("Arity", TypeError, "A call with the wrong number of arguments."),
    ("ArgDType", TypeError, "An argument that cannot be converted to its input's dtype without loss."),
    ("ArgShape", ValueError, "An argument whose shape does not fit its input's type."),
    ("ArgData", ValueError, "An argument that does not form a tensor."),
    ("Ragged", ValueError, "Nested lists of unequal lengths."),
    ("LossyConversion", TypeError, "A value that does not fit the dtype without loss."),
    ("NotScalar", ValueError, "A value that should have one element."),
    ("IndexOutOfBounds", IndexError, "An index out of range."),
    ("OutOfMemory", MemoryError, "An array too large to allocate."),
    ("InvalidValue", ValueError, "A value an op cannot take."),
    ("DebugMismatch", ValueError, "DebugMode: native code and the reference kernel differ."),
    ("UpdateError", ValueError, "An update whose value does not fit its shared variable."),
    ("UnusedInputError", ValueError, "An input no output needs (on_unused_input='raise')."),
]:
    _define(_name, _base, _doc)

del _name, _base, _doc

__all__ = ["TensorliftError"] + [
    n for n, v in list(globals().items()) if isinstance(v, type) and issubclass(v, TensorliftError)
]
