#!/usr/bin/env python3
"""Runs the classic programs of ``examples/python`` (``logistic_sgd.py``, ``mlp.py``,
``lenet.py``) on another Theano-like library: the proof that they are Theano code.

Each program is copied to a temporary folder with ``tensorlift`` replaced by the library's
name in its import lines, and nowhere else (``import tensorlift as theano`` becomes
``import theano as theano``, ``from tensorlift.tensor.nnet import conv2d`` becomes ``from
pytensor.tensor.nnet import conv2d``...), then run with the environment given, in the
interpreter running this script::

    python run_examples_on.py theano                      # Theano 1.0.5
    python run_examples_on.py pytensor mlp.py N_EPOCHS=2  # PyTensor 2.8 (3.x has no T.nnet)

Theano 1.0.5 with numpy >= 1.20 needs ``THEANO_FLAGS=blas.ldflags=`` (its BLAS probe reads
a numpy attribute that is gone). Prints each program's output; exits non-zero if one fails.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"
PROGRAMS = ["logistic_sgd.py", "mlp.py", "lenet.py"]
HELPERS = ["digits.py"]
IMPORT = re.compile(r"^(\s*)(import|from)\s+tensorlift(\.|\s)", re.M)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lib = sys.argv[1]
    names = [a for a in sys.argv[2:] if a.endswith(".py")] or PROGRAMS
    env = dict(os.environ)
    env.update(a.split("=", 1) for a in sys.argv[2:] if "=" in a)
    failed = []
    with tempfile.TemporaryDirectory(prefix=f"examples-{lib}-") as tmp:
        for f in PROGRAMS + HELPERS:
            text = (EXAMPLES / f).read_text()
            (Path(tmp) / f).write_text(IMPORT.sub(lambda m: f"{m[1]}{m[2]} {lib}{m[3]}", text))
        for name in names:
            print(f"=== {name} on {lib}", flush=True)
            r = subprocess.run([sys.executable, name], cwd=tmp, env=env)
            if r.returncode:
                failed.append(name)
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        sys.exit(f"failed on {lib}: {failed}")


if __name__ == "__main__":
    main()
