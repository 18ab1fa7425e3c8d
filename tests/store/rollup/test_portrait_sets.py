"""The portrait's exception sets against brute force over random launches."""

from __future__ import annotations

import doctest
import random
import struct
from collections import defaultdict

import numpy as np
import pytest
from pyroaring import BitMap

import gateway.metrics.exceptions
import gateway.metrics.portrait
from gateway.metrics.exceptions import VALUE_MASK, contains
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


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(gateway.metrics.portrait)
    assert (result.attempted, result.failed) == (2, 0)
    result = doctest.testmod(gateway.metrics.exceptions)
    assert (result.attempted, result.failed) == (3, 0)


def _first_form(found: Exceptions) -> bytes:
    """The stored form written before the packed pairs: users, only, a bitmap per value."""
    users, only = found.users.serialize(), found.only.serialize()
    parts = [struct.pack("<II", len(users), len(only)), users, only]
    for value in sorted(found.off):
        held = found.off[value].serialize()
        parts += [struct.pack("<II", value, len(held)), held]
    return b"".join(parts)


@pytest.mark.parametrize("seed", range(20))
def test_rows_stored_in_the_first_form_are_read_and_merged(seed: int) -> None:
    """Rows written before the packed form are read as they were (users alone, or whole), kept
    as stored while unchanged, and written in the packed form once a merge changes them."""
    rng = random.Random(seed)
    users, values = rng.randrange(1, 30), rng.randrange(1, 5)
    primary = _primary(rng, users, values)
    first, second = _launches(rng, 1, users, values), _launches(rng, 1, users, values)
    a, b = _fold(first, primary)[0], _fold(second, primary)[0]
    if not a[1]:
        return
    raw = _first_form(a[1])
    assert loaded(raw).users == a[1].users  # the users alone
    old = loaded(raw)
    assert bool(old)
    assert old == a[1]
    assert (old.off, old.only) == (a[1].off, a[1].only)
    assert stored(old) is raw  # unchanged: the stored bytes as read
    merged = merge(a[0], loaded(raw), b[0], b[1])
    expected = merge(a[0], a[1], b[0], b[1])
    assert merged == expected
    written = stored(merged)
    assert written is not None
    assert written is raw or written[:4] == b"\xff" * 4
    assert loaded(written) == expected


@pytest.mark.parametrize("seed", range(20))
def test_a_merge_that_adds_nothing_keeps_the_stored_bytes(seed: int) -> None:
    rng = random.Random(seed)
    users, values = rng.randrange(2, 30), rng.randrange(2, 5)
    primary = _primary(rng, users, values)
    day = _launches(rng, 1, users, values)
    a = _fold(day, primary)[0]
    if not a[1]:
        return
    kept = loaded(stored(a[1]))
    again = rng.sample(day, rng.randrange(1, len(day) + 1))  # launches the day already has
    b = _fold(again, primary)[0]
    merged = merge(a[0], kept, b[0], b[1])
    assert merged is kept
    assert stored(merged) == stored(a[1])


def test_packed_pairs_hold_the_largest_codes_and_user_ids() -> None:
    off = {VALUE_MASK: BitMap([0, 2**32 - 1]), 0: BitMap([2**32 - 1])}
    found = Exceptions(off, BitMap([2**32 - 1]))
    back = loaded(stored(found))
    assert back is not None
    assert (back.off, back.only, back.users) == (
        off,
        BitMap([2**32 - 1]),
        BitMap([0, 2**32 - 1]),
    )


def test_containment_of_sorted_pairs() -> None:
    pairs = np.array([1, 5, 9], dtype=np.int64)
    assert contains(pairs, np.array([5, 9], dtype=np.int64))
    assert contains(pairs, np.zeros(0, dtype=np.int64))
    assert not contains(pairs, np.array([5, 10], dtype=np.int64))
    assert not contains(pairs, np.array([0], dtype=np.int64))
    assert not contains(np.zeros(0, dtype=np.int64), np.array([1], dtype=np.int64))


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
