"""The page report's fold: its sorting order and its rows against a per-event count."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from gateway.store.rollup.pages import _order, fold_pages_arrays


@pytest.mark.parametrize("top", [50, 2**40])
def test_the_order_is_numpys_stable_argsort(top: int) -> None:
    """Small keys take the packed sort, keys too large to pack with a position the argsort."""
    rng = np.random.default_rng(top % 97)
    key = rng.integers(0, top, 5_000)
    assert _order(key).tolist() == np.argsort(key, kind="stable").tolist()


@pytest.mark.parametrize("seed", range(5))
def test_pages_per_cell_and_day_equal_a_per_event_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    cell, day = rng.integers(0, 4, n), 739_000 + rng.integers(0, 3, n)
    page, uid, duration = rng.integers(0, 6, n), rng.integers(0, 20, n), rng.integers(0, 99, n)
    views: dict[tuple[int, int, int], int] = defaultdict(int)
    spent: dict[tuple[int, int, int], int] = defaultdict(int)
    visitors: dict[tuple[int, int], set[int]] = defaultdict(set)
    for c, d, p, u, ms in zip(*(a.tolist() for a in (cell, day, page, uid, duration)), strict=True):
        views[c, d, p] += 1
        spent[c, d, p] += ms
        visitors[c, d].add(p << 32 | u)
    got_views, got_spent, got_visitors = {}, {}, {}
    for row in fold_pages_arrays(cell=cell, day=day, page=page, uid=uid, duration=duration):
        for p, v, ms in zip(
            row.pages.tolist(), row.views.tolist(), row.duration.tolist(), strict=True
        ):
            got_views[row.cell, row.day, p], got_spent[row.cell, row.day, p] = v, ms
        got_visitors[row.cell, row.day] = set(row.visitors)
    assert (got_views, got_spent, got_visitors) == (dict(views), dict(spent), dict(visitors))
