"""Set operations by sorting agree with NumPy's on random arrays."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import gateway.metrics.arrays
from gateway.metrics.arrays import member


@pytest.mark.parametrize("seed", range(30))
def test_member_is_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    top = int(rng.choice([5, 1000, 1 << 62]))
    values = rng.integers(0, top, int(rng.integers(0, 200)))
    pool = rng.integers(0, top, int(rng.integers(0, 200)))
    assert member(values, pool).tolist() == np.isin(values, pool).tolist()


def test_the_docstring_example_holds() -> None:
    result = doctest.testmod(gateway.metrics.arrays)
    assert (result.attempted, result.failed) == (2, 0)
