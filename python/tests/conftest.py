"""Shared fixtures of the Python package's tests."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: every test sees the same data on every run."""
    return np.random.default_rng(1234)
