"""The portrait's exception sets against brute force over random launches."""

from __future__ import annotations

import doctest
import random
from collections import defaultdict

import numpy as np
import pytest
from pyroaring import BitMap

import gateway.metrics.portrait
from gateway.metrics.portrait import (
    Exceptions,
    correct,
    count_values,
    exceptions_of_launches,
    loaded,
    merge,
    stored,
    unite,
    within,
    without,
)

Launch = tuple[int, int, int]
"""(day, user, value)."""


def _launches(rng: random.Random, days: int, users: int, values: int) -> list[Launch]:
    return [
        (rng.randrange(days), rng.randrange(users), rng.choice([0, 0, 0, 1, rng.randrange(values)]))
        for _ in range(rng.randrange(1, 300))
    ]


def _primary(rng: random.Random, users: int, values: int) -> np.ndarray:
    return np.array([rng.choice([0, 0, 1, rng.randrange(values)]) for _ in range(users)])


def _fold(launches: list[Launch], primary: np.ndarray) -> dict[int, tuple[BitMap, Exceptions]]:
    keys = np.array([d for d, _, _ in launches], dtype=np.int64)
    users = np.array([u for _, u, _ in launches], dtype=np.int64)
    values = np.array([v for _, _, v in launches], dtype=np.int64)
    found = exceptions_of_launches(keys, users, values, primary[users])
    active: dict[int, BitMap] = defaultdict(BitMap)
    for day, user, _ in launches:
        active[day].add(user)
    return {day: (bitmap, found.get(day, Exceptions())) for day, bitmap in active.items()}


def _brute(launches: list[Launch], days: set[int]) -> dict[int, int]:
    seen: dict[int, set[int]] = defaultdict(set)
    for day, user, value in launches:
        if day in days:
            seen[value].add(user)
    return {value: len(users) for value, users in seen.items()}


def _primaries(primary: np.ndarray) -> dict[int, BitMap]:
    out: dict[int, BitMap] = defaultdict(BitMap)
    for user, value in enumerate(primary.tolist()):
        out[value].add(user)
    return dict(out)


@pytest.mark.parametrize("seed", range(40))
def test_counts_over_any_days_equal_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    users, values = rng.randrange(1, 40), rng.randrange(1, 6)
    primary = _primary(rng, users, values)
    launches = _launches(rng, 10, users, values)
    folded = _fold(launches, primary)
    for _ in range(5):
        chosen = set(rng.sample(range(10), rng.randrange(1, 11)))
        days = [folded[d] for d in sorted(chosen) if d in folded]
        union = BitMap.union(*(a for a, _ in days)) if days else BitMap()
        assert count_values(days, union, _primaries(primary)) == _brute(launches, chosen)


@pytest.mark.parametrize("seed", range(40))
def test_merging_parts_equals_folding_them_together(seed: int) -> None:
    rng = random.Random(seed)
    users, values = rng.randrange(1, 30), rng.randrange(1, 5)
    primary = _primary(rng, users, values)
    first, second = _launches(rng, 1, users, values), _launches(rng, 1, users, values)
    a, b, both = (
        _fold(first, primary)[0],
        _fold(second, primary)[0],
        _fold(first + second, primary)[0],
    )
    merged = merge(a[0], a[1], b[0], b[1]) or Exceptions()
    assert (merged.off, merged.only) == (both[1].off, both[1].only)
    assert loaded(stored(merged)) == (merged if merged else None)


def test_the_docstring_example_holds() -> None:
    result = doctest.testmod(gateway.metrics.portrait)
    assert (result.attempted, result.failed) == (2, 0)


@pytest.mark.parametrize("seed", range(30))
def test_uniting_many_parts_equals_folding_them_together(seed: int) -> None:
    rng = random.Random(seed)
    users, values = rng.randrange(1, 30), rng.randrange(1, 5)
    primary = _primary(rng, users, values)
    parts = [_launches(rng, 1, users, values) for _ in range(rng.randrange(1, 5))]
    folded = [_fold(part, primary)[0] for part in parts]
    both = _fold([launch for part in parts for launch in part], primary)[0]
    united = unite(folded) or Exceptions()
    assert (united.off, united.only) == (both[1].off, both[1].only)


@pytest.mark.parametrize("seed", range(10))
def test_huge_keys_and_user_ids_give_the_same_exceptions(seed: int) -> None:
    rng = random.Random(seed)
    users, values = rng.randrange(1, 30), rng.randrange(1, 5)
    primary = _primary(rng, users, values)
    launches = _launches(rng, 5, users, values)
    keys = np.array([d for d, _, _ in launches], dtype=np.int64)
    uids = np.array([u for _, u, _ in launches], dtype=np.int64)
    codes = np.array([v for _, _, v in launches], dtype=np.int64)
    small = exceptions_of_launches(keys, uids, codes, primary[uids])
    shift = 1 << 40  # packed (key, user) pairs would not fit 64 bits
    huge = exceptions_of_launches(keys + shift, uids + (1 << 31), codes, primary[uids])
    assert {
        k - shift: (len(e.users), sorted(u - (1 << 31) for u in e.only)) for k, e in huge.items()
    } == {k: (len(e.users), sorted(e.only)) for k, e in small.items()}


@pytest.mark.parametrize("seed", range(40))
def test_correcting_the_users_of_changed_parts_equals_uniting_again(seed: int) -> None:
    """A union whose parts changed (one left, one joined): finding again only the exceptions of
    the users the changed parts held gives what uniting every part again gives."""
    rng = random.Random(seed)
    users, values = rng.randrange(1, 30), rng.randrange(1, 5)
    primary = _primary(rng, users, values)
    parts = [_fold(_launches(rng, 1, users, values), primary)[0] for _ in range(4)]
    joined = _fold(_launches(rng, 1, users, values), primary)[0]
    before = unite(parts)
    left, after = parts[0], [*parts[1:], joined]
    moved = left[0] | joined[0]
    active = BitMap.union(*(a for a, _ in after))
    corrected = correct(before, moved, active, after) or Exceptions()
    expected = unite(after) or Exceptions()
    assert (corrected.off, corrected.only) == (expected.off, expected.only)
    inside, outside = within(before, moved), without(before, moved)
    assert set((inside or Exceptions()).users) <= set(moved)
    assert not (outside or Exceptions()).users & moved
