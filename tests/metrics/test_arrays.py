"""Set operations by sorting agree with NumPy's on random arrays."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import gateway.metrics.arrays
from gateway.metrics.arrays import distinct, distinct_sorted


@pytest.mark.parametrize("seed", range(30))
def test_distinct_is_unique(seed: int) -> None:
    # Small key spaces take the presence table, 1 << 62 the sort.
    rng = np.random.default_rng(seed)
    top = int(rng.choice([5, 1000, 1 << 62]))
    keys = rng.integers(0, top, int(rng.integers(1, 200)))
    unique, inverse = np.unique(keys, return_inverse=True)
    found, positions = distinct(keys)
    assert (found.tolist(), positions.tolist()) == (unique.tolist(), inverse.tolist())
    assert distinct_sorted(keys).tolist() == unique.tolist()


def test_the_docstring_example_holds() -> None:
    result = doctest.testmod(gateway.metrics.arrays)
    assert (result.attempted, result.failed) == (2, 0)
