"""The vectorized fold against a per-event Python fold, including its rarely taken paths."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from gateway.metrics import arrays as arrays_module
from gateway.store.rollup import users as users_module
from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.events import EventChunk, combos
from gateway.store.rollup.fold import combo_days, first_days, fold, fold_launches

KINDS = ("launch", "pageView", "adImpression")


def _catalog() -> Catalog:
    apps = {"a0": "w0", "a1": "w0", "a2": "w1"}
    mps = {f"m{i}": (("MINI_PROGRAM", "MINI_GAME")[i % 2], f"c{i % 3}") for i in range(6)}
    return Catalog(apps=apps, mini_programs=mps)


def _chunks(catalog: Catalog, seed: int, n: int, big_uids: bool) -> list[EventChunk]:
    rng = np.random.default_rng(seed)
    out = []
    for kind in KINDS:
        app, mp, dt = rng.integers(0, 3, n), rng.integers(0, 6, n), rng.integers(0, 2, n)
        uid = rng.integers(1, 40, n) + (2**31 - 100 if big_uids else 0)
        values = np.zeros((n, 5), dtype=np.int64)
        values[:, KINDS.index(kind)] = 1 if kind != "adImpression" else rng.integers(0, 2, n)
        values[:, 2] = rng.integers(0, 10**6, n) * (kind == "pageView")
        values[:, 4] = rng.integers(0, 10**9, n) * values[:, 3]
        day = 739_000 + rng.integers(0, 9, n)
        out.append(EventChunk(kind, combos(catalog, app, mp, dt), day, uid, values))
    return out


Days = dict[tuple[int, int], set[int]]


def _naive(
    chunks: list[EventChunk], catalog: Catalog
) -> tuple[dict[tuple[int, int], list[int]], Days, Days, dict[int, set[int]]]:
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 5)
    active: dict[tuple[int, int], set[int]] = defaultdict(set)
    first: dict[tuple[int, int], int] = {}
    for chunk in chunks:
        for combo, day, uid, values in zip(
            chunk.combo, chunk.day, chunk.uid, chunk.values, strict=True
        ):
            for cell in catalog.combo_cells[combo]:
                row = sums[cell, int(day)]
                row[:] = [a + int(b) for a, b in zip(row, values, strict=True)]
                if chunk.kind == "launch":
                    active[cell, int(day)].add(int(uid))
                    first[cell, int(uid)] = min(first.get((cell, int(uid)), int(day)), int(day))
    new: dict[tuple[int, int], set[int]] = defaultdict(set)
    lifetime: dict[int, set[int]] = defaultdict(set)
    for (cell, uid), day in first.items():
        new[cell, day].add(uid)
        lifetime[cell].add(uid)
    return dict(sums), dict(active), dict(new), dict(lifetime)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rare_paths", [False, True])
def test_fold_equals_a_per_event_fold(
    monkeypatch: pytest.MonkeyPatch, seed: int, rare_paths: bool
) -> None:
    if rare_paths:
        # Packed keys that would overflow (uids renumbered) and sorted distinct combo keys.
        monkeypatch.setattr(users_module, "LIMIT", 1 << 20)
        monkeypatch.setattr(arrays_module, "DENSE_LIMIT", 1)
    catalog = _catalog()
    chunks = _chunks(catalog, seed, 300, big_uids=rare_paths)
    folded = fold(chunks, catalog)
    sums, active, new, lifetime = _naive(chunks, catalog)
    keys = list(zip(folded.cell.tolist(), folded.day.tolist(), strict=True))
    assert len(set(keys)) == len(keys) == len(sums)
    assert dict(zip(keys, folded.sums.tolist(), strict=True)) == sums
    got_active = {k: set(b) for k, b in zip(keys, folded.active, strict=True) if b is not None}
    got_new = {k: set(b) for k, b in zip(keys, folded.new, strict=True) if b is not None}
    assert got_active == active
    assert got_new == new
    assert {cell: set(b) for cell, b in folded.lifetime.items()} == lifetime
    assert folded.events == 900


def test_fold_of_no_events_is_empty() -> None:
    folded = fold([], _catalog())
    assert (len(folded.cell), folded.active, folded.lifetime, folded.events) == (0, [], {}, 0)


@pytest.mark.parametrize("seed", range(4))
def test_launches_folded_ahead_over_wider_days_give_the_same_fold(seed: int) -> None:
    """A refresh folds the launches in a thread over its batches' days (which may be wider than
    the events'), before the other kinds are read: the rows are those of the whole fold."""
    catalog = _catalog()
    chunks = _chunks(catalog, seed, 300, big_uids=False)
    whole = fold(chunks, catalog)
    first = min(int(c.day.min()) for c in chunks) - 2
    ahead = fold_launches(chunks[0], catalog, first, 14)
    for summed in (None, combo_days(chunks, first, 14)):  # the sums done ahead too, or not
        folded = fold(chunks, catalog, launched=ahead, summed=summed)
        rows = list(zip(folded.cell.tolist(), folded.day.tolist(), strict=True))
        assert rows == list(zip(whole.cell.tolist(), whole.day.tolist(), strict=True))
        assert folded.sums.tolist() == whole.sums.tolist()
        assert folded.active == whole.active
        assert folded.new == whole.new
        assert folded.lifetime == whole.lifetime


def test_launches_folded_over_fewer_days_than_the_events_are_refused() -> None:
    catalog = _catalog()
    chunks = _chunks(catalog, 0, 300, big_uids=False)
    last = max(int(c.day.max()) for c in chunks)
    ahead = fold_launches(chunks[0], catalog, min(int(c.day.min()) for c in chunks), 2)
    assert last >= ahead.first + ahead.span
    with pytest.raises(ValueError, match="fewer days"):
        fold(chunks, catalog, launched=ahead)
    with pytest.raises(ValueError, match="same days"):
        fold(chunks, catalog, summed=combo_days(chunks, ahead.first, ahead.span))


@pytest.mark.parametrize("seed", range(4))
def test_first_days_are_each_cells_earliest_event(seed: int) -> None:
    catalog = _catalog()
    chunks = _chunks(catalog, seed, 200, big_uids=False)
    expected: dict[int, int] = {}
    for chunk in chunks:
        for combo, day in zip(chunk.combo.tolist(), chunk.day.tolist(), strict=True):
            for cell in catalog.combo_cells[combo]:
                expected[cell] = min(expected.get(cell, day), day)
    first = min(int(c.day.min()) for c in chunks)
    span = max(int(c.day.max()) for c in chunks) - first + 1
    keys, _ = combo_days(chunks, first, span)
    assert first_days(keys, first, span, catalog) == expected
    assert first_days(np.zeros(0, dtype=np.int64), first, span, catalog) == {}
