"""A coarse cell corrected after a catalog change equals the union of its members recomputed.

Dense random members (few users and days, so the same user is often in several members on the
same day): members join, leave or change content, stored or in memory; :func:`regroup` must give
exactly the state a union of the new members gives, totals, active and first-seen sets, lifetime
and which days exist.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from gateway.store.rollup.fold import SUMS
from gateway.store.rollup.regroup import (
    Before,
    Change,
    Corrected,
    InMemory,
    Joined,
    Left,
    Member,
    Stored,
    regroup,
)
from gateway.store.rollup.state import CellState, DayState

Content = dict[int, tuple[list[int], frozenset[int]]]
"""A member's days: totals and active users."""

contents = st.dictionaries(
    st.integers(1, 3),
    st.tuples(
        st.lists(st.integers(0, 3), min_size=len(SUMS), max_size=len(SUMS)),
        st.frozensets(st.integers(1, 4), max_size=3),
    ),
    max_size=4,
)


def union(parts: Sequence[Content]) -> CellState:
    """The brute-force state of a cell made of ``parts``."""
    state = CellState()
    for part in parts:
        for day, (sums, users) in part.items():
            row = state.days.setdefault(day, DayState())
            row.sums = [a + b for a, b in zip(row.sums, sums, strict=True)]
            row.active |= BitMap(users)
    for day in sorted(state.days):
        row = state.days[day]
        row.new = row.active - state.lifetime
        state.lifetime |= row.new
    return state


def stored(content: Content) -> Stored:
    return Stored(
        {
            day: (sums, BitMap(users).serialize(), (None, None))
            for day, (sums, users) in content.items()
        }
    )


def view(state: CellState) -> tuple[object, ...]:
    days = {day: (row.sums, sorted(row.active), sorted(row.new)) for day, row in state.days.items()}
    return days, sorted(state.lifetime)


def corrected(old: Content, new: Content) -> tuple[CellState, Change]:
    """A member corrected from ``old`` to ``new`` content, as a lower step leaves it."""
    state = union([old])
    change = regroup(state, [Left(stored(old)), Joined(stored(new))], [])
    assert view(state) == view(union([new]))
    return state, change


def member(old: Content, new: Content, was: bool, now: bool, recomputed: bool) -> Member:
    """The changed member (see the test below) as the step above sees it."""
    if recomputed:
        state, change = corrected(old, new)
        if was and now:
            return Corrected(state, change)
        return Left(Before(state, change)) if was else Joined(InMemory(state))
    return Left(stored(old)) if was else Joined(stored(new))


@settings(max_examples=400, deadline=None)
@given(
    members=st.lists(
        st.tuples(contents, contents, st.booleans(), st.booleans(), st.booleans()),
        min_size=1,
        max_size=5,
    )
)
def test_regroup_equals_the_union_of_the_new_members(
    members: list[tuple[Content, Content, bool, bool, bool]],
) -> None:
    old_parts, new_parts = [], []
    changed: list[Member] = []
    keep: list[Stored] = []
    for old, new, was, now, recomputed in members:
        if not recomputed:
            new = old  # same content: only its membership may change
        if was:
            old_parts.append(old)
        if now:
            new_parts.append(new)
        if not recomputed and was and now:
            keep.append(stored(old))
        elif was or now:
            changed.append(member(old, new, was, now, recomputed))
    cell = union(old_parts)
    regroup(cell, changed, keep)
    assert view(cell) == view(union(new_parts))


def test_a_user_held_by_an_unchanged_member_stays() -> None:
    both: Content = {1: ([1, 0, 0, 0, 0], frozenset({7}))}
    cell = union([both, both])
    change = regroup(cell, [Left(stored(both))], [stored(both)])
    assert view(cell) == view(union([both]))
    assert not change.days[1].lost


def test_a_user_a_corrected_member_lost_stays_when_another_corrected_member_holds_them() -> None:
    day = ([1, 0, 0, 0, 0], frozenset({7}))
    first = member({1: day}, {}, True, True, recomputed=True)  # loses user 7
    second = member({1: day}, {1: day, 2: day}, True, True, recomputed=True)  # keeps user 7
    cell = union([{1: day}, {1: day}])
    regroup(cell, [first, second], [])
    assert view(cell) == view(union([{}, {1: day, 2: day}]))
