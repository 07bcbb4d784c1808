"""``tensorlift.config``: a view of the Rust library's configuration. ``floatX`` reads and
writes the library's setting; Theano's other flag names are accepted (and kept) without
effect, so programs that set ``config.compute_test_value`` or ``config.warn.*`` run."""

from . import _core


class _Section:
    """A group of flags (``config.warn``, ``config.gcc``, ...): any name can be set."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_values", {})

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        values = object.__getattribute__(self, "_values")
        if key not in values:
            values[key] = _Section(f"{self._name}.{key}")
        return values[key]

    def __setattr__(self, key, value):
        self._values[key] = value

    def __repr__(self):
        return f"<config section {self._name}>"


class Config(_Section):
    """The configuration (Theano's ``theano.config``)."""

    _DEFAULTS = {
        "device": "cpu",
        "mode": "FAST_RUN",
        "optimizer": "fast_run",
        "compute_test_value": "off",
        "on_unused_input": "raise",
        "allow_gc": True,
        "openmp": False,
        "cast_policy": "custom",
        "int_division": "int",
        "exception_verbosity": "low",
        "cxx": "",
        "linker": "cvm",
        "blas__ldflags": "",
    }

    def __init__(self):
        super().__init__("config")
        self._values.update(self._DEFAULTS)

    @property
    def floatX(self):
        """The dtype of ``T.scalar``, ``T.matrix``... (``'float64'`` or ``'float32'``)."""
        return _core.float_x()

    @floatX.setter
    def floatX(self, value):
        _core.set_float_x(value)

    def __setattr__(self, key, value):
        if key == "floatX":
            _core.set_float_x(value)
        else:
            super().__setattr__(key, value)

    def __getattr__(self, key):
        if key == "floatX":
            return _core.float_x()
        return super().__getattr__(key)

    def __repr__(self):
        return f"<tensorlift config floatX={self.floatX}>"


config = Config()
